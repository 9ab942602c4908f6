package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/strata-sec/strata/gate"
)

// registryConfig is the part of the Distribution registry's config.yml
// the README shows (its "Configuring a registry" reference: storage.delete,
// notifications.endpoints).
type registryConfig struct {
	Storage struct {
		Delete struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"delete"`
	} `yaml:"storage"`
	Notifications struct {
		Endpoints []struct {
			Name      string              `yaml:"name"`
			URL       string              `yaml:"url"`
			Headers   map[string][]string `yaml:"headers"`
			Timeout   string              `yaml:"timeout"`
			Threshold int                 `yaml:"threshold"`
			Backoff   string              `yaml:"backoff"`
		} `yaml:"endpoints"`
	} `yaml:"notifications"`
}

// readmeGateSection returns the README's "Run strata in front of a
// registry" section, up to the next second-level heading.
func readmeGateSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Run strata in front of a registry\n")
	if !ok {
		t.Fatal(`README.md has no section "## Run strata in front of a registry"`)
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	return sec
}

// TestReadmeGate: the registry config.yml, the policy file and the
// admission webhook manifest in the README's gate section decode into what
// they claim to be, without unknown fields, and say what the text argues.
func TestReadmeGate(t *testing.T) {
	sec := readmeGateSection(t)
	blocks := func(lang string) []string {
		var out []string
		for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(sec, -1) {
			out = append(out, m[1])
		}
		return out
	}
	yamls, jsons := blocks("yaml"), blocks("json")
	if len(yamls) != 2 || len(jsons) != 1 {
		t.Fatalf("%d yaml and %d json blocks, want the registry config and the webhook manifest, and the policy", len(yamls), len(jsons))
	}

	var rc registryConfig
	dec := yaml.NewDecoder(strings.NewReader(yamls[0]))
	dec.KnownFields(true)
	if err := dec.Decode(&rc); err != nil {
		t.Fatalf("registry config.yml: %v", err)
	}
	if len(rc.Notifications.Endpoints) != 1 {
		t.Fatalf("registry config.yml: %d notification endpoints, want 1", len(rc.Notifications.Endpoints))
	}
	ep := rc.Notifications.Endpoints[0]
	u, err := url.Parse(ep.URL)
	auth := ep.Headers["Authorization"]
	_, terr := time.ParseDuration(ep.Timeout)
	_, berr := time.ParseDuration(ep.Backoff)
	checks := []struct {
		what string
		ok   bool
	}{
		{"storage.delete.enabled: true (quarantine deletes manifests)", rc.Storage.Delete.Enabled},
		{"an endpoint URL ending in /v1/notifications", err == nil && u.Path == "/v1/notifications"},
		{"an Authorization: [Bearer ...] header", len(auth) == 1 && strings.HasPrefix(auth[0], "Bearer ")},
		{"timeout and backoff as durations", terr == nil && berr == nil},
		{"a threshold", ep.Threshold > 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("registry config.yml lacks %s: %+v", c.what, rc)
		}
	}

	p, err := gate.ParsePolicy([]byte(jsons[0]))
	if err != nil {
		t.Fatalf("README policy: %v", err)
	}
	if p.Action("prod/api") != gate.ActionQuarantine || p.Action("dev/api") != gate.ActionRecord {
		t.Errorf("README policy: prod/api %s, dev/api %s; want quarantine and record", p.Action("prod/api"), p.Action("dev/api"))
	}

	var doc map[string]any
	if err := yaml.Unmarshal([]byte(yamls[1]), &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	jd := json.NewDecoder(bytes.NewReader(raw))
	jd.DisallowUnknownFields()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := jd.Decode(&vwc); err != nil {
		t.Fatalf("webhook manifest: %v", err)
	}
	if vwc.Kind != "ValidatingWebhookConfiguration" || len(vwc.Webhooks) != 1 {
		t.Fatalf("webhook manifest: kind %q with %d webhooks, want one ValidatingWebhookConfiguration webhook", vwc.Kind, len(vwc.Webhooks))
	}
	w := vwc.Webhooks[0]
	wu := ""
	if w.ClientConfig.URL != nil {
		wu = *w.ClientConfig.URL
	}
	mchecks := []struct {
		what string
		ok   bool
	}{
		{"failurePolicy: Fail", w.FailurePolicy != nil && *w.FailurePolicy == admissionregistrationv1.Fail},
		{"sideEffects: NoneOnDryRun", w.SideEffects != nil && *w.SideEffects == admissionregistrationv1.SideEffectClassNoneOnDryRun},
		{`admissionReviewVersions: ["v1"]`, len(w.AdmissionReviewVersions) == 1 && w.AdmissionReviewVersions[0] == "v1"},
		{"an https URL ending in /v1/admission", strings.HasPrefix(wu, "https://") && strings.HasSuffix(wu, "/v1/admission")},
		{"a caBundle", len(w.ClientConfig.CABundle) > 0},
		{"a rule for pods", len(w.Rules) == 1 && len(w.Rules[0].Resources) == 1 && w.Rules[0].Resources[0] == "pods"},
	}
	for _, c := range mchecks {
		if !c.ok {
			t.Errorf("webhook manifest lacks %s", c.what)
		}
	}
}
