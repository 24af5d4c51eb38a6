package python_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/python"
)

// nativePython returns a native python3 that has matplotlib, pandas, numpy
// and Pillow ($WASMBOX_NATIVE_PYTHON, /usr/bin/python3 or python3 on the
// PATH), or skips the test.
func nativePython(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("WASMBOX_NATIVE_PYTHON"), "/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if py == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := exec.CommandContext(ctx, py, "-c", "import matplotlib, numpy, pandas, PIL").Run()
		cancel()
		if err == nil {
			return py
		}
	}
	t.Skip("skipped: no native python3 with matplotlib, numpy, pandas and Pillow " +
		"(Debian: apt-get install python3-matplotlib python3-pandas python3-pil; " +
		"or set WASMBOX_NATIVE_PYTHON); the wasm build's tests cover it there")
	return ""
}

// TestDataDisplayNative runs testdata/test_datadisplay.py: datadisplay.py's
// charts, DataFrame data and images, and the prelude's figures, display()
// and plt.show(), under a native Python with a stand-in for _wasmbox.
func TestDataDisplayNative(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: starts native Python with matplotlib")
	}
	py := nativePython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-m", "unittest", "discover", "-s", "testdata", "-p", "test_datadisplay.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
}

func TestInitCarriesDataDisplay(t *testing.T) {
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(python.Spec().Init(languages.Limits{}), &cfg))
	assert.Equal(t, python.Prelude(), cfg["prelude"])
	assert.Equal(t, python.DataDisplay(), cfg["datadisplay"])
	assert.Contains(t, python.DataDisplay(), "def update_bundle(")
}
