package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

// TestClientErrorsAre4xx sends requests that are wrong in every way the
// server can tell, through a real HTTP client, and checks that each is
// refused with the right 4xx (507 for the filesystem quota, as envd) and a
// message, never a 500.
func TestClientErrorsAre4xx(t *testing.T) {
	e := newEnv(t, []wasmbox.Option{
		wasmbox.WithMount("/mnt/ro", afero.NewMemMapFs(), true),
		wasmbox.WithMount("/mnt/rw", afero.NewMemMapFs(), false),
		wasmbox.WithFSQuota(4 << 20),
		wasmbox.WithFSMaxFiles(200),
	})
	ctx := context.Background()
	files := e.sb.Files()
	_, err := files.WriteBytes(ctx, "/home/user/file.txt", []byte("x"))
	require.NoError(t, err)
	_, err = files.MakeDir(ctx, "/home/user/dir/sub")
	require.NoError(t, err)

	code, envd := e.code.URL, e.envd.URL
	rpc := func(method string) string { return envd + "/filesystem.Filesystem/" + method }
	for _, tc := range []struct {
		name      string
		url, body string
		status    int
		message   string
	}{
		// code interpreter
		{"execute: body not UTF-8", code + "/execute", "{\"code\": \"'\xff'\"}", 400, "not valid UTF-8"},
		{"execute: array body", code + "/execute", `[1]`, 400, "must be a JSON object, not array"},
		{"execute: env var name with =", code + "/execute", `{"code": "1", "env_vars": {"A=B": "1"}}`, 400, "environment variable"},
		{"context: body not UTF-8", code + "/contexts", "{\"cwd\": \"/home/user/\xff\"}", 400, "not valid UTF-8"},
		{"context: cwd in the read-only standard library", code + "/contexts", `{"cwd": "/usr/lib/python313.zip/json"}`, 403, "read-only file system"},
		{"context: cwd in a read-only mount", code + "/contexts", `{"cwd": "/mnt/ro/work"}`, 403, "read-only file system"},
		{"context: cwd is a file", code + "/contexts", `{"cwd": "/home/user/file.txt"}`, 400, "file exists"},
		{"context: cwd below a file", code + "/contexts", `{"cwd": "/home/user/file.txt/d"}`, 400, "not a directory"},
		{"context: cwd name too long", code + "/contexts", `{"cwd": "/home/user/` + strings.Repeat("n", 300) + `"}`, 400, "file name too long"},
		{"context: cwd relative", code + "/contexts", `{"cwd": "work"}`, 400, "absolute"},
		{"context: cwd of the wrong type", code + "/contexts", `{"cwd": ["/"]}`, 400, `field "cwd" must be string, not array`},

		// filesystem RPCs (Connect's HTTP statuses for its codes)
		{"move: a directory into itself", rpc("Move"), `{"source": "/home/user/dir", "destination": "/home/user/dir/sub/x"}`, 400, "invalid_argument"},
		{"move: across mounts", rpc("Move"), `{"source": "/home/user/file.txt", "destination": "/mnt/rw/file.txt"}`, 400, "failed_precondition"},
		{"move: into a read-only mount", rpc("Move"), `{"source": "/mnt/ro", "destination": "/mnt/ro2"}`, 400, "failed_precondition"},
		{"move: below a file", rpc("Move"), `{"source": "/home/user/dir", "destination": "/home/user/file.txt/d"}`, 400, "invalid_argument"},
		{"remove: a mount point", rpc("Remove"), `{"path": "/mnt/rw"}`, 400, "failed_precondition"},
		{"make dir: read-only mount", rpc("MakeDir"), `{"path": "/mnt/ro/d"}`, 403, "permission_denied"},
		{"make dir: below a file", rpc("MakeDir"), `{"path": "/home/user/file.txt/d"}`, 400, "invalid_argument"},
		{"list: a file", rpc("ListDir"), `{"path": "/home/user/file.txt"}`, 400, "invalid_argument"},
		{"stat: not UTF-8", rpc("Stat"), "{\"path\": \"/home/\xff\"}", 400, "invalid_argument"},
		{"stat: NUL", rpc("Stat"), `{"path": "/home/\u0000"}`, 400, "invalid_argument"},
		{"stat: wrong type", rpc("Stat"), `{"path": 5}`, 400, "invalid_argument"},
		{"stat: malformed JSON", rpc("Stat"), `{"path": `, 400, "invalid_argument"},
		{"list: negative depth", rpc("ListDir"), `{"path": "/", "depth": -1}`, 400, "invalid_argument"},
		{"unknown RPC", rpc("Chown"), `{}`, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, tc.url, tc.body)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body, tc.message)
		})
	}

	// an RPC compressed in a way the server does not know: connect-go's
	// code, but not its 501
	status, body := post(t, rpc("Stat"), `{"path": "/"}`, "Content-Encoding", "br")
	assert.Equal(t, http.StatusUnsupportedMediaType, status, body)
	assert.JSONEq(t, `{"code": "unimplemented", "message": "unknown compression \"br\": supported encodings are gzip"}`, body)

	// POST and GET /files
	nonUTF8 := "/home/user/" + url.QueryEscape("\xff")
	for _, tc := range []struct {
		name, method, path string
		header             []string
		body               io.Reader
		status             int
		message            string
	}{
		{"download: not UTF-8", "GET", nonUTF8, nil, nil, 400, "not valid UTF-8"},
		{"download: NUL", "GET", "/home/user/a%00", nil, nil, 400, "NUL"},
		{"download: a directory", "GET", "/home/user/dir", nil, nil, 400, "is a directory"},
		{"download: missing", "GET", "/home/user/nope", nil, nil, 404, "does not exist"},
		{"upload: not UTF-8", "POST", nonUTF8, nil, strings.NewReader("x"), 400, "not valid UTF-8"},
		{"upload: a directory", "POST", "/home/user/dir", nil, strings.NewReader("x"), 400, "is a directory"},
		{"upload: below a file", "POST", "/home/user/file.txt/x", nil, strings.NewReader("x"), 400, "not a directory"},
		{"upload: read-only mount", "POST", "/mnt/ro/x", nil, strings.NewReader("x"), 403, "read-only"},
		{"upload: over the quota, by its length", "POST", "/home/user/big", nil,
			bytes.NewReader(make([]byte, 5<<20)), 507, "not enough disk space"},
		{"upload: over the quota, streamed", "POST", "/home/user/big", nil,
			io.LimitReader(zeros{}, 5<<20), 507, "not enough disk space"},
		{"upload: broken gzip stream", "POST", "/home/user/gz", []string{"Content-Encoding", "gzip"},
			bytes.NewReader(brokenGzip(t)), 400, ""},
		{"upload: not gzip", "POST", "/home/user/gz", []string{"Content-Encoding", "gzip"},
			strings.NewReader("plain"), 400, "decompressing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, envd+"/files?path="+tc.path, tc.body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/octet-stream")
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			status, body, err := do(req)
			require.NoError(t, err)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body, tc.message)
		})
	}

	// a multipart form cut in the middle of a file: 400, and nothing of
	// the file is left
	ctype, form := multipartBody(t, "/home/user/cut.txt", strings.Repeat("c", 100<<10))
	status, body = upload(t, envd+"/files", ctype, bytes.NewReader(form.Bytes()[:form.Len()/2]))
	assert.Equal(t, http.StatusBadRequest, status, body)
	ok, err := files.Exists(ctx, "/home/user/cut.txt")
	require.NoError(t, err)
	assert.False(t, ok)
	// a part named with bytes that are not UTF-8
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("file", "/home/user/\xfe.txt")
	require.NoError(t, err)
	_, _ = part.Write([]byte("x"))
	require.NoError(t, mw.Close())
	status, body = upload(t, envd+"/files", mw.FormDataContentType(), &buf)
	assert.Equal(t, http.StatusBadRequest, status, body)
	assert.Contains(t, body, "not valid UTF-8")

	// nothing above left a file behind, temporary or not
	list, err := files.List(ctx, "/home/user", 1)
	require.NoError(t, err)
	var names []string
	for _, e := range list {
		names = append(names, e.Name)
	}
	assert.ElementsMatch(t, []string{"dir", "file.txt"}, names)
	assert.Less(t, files.Usage().Bytes, int64(1<<20))
}

func TestContextCwdOverTheFileQuota(t *testing.T) {
	e := newEnv(t, []wasmbox.Option{wasmbox.WithFSMaxFiles(100)})
	status, body := post(t, e.code.URL+"/contexts", `{"cwd": "/home/user/`+strings.Repeat("d/", 150)+`"}`)
	assert.Equal(t, http.StatusInsufficientStorage, status, body)
	assert.Contains(t, body, "file count limit")
}

// zeros reads zeros forever; as a request body it has no known length, so
// it is sent chunked.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// brokenGzip is a gzip stream whose middle is damaged.
func brokenGzip(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 1000 {
		_, _ = zw.Write([]byte(strings.Repeat(string(rune('a'+i%26)), 100)))
	}
	require.NoError(t, zw.Close())
	b := buf.Bytes()
	for i := len(b) / 3; i < len(b)/2; i++ {
		b[i] ^= 0x5a
	}
	return b
}
