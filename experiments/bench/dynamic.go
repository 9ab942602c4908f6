package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/sandbox"
)

// The dynamic entry (Config.Dynamic): the behaviour stage's cost, one
// sandbox run of the image's start command (strata scan --dynamic) timed
// whole and split into its parts:
//
//   - dynamic-cold: no layer of the image in the store, so every layer is
//     extracted (the first run into an empty store, the later ones into
//     the store the previous round left, purged);
//   - dynamic-warm: the same store again, the layers already on disk (what
//     an experiment pays for every variant after the first).
//
// Each run's Extra has setup_ns (root filesystem, mounts, runc, network),
// rootfs_ns (the part of setup spent writing layers), run_ns (the start
// command: the time limit, or less when it exits) and teardown_ns.
const (
	measureDynamicCold = "dynamic-cold"
	measureDynamicWarm = "dynamic-warm"
)

// dynamicSlack is what the stage may add to its time limit per image once
// the layers are stored ("the time limit plus a few seconds").
const dynamicSlack = 5 * time.Second

// benchDynamic times count cold and count warm sandbox runs of img with
// time limit timeout.
func benchDynamic(ctx context.Context, img v1.Image, count int, timeout time.Duration) ([]Measurement, error) {
	cold := Measurement{Name: measureDynamicCold}
	warm := Measurement{Name: measureDynamicWarm}
	dir, err := os.MkdirTemp("", "strata-bench-layers-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	store := sandbox.NewLayerStore(dir, sandbox.DefaultLayerStoreBytes)
	for range count {
		// Cold: no layer stored. Purge evicts the previous round's
		// layers as a store in use does (their inodes are reused), so
		// only the first cold run starts from an empty store.
		store.Purge()
		for _, m := range []*Measurement{&cold, &warm} {
			start := time.Now()
			obs, err := sandbox.Run(ctx, img, sandbox.WithTimeout(timeout), sandbox.WithLayerStore(store))
			if err != nil {
				return nil, fmt.Errorf("dynamic bench: %w", err)
			}
			m.RunsNS = append(m.RunsNS, time.Since(start).Nanoseconds())
			m.Extra = append(m.Extra, map[string]int64{
				"setup_ns": obs.Setup.Nanoseconds(), "rootfs_ns": obs.Materialise.Nanoseconds(),
				"run_ns": obs.Wall.Nanoseconds(), "teardown_ns": obs.Teardown.Nanoseconds(),
				"timeout_ns": timeout.Nanoseconds(),
			})
		}
	}
	cold.MedianNS, warm.MedianNS = median(cold.RunsNS), median(warm.RunsNS)
	return []Measurement{cold, warm}, nil
}

// dynamicVerdicts gives one line per dynamic measurement of an image: the
// warm run (layers stored) and the cold one (every layer extracted first)
// against the time limit plus dynamicSlack, with the split.
func dynamicVerdicts(rep Report) []string {
	var out []string
	for _, bi := range rep.Images {
		for _, m := range bi.Measurements {
			what, ok := map[string]string{
				measureDynamicWarm: "with its layers stored",
				measureDynamicCold: "with none of its layers stored",
			}[m.Name]
			if !ok || len(m.Extra) == 0 {
				continue
			}
			med := func(k string) int64 {
				xs := make([]int64, 0, len(m.Extra))
				for _, e := range m.Extra {
					xs = append(xs, e[k])
				}
				return median(xs)
			}
			limit := time.Duration(m.Extra[0]["timeout_ns"])
			pass := "FAIL"
			if time.Duration(m.MedianNS) <= limit+dynamicSlack {
				pass = "PASS"
			}
			out = append(out, fmt.Sprintf("%s %s: dynamic stage %s per image %s (setup %s, run %s, teardown %s; target <= time limit %s + %s)",
				pass, label(bi.Target), fmtDur(m.MedianNS), what, fmtDur(med("setup_ns")), fmtDur(med("run_ns")), fmtDur(med("teardown_ns")), limit, dynamicSlack))
		}
	}
	return out
}
