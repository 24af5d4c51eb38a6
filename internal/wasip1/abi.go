// Package wasip1 is wasmbox's implementation of WASI preview 1
// (wasi_snapshot_preview1), independent of the WebAssembly engine.
//
// Every function is described by a Func: its name, its wasm parameter and
// result types and a Go function that takes the guest's linear memory as a
// []byte and its arguments as uint64s, and returns a WASI errno. The
// runtime (internal/guest) registers the table generically, as host
// functions of whichever engine runs the guest (internal/wasmengine). WASI
// calls never grow memory, so the slice stays valid for the whole call.
//
// Files come from FS values (the sandbox VFS implements FS; see vfs.FS's
// WASI method) mounted as preopens; stdio goes to a reader and two writers.
// Every guest pointer and length is bounds-checked: a bad one is EFAULT,
// never a panic.
package wasip1

import "math"

// Errno is a WASI preview 1 errno.
type Errno uint16

// WASI errnos (wasi_snapshot_preview1 numbering, which wasi-libc uses too).
const (
	ESUCCESS     Errno = 0
	E2BIG        Errno = 1
	EACCES       Errno = 2
	EAGAIN       Errno = 6
	EBADF        Errno = 8
	EBUSY        Errno = 10
	EDQUOT       Errno = 19
	EEXIST       Errno = 20
	EFAULT       Errno = 21
	EFBIG        Errno = 22
	EILSEQ       Errno = 25
	EINTR        Errno = 27
	EINVAL       Errno = 28
	EIO          Errno = 29
	EISDIR       Errno = 31
	ELOOP        Errno = 32
	EMFILE       Errno = 33
	ENAMETOOLONG Errno = 37
	ENOENT       Errno = 44
	ENOMEM       Errno = 48
	ENOSPC       Errno = 51
	ENOSYS       Errno = 52
	ENOTDIR      Errno = 54
	ENOTEMPTY    Errno = 55
	ENOTSUP      Errno = 58
	EOVERFLOW    Errno = 61
	EPERM        Errno = 63
	ERANGE       Errno = 68
	EROFS        Errno = 69
	ESPIPE       Errno = 70
	EXDEV        Errno = 75
	ENOTCAPABLE  Errno = 76
)

// Filetype is a WASI filetype.
type Filetype uint8

// WASI filetypes.
const (
	FiletypeUnknown         Filetype = 0
	FiletypeBlockDevice     Filetype = 1
	FiletypeCharacterDevice Filetype = 2
	FiletypeDirectory       Filetype = 3
	FiletypeRegularFile     Filetype = 4
	FiletypeSocketDgram     Filetype = 5
	FiletypeSocketStream    Filetype = 6
	FiletypeSymbolicLink    Filetype = 7
)

// Rights (WASI preview 1 capabilities).
const (
	RightFdDatasync uint64 = 1 << iota
	RightFdRead
	RightFdSeek
	RightFdFdstatSetFlags
	RightFdSync
	RightFdTell
	RightFdWrite
	RightFdAdvise
	RightFdAllocate
	RightPathCreateDirectory
	RightPathCreateFile
	RightPathLinkSource
	RightPathLinkTarget
	RightPathOpen
	RightFdReaddir
	RightPathReadlink
	RightPathRenameSource
	RightPathRenameTarget
	RightPathFilestatGet
	RightPathFilestatSetSize
	RightPathFilestatSetTimes
	RightFdFilestatGet
	RightFdFilestatSetSize
	RightFdFilestatSetTimes
	RightPathSymlink
	RightPathRemoveDirectory
	RightPathUnlinkFile
	RightPollFdReadwrite
	RightSockShutdown
	RightSockAccept

	// RightsAll is every right.
	RightsAll = RightSockAccept<<1 - 1
)

// rightsFile are the rights that make sense on a regular file.
const rightsFile = RightFdDatasync | RightFdRead | RightFdSeek | RightFdFdstatSetFlags |
	RightFdSync | RightFdTell | RightFdWrite | RightFdAdvise | RightFdAllocate |
	RightFdFilestatGet | RightFdFilestatSetSize | RightFdFilestatSetTimes | RightPollFdReadwrite

// rightsDir are the rights that make sense on a directory.
const rightsDir = RightFdDatasync | RightFdFdstatSetFlags | RightFdSync | RightPathCreateDirectory |
	RightPathCreateFile | RightPathLinkSource | RightPathLinkTarget | RightPathOpen |
	RightFdReaddir | RightPathReadlink | RightPathRenameSource | RightPathRenameTarget |
	RightPathFilestatGet | RightPathFilestatSetSize | RightPathFilestatSetTimes |
	RightFdFilestatGet | RightFdFilestatSetTimes | RightPathSymlink |
	RightPathRemoveDirectory | RightPathUnlinkFile

// Flags.
const (
	oflagCreat     = 1
	oflagDirectory = 2
	oflagExcl      = 4
	oflagTrunc     = 8

	fdflagAppend   = 1
	fdflagDsync    = 2
	fdflagNonblock = 4
	fdflagRsync    = 8
	fdflagSync     = 16

	lookupSymlinkFollow = 1

	fstflagAtim    = 1
	fstflagAtimNow = 2
	fstflagMtim    = 4
	fstflagMtimNow = 8

	whenceSet = 0
	whenceCur = 1
	whenceEnd = 2

	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCputimeID = 2
	clockThreadCputimeID  = 3

	eventTypeClock   = 0
	eventTypeFdRead  = 1
	eventTypeFdWrite = 2

	subscriptionClockAbstime = 1

	subscriptionSize = 48
	eventSize        = 32
	direntSize       = 24
	filestatSize     = 64
	fdstatSize       = 24
	iovecSize        = 8
)

// OmitTime, as a time given to FS.Utimes or File.Utimes, keeps that time.
const OmitTime int64 = math.MinInt64
