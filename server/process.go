package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"mvdan.cc/sh/v3/syntax"

	"github.com/wasmbox/wasmbox"
	pb "github.com/wasmbox/wasmbox/server/internal/envd/process"
	"github.com/wasmbox/wasmbox/server/internal/envd/process/processconnect"
)

// procService implements process.Process (E2B's sandbox.commands) on the
// sandbox's Commands: the command runs in the sandbox's shell, never as a
// host process.
type procService struct {
	s *Server

	mu    sync.Mutex
	procs map[int]procEntry // what Start was asked, by PID
}

type procEntry struct {
	config *pb.ProcessConfig
	tag    string
}

var _ processconnect.ProcessHandler = (*procService)(nil)

func (s *Server) processHandler() (string, http.Handler) {
	path, h := processconnect.NewProcessHandler(&procService{s: s, procs: map[int]procEntry{}},
		connect.WithInterceptors(&authInterceptor{s}),
		connect.WithReadMaxBytes(int(min(s.cfg.maxRequestBytes, 1<<30))),
	)
	return path, refuseUnknownEncoding(h)
}

var errNoPTY = errors.New("wasmbox runs commands without a terminal: PTYs are not supported")

// commandLine turns a ProcessConfig into a shell command line. E2B's SDKs
// send /bin/bash -l -c CMD; any other program and its arguments are
// quoted into a command line of the sandbox's shell.
func commandLine(cfg *pb.ProcessConfig) (string, error) {
	cmd, args := cfg.GetCmd(), cfg.GetArgs()
	if cmd == "" {
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New("process.cmd is empty"))
	}
	if b := path.Base(cmd); b == "bash" || b == "sh" {
		for i, a := range args {
			if a == "-c" && i+1 < len(args) {
				if rest := args[i+2:]; len(rest) > 0 {
					break // positional parameters: run sh -c SCRIPT ARGS... below
				}
				return args[i+1], nil
			}
			if !strings.HasPrefix(a, "-") {
				break
			}
		}
	}
	words := make([]string, 0, 1+len(args))
	for _, w := range append([]string{cmd}, args...) {
		q, err := syntax.Quote(w, syntax.LangBash)
		if err != nil {
			return "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("argument %q: %v", w, err))
		}
		words = append(words, q)
	}
	return strings.Join(words, " "), nil
}

// commandError maps an error of the commands API to a Connect error.
func commandError(err error) error {
	switch {
	case errors.Is(err, wasmbox.ErrUnknownProcess):
		return connect.NewError(connect.CodeNotFound, err)
	case errors.Is(err, wasmbox.ErrTooManyCommands):
		return connect.NewError(connect.CodeResourceExhausted, err)
	case errors.Is(err, wasmbox.ErrInvalidOptions):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, wasmbox.ErrStdinClosed):
		return connect.NewError(connect.CodeFailedPrecondition, err)
	case errors.Is(err, wasmbox.ErrClosed):
		return connect.NewError(connect.CodeUnavailable, err)
	}
	return rpcError(err)
}

// handle finds the command a selector names.
func (p *procService) handle(ctx context.Context, sel *pb.ProcessSelector) (*wasmbox.CommandHandle, error) {
	pid := -1
	switch s := sel.GetSelector().(type) {
	case *pb.ProcessSelector_Pid:
		pid = int(s.Pid)
	case *pb.ProcessSelector_Tag:
		p.mu.Lock()
		for id, e := range p.procs {
			if e.tag == s.Tag {
				pid = id
			}
		}
		p.mu.Unlock()
		if pid < 0 {
			return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: no process has the tag %q", wasmbox.ErrUnknownProcess, s.Tag))
		}
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("process selector: give a pid or a tag"))
	}
	logAttrs(ctx, slog.Int("pid", pid))
	h, err := p.s.sb.Commands().Connect(ctx, pid)
	if err != nil {
		return nil, commandError(err)
	}
	return h, nil
}

// Start implements process.Process: the command starts, then the stream
// carries a start event (its PID), its output as data events, keepalives,
// and an end event. The command lives as long as the request: the SDK's
// timeoutMs (Connect-Timeout-Ms), or the client going away, stops it.
func (p *procService) Start(ctx context.Context, req *connect.Request[pb.StartRequest], stream *connect.ServerStream[pb.StartResponse]) error {
	msg := req.Msg
	if msg.Pty != nil {
		return connect.NewError(connect.CodeUnimplemented, errNoPTY)
	}
	line, err := commandLine(msg.GetProcess())
	if err != nil {
		return err
	}
	logAttrs(ctx, slog.String("cmd", line))
	opts := []wasmbox.CommandOption{wasmbox.WithEnvs(msg.GetProcess().GetEnvs())}
	if cwd := msg.GetProcess().GetCwd(); cwd != "" {
		opts = append(opts, wasmbox.CommandCwd(cwd))
	}
	if !msg.GetStdin() {
		opts = append(opts, wasmbox.CommandStdin(strings.NewReader("")))
	}
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.StartResponse{Event: ev}) }
	return p.serve(ctx, req.Header(), send, func(out chan<- *pb.ProcessEvent) (*wasmbox.CommandHandle, func(), error) {
		opts = append(opts, wasmbox.CommandOnStdout(forward(ctx, out, false)), wasmbox.CommandOnStderr(forward(ctx, out, true)))
		h, err := p.s.sb.Commands().Start(ctx, line, opts...)
		if err != nil {
			return nil, nil, commandError(err)
		}
		p.mu.Lock()
		p.procs[h.PID] = procEntry{config: msg.GetProcess(), tag: msg.GetTag()}
		p.mu.Unlock()
		go func() {
			<-h.Done()
			p.mu.Lock()
			delete(p.procs, h.PID)
			p.mu.Unlock()
		}()
		return h, func() {}, nil
	})
}

// Connect implements process.Process: the stream of a running command,
// from now on.
func (p *procService) Connect(ctx context.Context, req *connect.Request[pb.ConnectRequest], stream *connect.ServerStream[pb.ConnectResponse]) error {
	h, err := p.handle(ctx, req.Msg.GetProcess())
	if err != nil {
		return err
	}
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.ConnectResponse{Event: ev}) }
	return p.serve(ctx, req.Header(), send, func(out chan<- *pb.ProcessEvent) (*wasmbox.CommandHandle, func(), error) {
		detach := h.Attach(forward(ctx, out, false), forward(ctx, out, true))
		return h, detach, nil
	})
}

// forward sends output to the stream's event channel.
func forward(ctx context.Context, out chan<- *pb.ProcessEvent, stderr bool) func(string) {
	return func(s string) {
		d := &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Stdout{Stdout: []byte(s)}}
		if stderr {
			d.Output = &pb.ProcessEvent_DataEvent_Stderr{Stderr: []byte(s)}
		}
		select {
		case out <- &pb.ProcessEvent{Event: &pb.ProcessEvent_Data{Data: d}}:
		case <-ctx.Done():
		}
	}
}

// serve runs the event stream of a command that attach starts or joins.
func (p *procService) serve(ctx context.Context, header http.Header, send func(*pb.ProcessEvent) error,
	attach func(chan<- *pb.ProcessEvent) (*wasmbox.CommandHandle, func(), error)) error {
	events := make(chan *pb.ProcessEvent, 64)
	h, detach, err := attach(events)
	if err != nil {
		return err
	}
	defer detach()
	logAttrs(ctx, slog.Int("pid", h.PID))
	if err := send(&pb.ProcessEvent{Event: &pb.ProcessEvent_Start{Start: &pb.ProcessEvent_StartEvent{Pid: uint32(h.PID)}}}); err != nil {
		return err
	}
	interval := p.s.cfg.keepalive
	if sec, err := strconv.Atoi(header.Get(keepaliveHeader)); err == nil && sec > 0 {
		interval = time.Duration(min(sec, 3600)) * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case ev := <-events:
			if err := send(ev); err != nil {
				return err
			}
			ticker.Reset(interval)
		case <-ctx.Done():
			// Start's command stops with its request; Connect's goes on.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the command's stream timed out"))
			}
			return connect.NewError(connect.CodeCanceled, errors.New("the client went away or the server is shutting down"))
		case <-ticker.C:
			if err := send(&pb.ProcessEvent{Event: &pb.ProcessEvent_Keepalive{Keepalive: &pb.ProcessEvent_KeepAlive{}}}); err != nil {
				return err
			}
		case <-h.Done():
			for {
				select {
				case ev := <-events:
					if err := send(ev); err != nil {
						return err
					}
					continue
				default:
				}
				break
			}
			res, err := h.Wait(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the command timed out and was stopped"))
				}
				return connect.NewError(connect.CodeCanceled, errors.New("the client went away or the server is shutting down"))
			}
			end := &pb.ProcessEvent_EndEvent{ExitCode: int32(res.ExitCode), Exited: true,
				Status: "exit status " + strconv.Itoa(res.ExitCode)}
			switch {
			case errors.Is(err, wasmbox.ErrCommandKilled), errors.Is(err, wasmbox.ErrClosed):
				end.ExitCode, end.Exited, end.Status = -1, false, "signal: killed"
			}
			if res.Error != "" {
				end.Error = &res.Error
			}
			logAttrs(ctx, slog.Int("exit_code", res.ExitCode))
			return send(&pb.ProcessEvent{Event: &pb.ProcessEvent_End{End: end}})
		}
	}
}

// List implements process.Process.
func (p *procService) List(ctx context.Context, req *connect.Request[pb.ListRequest]) (*connect.Response[pb.ListResponse], error) {
	list, err := p.s.sb.Commands().List(ctx)
	if err != nil {
		return nil, commandError(err)
	}
	out := &pb.ListResponse{Processes: []*pb.ProcessInfo{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range list {
		info := &pb.ProcessInfo{Pid: uint32(c.PID)}
		if e, ok := p.procs[c.PID]; ok {
			info.Config = e.config
			if e.tag != "" {
				info.Tag = &e.tag
			}
		} else { // started through the Go API
			cwd := c.Cwd
			info.Config = &pb.ProcessConfig{Cmd: "/bin/sh", Args: []string{"-c", c.Cmd}, Envs: c.Envs, Cwd: &cwd}
		}
		out.Processes = append(out.Processes, info)
	}
	return connect.NewResponse(out), nil
}

// Update implements process.Process: only PTY sizes can be updated, and
// there are no PTYs.
func (p *procService) Update(ctx context.Context, req *connect.Request[pb.UpdateRequest]) (*connect.Response[pb.UpdateResponse], error) {
	if _, err := p.handle(ctx, req.Msg.GetProcess()); err != nil {
		return nil, err
	}
	if req.Msg.Pty != nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errNoPTY)
	}
	return connect.NewResponse(&pb.UpdateResponse{}), nil
}

func sendInput(h *wasmbox.CommandHandle, in *pb.ProcessInput) error {
	switch i := in.GetInput().(type) {
	case *pb.ProcessInput_Stdin:
		if err := h.SendStdin(i.Stdin); err != nil {
			return commandError(err)
		}
		return nil
	case *pb.ProcessInput_Pty:
		return connect.NewError(connect.CodeUnimplemented, errNoPTY)
	}
	return nil
}

// SendInput implements process.Process.
func (p *procService) SendInput(ctx context.Context, req *connect.Request[pb.SendInputRequest]) (*connect.Response[pb.SendInputResponse], error) {
	h, err := p.handle(ctx, req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	if err := sendInput(h, req.Msg.GetInput()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.SendInputResponse{}), nil
}

// StreamInput implements process.Process: a start event naming the
// process, then data events.
func (p *procService) StreamInput(ctx context.Context, stream *connect.ClientStream[pb.StreamInputRequest]) (*connect.Response[pb.StreamInputResponse], error) {
	var h *wasmbox.CommandHandle
	for stream.Receive() {
		switch ev := stream.Msg().GetEvent().(type) {
		case *pb.StreamInputRequest_Start:
			var err error
			if h, err = p.handle(ctx, ev.Start.GetProcess()); err != nil {
				return nil, err
			}
		case *pb.StreamInputRequest_Data:
			if h == nil {
				return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("the first event must be a start event naming the process"))
			}
			if err := sendInput(h, ev.Data.GetInput()); err != nil {
				return nil, err
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.StreamInputResponse{}), nil
}

// SendSignal implements process.Process: SIGTERM and SIGKILL both stop
// the command and everything it started.
func (p *procService) SendSignal(ctx context.Context, req *connect.Request[pb.SendSignalRequest]) (*connect.Response[pb.SendSignalResponse], error) {
	h, err := p.handle(ctx, req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	switch sig := req.Msg.GetSignal(); sig {
	case pb.Signal_SIGNAL_SIGKILL, pb.Signal_SIGNAL_SIGTERM:
		logAttrs(ctx, slog.String("signal", sig.String()))
		if err := h.Kill(ctx); err != nil {
			return nil, rpcError(err)
		}
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("unsupported signal %v", sig))
	}
	return connect.NewResponse(&pb.SendSignalResponse{}), nil
}

// CloseStdin implements process.Process.
func (p *procService) CloseStdin(ctx context.Context, req *connect.Request[pb.CloseStdinRequest]) (*connect.Response[pb.CloseStdinResponse], error) {
	h, err := p.handle(ctx, req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	if err := h.CloseStdin(); err != nil {
		return nil, commandError(err)
	}
	return connect.NewResponse(&pb.CloseStdinResponse{}), nil
}
