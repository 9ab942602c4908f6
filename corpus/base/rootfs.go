package base

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the timestamp given to every file and history entry of a base
// image so that the same inputs give the same digest.
var Epoch = time.Unix(1700000000, 0).UTC()

// skipPath reports rootfs paths whose content varies from run to run or does
// not belong in an image: caches, logs, apt lists, device nodes' home.
func skipPath(rel string) bool {
	switch rel {
	case "etc/machine-id", "var/cache/ldconfig/aux-cache", "etc/hostname", "etc/resolv.conf", "etc/hosts":
		return false // kept, but emptied in normalise
	}
	for _, p := range []string{"proc/", "sys/", "dev/", "run/", "tmp/", "var/log/", "var/cache/apt/", "var/lib/apt/lists/", "var/cache/debconf/", "debootstrap/"} {
		if len(rel) > len(p) && rel[:len(p)] == p {
			return true
		}
	}
	return false
}

// emptied are kept as empty files: their presence matters to programs,
// their content is machine- or run-specific.
var emptied = map[string]bool{
	"etc/machine-id": true, "var/cache/ldconfig/aux-cache": true,
	"etc/hostname": true, "etc/resolv.conf": true, "etc/hosts": true,
}

// dated are files whose content records the day they were written, with
// what makes them the same on every day: shadow's "last password change"
// (days since 1970, set by debootstrap's pwconv) becomes Epoch's day. A
// base built on another day with the same packages then has the same
// digest, and so has every image built on it.
var dated = map[string]func([]byte) []byte{
	"etc/shadow":  shadowEpoch,
	"etc/shadow-": shadowEpoch,
}

// shadowEpoch sets the third field (lastchg) of every shadow(5) line that
// has a day in it to Epoch's day number; empty and 0 ("change at next
// login") keep their meaning.
func shadowEpoch(b []byte) []byte {
	day := []byte(strconv.FormatInt(Epoch.Unix()/86400, 10))
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, l := range lines {
		f := bytes.Split(l, []byte(":"))
		if len(f) >= 3 && len(f[2]) > 0 && string(f[2]) != "0" {
			f[2] = day
			lines[i] = bytes.Join(f, []byte(":"))
		}
	}
	return bytes.Join(lines, nil)
}

// tarDir writes dir as a deterministic tar: sorted names, clamped mtimes,
// numeric owners, no device nodes, sockets or pipes, dated files made
// undated.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skipPath(rel) {
			if d.IsDir() {
				// keep the directory itself, drop its contents
				paths = append(paths, rel)
				return fs.SkipDir
			}
			return nil
		}
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk rootfs: %w", err)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		p := filepath.Join(dir, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := fi.Mode()
		if mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
			continue
		}
		link := ""
		if mode&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = Epoch, time.Time{}, time.Time{}
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		}
		var body io.Reader
		if mode.IsRegular() {
			switch fix, isDated := dated[rel]; {
			case emptied[rel]:
				hdr.Size = 0
			case isDated:
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				b = fix(b)
				hdr.Size, body = int64(len(b)), bytes.NewReader(b)
			default:
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				body = f
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", rel, err)
		}
		if body != nil && hdr.Size > 0 {
			if _, err := io.CopyN(tw, body, hdr.Size); err != nil {
				return fmt.Errorf("tar %s: %w", rel, err)
			}
		}
	}
	return tw.Close()
}

// imageFromLayer wraps one layer into an OCI image with a config and one
// history entry describing how the rootfs was made.
func imageFromLayer(layerTar string, cfg v1.Config, createdBy string) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(layerTar, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			CreatedBy: createdBy,
			Created:   v1.Time{Time: Epoch},
			Comment:   "strata base image",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: Epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// tarEntries writes a small in-memory tree as a deterministic tar.
type entry struct {
	name string
	mode int64
	typ  byte
	link string
	data []byte
}

func tarEntries(es []entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	for _, e := range es {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.data)), ModTime: Epoch, Format: tar.FormatPAX}
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(e.data)
	}
	_ = tw.Close()
	return buf.Bytes()
}
