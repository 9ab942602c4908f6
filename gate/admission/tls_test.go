package admission_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/gate/admission"
)

// verifyFor checks that the key pair in dir is served for host under caPEM.
func verifyFor(t *testing.T, certFile, keyFile, caPEM, host string) error {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatal("caPEM holds no certificate")
	}
	_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestSelfSignedTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	hosts := []string{"strata-admission.strata.svc", "127.0.0.1"}
	cert, key, ca, err := admission.SelfSignedTLS(dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if cert != filepath.Join(dir, admission.CertFile) || key != filepath.Join(dir, admission.KeyFile) {
		t.Errorf("paths %s %s", cert, key)
	}
	for _, h := range hosts {
		if err := verifyFor(t, cert, key, ca, h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := verifyFor(t, cert, key, ca, "other.example"); err == nil {
		t.Error("certificate also valid for other.example")
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
	if onDisk, err := os.ReadFile(filepath.Join(dir, admission.CAFile)); err != nil || string(onDisk) != ca {
		t.Errorf("%s does not hold the returned CA (%v)", admission.CAFile, err)
	}

	// A restart with the same hosts keeps the CA, so the caBundle stays.
	_, _, again, err := admission.SelfSignedTLS(dir, hosts)
	if err != nil || again != ca {
		t.Errorf("second call made a new CA (%v)", err)
	}
	// New hosts need a new certificate.
	_, _, other, err := admission.SelfSignedTLS(dir, []string{"webhook.strata.svc"})
	if err != nil || other == ca {
		t.Errorf("new hosts kept the old CA (%v)", err)
	}
	if err := verifyFor(t, cert, key, other, "webhook.strata.svc"); err != nil {
		t.Error(err)
	}
	// A damaged key is replaced, not served.
	if err := os.WriteFile(key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, fixed, err := admission.SelfSignedTLS(dir, []string{"webhook.strata.svc"}); err != nil || fixed == other {
		t.Errorf("damaged key reused (%v)", err)
	}

	if _, _, _, err := admission.SelfSignedTLS(dir, nil); err == nil || !strings.Contains(err.Error(), "no hosts") {
		t.Errorf("no hosts: %v", err)
	}
}
