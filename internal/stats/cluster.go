package stats

// Clusters tallies trials that come in clusters whose members are not
// independent: the variants of one subject (an image rebuilt with
// mutations) succeed or fail together far more often than independent
// images would. Rates over clusters count each cluster once, with the
// Clopper-Pearson interval of that smaller count, instead of pretending
// every variant is a fresh draw.
type Clusters struct {
	trials map[string]*clusterCount
}

type clusterCount struct{ k, n int }

// Add records one trial of cluster.
func (c *Clusters) Add(cluster string, success bool) {
	if c.trials == nil {
		c.trials = map[string]*clusterCount{}
	}
	t := c.trials[cluster]
	if t == nil {
		t = &clusterCount{}
		c.trials[cluster] = t
	}
	t.n++
	if success {
		t.k++
	}
}

// ClusterCounts says how many clusters had every, some (at least one but
// not every) and none of their trials succeed.
type ClusterCounts struct {
	Every, Some, None int
}

// Len is the number of clusters.
func (c ClusterCounts) Len() int { return c.Every + c.Some + c.None }

// Any is the number of clusters with at least one success.
func (c ClusterCounts) Any() int { return c.Every + c.Some }

// Counts classifies the clusters recorded so far.
func (c *Clusters) Counts() ClusterCounts {
	var out ClusterCounts
	for _, t := range c.trials {
		switch {
		case t.k == t.n:
			out.Every++
		case t.k > 0:
			out.Some++
		default:
			out.None++
		}
	}
	return out
}

// Trials is the number of trials over all clusters.
func (c *Clusters) Trials() int {
	n := 0
	for _, t := range c.trials {
		n += t.n
	}
	return n
}
