package vfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// The WASI view passes "keep this time" through to utimesLocked, which
// knows wazero's constant for it.
func TestWASIOmitTime(t *testing.T) {
	assert.Equal(t, experimentalsys.UTIME_OMIT, wasip1.OmitTime)
}

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
