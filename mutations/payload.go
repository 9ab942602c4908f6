package mutations

// Shared machinery of the payload mutations (experiment 3): finding the
// "payload file" of a Dockerfile, the ENTRYPOINT/CMD that starts the
// image's program, rewriting instructions in place, and changing the build
// context without writing through hard links. See README.md, "Payload
// mutations (experiment 3)".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/corpus"
)

// markerLine is the ground-truth comment that marks the next instruction.
const markerLine = "# " + corpus.MarkerPrefix

// markerOf is the tag of n's ground-truth marker ("L9"), "" if unmarked,
// read as corpus.GroundTruth reads it.
func markerOf(n *parser.Node) string {
	for _, c := range n.PrevComment {
		c = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#"))
		if tag, ok := strings.CutPrefix(c, corpus.MarkerPrefix); ok {
			return tag
		}
	}
	return ""
}

// marked returns line preceded by the marker comment of tag (none for "").
func marked(tag, line string) []string {
	if tag == "" {
		return []string{line}
	}
	return []string{markerLine + tag, line}
}

// replacing returns the lines that replace an instruction whose comment
// block (and marker tag) stays above them: the first instruction inherits
// the block, every later one gets the marker line of its own.
func replacing(tag string, instrs ...string) []string {
	var out []string
	for i, l := range instrs {
		if i == 0 {
			out = append(out, l)
			continue
		}
		out = append(out, marked(tag, l)...)
	}
	return out
}

func is(n *parser.Node, instr string) bool { return strings.EqualFold(n.Value, instr) }

// ---------------------------------------------------------------------------
// Editing the Dockerfile text

// edit replaces `remove` original lines after the first `after` lines with
// lines; remove == 0 is an insertion, preceded by a blank line.
type edit struct {
	after  int
	remove int
	lines  []string
}

// replaceNode replaces n's own lines (StartLine..EndLine, heredocs
// included) and keeps the comment block above it, so a marker stays
// attached to the first replacement line.
func replaceNode(n *parser.Node, lines ...string) edit {
	return edit{after: n.StartLine - 1, remove: n.EndLine - n.StartLine + 1, lines: lines}
}

// insertAt inserts lines at an insertion point (see points()).
func insertAt(p point, lines ...string) edit { return edit{after: p.after, lines: lines} }

// apply returns the original text with the edits applied. Edits at the
// same position keep their order.
func (d *dockerfile) apply(edits ...edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].after < edits[j].after })
	var b bytes.Buffer
	k, skip := 0, 0
	for i := 0; i <= len(d.lines); i++ {
		for ; k < len(edits) && edits[k].after == i; k++ {
			e := edits[k]
			if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
				b.WriteByte('\n')
			}
			if e.remove == 0 {
				b.WriteByte('\n')
			}
			for _, l := range e.lines {
				b.WriteString(l)
				b.WriteByte('\n')
			}
			skip = max(skip, e.remove)
		}
		if i == len(d.lines) {
			break
		}
		if skip > 0 {
			skip--
			continue
		}
		b.WriteString(d.lines[i])
	}
	return b.Bytes()
}

// nodeText is n's original text, lines StartLine..EndLine.
func (d *dockerfile) nodeText(n *parser.Node) string {
	return strings.Join(d.lines[n.StartLine-1:n.EndLine], "")
}

// jsonArray renders an exec-form argument list as the corpus writes it:
// ["a", "b"], without HTML escaping (">" stays ">").
func jsonArray(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(a) // a string always encodes
		parts[i] = strings.TrimSuffix(b.String(), "\n")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// shQuote quotes s for a POSIX shell, leaving words of safe characters bare.
func shQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ---------------------------------------------------------------------------
// ADD / COPY

// addCopy is a parsed ADD or COPY instruction.
type addCopy struct {
	node  *parser.Node
	index int    // in the final stage's instructions
	cmd   string // "ADD" or "COPY"
	flags []string
	srcs  []string
	dest  string
}

func parseAddCopy(n *parser.Node, index int) (addCopy, bool) {
	if !is(n, "add") && !is(n, "copy") || len(n.Heredocs) > 0 {
		return addCopy{}, false
	}
	var args []string
	for a := n.Next; a != nil; a = a.Next {
		args = append(args, a.Value)
	}
	if len(args) < 2 {
		return addCopy{}, false
	}
	return addCopy{node: n, index: index, cmd: strings.ToUpper(n.Value), flags: n.Flags,
		srcs: args[:len(args)-1], dest: args[len(args)-1]}, true
}

func (a addCopy) flag(name string) (string, bool) {
	for _, f := range a.flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
		if f == "--"+name {
			return "", true
		}
	}
	return "", false
}

// renderAddCopy writes an ADD/COPY with the given flags, in JSON form when
// a path needs quoting.
func renderAddCopy(cmd string, flags []string, src, dest string) string {
	head := strings.Join(append([]string{cmd}, flags...), " ")
	if strings.ContainsAny(src+dest, " \t\"'\\") || strings.HasPrefix(src, "[") {
		return head + " " + jsonArray([]string{src, dest})
	}
	return head + " " + src + " " + dest
}

// contextSource is the slash path, relative to the context root, of an
// ADD/COPY's single local source; ok is false for several sources, --from,
// --parents, URLs, git sources, wildcards and variables.
func contextSource(a addCopy) (string, bool) {
	if len(a.srcs) != 1 {
		return "", false
	}
	if _, ok := a.flag("from"); ok {
		return "", false
	}
	if _, ok := a.flag("parents"); ok {
		return "", false
	}
	src := a.srcs[0]
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.ContainsAny(src, "*?[$") {
		return "", false
	}
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	if rel == "" {
		return "", false
	}
	return rel, true
}

// directories names destinations that are directories in any Debian-like
// image: "COPY x /usr/local/bin" copies into them, so they are never a
// payload file's path.
var directories = []string{"/", "/bin", "/sbin", "/lib", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib",
	"/usr/local", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/share", "/etc",
	"/opt", "/srv", "/tmp", "/var", "/var/lib", "/var/tmp", "/var/cache", "/home", "/root", "/run"}

// fileDest reports whether dest names a file: absolute, no trailing slash,
// no variable, not a well-known directory.
func fileDest(dest string) bool {
	return path.IsAbs(dest) && !strings.HasSuffix(dest, "/") && !strings.Contains(dest, "$") &&
		!slices.Contains(directories, path.Clean(dest))
}

// looksLikeArchive reports whether BuildKit's ADD might unpack a file that
// starts with head: a tar, or a compressed stream (gzip, bzip2, xz, zstd)
// that might hold one. BuildKit unpacks a local ADD source only when it
// decompresses (or is raw) to a valid tar header (solver/llbsolver/file/
// unpack.go, isArchivePath); this check is stricter.
func looksLikeArchive(head []byte) bool {
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

// ---------------------------------------------------------------------------
// ENTRYPOINT / CMD

// launch is the ENTRYPOINT or CMD in effect for the final image.
type launch struct {
	node  *parser.Node
	kind  string // "ENTRYPOINT" or "CMD"
	final bool   // written in the final stage (only those are rewritten)
	json  bool
	args  []string // exec form
	shell string   // shell form
}

// launches returns the final image's ENTRYPOINT and CMD as the Dockerfile
// sets them along the final stage's FROM chain (nil when not set there: an
// external base image's are unknown). An ENTRYPOINT clears the CMD
// inherited from an earlier stage, as BuildKit does, unless the same stage
// set one.
func (d *dockerfile) launches() (ep, cmd *launch) {
	f := d.final()
	for _, st := range d.chain() {
		cmdSet := false
		for _, n := range st.instr {
			if !is(n, "entrypoint") && !is(n, "cmd") {
				continue
			}
			l := &launch{node: n, kind: strings.ToUpper(n.Value), final: st == f, json: n.Attributes["json"]}
			if l.json {
				for a := n.Next; a != nil; a = a.Next {
					l.args = append(l.args, a.Value)
				}
			} else if n.Next != nil {
				l.shell = n.Next.Value
			}
			if l.kind == "CMD" {
				cmd, cmdSet = l, true
				continue
			}
			ep = l
			if !cmdSet {
				cmd = nil
			}
		}
	}
	return ep, cmd
}

// program is the path or name of what l starts: the first exec-form
// argument, or the first word of a shell-form command (after "exec").
func (l *launch) program() string {
	if l.json {
		if len(l.args) == 0 {
			return ""
		}
		return l.args[0]
	}
	w := strings.Fields(l.shell)
	if len(w) > 1 && w[0] == "exec" {
		w = w[1:]
	}
	if len(w) == 0 {
		return ""
	}
	return strings.Trim(w[0], `'"`)
}

// render writes l with new exec-form args or shell text.
func (l *launch) renderExec(args []string) string { return l.kind + " " + jsonArray(args) }
func (l *launch) renderShell(text string) string  { return l.kind + " " + text }

// searchPath is where a bare program name is looked up (Debian's default
// PATH; an ENV PATH is not followed).
var searchPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// resolves reports whether program prog is the file at dest: the same
// absolute path, or a bare name found at dest through searchPath.
func resolves(prog, dest string) bool {
	switch {
	case prog == "":
		return false
	case strings.Contains(prog, "/"):
		return path.IsAbs(prog) && path.Clean(prog) == path.Clean(dest)
	default:
		return path.Base(dest) == prog && slices.Contains(searchPath, path.Dir(path.Clean(dest)))
	}
}

// startedBy returns the launch that starts the file at dest: the
// ENTRYPOINT, or the CMD when it runs as a command (no ENTRYPOINT, or an
// exec-form one that passes it on, like docker-entrypoint.sh).
func startedBy(ep, cmd *launch, dest string) *launch {
	if ep != nil && resolves(ep.program(), dest) {
		return ep
	}
	if cmd != nil && (ep == nil || ep.json) && resolves(cmd.program(), dest) {
		return cmd
	}
	return nil
}

// replaceProgram rewrites a shell-form command so it starts run where it
// started the file at dest: every absolute reference to dest, and the
// first word when it names dest through searchPath.
func replaceProgram(text, dest, run string) string {
	text, _ = replacePath(text, dest, run)
	i := len(text) - len(strings.TrimLeft(text, " \t"))
	if rest, ok := strings.CutPrefix(text[i:], "exec "); ok {
		i = len(text) - len(strings.TrimLeft(rest, " \t"))
	}
	j := i + strings.IndexAny(text[i:]+" ", " \t;&|")
	if w := text[i:j]; !strings.Contains(w, "/") && resolves(w, dest) {
		text = text[:i] + run + text[j:]
	}
	return text
}

// runInstead rewrites launch l, which starts the payload at dest, to first
// run prep (shell commands that write and chmod the program at run) and
// then exec run in its place with the original arguments: exec form
// becomes ["/bin/sh", "-c", "<prep> && exec <run> \"$@\"", "sh", <args>...],
// so the original arguments and any CMD or `docker run` arguments reach
// the program as "$@"; shell form gets "<prep> && " in front.
func runInstead(l *launch, dest, prep, run string) string {
	if l.json {
		script := prep + " && exec " + run + ` "$@"`
		return l.renderExec(append([]string{"/bin/sh", "-c", script, "sh"}, l.args[1:]...))
	}
	return l.renderShell(prep + " && " + replaceProgram(l.shell, dest, run))
}

// ---------------------------------------------------------------------------
// The payload file

// target is the payload file: an ADD/COPY in the final stage of one
// regular context file to an absolute file path.
type target struct {
	addCopy
	rel    string // the source, relative to the context root (slash path)
	info   os.FileInfo
	head   []byte // the file's first bytes
	marker string
	by     *launch // the ENTRYPOINT/CMD that starts it, nil if none
}

func (t *target) elf() bool    { return bytes.HasPrefix(t.head, []byte("\x7fELF")) }
func (t *target) script() bool { return bytes.HasPrefix(t.head, []byte("#!")) }

// mode is the file's mode in the image: --chmod when octal, else the
// context file's permission bits (COPY keeps them).
func (t *target) mode() os.FileMode {
	if v, ok := t.flag("chmod"); ok {
		if m, err := strconv.ParseUint(v, 8, 32); err == nil {
			return os.FileMode(m) & os.ModePerm
		}
	}
	return t.info.Mode().Perm()
}

// executable: an ELF, a #! script or a file with an x bit.
func (t *target) executable() bool { return t.elf() || t.script() || t.mode()&0o111 != 0 }

// startable: started by an ENTRYPOINT/CMD of the final stage, which the
// mutation can rewrite.
func (t *target) startable() bool { return t.by != nil && t.by.final }

func (t *target) read(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(t.rel)))
	if err != nil {
		return nil, fmt.Errorf("read payload file: %w", err)
	}
	return b, nil
}

// candidates lists the final stage's payload-file candidates in order.
func (d *dockerfile) candidates(dir string) ([]*target, error) {
	if dir == "" {
		return nil, errors.New("Payload.Dir is empty: payload mutations need the build context")
	}
	ep, cmd := d.launches()
	var out []*target
	for i, n := range d.final().instr {
		a, ok := parseAddCopy(n, i)
		if !ok || !fileDest(a.dest) {
			continue
		}
		rel, ok := contextSource(a)
		if !ok {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		head, err := readHead(p, 1024)
		if err != nil {
			return nil, err
		}
		if a.cmd == "ADD" && looksLikeArchive(head) {
			continue // ADD would unpack it: its destination is a directory
		}
		out = append(out, &target{addCopy: a, rel: rel, info: fi, head: head, marker: markerOf(n),
			by: startedBy(ep, cmd, a.dest)})
	}
	return out, nil
}

func readHead(p string, n int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:k], nil
}

// payloadTarget picks the payload file among the candidates accept
// admits: the one the final ENTRYPOINT/CMD starts, else one carrying a
// ground-truth marker, else one drawn from rng. None: ErrNotApplicable,
// saying what was looked for (want).
func (d *dockerfile) payloadTarget(dir string, rng *rand.Rand, want string, accept func(*target) bool) (*target, error) {
	all, err := d.candidates(dir)
	if err != nil {
		return nil, err
	}
	var ok, started, mark []*target
	for _, c := range all {
		if accept != nil && !accept(c) {
			continue
		}
		ok = append(ok, c)
		if c.by != nil {
			started = append(started, c)
		}
		if c.marker != "" {
			mark = append(mark, c)
		}
	}
	switch {
	case len(started) > 0:
		return started[len(started)-1], nil // the last write to the path wins
	case len(mark) == 1:
		return mark[0], nil
	case len(mark) > 1:
		return mark[rng.IntN(len(mark))], nil
	case len(ok) == 1:
		return ok[0], nil
	case len(ok) > 1:
		return ok[rng.IntN(len(ok))], nil
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: the final stage has no payload file (ADD/COPY of one regular context file to an absolute file path)", ErrNotApplicable)
	}
	return nil, fmt.Errorf("%w: none of the final stage's %d payload-file candidates is %s", ErrNotApplicable, len(all), want)
}

// shared reports whether another instruction of the Dockerfile reads t's
// context file: an ADD/COPY of it or of a directory holding it, or a RUN
// --mount of the context at it. A shared file is copied, not renamed, and
// never rewritten in place.
func (d *dockerfile) shared(t *target) bool {
	covers := func(src string) bool {
		if strings.Contains(src, "://") {
			return false
		}
		rel := strings.TrimPrefix(path.Clean("/"+src), "/")
		return rel == "" || rel == t.rel || strings.HasPrefix(t.rel, rel+"/") || strings.ContainsAny(src, "*?[")
	}
	for _, st := range d.stages {
		for i, n := range st.instr {
			if n == t.node {
				continue
			}
			if a, ok := parseAddCopy(n, i); ok {
				if _, from := a.flag("from"); from {
					continue
				}
				if slices.ContainsFunc(a.srcs, covers) {
					return true
				}
				continue
			}
			for _, f := range n.Flags {
				m, ok := strings.CutPrefix(f, "--mount=")
				if !ok || strings.Contains(m, "from=") {
					continue
				}
				for kv := range strings.SplitSeq(m, ",") {
					k, v, _ := strings.Cut(kv, "=")
					if (k == "source" || k == "src") && covers(v) {
						return true
					}
				}
			}
		}
	}
	return false
}

// replacePath replaces whole-path occurrences of old in s (not part of a
// longer path or name: "/bin/minerd" does not match in "/usr/bin/minerd"
// or "/bin/minerd.conf").
func replacePath(s, old, repl string) (string, int) {
	nameChar := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/'
	}
	var b strings.Builder
	n := 0
	for {
		i := strings.Index(s, old)
		if i < 0 {
			break
		}
		end := i + len(old)
		if (i == 0 || !nameChar(s[i-1])) && (end == len(s) || !nameChar(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(repl)
			n++
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
	b.WriteString(s)
	return b.String(), n
}

// ---------------------------------------------------------------------------
// Users and shells along the final stage

// userAt is the USER in effect at p along the final stage's chain ("" when
// none is set there: the base image's, assumed root).
func (d *dockerfile) userAt(p point) string {
	u := ""
	visit := func(nodes []*parser.Node) {
		for _, n := range nodes {
			if is(n, "user") && n.Next != nil {
				u = n.Next.Value
			}
		}
	}
	ch := d.chain()
	for _, st := range ch[:len(ch)-1] {
		visit(st.instr)
	}
	visit(d.final().instr[:p.index])
	return u
}

func rootUser(u string) bool {
	return u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:")
}

// shellOf is the SHELL in effect for n along the chain, nil for the
// default /bin/sh -c.
func (d *dockerfile) shellOf(n *parser.Node) []string {
	var sh []string
	for _, st := range d.chain() {
		for _, m := range st.instr {
			if m == n {
				return sh
			}
			if is(m, "shell") && m.Attributes["json"] {
				sh = nil
				for a := m.Next; a != nil; a = a.Next {
					sh = append(sh, a.Value)
				}
			}
		}
	}
	return sh
}

// names lists the ENV and ARG names set anywhere in the Dockerfile.
func (d *dockerfile) names() map[string]bool {
	out := map[string]bool{}
	for _, n := range d.nodes {
		switch {
		case is(n, "env"):
			// name, value, "=" triplets
			var vals []string
			for a := n.Next; a != nil; a = a.Next {
				vals = append(vals, a.Value)
			}
			for i := 0; i < len(vals); i += 3 {
				out[vals[i]] = true
			}
		case is(n, "arg"):
			for a := n.Next; a != nil; a = a.Next {
				k, _, _ := strings.Cut(a.Value, "=")
				out[k] = true
			}
		}
	}
	return out
}

// dests lists every ADD/COPY destination of the Dockerfile (cleaned).
func (d *dockerfile) dests() map[string]bool {
	out := map[string]bool{}
	for _, n := range d.nodes {
		if a, ok := parseAddCopy(n, 0); ok {
			out[path.Clean(a.dest)] = true
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// URLs in ENTRYPOINT/CMD

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
	var edits []edit
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
			edits = append(edits, replaceNode(l.node, line))
		}
	}
	if len(edits) == 0 {
		return nil, fmt.Errorf("%w: no URL argument (scheme://host...) in the final stage's ENTRYPOINT/CMD", ErrNotApplicable)
	}
	return d.apply(edits...), nil
}

// ---------------------------------------------------------------------------
// Random names

const lower = "abcdefghijklmnopqrstuvwxyz"

// randName is lo..hi characters from alphabet.
func randName(rng *rand.Rand, alphabet string, lo, hi int) string {
	n := lo + rng.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// randBytes is n bytes from rng.
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// hiddenDir is a directory name an attacker hides files in:
// /usr/share/.<x>, /var/cache/.<x>, /var/lib/.<x>.
func hiddenDir(rng *rand.Rand) string {
	return pick(rng, []string{"/usr/share", "/var/cache", "/var/lib"}) + "/." + randName(rng, lower, 3, 8)
}

// runPath is the file a runtime-unpacking entrypoint writes and starts.
func runPath(rng *rand.Rand) string { return "/tmp/." + randName(rng, lower, 4, 9) }

// ---------------------------------------------------------------------------
// The build context

// ctxEditor changes a build context. Every write goes to a new file that
// is renamed over the old name, so a hard link into a shared cache is
// never written through; new files get fixed mtimes and the mtimes of the
// directories it changes are restored, so the same seed gives the same
// context.
type ctxEditor struct {
	dir      string
	dirTimes map[string]time.Time
	reserved map[string]bool
}

func newCtxEditor(dir string) *ctxEditor {
	return &ctxEditor{dir: dir, dirTimes: map[string]time.Time{}, reserved: map[string]bool{}}
}

func (c *ctxEditor) abs(rel string) string { return filepath.Join(c.dir, filepath.FromSlash(rel)) }

func (c *ctxEditor) keepDirTime(rel string) error {
	d := path.Dir(rel)
	if _, ok := c.dirTimes[d]; ok {
		return nil
	}
	fi, err := os.Stat(c.abs(d))
	if err != nil {
		return err
	}
	c.dirTimes[d] = fi.ModTime()
	return nil
}

// rootTime is the context root's mtime, the mtime of files made from
// nothing (wrapper scripts).
func (c *ctxEditor) rootTime() (time.Time, error) {
	fi, err := os.Stat(c.dir)
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// free returns a context path in directory relDir named base, or base-2,
// base-3... when that is taken.
func (c *ctxEditor) free(relDir, base string) string {
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		rel := path.Join(relDir, name)
		if _, err := os.Lstat(c.abs(rel)); errors.Is(err, os.ErrNotExist) && !c.reserved[rel] {
			c.reserved[rel] = true
			return rel
		}
	}
}

// write replaces (or creates) rel with data, mode and mtime.
func (c *ctxEditor) write(rel string, data []byte, mode os.FileMode, mtime time.Time) error {
	if err := c.keepDirTime(rel); err != nil {
		return err
	}
	p := c.abs(rel)
	f, err := os.CreateTemp(filepath.Dir(p), ".strata-tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Chtimes(tmp, mtime, mtime)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write context file %s: %w", rel, err)
	}
	return nil
}

func (c *ctxEditor) remove(rel string) error {
	if err := c.keepDirTime(rel); err != nil {
		return err
	}
	return os.Remove(c.abs(rel))
}

func (c *ctxEditor) rename(from, to string) error {
	if err := c.keepDirTime(from); err != nil {
		return err
	}
	if err := c.keepDirTime(to); err != nil {
		return err
	}
	return os.Rename(c.abs(from), c.abs(to))
}

// done restores the mtimes of the directories it changed.
func (c *ctxEditor) done() error {
	dirs := make([]string, 0, len(c.dirTimes))
	for d := range c.dirTimes {
		dirs = append(dirs, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // deepest first
	for _, d := range dirs {
		if err := os.Chtimes(c.abs(d), c.dirTimes[d], c.dirTimes[d]); err != nil {
			return err
		}
	}
	return nil
}

// copiedFiles lists the context files (slash paths) the final stage's
// ADD/COPY instructions other than skip read, directories walked.
func (d *dockerfile) copiedFiles(dir string, skip *parser.Node) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i, n := range d.final().instr {
		a, ok := parseAddCopy(n, i)
		if !ok || n == skip {
			continue
		}
		if _, from := a.flag("from"); from {
			continue
		}
		for _, src := range a.srcs {
			if strings.Contains(src, "://") || strings.ContainsAny(src, "*?[$") {
				continue
			}
			root := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path.Clean("/"+src), "/")))
			err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
				if err != nil || !e.Type().IsRegular() {
					return nil
				}
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				if rel = filepath.ToSlash(rel); !seen[rel] {
					seen[rel] = true
					out = append(out, rel)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
