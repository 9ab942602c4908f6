package inventory

// For the external tests (package inventory_test), which may import
// packages that import this one (experiments builds the benign corpus).
var (
	CompareWithSyftCLI = compareWithSyftCLI
	SyftCLI            = syftCLI
)
