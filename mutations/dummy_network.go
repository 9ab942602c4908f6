package mutations

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DummyNetworkPath is the path, under the harness server's root, of the
// file dummy-network downloads.
const DummyNetworkPath = "dummy/largefile.zip"

// dummyPayloadSize is the size of the file inside largefile.zip.
const dummyPayloadSize = 1 << 20

// ErrNoServerURL is returned by dummy-network when Env.ServerURL is empty.
var ErrNoServerURL = errors.New("dummy-network needs Env.ServerURL (the harness's loopback server)")

func init() {
	Register(dummyNetwork{info{
		name:        "dummy-network",
		version:     "1",
		description: "inserts a RUN that downloads largefile.zip from the harness's loopback server with wget and deletes it",
		paperRef:    "Table 4: dummy network operation",
	}})
}

// dummyNetwork is the paper's
// `RUN wget https://example.com/largefile.zip -O /tmp/dummy.zip && rm /tmp/dummy.zip`
// against the harness's loopback server instead of example.com (nothing
// leaves the machine). The download's file name carries a number drawn from
// rng, so samples differ even where the final stage has a single insertion
// point. The file is deleted in the same RUN, so the layer does not depend
// on what the server sends; the URL is in the history, so ServerURL must be
// the same across runs for the same digest.
type dummyNetwork struct{ info }

func (dummyNetwork) MutateDockerfile(src []byte, rng *rand.Rand, env Env) ([]byte, error) {
	if env.ServerURL == "" {
		return nil, ErrNoServerURL
	}
	url := strings.TrimSuffix(env.ServerURL, "/") + "/" + DummyNetworkPath
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		f := fmt.Sprintf("/tmp/dummy-%d.zip", rng.Uint32())
		if env.NoWget {
			return []string{bashFetch(url, f)}, nil
		}
		return []string{fmt.Sprintf("RUN wget %s -O %s && rm %s", url, f, f)}, nil
	})
}

// DummyNetworkFiles writes what the harness's server must serve for
// dummy-network under dir: DummyNetworkPath, a valid zip holding 1 MiB of
// pseudo-random bytes from a fixed seed (incompressible, as a real large
// download is), identical on every call.
func DummyNetworkFiles(dir string) error {
	b, err := dummyZip()
	if err != nil {
		return err
	}
	p := filepath.Join(dir, filepath.FromSlash(DummyNetworkPath))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("dummy network files: %w", err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("dummy network files: %w", err)
	}
	return nil
}

func dummyZip() ([]byte, error) {
	payload := make([]byte, dummyPayloadSize)
	r := rand.New(rand.NewPCG(0x5354524154410001, 0x64756d6d79)) // fixed: the file never changes
	for i := 0; i < len(payload); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(payload); j++ {
			payload[i+j] = byte(v >> (8 * j))
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{
		Name:     "largefile.bin",
		Method:   zip.Store, // random bytes do not deflate
		Modified: time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		return nil, fmt.Errorf("dummy zip: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return nil, fmt.Errorf("dummy zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("dummy zip: %w", err)
	}
	return buf.Bytes(), nil
}

// bashFetch is the same download without wget: an HTTP/1.0 GET written to
// bash's /dev/tcp (the harness's server is plain HTTP on loopback), the
// response saved and then deleted, as the wget form does.
func bashFetch(url, file string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	hostport, path, _ := strings.Cut(rest, "/")
	host, port, ok := strings.Cut(hostport, ":")
	if !ok {
		port = "80"
	}
	return fmt.Sprintf(`RUN bash -c 'exec 3<>/dev/tcp/%s/%s && printf "GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n" >&3 && cat <&3 > %s' && test -s %s && rm %s`,
		host, port, path, hostport, file, file, file)
}
