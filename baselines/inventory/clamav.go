package inventory

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors"
)

// ClamAVName is the Anchore variant: the inventory verdict plus ClamAV.
const (
	ClamAVName    = "inventory+clamav"
	ClamAVVersion = Version
)

// clamRule starts the Rule of the multi-engine baseline's ClamAV hits.
const clamRule = multiengine.EngineClamAV + ":"

// WithClamAV is Anchore's malware step on top of the inventory: ClamAV
// over the image's files. The ClamAV hits come from engine (the
// multi-engine baseline of the same experiment, so the same signature
// databases and the same clamscan command, and its per-layer cache), of
// which only the ClamAV engine counts. Anchore runs clamscan on the
// squashed image, so a hit on a file a later layer deletes is dropped (and
// counted in the info). Decision: inventory OR ClamAV.
type WithClamAV struct {
	inv    *Detector
	engine detectors.Detector
}

var _ detectors.Detector = (*WithClamAV)(nil)

// NewWithClamAV combines inv with the ClamAV hits of engine (a
// *multiengine.Detector in the experiments).
func NewWithClamAV(inv *Detector, engine detectors.Detector) *WithClamAV {
	return &WithClamAV{inv: inv, engine: engine}
}

func (d *WithClamAV) Name() string    { return ClamAVName }
func (d *WithClamAV) Version() string { return ClamAVVersion }

// Scan runs both parts and merges them.
func (d *WithClamAV) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	iv, err := d.inv.Scan(ctx, img)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", ClamAVName, err)
	}
	mv, err := d.engine.Scan(ctx, img)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", ClamAVName, err)
	}
	clam := ClamAVFindings(mv.Findings)
	hidden := 0
	for _, f := range mv.Findings {
		if strings.HasPrefix(f.Rule, clamRule) && f.Hidden {
			hidden++
		}
	}
	fs := append(append([]detectors.Finding(nil), iv.Findings...), clam...)
	sort.SliceStable(fs, func(a, b int) bool {
		if fs[a].Layer != fs[b].Layer {
			return fs[a].Layer < fs[b].Layer
		}
		return fs[a].Path < fs[b].Path
	})
	var fired []string
	score := 0.0
	if iv.Score > 0 {
		fired, score = append(fired, Name), score+1
	}
	nClam := 0
	blamed := map[int]bool{}
	for _, l := range iv.BlamedLayers {
		blamed[l] = true
	}
	for _, f := range clam {
		if f.Category != detectors.CategoryNotScanned {
			nClam++
			if f.Layer != detectors.NoLayer {
				blamed[f.Layer] = true
			}
		}
	}
	if nClam > 0 {
		fired, score = append(fired, multiengine.EngineClamAV), score+1
	}
	var bl []int
	for l := range blamed {
		bl = append(bl, l)
	}
	sort.Ints(bl)
	info := map[string]string{}
	for k, v := range iv.Info {
		info[k] = v
	}
	for _, k := range []string{"engine_clamav", "cmd_clamav", "signatures_digest", "signatures_image", "clamav_hsb_signatures", "clamav_ndb_signatures", "max_file_bytes"} {
		if v, ok := mv.Info[k]; ok {
			info[k] = v
		}
	}
	info["hits_clamav"] = strconv.Itoa(nClam)
	info["hits_clamav_hidden_dropped"] = strconv.Itoa(hidden)
	info["parts_fired"] = strings.Join(fired, ",")
	return detectors.Verdict{Decision: detectors.Decide(score, 1, fs), Score: score, Threshold: 1,
		Findings: fs, BlamedLayers: bl, Info: info}, nil
}

// ClamAVFindings keeps, of a multi-engine verdict's findings, the ClamAV
// hits on files the squashed image still holds and the content that was
// not scanned (except what only YARA failed on).
func ClamAVFindings(fs []detectors.Finding) []detectors.Finding {
	var out []detectors.Finding
	for _, f := range fs {
		switch {
		case strings.HasPrefix(f.Rule, clamRule) && !f.Hidden:
			out = append(out, f)
		case f.Category == detectors.CategoryNotScanned && f.Rule != "yara-error" && !f.Hidden:
			out = append(out, f)
		}
	}
	return out
}
