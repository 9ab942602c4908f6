package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Decisions a verdict store holds for a manifest digest.
const (
	Clean      = "clean"
	Malicious  = "malicious"
	Incomplete = "incomplete"
	Invalid    = "invalid"
)

// MaxBodyBytes bounds an AdmissionReview request body: the API server does
// not send objects larger than its own 3 MiB request limit.
const MaxBodyBytes = 3 << 20

// DefaultTimeout bounds the work on one review (registry look-ups, verdict
// reads, queueing scans): below the API server's default webhook timeout of
// 10 s, so the webhook answers with its own message instead of timing out.
const DefaultTimeout = 8 * time.Second

// maxParallel bounds the images of one review resolved at once.
const maxParallel = 4

// Verdicts looks up the stored verdict of a manifest digest ("sha256:..."):
// decision is one of "clean", "malicious", "incomplete", "invalid".
type Verdicts interface {
	Verdict(ctx context.Context, digest string) (decision string, found bool, err error)
}

// Scanner queues a scan of ref ("REGISTRY/REPO@sha256:...").
type Scanner interface {
	Enqueue(ctx context.Context, ref string) error
}

// Resolver turns an image reference of a Pod (tag or digest) into the
// manifest digest(s) the kubelet would run on linux/amd64 (for an index: the
// platform's manifest, then the index digest itself) and the reference
// pinned to the digest it resolved ("REGISTRY/REPO@sha256:...").
type Resolver interface {
	Resolve(ctx context.Context, ref string) (digests []string, canonical string, err error)
}

// Policy says which verdicts other than malicious refuse a Pod. A malicious
// verdict always does. The zero Policy denies only malicious images;
// DefaultPolicy and LoadPolicy start from denying everything not clean.
type Policy struct {
	// DenyIncomplete refuses images whose scan skipped content.
	DenyIncomplete bool `json:"denyIncomplete" yaml:"denyIncomplete"`
	// DenyInvalid refuses images whose scan failed integrity checks, and
	// decisions this package does not know.
	DenyInvalid bool `json:"denyInvalid" yaml:"denyInvalid"`
	// DenyUnscanned refuses images without a verdict yet (a scan is queued)
	// and images that could not be checked (registry or verdict store
	// unreachable, look-up timed out).
	DenyUnscanned bool `json:"denyUnscanned" yaml:"denyUnscanned"`
	// ExemptNamespaces are admitted without any check (e.g. kube-system,
	// the namespace strata itself runs in).
	ExemptNamespaces []string `json:"exemptNamespaces" yaml:"exemptNamespaces"`
}

// DefaultPolicy fails closed: only images with a clean verdict are admitted.
func DefaultPolicy() Policy {
	return Policy{DenyIncomplete: true, DenyInvalid: true, DenyUnscanned: true}
}

// Option configures Handler.
type Option func(*options)

type options struct {
	timeout time.Duration
}

// WithTimeout bounds the work on one review (default DefaultTimeout). The
// API server's own deadline, sent as the timeout query parameter, lowers it.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// Handler answers AdmissionReview v1 requests for Pods (containers,
// initContainers, ephemeralContainers, image volumes) and for objects with
// a pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// CronJob, ReplicationController). It refuses an object when an image's
// verdict is malicious, or incomplete, invalid, missing or unobtainable as
// p says; a missing verdict queues a scan except on dry-run requests.
func Handler(v Verdicts, s Scanner, r Resolver, p Policy, opts ...Option) http.Handler {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return &handler{v: v, s: s, r: r, p: p, o: o}
}

type handler struct {
	v Verdicts
	s Scanner
	r Resolver
	p Policy
	o options
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed: POST an AdmissionReview", req.Method)
		return
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		httpError(w, http.StatusUnsupportedMediaType, "content type %q not supported: send application/json (admissionReviewVersions: [\"v1\"])", req.Header.Get("Content-Type"))
		return
	}
	review, status, err := decodeReview(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
	if err != nil {
		httpError(w, status, "%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.timeout(req))
	defer cancel()
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: h.review(ctx, review.Request),
	}
	body, err := json.Marshal(out)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "encode response: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// timeout is the handler's bound, lowered to leave a second of the API
// server's own deadline (the timeout query parameter) for the answer.
func (h *handler) timeout(req *http.Request) time.Duration {
	d := h.o.timeout
	if q, err := time.ParseDuration(req.URL.Query().Get("timeout")); err == nil && q > 0 {
		if q > 2*time.Second {
			q -= time.Second
		} else {
			q = q * 3 / 4
		}
		d = min(d, q)
	}
	return d
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, "strata admission: "+format+"\n", args...)
}

// decodeReview reads an AdmissionReview v1 request and says which HTTP
// status a bad one deserves.
func decodeReview(r io.Reader) (*admissionv1.AdmissionReview, int, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body larger than %d bytes: the API server never sends one; check what is calling the webhook", MaxBodyBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %v", err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("request body is not an AdmissionReview: %v", err)
	}
	want := admissionv1.SchemeGroupVersion.String()
	switch {
	case review.APIVersion != want || review.Kind != "AdmissionReview":
		return nil, http.StatusBadRequest, fmt.Errorf("got apiVersion %q kind %q, want apiVersion %q kind \"AdmissionReview\": set admissionReviewVersions: [\"v1\"] in the webhook configuration", review.APIVersion, review.Kind, want)
	case review.Request == nil:
		return nil, http.StatusBadRequest, errors.New("AdmissionReview has no request")
	case review.Request.UID == "":
		return nil, http.StatusBadRequest, errors.New("AdmissionReview request has no uid")
	}
	return &review, http.StatusOK, nil
}

// review decides one admission request.
func (h *handler) review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if slices.Contains(h.p.ExemptNamespaces, req.Namespace) && req.Namespace != "" {
		return resp
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return resp
	}
	if req.SubResource != "" && req.SubResource != "ephemeralcontainers" {
		return resp
	}
	uses, err := imagesOf(req.Kind, req.Object.Raw)
	if err != nil {
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest,
			Reason: metav1.StatusReasonBadRequest, Message: "strata: " + err.Error()}
		return resp
	}
	if req.Operation == admissionv1.Update {
		uses = added(req.Kind, uses, req.OldObject.Raw)
	}
	dryRun := req.DryRun != nil && *req.DryRun
	checks := h.checkAll(ctx, uses, dryRun)

	var denied []string
	var causes []metav1.StatusCause
	for _, c := range checks {
		if c.state == Clean {
			continue
		}
		if !h.denies(c.state) {
			resp.Warnings = append(resp.Warnings, "strata: "+c.describe(dryRun, false))
			continue
		}
		denied = append(denied, c.describe(dryRun, true))
		for _, u := range c.uses {
			causes = append(causes, metav1.StatusCause{Type: metav1.CauseTypeForbidden, Field: u.field,
				Message: fmt.Sprintf("%s: %s", u.ref, c.short())})
		}
	}
	if len(denied) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: fmt.Sprintf("strata: %d image(s) refused: %s", len(denied), strings.Join(denied, "; ")),
			Details: &metav1.StatusDetails{Causes: causes}}
	}
	return resp
}

// added keeps the uses of images the old object did not name: an update
// that leaves the images alone (labels, replicas, a controller's
// bookkeeping) starts nothing new that its Pods' own admission does not
// check, and must not stall on a slow registry.
func added(kind metav1.GroupVersionKind, uses []imageUse, oldRaw []byte) []imageUse {
	old, err := imagesOf(kind, oldRaw)
	if err != nil {
		return uses
	}
	had := map[string]bool{}
	for _, u := range old {
		had[u.ref] = true
	}
	var out []imageUse
	for _, u := range uses {
		if !had[u.ref] {
			out = append(out, u)
		}
	}
	return out
}

// States of an image beyond the stored decisions.
const (
	unscanned = "unscanned" // no verdict for any of its digests
	unchecked = "unchecked" // resolving it or reading a verdict failed
)

// denies says whether the policy refuses an image in state.
func (h *handler) denies(state string) bool {
	switch state {
	case Clean:
		return false
	case Malicious:
		return true
	case Incomplete:
		return h.p.DenyIncomplete
	case unscanned, unchecked:
		return h.p.DenyUnscanned
	}
	return h.p.DenyInvalid // Invalid, or a decision this package does not know
}

// check is what was found out about one image reference.
type check struct {
	ref       string
	uses      []imageUse
	canonical string
	state     string
	digest    string // the digest whose verdict decided state
	decision  string // the stored decision when state is not one of ours
	err       error  // why the image is unchecked
	queued    bool
	queueErr  error
}

// checkAll checks each distinct reference once, in the order they appear.
func (h *handler) checkAll(ctx context.Context, uses []imageUse, dryRun bool) []*check {
	var checks []*check
	byRef := map[string]*check{}
	for _, u := range uses {
		c, ok := byRef[u.ref]
		if !ok {
			c = &check{ref: u.ref}
			byRef[u.ref] = c
			checks = append(checks, c)
		}
		c.uses = append(c.uses, u)
	}
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h.check(ctx, c, dryRun)
		}()
	}
	wg.Wait()
	return checks
}

// rank orders decisions by how bad they are; the worst verdict among an
// image's digests (index and platform manifest) is the image's.
func rank(decision string) int {
	switch decision {
	case Clean:
		return 0
	case Incomplete:
		return 1
	case Malicious:
		return 3
	}
	return 2 // Invalid and unknown decisions
}

func (h *handler) check(ctx context.Context, c *check, dryRun bool) {
	digests, canonical, err := h.r.Resolve(ctx, c.ref)
	if err != nil {
		// A reference pinned by digest can still be looked up: a malicious
		// verdict refuses it even while its registry is unreachable.
		_, d, ok := strings.Cut(c.ref, "@")
		if !ok || !strings.HasPrefix(d, "sha256:") {
			c.state, c.err = unchecked, fmt.Errorf("resolve: %w", err)
			return
		}
		digests, canonical = []string{d}, c.ref
		c.err = fmt.Errorf("resolve: %w", err)
	}
	c.canonical = canonical
	found, missing := false, 0
	var lookupErr error
	for _, d := range digests {
		decision, ok, err := h.v.Verdict(ctx, d)
		if err != nil {
			lookupErr = errors.Join(lookupErr, fmt.Errorf("read verdict of %s: %w", d, err))
			continue
		}
		if !ok {
			missing++
			continue
		}
		if !found || rank(decision) > rank(c.decision) {
			c.decision, c.digest, found = decision, d, true
		}
	}
	switch {
	case found && c.decision == Malicious:
		c.state = Malicious
	case lookupErr != nil:
		// Another digest's verdict might have been malicious.
		c.state, c.err = unchecked, errors.Join(c.err, lookupErr)
	case found && missing == 0:
		c.state = c.decision
		if c.decision != Clean && c.decision != Incomplete && c.decision != Invalid {
			c.state = Invalid
		}
	case c.err != nil:
		c.state = unchecked
	default:
		// No verdict, or not for every digest the image resolves to (an
		// index judged only through its amd64 child could hide a
		// malicious arm64 one): not scanned yet.
		c.state = unscanned
		switch {
		case dryRun || canonical == "":
		case h.s == nil:
			c.queueErr = errors.New("no scanner configured")
		default:
			c.queueErr = h.s.Enqueue(ctx, canonical)
			c.queued = c.queueErr == nil
		}
	}
}

// short is the state of the image in a few words.
func (c *check) short() string {
	switch c.state {
	case unscanned:
		return "not scanned yet"
	case unchecked:
		return "could not be checked"
	case Invalid:
		if c.decision != Invalid {
			return fmt.Sprintf("verdict %q is not one strata knows", c.decision)
		}
	}
	return c.state
}

// describe names the image, where the object uses it, its digest and its
// state, and what to do about it (if it was denied).
func (c *check) describe(dryRun, denied bool) string {
	where := make([]string, len(c.uses))
	for i, u := range c.uses {
		where[i] = u.where
	}
	s := fmt.Sprintf("image %q (%s)", c.ref, strings.Join(where, ", "))
	switch c.state {
	case unscanned:
		s += fmt.Sprintf(" %s: not scanned yet; ", c.canonical)
		switch {
		case dryRun:
			s += "dry run: no scan queued"
		case c.queued && denied:
			s += "scan queued; retry in a moment"
		case c.queued:
			s += "scan queued"
		default:
			s += fmt.Sprintf("queueing a scan failed (%v)", c.queueErr)
			if denied {
				s += "; retry later"
			}
		}
	case unchecked:
		s += fmt.Sprintf(": could not be checked: %v", c.err)
		if denied {
			s += "; retry, or check the registry and the verdict store"
		}
	default:
		s += fmt.Sprintf(" %s: %s", c.digest, c.short())
	}
	return s
}
