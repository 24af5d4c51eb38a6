package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
	pb "github.com/wasmbox/wasmbox/server/internal/envd/filesystem"
	"github.com/wasmbox/wasmbox/server/internal/envd/filesystem/filesystemconnect"
)

// client speaks Connect with JSON, as E2B's JS SDK does.
func client(e *env) filesystemconnect.FilesystemClient {
	return filesystemconnect.NewFilesystemClient(http.DefaultClient, e.envd.URL, connect.WithProtoJSON())
}

func write(t testing.TB, e *env, path, content string) {
	t.Helper()
	_, err := e.sb.Files().WriteBytes(context.Background(), path, []byte(content))
	require.NoError(t, err)
}

func code(err error) connect.Code { return connect.CodeOf(err) }

func TestFilesystemRPCs(t *testing.T) {
	e := newEnv(t, nil)
	fs := client(e)
	ctx := context.Background()
	write(t, e, "/home/user/d/b.txt", "bee")
	write(t, e, "/home/user/d/A.txt", "a")
	write(t, e, "/home/user/d/sub/deep.txt", "deep")

	st, err := fs.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: "/home/user/d/b.txt"}))
	require.NoError(t, err)
	en := st.Msg.GetEntry()
	assert.Equal(t, "b.txt", en.GetName())
	assert.Equal(t, pb.FileType_FILE_TYPE_FILE, en.GetType())
	assert.Equal(t, "/home/user/d/b.txt", en.GetPath())
	assert.Equal(t, int64(3), en.GetSize())
	assert.Equal(t, uint32(0o644), en.GetMode())
	assert.Equal(t, "-rw-r--r--", en.GetPermissions())
	assert.Equal(t, "user", en.GetOwner())
	assert.WithinDuration(t, time.Now(), en.GetModifiedTime().AsTime(), time.Minute)
	assert.Nil(t, en.SymlinkTarget)
	st, err = fs.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: "d"})) // relative to /home/user
	require.NoError(t, err)
	assert.Equal(t, pb.FileType_FILE_TYPE_DIRECTORY, st.Msg.GetEntry().GetType())
	_, err = fs.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: "/home/user/nope"}))
	assert.Equal(t, connect.CodeNotFound, code(err))

	ls, err := fs.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: "/home/user/d"}))
	require.NoError(t, err)
	var names []string
	for _, x := range ls.Msg.GetEntries() {
		names = append(names, x.GetName())
	}
	assert.Equal(t, []string{"sub", "A.txt", "b.txt"}, names, "directories first, then by name regardless of case")
	ls, err = fs.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: "~/d", Depth: 2}))
	require.NoError(t, err)
	assert.Len(t, ls.Msg.GetEntries(), 4)
	_, err = fs.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: "/home/user/nope"}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = fs.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: "/home/user/d/b.txt"}))
	assert.Equal(t, connect.CodeInvalidArgument, code(err))

	mk, err := fs.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: "/home/user/new/deeper"}))
	require.NoError(t, err)
	assert.Equal(t, pb.FileType_FILE_TYPE_DIRECTORY, mk.Msg.GetEntry().GetType())
	assert.Equal(t, "deeper", mk.Msg.GetEntry().GetName())
	_, err = fs.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: "/home/user/new/deeper"}))
	assert.Equal(t, connect.CodeAlreadyExists, code(err))
	_, err = fs.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: "/home/user/d/b.txt"}))
	assert.Equal(t, connect.CodeInvalidArgument, code(err))

	mv, err := fs.Move(ctx, connect.NewRequest(&pb.MoveRequest{Source: "/home/user/d/b.txt", Destination: "/home/user/moved/to/c.txt"}))
	require.NoError(t, err)
	assert.Equal(t, "/home/user/moved/to/c.txt", mv.Msg.GetEntry().GetPath())
	assert.Equal(t, int64(3), mv.Msg.GetEntry().GetSize())
	_, err = fs.Move(ctx, connect.NewRequest(&pb.MoveRequest{Source: "/home/user/gone", Destination: "/home/user/x"}))
	assert.Equal(t, connect.CodeNotFound, code(err))

	_, err = fs.Remove(ctx, connect.NewRequest(&pb.RemoveRequest{Path: "/home/user/d"}))
	require.NoError(t, err)
	ok, err := e.sb.Files().Exists(ctx, "/home/user/d")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = fs.Remove(ctx, connect.NewRequest(&pb.RemoveRequest{Path: "/home/user/d"}))
	assert.NoError(t, err, "removing what does not exist is not an error (envd's rm -rf)")
}

func TestFilesystemRPCsOnMounts(t *testing.T) {
	ro := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(ro, "/data.txt", []byte("ro"), 0o644))
	e := newEnv(t, []wasmbox.Option{wasmbox.WithMount("/mnt/ro", ro, true)})
	fs := client(e)
	ctx := context.Background()
	st, err := fs.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: "/mnt/ro/data.txt"}))
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Msg.GetEntry().GetSize())
	_, err = fs.Remove(ctx, connect.NewRequest(&pb.RemoveRequest{Path: "/mnt/ro/data.txt"}))
	assert.Equal(t, connect.CodePermissionDenied, code(err), "%v", err)
	_, err = fs.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: "/mnt/ro/new"}))
	assert.Equal(t, connect.CodePermissionDenied, code(err), "%v", err)
	_, err = fs.Remove(ctx, connect.NewRequest(&pb.RemoveRequest{Path: "/mnt/ro"}))
	assert.Equal(t, connect.CodeFailedPrecondition, code(err), "a mount point is busy: %v", err)
	_, err = fs.Move(ctx, connect.NewRequest(&pb.MoveRequest{Source: "/mnt/ro/data.txt", Destination: "/home/user/data.txt"}))
	assert.Contains(t, []connect.Code{connect.CodePermissionDenied, connect.CodeFailedPrecondition}, code(err), "%v", err)
	status, body := upload(t, e.envd.URL+"/files?path=/mnt/ro/up.txt", "application/octet-stream", strings.NewReader("x"))
	assert.Equal(t, http.StatusForbidden, status, body)
}

// TestConnectJSONWireFormat checks the bytes an SDK parses: protojson
// names, enums as names, int64 as strings, timestamps as RFC 3339.
func TestConnectJSONWireFormat(t *testing.T) {
	e := newEnv(t, nil)
	write(t, e, "/home/user/w.txt", "four")
	status, body := post(t, e.envd.URL+"/filesystem.Filesystem/Stat", `{"path":"/home/user/w.txt"}`,
		"Connect-Protocol-Version", "1")
	require.Equal(t, http.StatusOK, status, body)
	var got struct {
		Entry map[string]any `json:"entry"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, "w.txt", got.Entry["name"])
	assert.Equal(t, "FILE_TYPE_FILE", got.Entry["type"])
	assert.Equal(t, "4", got.Entry["size"])
	assert.Equal(t, float64(0o644), got.Entry["mode"])
	_, err := time.Parse(time.RFC3339Nano, got.Entry["modifiedTime"].(string))
	assert.NoError(t, err)

	status, body = post(t, e.envd.URL+"/filesystem.Filesystem/Stat", `{"path":"/home/user/none"}`)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, `"code":"not_found"`)
	status, body = post(t, e.envd.URL+"/filesystem.Filesystem/MakeDir", `{"path":"/home/user"}`)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body, `"code":"already_exists"`)
	status, body = post(t, e.envd.URL+"/filesystem.Filesystem/Stat", `{"path":`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `"code":"invalid_argument"`)
	// snake_case field names are accepted too (protojson)
	status, _ = post(t, e.envd.URL+"/filesystem.Filesystem/CreateWatcher", `{"path":"/home/user","include_entry":true}`)
	assert.Equal(t, http.StatusOK, status)
	status, body = post(t, e.envd.URL+"/process.Process/List", `{}`)
	assert.Equal(t, http.StatusOK, status, "the process service is served too")
	assert.Equal(t, "{}", strings.TrimSpace(body))
}

func TestWatchDirStream(t *testing.T) {
	e := newEnv(t, nil, server.WithKeepalive(150*time.Millisecond))
	fs := client(e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := e.sb.Files().MakeDir(ctx, "/home/user/watched/sub")
	require.NoError(t, err)

	stream, err := fs.WatchDir(ctx, connect.NewRequest(&pb.WatchDirRequest{Path: "/home/user/watched", Recursive: true, IncludeEntry: true}))
	require.NoError(t, err)
	require.True(t, stream.Receive(), "%v", stream.Err())
	require.NotNil(t, stream.Msg().GetStart(), "the first message is the start event")

	write(t, e, "/home/user/watched/sub/f.txt", "hello")
	var got []string
	var sawKeepalive bool
	var entrySize int64 = -1
	for len(got) < 3 && stream.Receive() {
		msg := stream.Msg()
		if msg.GetKeepalive() != nil {
			sawKeepalive = true
			continue
		}
		ev := msg.GetFilesystem()
		require.NotNil(t, ev)
		got = append(got, ev.GetType().String()+" "+ev.GetName())
		if ev.GetType() == pb.EventType_EVENT_TYPE_WRITE && ev.GetEntry() != nil {
			entrySize = ev.GetEntry().GetSize()
		}
		if len(got) == 2 {
			// Removed once the write was seen: an event's entry is read
			// when the event is sent, and a file already gone has none.
			execute(t, e, `{"code": "import os\nos.remove('/home/user/watched/sub/f.txt')"}`)
		}
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, []string{"EVENT_TYPE_CREATE sub/f.txt", "EVENT_TYPE_WRITE sub/f.txt", "EVENT_TYPE_REMOVE sub/f.txt"}, got)
	assert.Equal(t, int64(5), entrySize)

	// keep-alive messages while nothing happens
	deadline := time.Now().Add(3 * time.Second)
	for !sawKeepalive && time.Now().Before(deadline) && stream.Receive() {
		sawKeepalive = stream.Msg().GetKeepalive() != nil
	}
	assert.True(t, sawKeepalive)
	require.NoError(t, stream.Close())

	_, err = watchErr(fs, "/home/user/none")
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = watchErr(fs, "/home/user/watched/sub/../../watched/missing")
	assert.Equal(t, connect.CodeNotFound, code(err))
	write(t, e, "/home/user/plain.txt", "x")
	_, err = watchErr(fs, "/home/user/plain.txt")
	assert.Equal(t, connect.CodeInvalidArgument, code(err))
}

// watchErr opens a watch and returns the error of its first message.
func watchErr(fs filesystemconnect.FilesystemClient, path string) (*pb.WatchDirResponse, error) {
	stream, err := fs.WatchDir(context.Background(), connect.NewRequest(&pb.WatchDirRequest{Path: path}))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	if stream.Receive() {
		return stream.Msg(), nil
	}
	return nil, stream.Err()
}

func TestWatchDirDeadline(t *testing.T) {
	e := newEnv(t, nil)
	fs := filesystemconnect.NewFilesystemClient(http.DefaultClient, e.envd.URL, connect.WithProtoJSON())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stream, err := fs.WatchDir(ctx, connect.NewRequest(&pb.WatchDirRequest{Path: "/home/user"}))
	require.NoError(t, err)
	for stream.Receive() {
	}
	assert.Equal(t, connect.CodeDeadlineExceeded, code(stream.Err()))
}

func TestPollingWatchers(t *testing.T) {
	e := newEnv(t, nil, server.WithMaxWatchers(2))
	fs := client(e)
	ctx := context.Background()
	cw, err := fs.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: "/home/user"}))
	require.NoError(t, err)
	id := cw.Msg.GetWatcherId()
	write(t, e, "/home/user/p.txt", "1")
	var names []string
	require.Eventually(t, func() bool {
		ev, err := fs.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: id}))
		require.NoError(t, err)
		for _, x := range ev.Msg.GetEvents() {
			names = append(names, x.GetType().String()+" "+x.GetName())
		}
		return len(names) >= 2
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"EVENT_TYPE_CREATE p.txt", "EVENT_TYPE_WRITE p.txt"}, names)

	_, err = fs.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: "/nope"}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = fs.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: "/home/user"}))
	require.NoError(t, err)
	_, err = fs.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: "/home/user"}))
	assert.Equal(t, connect.CodeResourceExhausted, code(err))

	_, err = fs.RemoveWatcher(ctx, connect.NewRequest(&pb.RemoveWatcherRequest{WatcherId: id}))
	require.NoError(t, err)
	_, err = fs.RemoveWatcher(ctx, connect.NewRequest(&pb.RemoveWatcherRequest{WatcherId: id}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = fs.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: id}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	assert.False(t, strings.Contains(e.logs.String(), "panic"))
}
