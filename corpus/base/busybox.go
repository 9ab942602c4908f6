package base

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/store"
)

// BusyboxName is the FROM name a Dockerfile uses for the busybox base.
const BusyboxName = "busybox:stable"

// busyboxRecipe changes whenever the way the image is assembled changes, so
// stale store entries are rebuilt.
const busyboxRecipe = "busybox/1"

// BusyboxPath is where Debian's busybox-static package installs the binary.
var BusyboxPath = "/bin/busybox"

// Busybox returns the busybox-static base image from the store, importing
// it first if needed: /bin/busybox plus one symlink per applet, /tmp, /etc
// with passwd and group. It is a few MB and builds in milliseconds, which is
// what integration tests want.
func Busybox(ctx context.Context, st *store.Store) (v1.Descriptor, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read %s: %w (install Debian's busybox-static: run `make setup`)", BusyboxPath, err)
	}
	sum := sha256.Sum256(bin)
	key := InputsKey(busyboxRecipe, hex.EncodeToString(sum[:]))
	name := "base/" + BusyboxName
	if e, err := st.Lookup(name); err == nil && e.Annotation(store.AnnInputs) == key {
		return e.Descriptor, nil
	}
	out, err := exec.CommandContext(ctx, BusyboxPath, "--list-full").Output()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("%s --list-full: %w", BusyboxPath, err)
	}
	es := []entry{
		{name: "bin/", mode: 0o755, typ: '5'},
		{name: "bin/busybox", mode: 0o755, typ: '0', data: bin},
		{name: "etc/", mode: 0o755, typ: '5'},
		{name: "etc/passwd", mode: 0o644, typ: '0', data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, typ: '0', data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{name: "root/", mode: 0o700, typ: '5'},
		{name: "tmp/", mode: 0o1777, typ: '5'},
		{name: "usr/", mode: 0o755, typ: '5'},
		{name: "usr/bin/", mode: 0o755, typ: '5'},
		{name: "usr/sbin/", mode: 0o755, typ: '5'},
		{name: "sbin/", mode: 0o755, typ: '5'},
	}
	seen := map[string]bool{"bin/busybox": true}
	for _, l := range strings.Fields(string(out)) {
		l = strings.TrimPrefix(l, "/")
		if seen[l] || strings.Contains(l, "..") {
			continue
		}
		seen[l] = true
		es = append(es, entry{name: l, mode: 0o777, typ: '2', link: "/bin/busybox"})
	}
	data := tarEntries(es)
	tmp, err := os.MkdirTemp("", "strata-busybox-")
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer os.RemoveAll(tmp)
	lt := filepath.Join(tmp, "layer.tar")
	if err := os.WriteFile(lt, data, 0o644); err != nil {
		return v1.Descriptor{}, err
	}
	img, err := imageFromLayer(lt, v1.Config{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"sh"},
	}, "strata: busybox-static "+hex.EncodeToString(sum[:8]))
	if err != nil {
		return v1.Descriptor{}, err
	}
	return st.Put(img, name, map[string]string{store.AnnInputs: key})
}

// InputsKey is the store's inputs key (store.AnnInputs) for a build made of
// parts: the sha256 of the parts, each followed by a NUL so that no two
// different lists give the same key. Builders that reuse a stored image
// while its inputs are unchanged compare this key.
func InputsKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
