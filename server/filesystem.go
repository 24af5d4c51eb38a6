package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/wasmbox/wasmbox/server/internal/envd/filesystem"
	"github.com/wasmbox/wasmbox/server/internal/envd/filesystem/filesystemconnect"
	"github.com/wasmbox/wasmbox/vfs"
)

// maxPollEvents bounds the events a polling watcher keeps between two
// GetWatcherEvents calls; later ones are dropped.
const maxPollEvents = 10000

// maxPollBytes bounds the memory of the events a polling watcher keeps
// (names and paths included): with DefaultMaxWatchers watchers, at most
// 64 MiB are held for clients that do not poll.
const maxPollBytes = 64 << 10

// keepaliveHeader is the header in which E2B's SDKs ask for keep-alive
// messages on streams, in seconds.
const keepaliveHeader = "Keepalive-Ping-Interval"

// fsService implements filesystem.Filesystem on the sandbox's Files API.
type fsService struct{ s *Server }

var _ filesystemconnect.FilesystemHandler = (*fsService)(nil)

func (s *Server) filesystemHandler() (string, http.Handler) {
	path, h := filesystemconnect.NewFilesystemHandler(&fsService{s},
		connect.WithInterceptors(&authInterceptor{s}),
		connect.WithReadMaxBytes(int(min(s.cfg.maxRequestBytes, 1<<30))),
	)
	return path, refuseUnknownEncoding(h)
}

// refuseUnknownEncoding answers a Connect request compressed with an
// encoding the server does not know (connect-go supports gzip) with 415
// Unsupported Media Type. connect-go answers 501 with the code
// "unimplemented", which tells the client the server failed; the body
// keeps connect-go's code, which is what Connect clients read.
func refuseUnknownEncoding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctype := strings.ToLower(r.Header.Get("Content-Type"))
		if strings.HasPrefix(ctype, "application/json") || strings.HasPrefix(ctype, "application/proto") ||
			strings.HasPrefix(ctype, "application/connect+") {
			for _, h := range []string{"Content-Encoding", "Connect-Content-Encoding"} {
				if enc := r.Header.Get(h); enc != "" && enc != "identity" && enc != "gzip" {
					w.Header().Set(strings.Replace(h, "Content", "Accept", 1), "gzip")
					writeJSON(w, http.StatusUnsupportedMediaType, struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					}{connect.CodeUnimplemented.String(), fmt.Sprintf("unknown compression %q: supported encodings are gzip", enc)})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authInterceptor checks the access token of RPCs, so that a refused client
// gets a Connect "unauthenticated" error.
type authInterceptor struct{ s *Server }

func (a *authInterceptor) check(h http.Header) error {
	if a.s.authorized(h) {
		return nil
	}
	return connect.NewError(connect.CodeUnauthenticated, errors.New("missing or invalid access token"))
}

// WrapUnary implements connect.Interceptor.
func (a *authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := a.check(req.Header()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor (nothing to do on a
// server).
func (a *authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (a *authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := a.check(conn.RequestHeader()); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// rpcPath is absPath for the RPCs: an invalid path is invalid_argument.
func rpcPath(p string) (string, error) {
	abs, err := absPath(p)
	if err != nil {
		return "", connect.NewError(connect.CodeInvalidArgument, err)
	}
	return abs, nil
}

// entryInfo converts the Files API's description of an entry.
func entryInfo(e vfs.EntryInfo) *pb.EntryInfo {
	t := pb.FileType_FILE_TYPE_FILE
	switch e.Type {
	case vfs.FileTypeDir:
		t = pb.FileType_FILE_TYPE_DIRECTORY
	case vfs.FileTypeSymlink:
		t = pb.FileType_FILE_TYPE_SYMLINK
	}
	out := &pb.EntryInfo{
		Name: e.Name, Type: t, Path: e.Path, Size: e.Size, Mode: uint32(e.Mode.Perm()),
		Permissions: e.Permissions, Owner: e.Owner, Group: e.Group,
		ModifiedTime: timestamppb.New(e.ModifiedTime),
	}
	if e.SymlinkTarget != "" {
		out.SymlinkTarget = &e.SymlinkTarget
	}
	return out
}

// Stat implements filesystem.Filesystem/Stat.
func (f *fsService) Stat(ctx context.Context, req *connect.Request[pb.StatRequest]) (*connect.Response[pb.StatResponse], error) {
	p, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	logAttrs(ctx, slog.String("file", p))
	e, err := f.s.sb.Files().GetInfo(ctx, p)
	if err != nil {
		return nil, rpcError(err)
	}
	return connect.NewResponse(&pb.StatResponse{Entry: entryInfo(e)}), nil
}

// MakeDir implements filesystem.Filesystem/MakeDir: already_exists when the
// directory exists, invalid_argument when a file has its name.
func (f *fsService) MakeDir(ctx context.Context, req *connect.Request[pb.MakeDirRequest]) (*connect.Response[pb.MakeDirResponse], error) {
	p, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	logAttrs(ctx, slog.String("file", p))
	files := f.s.sb.Files()
	if e, err := files.GetInfo(ctx, p); err == nil {
		if e.Type == vfs.FileTypeDir {
			return nil, connect.NewError(connect.CodeAlreadyExists, fmt.Errorf("directory already exists: %s", p))
		}
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("path already exists but it is not a directory: %s", p))
	}
	created, err := files.MakeDir(ctx, p)
	if err != nil {
		return nil, rpcError(err)
	}
	if !created { // made by someone else in between
		return nil, connect.NewError(connect.CodeAlreadyExists, fmt.Errorf("directory already exists: %s", p))
	}
	e, err := files.GetInfo(ctx, p)
	if err != nil {
		return nil, rpcError(err)
	}
	return connect.NewResponse(&pb.MakeDirResponse{Entry: entryInfo(e)}), nil
}

// Move implements filesystem.Filesystem/Move (creating the destination's
// parents).
func (f *fsService) Move(ctx context.Context, req *connect.Request[pb.MoveRequest]) (*connect.Response[pb.MoveResponse], error) {
	src, err := rpcPath(req.Msg.GetSource())
	if err != nil {
		return nil, err
	}
	dst, err := rpcPath(req.Msg.GetDestination())
	if err != nil {
		return nil, err
	}
	logAttrs(ctx, slog.String("file", src), slog.String("to", dst))
	e, err := f.s.sb.Files().Rename(ctx, src, dst)
	if err != nil {
		return nil, rpcError(err)
	}
	return connect.NewResponse(&pb.MoveResponse{Entry: entryInfo(e)}), nil
}

// ListDir implements filesystem.Filesystem/ListDir: depth levels (default
// 1), directories first, then by name regardless of case, as envd sorts.
func (f *fsService) ListDir(ctx context.Context, req *connect.Request[pb.ListDirRequest]) (*connect.Response[pb.ListDirResponse], error) {
	p, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	depth := req.Msg.GetDepth()
	if depth == 0 {
		depth = 1
	}
	logAttrs(ctx, slog.String("file", p), slog.Int("depth", int(depth)))
	list, err := f.s.sb.Files().List(ctx, p, int(min(depth, 1<<16)))
	switch {
	case errors.Is(err, vfs.ErrNotFound):
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("directory not found: %w", err))
	case errors.Is(err, vfs.ErrNotDir):
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("path is not a directory: %s", p))
	case err != nil:
		return nil, rpcError(err)
	}
	entries := make([]*pb.EntryInfo, 0, len(list))
	for _, e := range list {
		entries = append(entries, entryInfo(e))
	}
	slices.SortStableFunc(entries, func(a, b *pb.EntryInfo) int {
		if a.Type != b.Type {
			if a.Type == pb.FileType_FILE_TYPE_DIRECTORY {
				return -1
			}
			if b.Type == pb.FileType_FILE_TYPE_DIRECTORY {
				return 1
			}
		}
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return connect.NewResponse(&pb.ListDirResponse{Entries: entries}), nil
}

// Remove implements filesystem.Filesystem/Remove. Like envd (rm -rf), a
// path that does not exist is not an error.
func (f *fsService) Remove(ctx context.Context, req *connect.Request[pb.RemoveRequest]) (*connect.Response[pb.RemoveResponse], error) {
	p, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	logAttrs(ctx, slog.String("file", p))
	if err := f.s.sb.Files().Remove(ctx, p); err != nil && !errors.Is(err, vfs.ErrNotFound) {
		return nil, rpcError(err)
	}
	return connect.NewResponse(&pb.RemoveResponse{}), nil
}

var eventTypes = map[vfs.EventType]pb.EventType{
	vfs.EventCreate: pb.EventType_EVENT_TYPE_CREATE,
	vfs.EventWrite:  pb.EventType_EVENT_TYPE_WRITE,
	vfs.EventRemove: pb.EventType_EVENT_TYPE_REMOVE,
	vfs.EventRename: pb.EventType_EVENT_TYPE_RENAME,
	vfs.EventChmod:  pb.EventType_EVENT_TYPE_CHMOD,
}

// watch starts watching dir; fn gets each event, with the entry's
// description when includeEntry (and the entry still exists).
func (f *fsService) watch(ctx context.Context, dir string, recursive, includeEntry bool, fn func(*pb.FilesystemEvent)) (func(), error) {
	files := f.s.sb.Files()
	stop, err := files.WatchDir(ctx, dir, recursive, func(ev vfs.FilesystemEvent) {
		out := &pb.FilesystemEvent{Name: ev.Name, Type: eventTypes[ev.Type]}
		if includeEntry && ev.Type != vfs.EventRemove && ev.Type != vfs.EventRename {
			if e, err := files.GetInfo(ctx, path.Join(dir, ev.Name)); err == nil {
				out.Entry = entryInfo(e)
			}
		}
		fn(out)
	})
	switch {
	case errors.Is(err, vfs.ErrNotFound):
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("path %s not found: %w", dir, err))
	case errors.Is(err, vfs.ErrNotDir):
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("path %s not a directory", dir))
	case err != nil:
		return nil, rpcError(err)
	}
	return stop, nil
}

// WatchDir implements filesystem.Filesystem/WatchDir: a start message, then
// one message per change, with keep-alive messages in between, until the
// client goes, its deadline (Connect-Timeout-Ms) passes, or the server
// shuts down.
func (f *fsService) WatchDir(ctx context.Context, req *connect.Request[pb.WatchDirRequest], stream *connect.ServerStream[pb.WatchDirResponse]) error {
	dir, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return err
	}
	logAttrs(ctx, slog.String("file", dir), slog.Bool("recursive", req.Msg.GetRecursive()))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan *pb.FilesystemEvent, 64)
	stop, err := f.watch(wctx, dir, req.Msg.GetRecursive(), req.Msg.GetIncludeEntry(), func(ev *pb.FilesystemEvent) {
		select {
		case events <- ev:
		case <-wctx.Done():
		}
	})
	if err != nil {
		return err
	}
	defer stop()
	if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Start{Start: &pb.WatchDirResponse_StartEvent{}}}); err != nil {
		return err
	}
	interval := f.s.cfg.keepalive
	if sec, err := strconv.Atoi(req.Header().Get(keepaliveHeader)); err == nil && sec > 0 {
		interval = time.Duration(min(sec, 3600)) * time.Second // no overflow, no flood
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	sent := 0
	defer func() { logAttrs(ctx, slog.Int("events", sent)) }()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return connect.NewError(connect.CodeDeadlineExceeded, errors.New("watch timed out"))
			}
			return connect.NewError(connect.CodeCanceled, errors.New("watch ended: the client went away or the server is shutting down"))
		case <-ticker.C:
			if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Keepalive{Keepalive: &pb.WatchDirResponse_KeepAlive{}}}); err != nil {
				return err
			}
		case ev := <-events:
			if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Filesystem{Filesystem: ev}}); err != nil {
				return err
			}
			sent++
			ticker.Reset(interval)
		}
	}
}

// pollWatcher is a watcher of CreateWatcher: events wait for
// GetWatcherEvents.
type pollWatcher struct {
	stop    func()
	mu      sync.Mutex
	events  []*pb.FilesystemEvent
	bytes   int // proto size of events, against maxPollBytes
	dropped int
}

// watcherSet holds the polling watchers.
type watcherSet struct {
	max    int
	mu     sync.Mutex
	closed bool
	byID   map[string]*pollWatcher
}

func newWatcherSet(max int) *watcherSet {
	return &watcherSet{max: max, byID: map[string]*pollWatcher{}}
}

func (ws *watcherSet) closeAll() {
	ws.mu.Lock()
	all := ws.byID
	ws.byID = map[string]*pollWatcher{}
	ws.closed = true
	ws.mu.Unlock()
	for _, w := range all {
		w.stop()
	}
}

// CreateWatcher implements filesystem.Filesystem/CreateWatcher: a watcher
// whose events GetWatcherEvents collects, until RemoveWatcher or Close.
func (f *fsService) CreateWatcher(ctx context.Context, req *connect.Request[pb.CreateWatcherRequest]) (*connect.Response[pb.CreateWatcherResponse], error) {
	dir, err := rpcPath(req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	ws := f.s.watchers
	ws.mu.Lock()
	full, closed := len(ws.byID) >= ws.max, ws.closed
	ws.mu.Unlock()
	if closed {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down"))
	}
	if full {
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("too many watchers (at most %d)", ws.max))
	}
	w := &pollWatcher{}
	stop, err := f.watch(context.WithoutCancel(ctx), dir, req.Msg.GetRecursive(), req.Msg.GetIncludeEntry(), func(ev *pb.FilesystemEvent) {
		w.mu.Lock()
		defer w.mu.Unlock()
		cost := proto.Size(ev)
		if len(w.events) >= maxPollEvents || w.bytes+cost > maxPollBytes {
			w.dropped++
			return
		}
		w.events = append(w.events, ev)
		w.bytes += cost
	})
	if err != nil {
		return nil, err
	}
	w.stop = stop
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ws.mu.Lock()
	if ws.closed || len(ws.byID) >= ws.max {
		ws.mu.Unlock()
		stop()
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("too many watchers (at most %d)", ws.max))
	}
	ws.byID[id] = w
	ws.mu.Unlock()
	logAttrs(ctx, slog.String("file", dir), slog.String("watcher", id))
	return connect.NewResponse(&pb.CreateWatcherResponse{WatcherId: id}), nil
}

func (ws *watcherSet) get(id string) (*pollWatcher, error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.byID[id]
	if w == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("watcher with id %s not found", id))
	}
	return w, nil
}

// GetWatcherEvents implements filesystem.Filesystem/GetWatcherEvents: the
// events since the previous call.
func (f *fsService) GetWatcherEvents(ctx context.Context, req *connect.Request[pb.GetWatcherEventsRequest]) (*connect.Response[pb.GetWatcherEventsResponse], error) {
	w, err := f.s.watchers.get(req.Msg.GetWatcherId())
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	events, dropped := w.events, w.dropped
	w.events, w.dropped, w.bytes = nil, 0, 0
	w.mu.Unlock()
	if dropped > 0 {
		logAttrs(ctx, slog.Int("dropped_events", dropped))
	}
	if events == nil {
		events = []*pb.FilesystemEvent{}
	}
	return connect.NewResponse(&pb.GetWatcherEventsResponse{Events: events}), nil
}

// RemoveWatcher implements filesystem.Filesystem/RemoveWatcher.
func (f *fsService) RemoveWatcher(ctx context.Context, req *connect.Request[pb.RemoveWatcherRequest]) (*connect.Response[pb.RemoveWatcherResponse], error) {
	ws := f.s.watchers
	id := req.Msg.GetWatcherId()
	ws.mu.Lock()
	w := ws.byID[id]
	delete(ws.byID, id)
	ws.mu.Unlock()
	if w == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("watcher with id %s not found", id))
	}
	w.stop()
	return connect.NewResponse(&pb.RemoveWatcherResponse{}), nil
}
