package layers

import (
	"strconv"
	"time"
)

// Default walker limits. A limit that is hit turns a clean verdict into
// "incomplete" (fail closed), so each is either a budget an attacker cannot
// use to hide content (the rest of the image is reported, not passed) or
// generous enough that ordinary images never hit it. No default bounds a
// file, a layer or the compression ratio: an analyzer receives every byte
// of every file, and a gigabyte of zeros in front of a miner costs time,
// not coverage, until an image budget stops the walk.
const (
	// DefaultMaxFileBytes: no bound on the bytes of one file an analyzer
	// reads (a 50 MB apt Packages list, gcc's 35 MB cc1plus are ordinary).
	DefaultMaxFileBytes int64 = 0
	// DefaultMaxEntries bounds the number of tar entries processed per layer.
	DefaultMaxEntries = 1 << 20
	// DefaultMaxImageEntries bounds the tar entries applied over the image:
	// the walker keeps every entry in memory (about 380 bytes each with
	// its indexes). Measured on 4 generated layers of 150k files each: a
	// walk stopped at 400k entries peaks at 182 MB RSS (221 MB at 500k).
	// A Debian desktop has about 200k paths.
	DefaultMaxImageEntries = 400_000
	// DefaultMaxTotalBytes bounds the uncompressed bytes read over the image.
	DefaultMaxTotalBytes int64 = 64 << 30
	// DefaultMaxWallTime bounds the time a walk takes, analysis included.
	DefaultMaxWallTime = 10 * time.Minute
	// DefaultMaxLayerBytes: no bound on a layer's compressed size (the
	// image budgets bound what is read).
	DefaultMaxLayerBytes int64 = 0
	// DefaultMaxLayerUncompressedBytes: no bound on one layer's uncompressed
	// bytes (the image budgets bound what is read).
	DefaultMaxLayerUncompressedBytes int64 = 0
	// DefaultMaxPathBytes bounds the length of a tar entry name or link
	// target (Linux PATH_MAX).
	DefaultMaxPathBytes = 4096
	// DefaultMaxPathDepth bounds the number of components of a path.
	DefaultMaxPathDepth = 256
	// DefaultMaxHistory bounds the config history entries analysed.
	DefaultMaxHistory = 10000
	// DefaultMaxConfigBytes bounds the image config read.
	DefaultMaxConfigBytes int64 = 8 << 20
	// DefaultPrereadMaxBytes bounds the memory of one layer read ahead by
	// WithParallelLayers (headers and per-file results, about 300 bytes per
	// entry plus the results); a larger layer is read by the walk itself.
	DefaultPrereadMaxBytes = 64 << 20
)

// WalkOption configures Walk.
type WalkOption func(*walkOptions)

type walkOptions struct {
	maxFileBytes    int64
	maxEntries      int
	maxImageEntries int
	maxTotalBytes   int64
	maxWallTime     time.Duration
	maxLayerBytes   int64
	maxLayerUncomp  int64
	maxPathBytes    int
	maxPathDepth    int
	maxHistory      int
	maxConfigBytes  int64
	// parallel is the number of layers read at once (WithParallelLayers);
	// prereadMaxBytes bounds one read-ahead recording.
	parallel        int
	prereadMaxBytes int
}

func defaultWalkOptions() walkOptions {
	return walkOptions{
		maxFileBytes:    DefaultMaxFileBytes,
		maxEntries:      DefaultMaxEntries,
		maxImageEntries: DefaultMaxImageEntries,
		maxTotalBytes:   DefaultMaxTotalBytes,
		maxWallTime:     DefaultMaxWallTime,
		maxLayerBytes:   DefaultMaxLayerBytes,
		maxLayerUncomp:  DefaultMaxLayerUncompressedBytes,
		maxPathBytes:    DefaultMaxPathBytes,
		maxPathDepth:    DefaultMaxPathDepth,
		maxHistory:      DefaultMaxHistory,
		maxConfigBytes:  DefaultMaxConfigBytes,
		parallel:        1,
		prereadMaxBytes: DefaultPrereadMaxBytes,
	}
}

// WithMaxLayerBytes bounds a layer's compressed size: a layer whose manifest
// descriptor declares more is not read, one whose blob yields more is cut.
// n <= 0 removes the bound.
func WithMaxLayerBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxLayerBytes = n } }

// WithMaxLayerUncompressedBytes bounds the uncompressed bytes read of one
// layer; n <= 0 removes the bound.
func WithMaxLayerUncompressedBytes(n int64) WalkOption {
	return func(o *walkOptions) { o.maxLayerUncomp = n }
}

// WithMaxPathBytes bounds the length of entry names and link targets; longer
// entries are skipped and reported. n <= 0 removes the bound.
func WithMaxPathBytes(n int) WalkOption { return func(o *walkOptions) { o.maxPathBytes = n } }

// WithMaxPathDepth bounds the number of path components of an entry; deeper
// entries are skipped and reported. n <= 0 removes the bound.
func WithMaxPathDepth(n int) WalkOption { return func(o *walkOptions) { o.maxPathDepth = n } }

// WithMaxHistory bounds the config history entries kept in Result.History;
// n <= 0 removes the bound.
func WithMaxHistory(n int) WalkOption { return func(o *walkOptions) { o.maxHistory = n } }

// WithMaxConfigBytes bounds the image config; a larger config is an error
// (nothing can be scanned without it). n <= 0 removes the bound.
func WithMaxConfigBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxConfigBytes = n } }

// WithMaxFileBytes bounds the bytes of one file a visitor can read (a
// baseline that copies files out for external engines); n <= 0, the
// default, removes the bound.
func WithMaxFileBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxFileBytes = n } }

// WithMaxEntries bounds the tar entries applied per layer; n <= 0 removes the
// bound.
func WithMaxEntries(n int) WalkOption { return func(o *walkOptions) { o.maxEntries = n } }

// WithMaxTotalBytes bounds the uncompressed bytes read over the whole image;
// once hit, the rest of the image is not scanned (IssueTotalLimit). n <= 0
// removes the bound.
func WithMaxTotalBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxTotalBytes = n } }

// WithMaxImageEntries bounds the tar entries applied over the whole image;
// once hit, the rest of the image is not scanned (IssueImageEntryLimit).
// n <= 0 removes the bound.
func WithMaxImageEntries(n int) WalkOption { return func(o *walkOptions) { o.maxImageEntries = n } }

// WithMaxWallTime bounds the time a walk takes, analysis included; once
// hit, the rest of the image is not scanned (IssueWallTimeLimit). d <= 0
// removes the bound.
func WithMaxWallTime(d time.Duration) WalkOption { return func(o *walkOptions) { o.maxWallTime = d } }

// WithParallelLayers lets up to n layers be read at once (n <= 1, the
// default: one after another). It takes effect when the analyzer is a
// ContentAnalyzer: up to n-1 goroutines read later layers ahead of the walk
// (with the same per-layer limits and digest checks), run AnalyzeContent on
// their files and keep a recording of headers and results in memory, at
// most n recordings at a time and each at most DefaultPrereadMaxBytes. The
// walk applies a recording in layer order like a cached layer (overlay,
// image budgets, ReplayFile), and reads the layer itself when the
// recording would not fit in what is left of the image budgets or the
// read ahead failed. Whoever reads a layer, a read ahead or the walk
// (the first layer, an image's only one), copies its files of up to
// 16 MiB out of the tar stream for n workers (at most 64 MiB of such
// content waiting or in analysis) and analyses larger ones in place, all
// with AnalyzeContent; the walk hands the results to ReplayFile in entry
// order. So the Result, the issues and the analyzer calls that reach
// ReplayFile are those of a walk with n = 1, which calls AnalyzeFile. Layers a LayerSource
// replays are not read ahead. The wall-time budget is the exception: where
// it cuts a walk depends on speed.
func WithParallelLayers(n int) WalkOption {
	return func(o *walkOptions) { o.parallel = max(n, 1) }
}

// limitError is returned by the layer readers once a limit is hit; it
// surfaces through tar.Reader and visitors and becomes an Issue. An image
// budget (image) stops the rest of the walk, not just the layer.
type limitError struct {
	kind   IssueKind
	detail string
	image  bool
}

func (e *limitError) Error() string { return string(e.kind) + ": " + e.detail }

// cacheKey encodes the walk options that change what a layer yields (the
// entries applied and the bytes an analyzer sees of each file), for the key
// of a layer's cached analysis (see LayerSource).
func (o walkOptions) cacheKey() string {
	return "\x00max-file-bytes=" + strconv.FormatInt(o.maxFileBytes, 10) +
		"\x00max-entries=" + strconv.Itoa(o.maxEntries) +
		"\x00max-path-bytes=" + strconv.Itoa(o.maxPathBytes) +
		"\x00max-path-depth=" + strconv.Itoa(o.maxPathDepth)
}
