package admission

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files SelfSignedTLS writes into its directory (the names of a Kubernetes
// TLS secret, plus the CA for the webhook's caBundle).
const (
	CAFile   = "ca.crt"
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
)

// selfSignedValidity is how long generated certificates are valid;
// renewBefore is how close to expiry SelfSignedTLS replaces them.
const (
	selfSignedValidity = 365 * 24 * time.Hour
	renewBefore        = 30 * 24 * time.Hour
)

// SelfSignedTLS makes a private CA and a serving certificate signed by it
// for hosts (DNS names or IP addresses; for a webhook behind a Service,
// "SERVICE.NAMESPACE.svc"), writes CAFile, CertFile and KeyFile into dir,
// and returns the certificate and key paths and the CA in PEM, which is
// what a ValidatingWebhookConfiguration's caBundle holds (base64-encoded).
// Files already in dir are reused while they cover hosts and are valid for
// more than 30 days, so the caBundle survives restarts. The CA's key is
// never written: renewing makes a new CA. This is for tests and quick
// starts; in production let cert-manager or your own CA issue the serving
// certificate.
func SelfSignedTLS(dir string, hosts []string) (certFile, keyFile, caPEM string, err error) {
	if len(hosts) == 0 {
		return "", "", "", errors.New("self-signed TLS: no hosts: give the webhook Service's DNS name, e.g. strata-admission.strata.svc")
	}
	certFile, keyFile = filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	caPath := filepath.Join(dir, CAFile)
	if ca, ok := reusable(caPath, certFile, keyFile, hosts); ok {
		return certFile, keyFile, ca, nil
	}
	ca, cert, key, err := issue(hosts)
	if err != nil {
		return "", "", "", fmt.Errorf("self-signed TLS: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", fmt.Errorf("self-signed TLS: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyFile, key, 0o600}, {certFile, cert, 0o644}, {caPath, ca, 0o644}} {
		if err := writeFile(f.path, f.data, f.mode); err != nil {
			return "", "", "", fmt.Errorf("self-signed TLS: %w", err)
		}
	}
	return certFile, keyFile, string(ca), nil
}

// reusable returns the CA in caPath when the key pair in dir loads, chains
// to it, names every host and stays valid beyond renewBefore.
func reusable(caPath, certFile, keyFile string, hosts []string) (string, bool) {
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		return "", false
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || pair.Leaf == nil {
		return "", false
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return "", false
	}
	at := time.Now().Add(renewBefore)
	for _, h := range hosts {
		opts := x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := pair.Leaf.Verify(opts); err != nil {
			return "", false
		}
	}
	return string(caPEM), true
}

// issue returns a CA certificate, a serving certificate for hosts signed by
// it, and the serving key, all PEM.
func issue(hosts []string) (caPEM, certPEM, keyPEM []byte, err error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "strata admission webhook CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

// writeFile replaces path atomically, so a restart never reads half a key.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
