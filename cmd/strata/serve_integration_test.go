package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/strata-sec/strata/gate"
	"github.com/strata-sec/strata/internal/syncbuf"
	"github.com/strata-sec/strata/internal/testenv"
)

// serveProc is `strata serve` running inside the test.
type serveProc struct {
	http, nats string
	out        *syncbuf.Buffer
	cancel     func()
	done       chan error
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{out: &syncbuf.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, append([]string{"serve"}, args...), p.out, p.out) }()
	re := regexp.MustCompile(`HTTP on (https?://\S+)\n.*NATS on (nats://\S+)`)
	testenv.WaitFor(t, 30*time.Second, "strata serve to start", func() bool {
		select {
		case err := <-p.done:
			t.Fatalf("strata serve exited: %v\n%s", err, p.out)
		default:
		}
		m := re.FindStringSubmatch(p.out.String())
		if m != nil {
			p.http, p.nats = m[1], m[2]
		}
		return m != nil
	})
	t.Cleanup(p.stop)
	return p
}

func (p *serveProc) stop() {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
	}
}

// workerProc is `strata worker` in a child process (the test binary
// running main, see TestMain), so it can be killed with SIGKILL.
type workerProc struct {
	id  string
	cmd *exec.Cmd
	out *syncbuf.Buffer
}

func startWorker(t *testing.T, natsURL, id string) *workerProc {
	t.Helper()
	w := &workerProc{id: id, out: &syncbuf.Buffer{}}
	w.cmd = exec.Command(os.Args[0])
	w.cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN_ARGS=worker --insecure --nats "+natsURL+" --id "+id)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		if t.Failed() {
			t.Logf("worker %s output:\n%s", id, w.out)
		}
	})
	testenv.WaitFor(t, 30*time.Second, "worker "+id+" to start", func() bool { return strings.Contains(w.out.String(), "taking jobs") })
	return w
}

// stallProxy forwards to a registry set later, holding every GET of the
// blob stall names for delay first: a scan that is reliably in progress.
type stallProxy struct {
	srv     *httptest.Server
	backend atomic.Pointer[httputil.ReverseProxy]
	stall   atomic.Value // string: a blob digest
	delay   time.Duration
}

func newStallProxy(t *testing.T, delay time.Duration) *stallProxy {
	p := &stallProxy{delay: delay}
	p.stall.Store("none")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+p.stall.Load().(string)) {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(p.delay):
			}
		}
		p.backend.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *stallProxy) to(host string) {
	p.backend.Store(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host}))
}

func (p *stallProxy) host() string { return strings.TrimPrefix(p.srv.URL, "http://") }

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
	}
	return resp.StatusCode
}

// verdict waits until the gate has a verdict for digest.
func verdict(t *testing.T, base, digest string) gate.Record {
	t.Helper()
	var rec gate.Record
	testenv.WaitFor(t, 60*time.Second, "the verdict of "+digest, func() bool {
		return getJSON(t, base+"/v1/verdicts/"+digest, &rec) == http.StatusOK
	})
	return rec
}

// TestGate runs the gate with real parts on loopback: Debian's
// docker-registry notifies `strata serve` (embedded NATS in a temp dir),
// two `strata worker` processes share the queue; images pushed with
// go-containerregistry get verdicts, a miner in a quarantined repository
// is deleted, a repeated notification scans once, a worker killed with
// SIGKILL mid-scan loses nothing, and a restarted serve keeps every
// verdict.
func TestGate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs Debian's docker-registry and child processes (run without -short; `make test` does)")
	}
	dir := t.TempDir()
	const token = "integration-token"
	tokenFile, policyFile := filepath.Join(dir, "token"), filepath.Join(dir, "policy.json")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyFile, []byte(`{"default": "record", "repositories": [{"match": "prod/*", "action": "quarantine"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := newStallProxy(t, 4*time.Second)
	serveArgs := []string{"--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "nats"), "--nats-listen", "127.0.0.1:0",
		"--token-file", tokenFile, "--policy", policyFile, "--registry", proxy.host(), "--workers", "0", "--insecure", "--ack-wait", "2s"}
	srv := startServe(t, serveArgs...)
	reg := testenv.Registry(t, testenv.RegistryNotify(srv.http+"/v1/notifications", token), testenv.RegistryDelete())
	proxy.to(reg)
	workers := map[string]*workerProc{"wA": startWorker(t, srv.nats, "wA"), "wB": startWorker(t, srv.nats, "wB")}

	push := func(repoTag string, img v1.Image) string {
		t.Helper()
		ref, err := name.NewTag(reg+"/"+repoTag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
		return digestOf(t, img)
	}
	clean, miner, prodMiner := regCleanImage(t, "amd64", ""), regMinerImage(t, "amd64"), regMinerImage(t, "arm64")
	tests := []struct {
		name, repoTag  string
		img            v1.Image
		wantDecision   string
		wantQuarantine bool
	}{
		{"clean", "dev/app:1", clean, "clean", false},
		{"miner recorded", "dev/app:miner", miner, "malicious", false},
		{"miner quarantined", "prod/app:miner", prodMiner, "malicious", true},
	}
	pushed := map[string]bool{}
	for _, tt := range tests {
		pushed[push(tt.repoTag, tt.img)] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digestOf(t, tt.img)
			rec := verdict(t, srv.http, d)
			repo, tag, _ := strings.Cut(tt.repoTag, ":")
			if rec.Decision != tt.wantDecision || rec.Repository != repo || len(rec.Tags) != 1 || rec.Tags[0] != tag || rec.Registry != proxy.host() {
				t.Errorf("verdict %s in %s:%v from %s, want %s in %s:[%s] from %s", rec.Decision, rec.Repository, rec.Tags, rec.Registry, tt.wantDecision, repo, tag, proxy.host())
			}
			if rec.Detector.Name != "hierarchical" || rec.Target == nil || rec.Worker == "" || rec.ScannedAt.IsZero() {
				t.Errorf("verdict lacks detector, report, worker or time: %+v", rec)
			}
			if tt.wantDecision == "malicious" && (len(rec.Target.BlamedLayers) != 1 || rec.Target.BlamedLayers[0] != 1) {
				t.Errorf("blamed layers %v, want [1] (ADD xmrig)", rec.Target.BlamedLayers)
			}
			ref, err := name.NewDigest(reg+"/"+repo+"@"+d, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			_, herr := remote.Head(ref)
			if tt.wantQuarantine {
				if rec.Quarantine == nil || rec.Quarantine.Error != "" || herr == nil {
					t.Errorf("quarantine %+v, manifest still served: %v", rec.Quarantine, herr == nil)
				}
			} else if rec.Quarantine != nil || herr != nil {
				t.Errorf("quarantine %+v / head %v: want the manifest kept", rec.Quarantine, herr)
			}
		})
	}

	// The admission webhook mounted by serve: a Pod running the miner (by
	// digest) next to the clean image (by tag, resolved at the registry)
	// is denied, naming the miner; the clean image alone is admitted.
	admit := func(uid string, images ...string) (allowed bool, message string) {
		t.Helper()
		var cs []string
		for i, im := range images {
			cs = append(cs, fmt.Sprintf(`{"name":"c%d","image":%q}`, i, im))
		}
		body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":%q,"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[%s]}}}}`,
			uid, strings.Join(cs, ","))
		resp, err := http.Post(srv.http+"/v1/admission?timeout=10s", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("admission request: %v", err)
		}
		defer resp.Body.Close()
		var review struct {
			Response struct {
				UID     string `json:"uid"`
				Allowed bool   `json:"allowed"`
				Status  struct {
					Message string `json:"message"`
				} `json:"status"`
			} `json:"response"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || resp.StatusCode != http.StatusOK || review.Response.UID != uid {
			t.Fatalf("admission response %d, uid %q: %v", resp.StatusCode, review.Response.UID, err)
		}
		return review.Response.Allowed, review.Response.Status.Message
	}
	minerRef := reg + "/dev/app@" + digestOf(t, miner)
	if ok, msg := admit("pod-with-miner", minerRef, reg+"/dev/app:1"); ok || !strings.Contains(msg, digestOf(t, miner)) || !strings.Contains(msg, "malicious") {
		t.Errorf("Pod with the miner: allowed %v, message %q; want denied naming %s as malicious", ok, msg, digestOf(t, miner))
	}
	if ok, msg := admit("pod-clean", reg+"/dev/app:1"); !ok {
		t.Errorf("Pod with the clean image: denied: %s", msg)
	}

	// A repeated notification (as a registry retrying sends) and a second
	// tag for a scanned digest: no new scan, the tag is added.
	ev := fmt.Sprintf(`{"events":[{"id":"repeated-event","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"repository":"dev/app","url":"http://%s/v2/dev/app/manifests/%s","tag":"1"}}]}`,
		digestOf(t, clean), reg, digestOf(t, clean))
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.http+"/v1/notifications", strings.NewReader(ev))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("repeat notification: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	push("dev/app:again", clean)
	testenv.WaitFor(t, 30*time.Second, "the second tag", func() bool {
		var rec gate.Record
		getJSON(t, srv.http+"/v1/verdicts/"+digestOf(t, clean), &rec)
		return len(rec.Tags) == 2
	})

	// Kill -9 the worker scanning an image whose layer download the proxy
	// holds up; the other worker completes the job.
	slow := regCleanImage(t, "riscv64", "")
	layers, err := slow.Layers()
	if err != nil {
		t.Fatal(err)
	}
	stall, err := layers[len(layers)-1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	proxy.stall.Store(stall.String())
	slowDigest := push("dev/slow:1", slow)
	pushed[slowDigest] = true
	var victim *workerProc
	testenv.WaitFor(t, 30*time.Second, "a worker to start scanning dev/slow", func() bool {
		for _, w := range workers {
			if strings.Contains(w.out.String(), "scanning "+proxy.host()+"/dev/slow@"+slowDigest) {
				victim = w
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond) // inside the held-up blob read
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rec := verdict(t, srv.http, slowDigest)
	if rec.Worker == victim.id || rec.Attempts != 2 || rec.Decision != "clean" {
		t.Errorf("slow image: %s by %s on attempt %d, want clean by the other worker than %s on attempt 2", rec.Decision, rec.Worker, rec.Attempts, victim.id)
	}

	// Exactly one verdict per pushed image, each scanned once.
	var list struct{ Verdicts []gate.Record }
	if getJSON(t, srv.http+"/v1/verdicts", &list) != http.StatusOK {
		t.Fatal("GET /v1/verdicts failed")
	}
	got := map[string]gate.Record{}
	for _, r := range list.Verdicts {
		got[r.Digest] = r
	}
	if len(got) != len(pushed) || len(list.Verdicts) != len(pushed) {
		t.Errorf("%d verdicts (%d distinct), want one for each of %d pushed images", len(list.Verdicts), len(got), len(pushed))
	}
	for d := range pushed {
		if _, ok := got[d]; !ok {
			t.Errorf("no verdict for pushed %s", d)
		}
	}
	// The metrics follow the bucket through a watch: give it a moment.
	wantMetrics := []string{
		`strata_gate_scans_total{decision="clean"} 2`,
		`strata_gate_scans_total{decision="malicious"} 2`,
		`strata_gate_queue_jobs{state="waiting"} 0`,
		`strata_gate_quarantined_total 1`,
	}
	var metrics string
	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics = httpGet(t, srv.http+"/metrics")
		missing := 0
		for _, want := range wantMetrics {
			if !strings.Contains(metrics, want+"\n") {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("/metrics lacks some of %q:\n%s", wantMetrics, metrics)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !regexp.MustCompile(`strata_gate_notifications_total\{outcome="duplicate"\} [1-9]`).MatchString(metrics) {
		t.Errorf("/metrics counts no duplicate notification:\n%s", metrics)
	}

	// A restarted serve (same data directory) serves every verdict.
	srv.stop()
	srv = startServe(t, serveArgs...)
	var after struct{ Verdicts []gate.Record }
	if getJSON(t, srv.http+"/v1/verdicts", &after) != http.StatusOK || len(after.Verdicts) != len(list.Verdicts) {
		t.Fatalf("after restart: %d verdicts, want %d", len(after.Verdicts), len(list.Verdicts))
	}
	for i := range after.Verdicts {
		if a, b := after.Verdicts[i], list.Verdicts[i]; a.Digest != b.Digest || a.Decision != b.Decision || !a.ScannedAt.Equal(b.ScannedAt) {
			t.Errorf("after restart: %s %s, before %s %s", a.Digest, a.Decision, b.Digest, b.Decision)
		}
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
