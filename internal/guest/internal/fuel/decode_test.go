package fuel

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// The decoder knows every instruction wazero runs: it decodes every module
// of wazero's copy of the spec tests that wazero compiles with all its
// features (SIMD, exception handling, tail calls, threads, typed function
// references, extended constants), every function body ending where its
// size says with its blocks balanced.
func TestDecodeSpecTests(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the spec tests of wazero's module")
	}
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
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(api.CoreFeaturesV2|
		experimental.CoreFeaturesExceptionHandling|experimental.CoreFeaturesTailCall|experimental.CoreFeaturesThreads|
		experimental.CoreFeaturesTypedFunctionReferences|experimental.CoreFeaturesExtendedConst))
	defer rt.Close(ctx)
	var modules, bodies int
	seen := map[string]int{} // instructions of interest decoded
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
			if c, err := rt.CompileModule(ctx, wasm); err != nil {
				continue // wazero does not run it either
			} else {
				_ = c.Close(ctx)
			}
			m, err := parseModule(wasm, testOpts)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			modules++
			for _, s := range m.sections {
				if s.ID != 10 {
					continue
				}
				bs, err := splitBodies(wasm[s.Start:s.End])
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				for k, body := range bs {
					var fi funcInfo
					if err := analyse(body, &fi, testOpts); err != nil {
						t.Errorf("%s: function %d: %v", path, m.funcImports+uint32(k), err)
					}
					bodies++
					count(body, fi.exprStart, seen)
				}
			}
		}
	}
	t.Logf("%d modules, %d function bodies: %v", modules, bodies, seen)
	for _, k := range []string{"try_table", "throw", "throw_ref", "simd", "simd lane", "v128.const/shuffle", "atomic"} {
		if seen[k] == 0 {
			t.Errorf("the spec tests decoded no %s instruction", k)
		}
	}
}

// count tallies some kinds of instructions of a body, to show what the spec
// tests covered.
func count(body []byte, start int, seen map[string]int) {
	r := &reader{B: body, P: start}
	for r.P < len(body) && r.Err == nil {
		in := r.Next()
		switch {
		case in.Op == opTryTable:
			seen["try_table"]++
		case in.Op == opThrow:
			seen["throw"]++
		case in.Op == opThrowRef:
			seen["throw_ref"]++
		case in.Op == opPrefixFD && (in.Sub == 0x0c || in.Sub == 0x0d):
			seen["v128.const/shuffle"]++
		case in.Op == opPrefixFD && (in.Sub >= 0x15 && in.Sub <= 0x22 || in.Sub >= 0x54 && in.Sub <= 0x5b):
			seen["simd lane"]++
		case in.Op == opPrefixFD:
			seen["simd"]++
		case in.Op == opPrefixFE:
			seen["atomic"]++
		}
	}
}

// A type section entry can be a rec group of several function types (wazero
// accepts them): the type Instrument appends takes the next type index, and
// the entry count grows by one.
func TestRecGroupTypes(t *testing.T) {
	types := []byte{2, // entries
		typeRec, 2, typeFunc, 0, 0, typeFunc, 1, typeI32, 0, // rec: () -> (), (i32) -> ()
		typeFunc, 0, 1, typeI32} // () -> i32
	imports := append(append([]byte{1, 7}, "wasmbox"...), 5)
	imports = append(append(imports, "yield"...), 0, 0) // func of type 0
	body := []byte{0, opLoop, blockEmpty, opEnd, opI32Const, 7, opEnd}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	wasm = appendSection(wasm, 1, types)
	wasm = appendSection(wasm, 2, imports)
	wasm = appendSection(wasm, 3, []byte{1, 2})
	wasm = appendSection(wasm, 5, []byte{1, 0, 1}) // the bulk-memory helpers need a memory
	wasm = appendSection(wasm, 7, []byte{1, 1, 'f', 0, 1})
	wasm = appendSection(wasm, 10, append([]byte{1, byte(len(body))}, body...))

	m, err := parseModule(wasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if m.typeEntries != 2 || m.nTypes != 3 || !m.addBulkType || m.bulkType != 3 {
		t.Errorf("entries %d, types %d, bulk type %d (added %v)", m.typeEntries, m.nTypes, m.bulkType, m.addBulkType)
	}
	out, st, err := Instrument(wasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops != 1 {
		t.Errorf("stats: %+v", st)
	}
	mod, _ := instantiate(t, out)
	if got := call(t, mod, "f")[0]; got != 7 {
		t.Errorf("f() = %d", got)
	}
}
