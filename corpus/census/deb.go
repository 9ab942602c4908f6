package census

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// MaintainerScripts are the control-archive members dpkg keeps under
// /var/lib/dpkg/info/<package>.<script>.
var MaintainerScripts = []string{"preinst", "postinst", "prerm", "postrm", "config", "triggers"}

// ErrNotDeb is returned for a file that is not a Debian binary package.
var ErrNotDeb = errors.New("not a Debian binary package (ar archive with control.tar and data.tar)")

// arMember is one member of an ar archive, its data limited to the member.
type arMember struct {
	name string
	r    io.Reader
}

// readAr calls f for each member of the ar archive r, in order.
func readAr(r io.Reader, f func(arMember) error) error {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return ErrNotDeb
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(br, hdr); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("ar header: %w", err)
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("ar member %q: bad size: %w", name, ErrNotDeb)
		}
		lr := &io.LimitedReader{R: br, N: size}
		if err := f(arMember{name, lr}); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return fmt.Errorf("ar member %q: %w", name, err)
		}
		if size%2 == 1 {
			if _, err := br.Discard(1); err != nil && err != io.EOF {
				return err
			}
		}
	}
}

// decompress opens a tar member of a .deb by its name's extension.
func decompress(name string, r io.Reader) (io.Reader, func(), error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		z, err := gzip.NewReader(r)
		return z, func() {}, err
	case strings.HasSuffix(name, ".xz"):
		z, err := xz.NewReader(r)
		return z, func() {}, err
	case strings.HasSuffix(name, ".zst"):
		z, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case strings.HasSuffix(name, ".tar"):
		return r, func() {}, nil
	}
	return nil, nil, fmt.Errorf("member %s: unknown compression", name)
}

// CleanPath turns an archive member name into a path relative to the
// image root ("./usr/bin/x" -> "usr/bin/x"). Names that climb ("../x",
// "/a/../../b") are resolved against the root, so nothing escapes it; the
// root itself returns ok false.
func CleanPath(name string) (string, bool) {
	c := path.Clean("/" + name)
	if c == "/" {
		return "", false
	}
	return c[1:], true
}

// layerWriter writes a layer tar: entries cleaned, directories written
// once, sizes counted.
type layerWriter struct {
	tw   *tar.Writer
	cw   *countWriter
	dirs map[string]bool
}

func newLayerWriter(w io.Writer) *layerWriter {
	cw := &countWriter{w: w}
	return &layerWriter{tw: tar.NewWriter(cw), cw: cw, dirs: map[string]bool{}}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// add writes hdr (name cleaned) and its content.
func (lw *layerWriter) add(hdr *tar.Header, r io.Reader) error {
	name, ok := CleanPath(hdr.Name)
	if !ok {
		return nil
	}
	h := *hdr
	h.Name = name
	h.AccessTime, h.ChangeTime = hdr.ModTime, hdr.ModTime
	h.PAXRecords = nil
	h.Format = tar.FormatPAX
	switch h.Typeflag {
	case tar.TypeDir:
		if lw.dirs[name] {
			return nil
		}
		lw.dirs[name] = true
		h.Name += "/"
	case tar.TypeLink:
		if h.Linkname, ok = CleanPath(h.Linkname); !ok {
			return fmt.Errorf("%s: hard link to the root", name)
		}
	}
	if err := lw.tw.WriteHeader(&h); err != nil {
		return fmt.Errorf("layer entry %s: %w", name, err)
	}
	if h.Typeflag == tar.TypeReg && r != nil {
		if _, err := io.CopyN(lw.tw, r, h.Size); err != nil {
			return fmt.Errorf("layer entry %s: %w", name, err)
		}
	}
	return nil
}

func (lw *layerWriter) close() (int64, error) {
	if err := lw.tw.Close(); err != nil {
		return 0, err
	}
	return lw.cw.n, nil
}

// addDeb writes the files of the .deb at debPath (its data.tar, in the
// archive's order, owners and times as the .deb has them) and its
// maintainer scripts under var/lib/dpkg/info/<pkg>.<script>.
func (lw *layerWriter) addDeb(debPath, pkg string) error {
	f, err := os.Open(debPath)
	if err != nil {
		return err
	}
	defer f.Close()
	scripts := map[string][]byte{}
	var scriptHdr tar.Header
	sawData := false
	err = readAr(f, func(m arMember) error {
		isControl, isData := strings.HasPrefix(m.name, "control.tar"), strings.HasPrefix(m.name, "data.tar")
		if !isControl && !isData {
			return nil
		}
		r, done, err := decompress(m.name, m.r)
		if err != nil {
			return err
		}
		defer done()
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if isData {
				if err := lw.add(hdr, tr); err != nil {
					return err
				}
				continue
			}
			name, _ := CleanPath(hdr.Name)
			for _, s := range MaintainerScripts {
				if name == s && hdr.Typeflag == tar.TypeReg {
					b, err := io.ReadAll(tr)
					if err != nil {
						return err
					}
					scripts[s] = b
					scriptHdr = *hdr
				}
			}
		}
		sawData = sawData || isData
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", debPath, err)
	}
	if !sawData {
		return fmt.Errorf("read %s: no data.tar: %w", debPath, ErrNotDeb)
	}
	names := make([]string, 0, len(scripts))
	for s := range scripts {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		h := scriptHdr
		h.Name = "var/lib/dpkg/info/" + pkg + "." + s
		h.Size = int64(len(scripts[s]))
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "root", "root"
		if s != "triggers" {
			h.Mode = 0o755
		} else {
			h.Mode = 0o644
		}
		if err := lw.add(&h, bytes.NewReader(scripts[s])); err != nil {
			return err
		}
	}
	return nil
}
