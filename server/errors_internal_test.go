package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/vfs"
)

// TestStatusOf maps each typed error, wrapped as the sandbox and the Files
// API wrap them, to its status and Connect code.
func TestStatusOf(t *testing.T) {
	wrapped := func(err error) error { return &fs.PathError{Op: "op", Path: "/p", Err: err} }
	for _, tc := range []struct {
		err    error
		status int
		code   connect.Code
	}{
		{fmt.Errorf("%w %q", wasmbox.ErrUnknownLanguage, "cobol"), 400, connect.CodeInvalidArgument},
		{fmt.Errorf("%w: cwd", wasmbox.ErrInvalidOptions), 400, connect.CodeInvalidArgument},
		{wasmbox.ErrUnknownContext, 404, connect.CodeNotFound},
		{wasmbox.ErrContextRemoved, 404, connect.CodeNotFound},
		{wasmbox.ErrTooManyContexts, 429, connect.CodeResourceExhausted},
		{wasmbox.ErrClosed, 503, connect.CodeUnavailable},
		{wrapped(vfs.ErrClosed), 503, connect.CodeUnavailable},
		{wrapped(vfs.ErrNotFound), 404, connect.CodeNotFound},
		{wrapped(vfs.ErrInvalidPath), 400, connect.CodeInvalidArgument},
		{wrapped(vfs.ErrIsDir), 400, connect.CodeInvalidArgument},
		{wrapped(vfs.ErrNotDir), 400, connect.CodeInvalidArgument},
		{wrapped(vfs.ErrAlreadyExists), 400, connect.CodeAlreadyExists},
		{wrapped(fs.ErrInvalid), 400, connect.CodeInvalidArgument},
		{wrapped(vfs.ErrPermission), 403, connect.CodePermissionDenied},
		{fmt.Errorf("wasmbox: context cwd: %w", wrapped(vfs.ErrPermission)), 403, connect.CodePermissionDenied},
		{wrapped(vfs.ErrBusy), 409, connect.CodeFailedPrecondition},
		{wrapped(vfs.ErrCrossDevice), 409, connect.CodeFailedPrecondition},
		{wrapped(vfs.ErrNotEmpty), 409, connect.CodeFailedPrecondition},
		{wrapped(vfs.ErrQuota), 507, connect.CodeResourceExhausted},
		{errPathNotUTF8, 400, connect.CodeInvalidArgument},
		{errUploadTooLarge, 413, connect.CodeResourceExhausted},
		{clientError(&http.MaxBytesError{Limit: 1}), 413, connect.CodeResourceExhausted},
		{wrapped(clientError(io.ErrUnexpectedEOF)), 400, connect.CodeInvalidArgument},
		{clientError(os.ErrDeadlineExceeded), 408, connect.CodeDeadlineExceeded},
		{errBodyStalled, 408, connect.CodeDeadlineExceeded},
		{context.Canceled, statusClientClosed, connect.CodeCanceled},
		{context.DeadlineExceeded, statusClientClosed, connect.CodeDeadlineExceeded},
		// what is left is the server's fault, including its own settings
		{fmt.Errorf("wasmbox: start python context: %w: %w", wasmbox.ErrInvalidOptions,
			fmt.Errorf("%w: 20971520 bytes needed", wasmbox.ErrMemoryLimit)), 500, connect.CodeInternal},
		{errors.New("wasmbox/runtime: instantiate: out of memory"), 500, connect.CodeInternal},
		{&result.ExecutionError{Name: "OSError"}, 500, connect.CodeInternal},
	} {
		assert.Equal(t, tc.status, statusOf(tc.err), "%v", tc.err)
		assert.Equal(t, tc.code, connect.CodeOf(rpcError(tc.err)), "%v", tc.err)
	}
	assert.True(t, errors.Is(errPathNotUTF8, vfs.ErrInvalidPath))

	// the interpreter failing to set a context up in the cwd the client
	// chose is the cwd's fault; in the default cwd, the server's
	setup := fmt.Errorf("wasmbox: set up python context in /home/user/é: %w",
		&result.ExecutionError{Name: "UnicodeEncodeError", Value: "'ascii' codec can't encode"})
	assert.Equal(t, http.StatusBadRequest, createContextStatus(setup, true))
	assert.Equal(t, http.StatusInternalServerError, createContextStatus(setup, false))
	assert.Equal(t, http.StatusForbidden, createContextStatus(wrapped(vfs.ErrPermission), true))
	assert.Equal(t, io.EOF, clientError(io.EOF), "EOF is not an error")
}
