package syftsbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// errNotStaged is what a layer's content is in the helper: stereoscope
// reads the tars strata staged and must never fall back to reading a
// layer itself.
type errNotStaged struct{ digest v1.Hash }

func (e errNotStaged) Error() string {
	return fmt.Sprintf("layer %s was not staged by strata (the helper never decompresses a layer itself)", e.digest)
}

// stagedImage is the image described by manifest and config, whose layers
// have descriptors but no content.
func stagedImage(manifest, config []byte) (v1.Image, error) {
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var cf v1.ConfigFile
	if err := json.Unmarshal(config, &cf); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config lists %d diffIDs for %d layers", len(cf.RootFS.DiffIDs), len(m.Layers))
	}
	return partial.CompressedToImage(staged{manifest: manifest, config: config, m: m})
}

type staged struct {
	manifest, config []byte
	m                *v1.Manifest
}

func (s staged) RawConfigFile() ([]byte, error) { return s.config, nil }
func (s staged) RawManifest() ([]byte, error)   { return s.manifest, nil }

func (s staged) MediaType() (types.MediaType, error) {
	if s.m.MediaType != "" {
		return s.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (s staged) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range s.m.Layers {
		if d.Digest == h {
			return stagedLayer{d}, nil
		}
	}
	return nil, fmt.Errorf("no layer %s in the manifest", h)
}

type stagedLayer struct{ d v1.Descriptor }

func (l stagedLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l stagedLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l stagedLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }
func (l stagedLayer) Compressed() (io.ReadCloser, error)  { return nil, errNotStaged{l.d.Digest} }
