package ehlower

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// featuresAll are the features wazero's spec tests need; the lowered
// modules must compile with the same minus exception handling.
const featuresAll = api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling |
	experimental.CoreFeaturesTailCall | experimental.CoreFeaturesThreads |
	experimental.CoreFeaturesTypedFunctionReferences | experimental.CoreFeaturesExtendedConst

// specModules returns the binary modules of wazero's copy of the spec
// tests that wazero compiles with every feature, by file name.
func specModules(t testing.TB) map[string][]byte {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tetratelabs/wazero").Output()
	if err != nil {
		t.Skipf("cannot find wazero's module: %v", err)
	}
	root := filepath.Join(strings.TrimSpace(string(dir)), "internal", "integration_test", "spectest")
	jsons, _ := filepath.Glob(filepath.Join(root, "*", "testdata", "*.json"))
	if len(jsons) == 0 {
		t.Skipf("no spec tests in %s", root)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(featuresAll))
	defer rt.Close(ctx)
	mods := map[string][]byte{}
	for _, j := range jsons {
		b, err := os.ReadFile(j)
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Commands []struct {
				Type, Filename string
				ModuleType     string `json:"module_type"`
			}
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		for _, c := range spec.Commands {
			if c.Type != "module" || c.ModuleType == "text" || !strings.HasSuffix(c.Filename, ".wasm") {
				continue
			}
			path := filepath.Join(filepath.Dir(j), c.Filename)
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if cm, err := rt.CompileModule(ctx, wasm); err == nil {
				_ = cm.Close(ctx)
				rel, _ := filepath.Rel(root, path)
				mods[rel] = wasm
			}
		}
	}
	return mods
}

// Every spec test module wazero compiles is lowered to one it compiles
// without exception handling, or refused with an error (tags that are not
// (param i32), imported tags): the lowering never writes an invalid
// module, whatever instructions, types and sections it meets.
func TestSpecModules(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and compiles the spec tests of wazero's module")
	}
	mods := specModules(t)
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(featuresAll&^experimental.CoreFeaturesExceptionHandling))
	defer rt.Close(ctx)
	names := make([]string, 0, len(mods))
	for n := range mods {
		names = append(names, n)
	}
	sort.Strings(names)
	lowered, withEH := 0, 0
	refused := map[string]int{}
	for _, n := range names {
		wasm := mods[n]
		out, st, err := Lower(wasm)
		if err != nil {
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			refused[msg]++
			continue
		}
		lowered++
		if st.TryTables+st.Throws+st.ThrowRefs > 0 {
			withEH++
		}
		checkNoEH(t, out)
		if cm, err := rt.CompileModule(ctx, out); err != nil {
			t.Errorf("%s: the lowered module does not compile: %v", n, err)
		} else {
			_ = cm.Close(ctx)
		}
	}
	t.Logf("%d modules: %d lowered (%d with exception handling), refused: %v", len(mods), lowered, withEH, refused)
	if withEH == 0 {
		t.Error("no spec module with exception handling was lowered")
	}
}
