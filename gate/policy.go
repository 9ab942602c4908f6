package gate

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
)

// Policy actions.
const (
	// ActionRecord stores the verdict and does nothing else.
	ActionRecord = "record"
	// ActionQuarantine also deletes a malicious manifest through the
	// registry API (the registry must allow deletes).
	ActionQuarantine = "quarantine"
)

// Policy picks an action per repository. The file is JSON:
//
//	{"default": "record",
//	 "repositories": [{"match": "prod/*", "action": "quarantine"}]}
//
// The first rule whose glob (path.Match syntax: * stops at /) matches the
// repository wins; no match takes the default, "record" if unset.
type Policy struct {
	Default      string `json:"default"`
	Repositories []Rule `json:"repositories"`
}

// Rule is one repository glob and its action.
type Rule struct {
	Match  string `json:"match"`
	Action string `json:"action"`
}

// ReadPolicy reads and checks a policy file.
func ReadPolicy(file string) (*Policy, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return ParsePolicy(b)
}

// ParsePolicy parses and checks a policy document.
func ParsePolicy(b []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy is not JSON of the documented shape ({\"default\": ..., \"repositories\": [{\"match\": ..., \"action\": ...}]}): %w", err)
	}
	if err := checkAction(p.Default, true); err != nil {
		return nil, fmt.Errorf("policy default: %w", err)
	}
	for i, r := range p.Repositories {
		if _, err := path.Match(r.Match, ""); err != nil || r.Match == "" {
			return nil, fmt.Errorf("policy rule %d: match %q is not a glob (e.g. \"prod/*\")", i+1, r.Match)
		}
		if err := checkAction(r.Action, false); err != nil {
			return nil, fmt.Errorf("policy rule %d (%s): %w", i+1, r.Match, err)
		}
	}
	return &p, nil
}

func checkAction(a string, emptyOK bool) error {
	if a == ActionRecord || a == ActionQuarantine || a == "" && emptyOK {
		return nil
	}
	return fmt.Errorf("action %q: want %q or %q", a, ActionRecord, ActionQuarantine)
}

// Action is the action for repository; a nil policy records.
func (p *Policy) Action(repository string) string {
	if p == nil {
		return ActionRecord
	}
	for _, r := range p.Repositories {
		if ok, _ := path.Match(r.Match, repository); ok {
			return r.Action
		}
	}
	if p.Default == "" {
		return ActionRecord
	}
	return p.Default
}
