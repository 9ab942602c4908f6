// Package behaviour is the behaviour detector: it runs an image's start
// command in internal/sandbox's sealed runc container and decides from what
// the command did (a stratum login, pool look-ups, downloads, persistence
// writes, hugepages tweaks, CPU burnt) rather than from what the layers
// contain. Each finding names the executable that acted and the layer that
// added it. README.md lists the rules, weights and their public sources.
package behaviour
