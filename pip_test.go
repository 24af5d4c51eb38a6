package wasmbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
)

// indexWheel builds a wheel whose files are given, plus its dist-info.
func indexWheel(t *testing.T, name, version string, files map[string]string, requires ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	add := func(p, s string) {
		w, err := z.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
	}
	for p, s := range files {
		add(p, s)
	}
	info := fmt.Sprintf("%s-%s.dist-info/", name, version)
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version)
	for _, r := range requires {
		meta += "Requires-Dist: " + r + "\n"
	}
	add(info+"METADATA", meta)
	add(info+"WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	add(info+"RECORD", "")
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPipInstall installs pure-Python wheels from a local index (PEP 691
// JSON and PEP 503 HTML pages) that the policy allows.
func TestPipInstall(t *testing.T) {
	files := map[string][]byte{
		"greet_wasm-1.0-py3-none-any.whl": indexWheel(t, "greet_wasm", "1.0", map[string]string{"greet_wasm/__init__.py": "OLD = True\n"}),
		"greet_wasm-2.0-py3-none-any.whl": indexWheel(t, "greet_wasm", "2.0",
			map[string]string{"greet_wasm/__init__.py": "from dep_wasm import WORD\nGREETING = 'hello ' + WORD\n"},
			"dep-wasm>=1", `unused-wasm; python_version < "3.0"`, `extra-wasm; extra == "more"`),
		"greet_wasm-3.0b1-py3-none-any.whl":                   indexWheel(t, "greet_wasm", "3.0b1", map[string]string{"greet_wasm/__init__.py": "BETA = True\n"}),
		"dep_wasm-1.5-py2.py3-none-any.whl":                   indexWheel(t, "dep_wasm", "1.5", map[string]string{"dep_wasm.py": "WORD = 'world'\n"}),
		"fast_wasm-1.0-cp313-cp313-manylinux_2_17_x86_64.whl": []byte("not for here"),
		"fast_wasm-1.0.tar.gz":                                []byte("sdist"),
		"shell_wasm-1.0-py3-none-any.whl":                     indexWheel(t, "shell_wasm", "1.0", map[string]string{"shell_wasm.py": "HOW = 'shell'\n"}),
	}
	sum := func(f string) string { s := sha256.Sum256(files[f]); return hex.EncodeToString(s[:]) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		if data, ok := files[strings.TrimPrefix(p, "files/")]; ok && strings.HasPrefix(p, "files/") {
			w.Write(data)
			return
		}
		project := strings.Trim(strings.TrimPrefix(p, "simple/"), "/")
		var names []string
		for f := range files {
			if strings.HasPrefix(strings.ReplaceAll(f, "_", "-"), project+"-") {
				names = append(names, f)
			}
		}
		if len(names) == 0 {
			http.NotFound(w, r)
			return
		}
		if project == "dep-wasm" { // PEP 503 HTML
			for _, f := range names {
				fmt.Fprintf(w, `<a href="../../files/%s#sha256=%s">%s</a>`+"\n", f, sum(f), f)
			}
			return
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		var entries []string
		for _, f := range names {
			entries = append(entries, fmt.Sprintf(`{"filename": %q, "url": "/files/%s", "hashes": {"sha256": %q}}`, f, f, sum(f)))
		}
		fmt.Fprintf(w, `{"meta": {"api-version": "1.0"}, "name": %q, "files": [%s]}`, project, strings.Join(entries, ","))
	}))
	defer srv.Close()
	sb := netSandbox(t, network.Policy{Allow: []string{srv.Listener.Addr().String()}},
		wasmbox.WithEnvs(map[string]string{"PIP_INDEX_URL": srv.URL + "/simple"}))

	ex := runOK(t, sb, "%pip install greet-wasm\nimport greet_wasm\ngreet_wasm.GREETING")
	wantText(t, ex, "hello world")
	out := strings.Join(ex.Logs.Stdout, "")
	if !strings.Contains(out, "Successfully installed greet_wasm-2.0 dep_wasm-1.5") {
		t.Fatalf("stdout: %s\nstderr: %s", out, ex.Logs.Stderr)
	}
	// Installed into site-packages, with metadata.
	wantText(t, runOK(t, sb, "import importlib.metadata as m\n(m.version('greet-wasm'), m.version('dep-wasm'), greet_wasm.__file__)"),
		"('2.0', '1.5', '/usr/local/lib/python3.13/site-packages/greet_wasm/__init__.py')")
	ex = runOK(t, sb, "%pip install greet-wasm")
	if out := strings.Join(ex.Logs.Stdout, ""); !strings.Contains(out, "Requirement already satisfied") {
		t.Fatalf("again: %s", out)
	}
	// Compiled extensions only: a clear error, and the cell goes on.
	ex = runOK(t, sb, "%pip install fast-wasm\n1")
	wantText(t, ex, "1")
	if errOut := strings.Join(ex.Logs.Stderr, ""); !strings.Contains(errOut, "no pure-Python wheel") {
		t.Fatalf("compiled: %s", errOut)
	}
	ex = runOK(t, sb, "%pip install no-such-wasm")
	if errOut := strings.Join(ex.Logs.Stderr, ""); !strings.Contains(errOut, "No matching distribution found for no-such-wasm") {
		t.Fatalf("missing: %s", errOut)
	}
	// An index the policy does not allow.
	ex = runOK(t, sb, "%pip install -i https://pypi.org/simple other-wasm")
	if errOut := strings.Join(ex.Logs.Stderr, ""); !strings.Contains(errOut, "not in the allow-list") {
		t.Fatalf("refused index: %s", errOut)
	}
	// The shell's pip (a command, and !pip in a cell) installs from the
	// same index, and its status says whether it did.
	ctx := context.Background()
	res, err := sb.Commands().Run(ctx, "pip install shell-wasm")
	if err != nil || res.ExitCode != 0 || !strings.Contains(res.Stdout, "Successfully installed shell_wasm-1.0") {
		t.Fatalf("pip install through the shell: %v, %+v", err, res)
	}
	wantText(t, runOK(t, sb, "import shell_wasm\nshell_wasm.HOW"), "shell")
	res, err = sb.Commands().Run(ctx, "pip install no-such-wasm")
	if err != nil || res.ExitCode != 1 || !strings.Contains(res.Stderr, "No matching distribution found for no-such-wasm") {
		t.Fatalf("pip install of a missing package through the shell: %v, %+v", err, res)
	}
}
