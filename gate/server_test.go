package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func envelope(events ...string) string {
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

// event is a registry event as Distribution 2.8 sends it (trimmed).
func event(action, mediaType, host, repo, digest, tag string) string {
	return fmt.Sprintf(`{"id":"x","timestamp":"2026-12-01T00:00:00Z","action":%q,"target":{"mediaType":%q,"size":100,"digest":%q,"length":100,"repository":%q,"url":"http://%s/v2/%s/manifests/%s","tag":%q},"request":{"id":"r","addr":"127.0.0.1:1","host":%q,"method":"PUT","useragent":"go-containerregistry"},"actor":{},"source":{"addr":"h:5000","instanceID":"i"}}`,
		action, mediaType, digest, repo, host, repo, digest, tag, host)
}

func TestServer(t *testing.T) {
	e := newEnv(t)
	srv, err := NewServer(e.q, e.s, "s3cret", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Before the gate knows its registry, notifications are refused.
	early := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/notifications", strings.NewReader(envelope(event("push",
		"application/vnd.oci.image.manifest.v1+json", e.reg, "dev/app", "sha256:"+strings.Repeat("a", 64), "1"))))
	req.Header.Set("Authorization", "Bearer s3cret")
	srv.ServeHTTP(early, req)
	if early.Code != http.StatusServiceUnavailable {
		t.Errorf("notification before FrontRegistry: status %d, want 503", early.Code)
	}
	srv.FrontRegistry(e.reg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Watch(ctx) }()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	clean := e.push(t, "dev/app:1", image(t, "one", "/usr/bin/app"))
	miner := e.push(t, "dev/miner:1", image(t, "xmrig", "/usr/bin/xmrig"))
	const manifest = "application/vnd.oci.image.manifest.v1+json"
	post := func(token, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/v1/notifications", strings.NewReader(body))
		req.Header.Set("Content-Type", EventsMediaType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	notify := []struct {
		name, token, body string
		want              int
	}{
		{"no token", "", envelope(event("push", manifest, e.reg, "dev/app", clean.Digest, "1")), http.StatusUnauthorized},
		{"wrong token", "guess", envelope(event("push", manifest, e.reg, "dev/app", clean.Digest, "1")), http.StatusUnauthorized},
		{"not JSON", "s3cret", "{", http.StatusBadRequest},
		{"pushes, a pull, a blob, an index", "s3cret", envelope(
			event("push", manifest, e.reg, "dev/app", clean.Digest, "1"),
			event("push", manifest, e.reg, "dev/miner", miner.Digest, "1"),
			event("pull", manifest, e.reg, "dev/app", clean.Digest, "1"),
			event("push", "application/octet-stream", e.reg, "dev/app", "sha256:"+strings.Repeat("0", 64), ""),
			event("push", "application/vnd.docker.distribution.manifest.v1+prettyjws", e.reg, "dev/app", "sha256:"+strings.Repeat("1", 64), "old"),
		), http.StatusOK},
		{"repeat", "s3cret", envelope(event("push", manifest, e.reg, "dev/app", clean.Digest, "1")), http.StatusOK},
	}
	for _, tt := range notify {
		if got := post(tt.token, tt.body); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	e.worker(t, "w1", &fakeDetector{})
	e.wait(t, clean.Digest, anyRecord)
	e.wait(t, miner.Digest, anyRecord)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/v1/verdicts/" + miner.Digest)
	var rec Record
	if code != 200 || json.Unmarshal([]byte(body), &rec) != nil || rec.Decision != "malicious" || rec.Repository != "dev/miner" {
		t.Errorf("GET verdict: %d %s", code, body)
	}
	if code, _ := get("/v1/verdicts/sha256:" + strings.Repeat("2", 64)); code != http.StatusNotFound {
		t.Errorf("GET unknown verdict: %d, want 404", code)
	}
	lists := []struct {
		query string
		want  []string
	}{
		{"", []string{clean.Digest, miner.Digest}},
		{"?decision=malicious", []string{miner.Digest}},
		{"?repository=dev/app", []string{clean.Digest}},
		{"?repository=dev/app&decision=malicious", nil},
	}
	for _, l := range lists {
		code, body := get("/v1/verdicts" + l.query)
		var got struct{ Verdicts []Record }
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("list %q: %d %s", l.query, code, body)
		}
		var ds []string
		for _, r := range got.Verdicts {
			ds = append(ds, r.Digest)
		}
		want := append([]string(nil), l.want...)
		if len(want) == 2 && want[0] > want[1] {
			want[0], want[1] = want[1], want[0]
		}
		if strings.Join(ds, ",") != strings.Join(want, ",") {
			t.Errorf("list %q: %v, want %v", l.query, ds, want)
		}
	}
	// The watcher may lag the bucket by a moment.
	deadline := time.Now().Add(5 * time.Second)
	var metrics string
	for {
		_, metrics = get("/metrics")
		if strings.Contains(metrics, `strata_gate_scan_seconds_count 2`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`strata_gate_notifications_total{outcome="duplicate"} 1`,
		`strata_gate_notifications_total{outcome="enqueued"} 2`,
		`strata_gate_notifications_total{outcome="ignored"} 3`,
		`strata_gate_scans_total{decision="clean"} 1`,
		`strata_gate_scans_total{decision="malicious"} 1`,
		`strata_gate_verdicts{decision="malicious"} 1`,
		`strata_gate_queue_jobs{state="waiting"} 0`,
		`strata_gate_scan_seconds_bucket{le="+Inf"} 2`,
		`strata_gate_scan_seconds_count 2`,
		`# TYPE strata_gate_queue_seconds histogram`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if _, err := NewServer(e.q, e.s, "", nil); err == nil {
		t.Error("NewServer accepted an empty token")
	}
}

func TestJobOf(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name   string
		event  string
		wantOK bool
		want   Job
		front  string // the registry the gate fronts (default: want.Registry)
	}{
		{"oci manifest", event("push", "application/vnd.oci.image.manifest.v1+json", "reg.example:5000", "team/app", d, "v1"), true,
			Job{Ref: "reg.example:5000/team/app@" + d, Registry: "reg.example:5000", Repository: "team/app", Digest: d, Tag: "v1", MediaType: "application/vnd.oci.image.manifest.v1+json", Source: "notification", EventID: "x"}, ""},
		{"docker index by digest", event("push", "application/vnd.docker.distribution.manifest.list.v2+json", "reg.example", "app", d, ""), true,
			Job{Ref: "reg.example/app@" + d, Registry: "reg.example", Repository: "app", Digest: d, MediaType: "application/vnd.docker.distribution.manifest.list.v2+json", Source: "notification", EventID: "x"}, ""},
		{"the event names another host: the job names the fronted registry", event("push", "application/vnd.oci.image.manifest.v1+json", "evil.example", "team/app", d, "v1"), true,
			Job{Ref: "reg.example:5000/team/app@" + d, Registry: "reg.example:5000", Repository: "team/app", Digest: d, Tag: "v1", MediaType: "application/vnd.oci.image.manifest.v1+json", Source: "notification", EventID: "x"}, ""},
		{"no fronted registry", event("push", "application/vnd.oci.image.manifest.v1+json", "reg.example", "app", d, ""), false, Job{}, "none"},
		{"delete", event("delete", "application/vnd.oci.image.manifest.v1+json", "reg.example", "app", d, ""), false, Job{}, ""},
		{"layer", event("push", "application/vnd.oci.image.layer.v1.tar+gzip", "reg.example", "app", d, ""), false, Job{}, ""},
		{"bad digest", event("push", "application/vnd.oci.image.manifest.v1+json", "reg.example", "app", "sha256:zz", ""), false, Job{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := readEnvelope(strings.NewReader(envelope(tt.event)))
			if err != nil {
				t.Fatal(err)
			}
			front := tt.front
			switch front {
			case "":
				front = tt.want.Registry
			case "none":
				front = ""
			}
			got, ok := jobOf(env.Events[0], front)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("jobOf = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
