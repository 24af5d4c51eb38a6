//go:build linux

package shell

import (
	"os"
	"syscall"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// sysStat returns what the interpreter's tests (-O, -G, -N) expect from
// FileInfo.Sys on Unix: every file of the sandbox belongs to its one user.
func sysStat(st wasip1.Filestat) any {
	s := &syscall.Stat_t{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Size: int64(st.Size)}
	s.Atim = syscall.NsecToTimespec(st.Atim)
	s.Mtim = syscall.NsecToTimespec(st.Mtim)
	return s
}
