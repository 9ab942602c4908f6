package mutations

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(compressPayload{info{
		name:        "compress-payload",
		version:     "1",
		description: "stores the payload program gzip-compressed (half of the seeds also XOR-encoded with a 1-byte key) and makes the ENTRYPOINT/CMD unpack it to /tmp/.<x> with gzip -dc (and tr) and exec it",
		paperRef:    "— (experiment 3)",
	}})
}

// compressPayload replaces the program the final ENTRYPOINT/CMD starts by
// a gzip stream of it (compress/gzip at a level drawn from rng, no name,
// zero mtime: deterministic for a Go version). Half of the seeds also XOR
// the stream with a key k = 0x10..0xF0 (low nibble zero), so it no longer
// starts with gzip's magic; the entrypoint decodes it with coreutils'
// (or busybox's) tr, since XOR with such a key maps each aligned block of
// 16 byte values onto another and is 16 tr ranges:
//
//	tr '\000-\377' '<16 ranges>' < blob | gzip -dc > /tmp/.x && chmod 755 /tmp/.x && exec /tmp/.x "$@"
//
// gzip and tr are Essential in Debian, so present in minbase. The blob is
// added by the original instruction (ADD stays ADD): BuildKit's ADD only
// unpacks a local file that is a tar after decompression, and a gzip of an
// ELF or an XORed stream is not, so it is copied as is (checked in
// BuildKit v0.34.2, solver/llbsolver/file/unpack.go). The blob goes to
// <dest>.gz or to a random name in a hidden directory. The ENTRYPOINT/CMD
// rewrite is split-payload's; only a started program is a target.
type compressPayload struct{ info }

func (compressPayload) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	t, err := d.payloadTarget(p.Dir, rng, "started by the final stage's ENTRYPOINT/CMD", (*target).startable)
	if err != nil {
		return err
	}
	data, err := t.read(p.Dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, 1+rng.IntN(9))
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	blob := buf.Bytes()
	var key byte
	if rng.IntN(2) == 1 {
		key = byte(1+rng.IntN(15)) << 4
		for i := range blob {
			blob[i] ^= key
		}
	}
	var dest string
	if rng.IntN(2) == 0 {
		dest = path.Clean(t.dest) + ".gz"
	} else {
		dest = path.Join(hiddenDir(rng), randName(rng, lower, 4, 8)+pick(rng, []string{"", ".dat", ".db", ".bin", ".cache"}))
	}
	run := runPath(rng)

	c := newCtxEditor(p.Dir)
	rel := c.free(path.Dir(t.rel), path.Base(dest))
	if err := c.write(rel, blob, t.info.Mode().Perm(), t.info.ModTime()); err != nil {
		return err
	}
	if !d.shared(t) {
		if err := c.remove(t.rel); err != nil {
			return err
		}
	}
	unpack := "gzip -dc " + dest
	if key != 0 {
		unpack = fmt.Sprintf("tr '\\000-\\377' '%s' < %s | gzip -dc", xorRanges(key), dest)
	}
	prep := fmt.Sprintf("%s > %s && chmod %s %s", unpack, run, runMode(t), run)
	p.Dockerfile = d.Splice(
		dfile.Replace(t.node, renderAddCopy(t.cmd, t.flags, rel, dest)),
		dfile.Replace(t.by.node, runInstead(t.by, t.dest, prep, run)),
	)
	return c.done()
}

// xorRanges is tr's second set for "c -> c XOR key" over '\000-\377', for a
// key whose low nibble is zero: 16 ranges of 16 values.
func xorRanges(key byte) string {
	var b strings.Builder
	for i := 0; i < 256; i += 16 {
		lo := byte(i) ^ key
		fmt.Fprintf(&b, "\\%03o-\\%03o", lo, lo+15)
	}
	return b.String()
}
