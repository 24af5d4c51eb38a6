package shell_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/shell"
	"github.com/wasmbox/wasmbox/vfs"
)

// newFS returns a sandbox filesystem on memory, or on a host directory when
// onDisk is set, with /home/user and /tmp.
func newFS(t *testing.T, onDisk bool) *vfs.FS {
	t.Helper()
	var root afero.Fs = vfs.NewMemFS()
	if onDisk {
		root = afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
	}
	f, err := vfs.New(root, vfs.WithHome("/home/user"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	for _, d := range []string{"/home/user", "/tmp"} {
		if _, err := f.MakeDir(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

type run struct {
	stdout, stderr string
	code           int
	err            error
}

func runIn(t *testing.T, f *vfs.FS, script string, stdin string, extra map[string]shell.Command) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code, err := shell.Run(ctx, script, shell.Config{FS: f, Dir: "/home/user",
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Commands: extra})
	return run{out.String(), errb.String(), code, err}
}
