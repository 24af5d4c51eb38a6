package wasip1

import (
	"context"
	"strings"
)

// pathArg resolves the path argument at p[i], p[i+1] against the
// directory fd p[fdArg], which must have the rights need (ENOTCAPABLE).
func (in *Instance) pathArg(mem []byte, p []uint64, fdArg, i int, need uint64) (*fdEntry, string, Errno) {
	s, errno := readString(mem, u32(p[i]), u32(p[i+1]))
	if errno != 0 {
		return nil, "", errno
	}
	e, path, errno := in.resolve(uint32(p[fdArg]), s)
	if errno == 0 && e.base&need != need {
		return nil, "", ENOTCAPABLE
	}
	return e, path, errno
}

func pathCreateDirectory(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, path, errno := in.pathArg(mem, p, 0, 1, RightPathCreateDirectory)
	if errno != 0 {
		return errno
	}
	return e.fs.Mkdir(path)
}

func pathFilestatGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	b, ok := slice(mem, u32(p[4]), filestatSize)
	if !ok {
		return EFAULT
	}
	e, path, errno := in.pathArg(mem, p, 0, 2, RightPathFilestatGet)
	if errno != 0 {
		return errno
	}
	st, errno := e.fs.Stat(path, uint32(p[1])&lookupSymlinkFollow != 0)
	if errno != 0 {
		return errno
	}
	writeFilestat(b, st)
	return 0
}

func pathFilestatSetTimes(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, path, errno := in.pathArg(mem, p, 0, 2, RightPathFilestatSetTimes)
	if errno != 0 {
		return errno
	}
	a, m, errno := in.times(int64(p[4]), int64(p[5]), uint16(p[6]))
	if errno != 0 {
		return errno
	}
	return e.fs.Utimes(path, a, m)
}

func pathLink(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	eo, oldPath, errno := in.pathArg(mem, p, 0, 2, RightPathLinkSource)
	if errno != 0 {
		return errno
	}
	en, newPath, errno := in.pathArg(mem, p, 4, 5, RightPathLinkTarget)
	if errno != 0 {
		return errno
	}
	if eo.fs != en.fs {
		return EXDEV
	}
	return eo.fs.Link(oldPath, newPath)
}

func pathOpen(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	resultFD := u32(p[8])
	if _, ok := slice(mem, resultFD, 4); !ok {
		return EFAULT
	}
	oflags, fdflags := uint16(p[4]), uint16(p[7])
	if oflags > 15 {
		return EINVAL
	}
	need := RightPathOpen
	if oflags&oflagCreat != 0 {
		need |= RightPathCreateFile
	}
	if oflags&oflagTrunc != 0 {
		need |= RightPathFilestatSetSize
	}
	dir, path, errno := in.pathArg(mem, p, 0, 2, need)
	if errno != 0 {
		return errno
	}
	base, inherit := p[5]&dir.inherit, p[6]&dir.inherit
	o := OpenFlags{
		Read:      base&(RightFdRead|RightFdReaddir) != 0,
		Write:     base&RightFdWrite != 0,
		Append:    fdflags&fdflagAppend != 0,
		Create:    oflags&oflagCreat != 0,
		Excl:      oflags&oflagExcl != 0,
		Trunc:     oflags&oflagTrunc != 0,
		Directory: oflags&oflagDirectory != 0,
	}
	if o.Directory && (o.Write || o.Trunc) {
		return EISDIR
	}
	fd, errno := in.reserveFD()
	if errno != 0 {
		return errno
	}
	f, errno := dir.fs.Open(path, o)
	if errno != 0 {
		return errno
	}
	e := &fdEntry{fs: dir.fs, mount: dir.mount, file: f, path: strings.TrimSuffix(path, "/"),
		base: base, inherit: inherit, fdflags: fdflags & (fdflagAppend | fdflagNonblock), writable: o.Write}
	if f.IsDir() {
		e.dir, e.ftype = true, FiletypeDirectory
		e.base &= rightsDir
		if o.Read {
			e.base |= RightFdReaddir & p[5] & dir.inherit
		}
	} else {
		e.base &= rightsFile
		e.inherit = 0
	}
	if e.path == "" {
		e.path = "."
	}
	in.install(fd, e)
	putU32(mem, resultFD, fd)
	return 0
}

func pathReadlink(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	buf, ok := slice(mem, u32(p[3]), u32(p[4]))
	if !ok {
		return EFAULT
	}
	if _, ok := slice(mem, u32(p[5]), 4); !ok {
		return EFAULT
	}
	e, path, errno := in.pathArg(mem, p, 0, 1, RightPathReadlink)
	if errno != 0 {
		return errno
	}
	target, errno := e.fs.Readlink(path)
	if errno != 0 {
		return errno
	}
	putU32(mem, u32(p[5]), uint32(copy(buf, target)))
	return 0
}

func pathRemoveDirectory(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, path, errno := in.pathArg(mem, p, 0, 1, RightPathRemoveDirectory)
	if errno != 0 {
		return errno
	}
	return e.fs.Rmdir(path)
}

func pathRename(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	eo, from, errno := in.pathArg(mem, p, 0, 1, RightPathRenameSource)
	if errno != 0 {
		return errno
	}
	en, to, errno := in.pathArg(mem, p, 3, 4, RightPathRenameTarget)
	if errno != 0 {
		return errno
	}
	if eo.fs != en.fs {
		return EXDEV
	}
	return eo.fs.Rename(from, to)
}

func pathSymlink(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	target, errno := readString(mem, u32(p[0]), u32(p[1]))
	if errno != 0 {
		return errno
	}
	e, path, errno := in.pathArg(mem, p, 2, 3, RightPathSymlink)
	if errno != 0 {
		return errno
	}
	return e.fs.Symlink(target, path)
}

func pathUnlinkFile(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	e, path, errno := in.pathArg(mem, p, 0, 1, RightPathUnlinkFile)
	if errno != 0 {
		return errno
	}
	return e.fs.Unlink(path)
}
