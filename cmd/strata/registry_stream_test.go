package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/scanreport"
)

// streamRegistry is go-containerregistry's in-process registry on a
// loopback httptest server. It serves tampered[digest] instead of the blob
// stored under digest, can send blobs in paced pieces so that layer fetches
// overlap, and counts blob GETs: in total, per digest, and at once.
type streamRegistry struct {
	host string

	mu       sync.Mutex
	tampered map[string][]byte
	// chunked sends tampered blobs without a Content-Length.
	chunked  bool
	pause    time.Duration
	gets     map[string]int
	inFlight int
	peak     int
}

func newStreamRegistry(t *testing.T) *streamRegistry {
	t.Helper()
	s := &streamRegistry{tampered: map[string][]byte{}, gets: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := strings.LastIndex(r.URL.Path, "/blobs/")
		if i < 0 || r.Method != http.MethodGet {
			reg.ServeHTTP(w, r)
			return
		}
		digest := r.URL.Path[i+len("/blobs/"):]
		s.mu.Lock()
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		s.gets[digest]++
		bad, tampered := s.tampered[digest]
		pause := s.pause
		s.mu.Unlock()
		// A GET ends for the count just before its last piece is sent: the
		// client cannot start its next GET before that piece arrives, so
		// the count never overlaps two GETs of one fetching goroutine.
		var once sync.Once
		end := func() {
			once.Do(func() {
				s.mu.Lock()
				s.inFlight--
				s.mu.Unlock()
			})
		}
		defer end()
		pw := &pacedWriter{ResponseWriter: w, pause: pause, last: end}
		if tampered {
			if s.chunked {
				w.Write(bad)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
			pw.Write(bad)
			return
		}
		reg.ServeHTTP(pw, r)
	}))
	t.Cleanup(srv.Close)
	s.host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

func (s *streamRegistry) push(t *testing.T, tag string, img v1.Image) string {
	t.Helper()
	ref := s.host + "/strata/stream:" + tag
	r, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// counts returns the blob GETs per digest and the most blob GETs in
// flight at once since the last call.
func (s *streamRegistry) counts() (gets map[string]int, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gets, peak = s.gets, s.peak
	s.gets, s.peak = map[string]int{}, 0
	return gets, peak
}

// pacedWriter sends a response in 4 KiB pieces with a pause after each but
// the last, and calls last before sending the piece that completes the
// Content-Length.
type pacedWriter struct {
	http.ResponseWriter
	pause time.Duration
	last  func()
	sent  int64
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	want, _ := strconv.ParseInt(p.Header().Get("Content-Length"), 10, 64)
	n := 0
	for len(b) > 0 {
		k := min(len(b), 4<<10)
		if p.sent+int64(k) >= want {
			p.last()
		}
		m, err := p.ResponseWriter.Write(b[:k])
		n += m
		p.sent += int64(m)
		if err != nil {
			return n, err
		}
		p.ResponseWriter.(http.Flusher).Flush()
		b = b[k:]
		if p.sent < want {
			time.Sleep(p.pause)
		}
	}
	return n, nil
}

func decodeReport(t *testing.T, out string) scanreport.Report {
	t.Helper()
	var rep scanreport.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return rep
}

// scanVoidsLayer scans ref (a registry image of n layers) with cache and
// checks that it fails closed on layer bad: invalid (exit 4), the layer's
// integrity issue kind named on stderr, and none of its findings kept but
// integrity ones. It returns the layer's report.
func scanVoidsLayer(t *testing.T, ref, cache string, n, bad int, kind layers.IssueKind) scanreport.Layer {
	t.Helper()
	out, errOut, code := scan(t, "--insecure", "--cache", cache, "--format", "json", ref)
	if code != scanreport.ExitInvalid {
		t.Fatalf("exit %d, want %d (invalid)\n%s\n%s", code, scanreport.ExitInvalid, errOut, out)
	}
	if want := fmt.Sprintf("layer %d: %s", bad, kind); !strings.Contains(errOut, want) {
		t.Errorf("stderr does not name the layer (%q): %s", want, errOut)
	}
	rep := decodeReport(t, out)
	if len(rep.Targets) != 1 || len(rep.Targets[0].Layers) != n {
		t.Fatalf("report: %+v", rep)
	}
	l := rep.Targets[0].Layers[bad]
	for _, f := range l.Findings {
		if !f.Integrity {
			t.Errorf("layer %d keeps a finding from bytes that are not the image's: %+v", bad, f)
		}
	}
	return l
}

// TestRegistryScanTamperedBlob: a registry serves, for one layer, bytes of
// the manifest's length that do not hash to its digest (they carry a miner
// where the image has a script). The scan reads the layer once while it
// arrives, finds the mismatch at the end of the blob, and fails closed:
// the target is invalid (exit 4) naming the layer, the layer's findings
// are void (the miner is not reported: a runtime would refuse the blob),
// and no cache record is written for it, so the next scan fetches it again.
func TestRegistryScanTamperedBlob(t *testing.T) {
	s := newStreamRegistry(t)
	app := "#!/bin/sh\n# a web app's start script, padded to the miner's length ................\nexec /usr/local/bin/app-server --port 8080\n"
	miner := "#!/bin/sh\nnohup /tmp/xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u wallet --donate-level 1 &\n"
	miner += strings.Repeat("#", len(app)-len(miner))
	if len(miner) != len(app) {
		t.Fatalf("miner script is %d bytes, the app's %d", len(miner), len(app))
	}
	good := dt.StoredGzip(t, dt.Exec("usr/local/bin/start", app))
	bad := dt.StoredGzip(t, dt.Exec("usr/local/bin/start", miner))
	if len(good) != len(bad) {
		t.Fatalf("tampered blob is %d bytes, the real one %d", len(bad), len(good))
	}
	img := dt.RawImage(t, v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{Cmd: []string{"/usr/local/bin/start"}}},
		dt.Blob{Data: dt.StoredGzip(t, dt.Text("etc/os-release", "ID=debian\n"))},
		dt.Blob{Data: good},
		dt.Blob{Data: dt.StoredGzip(t, dt.Text("etc/motd", "hello\n"))},
	)
	ref := s.push(t, "tampered", img)
	target := dt.Hash(good).String()
	s.tampered[target] = bad

	cache := filepath.Join(t.TempDir(), "cache")
	l := scanVoidsLayer(t, ref, cache, 3, 1, layers.IssueDigestMismatch)
	if len(l.Issues) == 0 || !strings.Contains(l.Issues[0].Detail, "pull") {
		t.Errorf("layer 1 issues say nothing about what to do: %+v", l.Issues)
	}
	// A layer read ahead that fails its check is read again by the walk,
	// which reports it in layer order: at most twice.
	if gets, _ := s.counts(); gets[target] < 1 || gets[target] > 2 {
		t.Errorf("the tampered blob was fetched %d times, want 1 or 2", gets[target])
	}
	recs, err := filepath.Glob(filepath.Join(cache, "*.rec"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Errorf("%d cache records, want 2 (the verified layers 0 and 2)", len(recs))
	}

	// The registry serves the real blob again: the layer is fetched (it
	// was never cached), the others are replayed from the cache.
	delete(s.tampered, target)
	_, errOut, code := scan(t, "--insecure", "--cache", cache, ref)
	if code != scanreport.ExitClean {
		t.Fatalf("exit %d after the registry was repaired, want 0\n%s", code, errOut)
	}
	if gets, _ := s.counts(); gets[target] != 1 {
		t.Errorf("after repair the layer was fetched %d times, want once", gets[target])
	}
}

// TestRegistryScanMatchesLayout: an image scanned from the registry, its
// layers streamed several at once, gets the verdict, findings and issues
// that scanning it from an OCI layout gives, and every blob is fetched
// exactly once.
func TestRegistryScanMatchesLayout(t *testing.T) {
	t.Cleanup(dt.RemoveLargeImage)
	mixed, _ := dt.MixedImage(t, 6, 48<<10, false)
	tests := []struct {
		name     string
		img      v1.Image
		wantCode int
	}{
		{name: "clean", img: cleanImage(t)},
		{name: "miner", img: minerImage(t), wantCode: scanreport.ExitMalicious},
		{name: "mixed", img: mixed},
	}
	s := newStreamRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layout")
			writeLayout(t, dir, map[string]v1.Image{"img": tt.img})
			ref := s.push(t, tt.name, tt.img)
			s.counts()
			regOut, errOut, code := scan(t, "--insecure", "--parallel", "3", "--format", "json", ref)
			if code != tt.wantCode {
				t.Fatalf("registry scan: exit %d, want %d\n%s", code, tt.wantCode, errOut)
			}
			layOut, errOut, code := scan(t, "--format", "json", dir+":img")
			if code != tt.wantCode {
				t.Fatalf("layout scan: exit %d, want %d\n%s", code, tt.wantCode, errOut)
			}
			reg, lay := decodeReport(t, regOut), decodeReport(t, layOut)
			if len(reg.Targets) != 1 || len(lay.Targets) != 1 {
				t.Fatalf("targets: registry %d, layout %d", len(reg.Targets), len(lay.Targets))
			}
			reg.Targets[0].Name, lay.Targets[0].Name = "", ""
			a, _ := json.MarshalIndent(reg, "", " ")
			b, _ := json.MarshalIndent(lay, "", " ")
			if string(a) != string(b) {
				t.Errorf("registry and layout reports differ:\nregistry: %s\nlayout: %s", a, b)
			}
			ls, err := tt.img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			gets, _ := s.counts()
			for i, l := range ls {
				if n := gets[digestOf(t, l)]; n != 1 {
					t.Errorf("layer %d fetched %d times, want once", i, n)
				}
			}
		})
	}
}

// TestRegistryScanBoundedFetch: layers are fetched concurrently, never
// more at once than --parallel (or its default) allows.
func TestRegistryScanBoundedFetch(t *testing.T) {
	t.Cleanup(dt.RemoveLargeImage)
	img, _ := dt.MixedImage(t, 8, 48<<10, false)
	s := newStreamRegistry(t)
	ref := s.push(t, "eight", img)
	s.pause = 2 * time.Millisecond // a blob takes several ms: fetches overlap
	def := max(runtime.GOMAXPROCS(0), imageref.RegistryLayersAtOnce)
	tests := []struct {
		name     string
		args     []string
		wantPeak int // at most; and at least 2 unless it is 1
	}{
		{name: "one at a time", args: []string{"--parallel", "1"}, wantPeak: 1},
		{name: "three", args: []string{"--parallel", "3"}, wantPeak: 3},
		{name: "default", wantPeak: def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.counts()
			_, errOut, code := scan(t, append(append([]string{"--insecure"}, tt.args...), ref)...)
			if code != scanreport.ExitClean {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			_, peak := s.counts()
			if peak > tt.wantPeak || (tt.wantPeak > 1 && peak < 2) {
				t.Errorf("%d blob GETs at once, want %s", peak, map[bool]string{true: "1", false: fmt.Sprintf("2..%d", tt.wantPeak)}[tt.wantPeak == 1])
			}
		})
	}
}

// TestRegistryScanBlobLengthDiffers: a registry serves one layer's blob
// with a length other than the manifest's: the real blob with bytes
// appended, or cut short, with a Content-Length that says so (found before
// reading) or without one (chunked: found at the end of the blob). Either
// way the scan fails closed (invalid, exit 4) naming the layer, keeps no
// finding of it, and caches nothing for it.
func TestRegistryScanBlobLengthDiffers(t *testing.T) {
	// 8 KiB of stored content: more than net/http buffers before it must
	// choose, so a response without a Content-Length is really chunked.
	good := dt.StoredGzip(t, dt.Exec("usr/local/bin/start", "#!/bin/sh\nexec /usr/local/bin/app-server --port 8080\n"),
		dt.Text("usr/share/doc/app/README", strings.Repeat("app server documentation\n", 340)))
	longer := append(append([]byte{}, good...), make([]byte, 512)...)
	member := append(append([]byte{}, good...), dt.StoredGzip(t, dt.Exec("tmp/xmrig", "stratum+tcp://pool.supportxmr.com:3333"))...)
	shorter := good[:len(good)-16]
	tests := []struct {
		name    string
		served  []byte
		chunked bool
		kind    layers.IssueKind
	}{
		{"longer than the manifest says", longer, false, layers.IssueDigestMismatch},
		{"a second gzip member appended", member, false, layers.IssueDigestMismatch},
		{"shorter than the manifest says", shorter, false, layers.IssueDigestMismatch},
		{"longer, chunked", longer, true, layers.IssueDigestMismatch},
		{"a second gzip member appended, chunked", member, true, layers.IssueDigestMismatch},
		// The gzip stream ends inside the tar: found before the blob's end.
		{"shorter, chunked", shorter, true, layers.IssueLayerTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStreamRegistry(t)
			s.chunked = tt.chunked
			img := dt.RawImage(t, v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{Cmd: []string{"/usr/local/bin/start"}}},
				dt.Blob{Data: dt.StoredGzip(t, dt.Text("etc/os-release", "ID=debian\n"))},
				dt.Blob{Data: good},
			)
			ref := s.push(t, "length", img)
			s.tampered[dt.Hash(good).String()] = tt.served
			cache := filepath.Join(t.TempDir(), "cache")
			scanVoidsLayer(t, ref, cache, 2, 1, tt.kind)
			if recs, _ := filepath.Glob(filepath.Join(cache, "*.rec")); len(recs) != 1 {
				t.Errorf("%d cache records, want 1 (the verified layer 0)", len(recs))
			}
		})
	}
}
