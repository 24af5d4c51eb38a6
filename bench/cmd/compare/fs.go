package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/vfs"
)

// fsWorkloads runs bench.PyFSDefs — 1,000 small files, one 100 MiB file —
// in wasmbox on each engine, on the default in-memory filesystem and on a
// directory on disk, and in a native python3 working in a directory on the
// same disk. Each run is timed inside the interpreter, and all of them take
// turns, run by run, so that the noise of a shared machine falls on all of
// them alike.
func fsWorkloads(ctx context.Context, es []engine, py string, havePy bool, n int) ([]row, error) {
	tmp, err := os.MkdirTemp("", "wasmbox-compare-fs-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "native"), 0o755); err != nil {
		return nil, err
	}
	mem := make([]*wasmbox.Sandbox, len(es))
	disk := make([]*wasmbox.Sandbox, len(es))
	defer func() {
		for _, sb := range append(mem, disk...) {
			if sb != nil {
				_ = sb.Close(ctx)
			}
		}
	}()
	for i, e := range es {
		if mem[i], err = fsSandbox(ctx, e, vfs.NewMemFS()); err != nil {
			return nil, err
		}
		dir := filepath.Join(tmp, "sandbox-"+e.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if disk[i], err = fsSandbox(ctx, e, afero.NewBasePathFs(afero.NewOsFs(), dir)); err != nil {
			return nil, err
		}
	}
	var native *nativeFS
	if havePy {
		if native, err = startNativeFS(py); err != nil {
			return nil, err
		}
		defer native.close()
	}

	workloads := []struct {
		name, call, nativeCall string
		n                      int
	}{
		{"1,000 small files", "fs_small('/home/user/bench')",
			fmt.Sprintf("fs_small(%q)", filepath.Join(tmp, "native", "bench")), n},
		{"100 MiB file", "fs_large('/home/user/big.bin')",
			fmt.Sprintf("fs_large(%q)", filepath.Join(tmp, "native", "big.bin")), max(3, n/4)},
	}
	var rows []row
	for _, w := range workloads {
		rm := row{name: w.name + ", mem", nativeLabel: "python3, on disk", wasm: make([][]time.Duration, len(es))}
		rd := row{name: w.name + ", disk", nativeLabel: "python3, on disk", wasm: make([][]time.Duration, len(es))}
		for range w.n {
			for i, e := range es {
				d, err := fsCell(ctx, mem[i], w.call)
				if err != nil {
					return nil, fmt.Errorf("%s, mem, %s: %w", w.name, e.name, err)
				}
				rm.wasm[i] = append(rm.wasm[i], d)
				if d, err = fsCell(ctx, disk[i], w.call); err != nil {
					return nil, fmt.Errorf("%s, disk, %s: %w", w.name, e.name, err)
				}
				rd.wasm[i] = append(rd.wasm[i], d)
			}
			if native != nil {
				d, err := native.run(w.nativeCall)
				if err != nil {
					return nil, fmt.Errorf("%s, native: %w", w.name, err)
				}
				rm.native = append(rm.native, d)
			}
		}
		rd.native = rm.native
		rows = append(rows, rm, rd)
	}
	return rows, nil
}

func fsSandbox(ctx context.Context, e engine, root afero.Fs) (*wasmbox.Sandbox, error) {
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e.e), wasmbox.WithFS(root))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	if exec, err := sb.RunCode(ctx, bench.PyFSDefs); err != nil || exec.Error != nil {
		_ = sb.Close(ctx)
		if err == nil {
			err = fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
		}
		return nil, fmt.Errorf("%s: defs: %w", e.name, err)
	}
	return sb, nil
}

// fsCell runs one workload call and returns the time it measured.
func fsCell(ctx context.Context, sb *wasmbox.Sandbox, call string) (time.Duration, error) {
	exec, err := sb.RunCode(ctx, call, wasmbox.WithTimeout(5*time.Minute))
	if err != nil {
		return 0, err
	}
	if exec.Error != nil {
		return 0, fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
	}
	return parseSeconds(exec.Text())
}

// nativeFS is a python3 with bench.PyFSDefs that evaluates the calls it is
// sent, one per line, and answers each with its result.
type nativeFS struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startNativeFS(py string) (*nativeFS, error) {
	cmd := exec.Command(py, "-u", "-c", bench.PyFSDefs+"\nimport sys\nfor line in sys.stdin:\n    print(eval(line), flush=True)\n")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &nativeFS{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}, nil
}

func (n *nativeFS) run(call string) (time.Duration, error) {
	if _, err := io.WriteString(n.stdin, call+"\n"); err != nil {
		return 0, err
	}
	line, err := n.out.ReadString('\n')
	if err != nil {
		return 0, err
	}
	return parseSeconds(line)
}

func (n *nativeFS) close() {
	_ = n.stdin.Close()
	_ = n.cmd.Wait()
}

func parseSeconds(s string) (time.Duration, error) {
	sec, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("not a duration in seconds: %q", s)
	}
	return time.Duration(sec * float64(time.Second)), nil
}
