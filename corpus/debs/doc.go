// Package debs fetches the Debian packages an image's benign layers install
// offline: the --no-install-recommends dependency closure of a package list,
// resolved against the target root file system's dpkg status with the host's
// apt, and recorded in a sorted manifest (name, version, sha256) so the set
// of packages behind each build is known and a rerun with the same inputs
// does nothing.
package debs
