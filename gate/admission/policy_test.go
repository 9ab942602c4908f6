package admission_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-sec/strata/gate/admission"
)

func TestLoadPolicy(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    admission.Policy
		wantErr string
	}{
		{name: "empty fails closed", text: "", want: admission.DefaultPolicy()},
		{name: "comments only", text: "# nothing set\n", want: admission.DefaultPolicy()},
		{name: "yaml", text: "denyIncomplete: false\nexemptNamespaces:\n  - kube-system\n  - strata\n",
			want: admission.Policy{DenyInvalid: true, DenyUnscanned: true, ExemptNamespaces: []string{"kube-system", "strata"}}},
		{name: "json", text: `{"denyUnscanned": false, "denyInvalid": false, "denyIncomplete": false}`,
			want: admission.Policy{}},
		{name: "typo", text: "denyUnscaned: false\n", wantErr: "field denyUnscaned not found"},
		{name: "wrong type", text: "denyUnscanned: maybe\n", wantErr: "cannot unmarshal"},
		{name: "two documents", text: "denyInvalid: true\n---\ndenyInvalid: false\n", wantErr: "more than one YAML document"},
		{name: "empty namespace", text: "exemptNamespaces: [\"\"]\n", wantErr: "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := admission.LoadPolicy(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fields: denyIncomplete") {
					t.Fatalf("err %v, want %q and the list of fields", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := admission.LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "open admission policy") {
		t.Errorf("missing file: %v", err)
	}
}

// TestPolicyExample: the policy README.md shows loads as it says.
func TestPolicyExample(t *testing.T) {
	got, err := admission.LoadPolicy(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := admission.Policy{DenyIncomplete: true, DenyInvalid: true, DenyUnscanned: true, ExemptNamespaces: []string{"kube-system", "strata"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
