package scanreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
)

// WriteTable renders the human view: per target a header and the layers
// bottom up, each with its findings and issues under it. Every string from
// the image (names, paths, history, evidence) goes through Sanitize.
func WriteTable(w io.Writer, rep Report) error {
	ew := &errWriter{w: w}
	counts := map[string]int{}
	for n, t := range rep.Targets {
		counts[t.Decision]++
		if n > 0 {
			ew.printf("\n")
		}
		ew.printf("%s\n", t.Label())
		if t.Dockerfile != "" {
			writeDockerfileTarget(ew, t)
			continue
		}
		ew.printf("  manifest   %s\n", t.ManifestDigest)
		ew.printf("  decision   %s  score %s / threshold %s", strings.ToUpper(t.Decision), num(t.Score), num(t.Threshold))
		if len(t.BlamedLayers) > 0 {
			var bs []string
			for _, b := range t.BlamedLayers {
				bs = append(bs, strconv.Itoa(b))
			}
			ew.printf("  blamed layers %s", strings.Join(bs, ", "))
		}
		ew.printf("\n")
		if why := decisionNote(t.Decision); why != "" {
			ew.printf("             %s\n", why)
		}
		ew.printf("\n  %-5s  %-12s  %9s  %s\n", "LAYER", "DIFF ID", "SIZE", "CREATED BY")
		for _, l := range t.Layers {
			mark := ""
			if l.Blamed {
				mark = "  <- blamed"
			}
			ew.printf("  %-5d  %-12s  %9s  %s%s\n", l.Index, shortDigest(l.DiffID), humanSize(l.Size), excerpt(displayCreatedBy(l.CreatedBy), 60), mark)
			writeFindings(ew, l.Findings)
		}
		if len(t.ConfigFindings) > 0 {
			ew.printf("  %-5s  %s\n", "config", "(ENTRYPOINT, CMD, ENV and image-wide findings)")
			writeFindings(ew, t.ConfigFindings)
		}
	}
	if len(rep.Targets) > 1 {
		ew.printf("\n%d targets: %d malicious, %d invalid, %d incomplete, %d clean\n", len(rep.Targets),
			counts[string(detectors.Malicious)], counts[string(detectors.Invalid)], counts[string(detectors.Incomplete)], counts[string(detectors.Clean)])
	}
	return ew.err
}

// writeDockerfileTarget renders a pre-build scan: the findings by
// Dockerfile line, each under the instruction it belongs to.
func writeDockerfileTarget(ew *errWriter, t Target) {
	ew.printf("  context    %s\n", Sanitize(t.Context))
	ew.printf("  decision   %s  score %s / threshold %s (before build)\n", strings.ToUpper(t.Decision), num(t.Score), num(t.Threshold))
	if why := decisionNote(t.Decision); why != "" {
		ew.printf("             %s\n", strings.ReplaceAll(why, "the image", "the Dockerfile"))
	}
	ew.printf("\n  %-9s  %s\n", "LINE:COL", "INSTRUCTION")
	for i := 0; i < len(t.ConfigFindings); {
		j := i
		for j < len(t.ConfigFindings) && t.ConfigFindings[j].Line == t.ConfigFindings[i].Line {
			j++
		}
		f := t.ConfigFindings[i]
		ew.printf("  %-9s  %s\n", fmt.Sprintf("%d:%d", f.Line, f.Column), excerpt(f.Instruction, 70))
		writeFindings(ew, t.ConfigFindings[i:j])
		i = j
	}
}

// decisionNote explains the decisions that are not verdicts on content.
func decisionNote(d string) string {
	switch detectors.Decision(d) {
	case detectors.Invalid:
		return "integrity check failed (marked x INTEGRITY below): the image is corrupt or crafted; nothing in it can be called clean"
	case detectors.Incomplete:
		return "some content was not scanned (marked ? NOT SCANNED below): the image cannot be called clean"
	}
	return ""
}

func writeFindings(ew *errWriter, fs []Finding) {
	for _, f := range fs {
		where := f.Path
		if f.Hidden && f.RemovedBy != nil {
			where += fmt.Sprintf(" (deleted by layer %d)", *f.RemovedBy)
		}
		evidence := f.Evidence
		if is, ok := IssueOf(f); ok {
			evidence = is.Detail
			if is.Class == ClassIntegrity {
				ew.printf("         x INTEGRITY %s  %s\n", is.Kind, where)
			} else {
				ew.printf("         ? NOT SCANNED %s  %s\n", is.Kind, where)
			}
		} else {
			ew.printf("         ! %s/%s  +%s  %s\n", f.Category, f.Rule, num(f.Weight), where)
		}
		if evidence != "" {
			ew.printf("             %s\n", excerpt(evidence, 100))
		}
	}
}

// displayCreatedBy shows a history entry as the Dockerfile line it came
// from, without builder noise (`/bin/sh -c #(nop)`, `# buildkit`).
func displayCreatedBy(s string) string {
	if s == "" {
		return "-"
	}
	if st := layers.ParseCreatedBy(s); st.Instruction != "" {
		return st.Instruction + " " + st.Args
	}
	return s
}

// excerpt collapses whitespace, escapes control characters and cuts the
// result to n runes.
func excerpt(s string, n int) string {
	s = Sanitize(strings.Join(strings.Fields(s), " "))
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func shortDigest(s string) string {
	_, hex, ok := strings.Cut(s, ":")
	if !ok {
		hex = s
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	if hex == "" {
		return "-"
	}
	return hex
}

func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), "kB"
	for _, next := range []string{"MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			break
		}
		u = next
	}
	return fmt.Sprintf("%.1f %s", f, u)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// errWriter keeps the first write error so rendering code stays linear, and
// sanitizes every string argument, so no image-controlled string reaches
// the terminal raw (format strings are constants).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = Sanitize(s)
		}
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}
