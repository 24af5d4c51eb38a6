package network

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// guestFS drives the guest's "/" (the VFS's WASI view wrapped by the
// device) as the tests use it.
type guestFS struct{ fsys wasip1.FS }

func (g guestFS) open(p string, o wasip1.OpenFlags) (wasip1.File, wasip1.Errno) {
	return g.fsys.Open(p, o)
}

func (g guestFS) stat(p string, follow bool) (wasip1.Filestat, wasip1.Errno) {
	return g.fsys.Stat(p, follow)
}

func (g guestFS) unlink(p string) wasip1.Errno { return g.fsys.Unlink(p) }

func (g guestFS) readdir(p string) ([]string, wasip1.Errno) {
	f, errno := g.fsys.Open(p, wasip1.OpenFlags{Read: true, Directory: true})
	if errno != 0 {
		return nil, errno
	}
	defer f.Close()
	ents, errno := f.ReadDir(0)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	return names, errno
}

// newRoot returns an empty in-memory VFS.
func newRoot(t *testing.T) *vfs.FS {
	t.Helper()
	root, err := vfs.New(vfs.NewMemFS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Close() })
	return root
}

// newDevice returns a device with policy p, served in front of an empty VFS
// (returned too).
func newDevice(t *testing.T, p Policy) (*Device, guestFS, *vfs.FS) {
	t.Helper()
	cl, err := NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	d := NewDevice(cl)
	root := newRoot(t)
	return d, guestFS{d.WrapWASI(root.WASI())}, root
}

var (
	oWrite = wasip1.OpenFlags{Write: true, Create: true, Trunc: true} // as Python's os.open(O_WRONLY|O_CREAT|O_TRUNC)
	oRead  = wasip1.OpenFlags{Read: true}
)

func writeReq(t *testing.T, fsys guestFS, name string, data []byte) wasip1.Errno {
	t.Helper()
	f, errno := fsys.open("dev/wasmbox/net/"+name, oWrite)
	if errno != 0 {
		t.Fatalf("open for writing: %v", errno)
	}
	defer f.Close()
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		if _, errno := f.Write(data[:n]); errno != 0 {
			return errno
		}
		data = data[n:]
	}
	return 0
}

// readAll reads f to its end in small reads (the head and the body in
// pieces).
func readAll(f wasip1.File) (string, wasip1.Errno) {
	var out []byte
	buf := make([]byte, 7)
	for {
		n, errno := f.Read(buf)
		if errno != 0 {
			return string(out), errno
		}
		if n == 0 {
			return string(out), 0
		}
		out = append(out, buf[:n]...)
	}
}

func readResp(t *testing.T, fsys guestFS, name string) (string, wasip1.Errno) {
	t.Helper()
	f, errno := fsys.open("dev/wasmbox/net/"+name, oRead)
	if errno != 0 {
		t.Fatalf("open for reading: %v", errno)
	}
	defer f.Close()
	return readAll(f)
}

// echoServer answers "METHOD URI BODY".
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// request is a request for the device: its preamble, then HTTP/1.1.
func request(base, method, target, body string) []byte {
	return []byte(fmt.Sprintf("{\"base\": %q}\n%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", base, method, target, len(body), body))
}

func TestDevice(t *testing.T) {
	srv := echoServer(t)
	d, fsys, _ := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}, MaxRequestBytes: 1 << 20})
	req := func(method, target, body string) []byte { return request(srv.URL, method, target, body) }

	// Outside a cell nothing is sent.
	writeReq(t, fsys, "a", req("GET", "/", ""))
	if got, _ := readResp(t, fsys, "a"); !strings.Contains(got, ErrNoCell.Error()) {
		t.Fatalf("outside a cell: %q", got)
	}

	end := d.Begin(context.Background(), nil)
	writeReq(t, fsys, "a", req("POST", "/p?q=1", "body"))
	got, errno := readResp(t, fsys, "a")
	if errno != 0 || !strings.HasPrefix(got, `{"status":200,"reason":"OK"`) || !strings.Contains(got, "\r\nConnection: close\r\n\r\nPOST /p?q=1 body") {
		t.Fatalf("response: %q, %v", got, errno)
	}
	// Read again: the head only, the body was read once.
	if again, _ := readResp(t, fsys, "a"); !strings.HasPrefix(again, `{"status":200`) || strings.Contains(again, "POST /p") {
		t.Fatalf("second read: %q", again)
	}
	// A name never written, a malformed request.
	if got, _ := readResp(t, fsys, "nope"); !strings.Contains(got, `"error":"no request named`) {
		t.Fatalf("unknown name: %q", got)
	}
	writeReq(t, fsys, "bad", []byte("GET / HTTP/1.1\r\n\r\n"))
	if got, _ := readResp(t, fsys, "bad"); !strings.Contains(got, "malformed request") {
		t.Fatalf("malformed: %q", got)
	}
	// A host the policy does not allow.
	writeReq(t, fsys, "far", request("http://192.0.2.1:80", "GET", "/", ""))
	if got, _ := readResp(t, fsys, "far"); !strings.Contains(got, `"kind":"refused"`) {
		t.Fatalf("refused: %q", got)
	}
	// Too large: the write fails, and reading says why.
	if errno := writeReq(t, fsys, "big", append(req("POST", "/", ""), make([]byte, 2<<20)...)); errno != wasip1.EIO {
		t.Fatalf("large write: %v", errno)
	}
	if got, _ := readResp(t, fsys, "big"); !strings.Contains(got, `"kind":"limit"`) {
		t.Fatalf("large: %q", got)
	}
	// Requests written and never read are bounded in bytes across the cell.
	var failed bool
	for i := 0; i < 8 && !failed; i++ {
		failed = writeReq(t, fsys, fmt.Sprint("w", i), append(req("POST", "/", ""), make([]byte, 900<<10)...)) != 0
	}
	if !failed {
		t.Fatal("unsent requests are not bounded")
	}
	end()
	// After the cell, writes and reads fail or say so.
	if got, _ := readResp(t, fsys, "w0"); !strings.Contains(got, ErrNoCell.Error()) {
		t.Fatalf("after the cell: %q", got)
	}
	if errno := writeReq(t, fsys, "late", req("GET", "/", "")); errno != wasip1.EIO {
		t.Fatalf("write after the cell: %v", errno)
	}
}

// A request file counts what was written; the device's files refuse what
// they do not do with ENOSYS.
func TestDeviceFiles(t *testing.T) {
	srv := echoServer(t)
	d, fsys, _ := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}})
	defer d.Begin(context.Background(), nil)()
	data := request(srv.URL, "GET", "/x", "")

	f, errno := fsys.open("dev/wasmbox/net/r", wasip1.OpenFlags{Read: true, Write: true}) // read-write: a request
	if errno != 0 {
		t.Fatal(errno)
	}
	if n, errno := f.Write(data); n != len(data) || errno != 0 {
		t.Fatalf("write: %d, %v", n, errno)
	}
	if st, errno := f.Stat(); errno != 0 || st.Type != wasip1.FiletypeRegularFile || st.Size != uint64(len(data)) || st.Nlink != 1 {
		t.Fatalf("stat of a request: %+v, %v", st, errno)
	}
	if _, errno := f.Read(make([]byte, 4)); errno != wasip1.ENOSYS {
		t.Fatalf("read of a request: %v", errno)
	}
	if _, errno := f.Lseek(0, 0); errno != wasip1.ENOSYS {
		t.Fatalf("seek of a request: %v", errno)
	}
	if errno := f.Close(); errno != 0 {
		t.Fatal(errno)
	}

	f, errno = fsys.open("dev/wasmbox/net/r", oRead)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer f.Close()
	if _, errno := f.Write([]byte("x")); errno != wasip1.ENOSYS {
		t.Fatalf("write of a response: %v", errno)
	}
	if st, errno := f.Stat(); errno != 0 || st.Type != wasip1.FiletypeRegularFile || st.Nlink != 1 {
		t.Fatalf("stat of a response: %+v, %v", st, errno)
	}
	if got, errno := readAll(f); errno != 0 || !strings.HasSuffix(got, "\r\n\r\nGET /x ") {
		t.Fatalf("response: %q, %v", got, errno)
	}
}

// Every name under DevDir exists as a regular file; a name used as a
// directory is ENOTDIR; DevDir itself, deeper paths and everything else are
// the wrapped file system's.
func TestDeviceNames(t *testing.T) {
	d, fsys, root := newDevice(t, Policy{Allow: []string{"127.0.0.1"}})
	for _, follow := range []bool{true, false} {
		st, errno := fsys.stat("dev/wasmbox/net/probe", follow)
		if errno != 0 || st.Type != wasip1.FiletypeRegularFile || st.Nlink != 1 || st.Size != 0 {
			t.Fatalf("stat (follow %v): %+v, %v", follow, st, errno)
		}
		if _, errno := fsys.stat("dev/wasmbox/net/probe/", follow); errno != wasip1.ENOTDIR {
			t.Fatalf("stat with a slash (follow %v): %v", follow, errno)
		}
	}
	for _, o := range []wasip1.OpenFlags{{Read: true, Directory: true}, oWrite} {
		if _, errno := fsys.open("dev/wasmbox/net/probe/", o); errno != wasip1.ENOTDIR {
			t.Fatalf("open %+v with a slash: %v", o, errno)
		}
	}
	if _, errno := fsys.open("dev/wasmbox/net/probe", wasip1.OpenFlags{Read: true, Directory: true}); errno != wasip1.ENOTDIR {
		t.Fatalf("open as a directory: %v", errno)
	}
	if errno := fsys.unlink("dev/wasmbox/net/probe/"); errno != wasip1.ENOTDIR {
		t.Fatalf("unlink with a slash: %v", errno)
	}

	// DevDir is the wrapped file system's: absent from an empty root.
	if _, errno := fsys.stat("dev/wasmbox/net", true); errno != wasip1.ENOENT {
		t.Fatalf("stat of DevDir in an empty root: %v", errno)
	}
	if _, errno := fsys.readdir("dev/wasmbox/net"); errno != wasip1.ENOENT {
		t.Fatalf("readdir of DevDir in an empty root: %v", errno)
	}
	if _, errno := fsys.stat("dev/wasmbox/net/a/b", true); errno != wasip1.ENOENT {
		t.Fatalf("stat below a name: %v", errno)
	}
	ctx := context.Background()
	if _, err := root.WriteBytes(ctx, "/dev/wasmbox/net/host", []byte("on the root")); err != nil {
		t.Fatal(err)
	}
	if st, errno := fsys.stat("dev/wasmbox/net", true); errno != 0 || st.Type != wasip1.FiletypeDirectory {
		t.Fatalf("stat of DevDir: %+v, %v", st, errno)
	}
	if names, errno := fsys.readdir("dev/wasmbox/net"); errno != 0 || !slices.Equal(names, []string{"host"}) {
		t.Fatalf("readdir of DevDir: %q, %v", names, errno)
	}
	// ... but its names are the device's.
	if st, errno := fsys.stat("dev/wasmbox/net/host", true); errno != 0 || st.Size != 0 {
		t.Fatalf("stat of a name the root has: %+v, %v", st, errno)
	}
	end := d.Begin(ctx, nil)
	if got, _ := readResp(t, fsys, "host"); !strings.Contains(got, `"error":"no request named \"host\"`) {
		t.Fatalf("read of a name the root has: %q", got)
	}
	if errno := fsys.unlink("dev/wasmbox/net/host"); errno != 0 {
		t.Fatal(errno)
	}
	end()
	if b, err := root.Read(ctx, "/dev/wasmbox/net/host"); err != nil || string(b) != "on the root" {
		t.Fatalf("the root's file: %q, %v", b, err)
	}

	// Elsewhere, the root.
	f, errno := fsys.open("notes.txt", oWrite)
	if errno != 0 {
		t.Fatal(errno)
	}
	if _, errno := f.Write([]byte("hello")); errno != 0 {
		t.Fatal(errno)
	}
	f.Close()
	if b, err := root.Read(ctx, "/notes.txt"); err != nil || string(b) != "hello" {
		t.Fatalf("a file elsewhere: %q, %v", b, err)
	}
	if st, errno := fsys.stat("notes.txt", false); errno != 0 || st.Size != 5 {
		t.Fatalf("stat elsewhere: %+v, %v", st, errno)
	}
	if errno := fsys.unlink("notes.txt"); errno != 0 {
		t.Fatal(errno)
	}
	if _, errno := fsys.stat("notes.txt", true); errno != wasip1.ENOENT {
		t.Fatalf("unlink elsewhere: %v", errno)
	}
}

// Unlink forgets a request and closes its response; it always succeeds.
func TestDeviceUnlink(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first part"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	d, fsys, _ := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}})
	if errno := fsys.unlink("dev/wasmbox/net/a"); errno != 0 {
		t.Fatalf("unlink outside a cell: %v", errno)
	}
	defer d.Begin(context.Background(), nil)()
	if errno := fsys.unlink("dev/wasmbox/net/never"); errno != 0 {
		t.Fatalf("unlink of a name never written: %v", errno)
	}
	writeReq(t, fsys, "a", request(srv.URL, "GET", "/", ""))
	if errno := fsys.unlink("dev/wasmbox/net/a"); errno != 0 {
		t.Fatal(errno)
	}
	if got, _ := readResp(t, fsys, "a"); !strings.Contains(got, "no request named") {
		t.Fatalf("read after unlink: %q", got)
	}

	// Unlinking a response being read closes its body.
	writeReq(t, fsys, "b", request(srv.URL, "GET", "/", ""))
	f, errno := fsys.open("dev/wasmbox/net/b", oRead)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer f.Close()
	var got []byte
	buf := make([]byte, 64)
	for !strings.HasSuffix(string(got), "first part") {
		n, errno := f.Read(buf)
		if errno != 0 || n == 0 {
			t.Fatalf("read: %q, %v", got, errno)
		}
		got = append(got, buf[:n]...)
	}
	if errno := fsys.unlink("dev/wasmbox/net/b"); errno != 0 {
		t.Fatal(errno)
	}
	if _, errno := f.Read(buf); errno != wasip1.EIO {
		t.Fatalf("read after unlink: %v", errno)
	}
}

// A request ends with its cell: when the cell's ctx ends, when stop is
// closed, when the cell ends, or at its own timeout.
func TestDeviceInterrupted(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Write([]byte("first part"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	type cell struct {
		interrupt func() // ends the cell's requests
		end       func()
	}
	starts := map[string]func(d *Device) cell{
		"stop": func(d *Device) cell {
			stop := make(chan struct{})
			return cell{func() { close(stop) }, d.Begin(context.Background(), stop)}
		},
		"ctx": func(d *Device) cell {
			ctx, cancel := context.WithCancel(context.Background())
			return cell{cancel, d.Begin(ctx, nil)}
		},
		"end": func(d *Device) cell {
			end := d.Begin(context.Background(), nil)
			return cell{end, end}
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			d, fsys, _ := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}})

			// Waiting for the head.
			c := start(d)
			writeReq(t, fsys, "a", request(srv.URL, "GET", "/", ""))
			timer := time.AfterFunc(100*time.Millisecond, c.interrupt)
			got, errno := readResp(t, fsys, "a")
			timer.Stop()
			if errno != 0 || !strings.Contains(got, `"kind":"interrupted"`) || !strings.Contains(got, Interrupted) {
				t.Fatalf("head: %q, %v", got, errno)
			}
			c.end()

			// Reading the body.
			c = start(d)
			writeReq(t, fsys, "b", request(srv.URL, "GET", "/body", ""))
			f, errno := fsys.open("dev/wasmbox/net/b", oRead)
			if errno != 0 {
				t.Fatal(errno)
			}
			defer f.Close()
			var body []byte
			buf := make([]byte, 64)
			for !strings.HasSuffix(string(body), "first part") {
				n, errno := f.Read(buf)
				if errno != 0 || n == 0 {
					t.Fatalf("body: %q, %v", body, errno)
				}
				body = append(body, buf[:n]...)
			}
			c.interrupt()
			if _, errno := f.Read(buf); errno != wasip1.EIO {
				t.Fatalf("read after the interrupt: %v", errno)
			}
			if name != "end" { // the cell still runs: its .error says why
				if got, errno := readResp(t, fsys, "b.error"); errno != 0 || got != Interrupted {
					t.Fatalf("b.error: %q, %v", got, errno)
				}
			}
			c.end()
		})
	}

	t.Run("timeout", func(t *testing.T) {
		d, fsys, _ := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}})
		defer d.Begin(context.Background(), nil)()
		writeReq(t, fsys, "a", []byte(fmt.Sprintf("{\"base\": %q, \"timeout\": 0.1}\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", srv.URL)))
		if got, errno := readResp(t, fsys, "a"); errno != 0 || !strings.Contains(got, `"kind":"timeout"`) {
			t.Fatalf("timeout: %q, %v", got, errno)
		}
		writeReq(t, fsys, "b", []byte(fmt.Sprintf("{\"base\": %q, \"timeout\": 0.2}\nGET /body HTTP/1.1\r\nHost: x\r\n\r\n", srv.URL)))
		got, errno := readResp(t, fsys, "b")
		if errno != wasip1.EIO || !strings.HasSuffix(got, "first part") {
			t.Fatalf("body timeout: %q, %v", got, errno)
		}
		if got, _ := readResp(t, fsys, "b.error"); got != "the request timed out" {
			t.Fatalf("b.error: %q", got)
		}
	})
}

// wasiGuestMem drives wasip1's functions with a guest memory, the way
// wasi-libc calls them.
type wasiGuestMem struct {
	t   *testing.T
	in  *wasip1.Instance
	mem []byte
	fns map[string]wasip1.Func
}

// Guest memory layout.
const (
	gIovec  = 0
	gResult = 64
	gStat   = 128
	gPath   = 256
	gBuf    = 1024
)

func (g *wasiGuestMem) call(name string, args ...uint64) wasip1.Errno {
	g.t.Helper()
	fn, ok := g.fns[name]
	if !ok || len(fn.Params) != len(args) {
		g.t.Fatalf("%s: no such function with %d parameters", name, len(args))
	}
	return fn.Call(context.Background(), g.in, g.mem, args)
}

func (g *wasiGuestMem) path(p string) (uint64, uint64) {
	copy(g.mem[gPath:], p)
	return gPath, uint64(len(p))
}

func (g *wasiGuestMem) u32(at int) uint32 {
	return uint32(g.mem[at]) | uint32(g.mem[at+1])<<8 | uint32(g.mem[at+2])<<16 | uint32(g.mem[at+3])<<24
}

func (g *wasiGuestMem) u64(at int) uint64 { return uint64(g.u32(at)) | uint64(g.u32(at+4))<<32 }

func (g *wasiGuestMem) iov(n int) {
	copy(g.mem[gIovec:], []byte{gBuf & 0xff, gBuf >> 8, 0, 0, byte(n), byte(n >> 8), byte(n >> 16), 0})
}

// open is path_open relative to the root preopen (fd 3).
func (g *wasiGuestMem) open(p string, oflags uint16, rights uint64) (uint32, wasip1.Errno) {
	pp, n := g.path(p)
	errno := g.call("path_open", 3, 0, pp, n, uint64(oflags), rights, 0, 0, gResult)
	return g.u32(gResult), errno
}

const (
	oflagCreat     = 1
	oflagDirectory = 2
	oflagTrunc     = 8
	// fileRights are what wasi-libc asks for O_RDONLY: no write right.
	fileRights = wasip1.RightFdRead | wasip1.RightFdSeek | wasip1.RightFdTell | wasip1.RightFdFilestatGet
)

// The device through wasmbox's WASI functions, as the interpreters use it:
// path_open with wasi-libc's flags and rights, fd_write, fd_read, the stats
// and path_unlink_file.
func TestDeviceWASIGuest(t *testing.T) {
	srv := echoServer(t)
	cl, err := NewClient(Policy{Allow: []string{srv.Listener.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	d := NewDevice(cl)
	g := &wasiGuestMem{t: t, mem: make([]byte, 1<<16), fns: map[string]wasip1.Func{}}
	g.in = wasip1.New(wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/", FS: d.WrapWASI(newRoot(t).WASI())}}})
	defer g.in.Close()
	for _, f := range wasip1.Functions() {
		g.fns[f.Name] = f
	}
	defer d.Begin(context.Background(), nil)()

	// os.open(path, O_WRONLY|O_CREAT|O_TRUNC), os.write, os.close.
	fd, errno := g.open("dev/wasmbox/net/py-1", oflagCreat|oflagTrunc, wasip1.RightFdWrite|wasip1.RightFdFilestatGet)
	if errno != 0 {
		t.Fatalf("path_open for writing: %v", errno)
	}
	req := request(srv.URL, "PUT", "/up", "data")
	copy(g.mem[gBuf:], req)
	g.iov(len(req))
	if errno := g.call("fd_write", uint64(fd), gIovec, 1, gResult); errno != 0 || g.u32(gResult) != uint32(len(req)) {
		t.Fatalf("fd_write: %d, %v", g.u32(gResult), errno)
	}
	if errno := g.call("fd_filestat_get", uint64(fd), gStat); errno != 0 || g.u64(gStat+32) != uint64(len(req)) {
		t.Fatalf("fd_filestat_get of the request: size %d, %v", g.u64(gStat+32), errno)
	}
	if errno := g.call("fd_close", uint64(fd)); errno != 0 {
		t.Fatalf("fd_close: %v", errno)
	}

	// os.path.exists, with and without following links.
	for _, flags := range []uint64{1, 0} {
		p, n := g.path("dev/wasmbox/net/py-1")
		if errno := g.call("path_filestat_get", 3, flags, p, n, gStat); errno != 0 || g.mem[gStat+16] != byte(wasip1.FiletypeRegularFile) {
			t.Fatalf("path_filestat_get (flags %d): type %d, %v", flags, g.mem[gStat+16], errno)
		}
	}

	// A directory open of a name, and of DevDir (not in the root).
	if _, errno := g.open("dev/wasmbox/net/py-1", oflagDirectory, wasip1.RightFdReaddir); errno != wasip1.ENOTDIR {
		t.Fatalf("path_open O_DIRECTORY of a name: %v", errno)
	}
	if _, errno := g.open("dev/wasmbox/net", oflagDirectory, wasip1.RightFdReaddir); errno != wasip1.ENOENT {
		t.Fatalf("path_open O_DIRECTORY of DevDir: %v", errno)
	}

	// os.open(path, O_RDONLY), os.read to the end.
	fd, errno = g.open("dev/wasmbox/net/py-1", 0, fileRights)
	if errno != 0 {
		t.Fatalf("path_open for reading: %v", errno)
	}
	if errno := g.call("fd_fdstat_get", uint64(fd), gStat); errno != 0 || g.mem[gStat] != byte(wasip1.FiletypeRegularFile) {
		t.Fatalf("fd_fdstat_get: type %d, %v", g.mem[gStat], errno)
	}
	if errno := g.call("fd_seek", uint64(fd), 0, 1, gResult); errno != wasip1.ENOSYS {
		t.Fatalf("fd_seek: %v", errno)
	}
	var got []byte
	for {
		g.iov(10)
		if errno := g.call("fd_read", uint64(fd), gIovec, 1, gResult); errno != 0 {
			t.Fatalf("fd_read: %v", errno)
		}
		n := g.u32(gResult)
		if n == 0 {
			break
		}
		got = append(got, g.mem[gBuf:gBuf+int(n)]...)
	}
	if !strings.HasPrefix(string(got), `{"status":200`) || !strings.HasSuffix(string(got), "\r\n\r\nPUT /up data") {
		t.Fatalf("response: %q", got)
	}
	if errno := g.call("fd_close", uint64(fd)); errno != 0 {
		t.Fatalf("fd_close: %v", errno)
	}

	// os.unlink: the request is forgotten.
	p, n := g.path("dev/wasmbox/net/py-1")
	if errno := g.call("path_unlink_file", 3, p, n); errno != 0 {
		t.Fatalf("path_unlink_file: %v", errno)
	}
	fd, errno = g.open("dev/wasmbox/net/py-1", 0, fileRights)
	if errno != 0 {
		t.Fatalf("path_open after unlink: %v", errno)
	}
	g.iov(200)
	if errno := g.call("fd_read", uint64(fd), gIovec, 1, gResult); errno != 0 || !strings.Contains(string(g.mem[gBuf:gBuf+int(g.u32(gResult))]), "no request named") {
		t.Fatalf("read after unlink: %q, %v", g.mem[gBuf:gBuf+int(g.u32(gResult))], errno)
	}
	if errno := g.call("fd_close", uint64(fd)); errno != 0 {
		t.Fatalf("fd_close: %v", errno)
	}
	if open := g.in.OpenFDs(); open != 4 { // stdio and the preopen
		t.Fatalf("%d fds open at the end", open)
	}
}
