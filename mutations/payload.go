package mutations

// The payload kind (experiment 3): what a PayloadMutation gets, how it is
// applied, and the "payload file" most payload types change. See
// README.md, "Payload mutations (experiment 3)".

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// Payload is what a PayloadMutation rewrites: the Dockerfile, a private
// writable copy of the build context its ADD/COPY instructions read, and the
// SOURCE_DATE_EPOCH the image is built with.
type Payload struct {
	Dockerfile []byte
	// Dir is the build context: a private copy the mutation may change
	// (add, rewrite, rename or delete files). Hard links into shared caches
	// are never present: every file is the mutation's own.
	Dir string
	// Epoch is the SOURCE_DATE_EPOCH (with rewrite-timestamp) of the build;
	// a mutation may change it. Nil means the build is not reproducible.
	Epoch *time.Time
}

// PayloadMutation changes the payload, not only the layers around it
// (experiment 3): it rewrites the Dockerfile and the files of the build
// context, and may change the build's timestamp. It returns an error
// wrapping ErrNotApplicable when the Dockerfile has nothing the type
// changes (say, no file added from the context); the harness then skips
// that (image, type) pair and reports the count.
type PayloadMutation interface {
	Mutation
	MutatePayload(p *Payload, rng *rand.Rand, env Env) error
}

// ErrNotApplicable says a mutation type has nothing to change in an image.
var ErrNotApplicable = errors.New("mutation type not applicable")

// ApplyPayload applies m to p with the stream NewRand(seed, m.Name()).
func ApplyPayload(m PayloadMutation, p *Payload, seed int64, env Env) error {
	if err := m.MutatePayload(p, NewRand(seed, m.Name()), env); err != nil {
		return fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return nil
}

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

func (t *target) elf() bool { return bytes.HasPrefix(t.head, []byte("\x7fELF")) }

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
	for i, n := range d.Final().Instructions {
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
		out = append(out, &target{addCopy: a, rel: rel, info: fi, head: head, marker: dfile.Marker(n),
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
	for _, st := range d.Stages {
		for i, n := range st.Instructions {
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
