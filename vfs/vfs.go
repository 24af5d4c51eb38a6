// Package vfs is the sandbox filesystem of wasmbox: one virtual filesystem
// per sandbox, built on any afero.Fs, that every code context sees at "/"
// through wasmbox's WASI preview 1 (FS.WASI), and that the host program
// reads and writes through the Files API (E2B's sandbox.files).
//
//	root := vfs.NewMemFS()
//	data := afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), "/srv/data"))
//	fsys, err := vfs.New(root, vfs.WithMount("/mnt/data", data, true), vfs.WithMaxBytes(256<<20))
//	...
//	_, err = fsys.WriteBytes(ctx, "/home/user/in.csv", []byte("a,b\n1,2\n"))
//	entries, err := fsys.List(ctx, "/home/user", 1)
//
// # Mounts
//
// The filesystem has its own mount table: the root afero.Fs at "/" and
// further ones at guest paths (WithMount), read-write or read-only. A guest
// instance mounts the whole table as one WASI preopen (FS.WASI), so wasi-libc's
// preopen table, which lives in guest memory, does not depend on the mounts.
// A mount point is created as a directory in the filesystem that contains it;
// it cannot be removed or renamed, nor can a directory that holds one
// (ErrBusy), and renames between mounts fail with ErrCrossDevice (EXDEV,
// which Python's shutil.move answers by copying). WithIOFSMount mounts an
// io/fs filesystem read-only.
//
// # In memory
//
// MemFS is an in-memory afero.Fs made for this package, the default root of
// a sandbox: its host memory stays close to the bytes it holds (files are
// stored in blocks allocated as they are written; holes cost nothing) and it
// has the POSIX semantics the guests rely on. afero.MemMapFs works too, but
// grows files by copying them and updates no directory times.
//
// # Quotas
//
// The writable mounts share a byte quota (WithMaxBytes, 1 GiB by default: the
// sum of regular file sizes) and a limit on the number of files and
// directories (WithMaxFiles, 100,000 by default). What already exists when
// New is called counts. A write, truncate or create that would exceed a
// limit is refused whole — nothing is written — with ErrQuota on the host,
// ENOSPC (bytes) or EDQUOT (count) in the guest. Usage follows every change
// made through this package: overwrite, truncate, remove, rename over an
// existing file, and files unlinked while open (they count until closed).
// Changes made directly to the afero.Fs behind the filesystem's back are not
// seen.
//
// # Containment
//
// Paths are cleaned as POSIX paths rooted at "/": ".." cannot climb above "/"
// and every path resolves inside one mount. NUL bytes, names longer than 255
// bytes and paths longer than 4096 bytes are refused (ErrInvalidPath), and
// so is creating (or renaming to) a name that is not valid UTF-8 (EILSEQ in
// the guest), which E2B's API could not list. The
// host's filesystem is only reachable through what the host mounts.
// Symbolic links are not supported: the guest cannot create them (EPERM), and
// links that already exist in a mounted host directory are listed as such but
// never followed — every component of a path is checked with Lstat on
// filesystems that can hold links, and a path through a link fails with
// ELOOP (ErrPermission on the host). Hard links are refused too (EPERM).
// Devices, pipes and sockets of a mounted host directory cannot be opened.
//
// # Concurrency
//
// An FS is safe for concurrent use by any number of guest instances and host
// goroutines. Operations that change the namespace or file sizes are
// serialized (so that usage stays exact); reads run in parallel.
package vfs

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// Defaults and limits.
const (
	// DefaultMaxBytes is the default byte quota of a filesystem: 1 GiB.
	DefaultMaxBytes = 1 << 30
	// DefaultMaxFiles is the default limit on files and directories.
	DefaultMaxFiles = 100_000
	// NameMax is the longest name of one path component, in bytes.
	NameMax = 255
	// PathMax is the longest path, in bytes.
	PathMax = 4096

	// filePerm and dirPerm are the modes of created files and directories:
	// WASI carries no modes, and the sandbox has a
	// single user.
	filePerm = 0o644
	dirPerm  = 0o755
)

// Option configures New.
type Option func(*config)

type config struct {
	mounts   []mountSpec
	maxBytes int64
	maxFiles int64
	home     string
}

type mountSpec struct {
	path     string
	fs       afero.Fs
	readOnly bool
}

// WithMount mounts fsys at guestPath (an absolute path other than "/"). A
// read-only mount refuses every change with ErrPermission (EROFS in the
// guest). Mounts may nest; the longest matching mount point wins.
//
// For example, a host directory, read-only:
//
//	vfs.WithMount("/mnt/data", afero.NewBasePathFs(afero.NewOsFs(), "/srv/data"), true)
//
// # Notes
//
//   - The mount point is created as a directory in the filesystem that
//     contains it, if missing.
//   - Mounting the same afero.Fs twice counts its usage twice.
func WithMount(guestPath string, fsys afero.Fs, readOnly bool) Option {
	return func(c *config) {
		c.mounts = append(c.mounts, mountSpec{path: guestPath, fs: fsys, readOnly: readOnly})
	}
}

// WithMaxBytes sets the byte quota of the writable mounts together (default
// DefaultMaxBytes). n <= 0 removes the limit.
func WithMaxBytes(n int64) Option {
	return func(c *config) { c.maxBytes = n }
}

// WithMaxFiles sets the limit on the number of files and directories of the
// writable mounts together (default DefaultMaxFiles). n <= 0 removes the
// limit.
func WithMaxFiles(n int64) Option {
	return func(c *config) { c.maxFiles = n }
}

// WithHome sets the directory that relative paths given to the Files API
// resolve against (default "/"). The sandbox uses /home/user, as E2B does.
func WithHome(dir string) Option {
	return func(c *config) { c.home = dir }
}

// mount is one entry of the mount table.
type mount struct {
	path     string // guest path, clean; "/" for the root
	fs       afero.Fs
	readOnly bool
	dev      uint64        // the device number of everything in this mount
	lstat    afero.Lstater // non-nil when the fs can hold symbolic links
	// selfTimes: the fs updates a directory's modification time itself
	// when its entries change (MemFS, filesystems on disk).
	selfTimes bool
}

// loc is a guest path resolved to its mount.
type loc struct {
	m   *mount
	rel string // path inside m: clean, absolute, "/" for the mount's root
	abs string // the guest path
}

// nodeKey identifies a file while handles are open on it.
type nodeKey struct {
	m   *mount
	rel string
}

// node tracks the open handles of one regular file, so that a file unlinked
// while open keeps counting against the quota until its last close.
type node struct {
	key      nodeKey
	refs     int
	unlinked bool
}

// FS is a sandbox filesystem: a mount table of afero filesystems with quotas
// and watchers. Its methods (Read, Write, List, ...) are the host's Files
// API; WASI adapts it for guest instances. Create one with New.
type FS struct {
	mounts   []*mount // longest mount point first; the root last
	maxBytes int64
	maxFiles int64
	home     string
	closed   atomic.Bool

	mu    sync.Mutex // serializes changes; guards the fields below
	used  int64
	files int64
	nodes map[nodeKey]*node

	generation atomic.Uint64 // entries created or renamed (Generation)

	watchMu  sync.Mutex
	watchers map[*watcher]struct{}
	nwatch   atomic.Int32
}

// New creates a filesystem with root at "/" and the mounts of opts. It
// creates missing mount points and counts what the writable mounts already
// hold against the quota.
func New(root afero.Fs, opts ...Option) (*FS, error) {
	if root == nil {
		return nil, errors.New("wasmbox/vfs: nil root filesystem")
	}
	cfg := config{maxBytes: DefaultMaxBytes, maxFiles: DefaultMaxFiles, home: "/"}
	for _, o := range opts {
		o(&cfg)
	}
	f := &FS{maxBytes: cfg.maxBytes, maxFiles: cfg.maxFiles, nodes: map[nodeKey]*node{}, watchers: map[*watcher]struct{}{}}
	home, err := cleanAbs(cfg.home)
	if err != nil {
		return nil, fmt.Errorf("wasmbox/vfs: home %q: %w", cfg.home, err)
	}
	f.home = home
	specs := append([]mountSpec{{path: "/", fs: root}}, cfg.mounts...)
	seen := map[string]bool{}
	for i, s := range specs {
		if s.fs == nil {
			return nil, fmt.Errorf("wasmbox/vfs: mount %q: nil filesystem", s.path)
		}
		p, err := cleanAbs(s.path)
		if err == nil {
			err = checkName(p)
		}
		if err != nil || (i > 0 && p == "/") {
			return nil, fmt.Errorf("wasmbox/vfs: bad mount point %q: must be an absolute path other than /", s.path)
		}
		if seen[p] {
			return nil, fmt.Errorf("wasmbox/vfs: mount point %q used twice", p)
		}
		seen[p] = true
		m := &mount{path: p, fs: s.fs, readOnly: s.readOnly, dev: uint64(i + 1)}
		if ls, ok := s.fs.(afero.Lstater); ok {
			if _, lstatted, err := ls.LstatIfPossible("/"); lstatted && err == nil {
				m.lstat = ls
			}
		}
		_, isMem := s.fs.(*MemFS)
		m.selfTimes = isMem || m.lstat != nil
		f.mounts = append(f.mounts, m)
	}
	sort.SliceStable(f.mounts, func(i, j int) bool { return len(f.mounts[i].path) > len(f.mounts[j].path) })
	// Create mount points, outermost first.
	for i := len(f.mounts) - 1; i >= 0; i-- {
		m := f.mounts[i]
		if m.path == "/" {
			continue
		}
		parent := f.resolveIn(m.path, m)
		fi, err := f.stat(parent, true)
		switch {
		case err == nil && fi.IsDir():
		case err == nil:
			return nil, fmt.Errorf("wasmbox/vfs: mount point %s is not a directory", m.path)
		case errors.Is(err, ErrNotFound) && !parent.m.readOnly:
			if err := parent.m.fs.MkdirAll(parent.rel, dirPerm); err != nil {
				return nil, fmt.Errorf("wasmbox/vfs: create mount point %s: %w", m.path, err)
			}
		default:
			return nil, fmt.Errorf("wasmbox/vfs: mount point %s: %w", m.path, err)
		}
	}
	for _, m := range f.mounts {
		if m.readOnly {
			continue
		}
		if err := f.scan(m); err != nil {
			return nil, fmt.Errorf("wasmbox/vfs: measure %s: %w", m.path, err)
		}
	}
	return f, nil
}

// scan adds what m holds to the usage, not descending into other mounts.
func (f *FS) scan(m *mount) error {
	return afero.Walk(m.fs, "/", func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		p = filepath.ToSlash(p)
		if p == "/" {
			return nil
		}
		f.files++
		if fi.Mode().IsRegular() {
			f.used += fi.Size()
		}
		if fi.IsDir() && f.isMountPoint(joinAbs(m.path, p)) {
			return filepath.SkipDir
		}
		return nil
	})
}

// Generation counts the entries created (files and directories) and
// renamed in the filesystem, by the host or a guest, since it was made. A
// caller that remembers it can tell that no new name has appeared since:
// a Pool worker skips its walk of the filesystem after a job that created
// nothing. Changes made to a mounted host directory behind the
// filesystem's back are not counted.
func (f *FS) Generation() uint64 { return f.generation.Load() }

// Close stops the watchers; later operations fail with ErrClosed. The
// afero filesystems are left as they are.
func (f *FS) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	f.watchMu.Lock()
	ws := make([]*watcher, 0, len(f.watchers))
	for w := range f.watchers {
		ws = append(ws, w)
	}
	f.watchMu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	return nil
}

// Usage is how much of its quota a filesystem uses.
type Usage struct {
	// Bytes is the total size of the regular files of the writable mounts,
	// including files unlinked while still open.
	Bytes int64
	// Files counts files and directories of the writable mounts (mount roots
	// excluded).
	Files int64
	// MaxBytes and MaxFiles are the limits; 0 means none.
	MaxBytes int64
	MaxFiles int64
}

// Usage reports the current usage and limits.
func (f *FS) Usage() Usage {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := Usage{Bytes: f.used, Files: f.files}
	if f.maxBytes > 0 {
		u.MaxBytes = f.maxBytes
	}
	if f.maxFiles > 0 {
		u.MaxFiles = f.maxFiles
	}
	return u
}

// ---- paths --------------------------------------------------------------

// cleanAbs cleans an absolute path and checks its length and bytes.
func cleanAbs(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", errNUL
	}
	if !strings.HasPrefix(p, "/") {
		return "", ErrInvalidPath
	}
	p = path.Clean(p)
	return p, checkLength(p)
}

// checkLength enforces PathMax and NameMax on a clean path.
func checkLength(p string) error {
	if len(p) > PathMax {
		return errNameTooLong
	}
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if i-start > NameMax {
				return errNameTooLong
			}
			start = i + 1
		}
	}
	return nil
}

// checkName refuses a path that is not valid UTF-8, before anything is
// created at it or renamed to it: such a name could not be listed through
// the Files API (E2B's API carries names as JSON and protobuf strings, which
// must be UTF-8), so it is refused for the guest too, and no writable mount
// of the sandbox can hold one.
func checkName(abs string) error {
	if !utf8.ValidString(abs) {
		return errNotUTF8
	}
	return nil
}

// hostPath resolves a path of the Files API: relative paths are relative to
// the home directory.
func (f *FS) hostPath(p string) (loc, error) {
	if f.closed.Load() {
		return loc{}, ErrClosed
	}
	if strings.IndexByte(p, 0) >= 0 {
		return loc{}, errNUL
	}
	if p == "" {
		return loc{}, ErrInvalidPath
	}
	if !strings.HasPrefix(p, "/") {
		p = f.home + "/" + p
	}
	abs, err := cleanAbs(p)
	if err != nil {
		return loc{}, err
	}
	return f.resolve(abs), nil
}

// guestPath resolves a path of the WASI view: relative to the root preopen,
// already cleaned by wasip1, maybe with a trailing slash.
func (f *FS) guestPath(p string) (l loc, dirOnly bool, err error) {
	if strings.IndexByte(p, 0) >= 0 {
		return loc{}, false, errNUL
	}
	dirOnly = strings.HasSuffix(p, "/")
	abs := path.Clean("/" + p)
	if err := checkLength(abs); err != nil {
		return loc{}, false, err
	}
	return f.resolve(abs), dirOnly, nil
}

// resolve finds the mount of a clean absolute path.
func (f *FS) resolve(abs string) loc {
	for _, m := range f.mounts {
		switch {
		case m.path == "/":
			return loc{m: m, rel: abs, abs: abs}
		case abs == m.path:
			return loc{m: m, rel: "/", abs: abs}
		case strings.HasPrefix(abs, m.path) && abs[len(m.path)] == '/':
			return loc{m: m, rel: abs[len(m.path):], abs: abs}
		}
	}
	panic("wasmbox/vfs: no root mount") // New always adds one
}

// resolveIn resolves abs ignoring mount except (to find a mount point's
// parent filesystem).
func (f *FS) resolveIn(abs string, except *mount) loc {
	for _, m := range f.mounts {
		if m == except {
			continue
		}
		switch {
		case m.path == "/":
			return loc{m: m, rel: abs, abs: abs}
		case abs == m.path:
			return loc{m: m, rel: "/", abs: abs}
		case strings.HasPrefix(abs, m.path) && abs[len(m.path)] == '/':
			return loc{m: m, rel: abs[len(m.path):], abs: abs}
		}
	}
	panic("wasmbox/vfs: no root mount")
}

// isMountPoint reports whether abs is a mount point (or "/").
func (f *FS) isMountPoint(abs string) bool {
	for _, m := range f.mounts {
		if m.path == abs {
			return true
		}
	}
	return false
}

// holdsMountPoint reports whether abs is a mount point or "/", or contains
// one.
func (f *FS) holdsMountPoint(abs string) bool {
	for _, m := range f.mounts {
		if m.path == abs || abs == "/" || strings.HasPrefix(m.path, abs+"/") {
			return true
		}
	}
	return false
}

func joinAbs(dir, name string) string {
	if dir == "/" {
		return path.Clean("/" + name)
	}
	return path.Clean(dir + "/" + name)
}

func parentLoc(l loc) loc {
	return loc{m: l.m, rel: path.Dir(l.rel), abs: path.Dir(l.abs)}
}

func (l loc) child(name string) loc {
	return loc{m: l.m, rel: joinAbs(l.rel, name), abs: joinAbs(l.abs, name)}
}

// ---- lookups ------------------------------------------------------------

// stat returns the FileInfo of l. No symbolic link is followed: one in a
// directory component fails with errSymlink, and so does a final one unless
// followLast is false, in which case the link itself is described.
func (f *FS) stat(l loc, followLast bool) (fs.FileInfo, error) {
	fi, _, err := f.lookup(l, followLast)
	return fi, err
}

// lookup is stat that also reports, when l does not exist, whether its
// parent was found to be a directory on the way (so that creating l needs no
// second walk).
func (f *FS) lookup(l loc, followLast bool) (fi fs.FileInfo, parentOK bool, err error) {
	if l.m.lstat != nil && l.rel != "/" {
		i := 1
		for {
			j := strings.IndexByte(l.rel[i:], '/')
			last := j < 0
			p := l.rel
			if !last {
				p = l.rel[:i+j]
			}
			fi, _, err := l.m.lstat.LstatIfPossible(p)
			if err != nil {
				err = fromOS(err)
				return nil, last && err == ErrNotFound, err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				if last && !followLast {
					return fi, false, nil
				}
				return nil, false, errSymlink
			}
			if last {
				return fi, false, nil
			}
			if !fi.IsDir() {
				return nil, false, ErrNotDir
			}
			i += j + 1
		}
	}
	fi, err = l.m.fs.Stat(l.rel)
	if err != nil {
		err = fromOS(err)
		if err == ErrNotFound {
			return nil, false, f.notFound(l)
		}
		return nil, false, err
	}
	return fi, false, nil
}

// notFound tells ENOENT from ENOTDIR for filesystems (MemMapFs) that answer
// "not found" for a path through a regular file.
func (f *FS) notFound(l loc) error {
	for p := path.Dir(l.rel); p != "/"; p = path.Dir(p) {
		if fi, err := l.m.fs.Stat(p); err == nil {
			if !fi.IsDir() {
				return ErrNotDir
			}
			return ErrNotFound
		}
	}
	return ErrNotFound
}

// parentDir checks that l's parent exists and is a directory.
func (f *FS) parentDir(l loc) error {
	if l.rel == "/" {
		return nil
	}
	fi, err := f.stat(parentLoc(l), true)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return ErrNotDir
	}
	return nil
}

// touchParent sets the modification time of l's parent directory to now
// after an entry was added or removed, as POSIX filesystems do (Python's
// import system relies on it to notice new modules). Filesystems on disk do
// it themselves, and so does MemFS; afero's in-memory ones do not.
func (f *FS) touchParent(l loc) {
	if l.m.selfTimes || l.rel == "/" {
		return
	}
	now := time.Now()
	_ = l.m.fs.Chtimes(path.Dir(l.rel), now, now)
}

// ino returns a stable, non-zero serial number: the host's when the afero
// filesystem reports one, else a hash of the path inside the mount.
func ino(rel string, fi fs.FileInfo) uint64 {
	if fi != nil {
		if st := statOf(fi); st.ino != 0 {
			return st.ino
		}
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, rel)
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

// ---- changes (callers hold f.mu) ----------------------------------------

// reserve checks that growing the writable mounts by n bytes fits the quota.
// MaxFileSize is the largest size a file in the sandbox filesystem can have
// (1 TiB): writing past it is EFBIG. Besides being plenty, it keeps offset
// arithmetic far from overflowing int64.
const MaxFileSize = 1 << 40

// checkWriteEnd refuses a write of n bytes at pos that would end past
// MaxFileSize.
func checkWriteEnd(pos int64, n int) error {
	if pos < 0 || pos > MaxFileSize || int64(n) > MaxFileSize-pos {
		return errFileTooBig
	}
	return nil
}

func (f *FS) reserve(n int64) error {
	if n > 0 && f.maxBytes > 0 && f.used+n > f.maxBytes {
		return errQuotaBytes
	}
	return nil
}

// reserveFile checks that one more file or directory fits the limit.
func (f *FS) reserveFile() error {
	if f.maxFiles > 0 && f.files+1 > f.maxFiles {
		return errQuotaFiles
	}
	return nil
}

func (f *FS) mkdirLocked(l loc) error {
	_, parentOK, err := f.lookup(l, false)
	if err == nil {
		return ErrAlreadyExists
	} else if err != ErrNotFound {
		return err
	}
	if l.m.readOnly {
		return errReadOnly
	}
	if err := checkName(l.abs); err != nil {
		return err
	}
	if !parentOK {
		if err := f.parentDir(l); err != nil {
			return err
		}
	}
	return f.createDirLocked(l)
}

// createDirLocked creates the directory l, whose parent was checked.
func (f *FS) createDirLocked(l loc) error {
	if l.m.readOnly {
		return errReadOnly
	}
	if err := checkName(l.abs); err != nil {
		return err
	}
	if err := f.reserveFile(); err != nil {
		return err
	}
	if err := l.m.fs.Mkdir(l.rel, dirPerm); err != nil {
		return fromOS(err)
	}
	f.files++
	f.generation.Add(1)
	f.touchParent(l)
	f.emit(l.abs, EventCreate)
	return nil
}

// mkdirAllLocked creates l and its missing parents; created reports whether
// l itself was created. It walks down from the root once, so a deep path
// costs one lookup per component.
func (f *FS) mkdirAllLocked(l loc) (created bool, err error) {
	fi, err := f.stat(l, true)
	if err == nil {
		if !fi.IsDir() {
			return false, ErrAlreadyExists
		}
		return false, nil
	}
	if err != ErrNotFound {
		return false, err
	}
	p := "/"
	for _, name := range strings.Split(l.abs[1:], "/") {
		p = joinAbs(p, name)
		cl := f.resolve(p)
		var fi fs.FileInfo
		var err error
		if cl.m.lstat != nil { // the components above were checked already
			fi, _, err = cl.m.lstat.LstatIfPossible(cl.rel)
		} else {
			fi, err = cl.m.fs.Stat(cl.rel)
		}
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			return false, errSymlink
		case err == nil && !fi.IsDir() && p == l.abs:
			return false, ErrAlreadyExists
		case err == nil && !fi.IsDir():
			return false, ErrNotDir
		case err == nil:
			continue
		}
		if err = fromOS(err); err != ErrNotFound {
			return false, err
		}
		if err := f.createDirLocked(cl); err != nil {
			return false, err
		}
		created = p == l.abs
	}
	return created, nil
}

func (f *FS) rmdirLocked(l loc) error {
	fi, err := f.stat(l, false)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return ErrNotDir
	}
	if f.holdsMountPoint(l.abs) {
		return ErrBusy
	}
	if l.m.readOnly {
		return errReadOnly
	}
	if empty, err := f.isEmpty(l); err != nil {
		return err
	} else if !empty {
		return ErrNotEmpty
	}
	if err := l.m.fs.Remove(l.rel); err != nil {
		return fromOS(err)
	}
	f.files--
	f.touchParent(l)
	f.emit(l.abs, EventRemove)
	return nil
}

func (f *FS) isEmpty(l loc) (bool, error) {
	d, err := l.m.fs.Open(l.rel)
	if err != nil {
		return false, fromOS(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && err != io.EOF {
		return false, fromOS(err)
	}
	return len(names) == 0, nil
}

func (f *FS) unlinkLocked(l loc) error {
	fi, err := f.stat(l, false)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return ErrIsDir
	}
	if l.m.readOnly {
		return errReadOnly
	}
	regular, size := fi.Mode().IsRegular(), fi.Size() // before fi changes (MemMapFs's is live)
	if err := l.m.fs.Remove(l.rel); err != nil {
		return fromOS(err)
	}
	f.forget(nodeKey{l.m, l.rel}, regular, size)
	f.touchParent(l)
	f.emit(l.abs, EventRemove)
	return nil
}

// forget accounts for a file that left the namespace: at once, or at the
// last close of its open handles.
func (f *FS) forget(k nodeKey, regular bool, size int64) {
	if n := f.nodes[k]; n != nil {
		n.unlinked = true
		delete(f.nodes, k)
		return
	}
	f.files--
	if regular {
		f.used -= size
	}
}

// renameCheckLocked checks what renaming from to to requires of both
// paths, short of to's parent directory: from exists, neither is (or, for
// from, holds) a mount point, both are in the same writable mount, a
// directory does not move into itself, and to is a valid name. It returns
// from's FileInfo.
func (f *FS) renameCheckLocked(from, to loc) (fs.FileInfo, error) {
	fromInfo, err := f.stat(from, false)
	if err != nil {
		return nil, err
	}
	if from.abs == to.abs {
		return fromInfo, nil
	}
	if f.holdsMountPoint(from.abs) || f.isMountPoint(to.abs) {
		return nil, ErrBusy
	}
	if from.m != to.m {
		return nil, ErrCrossDevice
	}
	if from.m.readOnly {
		return nil, errReadOnly
	}
	if fromInfo.IsDir() && strings.HasPrefix(to.abs, from.abs+"/") {
		return nil, errIntoItself
	}
	if err := checkName(to.abs); err != nil {
		return nil, err
	}
	return fromInfo, nil
}

// renameLocked renames from to to; quiet suppresses the events (the Files
// API's temporary files).
func (f *FS) renameLocked(from, to loc, quiet bool) error {
	fromInfo, err := f.renameCheckLocked(from, to)
	if err != nil || from.abs == to.abs {
		return err
	}
	if err := f.parentDir(to); err != nil {
		return err
	}
	toInfo, err := f.stat(to, false)
	var toRegular bool
	var toSize int64
	if toInfo != nil {
		toRegular, toSize = toInfo.Mode().IsRegular(), toInfo.Size()
	}
	switch {
	case err == ErrNotFound:
		toInfo = nil
	case err != nil:
		return err
	case fromInfo.IsDir() && !toInfo.IsDir():
		return ErrNotDir
	case !fromInfo.IsDir() && toInfo.IsDir():
		return ErrIsDir
	case toInfo.IsDir():
		if f.holdsMountPoint(to.abs) {
			return ErrBusy
		}
		if empty, err := f.isEmpty(to); err != nil {
			return err
		} else if !empty {
			return ErrNotEmpty
		}
		if err := to.m.fs.Remove(to.rel); err != nil {
			return fromOS(err)
		}
		f.files--
		toInfo = nil
	}
	if err := from.m.fs.Rename(from.rel, to.rel); err != nil {
		return fromOS(err)
	}
	if toInfo != nil { // a file was replaced
		f.forget(nodeKey{to.m, to.rel}, toRegular, toSize)
	}
	f.touchParent(from)
	f.touchParent(to)
	// Open files move with their names.
	var moved []*node
	for k, n := range f.nodes {
		if k.m == from.m && (k.rel == from.rel || strings.HasPrefix(k.rel, from.rel+"/")) {
			moved = append(moved, n)
			delete(f.nodes, k)
		}
	}
	for _, n := range moved {
		n.key = nodeKey{to.m, to.rel + n.key.rel[len(from.rel):]}
		f.nodes[n.key] = n
	}
	f.generation.Add(1)
	if !quiet {
		f.emit(from.abs, EventRename)
		f.emit(to.abs, EventCreate)
	}
	return nil
}

func (f *FS) chmodLocked(l loc, mode fs.FileMode) error {
	if _, err := f.stat(l, true); err != nil {
		return err
	}
	if l.m.readOnly {
		return errReadOnly
	}
	if err := l.m.fs.Chmod(l.rel, mode.Perm()); err != nil {
		return fromOS(err)
	}
	f.emit(l.abs, EventChmod)
	return nil
}

// utimesLocked sets access and modification times (epoch nanoseconds, or
// wasip1.OmitTime to keep one).
func (f *FS) utimesLocked(l loc, atim, mtim int64) error {
	fi, err := f.stat(l, true)
	if err != nil {
		return err
	}
	if l.m.readOnly {
		return errReadOnly
	}
	st := statOf(fi)
	if atim == wasip1.OmitTime {
		atim = st.atim
	}
	if mtim == wasip1.OmitTime {
		mtim = st.mtim
	}
	if err := l.m.fs.Chtimes(l.rel, timeOf(atim), timeOf(mtim)); err != nil {
		return fromOS(err)
	}
	f.emit(l.abs, EventChmod)
	return nil
}

// ---- opening ------------------------------------------------------------

// openFlags says how to open a file.
type openFlags struct {
	read, write, append bool
	create, excl, trunc bool
	directory           bool // must be a directory (O_DIRECTORY, trailing slash)
	quiet               bool // no events (the Files API's temporary files)
}

// open opens l as a handle.
func (f *FS) open(l loc, o openFlags) (*handle, error) {
	if o.create || o.trunc || o.write {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.openLocked(l, o)
	}
	fi, err := f.stat(l, true)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &handle{fsys: f, l: l, dir: true, read: true}, nil
	}
	if o.directory {
		return nil, ErrNotDir
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	af, err := l.m.fs.OpenFile(l.rel, os.O_RDONLY, 0)
	if err != nil {
		return nil, fromOS(err)
	}
	f.mu.Lock()
	h := f.newHandle(l, af, o)
	f.mu.Unlock()
	return h, nil
}

func (f *FS) openLocked(l loc, o openFlags) (*handle, error) {
	fi, parentOK, err := f.lookup(l, true)
	switch {
	case err == nil:
		if o.create && o.excl {
			return nil, ErrAlreadyExists
		}
		if fi.IsDir() {
			if o.write || o.trunc {
				return nil, ErrIsDir
			}
			return &handle{fsys: f, l: l, dir: true, read: true}, nil
		}
		if o.directory {
			return nil, ErrNotDir
		}
		if !fi.Mode().IsRegular() {
			return nil, errNotRegular
		}
		if (o.write || o.trunc) && l.m.readOnly {
			return nil, errReadOnly
		}
		af, err := l.m.fs.OpenFile(l.rel, accessFlags(o), 0)
		if err != nil {
			return nil, fromOS(err)
		}
		if size := fi.Size(); o.trunc && o.write && size > 0 {
			if err := af.Truncate(0); err != nil {
				_ = af.Close()
				return nil, fromOS(err)
			}
			f.used -= size
			if !o.quiet {
				f.emit(l.abs, EventWrite)
			}
		}
		return f.newHandle(l, af, o), nil
	case err == ErrNotFound && o.create:
		if o.directory {
			return nil, ErrIsDir
		}
		if l.m.readOnly {
			return nil, errReadOnly
		}
		if err := checkName(l.abs); err != nil {
			return nil, err
		}
		if !parentOK {
			if err := f.parentDir(l); err != nil {
				return nil, err
			}
		}
		if err := f.reserveFile(); err != nil {
			return nil, err
		}
		af, err := l.m.fs.OpenFile(l.rel, accessFlags(o)|os.O_CREATE|os.O_EXCL, filePerm)
		if err != nil {
			return nil, fromOS(err)
		}
		f.files++
		f.generation.Add(1)
		f.touchParent(l)
		if !o.quiet {
			f.emit(l.abs, EventCreate)
		}
		return f.newHandle(l, af, o), nil
	default:
		return nil, err
	}
}

func accessFlags(o openFlags) int {
	switch {
	case o.write && o.read:
		return os.O_RDWR
	case o.write:
		return os.O_WRONLY
	default:
		return os.O_RDONLY
	}
}

// newHandle registers an open regular file; f.mu is held.
func (f *FS) newHandle(l loc, af afero.File, o openFlags) *handle {
	k := nodeKey{l.m, l.rel}
	n := f.nodes[k]
	if n == nil {
		n = &node{key: k}
		f.nodes[k] = n
	}
	n.refs++
	return &handle{fsys: f, l: l, f: af, node: n, read: o.read, write: o.write, append: o.append, quiet: o.quiet}
}

// release drops a handle's reference to its node; f.mu is held.
func (f *FS) release(h *handle) {
	n := h.node
	n.refs--
	if n.refs > 0 {
		return
	}
	if !n.unlinked {
		delete(f.nodes, n.key)
		return
	}
	// The last handle of an unlinked file: its space is free now.
	f.files--
	if fi, err := h.f.Stat(); err == nil {
		f.used -= fi.Size()
	}
}

// nodeAbs is the current guest path of an open file, or "" once unlinked.
func (f *FS) nodeAbs(n *node) string {
	if n.unlinked {
		return ""
	}
	return joinAbs(n.key.m.path, n.key.rel)
}
