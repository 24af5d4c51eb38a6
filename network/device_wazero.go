package network

import (
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// This file serves the device to wazero's WASI (whose file systems are
// experimental/sys.FS); it goes when the runtime no longer uses them.

// Wrap returns fsys (the guest's "/") with DevDir served by the device, for
// wazero's WASI. Everything else goes to fsys, and an ErrnoReporter fsys
// stays one. WrapWASI does the same for wasmbox's WASI.
func (d *Device) Wrap(fsys experimentalsys.FS) experimentalsys.FS {
	return &devFS{FS: fsys, d: d}
}

type devFS struct {
	experimentalsys.FS
	d *Device
}

func sysErrno(e devErr) experimentalsys.Errno {
	switch e {
	case devOK:
		return 0
	case devNoSys:
		return experimentalsys.ENOSYS
	case devNotDir:
		return experimentalsys.ENOTDIR
	}
	return experimentalsys.EIO
}

func sysStat(st devStat) sys.Stat_t { return sys.Stat_t{Mode: st.mode, Nlink: 1, Size: st.size} }

// TakeWASIErrno forwards runtime.ErrnoReporter.
func (f *devFS) TakeWASIErrno() uint16 {
	if r, ok := f.FS.(interface{ TakeWASIErrno() uint16 }); ok {
		return r.TakeWASIErrno()
	}
	return 0
}

func (f *devFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	name, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.OpenFile(p, flag, perm)
	}
	write := flag&(experimentalsys.O_WRONLY|experimentalsys.O_RDWR) != 0
	file, e := f.d.openName(name, write, dirOnly || flag&experimentalsys.O_DIRECTORY != 0)
	if e != devOK {
		return nil, sysErrno(e)
	}
	return &sysFile{f: file}, 0
}

func (f *devFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	_, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Stat(p)
	}
	st, e := statName(dirOnly)
	return sysStat(st), sysErrno(e)
}

func (f *devFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	_, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Lstat(p)
	}
	st, e := statName(dirOnly)
	return sysStat(st), sysErrno(e)
}

func (f *devFS) Unlink(p string) experimentalsys.Errno {
	name, dirOnly, ok := devName(p)
	if !ok {
		return f.FS.Unlink(p)
	}
	return sysErrno(f.d.unlinkName(name, dirOnly))
}

// sysFile is a device file as an experimentalsys.File; what it does not
// implement is ENOSYS (Sync: nothing to do).
type sysFile struct {
	experimentalsys.UnimplementedFile
	f devFile
}

func (f *sysFile) Stat() (sys.Stat_t, experimentalsys.Errno) { return sysStat(f.f.stat()), 0 }

func (f *sysFile) Read(p []byte) (int, experimentalsys.Errno) {
	n, e := f.f.read(p)
	return n, sysErrno(e)
}

func (f *sysFile) Write(p []byte) (int, experimentalsys.Errno) {
	n, e := f.f.write(p)
	return n, sysErrno(e)
}

func (f *sysFile) Close() experimentalsys.Errno {
	f.f.close()
	return 0
}
