package bench

import (
	"fmt"
	"strings"

	"github.com/strata-sec/strata/internal/table"
)

func (pi PeerImage) result(tool string) (PeerResult, bool) {
	for _, r := range pi.Results {
		if r.Tool == tool {
			return r, true
		}
	}
	return PeerResult{}, false
}

// comparedNS is the time a tool is compared with strata by: its own
// median, plus the extraction's where it reads extracted files.
func (pi PeerImage) comparedNS(r PeerResult) int64 {
	if !r.WithExtraction {
		return r.MedianNS
	}
	ext, _ := pi.result(toolExtract)
	return r.MedianNS + ext.MedianNS
}

func peersTable(rep PeersReport) *table.Table {
	t := table.New(
		table.Column{Header: "image"},
		table.Column{Header: "tool"},
		table.Column{Header: "wall time", Align: table.Right},
		table.Column{Header: "with extraction", Align: table.Right},
		table.Column{Header: "peak RSS", Align: table.Right},
		table.Column{Header: "vs strata cold", Align: table.Right},
		table.Column{Header: "version"},
	)
	for _, pi := range rep.Images {
		cold, _ := pi.result(toolStrataCold)
		for _, r := range pi.Results {
			if r.Skipped != "" {
				t.Append(label(pi.Target), r.Tool, "-", "-", "-", "skipped", r.Version)
				continue
			}
			with, rss, ratio := "-", "-", "-"
			if r.WithExtraction {
				with = fmtDur(pi.comparedNS(r))
			}
			if r.PeakRSS > 0 {
				rss = fmt.Sprintf("%.0f MB", float64(r.PeakRSS)/1e6)
			}
			if cold.MedianNS > 0 {
				ratio = fmt.Sprintf("%.2fx", float64(pi.comparedNS(r))/float64(cold.MedianNS))
			}
			t.Append(label(pi.Target), r.Tool, fmtDur(r.MedianNS), with, rss, ratio, r.Version)
		}
	}
	return t
}

// peersNotes lists skip reasons and notes below the table, each once
// (a peer's note is usually the same on every image).
func peersNotes(rep PeersReport) []string {
	var out []string
	seen := map[string]bool{}
	for _, pi := range rep.Images {
		for _, r := range pi.Results {
			for _, n := range []string{r.Skipped, r.Note} {
				line := r.Tool + ": " + n
				if r.Skipped != "" && n == r.Skipped {
					line = r.Tool + " skipped: " + n
				}
				if strings.HasPrefix(n, "exit ") {
					line = label(pi.Target) + ": " + line
				}
				if n == "" || seen[line] {
					continue
				}
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	return out
}

// peersVerdicts gives, per image, strata's peak RSS against its target and
// each compared peer's time against its multiple of strata's cold scan.
func peersVerdicts(rep PeersReport) []string {
	var out []string
	for _, pi := range rep.Images {
		img := label(pi.Target)
		cold, ok := pi.result(toolStrataCold)
		if !ok || cold.MedianNS <= 0 {
			continue
		}
		warm, _ := pi.result(toolStrataWarm)
		peak := max(cold.PeakRSS, warm.PeakRSS)
		out = append(out, fmt.Sprintf("%s %s: strata peak RSS %.0f MB cold, %.0f MB warm (target < %.0f MB)",
			passFail(peak > 0 && peak < rssTarget), img, float64(cold.PeakRSS)/1e6, float64(warm.PeakRSS)/1e6, rssTarget/1e6))
		for _, r := range pi.Results {
			var target float64
			switch {
			case r.Tool == toolMalcontent:
				target = malcontentTarget
			case strings.HasPrefix(r.Tool, toolYara):
				target = yaraTarget
			default:
				continue
			}
			if r.Skipped != "" {
				out = append(out, fmt.Sprintf("SKIP %s: %s not run (target >= %.0fx strata cold): %s", img, r.Tool, target, r.Skipped))
				continue
			}
			x := float64(pi.comparedNS(r)) / float64(cold.MedianNS)
			out = append(out, fmt.Sprintf("%s %s: %s with extraction takes %.1fx strata cold's time (target >= %.0fx)", passFail(x >= target), img, r.Tool, x, target))
		}
	}
	return out
}

func peersMarkdown(rep PeersReport) (string, error) {
	var md strings.Builder
	fmt.Fprintf(&md, "# strata bench --peers\n\nMedian of %d runs per tool on the same images; machine in [machine.md](machine.md), every run in peers.json.\n\n%s\n", rep.Count, peersLegend)
	if err := peersTable(rep).WriteMarkdown(&md); err != nil {
		return "", err
	}
	md.WriteString("\n")
	for _, n := range peersNotes(rep) {
		md.WriteString("- " + n + "\n")
	}
	md.WriteString("\n")
	for _, v := range peersVerdicts(rep) {
		md.WriteString("- " + v + "\n")
	}
	return md.String(), nil
}
