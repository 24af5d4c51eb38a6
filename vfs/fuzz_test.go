package vfs_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// FuzzPaths drives the path-taking operations of the Files API (MakeDir,
// WriteBytes, Write, Rename, Remove, List, GetInfo, Read, Chmod) and of the
// guest adapter (OpenFile with every creation flag, Mkdir, Rename, Unlink,
// Rmdir, Stat, Readdir, Utimens) with arbitrary paths — "..", NUL bytes,
// invalid UTF-8, long names, runs of slashes, mount points — on a
// filesystem with a MemFS root, a read-only io/fs mount at /usr/lib, a
// read-only and a writable MemFS mount, and a writable directory on disk.
// After each input it checks that nothing panicked, that nothing appeared
// outside the disk mount's directory nor changed in a read-only mount nor
// under a mount point in the filesystem that contains it, that listing the
// whole tree succeeds with valid UTF-8 names only, and that the quota's
// usage is exactly what the writable mounts hold (so never negative).
//
// The seed corpus (f.Add and testdata/fuzz/FuzzPaths) runs with go test.
// To fuzz, e.g. for five minutes:
//
//	go test -run '^$' -fuzz FuzzPaths -fuzztime 5m ./vfs/
//
// and commit what it finds under testdata/fuzz/FuzzPaths once fixed.
func FuzzPaths(f *testing.F) {
	f.Add("/home/user/a.txt", "/home/user/b", "/tmp/../../x", []byte{1, 0x10, 3, 0x01, 4, 0x20, 5, 0}, []byte("data"))
	f.Add("..", "../..", "/..//..///a", []byte{0, 0, 1, 0x11, 8, 0x22, 10, 0x10, 5, 0x00}, []byte("x"))
	f.Add("a\x00b", "/bad\xff", "\xc3(", []byte{0, 0, 1, 0x10, 2, 0x20, 8, 0x01, 9, 0x02, 10, 0x21, 3, 0x12}, []byte("y"))
	f.Add(strings.Repeat("n", 256), strings.Repeat("d/", 2100), strings.Repeat("/", 300)+"x", []byte{0, 0, 1, 0x01, 0, 0x02, 9, 0x00}, []byte{})
	f.Add("/usr/lib/python313.zip/evil.py", "/usr/lib", "/usr", []byte{0, 0, 1, 0, 3, 0x01, 4, 0x02, 4, 0x01, 7, 0, 11, 0, 12, 0x01, 10, 0x12}, []byte("evil"))
	f.Add("/mnt/disk/../../outside.txt", "/mnt/disk/in", "/mnt/rw/x", []byte{1, 0x00, 1, 0x01, 3, 0x12, 3, 0x21, 8, 0x02, 14, 0x01, 6, 0x00}, []byte("escape"))
	f.Add("/a", "/a/b", "/a/b/c", []byte{0, 0x02, 3, 0x01, 3, 0x02, 10, 0x01, 10, 0x02, 4, 0x00}, []byte{})
	f.Add("/mnt/rw/f", "/mnt/rw/g", "/mnt/ro/f", []byte{8, 0x03, 8, 0x13, 14, 0x00, 11, 0x00, 13, 0x00, 15, 0x01, 3, 0x10, 1, 0x21}, []byte("0123456789"))
	f.Add("/mnt/ro/new", "/mnt/ro/d/e", "/usr/lib/new", []byte{0, 0x00, 0, 0x01, 0, 0x02, 9, 0x00, 9, 0x02, 8, 0x00, 8, 0x02, 1, 0x01, 3, 0x09, 10, 0x19}, []byte("ro"))
	f.Fuzz(func(t *testing.T, a, b, c string, ops []byte, data []byte) {
		if len(ops) > 128 {
			ops = ops[:128]
		}
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		fuzzPaths(t, a, b, c, ops, data)
	})
}

func fuzzPaths(t *testing.T, a, b, c string, ops []byte, data []byte) {
	ctx := context.Background()
	lib := fstest.MapFS{"python313.zip": {Data: []byte("zip")}, "dir/mod.py": {Data: []byte("x = 1\n")}}
	libCopy := fstest.MapFS{}
	for k, v := range lib {
		libCopy[k] = &fstest.MapFile{Data: bytes.Clone(v.Data), Mode: v.Mode}
	}
	root, rw, ro := vfs.NewMemFS(), vfs.NewMemFS(), vfs.NewMemFS()
	if err := afero.WriteFile(ro, "/f", []byte("ro"), 0o644); err != nil {
		t.Fatal(err)
	}
	outer := t.TempDir()
	inside := filepath.Join(outer, "inside")
	if err := os.Mkdir(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outer, "outside.txt"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := afero.NewBasePathFs(afero.NewOsFs(), inside)
	fsys, err := vfs.New(root,
		vfs.WithHome("/home/user"),
		vfs.WithIOFSMount("/usr/lib", lib),
		vfs.WithMount("/mnt/ro", ro, true),
		vfs.WithMount("/mnt/rw", rw, false),
		vfs.WithMount("/mnt/disk", disk, false),
		vfs.WithMaxBytes(1<<20), vfs.WithMaxFiles(300))
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	g := fsys.WASI()

	paths := []string{a, b, c, a + "/" + b, "/", "/usr", "/usr/lib", "/usr/lib/python313.zip",
		"/mnt/ro", "/mnt/ro/f", "/mnt/rw", "/mnt/disk", "/mnt/disk/../../outside.txt", "home", "..", "/tmp"}
	var open []wasip1.File
	defer func() {
		for _, h := range open {
			_ = h.Close()
		}
	}()
	for i := 0; i+1 < len(ops); i += 2 {
		op, sel := ops[i], ops[i+1]
		p, q := paths[sel&15], paths[sel>>4]
		switch op % 16 {
		case 0:
			_, _ = fsys.MakeDir(ctx, p)
		case 1:
			_, _ = fsys.WriteBytes(ctx, p, data)
		case 2:
			_, _ = fsys.Write(ctx, p, iotestReaderBytes(data))
		case 3:
			_, _ = fsys.Rename(ctx, p, q)
		case 4:
			_ = fsys.Remove(ctx, p)
		case 5:
			if entries, err := fsys.List(ctx, p, 3); err == nil {
				for _, e := range entries {
					if !utf8.ValidString(e.Path) {
						t.Fatalf("List(%q) lists %q", p, e.Path)
					}
				}
			}
		case 6:
			_, _ = fsys.GetInfo(ctx, p)
			_, _ = fsys.Exists(ctx, p)
			_, _ = fsys.Read(ctx, p)
		case 7:
			_ = fsys.Chmod(ctx, p, 0o600)
		case 8:
			flag := creat | rdwr
			for bit, fl := range []oflag{excl, trunc, appnd} {
				if sel&(1<<(4+bit)) != 0 {
					flag |= fl
				}
			}
			if h, errno := g.Open(p, of(flag)); errno == 0 {
				_, _ = h.Write(data)
				_, _ = h.Pwrite(data, int64(len(data))*int64(sel&3))
				if sel&0x80 != 0 {
					_ = h.Truncate(int64(sel))
				}
				open = append(open, h)
			}
		case 9:
			_ = g.Mkdir(p)
		case 10:
			_ = g.Rename(p, q)
		case 11:
			_ = g.Unlink(p)
		case 12:
			_ = g.Rmdir(p)
		case 13:
			_, _ = g.Stat(p, true)
			_, _ = g.Stat(p, false)
			if h, errno := g.Open(p, of(rdonly|dir)); errno == 0 {
				_, _ = h.ReadDir(-1)
				_ = h.Close()
			}
		case 14:
			if len(open) > 0 {
				_ = open[0].Close()
				open = open[1:]
			}
		case 15:
			_ = g.Utimes(p, 0, 0)
			if h, errno := g.Open(p, of(rdonly)); errno == 0 {
				_, _ = h.Read(make([]byte, 16))
				open = append(open, h)
			}
		}
		if u := fsys.Usage(); u.Bytes < 0 || u.Files < 0 {
			t.Fatalf("after op %d: usage %+v", i/2, u)
		}
	}
	for _, h := range open {
		_ = h.Close()
	}
	open = nil

	// Nothing outside the disk mount's directory changed.
	entries, err := os.ReadDir(outer)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("the host directory above the mount holds %v", entries)
	}
	if got, err := os.ReadFile(filepath.Join(outer, "outside.txt")); err != nil || string(got) != "host" {
		t.Fatalf("the host file outside: %q %v", got, err)
	}
	// The read-only mounts are unchanged.
	if !mapFSEqual(lib, libCopy) {
		t.Fatal("the io/fs mount changed")
	}
	if tree := walkTree(t, ro); tree != "/ d\n/f -\n" {
		t.Fatalf("the read-only mount changed:\n%s", tree)
	}
	// Mount points are empty directories in the filesystem that holds them.
	for _, p := range []string{"/usr/lib", "/mnt/ro", "/mnt/rw", "/mnt/disk"} {
		names, err := afero.ReadDir(root, p)
		if err != nil || len(names) != 0 {
			t.Fatalf("mount point %s in the root: %v %v", p, names, err)
		}
	}
	// The whole tree lists, with valid names only.
	all, err := fsys.List(ctx, "/", 1000)
	if err != nil {
		t.Fatalf("List(/): %v", err)
	}
	for _, e := range all {
		if !utf8.ValidString(e.Path) {
			t.Fatalf("List(/) lists %q", e.Path)
		}
	}
	var bytesHeld, filesHeld int64
	for _, w := range []afero.Fs{root, rw, disk} {
		n, k := fuzzRecount(t, w)
		bytesHeld += n
		filesHeld += k
	}
	if u := fsys.Usage(); u.Bytes != bytesHeld || u.Files != filesHeld {
		t.Fatalf("usage %+v, the writable mounts hold %d bytes in %d files", u, bytesHeld, filesHeld)
	}
}

// fuzzRecount measures a writable mount as the quota does, checking that
// every name in it is valid UTF-8.
func fuzzRecount(t *testing.T, fsys afero.Fs) (n, files int64) {
	err := afero.Walk(fsys, "/", func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !utf8.ValidString(p) {
			t.Fatalf("%q was created", p)
		}
		if p == "/" {
			return nil
		}
		files++
		if fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, files
}

func walkTree(t *testing.T, fsys afero.Fs) string {
	var sb strings.Builder
	if err := afero.Walk(fsys, "/", func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		kind := "-"
		if fi.IsDir() {
			kind = "d"
		}
		sb.WriteString(p + " " + kind + "\n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func mapFSEqual(x, y fstest.MapFS) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if w, ok := y[k]; !ok || !bytes.Equal(v.Data, w.Data) || v.Mode != w.Mode {
			return false
		}
	}
	return true
}

// iotestReaderBytes is a reader without a Len method, so Write streams it.
type iotestReaderBytes []byte

func (r iotestReaderBytes) Read(p []byte) (int, error) { return copy(p, r), io.EOF }
