package wasmbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
)

// cellCommandPrefix starts the path where the host writes the result of a
// cell's command (see languages.EventCommand); the guest picks the rest.
const cellCommandPrefix = "/tmp/.wasmbox-cmd-"

// maxCommandEvent caps the payload of a command event.
const maxCommandEvent = 4 << 20

type cellCommandRequest struct {
	Cmd     string            `json:"cmd"`
	Capture bool              `json:"capture"`
	Cwd     string            `json:"cwd"`
	Env     map[string]string `json:"env"`
	Out     string            `json:"out"`
}

type cellCommandResult struct {
	Exit   int    `json:"exit"`
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	// Interrupted is "timeout" or "cancel" when the cell's timeout or its
	// cancellation stopped the command: the guest raises TimeoutError or
	// KeyboardInterrupt, as the interrupt itself would (which may reach the
	// guest only later).
	Interrupted string `json:"interrupted,omitempty"`
}

// cellCommand runs the command a cell asked for (Python's !cmd, x = !cmd,
// %%bash, %pip install) while the cell waits in the emit call: the output
// is streamed to the cell's stdout and stderr, or captured, and the result
// is written where the guest reads it. ctx is the cell's (its timeout, its
// interrupt), cancelled too when the context is restarted or removed.
func (s *Sandbox) cellCommand(ctx context.Context, h *cellHandler, payload []byte) {
	if len(payload) > maxCommandEvent {
		return
	}
	var req cellCommandRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return
	}
	out := path.Clean(req.Out)
	if !strings.HasPrefix(out, cellCommandPrefix) || strings.Contains(out[len(cellCommandPrefix):], "/") {
		return
	}
	res := cellCommandResult{}
	envs := map[string]string{}
	for k, v := range req.Env {
		if k != "" && !strings.ContainsAny(k, "=\x00") && !strings.ContainsRune(v, 0) {
			envs[k] = v
		}
	}
	opts := []CommandOption{CommandStdin(strings.NewReader("")), WithEnvs(envs)}
	if req.Cwd != "" {
		opts = append(opts, CommandCwd(req.Cwd))
	}
	var mu sync.Mutex
	var captured strings.Builder
	if req.Capture {
		// As IPython's getoutput: stdout and stderr together.
		keep := func(data string) {
			mu.Lock()
			defer mu.Unlock()
			if s.cfg.logLimit > 0 && captured.Len()+len(data) > s.cfg.logLimit {
				data = data[:max(0, s.cfg.logLimit-captured.Len())]
			}
			captured.WriteString(data)
		}
		opts = append(opts, CommandOnStdout(keep), CommandOnStderr(keep))
	} else {
		opts = append(opts, CommandOnStdout(func(data string) { h.Stdout([]byte(data)) }),
			CommandOnStderr(func(data string) { h.Stderr([]byte(data)) }))
	}
	// Only a command that could not start is an error for the cell: one
	// that failed said why on stderr.
	r, err := s.commands.Run(ctx, req.Cmd, opts...)
	switch {
	case r != nil:
		res.Exit = r.ExitCode
	case err != nil:
		res.Exit, res.Error = 1, err.Error()
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.Interrupted, res.Error = "timeout", ""
	case ctx.Err() != nil:
		res.Interrupted, res.Error = "cancel", ""
	}
	res.Output = captured.String()
	data, _ := json.Marshal(res)
	if _, err := s.fs.WriteBytes(context.WithoutCancel(ctx), out, data); err != nil {
		h.Stderr([]byte(fmt.Sprintf("[wasmbox: the result of %q could not be stored: %v]\n", req.Cmd, err)))
	}
}
