package imageref

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

type tarKind int

const (
	tarOCILayout tarKind = iota
	tarDockerArchive
)

// tarSource serves an OCI-layout tar file in place: the members are indexed
// once and each blob is then a section of the file, so nothing is extracted.
type tarSource struct {
	file    string
	members map[string]member
	links   map[string]string
}

type member struct{ off, size int64 }

// openTar indexes the tar file at p and says which kind of image archive it
// is.
func openTar(p string) (*tarSource, tarKind, error) {
	f, _, err := openRegularFile(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err == nil {
		switch {
		case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
			return nil, 0, fmt.Errorf("%s is gzip-compressed; strata reads tar files in place: decompress it first (gunzip -k %s)", p, p)
		case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			return nil, 0, fmt.Errorf("%s is zstd-compressed; strata reads tar files in place: decompress it first (zstd -d %s)", p, p)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	ts := &tarSource{file: p, members: map[string]member{}, links: map[string]string{}}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s is not a readable tar file: %w", p, err)
		}
		if n >= MaxTarEntries {
			return nil, 0, fmt.Errorf("%s has more than %d members; an image archive has far fewer", p, MaxTarEntries)
		}
		name := cleanMember(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			// archive/tar reads headers without buffering, so after Next
			// the file offset is where the member's data starts.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, 0, err
			}
			ts.members[name] = member{off: off, size: hdr.Size}
		case tar.TypeSymlink:
			ts.links[name] = cleanMember(path.Join(path.Dir(name), hdr.Linkname))
		case tar.TypeLink:
			ts.links[name] = cleanMember(hdr.Linkname)
		}
	}
	_, hasLayout := ts.members["oci-layout"]
	_, hasIndex := ts.members["index.json"]
	_, hasManifest := ts.members["manifest.json"]
	switch {
	case hasLayout && hasIndex:
		return ts, tarOCILayout, nil
	case hasManifest:
		return ts, tarDockerArchive, nil
	}
	return nil, 0, fmt.Errorf("%s is a tar file but neither an OCI image layout (no oci-layout and index.json) nor a docker-archive (no manifest.json)", p)
}

func cleanMember(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// Close is a no-op: blobs open the file themselves.
func (t *tarSource) Close() error { return nil }

func (t *tarSource) open(name string) (io.ReadCloser, int64, error) {
	name = cleanMember(name)
	for hops := 0; hops < 8; hops++ {
		target, ok := t.links[name]
		if !ok {
			break
		}
		name = target
	}
	m, ok := t.members[name]
	if !ok {
		return nil, 0, fmt.Errorf("%s: no member %s: %w", t.file, name, os.ErrNotExist)
	}
	f, _, err := openRegularFile(t.file)
	if err != nil {
		return nil, 0, err
	}
	return sectionCloser{io.NewSectionReader(f, m.off, m.size), f}, m.size, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }
