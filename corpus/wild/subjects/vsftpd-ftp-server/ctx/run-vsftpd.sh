#!/bin/sh
# Creates the FTP user on first start and appends the passive-mode
# settings from the environment, then runs vsftpd in the foreground.
set -eu

pwfile=${FTP_PASS_FILE:-/run/secrets/ftp_password}
if ! id "$FTP_USER" >/dev/null 2>&1; then
	[ -r "$pwfile" ] || { echo "run-vsftpd: password secret $pwfile missing" >&2; exit 1; }
	useradd --home-dir "/home/vsftpd/$FTP_USER" --shell /usr/sbin/nologin "$FTP_USER"
	printf '%s:%s\n' "$FTP_USER" "$(cat "$pwfile")" | chpasswd
	mkdir -p "/home/vsftpd/$FTP_USER"
	chown "$FTP_USER:$FTP_USER" "/home/vsftpd/$FTP_USER"
fi
echo "$FTP_USER" > /etc/vsftpd.userlist
grep -qx /usr/sbin/nologin /etc/shells || echo /usr/sbin/nologin >> /etc/shells

conf=/etc/vsftpd.conf
run=/run/vsftpd.conf
cp "$conf" "$run"
{
	echo "pasv_min_port=$PASV_MIN_PORT"
	echo "pasv_max_port=$PASV_MAX_PORT"
	echo "file_open_mode=$FILE_OPEN_MODE"
	echo "local_umask=$LOCAL_UMASK"
	[ -n "$PASV_ADDRESS" ] && echo "pasv_address=$PASV_ADDRESS"
	true
} >> "$run"

exec vsftpd "$run"
