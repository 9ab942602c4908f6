package experiments

import (
	"os"
	"testing"

	"github.com/strata-sec/strata/internal/testenv"
)

// TestMain removes what testenv started or built (the SBOM helper).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
