package hostile

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
)

// miner is content the hierarchical detector calls malicious on its own
// (miner binary name + stratum URL), to show a trick did not hide it.
var miner = dt.Exec("usr/local/bin/xmrig", "#!/bin/sh\nexec xmrig -o stratum+tcp://pool.example.org:3333 -u x\n")

// canary is a host path a layer tries to write; the scan must never create it.
var canary = filepath.Join(os.TempDir(), fmt.Sprintf("strata-hostile-%d-%d", os.Getpid(), time.Now().UnixNano()))

type entry struct {
	hdr  tar.Header
	body []byte
}

// rawTar writes entries with archive/tar, trusting the headers (sizes are
// taken from the body for regular files unless set).
func rawTar(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(e.body))
		}
		if h.Format == 0 {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("header %q: %v", h.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatalf("body %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func files(t testing.TB, fs ...dt.File) []byte {
	t.Helper()
	b, err := dt.Tar(fs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte { return dt.Gzip(t, b, gzip.BestSpeed) }

// zeroBomb is a gzip-ed tar with one file of n zero bytes, built streaming.
func zeroBomb(t testing.TB, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: n}); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(chunk)) {
		if left < int64(len(chunk)) {
			chunk = chunk[:left]
		}
		if _, err := tw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sparseTar is a tar with one old-GNU sparse file ('S') of logical size
// size whose only data is 512 bytes at offset 0.
func sparseTar(t testing.TB, size int64) []byte {
	t.Helper()
	b := rawTar(t, entry{hdr: tar.Header{Name: "sparse", Format: tar.FormatGNU, Size: 512}, body: bytes.Repeat([]byte("S"), 512)})
	h := b[:512]
	h[156] = 'S'
	octal := func(off, n int, v int64) {
		s := strconv.FormatInt(v, 8)
		field := h[off : off+n]
		for i := range field {
			field[i] = '0'
		}
		copy(field[n-1-len(s):], s)
		field[n-1] = 0
	}
	octal(386, 12, 0)   // sparse[0].offset
	octal(398, 12, 512) // sparse[0].numbytes
	h[482] = 0          // not extended
	// realsize in base-256 (GNU), as 1 TiB does not fit in 11 octal digits.
	rs := h[483 : 483+12]
	for i := range rs {
		rs[i] = 0
	}
	rs[0] = 0x80
	for i, v := 11, size; i > 0 && v > 0; i, v = i-1, v>>8 {
		rs[i] = byte(v)
	}
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func manyFiles(t testing.TB, n int) []byte {
	es := make([]entry, n)
	for i := range es {
		es[i] = entry{hdr: tar.Header{Name: fmt.Sprintf("d/f%07d", i)}, body: []byte("x")}
	}
	return rawTar(t, es...)
}

func cut(b []byte, n int) []byte { return append([]byte(nil), b[:n]...) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}

func history(n int) []v1.History {
	hs := make([]v1.History, n)
	for i := range hs {
		hs[i] = v1.History{CreatedBy: fmt.Sprintf("RUN /bin/sh -c echo %d # buildkit", i), EmptyLayer: true}
	}
	return hs
}

type tcase struct {
	name  string
	check string // what the case checks
	img   func(t *testing.T) v1.Image
	opts  []layers.WalkOption
	// Exactly one of wantErr or want* describes the outcome.
	wantErr      string             // substring of the scan error
	wantIssues   []layers.IssueKind // issue kinds that must be reported
	wantDecision detectors.Decision // "" = anything but clean when content went unscanned
	wantPaths    []string           // paths that must be in the final view
	wantAbsent   []string           // paths that must not be
}

func one(t *testing.T, b dt.Blob) v1.Image { return dt.RawImage(t, v1.ConfigFile{}, b) }

func cases() []tcase {
	return []tcase{
		{name: "tar-bomb-declared-size", check: "a header declaring 1 TiB with little data behind it is cut short, not trusted",
			img: func(t *testing.T) v1.Image {
				var buf bytes.Buffer
				tw := tar.NewWriter(&buf)
				tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
				tw.Write([]byte("a"))
				tw.Flush()
				tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 40})
				tw.Write(make([]byte, 4096)) // stream ends here
				return one(t, dt.Blob{Data: gz(t, buf.Bytes()), DiffID: dt.Hash(nil)})
			},
			wantIssues: []layers.IssueKind{layers.IssueLayerTruncated}},
		{name: "tar-bomb-layer-bytes", check: "a highly compressible layer larger than MaxLayerUncompressedBytes is cut",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: zeroBomb(t, 48<<20), DiffID: dt.Hash(nil)})
			},
			opts:       []layers.WalkOption{layers.WithMaxLayerUncompressedBytes(8 << 20)},
			wantIssues: []layers.IssueKind{layers.IssueLayerBytesLimit}},
		{name: "gzip-bomb-image-budget", check: "the image byte budget (scaled down 1024x) stops a ~1000:1 gzip bomb while streaming",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: zeroBomb(t, 160<<20), DiffID: dt.Hash(nil)})
			},
			opts:       []layers.WalkOption{layers.WithMaxTotalBytes(layers.DefaultMaxTotalBytes / 1024)},
			wantIssues: []layers.IssueKind{layers.IssueTotalLimit}},
		{name: "compressed-size-declared", check: "a descriptor over MaxLayerBytes is refused before the blob is opened (the blob is missing)",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, miner)), Size: 5 << 30, Missing: true})
			},
			opts:       []layers.WalkOption{layers.WithMaxLayerBytes(4 << 30)},
			wantIssues: []layers.IssueKind{layers.IssueLayerSizeLimit}},
		{name: "compressed-size-streamed", check: "a blob longer than MaxLayerBytes is cut while streaming even if the descriptor lies",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, append(files(t, dt.Text("a", "a")), randomBytes(64<<10)...)), Size: 100})
			},
			opts:       []layers.WalkOption{layers.WithMaxLayerBytes(1000)},
			wantIssues: []layers.IssueKind{layers.IssueLayerSizeLimit}},
		{name: "million-files-lowered-limit", check: "entries beyond MaxEntries are not applied and reported",
			img:        func(t *testing.T) v1.Image { return one(t, dt.Blob{Data: gz(t, manyFiles(t, 5000))}) },
			opts:       []layers.WalkOption{layers.WithMaxEntries(1000)},
			wantIssues: []layers.IssueKind{layers.IssueEntryLimit},
			wantAbsent: []string{"d/f0004999"}},
		{name: "million-files-default-scaled", check: "the default entry limit scaled down 1024x behaves like the default",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, manyFiles(t, layers.DefaultMaxEntries/1024+1))})
			},
			opts:       []layers.WalkOption{layers.WithMaxEntries(layers.DefaultMaxEntries / 1024)},
			wantIssues: []layers.IssueKind{layers.IssueEntryLimit}},
		{name: "huge-sparse-file", check: "a 1 TiB sparse file is read up to MaxFileBytes only and reported",
			img:        func(t *testing.T) v1.Image { return one(t, dt.Blob{Data: gz(t, sparseTar(t, 1<<40))}) },
			opts:       []layers.WalkOption{layers.WithMaxFileBytes(1 << 20)},
			wantIssues: []layers.IssueKind{layers.IssueFileLimit},
			wantPaths:  []string{"sparse"}},
		{name: "dotdot-traversal", check: "../ entries are skipped and reported as not scanned (never clean), nothing is written to the host",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t,
					entry{hdr: tar.Header{Name: "../../../../../../../.." + canary}, body: []byte("x")},
					entry{hdr: tar.Header{Name: "a/../../escape"}, body: []byte("x")},
					entry{hdr: tar.Header{Name: "ok"}, body: []byte("x")}))})
			},
			wantIssues:   []layers.IssueKind{layers.IssuePathEscape, layers.IssuePathEscape},
			wantDecision: detectors.Invalid, // a crafted entry is an integrity error: never clean
			wantPaths:    []string{"ok"}},
		{name: "absolute-paths", check: "/abs names are taken relative to the layer root",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: canary}, body: []byte("x")}))})
			},
			wantDecision: detectors.Clean,
			wantPaths:    []string{strings.TrimPrefix(canary, "/")}},
		{name: "absolute-symlinks-and-loops", check: "absolute symlinks and link loops are recorded, never followed; ENTRYPOINT resolution terminates",
			img: func(t *testing.T) v1.Image {
				img := dt.RawImage(t, v1.ConfigFile{Config: v1.Config{Entrypoint: []string{"/bin/a"}}}, dt.Blob{Data: gz(t, files(t,
					dt.Symlink("bin/a", "/bin/b"), dt.Symlink("bin/b", "/bin/a"), dt.Symlink("self", "self"),
					dt.Symlink("etc", "/etc"), dt.Symlink("host", canary)))})
				return img
			},
			wantDecision: detectors.Clean,
			wantPaths:    []string{"bin/a", "bin/b", "self", "host"}},
		{name: "hardlinks-outside-and-missing", check: "hardlinks out of the root are reported, to missing targets recorded",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, dt.Hardlink("out", "../../etc/passwd"), dt.Hardlink("gone", "no/such"),
					dt.Hardlink("h1", "h2"), dt.Hardlink("h2", "h1")))})
			},
			wantIssues: []layers.IssueKind{layers.IssuePathEscape},
			wantPaths:  []string{"out", "gone", "h1", "h2"}},
		{name: "duplicate-entries", check: "a path written twice in one layer keeps both versions and both are scanned",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, miner, dt.Text(miner.Name, "benign")))})
			},
			wantDecision: detectors.Malicious},
		{name: "truncated-gzip", check: "gzip cut after the first entry: entries read are scanned, the layer is incomplete",
			img: func(t *testing.T) v1.Image {
				b := gz(t, files(t, dt.Text("first", "1"), dt.Text("second", string(randomBytes(256<<10)))))
				return one(t, dt.Blob{Data: cut(b, len(b)/2)})
			},
			wantIssues: []layers.IssueKind{layers.IssueLayerTruncated},
			wantPaths:  []string{"first"}},
		{name: "truncated-gzip-before-first-entry", check: "gzip cut inside the first header: the layer cannot be read at all, an error",
			img: func(t *testing.T) v1.Image {
				b := gz(t, files(t, dt.Text("first", string(randomBytes(4096)))))
				return one(t, dt.Blob{Data: cut(b, 30)})
			},
			wantErr: "read layer 0 (sha256:"},
		{name: "truncated-tar-mid-file", check: "plain tar cut inside a file's data is incomplete",
			img: func(t *testing.T) v1.Image {
				b := files(t, dt.Text("first", "1"), dt.Text("second", string(randomBytes(8192))))
				return one(t, dt.Blob{Data: cut(b, len(b)-4000), MediaType: types.OCIUncompressedLayer})
			},
			wantIssues: []layers.IssueKind{layers.IssueLayerTruncated}},
		{name: "truncated-tar-at-entry-boundary", check: "a tar without its end-of-archive marker is incomplete, not complete",
			img: func(t *testing.T) v1.Image {
				b := files(t, dt.Text("first", "1"))
				return one(t, dt.Blob{Data: cut(b, len(b)-1024), MediaType: types.OCIUncompressedLayer})
			},
			wantIssues: []layers.IssueKind{layers.IssueLayerTruncated}},
		{name: "corrupt-gzip-header", check: "gzip magic followed by garbage is an error naming the layer",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: append([]byte{0x1f, 0x8b, 0x99, 0xff}, randomBytes(100)...)})
			},
			wantErr: "open layer 0 (sha256:"},
		{name: "corrupt-gzip-checksum", check: "a gzip stream whose CRC is wrong (seen after the tar's end) leaves the layer unverified",
			img: func(t *testing.T) v1.Image {
				b := gz(t, files(t, dt.Text("first", "1"), dt.Text("second", "2")))
				b[len(b)-8] ^= 0xff // CRC32
				return one(t, dt.Blob{Data: b})
			},
			wantIssues: []layers.IssueKind{layers.IssueDigestMismatch}},
		{name: "wrong-layer-digest", check: "a blob that does not hash to the manifest digest is a digest-mismatch issue",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, dt.Text("a", "a"))), Digest: dt.Hash([]byte("something else"))})
			},
			wantIssues: []layers.IssueKind{layers.IssueDigestMismatch}},
		{name: "wrong-diffid", check: "content that does not hash to the config's diffID is a digest-mismatch issue",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, dt.Text("a", "a"))), DiffID: dt.Hash([]byte("other"))})
			},
			wantIssues: []layers.IssueKind{layers.IssueDigestMismatch}},
		{name: "missing-blob", check: "a manifest naming a blob that is not there is an error",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, files(t, dt.Text("a", "a"))), Missing: true})
			},
			wantErr: "not found"},
		{name: "history-100k", check: "100,000 history entries are capped and reported, in bounded time",
			img: func(t *testing.T) v1.Image {
				hs := append(history(100000), v1.History{CreatedBy: "RUN x # buildkit"})
				return dt.RawImage(t, v1.ConfigFile{History: hs}, dt.Blob{Data: gz(t, files(t, dt.Text("a", "a")))})
			},
			opts:       []layers.WalkOption{layers.WithMaxConfigBytes(32 << 20)},
			wantIssues: []layers.IssueKind{layers.IssueHistoryLimit}},
		{name: "config-too-large", check: "a config over MaxConfigBytes is an error",
			img: func(t *testing.T) v1.Image {
				return dt.RawImage(t, v1.ConfigFile{History: history(1000)}, dt.Blob{Data: gz(t, files(t, dt.Text("a", "a")))})
			},
			opts:    []layers.WalkOption{layers.WithMaxConfigBytes(1000)},
			wantErr: "more than the 1000"},
		{name: "non-utf8-names", check: "names that are not UTF-8 are scanned like any other",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: "bad\xff\xfe/na\x80me"}, body: []byte("x")}))})
			},
			wantDecision: detectors.Clean,
			wantPaths:    []string{"bad\xff\xfe/na\x80me"}},
		{name: "whiteout-of-root", check: ".wh.. / .wh... do not whiteout the root or a parent; hidden content is still scanned",
			img: func(t *testing.T) v1.Image {
				return dt.RawImage(t, v1.ConfigFile{},
					dt.Blob{Data: gz(t, files(t, miner))},
					dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: ".wh.."}}, entry{hdr: tar.Header{Name: "usr/local/.wh..."}},
						entry{hdr: tar.Header{Name: ".wh."}})), MediaType: types.OCILayer})
			},
			wantIssues:   []layers.IssueKind{layers.IssuePathEscape},
			wantDecision: detectors.Malicious},
		{name: "opaque-root", check: "an opaque marker at the root hides every lower entry, which is still scanned",
			img: func(t *testing.T) v1.Image {
				return dt.RawImage(t, v1.ConfigFile{},
					dt.Blob{Data: gz(t, files(t, miner))},
					dt.Blob{Data: gz(t, files(t, dt.Opaque("")))})
			},
			wantDecision: detectors.Malicious},
		{name: "whiteout-dotdot", check: ".wh. entries with .. in the name cannot reach outside their layer's root",
			img: func(t *testing.T) v1.Image {
				return dt.RawImage(t, v1.ConfigFile{},
					dt.Blob{Data: gz(t, files(t, miner))},
					dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: "../.wh.usr"}}, entry{hdr: tar.Header{Name: "x/../../.wh.usr"}},
						entry{hdr: tar.Header{Name: ".wh.../usr"}})), MediaType: types.OCILayer})
			},
			wantIssues:   []layers.IssueKind{layers.IssuePathEscape},
			wantDecision: detectors.Malicious},
		{name: "devices-and-fifos", check: "char/block devices and fifos are recorded, never read",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t,
					entry{hdr: tar.Header{Name: "dev/mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1}},
					entry{hdr: tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8}},
					entry{hdr: tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo}}))})
			},
			wantDecision: detectors.Clean,
			wantPaths:    []string{"dev/mem", "dev/sda", "run/fifo"}},
		{name: "name-10KB", check: "a 10 KB name is skipped and reported (path-limit)",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: strings.Repeat("n", 10<<10)}, body: []byte("x")}))})
			},
			wantIssues: []layers.IssueKind{layers.IssuePathLimit}},
		{name: "depth-10000", check: "a path 10,000 directories deep is skipped and reported, quickly",
			img: func(t *testing.T) v1.Image {
				var es []entry
				p := "a"
				for i := 0; i < 10000; i++ {
					if i%1000 == 0 || i == 9999 {
						es = append(es, entry{hdr: tar.Header{Name: p + "/", Typeflag: tar.TypeDir, Mode: 0o755}})
					}
					p += "/a"
				}
				es = append(es, entry{hdr: tar.Header{Name: p}, body: []byte("x")})
				return one(t, dt.Blob{Data: gz(t, rawTar(t, es...))})
			},
			wantIssues: []layers.IssueKind{layers.IssuePathLimit},
			wantPaths:  []string{"a"}},
		{name: "depth-over-limit-short-name", check: "depth is limited independently of length",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, rawTar(t, entry{hdr: tar.Header{Name: strings.Repeat("a/", 300) + "f"}, body: []byte("x")}))})
			},
			wantIssues: []layers.IssueKind{layers.IssuePathLimit}},
		{name: "zstd-valid", check: "zstd layers are supported and scanned",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: dt.Zstd(t, files(t, miner)), MediaType: types.OCILayerZStd})
			},
			wantDecision: detectors.Malicious},
		{name: "zstd-truncated", check: "a truncated zstd layer is incomplete (or an error before the first entry)",
			img: func(t *testing.T) v1.Image {
				b := dt.Zstd(t, files(t, dt.Text("first", "1"), dt.Text("second", string(randomBytes(256<<10)))))
				return one(t, dt.Blob{Data: cut(b, len(b)/2), MediaType: types.OCILayerZStd})
			},
			wantIssues: []layers.IssueKind{layers.IssueLayerTruncated}},
		{name: "empty-blob", check: "a zero-byte layer is an empty layer: complete and clean",
			img:          func(t *testing.T) v1.Image { return one(t, dt.Blob{Data: nil, MediaType: types.OCIUncompressedLayer}) },
			wantDecision: detectors.Clean},
		{name: "empty-tar", check: "a gzip-ed empty tar is complete and clean",
			img:          func(t *testing.T) v1.Image { return one(t, dt.Blob{Data: gz(t, files(t))}) },
			wantDecision: detectors.Clean},
		{name: "not-a-tar", check: "a layer that is not a tar at all is an error naming the layer",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: gz(t, randomBytes(4096))})
			},
			wantErr: "read layer 0 (sha256:"},
		{name: "not-a-tar-tiny", check: "a few bytes of text as a layer is an error",
			img: func(t *testing.T) v1.Image {
				return one(t, dt.Blob{Data: []byte("hello"), MediaType: types.OCIUncompressedLayer})
			},
			wantErr: "read layer 0 (sha256:"},
	}
}

// readAll is a visitor that reads everything the walker lets it.
func readAll(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func TestHostileImages(t *testing.T) {
	before := listDir(t, ".")
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Log(tc.check)
			img := tc.img(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()

			res, werr := layers.Walk(ctx, img, readAll, tc.opts...)
			d := hierarchical.New(hierarchical.WithLayerCache(nil), hierarchical.WithWalkOptions(tc.opts...))
			v, serr := d.Scan(ctx, img)
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("took %v: not bounded", el)
			}
			if tc.wantErr != "" {
				if werr == nil || serr == nil {
					t.Fatalf("walk error %v, scan error %v; want errors containing %q", werr, serr, tc.wantErr)
				}
				if !strings.Contains(werr.Error(), tc.wantErr) || !strings.Contains(serr.Error(), tc.wantErr) {
					t.Errorf("errors %q / %q do not contain %q", werr, serr, tc.wantErr)
				}
				return
			}
			if werr != nil || serr != nil {
				t.Fatalf("walk error %v, scan error %v", werr, serr)
			}
			kinds := map[layers.IssueKind]int{}
			for _, is := range res.Issues {
				kinds[is.Kind]++
			}
			want := map[layers.IssueKind]int{}
			for _, k := range tc.wantIssues {
				want[k]++
			}
			for k, n := range want {
				if kinds[k] < n {
					t.Errorf("issues %v: want at least %d %s", res.Issues, n, k)
				}
			}
			// The invariant of the corpus: unscanned content is never clean.
			// File-bytes limits are the exception: they depend on how much of a
			// file the analyzer wants (the detector skips binaries after 8 KiB),
			// so only the detector's own not-scanned findings count for them.
			for _, is := range res.NotScanned() {
				if is.Kind != layers.IssueFileLimit && v.Decision == detectors.Clean {
					t.Errorf("verdict clean although %v was not scanned", is)
				}
			}
			for _, f := range v.Findings {
				if f.Category == detectors.CategoryNotScanned && v.Decision == detectors.Clean {
					t.Errorf("verdict clean with not-scanned finding %+v", f)
				}
			}
			if tc.wantDecision != "" && v.Decision != tc.wantDecision {
				t.Errorf("decision %s, want %s (issues %v, findings %v)", v.Decision, tc.wantDecision, res.Issues, v.Findings)
			}
			if tc.wantDecision == detectors.Clean && len(res.NotScanned()) > 0 {
				t.Errorf("unexpected not-scanned issues %v", res.NotScanned())
			}
			for _, p := range tc.wantPaths {
				if _, ok := res.Files[p]; !ok {
					t.Errorf("%q not in the view", p)
				}
			}
			for _, p := range tc.wantAbsent {
				if _, ok := res.Files[p]; ok {
					t.Errorf("%q in the view", p)
				}
			}
			if b, err := json.Marshal(v); err != nil || !json.Valid(b) {
				t.Errorf("verdict does not marshal: %v", err)
			}
		})
	}
	if _, err := os.Lstat(canary); err == nil {
		t.Errorf("%s exists: a layer was written to the host", canary)
	}
	if after := listDir(t, "."); after != before {
		t.Errorf("package directory changed during the corpus:\n%s\n->\n%s", before, after)
	}
}

func listDir(t *testing.T, dir string) string {
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return strings.Join(names, "\n")
}

func TestCorpusSize(t *testing.T) {
	if n := len(cases()); n < 20 {
		t.Errorf("%d cases, want at least 20", n)
	}
}
