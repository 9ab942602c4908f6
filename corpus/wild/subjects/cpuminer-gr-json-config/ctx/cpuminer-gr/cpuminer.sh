#!/usr/bin/env bash
# Starts the cpuminer-gr build that matches this CPU with config.json.
here=$(dirname -- "$0")
config=$here/config.json

run() {
  echo "Starting $1 variant of the binaries."
  exec "$here/binaries/cpuminer-$1" --config="$config"
}

[[ -n $1 ]] && run "$1"

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
flags=",${flags#*: },"
flags=${flags// /,}

if [[ $flags == *,avx512f,* && $flags == *,sha_ni,* ]]; then
  arch=avx512-sha
elif [[ $flags == *,avx2,* && $flags == *,aes,* ]]; then
  arch=avx2
elif [[ $flags == *,sse4_2,* ]]; then
  arch=sse42
else
  arch=sse2
fi
[[ -x $here/binaries/cpuminer-$arch ]] || arch=sse2
run "$arch"
