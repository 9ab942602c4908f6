#!/bin/sh
# preload-audit: looks for process hiding on the host this pod runs on.
#   1. /etc/ld.so.preload and LD_PRELOAD of every process (host /proc)
#   2. preloaded libraries: owner package, known names, world-writable dirs
#   3. unhide brute/procall/sys (PIDs visible to syscalls but not in /proc)
#   4. unhide-tcp (ports in use that ss/netstat do not list)
# Nothing is changed on the host; the report is JSON lines.
set -u

host=${HOST_ROOT:-/host}
report="${REPORT_DIR}/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
known=/usr/local/share/preload-audit/known-hiders.txt
findings=0

emit() {
	# emit CHECK SEVERITY DETAIL
	printf '{"time":"%s","host":"%s","check":"%s","severity":"%s","detail":"%s"}\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${NODE_NAME:-$(hostname)}" "$1" "$2" \
		"$(printf '%s' "$3" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n' ' ')" >> "$report"
	[ "$2" = info ] || findings=$((findings + 1))
}

if [ -s "$host/etc/ld.so.preload" ]; then
	while read -r lib; do
		case $lib in ''|'#'*) continue ;; esac
		sev=high
		grep -qxF "$lib" "$known" || grep -qxF "${lib##*/}" "$known" || sev=medium
		emit ld.so.preload "$sev" "$lib listed in /etc/ld.so.preload"
		if [ -e "$host$lib" ]; then
			owner=$(chroot "$host" dpkg -S "$lib" 2>/dev/null || chroot "$host" rpm -qf "$lib" 2>/dev/null || echo "no package")
			emit preload-owner "$sev" "$lib: $owner; sha256 $(sha256sum "$host$lib" | cut -d' ' -f1)"
			if grep -aqE 'readdir(64)?' "$host$lib" 2>/dev/null; then
				emit preload-symbols high "$lib names readdir (possible directory-listing filter)"
			fi
		else
			emit preload-missing medium "$lib listed but absent (deleted after load?)"
		fi
	done < "$host/etc/ld.so.preload"
else
	emit ld.so.preload info "empty or absent"
fi

for env in /proc/[0-9]*/environ; do
	pid=${env#/proc/}; pid=${pid%/environ}
	pre=$(tr '\0' '\n' < "$env" 2>/dev/null | sed -n 's/^LD_PRELOAD=//p')
	[ -n "$pre" ] || continue
	emit ld_preload-env medium "pid $pid ($(cat /proc/$pid/comm 2>/dev/null)) LD_PRELOAD=$pre"
done

if out=$(unhide -f -m brute procall sys 2>&1) && ! echo "$out" | grep -q 'Found HIDDEN PID'; then
	emit unhide info "no hidden PIDs"
else
	emit unhide high "$(echo "$out" | grep -A3 'HIDDEN PID' | head -40)"
fi

if out=$(unhide-tcp -s 2>&1) && ! echo "$out" | grep -qi 'Found Hidden port'; then
	emit unhide-tcp info "no hidden ports"
else
	emit unhide-tcp high "$(echo "$out" | grep -i 'hidden port' | head -20)"
fi

echo "preload-audit: $findings finding(s), report $report"
[ "$findings" -eq 0 ]
