package wasip1

import (
	"context"
	"io"
	"math"
)

// file returns the File of a file or directory fd, opening a preopen's
// directory on first use.
func (e *fdEntry) open() (File, Errno) {
	if e.kind != kindFile {
		return nil, EBADF
	}
	if e.file == nil {
		f, errno := e.fs.Open(e.path, OpenFlags{Read: true, Directory: true})
		if errno != 0 {
			return nil, errno
		}
		e.file = f
	}
	return e.file, 0
}

func (in *Instance) fileFD(fd uint32) (*fdEntry, File, Errno) {
	e, errno := in.lookup(fd)
	if errno != 0 {
		return nil, nil, errno
	}
	f, errno := e.open()
	return e, f, errno
}

func fdAdvise(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	if _, errno := in.lookup(uint32(p[0])); errno != 0 {
		return errno
	}
	if uint32(p[3]) > 5 {
		return EINVAL
	}
	return 0
}

func fdAllocate(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, f, errno := in.fileFD(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	off, n := int64(p[1]), int64(p[2])
	if off < 0 || n <= 0 {
		return EINVAL
	}
	if e.dir {
		return EBADF
	}
	if off > math.MaxInt64-n {
		return EFBIG
	}
	st, errno := f.Stat()
	if errno != 0 {
		return errno
	}
	if end := off + n; uint64(end) > st.Size {
		return f.Truncate(end)
	}
	return 0
}

func fdClose(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	fd := uint32(p[0])
	e, errno := in.lookup(fd)
	if errno != 0 {
		return errno
	}
	in.remove(fd)
	if e.file != nil {
		return e.file.Close()
	}
	return 0
}

func fdSync(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 || e.kind != kindFile {
		return errno
	}
	f, errno := e.open()
	if errno != 0 {
		return errno
	}
	return f.Sync()
}

func (e *fdEntry) filetype() (Filetype, Errno) {
	if e.kind != kindFile || e.dir {
		return e.ftype, 0
	}
	if e.ftype == FiletypeUnknown {
		st, errno := e.file.Stat()
		if errno != 0 {
			return 0, errno
		}
		e.ftype = st.Type
	}
	return e.ftype, 0
}

func fdFdstatGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	b, ok := slice(mem, u32(p[1]), fdstatSize)
	if !ok {
		return EFAULT
	}
	t, errno := e.filetype()
	if errno != 0 {
		return errno
	}
	clear(b)
	b[0] = byte(t)
	le.PutUint16(b[2:], e.fdflags)
	le.PutUint64(b[8:], e.base)
	le.PutUint64(b[16:], e.inherit)
	return 0
}

func fdFdstatSetFlags(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	flags := uint16(p[1])
	if flags&(fdflagDsync|fdflagRsync|fdflagSync) != 0 {
		return ENOTSUP
	}
	if e.kind == kindFile && !e.dir {
		if (flags^e.fdflags)&fdflagAppend != 0 {
			if errno := e.file.SetAppend(flags&fdflagAppend != 0); errno != 0 {
				return errno
			}
		}
	} else if flags&fdflagAppend != 0 {
		return EINVAL
	}
	e.fdflags = flags & (fdflagAppend | fdflagNonblock)
	return 0
}

func fdFdstatSetRights(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	base, inherit := p[1], p[2]
	if base&^e.base != 0 || inherit&^e.inherit != 0 {
		return ENOTCAPABLE
	}
	e.base, e.inherit = base, inherit
	return 0
}

func (e *fdEntry) stat() (Filestat, Errno) {
	switch {
	case e.kind != kindFile:
		return Filestat{Type: e.ftype, Nlink: 1}, 0
	case e.file == nil:
		return e.fs.Stat(e.path, true)
	}
	return e.file.Stat()
}

func fdFilestatGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	b, ok := slice(mem, u32(p[1]), filestatSize)
	if !ok {
		return EFAULT
	}
	st, errno := e.stat()
	if errno != 0 {
		return errno
	}
	writeFilestat(b, st)
	return 0
}

func fdFilestatSetSize(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, f, errno := in.fileFD(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	if e.dir {
		return EISDIR
	}
	if int64(p[1]) < 0 {
		return EINVAL
	}
	return f.Truncate(int64(p[1]))
}

// times turns fd_filestat_set_times' arguments into times for Utimes.
func (in *Instance) times(atim, mtim int64, fst uint16) (int64, int64, Errno) {
	if fst&(fstflagAtim|fstflagAtimNow) == fstflagAtim|fstflagAtimNow ||
		fst&(fstflagMtim|fstflagMtimNow) == fstflagMtim|fstflagMtimNow || fst > 15 {
		return 0, 0, EINVAL
	}
	a, m := OmitTime, OmitTime
	var now int64
	if fst&(fstflagAtimNow|fstflagMtimNow) != 0 {
		now = in.walltime()
	}
	switch {
	case fst&fstflagAtim != 0:
		a = atim
	case fst&fstflagAtimNow != 0:
		a = now
	}
	switch {
	case fst&fstflagMtim != 0:
		m = mtim
	case fst&fstflagMtimNow != 0:
		m = now
	}
	return a, m, 0
}

func fdFilestatSetTimes(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	a, m, errno := in.times(int64(p[1]), int64(p[2]), uint16(p[3]))
	if errno != 0 {
		return errno
	}
	if e.kind != kindFile {
		return ENOSYS
	}
	if e.file == nil {
		return e.fs.Utimes(e.path, a, m)
	}
	return e.file.Utimes(a, m)
}

func fdPrestatGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	if e.preopen == "" {
		return EBADF
	}
	b, ok := slice(mem, u32(p[1]), 8)
	if !ok {
		return EFAULT
	}
	clear(b)
	le.PutUint32(b[4:], uint32(len(e.preopen)))
	return 0
}

func fdPrestatDirName(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	if e.preopen == "" {
		return EBADF
	}
	b, ok := slice(mem, u32(p[1]), u32(p[2]))
	if !ok {
		return EFAULT
	}
	if len(b) < len(e.preopen) {
		return ENAMETOOLONG
	}
	copy(b, e.preopen)
	return 0
}

// rw checks an fd and the iovecs and result pointer of a read or write.
func (in *Instance) rw(mem []byte, p []uint64, resultArg int, right uint64) (*fdEntry, Errno) {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return nil, errno
	}
	if _, ok := slice(mem, u32(p[resultArg]), 4); !ok {
		return nil, EFAULT
	}
	if errno := checkIovecs(mem, u32(p[1]), u32(p[2])); errno != 0 {
		return nil, errno
	}
	if e.dir {
		return nil, EISDIR
	}
	if e.base&right == 0 {
		return nil, EBADF
	}
	return e, 0
}

func fdRead(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.rw(mem, p, 3, RightFdRead)
	if errno != 0 {
		return errno
	}
	iovs, n := u32(p[1]), u32(p[2])
	total := 0
	switch e.kind {
	case kindStdin:
		if in.cfg.Stdin != nil {
			for k := uint64(0); k < n; k++ {
				b := iovec(mem, iovs, k)
				m, err := in.cfg.Stdin.Read(b)
				total += m
				if err != nil && err != io.EOF {
					return EIO
				}
				if m < len(b) {
					break
				}
			}
		}
	case kindFile:
		if total, errno = transfer(mem, iovs, n, func(b []byte, _ int) (int, Errno) { return e.file.Read(b) }); errno != 0 {
			return errno
		}
	default:
		return EBADF
	}
	putU32(mem, u32(p[3]), uint32(total))
	return 0
}

func fdWrite(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.rw(mem, p, 3, RightFdWrite)
	if errno != 0 {
		return errno
	}
	iovs, n := u32(p[1]), u32(p[2])
	total := 0
	switch e.kind {
	case kindStdout, kindStderr:
		w := in.cfg.Stdout
		if e.kind == kindStderr {
			w = in.cfg.Stderr
		}
		for k := uint64(0); k < n; k++ {
			b := iovec(mem, iovs, k)
			if w != nil && len(b) > 0 {
				_, _ = w.Write(b)
			}
			total += len(b)
		}
	case kindFile:
		if total, errno = transfer(mem, iovs, n, func(b []byte, _ int) (int, Errno) { return e.file.Write(b) }); errno != 0 {
			return errno
		}
	default:
		return EBADF
	}
	putU32(mem, u32(p[3]), uint32(total))
	return 0
}

// transfer runs op over the iovecs at iovs, in order, with the bytes done
// so far, until one is short or fails: an error after some bytes ends the
// transfer with what was done, as POSIX readv and writev do.
func transfer(mem []byte, iovs, n uint64, op func(b []byte, done int) (int, Errno)) (int, Errno) {
	total := 0
	for k := uint64(0); k < n; k++ {
		b := iovec(mem, iovs, k)
		m, errno := op(b, total)
		total += m
		if errno != 0 {
			if total > 0 {
				break
			}
			return 0, errno
		}
		if m < len(b) {
			break
		}
	}
	return total, 0
}

func fdPread(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.rw(mem, p, 4, RightFdRead)
	if errno != 0 {
		return errno
	}
	if e.kind != kindFile {
		return ESPIPE
	}
	off := int64(p[3])
	if off < 0 {
		return EINVAL
	}
	total, errno := transfer(mem, u32(p[1]), u32(p[2]), func(b []byte, done int) (int, Errno) {
		return e.file.Pread(b, off+int64(done))
	})
	if errno != 0 {
		return errno
	}
	putU32(mem, u32(p[4]), uint32(total))
	return 0
}

func fdPwrite(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.rw(mem, p, 4, RightFdWrite)
	if errno != 0 {
		return errno
	}
	if e.kind != kindFile {
		return ESPIPE
	}
	off := int64(p[3])
	if off < 0 {
		return EINVAL
	}
	total, errno := transfer(mem, u32(p[1]), u32(p[2]), func(b []byte, done int) (int, Errno) {
		return e.file.Pwrite(b, off+int64(done))
	})
	if errno != 0 {
		return errno
	}
	putU32(mem, u32(p[4]), uint32(total))
	return 0
}

func fdReaddir(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	buf, ok := slice(mem, u32(p[1]), u32(p[2]))
	if !ok {
		return EFAULT
	}
	if _, ok := slice(mem, u32(p[4]), 4); !ok {
		return EFAULT
	}
	if !e.dir {
		return ENOTDIR
	}
	if e.base&RightFdReaddir == 0 {
		return ENOTCAPABLE
	}
	f, errno := e.open()
	if errno != 0 {
		return errno
	}
	cookie := p[3]
	if cookie == 0 || !e.listed {
		if _, errno := f.Lseek(0, whenceSet); errno != 0 {
			return errno
		}
		ents, errno := f.ReadDir(-1)
		if errno != 0 {
			return errno
		}
		if e.dotIno == 0 { // a directory's inode does not change
			st, errno := f.Stat()
			if errno != 0 {
				return errno
			}
			e.dotIno = st.Ino
		}
		e.dirents = append(append(e.dirents[:0],
			Dirent{Name: ".", Ino: e.dotIno, Type: FiletypeDirectory},
			Dirent{Name: "..", Type: FiletypeDirectory}), ents...)
		e.listed = true
	}
	used := 0
	for k := cookie; k < uint64(len(e.dirents)) && used < len(buf); k++ {
		d := e.dirents[k]
		var hdr [direntSize]byte
		le.PutUint64(hdr[0:], k+1)
		le.PutUint64(hdr[8:], d.Ino)
		le.PutUint32(hdr[16:], uint32(len(d.Name)))
		hdr[20] = byte(d.Type)
		used += copy(buf[used:], hdr[:])
		used += copy(buf[used:], d.Name)
	}
	putU32(mem, u32(p[4]), uint32(used))
	return 0
}

func fdRenumber(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	from, to := uint32(p[0]), uint32(p[1])
	e, errno := in.lookup(from)
	if errno != 0 {
		return errno
	}
	old, errno := in.lookup(to)
	if errno != 0 {
		return errno
	}
	if from == to {
		return 0
	}
	if old.file != nil {
		old.file.Close()
	}
	in.fds[to] = e
	in.remove(from)
	return 0
}

func fdSeek(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, errno := in.lookup(uint32(p[0]))
	if errno != 0 {
		return errno
	}
	if _, ok := slice(mem, u32(p[3]), 8); !ok {
		return EFAULT
	}
	whence := uint32(p[2])
	if whence > whenceEnd {
		return EINVAL
	}
	if e.kind != kindFile {
		return ESPIPE
	}
	if e.base&(RightFdSeek|RightFdTell) == 0 && !e.dir {
		return ENOTCAPABLE
	}
	f, errno := e.open()
	if errno != 0 {
		return errno
	}
	n, errno := f.Lseek(int64(p[1]), int(whence))
	if errno != 0 {
		return errno
	}
	if e.dir {
		e.listed = false
	}
	putU64(mem, u32(p[3]), uint64(n))
	return 0
}

func fdTell(ctx context.Context, in *Instance, mem []byte, p []uint64) Errno {
	return fdSeek(ctx, in, mem, []uint64{p[0], 0, whenceCur, p[1]})
}
