//go:build darwin || freebsd || netbsd

package vfs

import "syscall"

// hostStat completes st from the *syscall.Stat_t of a file of the host's
// filesystem (afero.OsFs).
func hostStat(st *stat, sys any) {
	d, ok := sys.(*syscall.Stat_t)
	if !ok {
		return
	}
	st.ino, st.nlink = uint64(d.Ino), uint64(d.Nlink)
	st.atim = d.Atimespec.Nano()
	st.mtim = d.Mtimespec.Nano()
	st.ctim = d.Ctimespec.Nano()
}
