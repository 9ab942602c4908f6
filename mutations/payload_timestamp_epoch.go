package mutations

import (
	"math/rand/v2"
	"time"
)

func init() {
	Register(timestampEpoch{info{
		name:        "timestamp-epoch",
		version:     "1",
		description: "builds with a SOURCE_DATE_EPOCH drawn from 2015-2025 instead of the harness's: new timestamps in the config and the layers, Dockerfile and context unchanged",
		paperRef:    "— (experiment 3)",
	}})
}

// epochRange is [2015-01-01, 2026-01-01).
var epochRange = [2]time.Time{time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

// timestampEpoch is the paper's observation that a rebuild without
// reproducible timestamps changes every digest, made reproducible: the
// build's SOURCE_DATE_EPOCH (with rewrite-timestamp) becomes a second
// drawn from rng in 2015..2025, so a seed still reproduces the image. The
// history's "created" times change, and so does every layer holding a
// file the build wrote (RUN output, directories ADD/COPY create): BuildKit
// clamps mtimes newer than the epoch to it. A layer whose files are all
// older than the epoch (a COPY of context files with a fixed 2017 mtime,
// built with an epoch after 2017) can keep its digest; that is the
// attacker's situation too. Never ErrNotApplicable; an epoch equal to the
// current one is moved by a day.
type timestampEpoch struct{ info }

func (timestampEpoch) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	lo, hi := epochRange[0].Unix(), epochRange[1].Unix()
	t := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
	if p.Epoch != nil && p.Epoch.Equal(t) {
		t = t.Add(24 * time.Hour)
	}
	p.Epoch = &t
	return nil
}
