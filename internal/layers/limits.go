package layers

import "strconv"

// Default walker limits. They are generous on purpose: a limit that is hit
// turns a clean verdict into "incomplete", so it must only trigger on images
// that really are unusual.
const (
	// DefaultMaxFileBytes bounds how much of one file a visitor may read.
	DefaultMaxFileBytes int64 = 32 << 20
	// DefaultMaxEntries bounds the number of tar entries processed per layer.
	DefaultMaxEntries = 1 << 20
	// DefaultMaxTotalBytes bounds the uncompressed bytes read over the image.
	DefaultMaxTotalBytes int64 = 16 << 30
	// DefaultMaxLayerBytes bounds a layer's compressed size (the manifest
	// descriptor's, checked before the blob is opened, and the bytes read).
	DefaultMaxLayerBytes int64 = 4 << 30
	// DefaultMaxLayerUncompressedBytes bounds the uncompressed bytes read of
	// one layer.
	DefaultMaxLayerUncompressedBytes int64 = 8 << 30
	// DefaultMaxCompressionRatio bounds uncompressed/compressed bytes of a
	// layer once DefaultRatioMinBytes uncompressed bytes have been read.
	// gzip cannot exceed ~1032:1; real layers are 2-10:1, layers of
	// zero-filled files a few hundred.
	DefaultMaxCompressionRatio int64 = 100
	// DefaultRatioMinBytes: below this many uncompressed bytes of a layer the
	// ratio is not checked (small highly compressible layers are normal).
	DefaultRatioMinBytes int64 = 64 << 20
	// DefaultMaxPathBytes bounds the length of a tar entry name or link
	// target (Linux PATH_MAX).
	DefaultMaxPathBytes = 4096
	// DefaultMaxPathDepth bounds the number of components of a path.
	DefaultMaxPathDepth = 256
	// DefaultMaxHistory bounds the config history entries analysed.
	DefaultMaxHistory = 10000
	// DefaultMaxConfigBytes bounds the image config read.
	DefaultMaxConfigBytes int64 = 8 << 20
)

// WalkOption configures Walk.
type WalkOption func(*walkOptions)

type walkOptions struct {
	maxFileBytes   int64
	maxEntries     int
	maxTotalBytes  int64
	maxLayerBytes  int64
	maxLayerUncomp int64
	maxRatio       int64
	ratioMinBytes  int64
	maxPathBytes   int
	maxPathDepth   int
	maxHistory     int
	maxConfigBytes int64
}

func defaultWalkOptions() walkOptions {
	return walkOptions{
		maxFileBytes:   DefaultMaxFileBytes,
		maxEntries:     DefaultMaxEntries,
		maxTotalBytes:  DefaultMaxTotalBytes,
		maxLayerBytes:  DefaultMaxLayerBytes,
		maxLayerUncomp: DefaultMaxLayerUncompressedBytes,
		maxRatio:       DefaultMaxCompressionRatio,
		ratioMinBytes:  DefaultRatioMinBytes,
		maxPathBytes:   DefaultMaxPathBytes,
		maxPathDepth:   DefaultMaxPathDepth,
		maxHistory:     DefaultMaxHistory,
		maxConfigBytes: DefaultMaxConfigBytes,
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

// WithMaxCompressionRatio stops reading a layer once its uncompressed bytes
// exceed ratio times its compressed bytes and minBytes. The compressed bytes
// are those read of the blob for registry and layout layers, the descriptor
// size for others. ratio <= 0 removes the bound.
func WithMaxCompressionRatio(ratio, minBytes int64) WalkOption {
	return func(o *walkOptions) { o.maxRatio, o.ratioMinBytes = ratio, minBytes }
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

// WithMaxFileBytes bounds the bytes of one file a visitor can read; n <= 0
// removes the bound.
func WithMaxFileBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxFileBytes = n } }

// EffectiveMaxFileBytes returns the bound on the bytes of one file that a
// walk with opts gives an analyzer (DefaultMaxFileBytes unless
// WithMaxFileBytes changes it; <= 0 means no bound). Analyzers that expand
// content (a gzip member) use it to bound what they inflate.
func EffectiveMaxFileBytes(opts ...WalkOption) int64 {
	o := defaultWalkOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return o.maxFileBytes
}

// WithMaxEntries bounds the tar entries applied per layer; n <= 0 removes the
// bound.
func WithMaxEntries(n int) WalkOption { return func(o *walkOptions) { o.maxEntries = n } }

// WithMaxTotalBytes bounds the uncompressed bytes read over the whole image;
// n <= 0 removes the bound.
func WithMaxTotalBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxTotalBytes = n } }

// limitError is returned by the layer readers once a limit is hit; it
// surfaces through tar.Reader and visitors and becomes an Issue.
type limitError struct {
	kind   IssueKind
	detail string
}

func (e *limitError) Error() string { return string(e.kind) + ": " + e.detail }

// errTotalLimit is returned by the counting reader once MaxTotalBytes is
// exceeded.
var errTotalLimit = &limitError{kind: IssueTotalLimit}

// cacheKey encodes the walk options that change what a layer yields (the
// entries applied and the bytes an analyzer sees of each file), for the key
// of a layer's cached analysis (see LayerSource).
func (o walkOptions) cacheKey() string {
	return "\x00max-file-bytes=" + strconv.FormatInt(o.maxFileBytes, 10) +
		"\x00max-entries=" + strconv.Itoa(o.maxEntries) +
		"\x00max-path-bytes=" + strconv.Itoa(o.maxPathBytes) +
		"\x00max-path-depth=" + strconv.Itoa(o.maxPathDepth)
}
