package admission_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/strata-sec/strata/gate/admission"
	"github.com/strata-sec/strata/internal/testenv"
)

// TestWebhookTLS is the deploy-time check end to end without a cluster: a
// real registry (Debian's docker-registry on loopback) holds an image and a
// multi-platform index, RegistryResolver turns their tags into digests, and
// the handler is served over TLS with a SelfSignedTLS certificate to a
// client that trusts only that CA, as the API server trusts the caBundle.
func TestWebhookTLS(t *testing.T) {
	host := testenv.Registry(t)
	single := randomImage(t)
	amd, arm := randomImage(t), randomImage(t)
	multi := index(entry(arm, "linux", "arm64", "v8"), entry(amd, "linux", "amd64", ""))
	pushTo(t, host, "strata/app:v1", single)
	pushTo(t, host, "strata/app:multi", multi)

	// The index's amd64 image is malicious; the single image is unscanned.
	verdicts := fakeVerdicts{digestOf(t, amd): admission.Malicious, digestOf(t, multi): admission.Clean}
	scanner := &fakeScanner{}
	h := admission.Handler(verdicts, scanner, admission.RegistryResolver(), admission.DefaultPolicy())

	certFile, keyFile, caPEM, err := admission.SelfSignedTLS(filepath.Join(t.TempDir(), "tls"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatal("caPEM holds no certificate")
	}
	client := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(client.CloseIdleConnections)

	raw, err := os.ReadFile(filepath.Join("testdata", "requests", "integration-pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("REGISTRY/"), []byte(host+"/"))
	send := func(c *http.Client, body []byte) (*admissionv1.AdmissionResponse, error) {
		resp, err := c.Post(srv.URL+"/validate?timeout=10s", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: %s", resp.Status, b)
		}
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
			t.Fatalf("not an AdmissionReview (%v): %s", err, b)
		}
		return out.Response, nil
	}

	// A client that does not trust the CA is refused by TLS.
	var unknown x509.UnknownAuthorityError
	if _, err := send(&http.Client{Transport: &http.Transport{Proxy: nil}}, raw); !errors.As(err, &unknown) {
		t.Errorf("client without the CA: %v, want an unknown-authority error", err)
	}

	tests := []struct {
		name   string
		dryRun bool
		queued []string
	}{
		{name: "dry-run", dryRun: true},
		{name: "create", queued: []string{host + "/strata/app@" + digestOf(t, single)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := raw
			if tt.dryRun {
				body = bytes.Replace(raw, []byte(`"dryRun": false`), []byte(`"dryRun": true`), 1)
			}
			resp, err := send(client, body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Allowed || resp.UID != "0b6f2c55-1d1a-4a0e-9a55-0000000000f1" || resp.Result == nil {
				t.Fatalf("allowed %v uid %q result %+v", resp.Allowed, resp.UID, resp.Result)
			}
			msg := resp.Result.Message
			for _, want := range []string{
				"2 image(s) refused",
				`image "` + host + `/strata/app:multi" (container "multi") ` + digestOf(t, amd) + ": malicious",
				`image "` + host + `/strata/app:v1" (container "app") ` + host + "/strata/app@" + digestOf(t, single) + ": not scanned yet",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if got := scanner.queued(); !slices.Equal(got, tt.queued) {
				t.Errorf("queued %q, want %q", got, tt.queued)
			}
		})
	}
}
