package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/vfs"
)

// statusClientClosed is the status logged for a request whose client went
// away (nginx's convention); nobody reads it.
const statusClientClosed = 499

// Errors of request bodies. They are the client's fault: a body that cannot
// be read (a broken gzip stream, a malformed multipart form, a connection
// closed mid-body) is a 400, a body that stalls is a 408.
var (
	errUploadTooLarge = errors.New("upload too large")
	// errBadBody wraps an error met while reading a request body.
	errBadBody = errors.New("cannot read the request body")
	// errBodyStalled: the client sent nothing for the I/O timeout.
	errBodyStalled = errors.New("the client stopped sending the request body")
	// errPathNotUTF8: a path of the request is not valid UTF-8. It matches
	// vfs.ErrInvalidPath as well.
	errPathNotUTF8 = fmt.Errorf("%w: the path is not valid UTF-8", vfs.ErrInvalidPath)
)

// statusOf maps an error of the sandbox, of its filesystem or of a request
// body to an HTTP status. Errors caused by what the client asked for are
// 4xx (507 for a full filesystem quota, as envd answers); only what remains
// is a 500, a fault of the server.
func statusOf(err error) int {
	var netErr net.Error
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, errUploadTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBodyStalled):
		return http.StatusRequestTimeout
	case errors.Is(err, errBadBody):
		if errors.As(err, &netErr) && netErr.Timeout() {
			return http.StatusRequestTimeout
		}
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return statusClientClosed

	case errors.Is(err, wasmbox.ErrMemoryLimit):
		// It matches ErrInvalidOptions too, but the memory limit is the
		// server's setting, not the client's.
		return http.StatusInternalServerError
	case errors.Is(err, wasmbox.ErrUnknownLanguage), errors.Is(err, wasmbox.ErrInvalidOptions):
		return http.StatusBadRequest
	case errors.Is(err, wasmbox.ErrContextRemoved), errors.Is(err, wasmbox.ErrUnknownContext):
		return http.StatusNotFound
	case errors.Is(err, wasmbox.ErrTooManyContexts):
		return http.StatusTooManyRequests
	case errors.Is(err, wasmbox.ErrClosed), errors.Is(err, vfs.ErrClosed):
		return http.StatusServiceUnavailable

	case errors.Is(err, vfs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, vfs.ErrInvalidPath), errors.Is(err, vfs.ErrIsDir), errors.Is(err, vfs.ErrNotDir),
		errors.Is(err, vfs.ErrAlreadyExists), errors.Is(err, fs.ErrInvalid):
		// fs.ErrInvalid: e.g. moving a directory into itself
		return http.StatusBadRequest
	case errors.Is(err, vfs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, vfs.ErrBusy), errors.Is(err, vfs.ErrCrossDevice), errors.Is(err, vfs.ErrNotEmpty):
		return http.StatusConflict
	case errors.Is(err, vfs.ErrQuota):
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// rpcCode maps the same errors to Connect codes, with envd's choices
// (failed_precondition for a busy mount point or a rename across mounts).
func rpcCode(err error) connect.Code {
	switch statusOf(err) {
	case http.StatusBadRequest:
		return connect.CodeInvalidArgument
	case http.StatusNotFound:
		return connect.CodeNotFound
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusConflict:
		return connect.CodeFailedPrecondition
	case http.StatusInsufficientStorage, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		return connect.CodeResourceExhausted
	case http.StatusServiceUnavailable:
		return connect.CodeUnavailable
	case http.StatusRequestTimeout:
		return connect.CodeDeadlineExceeded
	case statusClientClosed:
		if errors.Is(err, context.DeadlineExceeded) {
			return connect.CodeDeadlineExceeded
		}
		return connect.CodeCanceled
	}
	return connect.CodeInternal
}

// rpcError maps a filesystem error to a Connect error with E2B's codes.
// vfs.ErrAlreadyExists keeps its own code (already_exists), as envd's.
func rpcError(err error) error {
	if errors.Is(err, vfs.ErrAlreadyExists) {
		return connect.NewError(connect.CodeAlreadyExists, err)
	}
	return connect.NewError(rpcCode(err), err)
}

// checkUTF8 refuses a path that is not valid UTF-8: E2B's APIs carry paths
// as JSON and protobuf strings, which must be UTF-8, and a name the client
// cannot even spell back would be a file nobody can address.
func checkUTF8(p string) error {
	if !utf8.ValidString(p) {
		return errPathNotUTF8
	}
	return nil
}
