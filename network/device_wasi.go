package network

import "github.com/wasmbox/wasmbox/internal/wasip1"

// WrapWASI returns fsys (the guest's "/", as wasmbox's WASI preview 1 sees
// it) with DevDir served by the device: the names, protocol, limits and
// errnos (in WASI's numbering) described on Device. Open, Stat and
// Unlink of a name under DevDir go to the device; everything else, DevDir
// itself included, goes to fsys.
func (d *Device) WrapWASI(fsys wasip1.FS) wasip1.FS {
	return &wasiDevFS{FS: fsys, d: d}
}

type wasiDevFS struct {
	wasip1.FS
	d *Device
}

func wasiErrno(e devErr) wasip1.Errno {
	switch e {
	case devOK:
		return 0
	case devNoSys:
		return wasip1.ENOSYS
	case devNotDir:
		return wasip1.ENOTDIR
	}
	return wasip1.EIO
}

func wasiStat(st devStat) wasip1.Filestat {
	return wasip1.Filestat{Type: wasip1.FiletypeRegularFile, Nlink: 1, Size: uint64(st.size)}
}

// Open implements wasip1.FS.
func (f *wasiDevFS) Open(p string, o wasip1.OpenFlags) (wasip1.File, wasip1.Errno) {
	name, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Open(p, o)
	}
	file, e := f.d.openName(name, o.Write, dirOnly || o.Directory)
	if e != devOK {
		return nil, wasiErrno(e)
	}
	return &wasiFile{f: file}, 0
}

// Stat implements wasip1.FS: a device name is no link, so follow makes no
// difference.
func (f *wasiDevFS) Stat(p string, follow bool) (wasip1.Filestat, wasip1.Errno) {
	_, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Stat(p, follow)
	}
	st, e := statName(dirOnly)
	if e != devOK {
		return wasip1.Filestat{}, wasiErrno(e)
	}
	return wasiStat(st), 0
}

// Unlink implements wasip1.FS.
func (f *wasiDevFS) Unlink(p string) wasip1.Errno {
	name, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Unlink(p)
	}
	return wasiErrno(f.d.unlinkName(name, dirOnly))
}

// wasiFile is a device file as a wasip1.File: it reads or writes in
// sequence, and what it does not implement is ENOSYS (Sync: nothing to
// do).
type wasiFile struct{ f devFile }

func (f *wasiFile) Stat() (wasip1.Filestat, wasip1.Errno) { return wasiStat(f.f.stat()), 0 }

func (f *wasiFile) IsDir() bool { return false }

func (f *wasiFile) Read(p []byte) (int, wasip1.Errno) {
	n, e := f.f.read(p)
	return n, wasiErrno(e)
}

func (f *wasiFile) Write(p []byte) (int, wasip1.Errno) {
	n, e := f.f.write(p)
	return n, wasiErrno(e)
}

func (f *wasiFile) Pread([]byte, int64) (int, wasip1.Errno)  { return 0, wasip1.ENOSYS }
func (f *wasiFile) Pwrite([]byte, int64) (int, wasip1.Errno) { return 0, wasip1.ENOSYS }
func (f *wasiFile) Lseek(int64, int) (int64, wasip1.Errno)   { return 0, wasip1.ENOSYS }
func (f *wasiFile) ReadDir(int) ([]wasip1.Dirent, wasip1.Errno) {
	return nil, wasip1.ENOSYS
}
func (f *wasiFile) Truncate(int64) wasip1.Errno      { return wasip1.ENOSYS }
func (f *wasiFile) Sync() wasip1.Errno               { return 0 }
func (f *wasiFile) Utimes(int64, int64) wasip1.Errno { return wasip1.ENOSYS }
func (f *wasiFile) SetAppend(bool) wasip1.Errno      { return wasip1.ENOSYS }

func (f *wasiFile) Close() wasip1.Errno {
	f.f.close()
	return 0
}
