package wasip1

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Preopen is a directory the guest finds at GuestPath (fds 3, 4, ... in
// order), backed by FS.
type Preopen struct {
	GuestPath string
	FS        FS
}

// Config describes the WASI world of one guest instance. Every field is
// optional.
type Config struct {
	Args []string
	Env  [][2]string // in order
	// Stdin is read by fd 0 (nil: always at its end).
	Stdin io.Reader
	// Stdout and Stderr receive fds 1 and 2, one Write per iovec (nil:
	// discarded). Their errors are not the guest's: a write always
	// succeeds.
	Stdout, Stderr io.Writer
	Preopens       []Preopen
	// Walltime returns nanoseconds since the Unix epoch (nil: time.Now).
	Walltime func() int64
	// Nanotime returns a monotonic clock in nanoseconds (nil: time since New).
	Nanotime func() int64
	// Random fills random_get (nil: crypto/rand).
	Random io.Reader
	// Sleep sleeps for d, or less when the host interrupts the guest; it may
	// panic to end the call (a hard stop). nil: a timer, cut short when ctx
	// ends.
	Sleep func(ctx context.Context, d time.Duration)
	// Yield is called by sched_yield and before a sleep; it may panic to end
	// the call (nil: nothing).
	Yield func(ctx context.Context)
	// MaxFDs bounds the fd table, stdio and preopens included (0:
	// DefaultMaxFDs); opening more is EMFILE.
	MaxFDs int
}

// DefaultMaxFDs is the default size of the fd table.
const DefaultMaxFDs = 4096

// ExitError is what proc_exit panics with; adapters turn it into their
// engine's exit.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("wasi: exit code %d", e.Code) }

type fdKind uint8

const (
	kindFile fdKind = iota
	kindStdin
	kindStdout
	kindStderr
)

// fdEntry is one open fd.
type fdEntry struct {
	kind     fdKind
	fs       FS
	file     File   // nil for stdio
	path     string // within fs, "." for its root
	dir      bool
	preopen  string // guest path of a preopen, or ""
	mount    string // guest path of the preopen whose file system fs is
	base     uint64 // rights
	inherit  uint64
	fdflags  uint16
	dirents  []Dirent // fd_readdir's listing, "." and ".." first
	listed   bool
	dotIno   uint64 // the directory's inode, once known
	ftype    Filetype
	writable bool
}

// Instance is the WASI state of one guest instance: its fd table, arguments,
// environment, clocks and stdio. It serves one guest call at a time (a
// WebAssembly instance is single-threaded).
type Instance struct {
	cfg   Config
	start time.Time
	fds   []*fdEntry
	// initial is the fd table New made (Unchanged).
	initial []initialFD
	free    int // lowest fd that may be free
	maxFDs  int
	args    []byte // NUL-terminated, in order
	env     []byte
	nargs   int
	nenv    int
}

// New creates the WASI state of one instance. Stdio is fds 0–2, preopens
// follow from fd 3.
func New(cfg Config) *Instance {
	in := &Instance{cfg: cfg, start: time.Now(), maxFDs: cfg.MaxFDs}
	if in.maxFDs <= 0 {
		in.maxFDs = DefaultMaxFDs
	}
	if in.cfg.Random == nil {
		in.cfg.Random = rand.Reader
	}
	for _, a := range cfg.Args {
		in.args = append(append(in.args, a...), 0)
	}
	in.nargs = len(cfg.Args)
	for _, kv := range cfg.Env {
		in.env = append(append(append(append(in.env, kv[0]...), '='), kv[1]...), 0)
	}
	in.nenv = len(cfg.Env)
	stdioRights := rightsFile &^ (RightFdSeek | RightFdTell)
	in.fds = append(in.fds,
		&fdEntry{kind: kindStdin, base: stdioRights, ftype: FiletypeBlockDevice},
		&fdEntry{kind: kindStdout, base: stdioRights, ftype: FiletypeBlockDevice, writable: true},
		&fdEntry{kind: kindStderr, base: stdioRights, ftype: FiletypeBlockDevice, writable: true})
	for _, p := range cfg.Preopens {
		in.fds = append(in.fds, &fdEntry{fs: p.FS, mount: p.GuestPath, path: ".", dir: true, preopen: p.GuestPath,
			base: rightsDir, inherit: rightsDir | rightsFile, ftype: FiletypeDirectory})
	}
	in.free = len(in.fds)
	in.initial = make([]initialFD, len(in.fds))
	for k, e := range in.fds {
		in.initial[k] = initialFD{e, e.base, e.inherit, e.fdflags}
	}
	return in
}

// initialFD is an fd the instance started with, as it started.
type initialFD struct {
	e             *fdEntry
	base, inherit uint64
	fdflags       uint16
}

// Unchanged reports whether the fd table is as New made it: no fd opened,
// closed, renumbered, or with its rights or flags changed (a preopen the
// guest has read keeps its directory open: that is no change). An instance
// whose guest memory is put back in an earlier state (a snapshot) may keep
// its WASI state only then.
func (in *Instance) Unchanged() bool {
	if len(in.fds) != len(in.initial) {
		return false
	}
	for k, f := range in.initial {
		e := in.fds[k]
		if e != f.e || e.base != f.base || e.inherit != f.inherit || e.fdflags != f.fdflags {
			return false
		}
	}
	return true
}

// Close closes every open file.
func (in *Instance) Close() {
	for i, e := range in.fds {
		if e != nil && e.file != nil {
			e.file.Close()
		}
		in.fds[i] = nil
	}
}

// OpenFDs returns the number of open fds.
func (in *Instance) OpenFDs() int {
	n := 0
	for _, e := range in.fds {
		if e != nil {
			n++
		}
	}
	return n
}

func (in *Instance) lookup(fd uint32) (*fdEntry, Errno) {
	if uint64(fd) >= uint64(len(in.fds)) || in.fds[fd] == nil {
		return nil, EBADF
	}
	return in.fds[fd], 0
}

// reserveFD checks that one more fd is available.
func (in *Instance) reserveFD() (uint32, Errno) {
	for i := in.free; i < len(in.fds); i++ {
		if in.fds[i] == nil {
			return uint32(i), 0
		}
	}
	if len(in.fds) >= in.maxFDs {
		return 0, EMFILE
	}
	return uint32(len(in.fds)), 0
}

func (in *Instance) install(fd uint32, e *fdEntry) {
	if int(fd) == len(in.fds) {
		in.fds = append(in.fds, e)
	} else {
		in.fds[fd] = e
	}
	in.free = int(fd) + 1
}

func (in *Instance) remove(fd uint32) {
	in.fds[fd] = nil
	if int(fd) < in.free {
		in.free = int(fd)
	}
	for len(in.fds) > 0 && in.fds[len(in.fds)-1] == nil {
		in.fds = in.fds[:len(in.fds)-1]
	}
	if in.free > len(in.fds) {
		in.free = len(in.fds)
	}
}

func (in *Instance) walltime() int64 {
	if in.cfg.Walltime != nil {
		return in.cfg.Walltime()
	}
	return time.Now().UnixNano()
}

func (in *Instance) nanotime() int64 {
	if in.cfg.Nanotime != nil {
		return in.cfg.Nanotime()
	}
	return int64(time.Since(in.start))
}

// resolve joins a guest path to a directory fd: the result is within the
// directory's file system and keeps a trailing slash. A ".." above the
// root of a file system mounted at "/" stays at the root, as on Linux; above
// any other mount it is ENOTCAPABLE, since the path would leave the file
// system (wasi-libc resolves a path against the mount with the longest
// prefix, so "/mnt/x/../../etc" reaches the /mnt/x mount as "../../etc").
func (in *Instance) resolve(fd uint32, p string) (*fdEntry, string, Errno) {
	e, errno := in.lookup(fd)
	if errno != 0 {
		return nil, "", errno
	}
	if e.fs == nil || !e.dir {
		return nil, "", ENOTDIR
	}
	if p == "" {
		return nil, "", ENOENT
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, "", EINVAL
	}
	if e.mount != "/" && escapes(e.path, p) {
		return nil, "", ENOTCAPABLE
	}
	full := path.Clean("/" + e.path + "/" + p)[1:]
	if full == "" {
		full = "."
	}
	if strings.HasSuffix(p, "/") && full != "." {
		full += "/"
	}
	return e, full, 0
}

// escapes reports whether p, taken relative to dir (a clean path within a
// file system, "." for its root), climbs above the root with "..".
func escapes(dir, p string) bool {
	depth := 0
	for _, s := range strings.Split(dir+"/"+p, "/") {
		switch s {
		case "", ".":
		case "..":
			if depth == 0 {
				return true
			}
			depth--
		default:
			depth++
		}
	}
	return false
}

// ---- guest memory -----------------------------------------------------

var le = binary.LittleEndian

// slice returns mem[off:off+n], or false when it is out of bounds.
func slice(mem []byte, off, n uint64) ([]byte, bool) {
	if off > uint64(len(mem)) || n > uint64(len(mem))-off {
		return nil, false
	}
	return mem[off : off+n : off+n], true
}

func putU32(mem []byte, off uint64, v uint32) bool {
	b, ok := slice(mem, off, 4)
	if ok {
		le.PutUint32(b, v)
	}
	return ok
}

func putU64(mem []byte, off uint64, v uint64) bool {
	b, ok := slice(mem, off, 8)
	if ok {
		le.PutUint64(b, v)
	}
	return ok
}

func readString(mem []byte, off, n uint64) (string, Errno) {
	b, ok := slice(mem, off, n)
	if !ok {
		return "", EFAULT
	}
	return string(b), 0
}

// checkIovecs checks an iovec array and every buffer it names.
func checkIovecs(mem []byte, iovs, n uint64) Errno {
	if n > 1024 { // IOV_MAX
		return EINVAL
	}
	arr, ok := slice(mem, iovs, n*iovecSize)
	if !ok {
		return EFAULT
	}
	for i := uint64(0); i < n; i++ {
		if _, ok := slice(mem, uint64(le.Uint32(arr[i*8:])), uint64(le.Uint32(arr[i*8+4:]))); !ok {
			return EFAULT
		}
	}
	return 0
}

// iovec returns buffer i of an iovec array checked by checkIovecs.
func iovec(mem []byte, iovs, i uint64) []byte {
	a := iovs + i*iovecSize
	off, n := uint64(le.Uint32(mem[a:])), uint64(le.Uint32(mem[a+4:]))
	return mem[off : off+n : off+n]
}

func writeFilestat(b []byte, st Filestat) {
	le.PutUint64(b, st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], uint64(st.Type))
	le.PutUint64(b[24:], st.Nlink)
	le.PutUint64(b[32:], st.Size)
	le.PutUint64(b[40:], uint64(st.Atim))
	le.PutUint64(b[48:], uint64(st.Mtim))
	le.PutUint64(b[56:], uint64(st.Ctim))
}
