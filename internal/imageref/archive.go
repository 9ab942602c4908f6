package imageref

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// openDockerArchive reads a `docker save` tarball through
// go-containerregistry's tarball package; images are selected by tag.
func openDockerArchive(l local, want *v1.Platform) ([]Target, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(l.path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("%s: read docker-archive manifest.json: %w", l.path, err)
	}
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	if l.digest != (v1.Hash{}) {
		return nil, fmt.Errorf("%s is a docker-archive: select its images by tag (%s:REPO:TAG), not by digest; tags: %s", l.path, l.path, listOrNone(tags))
	}
	var tag *name.Tag
	nameStr := l.path
	switch {
	case l.name != "":
		t, err := name.NewTag(l.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a tag: %w", l.path, l.name, err)
		}
		found := false
		for _, s := range tags {
			if st, err := name.NewTag(s); err == nil && st.Name() == t.Name() {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no image tagged %q in docker-archive %s; tags: %s: %w", l.name, l.path, listOrNone(tags), ErrNotFound)
		}
		tag, nameStr = &t, l.path+":"+l.name
	case len(m) == 0:
		return nil, fmt.Errorf("docker-archive %s holds no images", l.path)
	case len(m) > 1:
		return nil, fmt.Errorf("docker-archive %s holds %d images; pick one with %s:REPO:TAG; tags: %s", l.path, len(m), l.path, listOrNone(tags))
	case len(m[0].RepoTags) > 0:
		nameStr = l.path + ":" + strings.Join(m[0].RepoTags, ",")
	}
	img, err := tarball.Image(opener, tag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameStr, err)
	}
	return single(nameStr, img, nil, want)
}
