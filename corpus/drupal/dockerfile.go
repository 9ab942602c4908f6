package drupal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// Case says which of the sample's malicious layers an image contains; the
// paper's Experiment 1 builds all eight.
type Case struct{ L8, L9, L10 bool }

// Bits writes c as the paper does: presence of layers 8, 9, 10, so "101" is
// layers 8 and 10.
func (c Case) Bits() string {
	b := []byte("000")
	for i, on := range []bool{c.L8, c.L9, c.L10} {
		if on {
			b[i] = '1'
		}
	}
	return string(b)
}

func (c Case) String() string { return c.Bits() }

// Malicious reports whether the image holds at least one malicious layer
// (the ENTRYPOINT comes with layer 9, so there is no malicious config
// without a malicious layer).
func (c Case) Malicious() bool { return c.L8 || c.L9 || c.L10 }

// MaliciousLayers lists the sample's layer numbers (8, 9, 10) present in c.
func (c Case) MaliciousLayers() []int {
	var l []int
	for i, on := range []bool{c.L8, c.L9, c.L10} {
		if on {
			l = append(l, 8+i)
		}
	}
	return l
}

// ErrBadCase is returned by ParseCase for anything but three 0/1 digits.
var ErrBadCase = errors.New("case must be three binary digits for layers 8, 9, 10, e.g. \"101\"")

// ParseCase reads the bit form Bits writes.
func ParseCase(bits string) (Case, error) {
	if len(bits) != 3 || strings.Trim(bits, "01") != "" {
		return Case{}, fmt.Errorf("parse case %q: %w", bits, ErrBadCase)
	}
	return Case{L8: bits[0] == '1', L9: bits[1] == '1', L10: bits[2] == '1'}, nil
}

// Cases returns all eight cases, 000 to 111 in bit order.
func Cases() []Case {
	cs := make([]Case, 0, 8)
	for i := range 8 {
		cs = append(cs, Case{L8: i&4 != 0, L9: i&2 != 0, L10: i&1 != 0})
	}
	return cs
}

// DefaultBaseImage is the web-app image's FROM; the harness resolves it to
// a local debootstrap minbase image through a BuildKit named context.
const DefaultBaseImage = "debian:bookworm"

// DefaultWebImage is the sample's FROM: the drupal web-app image built from
// WebDockerfile, resolved by the harness through a named context. Building
// it once as an image of its own (rather than as a stage of every sample)
// mirrors how the sample was made — an attacker's Dockerfile on top of a
// drupal image — and lets BuildKit treat its layers as immutable base layers
// that rewrite-timestamp never has to re-read.
const DefaultWebImage = "drupal"

// Options fill the Dockerfile's templated parts.
type Options struct {
	// ServerURL is the harness's loopback HTTP server serving WriteServed's
	// tree, e.g. "http://127.0.0.1:8931". Required. It is written into RUN
	// commands and into the clone's .git/config, so layers 8 and 10 are
	// only reproducible across runs if it stays the same.
	ServerURL string
	// BaseImage defaults to DefaultBaseImage.
	BaseImage string
	// WebImage defaults to DefaultWebImage.
	WebImage string
}

// SourceDate is the fixed time of everything this package writes: the mtime
// of build-context and served files and the author/committer date of the
// served repository's commit (the month the sample's family appeared on
// Docker Hub). Fixed times keep the context, COPY layers and the commit hash
// reproducible even without SOURCE_DATE_EPOCH.
var SourceDate = time.Date(2017, time.June, 1, 0, 0, 0, 0, time.UTC)

//go:embed dockerfile/*.Dockerfile
var fragmentFS embed.FS

// fragment is one Dockerfile file in dockerfile/ and when it is included.
type fragment struct {
	file string
	in   func(Case) bool
}

func always(Case) bool { return true }

// webFragments is the web-app image's Dockerfile in order: one file per
// layer-producing step (L01..L07); base and config carry no layer.
var webFragments = []fragment{
	{"base.Dockerfile", always},
	{"L01-packages.Dockerfile", always},
	{"L02-apache.Dockerfile", always},
	{"L03-php-conf.Dockerfile", always},
	{"L04-scripts.Dockerfile", always},
	{"L05-workdir.Dockerfile", always},
	{"L06-app.Dockerfile", always},
	{"L07-permissions.Dockerfile", always},
	{"config.Dockerfile", always},
}

// fragments is the sample's Dockerfile in order: FROM the web-app image,
// then the malicious layers present in a case. The ENTRYPOINT is its own
// file but belongs to layer 9: it starts the binary layer 9 adds, and an
// image without /bin/minerd would not run with it.
var fragments = []fragment{
	{"sample.Dockerfile", always},
	{"L08-clone.Dockerfile", func(c Case) bool { return c.L8 }},
	{"L09-minerd.Dockerfile", func(c Case) bool { return c.L9 }},
	{"L10-script.Dockerfile", func(c Case) bool { return c.L10 }},
	{"L09-entrypoint.Dockerfile", func(c Case) bool { return c.L9 }},
}

// Marker is the comment prefix that labels a malicious instruction; the
// value names the sample's layer ("L8", "L9", "L10"). It is the last comment
// line before the instruction, so BuildKit's parser puts it in
// Node.PrevComment (comment text without the leading "# "), where
// corpus.GroundTruth looks for it. It is the shared model's MarkerPrefix.
const Marker = dfile.MarkerPrefix

// Dockerfile assembles the Dockerfile of case c: FROM the web-app image
// (WebDockerfile), plus the malicious layers present in c. The result
// depends only on c and o.
func Dockerfile(c Case, o Options) ([]byte, error) {
	out, err := render(fragments, c, o)
	if err != nil {
		return nil, fmt.Errorf("dockerfile for case %s: %w", c.Bits(), err)
	}
	return out, nil
}

// WebDockerfile assembles the Dockerfile of the drupal web-app image the
// sample is built FROM: the base and the 7 benign layers.
func WebDockerfile(o Options) ([]byte, error) {
	out, err := render(webFragments, Case{}, o)
	if err != nil {
		return nil, fmt.Errorf("web-app dockerfile: %w", err)
	}
	return out, nil
}

func render(frags []fragment, c Case, o Options) ([]byte, error) {
	if o.BaseImage == "" {
		o.BaseImage = DefaultBaseImage
	}
	if o.WebImage == "" {
		o.WebImage = DefaultWebImage
	}
	u, err := url.Parse(o.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ServerURL %q must be an http(s) URL of the harness's loopback server", o.ServerURL)
	}
	o.ServerURL = strings.TrimRight(o.ServerURL, "/")
	data := struct {
		Options
		Bits string
	}{o, c.Bits()}

	var out bytes.Buffer
	for _, f := range frags {
		if !f.in(c) {
			continue
		}
		src, err := fragmentFS.ReadFile("dockerfile/" + f.file)
		if err != nil {
			return nil, err
		}
		t, err := template.New(f.file).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("parse fragment %s: %w", f.file, err)
		}
		if err := t.Execute(&out, data); err != nil {
			return nil, fmt.Errorf("fragment %s: %w", f.file, err)
		}
	}
	return out.Bytes(), nil
}
