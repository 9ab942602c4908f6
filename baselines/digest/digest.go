package digest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
)

// Version is the version of both digest detectors.
const Version = "1.0.0"

// Detector names.
const (
	ImageName = "digest-image"
	LayerName = "digest-layer"
)

// ImageSignature identifies one known-bad image.
type ImageSignature struct {
	ManifestDigest string `json:"manifest_digest"`
	ConfigDigest   string `json:"config_digest"`
}

// LayerSignature identifies one known-bad layer: Index is its position in
// the image it was learned from, kept for reporting.
type LayerSignature struct {
	Index  int    `json:"index"`
	Digest string `json:"digest"`
	DiffID string `json:"diff_id"`
	// Image is the manifest digest of the image the layer was learned from.
	Image string `json:"image"`
}

// Signatures is a signature database.
type Signatures struct {
	Images []ImageSignature `json:"images"`
	Layers []LayerSignature `json:"layers"`
}

// Learn records img and its malicious layers (indices, 0 = bottom) as known
// bad: the first sighting of a sample.
func Learn(img v1.Image, maliciousLayers []int) (Signatures, error) {
	md, err := img.Digest()
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: manifest digest: %w", err)
	}
	cd, err := img.ConfigName()
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: config digest: %w", err)
	}
	digests, diffIDs, err := layerHashes(img)
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: %w", err)
	}
	if len(diffIDs) != len(digests) {
		return Signatures{}, fmt.Errorf("learn: manifest has %d layers, config %d diffIDs: learn from an image whose config names every layer", len(digests), len(diffIDs))
	}
	s := Signatures{Images: []ImageSignature{{ManifestDigest: md.String(), ConfigDigest: cd.String()}}}
	idx := append([]int(nil), maliciousLayers...)
	sort.Ints(idx)
	for k, i := range idx {
		if k > 0 && idx[k-1] == i {
			continue
		}
		if i < 0 || i >= len(digests) {
			return Signatures{}, fmt.Errorf("learn: malicious layer %d out of range (image has %d layers)", i, len(digests))
		}
		s.Layers = append(s.Layers, LayerSignature{Index: i, Digest: digests[i].String(), DiffID: diffIDs[i].String(), Image: md.String()})
	}
	return s, nil
}

// Merge returns the union of two databases, without duplicates.
func (s Signatures) Merge(o Signatures) Signatures {
	out := Signatures{}
	seenI := map[ImageSignature]bool{}
	for _, i := range append(append([]ImageSignature{}, s.Images...), o.Images...) {
		if !seenI[i] {
			seenI[i] = true
			out.Images = append(out.Images, i)
		}
	}
	seenL := map[LayerSignature]bool{}
	for _, l := range append(append([]LayerSignature{}, s.Layers...), o.Layers...) {
		if !seenL[l] {
			seenL[l] = true
			out.Layers = append(out.Layers, l)
		}
	}
	return out
}

// Save writes the database as JSON.
func (s Signatures) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save signatures: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save signatures: %w", err)
	}
	return nil
}

// Load reads a database written by Save.
func Load(path string) (Signatures, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Signatures{}, fmt.Errorf("load signatures: %w", err)
	}
	var s Signatures
	if err := json.Unmarshal(b, &s); err != nil {
		return Signatures{}, fmt.Errorf("load signatures %s: %w", path, err)
	}
	return s, nil
}

// Digest identifies the database content (sha256 of its JSON), recorded in
// every verdict so results name the signatures they used.
func (s Signatures) Digest() string {
	b, _ := json.Marshal(s) // plain structs of strings and ints: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s Signatures) info() map[string]string {
	return map[string]string{
		"signatures_digest": s.Digest(),
		"image_signatures":  strconv.Itoa(len(s.Images)),
		"layer_signatures":  strconv.Itoa(len(s.Layers)),
	}
}

// ImageDetector fires when an image's manifest or config digest is known.
type ImageDetector struct{ sigs Signatures }

// NewImage returns the "digest-image" detector.
func NewImage(sigs Signatures) *ImageDetector { return &ImageDetector{sigs: sigs} }

var _ detectors.Detector = (*ImageDetector)(nil)

func (d *ImageDetector) Name() string    { return ImageName }
func (d *ImageDetector) Version() string { return Version }

// Scan compares the image's manifest and config digests with the database.
func (d *ImageDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	if err := ctx.Err(); err != nil {
		return detectors.Verdict{}, err
	}
	md, err := img.Digest()
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: manifest digest: %w", ImageName, err)
	}
	cd, err := img.ConfigName()
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: config digest: %w", ImageName, err)
	}
	var fs []detectors.Finding
	for _, s := range d.sigs.Images {
		if s.ManifestDigest == md.String() {
			fs = append(fs, detectors.Finding{Category: detectors.CategorySignature, Rule: "manifest-digest", Weight: 1,
				Evidence: "manifest digest " + md.String() + " is a known-bad image", Layer: detectors.NoLayer, Path: "manifest"})
		}
		if s.ConfigDigest == cd.String() {
			fs = append(fs, detectors.Finding{Category: detectors.CategorySignature, Rule: "config-digest", Weight: 1,
				Evidence: "config digest " + cd.String() + " is the config of known-bad image " + s.ManifestDigest, Layer: detectors.NoLayer, Path: "config"})
		}
	}
	return verdict(fs, nil, d.sigs.info()), nil
}

// LayerDetector fires when any layer's digest or diffID is a known-bad
// layer's.
type LayerDetector struct {
	sigs     Signatures
	byDigest map[string]LayerSignature
	byDiffID map[string]LayerSignature
}

// NewLayer returns the "digest-layer" detector.
func NewLayer(sigs Signatures) *LayerDetector {
	d := &LayerDetector{sigs: sigs, byDigest: map[string]LayerSignature{}, byDiffID: map[string]LayerSignature{}}
	for _, l := range sigs.Layers {
		d.byDigest[l.Digest] = l
		d.byDiffID[l.DiffID] = l
	}
	return d
}

var _ detectors.Detector = (*LayerDetector)(nil)

func (d *LayerDetector) Name() string    { return LayerName }
func (d *LayerDetector) Version() string { return Version }

// Scan compares every layer's compressed digest and diffID with the database.
// Only hashes are compared and layer content is never read: digests come from
// the manifest, diffIDs from the config (v1.Layer.DiffID would decompress and
// hash the whole blob for OCI-layout layers).
func (d *LayerDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	if err := ctx.Err(); err != nil {
		return detectors.Verdict{}, err
	}
	digests, diffIDs, err := layerHashes(img)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", LayerName, err)
	}
	var fs []detectors.Finding
	var blamed []int
	if len(diffIDs) != len(digests) {
		// Without a diffID per layer the pairing is unsound: the layers'
		// digests are still compared, the diffIDs are not.
		fs = append(fs, detectors.Finding{Category: detectors.CategoryNotScanned, Rule: "diffid-missing", Integrity: true,
			Layer: detectors.NoLayer, Path: "config:rootfs.diff_ids",
			Evidence: fmt.Sprintf("the config names %d diffIDs for %d layers; diffIDs were not compared: rebuild or re-export the image", len(diffIDs), len(digests))})
		diffIDs = nil
	}
	for i, dg := range digests {
		var di v1.Hash
		if diffIDs != nil {
			di = diffIDs[i]
		}
		hit := false
		if s, ok := d.byDigest[dg.String()]; ok {
			hit = true
			fs = append(fs, layerFinding("layer-digest", i, di, fmt.Sprintf("layer %d digest %s matches known-bad layer %d of %s", i, dg, s.Index, s.Image)))
		}
		if s, ok := d.byDiffID[di.String()]; ok && diffIDs != nil {
			hit = true
			fs = append(fs, layerFinding("layer-diffid", i, di, fmt.Sprintf("layer %d diffID %s matches known-bad layer %d of %s", i, di, s.Index, s.Image)))
		}
		if hit {
			blamed = append(blamed, i)
		}
	}
	return verdict(fs, blamed, d.sigs.info()), nil
}

// layerHashes returns the layers' compressed digests (manifest) and diffIDs
// (config rootfs), bottom first. diffIDs is shorter than digests (or
// longer) when the config's rootfs.diff_ids does not name every layer: an
// integrity error the caller reports, never computed by decompressing.
func layerHashes(img v1.Image) ([]v1.Hash, []v1.Hash, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	digests := make([]v1.Hash, len(m.Layers))
	for i, l := range m.Layers {
		digests[i] = l.Digest
	}
	return digests, cf.RootFS.DiffIDs, nil
}

func layerFinding(rule string, i int, diffID v1.Hash, ev string) detectors.Finding {
	return detectors.Finding{Category: detectors.CategorySignature, Rule: rule, Weight: 1, Evidence: ev, Layer: i, DiffID: diffID.String()}
}

// verdict: signature matching is all or nothing, so the score is the number
// of matching signatures and one match is enough (threshold 1). No content
// is read, so nothing is left unscanned by a limit; a config without a
// diffID per layer is an integrity error (detectors.Decide).
func verdict(fs []detectors.Finding, blamed []int, info map[string]string) detectors.Verdict {
	score := 0
	for _, f := range fs {
		if f.Category == detectors.CategorySignature {
			score++
		}
	}
	return detectors.Verdict{Decision: detectors.Decide(float64(score), 1, fs), Score: float64(score), Threshold: 1,
		Findings: fs, BlamedLayers: blamed, Info: info}
}
