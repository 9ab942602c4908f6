package layers

import "errors"

// IssueKind names a problem the walker met; none of them aborts the walk.
// Limit and Integrity classify them.
//
// The rule for damaged input: a layer that cannot be read at all (the blob
// cannot be opened, the compression header is bad, the first tar header is
// not a tar header) is an error and the walk fails. A layer that is cut
// short or corrupt after at least one entry was read is an issue
// (IssueLayerTruncated): the entries read are scanned, the rest is not.
type IssueKind string

const (
	// IssueFileLimit: a visitor wanted more of a file than MaxFileBytes.
	IssueFileLimit IssueKind = "file-bytes-limit"
	// IssueEntryLimit: a layer had more entries than MaxEntries; the rest of
	// that layer was not applied.
	IssueEntryLimit IssueKind = "entry-limit"
	// IssueTotalLimit: the image exceeded MaxTotalBytes; the rest of the
	// layer and all later layers were not applied.
	IssueTotalLimit IssueKind = "total-bytes-limit"
	// IssuePathEscape: a tar entry whose name leaves the root ("../x"); it is
	// skipped, as a container runtime would refuse it.
	IssuePathEscape IssueKind = "path-escape"
	// IssueHistoryMismatch: non-empty history entries and layers disagree in
	// number; alignment is best effort, bottom up.
	IssueHistoryMismatch IssueKind = "history-mismatch"
	// IssueLayerSizeLimit: a layer's compressed size (descriptor or bytes
	// read) exceeds MaxLayerBytes; it was not read, or not to the end.
	IssueLayerSizeLimit IssueKind = "layer-size-limit"
	// IssueLayerBytesLimit: a layer decompresses to more than
	// MaxLayerUncompressedBytes; the rest of the layer was not applied.
	IssueLayerBytesLimit IssueKind = "layer-bytes-limit"
	// IssueRatioLimit: the retired compression-ratio limit (a decompression
	// bomb costs time, bounded by MaxWallTime, not coverage); the walker
	// no longer reports it, cached and recorded results may still name it.
	IssueRatioLimit IssueKind = "compression-ratio-limit"
	// IssuePathLimit: an entry's name or link target is longer than
	// MaxPathBytes or deeper than MaxPathDepth; the entry was skipped.
	IssuePathLimit IssueKind = "path-limit"
	// IssueHistoryLimit: the config has more history entries than
	// MaxHistory; the rest were not analysed.
	IssueHistoryLimit IssueKind = "history-limit"
	// IssueLayerTruncated: the layer's compressed or tar stream ended early
	// or was corrupt after at least one entry; the rest was not applied.
	IssueLayerTruncated IssueKind = "layer-truncated"
	// IssueDigestMismatch: the layer's bytes do not hash to the manifest's
	// digest or the config's diffID (or could not be verified): what was
	// scanned is not verifiably the content the image names.
	IssueDigestMismatch IssueKind = "digest-mismatch"
	// IssueDiffIDMissing: the config's rootfs.diff_ids is missing or names
	// fewer (or more) layers than the manifest. The walker never computes a
	// diffID by decompressing a layer (a bomb would be inflated once per
	// listing); the layers are read, but their content is not verifiable.
	IssueDiffIDMissing IssueKind = "diffid-missing"
	// IssueWallTimeLimit: the walk took longer than MaxWallTime; the rest of
	// the layer and all later layers were not applied.
	IssueWallTimeLimit IssueKind = "wall-time-limit"
	// IssueImageEntryLimit: the image had more entries than
	// MaxImageEntries (the walker keeps every entry in memory); the rest of
	// the layer and all later layers were not applied.
	IssueImageEntryLimit IssueKind = "image-entry-limit"
)

// Issue is a non-fatal problem reported by Walk.
type Issue struct {
	Kind   IssueKind `json:"kind"`
	Layer  int       `json:"layer"`
	Path   string    `json:"path,omitempty"`
	Detail string    `json:"detail"`
}

// Limit reports whether a limit or budget kept some content from being
// scanned. Such an issue makes a below-threshold verdict incomplete.
func (i Issue) Limit() bool {
	switch i.Kind {
	case IssueFileLimit, IssueEntryLimit, IssueTotalLimit, IssueLayerSizeLimit,
		IssueLayerBytesLimit, IssueRatioLimit, IssuePathLimit, IssueHistoryLimit,
		IssueWallTimeLimit, IssueImageEntryLimit:
		return true
	}
	return false
}

// Integrity reports whether the issue is an integrity error: the image is
// not what its manifest and config name (a truncated or corrupt layer, a
// digest or diffID mismatch, missing diffIDs) or was crafted to write
// outside its root (a tar entry or hard link escaping it). Such an issue
// makes a below-threshold verdict invalid (detectors.Decide).
func (i Issue) Integrity() bool {
	switch i.Kind {
	case IssuePathEscape, IssueLayerTruncated, IssueDigestMismatch, IssueDiffIDMissing:
		return true
	}
	return false
}

// NotScanned reports whether the issue means some content was not scanned
// or not verifiably the content the image names: Limit or Integrity.
func (i Issue) NotScanned() bool { return i.Limit() || i.Integrity() }

// ErrBlobMismatch marks an error opening a layer's blob which shows that
// its source does not serve the blob the manifest names (a registry whose
// Content-Length is not the descriptor's size). The walker makes it an
// IssueDigestMismatch on that layer, whose findings are void and which is
// never cached, instead of failing the whole walk.
var ErrBlobMismatch = errors.New("the blob is not the one the manifest names")
