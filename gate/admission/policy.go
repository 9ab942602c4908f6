package admission

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxPolicyBytes bounds a policy file.
const maxPolicyBytes = 1 << 20

// LoadPolicy reads a policy file, YAML or JSON (JSON is YAML). Fields left
// out keep DefaultPolicy's value, so an empty file fails closed; unknown
// fields are an error, so a typo cannot silently admit images:
//
//	denyIncomplete: true     # refuse images whose scan skipped content
//	denyInvalid: true        # refuse images that failed integrity checks
//	denyUnscanned: true      # refuse images without a verdict (a scan is queued)
//	exemptNamespaces: [kube-system, strata]
func LoadPolicy(path string) (Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return Policy{}, fmt.Errorf("open admission policy: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return Policy{}, fmt.Errorf("read admission policy %s: %w", path, err)
	}
	if len(raw) > maxPolicyBytes {
		return Policy{}, fmt.Errorf("admission policy %s is larger than %d bytes: it holds four fields", path, maxPolicyBytes)
	}
	p, err := parsePolicy(raw)
	if err != nil {
		return Policy{}, fmt.Errorf("admission policy %s: %w (fields: denyIncomplete, denyInvalid, denyUnscanned, exemptNamespaces)", path, err)
	}
	return p, nil
}

// policyFile is Policy with optional fields.
type policyFile struct {
	DenyIncomplete   *bool    `yaml:"denyIncomplete"`
	DenyInvalid      *bool    `yaml:"denyInvalid"`
	DenyUnscanned    *bool    `yaml:"denyUnscanned"`
	ExemptNamespaces []string `yaml:"exemptNamespaces"`
}

func parsePolicy(raw []byte) (Policy, error) {
	p := DefaultPolicy()
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Policy{}, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Policy{}, errors.New("more than one YAML document: write one policy")
	}
	for _, set := range []struct {
		dst *bool
		src *bool
	}{{&p.DenyIncomplete, f.DenyIncomplete}, {&p.DenyInvalid, f.DenyInvalid}, {&p.DenyUnscanned, f.DenyUnscanned}} {
		if set.src != nil {
			*set.dst = *set.src
		}
	}
	for _, ns := range f.ExemptNamespaces {
		if strings.TrimSpace(ns) == "" {
			return Policy{}, errors.New("exemptNamespaces holds an empty name")
		}
	}
	p.ExemptNamespaces = f.ExemptNamespaces
	return p, nil
}
