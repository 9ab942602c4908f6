#!/bin/sh
# Starts the BOINC client in the foreground (like boinc/client's
# start-boinc.sh) and, if the volunteer gave a project and account key,
# attaches to it once the client answers GUI RPCs.
set -eu
cd /var/lib/boinc

printf '%s\n' "$BOINC_REMOTE_HOST" | tr ' ,' '\n\n' > remote_hosts.cfg
printf '%s\n' "$BOINC_GUI_RPC_PASSWORD" > gui_rpc_auth.cfg
chmod 600 gui_rpc_auth.cfg

for f in global_prefs_override.xml cc_config.xml; do
	[ -f "$f" ] || cp "/usr/local/share/boinc-defaults/$f" .
done

attach() {
	i=0
	while [ $i -lt 60 ]; do
		if boinccmd --host localhost --passwd "$BOINC_GUI_RPC_PASSWORD" --get_cc_status >/dev/null 2>&1; then
			if ! boinccmd --host localhost --passwd "$BOINC_GUI_RPC_PASSWORD" --get_project_status | grep -q "master URL: $BOINC_PROJECT_URL"; then
				boinccmd --host localhost --passwd "$BOINC_GUI_RPC_PASSWORD" \
					--project_attach "$BOINC_PROJECT_URL" "$BOINC_ACCOUNT_KEY"
			fi
			boinccmd --host localhost --passwd "$BOINC_GUI_RPC_PASSWORD" --read_global_prefs_override
			return 0
		fi
		i=$((i + 1))
		sleep 2
	done
	echo "start-boinc: client did not answer GUI RPC; not attached" >&2
}

if [ -n "$BOINC_PROJECT_URL" ] && [ -n "$BOINC_ACCOUNT_KEY" ]; then
	attach &
fi

# shellcheck disable=SC2086
exec boinc --dir /var/lib/boinc --redirectio $BOINC_CMD_LINE_OPTIONS
