package admission_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/strata-sec/strata/gate/admission"
)

// TestReadmeManifest: the README's YAML is what it claims to be: the policy
// loads, and the webhook configuration decodes into the Kubernetes type
// without unknown fields and with the settings the README argues for.
func TestReadmeManifest(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 2 {
		t.Fatalf("%d yaml blocks, want the policy and the manifest", len(blocks))
	}

	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, blocks[0][1], 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := admission.LoadPolicy(path)
	if err != nil {
		t.Fatalf("README policy: %v", err)
	}
	if want, _ := admission.LoadPolicy(filepath.Join("testdata", "policy.yaml")); !reflect.DeepEqual(p, want) {
		t.Errorf("README policy %+v differs from testdata/policy.yaml %+v", p, want)
	}

	var kinds []string
	var vwc *admissionregistrationv1.ValidatingWebhookConfiguration
	dec := yaml.NewDecoder(bytes.NewReader(blocks[1][1]))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, doc["kind"].(string))
		if doc["kind"] != "ValidatingWebhookConfiguration" {
			continue
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		jd := json.NewDecoder(bytes.NewReader(raw))
		jd.DisallowUnknownFields()
		vwc = &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := jd.Decode(vwc); err != nil {
			t.Fatalf("webhook configuration: %v", err)
		}
	}
	if vwc == nil || len(vwc.Webhooks) != 1 {
		t.Fatalf("kinds %v: want one ValidatingWebhookConfiguration with one webhook", kinds)
	}
	w := vwc.Webhooks[0]
	checks := []struct {
		what string
		ok   bool
	}{
		{"failurePolicy: Fail", w.FailurePolicy != nil && *w.FailurePolicy == admissionregistrationv1.Fail},
		{"sideEffects: NoneOnDryRun", w.SideEffects != nil && *w.SideEffects == admissionregistrationv1.SideEffectClassNoneOnDryRun},
		{`admissionReviewVersions: ["v1"]`, len(w.AdmissionReviewVersions) == 1 && w.AdmissionReviewVersions[0] == "v1"},
		{"timeoutSeconds: 10", w.TimeoutSeconds != nil && *w.TimeoutSeconds == 10},
		{"a caBundle", len(w.ClientConfig.CABundle) > 0},
		{"path /v1/admission", w.ClientConfig.Service != nil && w.ClientConfig.Service.Path != nil && *w.ClientConfig.Service.Path == "/v1/admission"},
		{"three rules", len(w.Rules) == 3},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("manifest lacks %s", c.what)
		}
	}
}
