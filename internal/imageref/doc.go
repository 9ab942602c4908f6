// Package imageref turns what a user types after `strata scan` into images:
// an OCI image layout directory or tar file (an entry chosen by ref name or
// digest), a docker-archive tarball (`docker save`), or a registry
// reference. It fails closed: documents are size-checked before they are
// read and verified against their digests, layouts are read from regular
// files inside the layout only, registry requests are bounded by timeouts
// and a redirect cap, and an index yields every image a runtime could pick
// for the platform (containerd's matching), each distinct manifest once.
package imageref
