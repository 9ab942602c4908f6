package buildkit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/internal/buildkit"
	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const dockerfile = `FROM busybox:stable
RUN echo hello > /greeting && mkdir -p /opt/app
COPY app.txt /opt/app/app.txt
ENV MODE=test
WORKDIR /opt/app
ENTRYPOINT ["/bin/sh", "-c", "cat /greeting"]
`

func build(t *testing.T, st *store.Store, epoch *time.Time, noCache bool) *buildkit.Result {
	t.Helper()
	ctx := context.Background()
	b, err := buildkit.NewBuilder(ctx, testenv.BuildkitAddr(t), st)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bb, err := base.Busybox(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.txt"), []byte("app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	res, err := b.Build(ctx, buildkit.Request{
		ContextDir: dir,
		Dockerfile: []byte(dockerfile),
		BaseImages: map[string]v1.Hash{base.BusyboxName: bb.Digest},
		Epoch:      epoch,
		NoCache:    noCache,
		Progress:   &progress,
		Name:       "test/app",
	})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, progress.String())
	}
	return res
}

func TestBuildFromStoreBase(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(1700000000, 0)
	res := build(t, st, &epoch, false)
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := res.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	// busybox base layer + RUN + COPY + WORKDIR(mkdir)
	if len(layers) != 4 {
		t.Errorf("got %d layers, want 4", len(layers))
	}
	var sawRun bool
	for _, h := range cf.History[1:] {
		if h.Comment != "buildkit.dockerfile.v0" {
			t.Errorf("history %q has comment %q, want buildkit.dockerfile.v0", h.CreatedBy, h.Comment)
		}
		if strings.HasPrefix(h.CreatedBy, "RUN /bin/sh -c echo hello") {
			sawRun = true
		}
		if !h.Created.Time.Equal(epoch) {
			t.Errorf("history %q created %v, want SOURCE_DATE_EPOCH %v", h.CreatedBy, h.Created.Time, epoch)
		}
	}
	if !sawRun {
		t.Errorf("no RUN history entry in %+v", cf.History)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/bin/sh -c cat /greeting" {
		t.Errorf("entrypoint = %q", got)
	}
	if err := st.Register(res.Descriptor, "test/app", map[string]string{store.AnnLabel: "benign"}); err != nil {
		t.Fatal(err)
	}
	e, err := st.Lookup("test/app")
	if err != nil || e.Descriptor.Digest != res.Descriptor.Digest || e.Annotation(store.AnnLabel) != "benign" {
		t.Fatalf("lookup = %+v, %v", e, err)
	}

	// Reproducible: the same inputs without BuildKit's cache give the same digest.
	again := build(t, st, &epoch, true)
	if again.Descriptor.Digest != res.Descriptor.Digest {
		t.Errorf("rebuild without cache: digest %s, want %s", again.Descriptor.Digest, res.Descriptor.Digest)
	}
}

func TestWaitOrAbandon(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	err := buildkit.WaitOrAbandonForTest(ctx, func() error { <-block; return nil }, 50*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v, want an abandonment error soon after cancel", err, time.Since(start))
	}
	if err := buildkit.WaitOrAbandonForTest(context.Background(), func() error { return nil }, time.Second); err != nil {
		t.Fatalf("uncancelled wait: %v", err)
	}
}
