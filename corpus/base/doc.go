// Package base makes the base images strata builds FROM, without pulling
// anything: a Debian bookworm minbase rootfs made with debootstrap from the
// machine's own apt configuration, and a busybox-static image for fast tests.
// Each is imported into the store once and reused while its inputs (suite,
// mirror, tool versions, this package's recipe version) are unchanged.
package base
