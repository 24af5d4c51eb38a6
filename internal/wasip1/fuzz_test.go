package wasip1_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// FuzzFunctions calls a sequence of WASI functions with arguments and
// guest memory taken from the input: no call may panic (proc_exit's
// *ExitError aside), whatever the pointers, lengths, fds and flags.
func FuzzFunctions(f *testing.F) {
	f.Add([]byte("\x1f\x03\x00\x00\x00\x00\x01\x00\x00\x05\x00\x00\x00"))
	f.Add([]byte{21, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0})
	f.Add([]byte{37, 0, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("path_open a.txt fd_write fd_readdir \x00\x01\x02\x03\xff\xfe"))
	fns := wasip1.Functions()
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := newFS(t, false)
		in := wasip1.New(wasip1.Config{
			Args:     []string{"x"},
			Preopens: []wasip1.Preopen{{GuestPath: "/", FS: fsys.WASI()}},
			Sleep:    func(context.Context, time.Duration) {},
			MaxFDs:   16,
		})
		defer in.Close()
		mem := make([]byte, 4096)
		copy(mem, data)
		copy(mem[64:], "a.txt")
		for len(data) > 1 {
			fn := fns[int(data[0])%len(fns)]
			data = data[1:]
			args := make([]uint64, max(len(fn.Params), 1))
			for i := range fn.Params {
				if len(data) == 0 {
					break
				}
				// Mostly small values (fds, flags, in-bounds pointers),
				// sometimes any 32 or 64 bits.
				switch sel := data[0] % 8; {
				case sel < 5 || len(data) < 9:
					args[i] = uint64(data[0]) * uint64(1+data[0]%17)
					data = data[1:]
				case sel < 7:
					args[i] = uint64(binary.LittleEndian.Uint32(data[1:]))
					data = data[5:]
				default:
					args[i] = binary.LittleEndian.Uint64(data[1:])
					data = data[9:]
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(*wasip1.ExitError); !ok || fn.Name != "proc_exit" {
							t.Fatalf("%s%v panicked: %v", fn.Name, args, r)
						}
					}
				}()
				errno := fn.Call(context.Background(), in, mem, args)
				if errno > wasip1.ENOTCAPABLE {
					t.Fatalf("%s%v returned errno %d", fn.Name, args, errno)
				}
			}()
		}
	})
}
