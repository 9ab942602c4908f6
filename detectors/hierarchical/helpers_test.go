package hierarchical_test

import (
	"bytes"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func repeat(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
