//go:build unix && !linux

package shell

import (
	"os"
	"syscall"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// sysStat returns what the interpreter's tests (-O, -G) expect from
// FileInfo.Sys on Unix: every file of the sandbox belongs to its one user.
func sysStat(st wasip1.Filestat) any {
	return &syscall.Stat_t{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Size: int64(st.Size)}
}
