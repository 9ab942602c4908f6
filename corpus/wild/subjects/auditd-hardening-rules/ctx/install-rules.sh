#!/bin/sh
# Copies the bundle into the host's rules.d (mounted at $1) when it
# differs, keeping a backup, and signals the host's auditd (shared PID
# namespace) to reload through augenrules when asked to.
set -eu
dest=${1:-/host/etc/audit/rules.d}
src=/usr/share/audit-bundle/rules.d
[ -d "$dest" ] || { echo "no rules.d at $dest" >&2; exit 1; }
changed=0
for f in "$src"/*.rules; do
    name=$(basename "$f")
    if ! cmp -s "$f" "$dest/$name"; then
        [ -f "$dest/$name" ] && cp -p "$dest/$name" "$dest/$name.bak"
        install -m 0640 "$f" "$dest/$name"
        echo "installed $name"
        changed=1
    fi
done
if [ "$changed" = 1 ] && [ "${RELOAD_AUDITD:-0}" = 1 ]; then
    chroot /host augenrules --load
fi
echo "audit rules up to date"
