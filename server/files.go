package server

import (
	"compress/gzip"
	"context"
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

// absPath is resolvePath, made absolute.
func absPath(p string) string {
	p = resolvePath(p)
	if !path.IsAbs(p) {
		p = path.Join(wasmbox.DefaultCwd, p)
	}
	return path.Clean(p)
}

// fileStatus maps a filesystem error to an HTTP status for the envd API.
func fileStatus(err error) int {
	switch {
	case errors.Is(err, vfs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, vfs.ErrInvalidPath), errors.Is(err, vfs.ErrIsDir), errors.Is(err, vfs.ErrNotDir),
		errors.Is(err, vfs.ErrAlreadyExists):
		return http.StatusBadRequest
	case errors.Is(err, vfs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, vfs.ErrQuota):
		return http.StatusInsufficientStorage
	case errors.Is(err, vfs.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499
	}
	return http.StatusInternalServerError
}

// GET /files?path=: the content of a file.
func (s *Server) handleGetFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := absPath(r.URL.Query().Get("path"))
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
		jsonError(w, fileStatus(err), err.Error())
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
			jsonError(w, fileStatus(err), err.Error())
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
			jsonError(w, fileStatus(err), err.Error())
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
		jsonError(w, fileStatus(err), err.Error())
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

// limitedBody is the request body after gzip decoding (Content-Encoding:
// gzip), capped at max bytes of decoded data.
type limitedBody struct {
	r       io.Reader
	left    int64
	tooBig  bool
	closers []io.Closer
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells an exact fit from an overflow.
		var one [1]byte
		n, err := b.r.Read(one[:])
		var mbe *http.MaxBytesError
		if n > 0 || errors.As(err, &mbe) {
			b.tooBig = true
			return 0, errUploadTooLarge
		}
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.tooBig = true
		err = errUploadTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error {
	for _, c := range b.closers {
		_ = c.Close()
	}
	return nil
}

var errUploadTooLarge = errors.New("upload too large")

func (s *Server) uploadBody(w http.ResponseWriter, r *http.Request) (*limitedBody, error) {
	raw := http.MaxBytesReader(w, r.Body, s.cfg.maxUploadBytes)
	b := &limitedBody{r: raw, left: s.cfg.maxUploadBytes, closers: []io.Closer{raw}}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("error decompressing request body: %w", err)
		}
		b.r = gz
		b.closers = append(b.closers, gz)
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	return b, nil
}

// POST /files: write one file (application/octet-stream, ?path=) or one or
// many (multipart/form-data, "file" parts named by their file name, or by
// ?path= for a single file), creating parent directories.
func (s *Server) handlePostFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query := r.URL.Query()
	qpath, hasPath := query.Get("path"), query.Has("path")
	body, err := s.uploadBody(w, r)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	defer body.Close()
	files := s.sb.Files()
	fail := func(err error, p string) {
		switch {
		case body.tooBig || errors.Is(err, errUploadTooLarge):
			jsonError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("upload too large: the limit is %d bytes", s.cfg.maxUploadBytes))
		case errors.Is(err, vfs.ErrQuota):
			jsonError(w, http.StatusInsufficientStorage, fmt.Sprintf("not enough disk space available: %v", err))
		case errors.Is(err, vfs.ErrIsDir):
			jsonError(w, http.StatusBadRequest, fmt.Sprintf("path is a directory: %s", p))
		default:
			jsonError(w, fileStatus(err), err.Error())
		}
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		if !hasPath || qpath == "" {
			jsonError(w, http.StatusBadRequest, "the path query parameter is required for an application/octet-stream upload")
			return
		}
		p := absPath(qpath)
		logAttrs(ctx, slog.String("file", p))
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
			if body.tooBig {
				fail(errUploadTooLarge, "")
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
		p := absPath(name)
		if seen[p] {
			_ = part.Close()
			jsonError(w, http.StatusBadRequest, fmt.Sprintf(
				"you cannot upload multiple files to the same path '%s' in one upload request, only the first specified file was uploaded", p))
			return
		}
		seen[p] = true
		if _, err := files.Write(ctx, p, part); err != nil {
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
