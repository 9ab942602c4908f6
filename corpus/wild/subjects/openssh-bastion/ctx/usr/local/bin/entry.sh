#!/bin/bash
set -euo pipefail

[ "${DEBUG:-false}" = true ] && set -x

# Host keys persist in /etc/ssh/keys (a volume): generate them once.
for type in rsa ecdsa ed25519; do
	key=/etc/ssh/keys/ssh_host_${type}_key
	if [ ! -f "$key" ]; then
		echo ">> generating $type host key"
		ssh-keygen -q -t "$type" -N '' -f "$key"
	fi
done
chmod 600 /etc/ssh/keys/*_key

# SSH_USERS="name:uid:gid[,name:uid:gid...]"
if [ -n "${SSH_USERS:-}" ]; then
	IFS=',' read -ra users <<<"$SSH_USERS"
	for entry in "${users[@]}"; do
		IFS=':' read -r name uid gid <<<"$entry"
		if [ -z "$name" ] || [ -z "$uid" ] || [ -z "$gid" ]; then
			echo "ERROR: SSH_USERS entry '$entry' is not name:uid:gid" >&2
			exit 1
		fi
		getent group "$name" >/dev/null || groupadd --gid "$gid" "$name"
		if ! getent passwd "$name" >/dev/null; then
			echo ">> adding user $name ($uid:$gid)"
			useradd --uid "$uid" --gid "$gid" --create-home --shell /bin/bash "$name"
			# Key-only account: no password, but not locked (sshd refuses locked accounts).
			usermod -p '*' "$name"
		fi
		if [ ! -e "/etc/authorized_keys/$name" ]; then
			echo "WARNING: no /etc/authorized_keys/$name, $name cannot log in" >&2
		fi
	done
fi
chown root:root /etc/authorized_keys
chmod 755 /etc/authorized_keys
find /etc/authorized_keys -type f -exec chmod 644 {} +

if [ "${TCP_FORWARDING:-false}" = true ]; then
	sed -i 's/^AllowTcpForwarding .*/AllowTcpForwarding yes/' /etc/ssh/sshd_config.d/bastion.conf
else
	sed -i 's/^AllowTcpForwarding .*/AllowTcpForwarding no/' /etc/ssh/sshd_config.d/bastion.conf
fi

/usr/sbin/sshd -t
echo ">> starting sshd"
exec "$@"
