package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Error is an error of the sandbox filesystem. The Files API wraps it in an
// *fs.PathError naming the operation and the path; test it with errors.Is
// against the sentinels below (ErrNotFound, ErrQuota, ...). Those that have an
// io/fs equivalent also match it: errors.Is(err, fs.ErrNotExist) holds for
// ErrNotFound.
//
// Guest code sees the same condition as an errno: ErrNotFound is ENOENT,
// ErrQuota is ENOSPC (bytes) or EDQUOT (file count), a read-only mount is
// EROFS, and so on.
type Error struct {
	msg   string
	errno uint16 // the WASI errno the guest sees
	kind  *Error // the exported sentinel this error belongs to; nil for sentinels
	std   error  // the io/fs equivalent, or nil
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Is reports whether target is e's sentinel or its io/fs equivalent.
func (e *Error) Is(target error) bool {
	if e.kind != nil && target == e.kind {
		return true
	}
	if e.std != nil && target == e.std {
		return true
	}
	if e.kind != nil && e.kind.std != nil && target == e.kind.std {
		return true
	}
	return false
}

// WASI errnos (wasi_snapshot_preview1 numbering, which is also what
// wasi-libc, and so Python's errno module, use in the guest).
const (
	wasiEACCES       = 2
	wasiEAGAIN       = 6
	wasiEBADF        = 8
	wasiEBUSY        = 10
	wasiEDQUOT       = 19
	wasiEEXIST       = 20
	wasiEFAULT       = 21
	wasiEFBIG        = 22
	wasiEILSEQ       = 25
	wasiEINTR        = 27
	wasiEINVAL       = 28
	wasiEIO          = 29
	wasiEISDIR       = 31
	wasiELOOP        = 32
	wasiENAMETOOLONG = 37
	wasiENOENT       = 44
	wasiENOSPC       = 51
	wasiENOSYS       = 52
	wasiENOTDIR      = 54
	wasiENOTEMPTY    = 55
	wasiENOTSUP      = 58
	wasiEPERM        = 63
	wasiERANGE       = 68
	wasiEROFS        = 69
	wasiEXDEV        = 75
)

// Sentinel errors of the sandbox filesystem; test with errors.Is.
var (
	// ErrNotFound: the path does not exist (ENOENT). Also matches
	// fs.ErrNotExist.
	ErrNotFound = &Error{msg: "no such file or directory", errno: wasiENOENT, std: fs.ErrNotExist}
	// ErrAlreadyExists: the path exists (EEXIST). Also matches fs.ErrExist.
	ErrAlreadyExists = &Error{msg: "file exists", errno: wasiEEXIST, std: fs.ErrExist}
	// ErrNotDir: a directory was expected (ENOTDIR).
	ErrNotDir = &Error{msg: "not a directory", errno: wasiENOTDIR}
	// ErrIsDir: the path is a directory where a file was expected (EISDIR).
	ErrIsDir = &Error{msg: "is a directory", errno: wasiEISDIR}
	// ErrNotEmpty: the directory is not empty (ENOTEMPTY).
	ErrNotEmpty = &Error{msg: "directory not empty", errno: wasiENOTEMPTY}
	// ErrPermission: the operation is not allowed: writing to a read-only
	// mount (EROFS), following a symbolic link (ELOOP), creating a link
	// (EPERM), opening a device or pipe of a mounted host directory (EACCES).
	// Also matches fs.ErrPermission.
	ErrPermission = &Error{msg: "permission denied", errno: wasiEACCES, std: fs.ErrPermission}
	// ErrQuota: the filesystem's byte quota (ENOSPC) or file count limit
	// (EDQUOT) would be exceeded. Nothing was written.
	ErrQuota = &Error{msg: "sandbox filesystem quota exceeded", errno: wasiENOSPC}
	// ErrInvalidPath: the path contains a NUL byte, a name longer than 255
	// bytes, or is longer than 4096 bytes (EINVAL, ENAMETOOLONG); a file or
	// directory would be created, or renamed to, a name that is not valid
	// UTF-8 (EILSEQ); a directory would be moved into itself (EINVAL).
	ErrInvalidPath = &Error{msg: "invalid path", errno: wasiEINVAL}
	// ErrBusy: the path is a mount point, or a directory that contains one,
	// and cannot be removed or renamed (EBUSY).
	ErrBusy = &Error{msg: "mount point busy", errno: wasiEBUSY}
	// ErrCrossDevice: a rename between two mounts (EXDEV); copy instead.
	ErrCrossDevice = &Error{msg: "cannot rename across mounts", errno: wasiEXDEV}
	// ErrClosed: the filesystem was closed. Also matches fs.ErrClosed.
	ErrClosed = &Error{msg: "sandbox filesystem is closed", errno: wasiEBADF, std: fs.ErrClosed}
)

// Variants: more precise errors that belong to a sentinel.
var (
	errReadOnly    = &Error{msg: "read-only file system", errno: wasiEROFS, kind: ErrPermission}
	errAccess      = &Error{msg: "permission denied", errno: wasiEACCES, kind: ErrPermission}
	errSymlink     = &Error{msg: "symbolic links are not followed in the sandbox filesystem", errno: wasiELOOP, kind: ErrPermission}
	errNoLinks     = &Error{msg: "links cannot be created in the sandbox filesystem", errno: wasiEPERM, kind: ErrPermission}
	errNotRegular  = &Error{msg: "not a regular file or directory", errno: wasiEACCES, kind: ErrPermission}
	errQuotaBytes  = &Error{msg: "no space left on device: the sandbox filesystem byte quota is full", errno: wasiENOSPC, kind: ErrQuota}
	errQuotaFiles  = &Error{msg: "disk quota exceeded: the sandbox filesystem file count limit is reached", errno: wasiEDQUOT, kind: ErrQuota}
	errNoSpace     = &Error{msg: "no space left on device", errno: wasiENOSPC, kind: ErrQuota}
	errNameTooLong = &Error{msg: "file name too long", errno: wasiENAMETOOLONG, kind: ErrInvalidPath}
	errNUL         = &Error{msg: "path contains a NUL byte", errno: wasiEINVAL, kind: ErrInvalidPath}
	errNotUTF8     = &Error{msg: "invalid file name: names must be valid UTF-8", errno: wasiEILSEQ, kind: ErrInvalidPath}
	errIntoItself  = &Error{msg: "cannot move a directory into itself", errno: wasiEINVAL, kind: ErrInvalidPath, std: fs.ErrInvalid}
	errInvalid     = &Error{msg: "invalid argument", errno: wasiEINVAL, std: fs.ErrInvalid}
	errFileTooBig  = &Error{msg: "file too large", errno: wasiEFBIG, kind: ErrQuota}
	errBadFD       = &Error{msg: "bad file descriptor", errno: wasiEBADF, std: fs.ErrClosed}
	errNotSup      = &Error{msg: "operation not supported", errno: wasiENOTSUP}
)

// fromOS turns an error of an afero.Fs into one of ours, keeping the
// original text for errors we have no sentinel for (they are EIO).
func fromOS(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOENT:
			return ErrNotFound
		case syscall.EEXIST:
			return ErrAlreadyExists
		case syscall.ENOTDIR:
			return ErrNotDir
		case syscall.EISDIR:
			return ErrIsDir
		case syscall.ENOTEMPTY:
			return ErrNotEmpty
		case syscall.EACCES, syscall.EPERM:
			return errAccess
		case syscall.EROFS:
			return errReadOnly
		case syscall.ENOSPC:
			return errNoSpace
		case syscall.EDQUOT:
			return errQuotaBytes
		case syscall.ENAMETOOLONG:
			return errNameTooLong
		case syscall.ELOOP:
			return errSymlink
		case syscall.EXDEV:
			return ErrCrossDevice
		case syscall.EBUSY:
			return ErrBusy
		case syscall.EINVAL:
			return errInvalid
		case syscall.EFBIG:
			return errFileTooBig
		case syscall.EILSEQ:
			return errNotUTF8
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrExist):
		return ErrAlreadyExists
	case errors.Is(err, fs.ErrPermission):
		return errAccess
	case errors.Is(err, fs.ErrClosed):
		return errBadFD
	}
	return &Error{msg: fmt.Sprintf("input/output error: %v", err), errno: wasiEIO}
}

// wasiErrno returns the WASI errno of err.
func wasiErrno(err error) uint16 {
	var e *Error
	if errors.As(err, &e) {
		return e.errno
	}
	return wasiEIO
}

// pathError wraps err for the Files API.
func pathError(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}
