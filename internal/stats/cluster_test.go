package stats

import "testing"

func TestClusters(t *testing.T) {
	type trial struct {
		cluster string
		success bool
	}
	tests := []struct {
		name       string
		trials     []trial
		want       ClusterCounts
		wantTrials int
	}{
		{name: "empty", want: ClusterCounts{}},
		{name: "one cluster, every variant", trials: []trial{{"a", true}, {"a", true}, {"a", true}},
			want: ClusterCounts{Every: 1}, wantTrials: 3},
		{name: "mixed variants count as some", trials: []trial{{"a", true}, {"a", false}},
			want: ClusterCounts{Some: 1}, wantTrials: 2},
		{name: "three kinds", trials: []trial{{"a", true}, {"b", false}, {"b", false}, {"c", false}, {"c", true}, {"d", true}},
			want: ClusterCounts{Every: 2, Some: 1, None: 1}, wantTrials: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Clusters
			for _, tr := range tt.trials {
				c.Add(tr.cluster, tr.success)
			}
			got := c.Counts()
			if got != tt.want {
				t.Errorf("Counts() = %+v, want %+v", got, tt.want)
			}
			if got.Len() != tt.want.Every+tt.want.Some+tt.want.None || got.Any() != tt.want.Every+tt.want.Some {
				t.Errorf("Len %d, Any %d inconsistent with %+v", got.Len(), got.Any(), got)
			}
			if n := c.Trials(); n != tt.wantTrials {
				t.Errorf("Trials() = %d, want %d", n, tt.wantTrials)
			}
		})
	}
}
