package experiments

import (
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// Opt-in detectors run an image's start command in the sandbox for up to
// 20 s each, which would add hours to exp2 and exp3: they scan only when
// --detectors names them exactly (strata experiment exp3 --detectors
// behaviour,hierarchical+dynamic,hierarchical), never by default and never
// through a prefix.

// optIn marks a detector that runs only when named.
type optIn interface{ optIn() }

type optInDetector struct{ detectors.Detector }

func (optInDetector) optIn() {}

// OptIn returns the opt-in detectors: behaviour, and the full
// hierarchical detector with the behaviour stage as its dynamic signal
// (hierarchical+dynamic, sharing the set's options and layer cache).
func (s *DetectorSet) OptIn() []detectors.Detector {
	bd := behaviour.New()
	n := len(s.hierOpts)
	return []detectors.Detector{
		optInDetector{bd},
		optInDetector{hierarchical.New(append(s.hierOpts[:n:n], hierarchical.WithDynamic(bd.Findings))...)},
	}
}
