package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	pb "github.com/wasmbox/wasmbox/server/internal/envd/process"
	"github.com/wasmbox/wasmbox/server/internal/envd/process/processconnect"
)

func procClient(e *env) processconnect.ProcessClient {
	return processconnect.NewProcessClient(http.DefaultClient, e.envd.URL, connect.WithProtoJSON())
}

// bash is how E2B's SDKs start a command.
func bash(cmd string) *pb.ProcessConfig {
	return &pb.ProcessConfig{Cmd: "/bin/bash", Args: []string{"-l", "-c", cmd}}
}

type procRun struct {
	pid            uint32
	stdout, stderr string
	end            *pb.ProcessEvent_EndEvent
	keepalives     int
}

// collect reads a Start or Connect stream to its end (the start event may
// have been read already).
func collect[T any, P interface {
	*T
	GetEvent() *pb.ProcessEvent
}](t testing.TB, stream *connect.ServerStreamForClient[T]) (procRun, error) {
	t.Helper()
	var r procRun
	for stream.Receive() {
		ev := P(stream.Msg()).GetEvent()
		switch {
		case ev.GetStart() != nil:
			require.Zero(t, r.pid, "one start event, first")
			r.pid = ev.GetStart().GetPid()
		case ev.GetData() != nil:
			r.stdout += string(ev.GetData().GetStdout())
			r.stderr += string(ev.GetData().GetStderr())
		case ev.GetEnd() != nil:
			r.end = ev.GetEnd()
		case ev.GetKeepalive() != nil:
			r.keepalives++
		}
	}
	return r, stream.Err()
}

func TestProcessStart(t *testing.T) {
	e := newEnv(t, nil)
	pc := procClient(e)
	ctx := context.Background()
	cwd := "/tmp"
	stream, err := pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: &pb.ProcessConfig{
		Cmd: "/bin/bash", Args: []string{"-l", "-c", "echo $GREETING; pwd; echo oops >&2; python -c 'print(6*7)'; exit 3"},
		Envs: map[string]string{"GREETING": "hello"}, Cwd: &cwd,
	}}))
	require.NoError(t, err)
	r, err := collect(t, stream)
	require.NoError(t, err)
	assert.NotZero(t, r.pid)
	assert.Equal(t, "hello\n/tmp\n42\n", r.stdout)
	assert.Equal(t, "oops\n", r.stderr)
	require.NotNil(t, r.end)
	assert.Equal(t, int32(3), r.end.GetExitCode())
	assert.True(t, r.end.GetExited())
	assert.Equal(t, "exit status 3", r.end.GetStatus())

	// Any program with arguments, quoted into a command line.
	stream, err = pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "printf", Args: []string{"%s|", "a b", "$HOME"}}}))
	require.NoError(t, err)
	r, err = collect(t, stream)
	require.NoError(t, err)
	assert.Equal(t, "a b|$HOME|", r.stdout)

	stream, err = pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("nosuchcommand")}))
	require.NoError(t, err)
	r, err = collect(t, stream)
	require.NoError(t, err)
	assert.Equal(t, int32(127), r.end.GetExitCode())
	assert.Contains(t, r.stderr, "command not found")

	// Errors.
	stream, err = pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("true"), Pty: &pb.PTY{}}))
	require.NoError(t, err)
	_, err = collect(t, stream)
	assert.Equal(t, connect.CodeUnimplemented, code(err))
	missing := "/nonexistent"
	stream, err = pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "true", Cwd: &missing}}))
	require.NoError(t, err)
	_, err = collect(t, stream)
	assert.Equal(t, connect.CodeNotFound, code(err))

	// The timeout of the request stops the command.
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	stream, err = pc.Start(tctx, connect.NewRequest(&pb.StartRequest{Process: bash("while true; do :; done")}))
	require.NoError(t, err)
	_, err = collect(t, stream)
	assert.Equal(t, connect.CodeDeadlineExceeded, code(err))
	assert.Less(t, time.Since(start), 5*time.Second)
	require.Eventually(t, func() bool {
		l, err := e.sb.Commands().List(ctx)
		return err == nil && len(l) == 0
	}, 5*time.Second, 10*time.Millisecond)
}

func TestProcessBackground(t *testing.T) {
	e := newEnv(t, nil)
	pc := procClient(e)
	ctx := context.Background()
	tag := "job"
	stdin := true
	stream, err := pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("while read -r l; do echo \"got $l\"; done; echo done"), Tag: &tag, Stdin: &stdin}))
	require.NoError(t, err)
	require.True(t, stream.Receive())
	pid := stream.Msg().GetEvent().GetStart().GetPid()
	require.NotZero(t, pid)

	list, err := pc.List(ctx, connect.NewRequest(&pb.ListRequest{}))
	require.NoError(t, err)
	require.Len(t, list.Msg.GetProcesses(), 1)
	info := list.Msg.GetProcesses()[0]
	assert.Equal(t, pid, info.GetPid())
	assert.Equal(t, "job", info.GetTag())
	assert.Equal(t, "/bin/bash", info.GetConfig().GetCmd())

	// A second client connects to it by tag.
	cstream, err := pc.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: &pb.ProcessSelector{Selector: &pb.ProcessSelector_Tag{Tag: "job"}}}))
	require.NoError(t, err)
	require.True(t, cstream.Receive())
	assert.Equal(t, pid, cstream.Msg().GetEvent().GetStart().GetPid())

	sel := &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
	_, err = pc.SendInput(ctx, connect.NewRequest(&pb.SendInputRequest{Process: sel, Input: &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: []byte("one\n")}}}))
	require.NoError(t, err)
	in := pc.StreamInput(ctx)
	require.NoError(t, in.Send(&pb.StreamInputRequest{Event: &pb.StreamInputRequest_Start{Start: &pb.StreamInputRequest_StartEvent{Process: sel}}}))
	require.NoError(t, in.Send(&pb.StreamInputRequest{Event: &pb.StreamInputRequest_Data{Data: &pb.StreamInputRequest_DataEvent{Input: &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: []byte("two\n")}}}}}))
	_, err = in.CloseAndReceive()
	require.NoError(t, err)
	_, err = pc.Update(ctx, connect.NewRequest(&pb.UpdateRequest{Process: sel, Pty: &pb.PTY{}}))
	assert.Equal(t, connect.CodeUnimplemented, code(err))
	_, err = pc.CloseStdin(ctx, connect.NewRequest(&pb.CloseStdinRequest{Process: sel}))
	require.NoError(t, err)

	r, err := collect(t, stream)
	require.NoError(t, err)
	assert.Equal(t, "got one\ngot two\ndone\n", r.stdout)
	assert.Equal(t, int32(0), r.end.GetExitCode())
	cr, err := collect(t, cstream)
	require.NoError(t, err)
	assert.Equal(t, "got one\ngot two\ndone\n", cr.stdout)
	require.NotNil(t, cr.end)

	// Kill.
	stream, err = pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("echo up; sleep 100")}))
	require.NoError(t, err)
	require.True(t, stream.Receive())
	pid = stream.Msg().GetEvent().GetStart().GetPid()
	require.True(t, stream.Receive())
	assert.Equal(t, "up\n", string(stream.Msg().GetEvent().GetData().GetStdout()))
	sel = &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
	_, err = pc.SendSignal(ctx, connect.NewRequest(&pb.SendSignalRequest{Process: sel, Signal: pb.Signal_SIGNAL_SIGKILL}))
	require.NoError(t, err)
	r, err = collect(t, stream)
	require.NoError(t, err)
	require.NotNil(t, r.end)
	assert.Equal(t, int32(-1), r.end.GetExitCode())
	assert.False(t, r.end.GetExited())
	assert.Equal(t, "signal: killed", r.end.GetStatus())

	_, err = pc.SendSignal(ctx, connect.NewRequest(&pb.SendSignalRequest{Process: sel, Signal: pb.Signal_SIGNAL_SIGKILL}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = pc.SendInput(ctx, connect.NewRequest(&pb.SendInputRequest{Process: sel, Input: &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: []byte("x")}}}))
	assert.Equal(t, connect.CodeNotFound, code(err))
	_, err = pc.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: sel}))
	if err == nil {
		stream2, _ := pc.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: sel}))
		_, err = collect(t, stream2)
	}
	assert.Equal(t, connect.CodeNotFound, code(err))
}

func TestProcessAuthAndLimits(t *testing.T) {
	e := newEnv(t, []wasmbox.Option{wasmbox.WithMaxCommands(1)})
	pc := procClient(e)
	ctx := context.Background()
	stream, err := pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("sleep 100")}))
	require.NoError(t, err)
	require.True(t, stream.Receive())
	s2, err := pc.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: bash("true")}))
	require.NoError(t, err)
	_, err = collect(t, s2)
	assert.Equal(t, connect.CodeResourceExhausted, code(err))
	require.NoError(t, stream.Close())
	require.Eventually(t, func() bool {
		l, err := e.sb.Commands().List(ctx)
		return err == nil && len(l) == 0
	}, 5*time.Second, 10*time.Millisecond, "closing the stream stops the command")
	assert.True(t, strings.Contains(e.logs.String(), `"cmd":"sleep 100"`))
}
