package e2e

import (
	"os"
	"testing"

	"github.com/godwit-db/godwit/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuild()
	os.Exit(code)
}
