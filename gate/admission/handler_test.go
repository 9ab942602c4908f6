package admission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/strata-sec/strata/gate/admission"
)

var update = flag.Bool("update", false, "rewrite testdata/responses/*.json from the current output")

// digest makes a readable fake manifest digest: "sha256:" and 32 copies of
// a two-hex-digit tag.
func digest(tag string) string { return "sha256:" + strings.Repeat(tag, 32) }

// fakeVerdicts maps digests to decisions; the decision "ERROR" makes the
// look-up fail.
type fakeVerdicts map[string]string

func (f fakeVerdicts) Verdict(_ context.Context, d string) (string, bool, error) {
	v, ok := f[d]
	if v == "ERROR" {
		return "", false, errors.New("nats: timeout")
	}
	return v, ok, nil
}

type fakeScanner struct {
	mu   sync.Mutex
	refs []string
	err  error
}

func (f *fakeScanner) Enqueue(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.refs = append(f.refs, ref)
	return nil
}

func (f *fakeScanner) queued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refs)
}

type resolved struct {
	digests   []string
	canonical string
	err       error
}

type fakeResolver map[string]resolved

func (f fakeResolver) Resolve(_ context.Context, ref string) ([]string, string, error) {
	r, ok := f[ref]
	if !ok {
		return nil, "", errors.New("MANIFEST_UNKNOWN: manifest unknown")
	}
	return r.digests, r.canonical, r.err
}

// world is the registry and verdict store the request fixtures run against.
func world() (fakeVerdicts, fakeResolver) {
	pin := func(repo string, ds ...string) resolved {
		return resolved{digests: ds, canonical: repo + "@" + ds[len(ds)-1]}
	}
	refused := errors.New("Get \"https://unreachable.example/v2/\": dial tcp 192.0.2.10:443: connect: connection refused")
	r := fakeResolver{
		"registry.example/app:1.0": pin("registry.example/app", digest("a1")),
		// An index: the linux/amd64 manifest (malicious), then the index.
		"registry.example/tools/init:2":              pin("registry.example/tools/init", digest("b2"), digest("b3")),
		"registry.example/new:latest":                pin("registry.example/new", digest("c4")),
		"registry.example/big:3":                     pin("registry.example/big", digest("d5")),
		"registry.example/data:1":                    pin("registry.example/data", digest("e6")),
		"registry.example/flaky:1":                   pin("registry.example/flaky", digest("f7")),
		"registry.example/odd:1":                     pin("registry.example/odd", digest("09")),
		"unreachable.example/app:1":                  {err: refused},
		"unreachable.example/pinned@" + digest("b2"): {err: refused},
	}
	v := fakeVerdicts{
		digest("a1"): admission.Clean,
		digest("b2"): admission.Malicious,
		digest("b3"): admission.Clean,
		digest("d5"): admission.Incomplete,
		digest("e6"): admission.Invalid,
		digest("f7"): "ERROR",
		digest("09"): "quarantined",
	}
	return v, r
}

var policies = map[string]admission.Policy{
	"strict": func() admission.Policy {
		p := admission.DefaultPolicy()
		p.ExemptNamespaces = []string{"kube-system"}
		return p
	}(),
	"lenient": {},
}

// post sends body to h as the API server does and returns the response.
func post(t *testing.T, h http.Handler, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/validate?timeout=10s", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) *admissionv1.AdmissionResponse {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response is not an AdmissionReview: %v\n%s", err, rec.Body)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		t.Fatalf("response apiVersion %q kind %q response %v", out.APIVersion, out.Kind, out.Response)
	}
	return out.Response
}

// TestHandler sends each request fixture under each policy and checks the
// decision, the message's key facts and the scans queued field by field,
// and the whole response against testdata/responses (-update rewrites).
func TestHandler(t *testing.T) {
	type want struct {
		allowed  bool
		code     int32    // status code when denied
		contains []string // in status.message (denied) or the warnings (allowed)
	}
	tests := []struct {
		name    string
		want    map[string]want // by policy
		queued  []string
		noQueue bool // the request must not queue scans (dry run)
	}{
		{name: "pod-clean", want: map[string]want{"strict": {allowed: true}, "lenient": {allowed: true}}},
		{name: "pod-malicious", want: map[string]want{
			"strict":  {code: 403, contains: []string{`image "registry.example/tools/init:2" (initContainer "init", container "sidecar") ` + digest("b2") + ": malicious", "1 image(s) refused"}},
			"lenient": {code: 403, contains: []string{digest("b2") + ": malicious"}}}},
		{name: "pod-unscanned", queued: []string{"registry.example/new@" + digest("c4")}, want: map[string]want{
			"strict":  {code: 403, contains: []string{"registry.example/new@" + digest("c4") + ": not scanned yet; scan queued; retry in a moment"}},
			"lenient": {allowed: true, contains: []string{"not scanned yet; scan queued"}}}},
		{name: "pod-unscanned-dryrun", noQueue: true, want: map[string]want{
			"strict":  {code: 403, contains: []string{"not scanned yet; dry run: no scan queued"}},
			"lenient": {allowed: true, contains: []string{"dry run: no scan queued"}}}},
		{name: "pod-incomplete-invalid", want: map[string]want{
			"strict": {code: 403, contains: []string{"3 image(s) refused", digest("d5") + ": incomplete", digest("e6") + ": invalid",
				`(image volume "models")`, `verdict "quarantined" is not one strata knows`}},
			"lenient": {allowed: true, contains: []string{"incomplete", "invalid", "quarantined"}}}},
		{name: "pod-unreachable", want: map[string]want{
			"strict": {code: 403, contains: []string{"2 image(s) refused", `image "unreachable.example/app:1" (container "app"): could not be checked: resolve:`,
				"connection refused", digest("b2") + ": malicious"}},
			"lenient": {code: 403, contains: []string{"1 image(s) refused", digest("b2") + ": malicious"}}}},
		{name: "pod-store-error", want: map[string]want{
			"strict":  {code: 403, contains: []string{"could not be checked: read verdict of " + digest("f7") + ": nats: timeout"}},
			"lenient": {allowed: true, contains: []string{"could not be checked"}}}},
		{name: "pod-exempt", want: map[string]want{"strict": {allowed: true}, "lenient": {code: 403, contains: []string{"malicious"}}}},
		{name: "pod-delete", want: map[string]want{"strict": {allowed: true}, "lenient": {allowed: true}}},
		{name: "pod-status", want: map[string]want{"strict": {allowed: true}, "lenient": {allowed: true}}},
		{name: "pod-ephemeral", want: map[string]want{
			"strict":  {code: 403, contains: []string{`(ephemeralContainer "debugger") ` + digest("b2") + ": malicious"}},
			"lenient": {code: 403, contains: []string{"malicious"}}}},
		{name: "deployment", want: map[string]want{
			"strict":  {code: 403, contains: []string{`(container "metrics") ` + digest("b2") + ": malicious"}},
			"lenient": {code: 403, contains: []string{"malicious"}}}},
		{name: "deployment-update-same-images", want: map[string]want{"strict": {allowed: true}, "lenient": {allowed: true}}},
		{name: "deployment-update-new-images", queued: []string{"registry.example/new@" + digest("c4")}, want: map[string]want{
			"strict":  {code: 403, contains: []string{"2 image(s) refused", `(container "app") registry.example/new@`, `(container "metrics") ` + digest("b2") + ": malicious"}},
			"lenient": {code: 403, contains: []string{"1 image(s) refused", `(container "metrics") ` + digest("b2") + ": malicious"}}}},
		{name: "cronjob", queued: []string{"registry.example/new@" + digest("c4")}, want: map[string]want{
			"strict":  {code: 403, contains: []string{`(container "report")`, "scan queued; retry in a moment"}},
			"lenient": {allowed: true, contains: []string{"scan queued"}}}},
		{name: "service", want: map[string]want{
			"strict":  {code: 400, contains: []string{"kind Service (v1) is not one strata checks", "remove it from the webhook's rules"}},
			"lenient": {code: 400, contains: []string{"not one strata checks"}}}},
	}
	for _, tt := range tests {
		body, err := os.ReadFile(filepath.Join("testdata", "requests", tt.name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var req admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		for _, pname := range []string{"strict", "lenient"} {
			t.Run(tt.name+"/"+pname, func(t *testing.T) {
				v, r := world()
				s := &fakeScanner{}
				resp := decode(t, post(t, admission.Handler(v, s, r, policies[pname]), body))
				w := tt.want[pname]
				if resp.UID != req.Request.UID {
					t.Errorf("uid %q, want %q", resp.UID, req.Request.UID)
				}
				if resp.Allowed != w.allowed {
					t.Errorf("allowed %v, want %v (result %+v)", resp.Allowed, w.allowed, resp.Result)
				}
				text := strings.Join(resp.Warnings, "\n")
				if !w.allowed {
					if resp.Result == nil {
						t.Fatal("denied without a status")
					}
					if resp.Result.Code != w.code || resp.Result.Status != "Failure" {
						t.Errorf("status %q code %d, want Failure %d", resp.Result.Status, resp.Result.Code, w.code)
					}
					text = resp.Result.Message
				} else if resp.Result != nil {
					t.Errorf("allowed with a status: %+v", resp.Result)
				}
				for _, c := range w.contains {
					if !strings.Contains(text, c) {
						t.Errorf("response text lacks %q:\n%s", c, text)
					}
				}
				if len(w.contains) == 0 && text != "" {
					t.Errorf("unexpected text: %s", text)
				}
				if got := s.queued(); !slices.Equal(got, tt.queued) {
					t.Errorf("queued %q, want %q", got, tt.queued)
				}
				golden(t, filepath.Join("testdata", "responses", tt.name+"."+pname+".json"), resp)
			})
		}
	}
}

func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gate/admission -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun with -update if the change is intended):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestHandlerQueueFails: a scan that cannot be queued says so and, by
// policy, still refuses the Pod.
func TestHandlerQueueFails(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "requests", "pod-unscanned.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, r := world()
	s := &fakeScanner{err: errors.New("nats: no responders available for request")}
	resp := decode(t, post(t, admission.Handler(v, s, r, admission.DefaultPolicy()), body))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "queueing a scan failed (nats: no responders available for request); retry later") {
		t.Errorf("allowed %v, result %+v", resp.Allowed, resp.Result)
	}
}

// blockingResolver answers only when its context ends.
type blockingResolver struct{}

func (blockingResolver) Resolve(ctx context.Context, _ string) ([]string, string, error) {
	<-ctx.Done()
	return nil, "", ctx.Err()
}

// TestHandlerTimeout: a registry that does not answer ends the review
// within the handler's timeout, refusing the Pod under DenyUnscanned, well
// before the API server would give up on the webhook.
func TestHandlerTimeout(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "requests", "pod-clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  admission.Policy
		allowed bool
	}{
		{"deny-unscanned", admission.DefaultPolicy(), false},
		{"admit-unscanned", admission.Policy{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := world()
			h := admission.Handler(v, &fakeScanner{}, blockingResolver{}, tt.policy, admission.WithTimeout(100*time.Millisecond))
			start := time.Now()
			resp := decode(t, post(t, h, body))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			text := strings.Join(resp.Warnings, "\n")
			if resp.Result != nil {
				text = resp.Result.Message
			}
			if resp.Allowed != tt.allowed || !strings.Contains(text, "could not be checked: resolve: context deadline exceeded") {
				t.Errorf("allowed %v, text %q", resp.Allowed, text)
			}
		})
	}
}

// TestHandlerBadRequests: what is not a v1 AdmissionReview POSTed as JSON
// is refused at the HTTP level with a body saying what is wrong.
func TestHandlerBadRequests(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "requests", "pod-clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		wantCode    int
		wantBody    string
	}{
		{"get", http.MethodGet, "application/json", nil, 405, "method GET not allowed"},
		{"text", http.MethodPost, "text/plain", good, 415, `content type "text/plain" not supported`},
		{"no-content-type", http.MethodPost, "", good, 415, "send application/json"},
		{"json-with-charset", http.MethodPost, "application/json; charset=utf-8", good, 200, ""},
		{"not-json", http.MethodPost, "application/json", []byte("{"), 400, "not an AdmissionReview"},
		{"empty", http.MethodPost, "application/json", nil, 400, "not an AdmissionReview"},
		{"v1beta1", http.MethodPost, "application/json", bytes.Replace(good, []byte(`"admission.k8s.io/v1"`), []byte(`"admission.k8s.io/v1beta1"`), 1), 400, `admissionReviewVersions: ["v1"]`},
		{"no-request", http.MethodPost, "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, "has no request"},
		{"no-uid", http.MethodPost, "application/json", bytes.Replace(good, []byte(`"uid": "0b6f2c55-1d1a-4a0e-9a55-000000000001"`), []byte(`"uid": ""`), 1), 400, "has no uid"},
		{"too-large", http.MethodPost, "application/json", append(bytes.Repeat([]byte(" "), admission.MaxBodyBytes), good...), 413, "larger than 3145728 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, r := world()
			h := admission.Handler(v, &fakeScanner{}, r, admission.DefaultPolicy())
			req := httptest.NewRequest(tt.method, "/validate", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("got %d %q, want %d containing %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

// TestHandlerPartlyJudgedIndex: an index whose amd64 manifest is judged
// clean but which has no verdict itself (its other platforms unjudged) is
// not scanned yet: refused under DenyUnscanned, and the index is queued.
func TestHandlerPartlyJudgedIndex(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "requests", "pod-unscanned.json"))
	if err != nil {
		t.Fatal(err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatal(err)
	}
	var pod struct {
		Spec struct {
			Containers []struct {
				Image string `json:"image"`
			} `json:"containers"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(review.Request.Object.Raw, &pod); err != nil || len(pod.Spec.Containers) == 0 {
		t.Fatalf("fixture: %v", err)
	}
	r := fakeResolver{}
	for _, c := range pod.Spec.Containers {
		r[c.Image] = resolved{digests: []string{digest("a1"), digest("ff")}, canonical: "registry.example/multi@" + digest("ff")}
	}
	v := fakeVerdicts{digest("a1"): admission.Clean}
	s := &fakeScanner{}
	resp := decode(t, post(t, admission.Handler(v, s, r, admission.DefaultPolicy()), body))
	if resp.Allowed {
		t.Errorf("admitted an index judged only through one platform: %+v", resp.Result)
	}
	if q := s.queued(); len(q) == 0 || q[0] != "registry.example/multi@"+digest("ff") {
		t.Errorf("queued %v, want the index", q)
	}
}
