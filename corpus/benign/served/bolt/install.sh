#!/bin/sh
# shellcheck shell=dash
#
# Installer for bolt, a task runner. Usage:
#   curl -sSf https://sh.bolt.example/install.sh | sh -s -- [-y] [--no-modify-path]
# Modelled on rustup-init.sh: detect the platform, download the release for
# it, check its sha256, install it into $BOLT_HOME/bin.
set -u

BOLT_DIST_SERVER="${BOLT_DIST_SERVER:-https://static.bolt.example/dist}"
BOLT_VERSION="${BOLT_VERSION:-1.4.2}"
BOLT_HOME="${BOLT_HOME:-$HOME/.bolt}"

say() { printf 'bolt-init: %s\n' "$1"; }
err() { say "$1" >&2; exit 1; }
need_cmd() { command -v "$1" > /dev/null 2>&1 || err "need '$1' (command not found)"; }

get_architecture() {
    _ostype="$(uname -s)"
    _cputype="$(uname -m)"
    case "$_ostype" in
        Linux) _ostype=unknown-linux-gnu ;;
        Darwin) _ostype=apple-darwin ;;
        *) err "unsupported OS type: $_ostype" ;;
    esac
    case "$_cputype" in
        x86_64 | amd64) _cputype=x86_64 ;;
        aarch64 | arm64) _cputype=aarch64 ;;
        *) err "unsupported CPU type: $_cputype" ;;
    esac
    RETVAL="$_cputype-$_ostype"
}

downloader() {
    if command -v curl > /dev/null 2>&1; then
        curl -sSfL "$1" -o "$2"
    elif command -v wget > /dev/null 2>&1; then
        wget -q "$1" -O "$2"
    else
        err "need curl or wget"
    fi
}

main() {
    need_cmd uname
    need_cmd mktemp
    need_cmd sha256sum
    _yes=no
    _modify_path=yes
    for arg in "$@"; do
        case "$arg" in
            -y) _yes=yes ;;
            --no-modify-path) _modify_path=no ;;
            *) err "unknown option $arg" ;;
        esac
    done
    get_architecture
    _arch="$RETVAL"
    _url="$BOLT_DIST_SERVER/$BOLT_VERSION/$_arch/bolt"
    _dir="$(mktemp -d 2>/dev/null || err 'mktemp failed')"
    say "downloading bolt $BOLT_VERSION for $_arch"
    downloader "$_url" "$_dir/bolt" || err "download failed: $_url"
    downloader "$_url.sha256" "$_dir/bolt.sha256" || err "download failed: $_url.sha256"
    (cd "$_dir" && sha256sum -c bolt.sha256 > /dev/null) || err "checksum mismatch"
    chmod u+x "$_dir/bolt"
    "$_dir/bolt" --version > /dev/null || err "downloaded binary does not run"
    mkdir -p "$BOLT_HOME/bin"
    mv "$_dir/bolt" "$BOLT_HOME/bin/bolt"
    rm -rf "$_dir"
    if [ "$_modify_path" = yes ]; then
        echo "export PATH=\"$BOLT_HOME/bin:\$PATH\"" >> "$HOME/.profile"
    fi
    say "installed bolt $BOLT_VERSION into $BOLT_HOME/bin"
}

main "$@" || exit 1
