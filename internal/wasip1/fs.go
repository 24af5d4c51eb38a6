package wasip1

// FS is a file system the guest sees through a preopen. Paths are relative
// to the file system's root, cleaned ("." is the root, no ".." component,
// no leading slash) and may end in "/", which requires a directory. Errors
// are WASI errnos.
type FS interface {
	// Open opens a file or directory.
	Open(path string, o OpenFlags) (File, Errno)
	// Stat describes path; follow says whether a final symbolic link is
	// followed.
	Stat(path string, follow bool) (Filestat, Errno)
	// Mkdir creates a directory.
	Mkdir(path string) Errno
	// Rmdir removes an empty directory.
	Rmdir(path string) Errno
	// Unlink removes a file (or link); a directory is EISDIR.
	Unlink(path string) Errno
	// Rename moves from to to, replacing a file or an empty directory there.
	Rename(from, to string) Errno
	// Link creates a hard link newPath to oldPath.
	Link(oldPath, newPath string) Errno
	// Symlink creates a symbolic link at linkPath that points to target.
	Symlink(target, linkPath string) Errno
	// Readlink returns the target of the link at path (EINVAL for a
	// non-link).
	Readlink(path string) (string, Errno)
	// Utimes sets the access and modification times (nanoseconds since the
	// epoch, or OmitTime to keep one).
	Utimes(path string, atim, mtim int64) Errno
}

// OpenFlags says how FS.Open opens a file.
type OpenFlags struct {
	Read, Write, Append bool
	Create, Excl, Trunc bool
	Directory           bool // must be a directory
}

// File is an open file or directory. The File is used by one guest call at
// a time.
type File interface {
	// Stat describes the open file.
	Stat() (Filestat, Errno)
	// IsDir reports whether the file is a directory.
	IsDir() bool
	// Read reads at the current offset; 0 bytes and no error at the end.
	Read(p []byte) (int, Errno)
	// Pread reads at off without moving the offset.
	Pread(p []byte, off int64) (int, Errno)
	// Write writes at the current offset (at the end in append mode).
	Write(p []byte) (int, Errno)
	// Pwrite writes at off without moving the offset.
	Pwrite(p []byte, off int64) (int, Errno)
	// Lseek is lseek(2); on a directory only Lseek(0, 0) is valid and rewinds
	// ReadDir.
	Lseek(off int64, whence int) (int64, Errno)
	// ReadDir returns up to n entries (all remaining when n <= 0), without
	// "." and "..", in a stable order; fewer than n means the end.
	ReadDir(n int) ([]Dirent, Errno)
	// Truncate sets the size.
	Truncate(size int64) Errno
	// Sync flushes the file to its storage.
	Sync() Errno
	// Utimes sets the access and modification times (or OmitTime).
	Utimes(atim, mtim int64) Errno
	// SetAppend turns append mode on or off.
	SetAppend(enable bool) Errno
	// Close releases the file.
	Close() Errno
}

// Filestat is WASI's filestat.
type Filestat struct {
	Dev, Ino   uint64
	Type       Filetype
	Nlink      uint64
	Size       uint64
	Atim, Mtim int64
	Ctim       int64
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	Type Filetype
}
