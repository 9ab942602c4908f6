package experiments

import (
	"runtime"
	"time"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/sandbox"
)

// DynamicTimeout is the time limit of each sandbox run in the experiments
// (strata scan --dynamic keeps sandbox.DefaultTimeout). The stand-ins log in
// within a second or two of starting; a server that never exits costs the
// whole limit.
var DynamicTimeout = 10 * time.Second

// Opt-in detectors run an image's start command in the sandbox for up to
// DynamicTimeout each (plus setup: well under a second once the sandbox's
// layer store holds the image's layers), NumCPU sandboxes at once, one run
// per image shared by both detectors: they scan only when
// --detectors names them exactly (strata experiment exp3 --detectors
// behaviour,hierarchical+dynamic,hierarchical) or with --dynamic (every
// detector and these two: a whole run), never by default and never through
// a prefix.

// optIn marks a detector that runs only when named.
type optIn interface{ optIn() }

type optInDetector struct{ detectors.Detector }

func (optInDetector) optIn() {}

// sandboxed marks an opt-in detector that runs the image in the sandbox;
// Config.Dynamic adds those (and no other opt-in detector) to a whole run.
type sandboxed interface{ sandboxed() }

type sandboxDetector struct{ optInDetector }

func (sandboxDetector) sandboxed() {}

// OptIn returns the opt-in detectors: behaviour, and the full
// hierarchical detector with the behaviour stage as its dynamic signal
// (hierarchical+dynamic, sharing the set's options and layer cache).
func (s *DetectorSet) OptIn() []detectors.Detector {
	bd := behaviour.NewShared(runtime.NumCPU(), sandbox.WithTimeout(DynamicTimeout))
	n := len(s.hierOpts)
	return []detectors.Detector{
		sandboxDetector{optInDetector{bd}},
		sandboxDetector{optInDetector{hierarchical.New(append(s.hierOpts[:n:n], hierarchical.WithDynamic(bd.Findings, behaviour.Version))...)}},
	}
}
