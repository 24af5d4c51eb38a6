// Command serverless shows a serverless-style handler: at cold start the
// function prepares a context once (imports, helpers, data) and keeps a
// snapshot of it; every request then runs in a fresh sandbox whose context
// is restored from that snapshot in about a millisecond, so requests never
// see each other's state.
//
//	go run ./examples/serverless
//
// main plays three invocations of the handler.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wasmbox/wasmbox"
)

// function is what a serverless runtime keeps between invocations of one
// instance: the engine (compiled interpreters) and the prepared snapshot.
type function struct {
	engine *wasmbox.Engine
	base   *wasmbox.Snapshot
}

// coldStart runs once per function instance.
func coldStart(ctx context.Context) (*function, error) {
	e, err := wasmbox.NewEngine(ctx)
	if err != nil {
		return nil, err
	}
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
	if err != nil {
		return nil, err
	}
	defer sb.Close(ctx)
	c, err := sb.CreateCodeContext(ctx)
	if err != nil {
		return nil, err
	}
	exec, err := sb.RunCode(ctx, `
import json, statistics
requests_seen = 0
def handle(event):
    global requests_seen
    requests_seen += 1
    values = event["values"]
    return {"mean": statistics.mean(values), "max": max(values), "requests_seen": requests_seen}
`, wasmbox.InContext(c))
	if err != nil {
		return nil, err
	}
	if exec.Error != nil {
		return nil, fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
	}
	base, err := c.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &function{engine: e, base: base}, nil
}

// handle serves one request in a sandbox of its own, from the snapshot.
func (f *function) handle(ctx context.Context, event string) (string, error) {
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(f.engine))
	if err != nil {
		return "", err
	}
	defer sb.Close(ctx)
	c, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(f.base))
	if err != nil {
		return "", err
	}
	exec, err := sb.RunCode(ctx, "json.dumps(handle(json.loads("+fmt.Sprintf("%q", event)+")))",
		wasmbox.InContext(c), wasmbox.WithTimeout(5*time.Second))
	if err != nil {
		return "", err
	}
	if exec.Error != nil {
		return "", fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
	}
	return exec.Text(), nil
}

func main() {
	ctx := context.Background()
	start := time.Now()
	f, err := coldStart(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer f.engine.Close(ctx)
	defer f.base.Close()
	log.Printf("cold start: %v", time.Since(start).Round(time.Millisecond))
	for _, event := range []string{`{"values": [1, 2, 3]}`, `{"values": [10, 20]}`, `{"values": [5]}`} {
		start := time.Now()
		out, err := f.handle(ctx, event)
		if err != nil {
			log.Fatal(err)
		}
		// requests_seen is 1 every time: each request starts from the snapshot.
		fmt.Println(out)
		log.Printf("request: %v", time.Since(start).Round(time.Millisecond))
	}
}
