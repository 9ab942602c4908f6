#!/bin/sh
# Status-Server request to the status virtual server.
echo "Message-Authenticator = 0x00, FreeRADIUS-Statistics-Type = 1" |
	radclient -q -t 3 127.0.0.1:18121 status adminsecret >/dev/null
