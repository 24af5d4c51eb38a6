package network

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

type emptyFS struct {
	experimentalsys.UnimplementedFS
}

func (emptyFS) OpenFile(string, experimentalsys.Oflag, fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	return nil, experimentalsys.ENOENT
}

func newDevice(t *testing.T, p Policy) (*Device, experimentalsys.FS) {
	t.Helper()
	cl, err := NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	d := NewDevice(cl)
	return d, d.Wrap(emptyFS{})
}

func writeReq(t *testing.T, fsys experimentalsys.FS, name string, data []byte) experimentalsys.Errno {
	t.Helper()
	f, errno := fsys.OpenFile("dev/wasmbox/net/"+name, experimentalsys.O_WRONLY|experimentalsys.O_CREAT, 0)
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

func readResp(t *testing.T, fsys experimentalsys.FS, name string) (string, experimentalsys.Errno) {
	t.Helper()
	f, errno := fsys.OpenFile("dev/wasmbox/net/"+name, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		t.Fatalf("open for reading: %v", errno)
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 7) // small reads: the head and the body in pieces
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

func TestDevice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), b)
	}))
	defer srv.Close()
	d, fsys := newDevice(t, Policy{Allow: []string{srv.Listener.Addr().String()}, MaxRequestBytes: 1 << 20})
	req := func(method, target, body string) []byte {
		return []byte(fmt.Sprintf("{\"base\": %q}\n%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", srv.URL, method, target, len(body), body))
	}

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
	// A name never written, a malformed request.
	if got, _ := readResp(t, fsys, "nope"); !strings.Contains(got, `"error":"no request named`) {
		t.Fatalf("unknown name: %q", got)
	}
	writeReq(t, fsys, "bad", []byte("GET / HTTP/1.1\r\n\r\n"))
	if got, _ := readResp(t, fsys, "bad"); !strings.Contains(got, "malformed request") {
		t.Fatalf("malformed: %q", got)
	}
	// Too large: the write fails, and reading says why.
	if errno := writeReq(t, fsys, "big", append(req("POST", "/", ""), make([]byte, 2<<20)...)); errno != experimentalsys.EIO {
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
}
