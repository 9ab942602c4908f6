#!/bin/sh
# Run one Lynis audit and keep its report; fail when the hardening index
# is below --min-index (default 0: never fail).
set -eu

min=0
if [ "${1:-}" = "--min-index" ]; then min="$2"; shift 2; fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
report="/reports/lynis-report-$stamp.dat"
logf="/reports/lynis-$stamp.log"
root=""
[ -d /host/etc ] && root="--rootdir /host"

# shellcheck disable=SC2086
lynis audit system --no-colors --quiet --profile /etc/lynis/custom.prf \
	--report-file "$report" --log-file "$logf" $root "$@" || true

index=$(sed -n 's/^hardening_index=//p' "$report")
warnings=$(grep -c '^warning\[\]=' "$report" || true)
echo "lynis-run: hardening index ${index:-?}, $warnings warning(s); report $report"
if [ -n "$index" ] && [ "$index" -lt "$min" ]; then
	echo "lynis-run: index $index is below $min; read the suggestions in $logf" >&2
	exit 1
fi
