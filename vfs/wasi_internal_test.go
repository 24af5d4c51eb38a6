package vfs

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// Every sentinel's errno reaches the guest unchanged through the WASI view.
func TestWASIErrnos(t *testing.T) {
	for _, err := range []error{ErrNotFound, ErrAlreadyExists, ErrNotDir, ErrIsDir, ErrNotEmpty,
		ErrPermission, ErrQuota, ErrInvalidPath, ErrBusy, ErrCrossDevice, ErrClosed,
		errReadOnly, errQuotaFiles, errNotUTF8, errFileTooBig, errNameTooLong} {
		assert.Equal(t, wasip1.Errno(wasiErrno(err)), errnoOf(err), err.Error())
		assert.NotEqual(t, wasip1.EIO, errnoOf(err), err.Error())
	}
	assert.Zero(t, errnoOf(nil))
}
