package store

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
)

// TestConcurrentPutAndImage registers and opens images from many goroutines:
// index.json is rewritten in place, so readers must not see it half written.
func TestConcurrentPutAndImage(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			img, err := random.Image(64, 1)
			if err != nil {
				errs <- err
				return
			}
			d, err := st.Put(img, fmt.Sprintf("img-%d", i), map[string]string{AnnLabel: "benign"})
			if err != nil {
				errs <- err
				return
			}
			for j := 0; j < 20; j++ {
				if _, err := st.Image(d.Digest); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	es, err := st.Entries()
	if err != nil || len(es) != 16 {
		t.Fatalf("entries = %d, %v", len(es), err)
	}
	e, err := st.Lookup("img-3")
	if err != nil || e.Annotation(AnnLabel) != "benign" {
		t.Errorf("lookup img-3 = %+v, %v", e, err)
	}
}
