package mutations

// URLs in the final stage's ENTRYPOINT/CMD: what the pool types rewrite.

import (
	"fmt"
	"regexp"
	"strings"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// urlRE matches a URL: scheme://authority[/path...], up to white space or
// a quote.
var urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s'"` + "`" + `]+`)

// hostSpan is the byte range of u's host (without userinfo and port; an
// IPv6 literal with its brackets); ok is false for an empty host.
func hostSpan(u string) (start, end int, ok bool) {
	i := strings.Index(u, "://")
	if i < 0 {
		return 0, 0, false
	}
	start = i + 3
	end = start + strings.IndexAny(u[start:]+"/", "/?#")
	if at := strings.LastIndexByte(u[start:end], '@'); at >= 0 {
		start += at + 1
	}
	if strings.HasPrefix(u[start:end], "[") {
		if j := strings.IndexByte(u[start:end], ']'); j >= 0 {
			end = start + j + 1
		}
	} else if j := strings.LastIndexByte(u[start:end], ':'); j >= 0 {
		end = start + j
	}
	return start, end, end > start
}

// hasHost reports whether the URL u names a host.
func hasHost(u string) bool { _, _, ok := hostSpan(u); return ok }

// urlLaunches are the launches of the final stage whose URLs the pool
// types change: the ENTRYPOINT and CMD in effect, when written in the
// final stage.
func (d *dockerfile) urlLaunches() []*launch {
	ep, cmd := d.launches()
	var out []*launch
	for _, l := range []*launch{ep, cmd} {
		if l != nil && l.final {
			out = append(out, l)
		}
	}
	return out
}

// mapHosts replaces the host of every URL in s with host(old host).
func mapHosts(s string, host func(string) string) (string, int) {
	n := 0
	out := urlRE.ReplaceAllStringFunc(s, func(u string) string {
		a, b, ok := hostSpan(u)
		if !ok {
			return u
		}
		n++
		return u[:a] + host(u[a:b]) + u[b:]
	})
	return out, n
}

// rewriteHosts replaces the host of every URL argument of the final
// stage's ENTRYPOINT and CMD (exec and shell form) with host(old host),
// in place (the instruction keeps its comments and marker).
// ErrNotApplicable when there is none.
func (d *dockerfile) rewriteHosts(host func(string) string) ([]byte, error) {
	var edits []dfile.Edit
	for _, l := range d.urlLaunches() {
		total := 0
		var line string
		if l.json {
			args := make([]string, len(l.args))
			for i, a := range l.args {
				var n int
				args[i], n = mapHosts(a, host)
				total += n
			}
			line = l.renderExec(args)
		} else {
			text, n := mapHosts(l.shell, host)
			total += n
			line = l.renderShell(text)
		}
		if total > 0 {
			edits = append(edits, dfile.Replace(l.node, line))
		}
	}
	if len(edits) == 0 {
		return nil, fmt.Errorf("%w: no URL argument (scheme://host...) in the final stage's ENTRYPOINT/CMD", ErrNotApplicable)
	}
	return d.Splice(edits...), nil
}
