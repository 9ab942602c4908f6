package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/gate"
	"github.com/strata-sec/strata/gate/admission"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

func init() {
	register("serve", command{
		summary: "run the registry gate: take a registry's push notifications, queue scans on NATS JetStream (embedded, or --nats), scan, quarantine by policy, serve verdicts and /metrics",
		run:     runServe,
	})
}

const serveHelp = `
HTTP API (see README.md, "Run strata in front of a registry"):
  POST /v1/notifications     the registry's notification endpoint; needs
                             "Authorization: Bearer TOKEN" (--token-file or
                             $STRATA_GATE_TOKEN)
  GET  /v1/verdicts/DIGEST   the verdict of a manifest (404: none yet)
  GET  /v1/verdicts          every verdict; ?repository=REPO&decision=D filter
  GET  /metrics              Prometheus text format
  GET  /healthz              200 while the queue answers
  POST /v1/admission         Kubernetes validating admission webhook
                             (AdmissionReview v1; HTTPS: --tls-cert/--tls-key;
                             --admission-policy)

Verdicts and queued jobs live in --data (embedded NATS) and survive a
restart. With --nats URL the queue is an existing NATS cluster with
JetStream, and any number of 'strata worker --nats URL' share it.
`

// tokenEnv names the environment variable holding the notification token.
const tokenEnv = "STRATA_GATE_TOKEN"

// detectorFlags are the scan flags a gate's workers take.
type detectorFlags struct {
	signals, knownSamples, cache *string
	insecure                     *bool
	scanTimeout                  *time.Duration
}

func addDetectorFlags(fs *flag.FlagSet) detectorFlags {
	return detectorFlags{
		signals:      fs.String("signals", "all", "evidence to use, comma-separated: "+strings.Join(hierarchical.AllSignals(), ",")+" (or all)"),
		knownSamples: fs.String("known-samples", "", "JSON-lines file of known malicious samples for the hash signal, e.g. results/exp1/"+experiments.KnownSamplesFile),
		cache:        fs.String("cache", "", "also keep per-layer results in this directory, shared by workers on this machine and kept across restarts (default: a bounded in-memory cache per worker)"),
		insecure:     fs.Bool("insecure", false, "pull from and delete on plain-HTTP or self-signed registries"),
		scanTimeout:  fs.Duration("scan-timeout", gate.DefaultScanTimeout, "bound on one scan job; a slower one (a registry feeding a layer byte by byte) gets an \"error\" verdict"),
	}
}

// detector builds the hierarchical detector f asks for. Unlike a one-off
// strata scan, a gate worker keeps per-layer results in a bounded
// in-memory cache by default: the images pushed to one registry share
// base layers, which are then analysed once per worker.
func (f detectorFlags) detector() (*hierarchical.Detector, error) {
	if *f.cache != "" {
		return scanDetector(*f.signals, *f.knownSamples, *f.cache)
	}
	return scanDetector(*f.signals, *f.knownSamples, "", hierarchical.WithLayerCache(layercache.New()))
}

// workers starts n workers scanning q's jobs with det; wait returns once
// ctx has ended and every worker has stopped.
func (f detectorFlags) workers(ctx context.Context, det *hierarchical.Detector, q *gate.Queue, s *gate.Store, n int, id string, log io.Writer) (wait func()) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wid := id
		if n > 1 {
			wid = fmt.Sprintf("%s-%d", id, i+1)
		}
		w := gate.NewWorker(q, s, det, gate.WithWorkerID(wid), gate.WithInsecure(*f.insecure), gate.WithLog(log), gate.WithScanTimeout(*f.scanTimeout))
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
	}
	return wg.Wait
}

// defaultWorkerID names a worker by host and process.
func defaultWorkerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "", stderr)
	usage := fs.Usage
	fs.Usage = func() { usage(); fmt.Fprint(stderr, serveHelp) }
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address of the API and the notification endpoint")
	data := fs.String("data", "", "directory of the embedded NATS server's streams (default: strata/gate in the user cache dir)")
	natsURL := fs.String("nats", "", "use this NATS server or cluster (JetStream enabled) instead of the embedded one, e.g. nats://10.0.0.5:4222")
	natsListen := fs.String("nats-listen", "127.0.0.1:4222", "client address of the embedded NATS server, for 'strata worker --nats' (port 0: any free port)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token the registry sends with notifications (default: $"+tokenEnv+")")
	policyFile := fs.String("policy", "", "JSON policy file: per repository glob, record or quarantine malicious images (default: record everything)")
	registry := fs.String("registry", "", "required: the registry (host:port, as the workers reach it) whose notifications this gate takes; jobs always name it, never the host an event names (that comes from the pusher's Host header); the policy's quarantine applies to it only")
	workers := fs.Int("workers", 1, "scan workers inside this process (0: only 'strata worker' processes scan)")
	ackWait := fs.Duration("ack-wait", gate.DefaultAckWait, "a job not acknowledged and without a progress signal for this long goes to another worker")
	maxDeliver := fs.Int("max-deliver", gate.DefaultMaxDeliver, "attempts per job; the last failure, or a job whose every attempt died mid-scan, stores an \"error\" verdict")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; Kubernetes calls admission webhooks only over HTTPS")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	admissionPolicy := fs.String("admission-policy", "", "YAML or JSON policy of the admission webhook at POST /v1/admission (default: admit only images judged clean; see gate/admission/README.md)")
	df := addDetectorFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("serve takes no arguments, got %q", pos)
	}
	if *registry == "" {
		fs.Usage()
		return fmt.Errorf("give --registry HOST:PORT, the registry this gate fronts: the gate never trusts the host a notification names")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fmt.Errorf("give both --tls-cert and --tls-key, or neither")
	}
	if *workers < 0 || *ackWait <= 0 || *maxDeliver < 1 {
		return fmt.Errorf("--workers must be >= 0, --ack-wait positive and --max-deliver >= 1")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	var policy *gate.Policy
	if *policyFile != "" {
		if policy, err = gate.ReadPolicy(*policyFile); err != nil {
			return fmt.Errorf("--policy %s: %w", *policyFile, err)
		}
	}
	admPolicy := admission.DefaultPolicy()
	if *admissionPolicy != "" {
		if admPolicy, err = admission.LoadPolicy(*admissionPolicy); err != nil {
			return fmt.Errorf("--admission-policy %s: %w", *admissionPolicy, err)
		}
	}
	det, err := df.detector()
	if err != nil {
		return err
	}

	nc, shutdownNATS, natsAt, err := serveNATS(*natsURL, *data, *natsListen)
	if err != nil {
		return err
	}
	defer shutdownNATS()
	q, s, err := gate.Open(ctx, nc, gate.WithAckWait(*ackWait), gate.WithMaxDeliver(*maxDeliver), gate.WithPolicy(policy),
		gate.WithDetector(gate.DetectorID(det.Name(), det.Version())), gate.WithRegistry(*registry))
	if err != nil {
		return err
	}
	srv, err := gate.NewServer(q, s, token, stderr)
	if err != nil {
		return err
	}
	srv.FrontRegistry(*registry)
	// The Kubernetes admission webhook: verdicts from the bucket, unknown
	// images queued for a scan, tags resolved at the registry.
	srv.Handle("POST /v1/admission", admission.Handler(s, q, admission.RegistryResolver(), admPolicy))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "strata serve: HTTP on %s://%s\nstrata serve: NATS on %s\n", scheme, ln.Addr(), natsAt)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer df.workers(ctx, det, q, s, *workers, defaultWorkerID(), stderr)()
	go func() { _ = srv.Watch(ctx) }()
	go func() { _ = srv.FailExhausted(ctx) }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = hs.Shutdown(sctx)
	cancel()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveNATS connects to url, or starts the embedded server storing in
// dataDir and listening on listen when url is empty.
func serveNATS(url, dataDir, listen string) (nc *nats.Conn, shutdown func(), at string, err error) {
	if url != "" {
		nc, err := gate.Connect(url, "strata serve")
		if err != nil {
			return nil, nil, "", err
		}
		return nc, nc.Close, url, nil
	}
	if dataDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, nil, "", fmt.Errorf("no user cache dir (%v): give --data DIR", err)
		}
		dataDir = filepath.Join(cache, "strata", "gate")
	}
	ns, err := gate.StartNATS(dataDir, listen)
	if err != nil {
		return nil, nil, "", err
	}
	nc, err = ns.Connect()
	if err != nil {
		ns.Shutdown()
		return nil, nil, "", err
	}
	return nc, func() { nc.Close(); ns.Shutdown() }, ns.ClientURL(), nil
}

// readToken reads the notification token from file, or from $STRATA_GATE_TOKEN.
func readToken(file string) (string, error) {
	if file == "" {
		if t := strings.TrimSpace(os.Getenv(tokenEnv)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("the notification endpoint needs a bearer token: put one in a file and pass --token-file FILE (or set $%s), and give the registry the same in its notifications endpoint headers", tokenEnv)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("--token-file %s is empty: write a random token into it", file)
	}
	return t, nil
}
