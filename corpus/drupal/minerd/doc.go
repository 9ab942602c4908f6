// Command minerd is the corpus's inert stand-in for cpuminer-multi's minerd,
// the binary the pumevnezdiroorg/drupal sample installs as /bin/minerd.
//
// It carries the characteristics a CPU miner has — cpuminer's command-line
// flags and usage text, algorithm names, stratum method names and the
// CryptoNight "RPC2" login — so detectors meet them in a real ELF file, but it
// mines nothing: it talks only to pools on loopback addresses. A literal
// address that is not loopback is refused before a socket is opened; a name
// is looked up only through a loopback nameserver of /etc/resolv.conf (with
// none there, it is refused without a lookup) and connected to only if every
// answer is loopback, as in strata's sandbox. It reads one job, hashes a few rounds
// with a stand-in function (SHA3-256, not CryptoNight) and exits without
// submitting a share.
package main
