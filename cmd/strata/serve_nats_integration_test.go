package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/strata-sec/strata/gate"
	"github.com/strata-sec/strata/internal/testenv"
)

// startJetStream runs a standalone NATS server with JetStream on a
// loopback port, as an operator's existing cluster would be: strata serve
// only connects to it.
func startJetStream(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{ServerName: "existing-nats", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		t.Fatal("standalone NATS did not start within 30s")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

// TestGateExternalNATS: `strata serve --nats URL --workers 0` and two
// `strata worker --nats URL` processes on a NATS server that serve does
// not own; Debian's docker-registry notifies serve; every pushed image
// gets one verdict, from one of the two workers, and the queue and the
// verdicts live on that server.
func TestGateExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs Debian's docker-registry and child processes (run without -short; `make test` does)")
	}
	natsURL := startJetStream(t)
	dir := t.TempDir()
	const token = "external-nats-token"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// serve needs the registry's address and the registry serve's: a
	// proxy (never stalling here) breaks the cycle, as in TestGate.
	proxy := newStallProxy(t, 0)
	srv := startServe(t, "--listen", "127.0.0.1:0", "--nats", natsURL, "--token-file", tokenFile,
		"--registry", proxy.host(), "--workers", "0", "--insecure")
	if srv.nats != natsURL {
		t.Fatalf("serve reports NATS on %s, want the standalone %s", srv.nats, natsURL)
	}
	reg := testenv.Registry(t, testenv.RegistryNotify(srv.http+"/v1/notifications", token))
	proxy.to(reg)
	workers := map[string]bool{"wA": true, "wB": true}
	for id := range workers {
		startWorker(t, natsURL, id)
	}

	imgs := map[string]v1.Image{
		"dev/a:1":     regCleanImage(t, "amd64", ""),
		"dev/b:1":     regCleanImage(t, "arm64", ""),
		"dev/miner:1": regMinerImage(t, "amd64"),
	}
	want := map[string]string{}
	for repoTag, img := range imgs {
		ref, err := name.NewTag(reg+"/"+repoTag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
		want[digestOf(t, img)] = "clean"
	}
	want[digestOf(t, imgs["dev/miner:1"])] = "malicious"
	for d, dec := range want {
		rec := verdict(t, srv.http, d)
		if rec.Decision != dec || !workers[rec.Worker] || rec.Attempts != 1 {
			t.Errorf("%s: %s by %q on attempt %d, want %s by wA or wB on attempt 1", d, rec.Decision, rec.Worker, rec.Attempts, dec)
		}
	}
	var list struct{ Verdicts []gate.Record }
	if getJSON(t, srv.http+"/v1/verdicts", &list) != http.StatusOK || len(list.Verdicts) != len(want) {
		t.Errorf("%d verdicts, want one for each of %d pushed images", len(list.Verdicts), len(want))
	}

	// The queue and the bucket are the standalone server's.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, gate.BucketName)
	if err != nil {
		t.Fatalf("bucket %s on the standalone server: %v", gate.BucketName, err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range keys.Keys() {
		n++
	}
	if n != len(want) {
		t.Errorf("%d verdicts in the standalone server's bucket, want %d", n, len(want))
	}
	if _, err := js.Stream(ctx, gate.StreamName); err != nil {
		t.Errorf("stream %s on the standalone server: %v", gate.StreamName, err)
	}
}
