package layers

// WithPrereadMaxBytes bounds one read-ahead recording (tests: a layer over
// the bound is read by the walk itself).
func WithPrereadMaxBytes(n int) WalkOption { return func(o *walkOptions) { o.prereadMaxBytes = n } }

// FanoutMaxPending is how many files one read hands out before it waits
// for the first of them.
const FanoutMaxPending = fanoutMaxPending
