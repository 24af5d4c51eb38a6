package vfs

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
)

// EventType is the kind of a FilesystemEvent, named as in E2B's SDK.
type EventType string

// Event types.
const (
	// EventCreate: a file or directory was created, or renamed to this name.
	EventCreate EventType = "create"
	// EventWrite: a file's content changed (write, truncate).
	EventWrite EventType = "write"
	// EventRemove: a file or directory was removed.
	EventRemove EventType = "remove"
	// EventRename: a file or directory was renamed away from this name (an
	// EventCreate follows for the new name, if it is watched).
	EventRename EventType = "rename"
	// EventChmod: a file's mode or times changed.
	EventChmod EventType = "chmod"
)

// FilesystemEvent is a change in a watched directory, as E2B reports it.
type FilesystemEvent struct {
	// Name is the path of the changed entry relative to the watched
	// directory ("data.csv", or "sub/data.csv" for a recursive watch).
	Name string `json:"name"`
	// Type is what happened.
	Type EventType `json:"type"`
}

// maxQueuedBytes bounds the memory of the events waiting for a slow
// callback (names included); beyond it new events are dropped, so a guest
// writing to many long-named files cannot make a stalled watcher hold an
// unbounded amount of host memory.
const maxQueuedBytes = 1 << 20

// eventCost is what one queued event is charged against maxQueuedBytes.
func eventCost(ev FilesystemEvent) int { return len(ev.Name) + len(ev.Type) + 48 }

type watcher struct {
	prefix    string // the watched directory with a trailing slash
	recursive bool
	fn        func(FilesystemEvent)

	mu      sync.Mutex
	queue   []FilesystemEvent
	queued  int // bytes charged for queue
	wake    chan struct{}
	done    chan struct{}
	stopped atomic.Bool
	once    sync.Once
}

// WatchDir calls onEvent for each change under the directory at p — its
// entries, or with recursive its whole subtree — made by guest code or
// through the Files API, until ctx ends or stop is called. Events arrive in
// order on a goroutine of the watcher, never on the one that made the
// change; consecutive identical events are merged while the callback is
// busy (a cell writing a file in 8 KiB chunks gives few "write" events).
//
// # Notes
//
//   - Changes made directly to the afero.Fs, bypassing this package, are not
//     seen.
//   - After stop returns, onEvent is not called again, except for a call
//     already in progress.
func (f *FS) WatchDir(ctx context.Context, p string, recursive bool, onEvent func(FilesystemEvent)) (stop func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if onEvent == nil {
		return nil, pathError("watch", p, errInvalid)
	}
	l, err := f.hostPath(p)
	if err != nil {
		return nil, pathError("watch", p, err)
	}
	fi, err := f.stat(l, true)
	if err != nil {
		return nil, pathError("watch", l.abs, err)
	}
	if !fi.IsDir() {
		return nil, pathError("watch", l.abs, ErrNotDir)
	}
	prefix := l.abs
	if prefix != "/" {
		prefix += "/"
	}
	w := &watcher{prefix: prefix, recursive: recursive, fn: onEvent,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	f.watchMu.Lock()
	f.watchers[w] = struct{}{}
	f.nwatch.Add(1)
	f.watchMu.Unlock()
	stop = func() {
		w.stop()
		f.watchMu.Lock()
		if _, ok := f.watchers[w]; ok {
			delete(f.watchers, w)
			f.nwatch.Add(-1)
		}
		f.watchMu.Unlock()
	}
	go w.run(ctx, stop)
	return stop, nil
}

func (w *watcher) stop() {
	w.once.Do(func() {
		w.stopped.Store(true)
		close(w.done)
	})
}

func (w *watcher) run(ctx context.Context, stop func()) {
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				w.mu.Unlock()
				break
			}
			ev := w.queue[0]
			w.queue[0] = FilesystemEvent{} // let the name be collected
			w.queue = w.queue[1:]
			w.queued -= eventCost(ev)
			w.mu.Unlock()
			if w.stopped.Load() || ctx.Err() != nil {
				return
			}
			w.fn(ev)
		}
	}
}

// add queues an event; it never blocks.
func (w *watcher) add(ev FilesystemEvent) {
	w.mu.Lock()
	if n := len(w.queue); (n == 0 || w.queue[n-1] != ev) && w.queued+eventCost(ev) <= maxQueuedBytes {
		w.queue = append(w.queue, ev)
		w.queued += eventCost(ev)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// emit tells the watchers that abs changed.
func (f *FS) emit(abs string, typ EventType) {
	if f.nwatch.Load() == 0 {
		return
	}
	f.watchMu.Lock()
	defer f.watchMu.Unlock()
	for w := range f.watchers {
		if !strings.HasPrefix(abs, w.prefix) || len(abs) == len(w.prefix) {
			continue
		}
		name := abs[len(w.prefix):]
		if !w.recursive && strings.IndexByte(name, '/') >= 0 {
			continue
		}
		w.add(FilesystemEvent{Name: name, Type: typ})
	}
}
