package syftsbom

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/strata-sec/strata/baselines/inventory"
)

// Serve answers each inventory.Request read from r with an
// inventory.Response line on w, until r ends (nil) or ctx is done. A
// request the helper cannot catalog gets a Response with Error set; only
// an unreadable request stream or an unwritable w end Serve with an error.
func Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	version := SyftVersion()
	for {
		var req inventory.Request
		if err := dec.Decode(&req); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		resp := inventory.Response{Protocol: inventory.Protocol, SyftVersion: version}
		switch {
		case req.Protocol != inventory.Protocol:
			resp.Error = fmt.Sprintf("%s speaks protocol %d, the request %d: rebuild both (make setup)", inventory.HelperName, inventory.Protocol, req.Protocol)
		default:
			s, err := BuildSBOM(ctx, req.Manifest, req.Config, req.Dir, nil)
			if err != nil {
				resp.Error = err.Error()
			} else {
				resp.Packages = Packages(s)
			}
		}
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
}
