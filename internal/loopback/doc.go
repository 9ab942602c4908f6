// Package loopback runs the harness's file server on a loopback address:
// the only "network" a build ever reaches. It serves the miner-source git
// repository (git's dumb HTTP protocol is plain files), the payloads the
// shell-script layer downloads, and the files of the dummy network
// operation. It refuses to listen anywhere but 127.0.0.0/8 or ::1.
package loopback
