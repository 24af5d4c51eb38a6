package server

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/vfs"
)

// smallFile: files up to this size are read whole and served with their
// exact Content-Length; larger ones are streamed.
const smallFile = 4 << 20

// uploadEntry is one written file in the answer of POST /files, as envd
// sends it.
type uploadEntry struct {
	Path string `json:"path"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// GET /health on envd: 204, as envd answers.
func (s *Server) handleEnvdHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// resolvePath turns a path of E2B's APIs into one for the Files API: "~"
// and "~/..." are the home directory, relative paths stay relative (to the
// home directory), an empty path is the home directory.
func resolvePath(p string) string {
	switch {
	case p == "" || p == "~":
		return wasmbox.DefaultCwd
	case strings.HasPrefix(p, "~/"):
		return path.Join(wasmbox.DefaultCwd, p[2:])
	}
	return p
}

// absPath is resolvePath, made absolute and clean. A path that is not
// valid UTF-8 is refused (vfs.ErrInvalidPath).
func absPath(p string) (string, error) {
	if err := checkUTF8(p); err != nil {
		return "", err
	}
	p = resolvePath(p)
	if !path.IsAbs(p) {
		p = path.Join(wasmbox.DefaultCwd, p)
	}
	return path.Clean(p), nil
}

// GET /files?path=: the content of a file.
func (s *Server) handleGetFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := absPath(r.URL.Query().Get("path"))
	if err != nil {
		jsonError(w, statusOf(err), err.Error())
		return
	}
	logAttrs(ctx, slog.String("file", p))
	files := s.sb.Files()
	info, err := files.GetInfo(ctx, p)
	if err == nil && info.Type == vfs.FileTypeDir {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("path '%s' is a directory", p))
		return
	}
	if errors.Is(err, vfs.ErrNotFound) {
		jsonError(w, http.StatusNotFound, fmt.Sprintf("path '%s' does not exist", p))
		return
	}
	if err != nil {
		jsonError(w, statusOf(err), err.Error())
		return
	}
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(p))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Last-Modified", info.ModifiedTime.UTC().Format(http.TimeFormat))
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": path.Base(p)}))
	if acceptsGzip(r) {
		rd, err := files.ReadStream(ctx, p)
		if err != nil {
			jsonError(w, statusOf(err), err.Error())
			return
		}
		defer rd.Close()
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		gz := gzip.NewWriter(w)
		if _, err := io.Copy(gz, rd); err != nil {
			logAttrs(ctx, slog.String("copy_error", err.Error()))
		}
		_ = gz.Close()
		return
	}
	if info.Size <= smallFile {
		// The file may have grown since GetInfo: read at most smallFile+1
		// bytes, and stream it if it is larger now.
		rd, err := files.ReadStream(ctx, p)
		if err != nil {
			jsonError(w, statusOf(err), err.Error())
			return
		}
		data, err := io.ReadAll(io.LimitReader(rd, smallFile+1))
		_ = rd.Close()
		if err != nil {
			jsonError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if len(data) > smallFile {
			goto stream
		}
		h.Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
		return
	}
stream:
	rd, err := files.ReadStream(ctx, p)
	if err != nil {
		jsonError(w, statusOf(err), err.Error())
		return
	}
	defer rd.Close()
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rd); err != nil {
		logAttrs(ctx, slog.String("copy_error", err.Error()))
	}
}

// acceptsGzip reports whether the client asked for a gzip response.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// uploadBody is the body of POST /files after gzip decoding
// (Content-Encoding: gzip), capped at max bytes of decoded data. Its read
// errors are the client's (errBadBody, errBodyStalled), or errUploadTooLarge.
type uploadBody struct {
	r       io.Reader
	left    int64
	closers []io.Closer
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells an exact fit from an overflow.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, errUploadTooLarge
		}
		if err == nil {
			err = io.EOF
		}
		return 0, clientError(err)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, clientError(err)
}

func (b *uploadBody) Close() error {
	for _, c := range b.closers {
		_ = c.Close()
	}
	return nil
}

// clientError marks an error of reading a request body as the client's
// fault, unless it is io.EOF or marked already.
func clientError(err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil, err == io.EOF, errors.Is(err, errBadBody), errors.Is(err, errBodyStalled),
		errors.Is(err, errUploadTooLarge):
		return err
	case errors.As(err, &tooLarge):
		return errUploadTooLarge
	}
	return fmt.Errorf("%w: %w", errBadBody, err)
}

// clientReader marks the read errors of r with clientError.
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	return n, clientError(err)
}

func (s *Server) uploadBody(w http.ResponseWriter, r *http.Request) (*uploadBody, error) {
	raw := http.MaxBytesReader(w, r.Body, s.cfg.maxUploadBytes)
	b := &uploadBody{r: raw, left: s.cfg.maxUploadBytes, closers: []io.Closer{raw}}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(raw)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // an empty body is no gzip stream
		}
		if err != nil {
			return nil, fmt.Errorf("error decompressing request body: %w", clientError(err))
		}
		b.r = gz
		b.closers = append(b.closers, gz)
	default:
		return nil, fmt.Errorf("%w: unsupported Content-Encoding %q", errBadBody, enc)
	}
	return b, nil
}

// POST /files: write one file (application/octet-stream, ?path=) or one or
// many (multipart/form-data, "file" parts named by their file name, or by
// ?path= for a single file), creating parent directories.
//
// Each file is streamed into a temporary file that replaces the target only
// once complete (vfs.FS.Write), so the server holds no more than a buffer of
// it, and a failed upload (too large, over the filesystem quota, a client
// that goes away or stalls) leaves the target as it was. The files of a
// multipart request written before the failing one stay written. Statuses:
// 413 over WithMaxUploadBytes, 507 over the sandbox filesystem's quota (as
// envd answers), 400 for a malformed body or path, 408 for a client that
// stops sending.
func (s *Server) handlePostFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query := r.URL.Query()
	qpath, hasPath := query.Get("path"), query.Has("path")
	fail := func(err error, p string) {
		switch status := statusOf(err); {
		case status == http.StatusRequestEntityTooLarge:
			jsonError(w, status, fmt.Sprintf("upload too large: the limit is %d bytes", s.cfg.maxUploadBytes))
		case errors.Is(err, vfs.ErrQuota):
			jsonError(w, status, fmt.Sprintf("not enough disk space available: %v", err))
		case errors.Is(err, vfs.ErrIsDir):
			jsonError(w, status, fmt.Sprintf("path is a directory: %s", p))
		default:
			jsonError(w, status, err.Error())
		}
	}
	identity := r.Header.Get("Content-Encoding") == ""
	if identity && r.ContentLength > s.cfg.maxUploadBytes {
		fail(errUploadTooLarge, "") // refused before it is read
		return
	}
	body, err := s.uploadBody(w, r)
	if err != nil {
		fail(err, "")
		return
	}
	defer body.Close()
	files := s.sb.Files()
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		if !hasPath || qpath == "" {
			jsonError(w, http.StatusBadRequest, "the path query parameter is required for an application/octet-stream upload")
			return
		}
		p, err := absPath(qpath)
		if err != nil {
			fail(err, qpath)
			return
		}
		logAttrs(ctx, slog.String("file", p))
		if identity && r.ContentLength > 0 {
			// A file that cannot fit is refused before it is read.
			if u := files.Usage(); u.MaxBytes > 0 && r.ContentLength > u.MaxBytes-u.Bytes {
				fail(fmt.Errorf("%w: %d bytes do not fit in the %d bytes left", vfs.ErrQuota,
					r.ContentLength, max(u.MaxBytes-u.Bytes, 0)), p)
				return
			}
		}
		if _, err := files.Write(ctx, p, body); err != nil {
			fail(err, p)
			return
		}
		writeJSON(w, http.StatusOK, []uploadEntry{{Path: p, Name: path.Base(p), Type: "file"}})
		return
	}
	boundary := params["boundary"]
	if boundary == "" {
		jsonError(w, http.StatusBadRequest, "error parsing multipart form: no boundary")
		return
	}
	mr := multipart.NewReader(body, boundary)
	written := []uploadEntry{}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if status := statusOf(err); status == http.StatusRequestEntityTooLarge || status == http.StatusRequestTimeout {
				fail(err, "")
				return
			}
			jsonError(w, http.StatusBadRequest, fmt.Sprintf("error reading form: %v", err))
			return
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		name := qpath
		if !hasPath || name == "" {
			name = partFileName(part)
		}
		if name == "" {
			_ = part.Close()
			jsonError(w, http.StatusBadRequest, "a file part has no file name and the request no path")
			return
		}
		p, err := absPath(name)
		if err != nil {
			_ = part.Close()
			fail(err, name)
			return
		}
		if seen[p] {
			_ = part.Close()
			jsonError(w, http.StatusBadRequest, fmt.Sprintf(
				"you cannot upload multiple files to the same path '%s' in one upload request, only the first specified file was uploaded", p))
			return
		}
		seen[p] = true
		if _, err := files.Write(ctx, p, clientReader{part}); err != nil {
			_ = part.Close()
			fail(err, p)
			return
		}
		_ = part.Close()
		written = append(written, uploadEntry{Path: p, Name: path.Base(p), Type: "file"})
	}
	logAttrs(ctx, slog.Int("files", len(written)))
	writeJSON(w, http.StatusOK, written)
}

// partFileName returns the file name of a multipart part as sent, with its
// directories (multipart.Part.FileName keeps only the base name).
func partFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}
