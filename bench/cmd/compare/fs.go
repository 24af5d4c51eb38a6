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
// in wasmbox on the default in-memory filesystem and on a directory on disk,
// and in a native python3 working in a directory on the same disk. Each run
// is timed inside the interpreter, and the three take turns, run by run, so
// that the noise of a shared machine falls on all of them alike.
func fsWorkloads(ctx context.Context, py string, havePy bool, n int) ([]row, error) {
	tmp, err := os.MkdirTemp("", "wasmbox-compare-fs-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, d := range []string{"native", "sandbox"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return nil, err
		}
	}
	mem, err := fsSandbox(ctx, vfs.NewMemFS())
	if err != nil {
		return nil, err
	}
	defer mem.Close(ctx)
	disk, err := fsSandbox(ctx, afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(tmp, "sandbox")))
	if err != nil {
		return nil, err
	}
	defer disk.Close(ctx)
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
		rm := row{name: w.name + ", mem", nativeLabel: "python3, on disk"}
		rd := row{name: w.name + ", disk", nativeLabel: "python3, on disk"}
		for range w.n {
			d, err := fsCell(ctx, mem, w.call)
			if err != nil {
				return nil, fmt.Errorf("%s, mem: %w", w.name, err)
			}
			rm.wasmbox = append(rm.wasmbox, d)
			if d, err = fsCell(ctx, disk, w.call); err != nil {
				return nil, fmt.Errorf("%s, disk: %w", w.name, err)
			}
			rd.wasmbox = append(rd.wasmbox, d)
			if native != nil {
				if d, err = native.run(w.nativeCall); err != nil {
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

func fsSandbox(ctx context.Context, root afero.Fs) (*wasmbox.Sandbox, error) {
	sb, err := wasmbox.New(ctx, wasmbox.WithFS(root))
	if err != nil {
		return nil, err
	}
	if exec, err := sb.RunCode(ctx, bench.PyFSDefs); err != nil || exec.Error != nil {
		_ = sb.Close(ctx)
		return nil, fmt.Errorf("defs: %v %v", err, exec.Error)
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
