package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/chzyer/readline"

	"github.com/wasmbox/wasmbox"
)

// newSandbox creates the sandbox of run and repl on an engine of its own,
// which warns on stderr (an unusable cache directory) and, when stderr is a
// terminal, shows a progress line while it compiles an interpreter for the
// first time. close closes both.
func newSandbox(ctx context.Context, eng *engineChoice, stderr io.Writer, opts ...wasmbox.Option) (sb *wasmbox.Sandbox, close func(), err error) {
	eopts := []wasmbox.EngineOption{wasmbox.EngineLogger(cliLogger(stderr))}
	if isTerminal(stderr) {
		eopts = append(eopts, wasmbox.EngineCompileObserver(compileProgress(stderr, time.Second)))
	}
	e, err := eng.newEngine(ctx, eopts...)
	if err != nil {
		return nil, nil, err
	}
	sb, err = wasmbox.New(ctx, append(opts, wasmbox.WithEngine(e))...)
	if err != nil {
		_ = e.Close(ctx)
		return nil, nil, err
	}
	return sb, func() {
		ctx := context.WithoutCancel(ctx)
		_ = sb.Close(ctx)
		_ = e.Close(ctx)
	}, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}

// compileProgress is the compile observer of a terminal: while a module that
// is not in the disk cache compiles, a line on w says so and counts the
// seconds (every tick); it is erased when the compile ends.
func compileProgress(w io.Writer, tick time.Duration) func(wasmbox.CompileEvent) func() {
	return func(ev wasmbox.CompileEvent) func() {
		if ev.Cached {
			return nil
		}
		start := time.Now()
		var mu sync.Mutex
		line := func() {
			fmt.Fprintf(w, "\r\x1b[Kwasmbox: compiling the interpreter (%.0f MB of WebAssembly) to machine code, once per machine and version... %ds",
				float64(ev.Size)/1e6, int(time.Since(start).Seconds()))
		}
		line()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(tick)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					mu.Lock()
					line()
					mu.Unlock()
				}
			}
		}()
		var once sync.Once
		return func() {
			once.Do(func() {
				close(stop)
				<-done
				fmt.Fprint(w, "\r\x1b[K")
			})
		}
	}
}
