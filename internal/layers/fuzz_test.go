package layers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// FuzzWalkLayer walks arbitrary bytes as a layer blob (gzip-ed first when
// gz is set). The walk must not panic or hang, must stay within its limits,
// and every layer it did not read to the end must be reported.
func FuzzWalkLayer(f *testing.F) {
	seed := func(files ...dt.File) []byte {
		b, err := dt.Tar(files...)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(seed(dt.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n")), false)
	f.Add(seed(dt.Dir("a"), dt.Exec("a/run", "#!/bin/sh\necho hi\n"), dt.Symlink("b", "/a/run"), dt.Hardlink("c", "a/run")), true)
	f.Add(seed(dt.Whiteout("a"), dt.Opaque("b"), dt.File{Name: "../x", Body: "x"}), false)
	f.Add([]byte{}, false)
	f.Add([]byte("not a tar"), true)
	f.Fuzz(func(t *testing.T, data []byte, gz bool) {
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(data)
			zw.Close()
			data = buf.Bytes()
		}
		img := dt.RawImage(t, v1.ConfigFile{}, dt.Blob{Data: data, DiffID: dt.Hash(nil)})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		const maxFile, maxLayer = 1 << 16, 8 << 20
		res, err := layers.Walk(ctx, img, func(_ *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			if n > maxFile {
				t.Errorf("%s: read %d bytes, more than the file limit", e.Path, n)
			}
			return err
		}, layers.WithMaxFileBytes(maxFile), layers.WithMaxEntries(1000),
			layers.WithMaxLayerUncompressedBytes(maxLayer), layers.WithMaxPathDepth(64), layers.WithMaxPathBytes(1024))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("walk did not finish: %v", err)
			}
			if !strings.Contains(err.Error(), "layer 0") {
				t.Errorf("error does not name the layer: %v", err)
			}
			return
		}
		if res.Bytes > maxLayer {
			t.Errorf("read %d bytes, more than the layer limit", res.Bytes)
		}
		l := res.Layers[0]
		if !l.Complete && len(res.NotScanned()) == 0 {
			t.Errorf("layer not complete but nothing reported: %+v", res.Issues)
		}
		for p, e := range res.Files {
			if p == "" || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") {
				t.Errorf("bad path %q in view", p)
			}
			if e.Path != p {
				t.Errorf("entry %q under key %q", e.Path, p)
			}
		}
	})
}

// FuzzConfig feeds arbitrary config JSON to the walker (history alignment)
// and every created_by to ParseCreatedBy / ParseExecForm.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"history":[{"created_by":"/bin/sh -c #(nop) ADD file:abc in / "},{"created_by":"CMD [\"sh\"]","empty_layer":true}]}`))
	f.Add([]byte(`{"history":[{"created_by":"RUN |2 A=1 B=2 /bin/sh -c make # buildkit"},{"created_by":"ENTRYPOINT [\"/x\", \"-y\"]","empty_layer":true},{"created_by":"RUN /bin/sh -c y"}]}`))
	f.Add([]byte(`{"history":[{"empty_layer":true},{"empty_layer":true}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"history":null,"config":{"Entrypoint":["a"]}}`))
	layer, err := dt.Tar(dt.Text("a", "a"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cf v1.ConfigFile
		if json.Unmarshal(raw, &cf) != nil {
			return
		}
		for _, h := range cf.History {
			s := layers.ParseCreatedBy(h.CreatedBy)
			_ = s
			layers.ParseExecForm(h.CreatedBy)
		}
		img := dt.RawImage(t, cf, dt.Blob{Data: layer}, dt.Blob{Data: layer})
		res, err := layers.Walk(context.Background(), img, nil, layers.WithMaxHistory(50))
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		if len(res.History) > 50 {
			t.Errorf("%d history entries kept, limit 50", len(res.History))
		}
		seen := map[int]bool{}
		for i, l := range res.Layers {
			if l.HistoryIndex == layers.NoLayer {
				continue
			}
			if l.HistoryIndex < 0 || l.HistoryIndex >= len(res.History) {
				t.Fatalf("layer %d: history index %d out of range", i, l.HistoryIndex)
			}
			if seen[l.HistoryIndex] || res.History[l.HistoryIndex].Layer != i || res.History[l.HistoryIndex].EmptyLayer {
				t.Errorf("layer %d aligned to history %d inconsistently", i, l.HistoryIndex)
			}
			seen[l.HistoryIndex] = true
			for _, j := range l.EmptyAfter {
				if j <= l.HistoryIndex || j >= len(res.History) || !res.History[j].EmptyLayer {
					t.Errorf("layer %d: bad empty_after %d", i, j)
				}
			}
		}
	})
}
