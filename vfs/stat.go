package vfs

import (
	"io/fs"
	"time"
)

// MemStat is what FileInfo.Sys returns for a file or directory of a MemFS
// (as a *MemStat): what fs.FileInfo does not carry.
type MemStat struct {
	// Ino is the file's serial number, unique in its MemFS and kept for
	// the file's life (a rename keeps it).
	Ino uint64
	// Nlink is the number of links: 1 for a file, 2 plus the number of
	// subdirectories for a directory, 0 once removed.
	Nlink uint64
	// Atim, Mtim and Ctim are the access, modification and status change
	// times, in nanoseconds since the epoch.
	Atim, Mtim, Ctim int64
}

// stat is what this package knows of a file: its FileInfo's mode and size,
// and what its Sys adds (a *MemStat, or the host's stat on the platforms
// hostStat reads).
type stat struct {
	dev, ino         uint64
	mode             fs.FileMode
	nlink            uint64
	size             int64
	atim, mtim, ctim int64 // epoch nanoseconds
}

// statOf reads fi. Without a serial number ino is 0; without times they are
// all the modification time; without a link count it is 1.
func statOf(fi fs.FileInfo) stat {
	st := stat{mode: fi.Mode(), size: fi.Size(), nlink: 1}
	if ms, ok := fi.Sys().(*MemStat); ok {
		st.ino, st.nlink = ms.Ino, ms.Nlink
		st.atim, st.mtim, st.ctim = ms.Atim, ms.Mtim, ms.Ctim
		return st
	}
	mtim := fi.ModTime().UnixNano()
	st.atim, st.mtim, st.ctim = mtim, mtim, mtim
	hostStat(&st, fi.Sys())
	return st
}

func timeOf(epochNanos int64) time.Time { return time.Unix(0, epochNanos) }
