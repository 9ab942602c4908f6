package mutations

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultSquashFrom is the index of the first layer the corpus sample's
// final stage (`FROM drupal`, the attacker's stage) adds: the debian base
// is layer 0 and the drupal stage adds layers 1-7. The registered "squash"
// uses it; other corpora register NewSquash with their own boundary.
const DefaultSquashFrom = 8

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// ErrSquashHardlink is returned when a hard link in the squashed layers
// points at a file that a higher squashed layer replaces or deletes: one
// squashed layer cannot express "the old content under a new name".
var ErrSquashHardlink = errors.New("squash: hard link to a file a higher squashed layer changes")

func init() { Register(NewSquash(DefaultSquashFrom)) }

// Squash is the paper's layer squashing (`docker squash`), done like
// `docker build --squash`: the layers the final build added on top of its
// base image are merged into one layer and the base's layers are kept
// as they are. The base is given as a layer index, From: layers [0, From)
// are the base, layers [From, n) are squashed. For the corpus, From is 8
// (the drupal web-app image is the base; see DefaultSquashFrom).
//
// The squashed layer is the union of the squashed layers with whiteouts
// applied among them. A whiteout or opaque directory that may hide a base
// file is kept in the squashed layer, since the base's layers are still
// below it; a whiteout is dropped only when a higher squashed layer puts a
// file at the same path, and becomes an opaque directory when a higher
// squashed layer re-creates the path as a directory. A whiteout whose
// target the base lacks is a no-op and is kept rather than paying a scan of
// the base layers.
//
// rng decides the history (one coin flip): keep, as docker --squash does,
// the squashed instructions' history entries (marked empty_layer) plus one
// entry for the squashed layer; or drop them for one entry created_by
// "squash". Nothing else is random: with the same coin the output is the
// same, so a seed gives one of two images. No wall-clock time is written:
// the new entry takes the last squashed entry's timestamp.
type Squash struct {
	info
	from int
}

// NewSquash returns the squash mutation with base layers [0, from).
func NewSquash(from int) Squash {
	return Squash{
		info: info{
			name:        "squash",
			version:     "1",
			description: fmt.Sprintf("squashes layers %d and above into one layer (docker build --squash); history kept or dropped by a coin flip", from),
			paperRef:    "Table 4: layer squashing (docker squash)",
		},
		from: from,
	}
}

// From is the index of the first squashed layer.
func (s Squash) From() int { return s.from }

// MutateImage squashes img's layers [From, n). With no layer above From
// (corpus case 000), img is returned unchanged with an identity layer map.
func (s Squash) MutateImage(img v1.Image, rng *rand.Rand) (v1.Image, []int, error) {
	keepHistory := rng.IntN(2) == 0
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("squash: layers: %w", err)
	}
	n, from := len(layers), max(s.from, 0)
	layerMap := make([]int, n)
	for i := range layerMap {
		layerMap[i] = min(i, from)
	}
	if from >= n {
		return img, layerMap, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("squash: config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != n {
		return nil, nil, fmt.Errorf("squash: config lists %d diffIDs for %d layers", len(cf.RootFS.DiffIDs), n)
	}
	history, err := squashHistory(cf.History, n, from, keepHistory)
	if err != nil {
		return nil, nil, err
	}

	mt, err := img.MediaType()
	if err != nil {
		return nil, nil, fmt.Errorf("squash: media type: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("squash: manifest: %w", err)
	}
	layerMT := types.DockerLayer
	if mt == types.OCIManifestSchema1 {
		layerMT = types.OCILayer
	}
	sq, err := squashLayers(layers[from:], layerMT)
	if err != nil {
		return nil, nil, err
	}
	sqDiffID, err := sq.DiffID()
	if err != nil {
		return nil, nil, fmt.Errorf("squash: diffID: %w", err)
	}

	out := mutate.ConfigMediaType(mutate.MediaType(empty.Image, mt), m.Config.MediaType)
	adds := make([]mutate.Addendum, 0, from+1)
	for i, l := range layers[:from] {
		adds = append(adds, mutate.Addendum{Layer: knownDiffID{l, cf.RootFS.DiffIDs[i]}})
	}
	adds = append(adds, mutate.Addendum{Layer: sq})
	if out, err = mutate.Append(out, adds...); err != nil {
		return nil, nil, fmt.Errorf("squash: append layers: %w", err)
	}
	ncf := cf.DeepCopy()
	ncf.RootFS.DiffIDs = append(slices.Clone(cf.RootFS.DiffIDs[:from]), sqDiffID)
	ncf.History = history
	if out, err = mutate.ConfigFile(out, ncf); err != nil {
		return nil, nil, fmt.Errorf("squash: config: %w", err)
	}
	if len(m.Annotations) > 0 {
		out = mutate.Annotations(out, m.Annotations).(v1.Image)
	}
	return out, layerMap, nil
}

// knownDiffID answers DiffID from the image config. Layers read from an OCI
// layout compute it by hashing the whole uncompressed blob (seconds for the
// corpus's ~200 MB base layers), and mutate.Append asks for every layer.
type knownDiffID struct {
	v1.Layer
	diffID v1.Hash
}

func (l knownDiffID) DiffID() (v1.Hash, error) { return l.diffID, nil }

// squashHistory splits history at the entry of layer from: entries before
// it (including the base's metadata-only entries such as drupal's EXPOSE
// and CMD) stay, the rest are the squashed part.
func squashHistory(h []v1.History, n, from int, keep bool) ([]v1.History, error) {
	if len(h) == 0 {
		return nil, nil // an image without history gets none
	}
	split, layer := -1, 0
	for i, e := range h {
		if e.EmptyLayer {
			continue
		}
		if layer == from {
			split = i
		}
		layer++
	}
	if layer != n || split < 0 {
		return nil, fmt.Errorf("squash: history has %d entries with a layer, image has %d layers", layer, n)
	}
	out := slices.Clone(h[:split])
	rest := h[split:]
	created := rest[len(rest)-1].Created
	if !keep {
		return append(out, v1.History{Created: created, CreatedBy: "squash"}), nil
	}
	for _, e := range rest {
		e.EmptyLayer = true
		out = append(out, e)
	}
	return append(out, v1.History{
		Created: created,
		Comment: fmt.Sprintf("merge of layers %d-%d (strata squash, as docker build --squash)", from, n-1),
	}), nil
}

// tarEntry is what the squash plan needs of one tar header.
type tarEntry struct {
	name    string // cleaned: no leading "/" or "./", no trailing "/"
	typ     byte
	link    string
	modTime time.Time
}

// squashLayers merges layers (bottom first) into one gzip layer. A first
// pass over the headers decides which entries survive; the layer's opener
// streams the survivors from the sources, bottom layer first and in each
// layer's own order (so directories precede their contents and a hard
// link follows its target), then the synthesized opaque markers sorted.
func squashLayers(layers []v1.Layer, mt types.MediaType) (v1.Layer, error) {
	entries := make([][]tarEntry, len(layers))
	for k, l := range layers {
		err := eachEntry(l, func(h *tar.Header, _ io.Reader) error {
			entries[k] = append(entries[k], tarEntry{name: cleanName(h.Name), typ: h.Typeflag, link: h.Linkname, modTime: h.ModTime})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("squash: read layer %d: %w", k, err)
		}
	}
	keep, opaques, err := planSquash(entries)
	if err != nil {
		return nil, err
	}
	opener := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeSquashed(pw, layers, keep, opaques)) }()
		return pr, nil
	}
	l, err := tarball.LayerFromOpener(opener, tarball.WithMediaType(mt))
	if err != nil {
		return nil, fmt.Errorf("squash: build layer: %w", err)
	}
	return l, nil
}

// planSquash walks the layers top down, the way a union mount resolves
// paths: the first layer (from the top) that names a path decides it. It
// returns which entries survive and the opaque markers to add, one per
// whiteout whose path a higher layer re-creates as a directory.
func planSquash(entries [][]tarEntry) (keep [][]bool, opaques []tarEntry, err error) {
	decided := map[string]bool{} // paths a higher entry or whiteout settled
	removed := map[string]bool{} // whiteouts of higher layers: hide lower descendants
	opaque := map[string]bool{}  // opaque dirs of higher layers: hide lower descendants
	present := map[string]bool{} // paths in higher layers (with implied parents) -> is a directory
	hidden := func(p string) bool {
		for a := path.Dir(p); a != "." && a != "/"; a = path.Dir(a) {
			if removed[a] || opaque[a] {
				return true
			}
			if isDir, ok := present[a]; ok && !isDir {
				return true
			}
		}
		return false
	}
	keep = make([][]bool, len(entries))
	for k := len(entries) - 1; k >= 0; k-- {
		keep[k] = make([]bool, len(entries[k]))
		var lRemoved, lOpaque []string
		lPresent := map[string]bool{}
		// Within a layer a later entry for the same path wins, so walk it
		// backwards too.
		for j := len(entries[k]) - 1; j >= 0; j-- {
			e := entries[k][j]
			dir, base := path.Dir(e.name), path.Base(e.name)
			switch {
			case base == opaqueMarker:
				if decided[e.name] || hidden(e.name) {
					continue
				}
				decided[e.name], keep[k][j] = true, true
				lOpaque = append(lOpaque, dir)
			case strings.HasPrefix(base, whiteoutPrefix):
				t := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
				if hidden(t) {
					continue
				}
				lRemoved = append(lRemoved, t)
				if isDir, ok := present[t]; ok {
					// Re-created above: a file replaces the old path by itself,
					// a directory must not show the old one's contents.
					marker := path.Join(t, opaqueMarker)
					if isDir && !decided[marker] {
						decided[marker] = true
						opaques = append(opaques, tarEntry{name: marker, typ: tar.TypeReg, modTime: e.modTime})
					}
					decided[t] = true
					continue
				}
				if decided[t] {
					continue
				}
				decided[t], keep[k][j] = true, true
			default:
				if e.name == "" || decided[e.name] || hidden(e.name) {
					continue
				}
				if e.typ == tar.TypeLink {
					if t := cleanName(e.link); decided[t] || hidden(t) {
						return nil, nil, fmt.Errorf("%w: %s -> %s", ErrSquashHardlink, e.name, e.link)
					}
				}
				decided[e.name], keep[k][j] = true, true
				lPresent[e.name] = e.typ == tar.TypeDir
				for a := path.Dir(e.name); a != "." && a != "/"; a = path.Dir(a) {
					if _, ok := lPresent[a]; !ok {
						lPresent[a] = true
					}
				}
			}
		}
		// A layer's whiteouts and opaque markers hide only lower layers.
		for _, p := range lRemoved {
			removed[p] = true
		}
		for _, p := range lOpaque {
			opaque[p] = true
		}
		for p, isDir := range lPresent {
			if _, ok := present[p]; !ok {
				present[p] = isDir
			}
		}
	}
	slices.SortFunc(opaques, func(a, b tarEntry) int { return strings.Compare(a.name, b.name) })
	return keep, opaques, nil
}

func writeSquashed(w io.Writer, layers []v1.Layer, keep [][]bool, opaques []tarEntry) error {
	tw := tar.NewWriter(w)
	for k, l := range layers {
		j := 0
		err := eachEntry(l, func(h *tar.Header, r io.Reader) error {
			defer func() { j++ }()
			if j >= len(keep[k]) {
				return fmt.Errorf("layer %d changed between reads", k)
			}
			if !keep[k][j] {
				return nil
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			_, err := io.Copy(tw, r)
			return err
		})
		if err != nil {
			return fmt.Errorf("squash: write layer %d: %w", k, err)
		}
	}
	for _, o := range opaques {
		h := &tar.Header{Name: o.name, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: o.modTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("squash: write %s: %w", o.name, err)
		}
	}
	return tw.Close()
}

// eachEntry calls fn for every header of l's uncompressed tar, with a
// reader of the entry's content.
func eachEntry(l v1.Layer, fn func(*tar.Header, io.Reader) error) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}
