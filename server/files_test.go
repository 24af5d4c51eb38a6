package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

type uploaded struct {
	Path string `json:"path"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// multipartBody builds a form with one "file" part per name/content pair,
// each part's file name being its path (as the E2B SDKs send them).
func multipartBody(t testing.TB, files ...string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+files[i]+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = io.WriteString(w, files[i+1])
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

func upload(t testing.TB, url, ctype string, body io.Reader, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

func download(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req) // no transparent gzip
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestUploadAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	ctype, body := multipartBody(t, "/home/user/a/one.txt", "one", "rel/two.txt", "two ✓", "~/three.txt", "3")
	status, out := upload(t, e.envd.URL+"/files", ctype, body)
	require.Equal(t, http.StatusOK, status, out)
	var got []uploaded
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, []uploaded{
		{"/home/user/a/one.txt", "one.txt", "file"},
		{"/home/user/rel/two.txt", "two.txt", "file"},
		{"/home/user/three.txt", "three.txt", "file"},
	}, got)

	res, content := download(t, e.envd.URL+"/files?path=/home/user/rel/two.txt")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "two ✓", content)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, int64(len("two ✓")), res.ContentLength)

	// one file named by ?path=, overwriting
	ctype, body = multipartBody(t, "ignored-name", "new one")
	status, out = upload(t, e.envd.URL+"/files?path=/home/user/a/one.txt", ctype, body)
	require.Equal(t, http.StatusOK, status, out)
	_, content = download(t, e.envd.URL+"/files?path=a/one.txt")
	assert.Equal(t, "new one", content)

	// application/octet-stream, gzip-encoded
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, strings.Repeat("zip", 1000))
	require.NoError(t, zw.Close())
	status, out = upload(t, e.envd.URL+"/files?path=/home/user/z/zip.txt", "application/octet-stream", &gz,
		"Content-Encoding", "gzip")
	require.Equal(t, http.StatusOK, status, out)
	assert.JSONEq(t, `[{"path":"/home/user/z/zip.txt","name":"zip.txt","type":"file"}]`, out)
	res, content = download(t, e.envd.URL+"/files?path=/home/user/z/zip.txt", "Accept-Encoding", "gzip")
	assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(strings.NewReader(content))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("zip", 1000), string(plain))

	// the code sees the files, and the files API what the code writes
	evs := execute(t, e, `{"code": "open('/home/user/three.txt').read() + open('out.bin', 'wb').write(bytes(range(256))).__str__()"}`)
	assert.Equal(t, "3256", evs[0]["text"])
	_, content = download(t, e.envd.URL+"/files?path=/home/user/out.bin")
	assert.Equal(t, 256, len(content))
	assert.Equal(t, byte(255), content[255])

	// a file larger than what is served whole: streamed
	big := strings.Repeat("0123456789", 500_000)
	status, out = upload(t, e.envd.URL+"/files?path=/home/user/big.txt", "application/octet-stream", strings.NewReader(big))
	require.Equal(t, http.StatusOK, status, out)
	_, content = download(t, e.envd.URL+"/files?path=/home/user/big.txt")
	assert.Equal(t, big, content)

	// empty file
	status, _ = upload(t, e.envd.URL+"/files?path=/home/user/empty", "application/octet-stream", strings.NewReader(""))
	require.Equal(t, http.StatusOK, status)
	res, content = download(t, e.envd.URL+"/files?path=/home/user/empty")
	assert.Equal(t, int64(0), res.ContentLength)
	assert.Equal(t, "", content)
}

func TestFilesErrors(t *testing.T) {
	e := newEnv(t, []wasmbox.Option{wasmbox.WithFSQuota(1 << 20)}, server.WithMaxUploadBytes(64<<10))
	res, body := download(t, e.envd.URL+"/files?path=/home/user/missing.txt")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.JSONEq(t, `{"code":404,"message":"path '/home/user/missing.txt' does not exist"}`, body)
	res, body = download(t, e.envd.URL+"/files?path=/home/user")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "is a directory")

	status, body := upload(t, e.envd.URL+"/files?path=/home/user/big", "application/octet-stream",
		strings.NewReader(strings.Repeat("x", 65<<10)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.JSONEq(t, `{"code":413,"message":"upload too large: the limit is 65536 bytes"}`, body)
	ok, err := e.sb.Files().Exists(context.Background(), "/home/user/big")
	require.NoError(t, err)
	assert.False(t, ok, "a refused upload left a file")

	// a gzip bomb is stopped at the limit too
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(make([]byte, 1<<20))
	require.NoError(t, zw.Close())
	status, _ = upload(t, e.envd.URL+"/files?path=/home/user/bomb", "application/octet-stream", &gz, "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)

	ctype, mp := multipartBody(t, "/home/user/m1", strings.Repeat("x", 40<<10), "/home/user/m2", strings.Repeat("x", 40<<10))
	status, _ = upload(t, e.envd.URL+"/files", ctype, mp)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)

	// quota: 1 MiB
	for i := 0; i < 20; i++ {
		status, body = upload(t, e.envd.URL+"/files?path=/home/user/q"+strings.Repeat("i", i+1), "application/octet-stream",
			strings.NewReader(strings.Repeat("q", 60<<10)))
		if status != http.StatusOK {
			break
		}
	}
	assert.Equal(t, http.StatusInsufficientStorage, status, body)
	assert.Contains(t, body, "not enough disk space")

	ctype, mp = multipartBody(t, "/home/user/same", "1", "/home/user/same", "2")
	status, body = upload(t, e.envd.URL+"/files", ctype, mp)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "you cannot upload multiple files to the same path")

	status, body = upload(t, e.envd.URL+"/files?path=/home/user", "application/octet-stream", strings.NewReader("x"))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "is a directory")
	status, body = upload(t, e.envd.URL+"/files", "application/octet-stream", strings.NewReader("x"))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "path query parameter is required")
	status, _ = upload(t, e.envd.URL+"/files?path=/home/user/x", "application/octet-stream", strings.NewReader("x"),
		"Content-Encoding", "br")
	assert.Equal(t, http.StatusBadRequest, status)
	status, _ = upload(t, e.envd.URL+"/files", "multipart/form-data", strings.NewReader("x"))
	assert.Equal(t, http.StatusBadRequest, status)
}
