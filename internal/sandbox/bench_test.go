package sandbox_test

import (
	"os"
	"testing"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dt.RemoveLargeImage() // BenchmarkLayerStoreCold's image
	os.Exit(code)
}
