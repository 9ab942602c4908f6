package layers

import (
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Alignment maps config history entries to layers the way the OCI image
// spec defines it: the entries without empty_layer correspond, in order, to
// the layers, bottom up. When the counts disagree the alignment is best
// effort, bottom up, and Mismatch says so.
type Alignment struct {
	// Layers[k] is the index of the history entry of layer k, NoLayer when
	// the history has fewer non-empty entries than there are layers.
	Layers []int
	// NonEmpty is the number of non-empty history entries.
	NonEmpty int
	// next[k] is the index of the first non-empty entry after Layers[k]
	// (len(history) if none), whether or not a layer is aligned to it.
	next    []int
	history []v1.History
}

// Align aligns history to n layers. It reads only the config, so callers
// that answer from a cache never open a layer to learn its created_by.
func Align(history []v1.History, n int) Alignment {
	a := Alignment{Layers: make([]int, n), next: make([]int, n), history: history}
	for k := range a.Layers {
		a.Layers[k], a.next[k] = NoLayer, len(history)
	}
	for i, h := range history {
		if h.EmptyLayer {
			continue
		}
		if a.NonEmpty > 0 && a.NonEmpty-1 < n {
			a.next[a.NonEmpty-1] = i
		}
		if a.NonEmpty < n {
			a.Layers[a.NonEmpty] = i
		}
		a.NonEmpty++
	}
	return a
}

// Mismatch reports whether the non-empty history entries and the layers
// disagree in number.
func (a Alignment) Mismatch() bool { return a.NonEmpty != len(a.Layers) }

// CreatedBy returns the created_by of layer k's history entry ("" if none).
func (a Alignment) CreatedBy(k int) string {
	if k < 0 || k >= len(a.Layers) || a.Layers[k] == NoLayer {
		return ""
	}
	return a.history[a.Layers[k]].CreatedBy
}

// LayerOf returns the layer history entry h produced, NoLayer for an
// empty_layer entry or one beyond the layers.
func (a Alignment) LayerOf(h int) int {
	aligned := a.Layers[:min(a.NonEmpty, len(a.Layers))] // ascending; NoLayer after
	k := sort.SearchInts(aligned, h)
	if k < len(aligned) && aligned[k] == h {
		return k
	}
	return NoLayer
}

// EmptyAfter returns the indices of the empty_layer entries that follow
// layer k's entry up to the next non-empty entry (ENV, ENTRYPOINT, WORKDIR
// ... steps), below limit.
func (a Alignment) EmptyAfter(k, limit int) []int {
	if k < 0 || k >= len(a.Layers) || a.Layers[k] == NoLayer {
		return nil
	}
	end := min(a.next[k], limit)
	var out []int
	for j := a.Layers[k] + 1; j < end; j++ {
		out = append(out, j)
	}
	return out
}

// alignHistory fills Result.History and the layers' history fields,
// keeping at most MaxHistory entries.
func (w *walker) alignHistory(cf *v1.ConfigFile) {
	kept := len(cf.History)
	if max := w.opts.maxHistory; max > 0 && kept > max {
		kept = max
		w.issue(Issue{Kind: IssueHistoryLimit, Layer: NoLayer,
			Detail: fmt.Sprintf("config has %d history entries; only the first %d were analysed", len(cf.History), max)})
	}
	w.res.History = make([]HistoryEntry, kept)
	for i := range kept {
		w.res.History[i] = HistoryEntry{Index: i, History: cf.History[i], Layer: NoLayer}
	}
	a := Align(cf.History, len(w.res.Layers))
	if a.Mismatch() {
		w.issue(Issue{Kind: IssueHistoryMismatch, Layer: NoLayer,
			Detail: fmt.Sprintf("%d non-empty history entries for %d layers; aligned bottom-up", a.NonEmpty, len(w.res.Layers))})
	}
	for k, hi := range a.Layers {
		if hi == NoLayer {
			continue
		}
		li := &w.res.Layers[k]
		li.CreatedBy = cf.History[hi].CreatedBy
		if hi >= kept {
			// The layer keeps its created_by; the entry is beyond the cap.
			continue
		}
		li.HistoryIndex = hi
		w.res.History[hi].Layer = k
		li.EmptyAfter = a.EmptyAfter(k, kept)
	}
}
