// Package sandbox runs an image's start command in a sealed runc container
// and records what it does: names it resolves, connections it opens (every
// TCP connect lands on a catch-all listener inside the container's own
// network namespace that speaks enough stratum and HTTP to hear the
// client), processes it spawns, files it writes and CPU it burns.
//
// The root filesystem is materialised from the layer walker's final view
// into a private directory (no device nodes, no setuid bits, links never
// followed out of the root, bounded bytes and files) and mounted as the
// lower layer of an overlay whose upper directory sits on a size-bounded
// tmpfs, so the image copy is never written and every write is visible.
// Run needs root and Debian's runc, nft and ip (make setup installs them).
package sandbox
