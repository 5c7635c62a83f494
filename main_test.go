package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when they leave goroutines behind, and removes
// the facade binary the process tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if facadeBinary.path != "" {
			_ = os.RemoveAll(filepath.Dir(facadeBinary.path))
		}
		os.Exit(code)
	}))
}
