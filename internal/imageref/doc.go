// Package imageref turns what a user types after `strata scan` into images:
// an OCI image layout directory or tar file (an entry chosen by ref name or
// digest), a docker-archive tarball (`docker save`), or a registry
// reference. Multi-platform indexes become one Target per platform. Reads of
// index, manifest and config documents are bounded and verified against
// their digests; OCI tar files are read in place, never extracted.
package imageref
