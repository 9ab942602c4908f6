#!/bin/sh
# Users and shares from the environment, then smbd in the foreground.
set -eu
env | sort | while IFS='=' read -r var value; do
    case $var in
        SAMBA_USER_*)
            IFS=';' read -r name pass uid <<EOF2
$value
EOF2
            if ! id "$name" >/dev/null 2>&1; then
                useradd --no-create-home --shell /usr/sbin/nologin ${uid:+--uid "$uid"} "$name"
            fi
            printf '%s\n%s\n' "$pass" "$pass" | smbpasswd -s -a "$name" >/dev/null
            echo "user $name ready"
            ;;
        SAMBA_SHARE_*)
            IFS=';' read -r name path browse ro users <<EOF2
$value
EOF2
            mkdir -p "$path"
            if ! grep -q "^\[$name\]" /etc/samba/smb.conf; then
                {
                    echo ""
                    echo "[$name]"
                    echo "   path = $path"
                    echo "   browseable = ${browse:-yes}"
                    echo "   read only = ${ro:-no}"
                    echo "   guest ok = no"
                    [ -n "${users:-}" ] && echo "   valid users = $(echo "$users" | tr ',' ' ')"
                } >> /etc/samba/smb.conf
            fi
            echo "share $name -> $path"
            ;;
    esac
done
testparm -s >/dev/null
exec smbd --foreground --no-process-group --debug-stdout "$@"
