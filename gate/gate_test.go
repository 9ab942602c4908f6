package gate

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/scanreport"
	"github.com/strata-sec/strata/internal/testenv"
)

// fakeDetector calls an image malicious when its entrypoint names xmrig,
// counts its scans, and blocks while gate is non-nil and open.
type fakeDetector struct {
	scans   atomic.Int64
	version string
}

func (d *fakeDetector) Name() string { return "fake" }
func (d *fakeDetector) Version() string {
	if d.version == "" {
		return "1"
	}
	return d.version
}
func (d *fakeDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	d.scans.Add(1)
	cf, err := img.ConfigFile()
	if err != nil {
		return detectors.Verdict{}, err
	}
	v := detectors.Verdict{Decision: detectors.Clean, Threshold: 1}
	if strings.Contains(strings.Join(cf.Config.Entrypoint, " "), "xmrig") {
		v = detectors.Verdict{Decision: detectors.Malicious, Score: 2, Threshold: 1, BlamedLayers: []int{0},
			Findings: []detectors.Finding{{Category: detectors.CategoryBehavior, Rule: "fake-miner", Weight: 2, Evidence: "xmrig", Layer: 0, Path: "usr/bin/xmrig"}}}
	}
	return v, nil
}

func image(t *testing.T, body string, entrypoint ...string) v1.Image {
	t.Helper()
	return withArch(t, dt.Image(t, v1.Config{Entrypoint: entrypoint},
		dt.Step{CreatedBy: "ADD app /usr/bin/app", Files: []dt.File{dt.Exec("usr/bin/app", body)}}), "amd64")
}

func withArch(t *testing.T, img v1.Image, arch string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// env is an embedded NATS server, the queue and bucket on it, and an
// in-process registry on loopback.
type env struct {
	dir  string
	nats *EmbeddedNATS
	q    *Queue
	s    *Store
	reg  string // host:port

	mu sync.Mutex
	// tampered[digest] is served instead of the blob stored under digest.
	tampered map[string][]byte
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), tampered: map[string][]byte{}}
	e.open(t, opts...)
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.LastIndex(r.URL.Path, "/blobs/"); i >= 0 && r.Method == http.MethodGet {
			e.mu.Lock()
			bad, ok := e.tampered[r.URL.Path[i+len("/blobs/"):]]
			e.mu.Unlock()
			if ok {
				w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
				w.Write(bad)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.reg = strings.TrimPrefix(srv.URL, "http://")
	return e
}

// open starts NATS on e.dir and opens the queue and bucket.
func (e *env) open(t *testing.T, opts ...Option) {
	t.Helper()
	ns, err := StartNATS(e.dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ns.Connect()
	if err != nil {
		ns.Shutdown()
		t.Fatal(err)
	}
	e.nats = ns
	t.Cleanup(func() { nc.Close(); ns.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.q, e.s, err = Open(ctx, nc, append([]Option{WithAckWait(time.Second), WithDetector("fake@1")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
}

// tamper makes the registry serve bad for digest (nil: the stored blob).
func (e *env) tamper(digest string, bad []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if bad == nil {
		delete(e.tampered, digest)
		return
	}
	e.tampered[digest] = bad
}

func (e *env) push(t *testing.T, repoTag string, img v1.Image) Job {
	t.Helper()
	ref, err := name.NewTag(e.reg+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	j, err := jobFor(ref.Context().Name() + "@" + digestOf(t, img))
	if err != nil {
		t.Fatal(err)
	}
	j.Tag = ref.TagStr()
	return j
}

// worker runs a worker until the test ends or stop is called.
func (e *env) worker(t *testing.T, id string, det detectors.Detector, opts ...WorkerOption) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := NewWorker(e.q, e.s, det, append([]WorkerOption{WithWorkerID(id), WithInsecure(true)}, opts...)...)
	w.o.poll = 200 * time.Millisecond
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// wait polls the bucket until digest has a record that ok accepts.
func (e *env) wait(t *testing.T, digest string, ok func(Record) bool) Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, found, err := e.s.Get(context.Background(), digest)
		if err != nil {
			t.Fatal(err)
		}
		if found && ok(rec) {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("no accepted verdict for %s within 20s (last: found=%v %+v)", digest, found, rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func anyRecord(Record) bool { return true }

func TestWorkerVerdictsAndQuarantine(t *testing.T) {
	pol, err := ParsePolicy([]byte(`{"default":"record","repositories":[{"match":"prod/*","action":"quarantine"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, WithPolicy(pol))
	det := &fakeDetector{}
	e.worker(t, "w1", det)
	tests := []struct {
		name, repoTag  string
		img            v1.Image
		wantDecision   string
		wantAction     string
		wantQuarantine bool
	}{
		{"clean recorded", "dev/app:1", image(t, "#!/bin/sh\necho a\n", "/usr/bin/app"), "clean", ActionRecord, false},
		{"miner recorded", "dev/app:miner", image(t, "xmrig", "/usr/bin/xmrig"), "malicious", ActionRecord, false},
		{"clean in quarantine repo", "prod/app:1", image(t, "#!/bin/sh\necho b\n", "/usr/bin/app"), "clean", ActionQuarantine, false},
		{"miner quarantined", "prod/app:miner", image(t, "xmrig 2", "/usr/bin/xmrig"), "malicious", ActionQuarantine, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := e.push(t, tt.repoTag, tt.img)
			if _, err := e.q.Submit(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			rec := e.wait(t, j.Digest, anyRecord)
			if rec.Decision != tt.wantDecision || rec.Action != tt.wantAction || rec.Worker != "w1" || rec.Attempts != 1 {
				t.Errorf("record %s/%s by %s attempt %d, want %s/%s by w1 attempt 1", rec.Decision, rec.Action, rec.Worker, rec.Attempts, tt.wantDecision, tt.wantAction)
			}
			if len(rec.Tags) != 1 || rec.Tags[0] != j.Tag || rec.Repository != j.Repository || rec.Platform == "" || rec.Target == nil {
				t.Errorf("record tags %v repo %q platform %q target %v, want [%s] %q", rec.Tags, rec.Repository, rec.Platform, rec.Target != nil, j.Tag, j.Repository)
			}
			if tt.wantDecision == "malicious" && (rec.Target == nil || len(rec.Target.Layers) != 1 || len(rec.Target.Layers[0].Findings) != 1) {
				t.Errorf("malicious record lacks its finding on layer 0: %+v", rec.Target)
			}
			ref, _ := name.NewDigest(j.Ref, name.Insecure)
			_, gerr := remote.Head(ref)
			if tt.wantQuarantine {
				if rec.Quarantine == nil || rec.Quarantine.Error != "" || len(rec.Quarantine.Deleted) != 1 || rec.Quarantine.Deleted[0] != j.Digest {
					t.Errorf("quarantine %+v, want %s deleted", rec.Quarantine, j.Digest)
				}
				if gerr == nil {
					t.Errorf("quarantined manifest %s is still in the registry", j.Ref)
				}
			} else if rec.Quarantine != nil || gerr != nil {
				t.Errorf("quarantine %+v, manifest head %v: want no quarantine and the manifest kept", rec.Quarantine, gerr)
			}
		})
	}
	if got := det.scans.Load(); got != int64(len(tests)) {
		t.Errorf("%d scans, want %d", got, len(tests))
	}

	// A quarantined image pushed again (a new registry event) is deleted
	// again without a second scan.
	last := tests[len(tests)-1]
	j := e.push(t, last.repoTag, last.img)
	j.EventID = "re-push"
	if dup, err := e.q.Submit(context.Background(), j); err != nil || dup {
		t.Fatalf("re-push job: duplicate=%v err=%v", dup, err)
	}
	ref, _ := name.NewDigest(j.Ref, name.Insecure)
	deadline := time.Now().Add(20 * time.Second)
	for _, err := remote.Head(ref); err == nil; _, err = remote.Head(ref) {
		if time.Now().After(deadline) {
			t.Fatal("a re-pushed quarantined image stays in the registry")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := det.scans.Load(); got != int64(len(tests)) {
		t.Errorf("re-push scanned again: %d scans, want %d", got, len(tests))
	}
}

// TestDuplicates: a repeated job within the window is dropped by
// JetStream; one that gets through anyway (another process's detector ID)
// finds the verdict and only adds its tag.
func TestDuplicates(t *testing.T) {
	e := newEnv(t)
	det := &fakeDetector{}
	j := e.push(t, "dev/app:1", image(t, "one", "/usr/bin/app"))
	ctx := context.Background()
	for i, wantDup := range []bool{false, true, true} {
		dup, err := e.q.Submit(ctx, j)
		if err != nil || dup != wantDup {
			t.Fatalf("submit %d: duplicate=%v err=%v, want duplicate=%v", i, dup, err, wantDup)
		}
	}
	// The same digest pushed to another repository (whose policy may
	// differ) is a job of its own; it is still scanned once (checked
	// below): the worker taking the second job finds the verdict.
	jp := j
	jp.Repository, jp.Ref = "prod/app", j.Registry+"/prod/app@"+j.Digest
	if dup, err := e.q.Submit(ctx, jp); err != nil || dup {
		t.Fatalf("submit to another repository: duplicate=%v err=%v, want a new job", dup, err)
	}
	stop := e.worker(t, "w1", det)
	e.wait(t, j.Digest, anyRecord)

	other := *e.q
	other.o.detector = "another"
	j2 := j
	j2.Tag = "2"
	if dup, err := other.Submit(ctx, j2); err != nil || dup {
		t.Fatalf("submit with another ID: duplicate=%v err=%v", dup, err)
	}
	rec := e.wait(t, j.Digest, func(r Record) bool { return len(r.Tags) == 2 })
	if rec.Tags[0] != "1" || rec.Tags[1] != "2" {
		t.Errorf("tags %v, want [1 2]", rec.Tags)
	}
	time.Sleep(300 * time.Millisecond)
	if got := det.scans.Load(); got != 1 {
		t.Errorf("%d scans of one digest, want 1", got)
	}
	// A new detector version scans again.
	stop()
	newer := &fakeDetector{version: "2"}
	e.worker(t, "w2", newer)
	j3 := j
	j3.Tag = "3"
	other.o.detector = "fake@2"
	if _, err := other.Submit(ctx, j3); err != nil {
		t.Fatal(err)
	}
	rec = e.wait(t, j.Digest, func(r Record) bool { return r.Detector.Version == "2" })
	if len(rec.Tags) != 3 {
		t.Errorf("rescan with a new detector version lost tags: %v", rec.Tags)
	}
}

// TestRedelivery: a job taken by a worker that never acks (it died) goes to
// another worker after AckWait; the record says it was the second attempt.
func TestRedelivery(t *testing.T) {
	e := newEnv(t)
	j := e.push(t, "dev/app:1", image(t, "one", "/usr/bin/app"))
	ctx := context.Background()
	if _, err := e.q.Submit(ctx, j); err != nil {
		t.Fatal(err)
	}
	m, err := e.q.next(ctx, 5*time.Second)
	if err != nil || m == nil {
		t.Fatalf("take the job: %v, %v", m, err)
	}
	// The dead worker: it holds the job and never acks.
	start := time.Now()
	e.worker(t, "survivor", &fakeDetector{})
	rec := e.wait(t, j.Digest, anyRecord)
	if rec.Worker != "survivor" || rec.Attempts != 2 {
		t.Errorf("record by %s attempt %d, want survivor attempt 2", rec.Worker, rec.Attempts)
	}
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("redelivered after %s, before AckWait (1s)", el)
	}
	waiting, scanning, err := e.q.Depth(ctx)
	if err != nil || waiting != 0 || scanning != 0 {
		t.Errorf("queue depth %d waiting, %d scanning (%v), want empty", waiting, scanning, err)
	}
}

// TestLongScanNotRedelivered: progress signals keep a scan longer than
// AckWait with its worker.
func TestLongScanNotRedelivered(t *testing.T) {
	e := newEnv(t)
	slow := &slowDetector{fakeDetector: &fakeDetector{}, d: 2500 * time.Millisecond}
	j := e.push(t, "dev/app:1", image(t, "one", "/usr/bin/app"))
	if _, err := e.q.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	e.worker(t, "w1", slow)
	e.worker(t, "w2", slow)
	rec := e.wait(t, j.Digest, anyRecord)
	if rec.Attempts != 1 || slow.scans.Load() != 1 {
		t.Errorf("attempt %d, %d scans; want one scan on the first attempt", rec.Attempts, slow.scans.Load())
	}
}

// TestScanTimeout: a job that outlives the scan timeout (a registry feeding
// a layer byte by byte) gets an "error" verdict at once, not retried, and
// the worker is free again.
func TestScanTimeout(t *testing.T) {
	e := newEnv(t)
	stuck := &slowDetector{fakeDetector: &fakeDetector{}, d: time.Minute}
	j := e.push(t, "dev/app:1", image(t, "one", "/usr/bin/app"))
	if _, err := e.q.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.worker(t, "w1", stuck, WithScanTimeout(500*time.Millisecond))
	rec := e.wait(t, j.Digest, anyRecord)
	if rec.Decision != DecisionError || !strings.Contains(rec.Error, "scan timeout") || rec.Attempts != 1 {
		t.Errorf("record %s %q after %d attempts; want an error verdict naming the scan timeout after one attempt", rec.Decision, rec.Error, rec.Attempts)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %v", took)
	}
}

type slowDetector struct {
	*fakeDetector
	d time.Duration
}

func (s *slowDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	select {
	case <-ctx.Done():
		return detectors.Verdict{}, ctx.Err()
	case <-time.After(s.d):
	}
	return s.fakeDetector.Scan(ctx, img)
}

// TestIndex: an index gets a record per platform image and one for itself
// with the most severe decision; quarantine deletes the index and the
// malicious platform manifest.
func TestIndex(t *testing.T) {
	pol := &Policy{Default: ActionQuarantine}
	e := newEnv(t, WithPolicy(pol))
	amd, arm := image(t, "one", "/usr/bin/app"), withArch(t, image(t, "xmrig", "/usr/bin/xmrig"), "arm64")
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	), types.OCIImageIndex)
	ref, err := name.NewTag(e.reg+"/dev/multi:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	j, err := jobFor(ref.Context().Name() + "@" + digestOf(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	j.Tag = "1"
	if _, err := e.q.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	e.worker(t, "w1", &fakeDetector{})
	rec := e.wait(t, j.Digest, anyRecord)
	if !rec.Index || rec.Decision != "malicious" || len(rec.Children) != 2 {
		t.Fatalf("index record: index=%v decision %s children %v, want a malicious index of 2", rec.Index, rec.Decision, rec.Children)
	}
	want := map[string]string{digestOf(t, amd): "clean", digestOf(t, arm): "malicious"}
	for d, dec := range want {
		c, found, err := e.s.Get(context.Background(), d)
		if err != nil || !found || c.Decision != dec || c.Platform == "" {
			t.Errorf("platform %s: found=%v decision %q platform %q (%v), want %s", d, found, c.Decision, c.Platform, err, dec)
		}
	}
	if q := rec.Quarantine; q == nil || q.Error != "" || len(q.Deleted) != 2 || q.Deleted[1] != digestOf(t, arm) {
		t.Errorf("quarantine %+v, want the index and %s deleted", q, digestOf(t, arm))
	}
}

func TestRestartKeepsVerdicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := Record{Digest: "sha256:" + strings.Repeat("ab", 32), Repository: "dev/app", Decision: "malicious", Tags: []string{"1"}}
	if err := e.s.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	e.nats.Shutdown()
	e.open(t)
	dec, found, err := e.s.Verdict(ctx, want.Digest)
	if err != nil || !found || dec != "malicious" {
		t.Fatalf("after restart: %q found=%v err=%v, want malicious", dec, found, err)
	}
	recs, err := e.s.List(ctx, Filter{Decision: "malicious"})
	if err != nil || len(recs) != 1 || recs[0].Digest != want.Digest {
		t.Fatalf("list after restart: %+v %v", recs, err)
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		name, doc, repo, want, wantErr string
	}{
		{name: "empty records", doc: `{}`, repo: "a/b", want: ActionRecord},
		{name: "default", doc: `{"default":"quarantine"}`, repo: "a/b", want: ActionQuarantine},
		{name: "first match wins", doc: `{"repositories":[{"match":"prod/*","action":"quarantine"},{"match":"*/*","action":"record"}]}`, repo: "prod/api", want: ActionQuarantine},
		{name: "star stops at slash", doc: `{"default":"record","repositories":[{"match":"prod/*","action":"quarantine"}]}`, repo: "prod/team/api", want: ActionRecord},
		{name: "bad action", doc: `{"default":"delete"}`, wantErr: `action "delete"`},
		{name: "bad glob", doc: `{"repositories":[{"match":"[","action":"record"}]}`, wantErr: "not a glob"},
		{name: "unknown field", doc: `{"defualt":"record"}`, wantErr: "documented shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Action(tt.repo); got != tt.want {
				t.Errorf("Action(%q) = %q, want %q", tt.repo, got, tt.want)
			}
		})
	}
}

// TestExhaustedJobGetsErrorVerdict: a job whose every delivery dies
// mid-scan (a worker that takes it and never acks, MaxDeliver times) ends
// with an error verdict stored by the server, and leaves the work queue; a
// verdict the last attempt stored before it died is kept.
func TestExhaustedJobGetsErrorVerdict(t *testing.T) {
	tests := []struct {
		name         string
		stored       *Record // in the bucket before the job runs out
		wantDecision string
		wantError    string
	}{
		{name: "no verdict", wantDecision: DecisionError, wantError: "no worker finished this job in 2 attempts"},
		{name: "verdict stored before the last ack", stored: &Record{Decision: "malicious", Detector: scanreport.DetectorInfo{Name: "fake", Version: "1"}}, wantDecision: "malicious"},
		{name: "error verdict of an earlier run", stored: &Record{Decision: DecisionError, Error: "earlier", Detector: scanreport.DetectorInfo{Name: "fake", Version: "1"}}, wantDecision: DecisionError, wantError: "no worker finished"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, WithMaxDeliver(2))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := NewServer(e.q, e.s, "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = srv.FailExhausted(ctx) }()
			j := e.push(t, fmt.Sprintf("dev/app:%d", i), image(t, fmt.Sprintf("crash %d", i), "/usr/bin/app"))
			if tt.stored != nil {
				rec := *tt.stored
				rec.Digest, rec.ScannedAt = j.Digest, time.Unix(1, 0).UTC()
				if err := e.s.Put(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.q.Submit(ctx, j); err != nil {
				t.Fatal(err)
			}
			// The crashing worker: it takes every delivery and dies
			// before acking; it keeps asking for jobs, as live workers do
			// (JetStream finds a job exhausted when it would deliver it
			// again).
			st, err := e.q.js.Stream(ctx, StreamName)
			if err != nil {
				t.Fatal(err)
			}
			taken := 0
			var rec Record
			testenv.WaitFor(t, 20*time.Second, "a verdict and an empty job stream", func() bool {
				m, err := e.q.next(ctx, 300*time.Millisecond)
				if err != nil {
					t.Fatal(err)
				}
				if m != nil {
					taken++
				}
				r, found, err := e.s.Get(ctx, j.Digest)
				if err != nil {
					t.Fatal(err)
				}
				rec = r
				info, err := st.Info(ctx)
				return err == nil && found && info.State.Msgs == 0
			})
			if rec.Decision != tt.wantDecision || !strings.Contains(rec.Error, tt.wantError) || tt.wantError == "" && rec.Error != "" {
				t.Errorf("verdict %s %q, want %s %q", rec.Decision, rec.Error, tt.wantDecision, tt.wantError)
			}
			if tt.wantError != "" && (rec.Attempts != 2 || len(rec.Tags) != 1 || rec.Repository != "dev/app") {
				t.Errorf("error verdict: attempts %d tags %v repository %q, want 2, [%s], dev/app", rec.Attempts, rec.Tags, rec.Repository, j.Tag)
			}
			if taken != 2 {
				t.Errorf("%d deliveries, want 2 (MaxDeliver)", taken)
			}
			if tt.wantError == "" {
				return
			}
			// Pushing the image again (a new registry event, within the
			// duplicate window of the first job) scans it again.
			srv.FrontRegistry(e.reg)
			repo, _, _ := strings.Cut(strings.TrimPrefix(j.Ref, e.reg+"/"), "@")
			body := strings.Replace(envelope(event("push", "application/vnd.oci.image.manifest.v1+json", e.reg, repo, j.Digest, j.Tag)), `"id":"x"`, `"id":"re-push"`, 1)
			w := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/notifications", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer t")
			srv.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("re-push notification: %d %s", w.Code, w.Body)
			}
			e.worker(t, "w1", &fakeDetector{})
			rec = e.wait(t, j.Digest, func(r Record) bool { return r.Error == "" })
			if rec.Decision != "clean" || rec.Worker != "w1" {
				t.Errorf("after a re-push: %s by %s, want clean by w1", rec.Decision, rec.Worker)
			}
		})
	}
}

// countingDetector counts the scans of the detector it wraps.
type countingDetector struct {
	detectors.Detector
	scans atomic.Int64
}

func (d *countingDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	d.scans.Add(1)
	return d.Detector.Scan(ctx, img)
}

// TestInvalidFromTransportRescanned: with the real detector, a verdict
// made invalid because the registry served a blob that does not hash to
// its digest is stored (admission keeps denying) but is not final: a new
// push of the digest, once the blob is repaired, scans it again and the
// verdict becomes clean. An invalid verdict about the content itself (an
// entry escaping the layer, inside a blob that verifies) is final: a new
// push only adds its tag.
func TestInvalidFromTransportRescanned(t *testing.T) {
	det := &countingDetector{Detector: hierarchical.New()}
	e := newEnv(t, WithDetector(DetectorID(det.Name(), det.Version())))
	e.worker(t, "w1", det)
	submit := func(j Job) {
		t.Helper()
		if dup, err := e.q.Submit(context.Background(), j); err != nil || dup {
			t.Fatalf("submit %s: duplicate=%v err=%v", j.Ref, dup, err)
		}
	}
	cfg := v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{Cmd: []string{"/usr/local/bin/start"}}}
	issueKinds := func(rec Record, layer int) []string {
		var kinds []string
		if rec.Target != nil && layer < len(rec.Target.Layers) {
			for _, is := range rec.Target.Layers[layer].Issues {
				kinds = append(kinds, is.Kind)
			}
		}
		return kinds
	}

	app := "#!/bin/sh\nexec /usr/local/bin/app-server --port 8080\n"
	good := dt.StoredGzip(t, dt.Exec("usr/local/bin/start", app))
	bad := dt.StoredGzip(t, dt.Exec("usr/local/bin/start", strings.Replace(app, "8080", "8081", 1)))
	if len(good) != len(bad) {
		t.Fatalf("tampered blob is %d bytes, the real one %d", len(bad), len(good))
	}
	img := dt.RawImage(t, cfg, dt.Blob{Data: dt.StoredGzip(t, dt.Text("etc/os-release", "ID=debian\n"))}, dt.Blob{Data: good})
	blob := dt.Hash(good).String()
	e.tamper(blob, bad)
	j := e.push(t, "dev/app:1", img)
	submit(j)
	rec := e.wait(t, j.Digest, anyRecord)
	if rec.Decision != string(detectors.Invalid) || !slices.Contains(issueKinds(rec, 1), string(layers.IssueDigestMismatch)) {
		t.Fatalf("tampered blob: decision %s, layer 1 issues %v; want invalid with %s", rec.Decision, issueKinds(rec, 1), layers.IssueDigestMismatch)
	}
	if rec.final() {
		t.Error("a digest-mismatch verdict is final: a re-push would never rescan it")
	}

	e.tamper(blob, nil)
	j = e.push(t, "dev/app:1", img)
	j.EventID = "re-push after repair"
	submit(j)
	rec = e.wait(t, j.Digest, func(r Record) bool { return r.Decision != string(detectors.Invalid) })
	if rec.Decision != string(detectors.Clean) || rec.Attempts != 1 || len(issueKinds(rec, 1)) != 0 {
		t.Errorf("after repair: decision %s attempt %d issues %v, want clean from a new scan", rec.Decision, rec.Attempts, issueKinds(rec, 1))
	}
	if got := det.scans.Load(); got != 2 {
		t.Errorf("%d scans, want 2 (the tampered one and the rescan)", got)
	}

	escape := dt.RawImage(t, cfg, dt.Blob{Data: dt.StoredGzip(t, dt.Text("a/../../escape", "x"), dt.Exec("usr/local/bin/start", app))})
	j = e.push(t, "dev/escape:1", escape)
	submit(j)
	rec = e.wait(t, j.Digest, anyRecord)
	if rec.Decision != string(detectors.Invalid) || !slices.Contains(issueKinds(rec, 0), string(layers.IssuePathEscape)) || !rec.final() {
		t.Fatalf("escaping entry: decision %s, issues %v, final %v; want a final invalid with %s", rec.Decision, issueKinds(rec, 0), rec.final(), layers.IssuePathEscape)
	}
	j = e.push(t, "dev/escape:2", escape)
	j.EventID = "another tag"
	submit(j)
	rec = e.wait(t, j.Digest, func(r Record) bool { return len(r.Tags) == 2 })
	if rec.Decision != string(detectors.Invalid) {
		t.Errorf("escaping image re-pushed: decision %s, want invalid kept", rec.Decision)
	}
	if got := det.scans.Load(); got != 3 {
		t.Errorf("%d scans, want 3: a final invalid verdict is not scanned again", got)
	}
}

// TestRecordFinal: which stored verdicts a new push does not rescan.
func TestRecordFinal(t *testing.T) {
	target := func(layerKinds ...string) *scanreport.Target {
		tg := &scanreport.Target{}
		for _, k := range layerKinds {
			class := scanreport.ClassIntegrity
			if k == string(layers.IssueFileLimit) {
				class = scanreport.ClassLimit
			}
			tg.Layers = append(tg.Layers, scanreport.Layer{Issues: []scanreport.Issue{{Kind: k, Class: class}}})
		}
		return tg
	}
	tests := []struct {
		name string
		rec  Record
		want bool
	}{
		{"clean", Record{Decision: "clean", Target: target()}, true},
		{"malicious with a mismatched layer", Record{Decision: "malicious", Target: target(string(layers.IssueDigestMismatch))}, true},
		{"incomplete", Record{Decision: "incomplete", Target: target(string(layers.IssueFileLimit))}, true},
		{"error", Record{Decision: DecisionError, Error: "registry down"}, false},
		{"invalid: digest mismatch", Record{Decision: "invalid", Target: target(string(layers.IssuePathEscape), string(layers.IssueDigestMismatch))}, false},
		{"invalid: config digest mismatch", Record{Decision: "invalid", Target: &scanreport.Target{ConfigIssues: []scanreport.Issue{{Kind: string(layers.IssueDigestMismatch), Class: scanreport.ClassIntegrity}}}}, false},
		{"invalid: truncated blob (a cut connection looks the same)", Record{Decision: "invalid", Target: target(string(layers.IssueLayerTruncated))}, false},
		{"invalid: issues left out of the report", Record{Decision: "invalid", Target: target()}, false},
		{"invalid: path escape", Record{Decision: "invalid", Target: target(string(layers.IssuePathEscape))}, true},
		{"invalid: path escape and a file limit", Record{Decision: "invalid", Target: target(string(layers.IssueFileLimit), string(layers.IssuePathEscape))}, true},
		{"invalid: diffIDs missing", Record{Decision: "invalid", Target: &scanreport.Target{ConfigIssues: []scanreport.Issue{{Kind: string(layers.IssueDiffIDMissing), Class: scanreport.ClassIntegrity}}}}, true},
		{"invalid index", Record{Decision: "invalid", Index: true}, false},
		{"clean index", Record{Decision: "clean", Index: true}, true},
	}
	for _, tt := range tests {
		if got := tt.rec.final(); got != tt.want {
			t.Errorf("%s: final = %v, want %v", tt.name, got, tt.want)
		}
	}
}
