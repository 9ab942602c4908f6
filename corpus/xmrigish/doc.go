// Package xmrigish holds strata's second, independently written inert miner
// stand-in and the tests that build images around it.
//
// The stand-in (src/*.c) is an XMRig-like program in C: it is configured by
// an xmrig-style config.json (pools, cpu.huge-pages, randomx, donate-level),
// has XMRig's command line, and speaks XMRig's stratum JSON-RPC method names
// (login, job, keepalived, submit). It is INERT: a literal pool address that
// is not loopback is refused before any socket is created; a pool name is
// resolved only by one query to a loopback nameserver of /etc/resolv.conf
// (none there: refused with no lookup) and used only if every answer is
// loopback; against a loopback pool it sends one login, reads the job,
// optionally sends one keepalived and exits; it never hashes and never
// submits a share; a hard alarm ends it after --max-time seconds.
//
// The tests compile it with gcc at test time (static when libc.a is
// installed), install it under a renamed path (/usr/local/bin/kworkerd,
// /opt/.cache/sysupdate) next to its config and a nohup/restart-loop wrapper
// run.sh started by CMD, build busybox-based images with the real BuildKit in
// several layer layouts, and check that the hierarchical detector flags them
// from public XMRig characteristics, never from strings of corpus/drupal's
// cpuminer-like stand-in. See README.md for the layouts, labels and results.
package xmrigish
