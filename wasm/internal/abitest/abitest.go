// Package abitest is a minimal host for the wasmbox guest ABI (wasm/ABI.md),
// used by the tests of the committed artifacts. The product's real host lives
// in runtime/; this one only proves that a module honours the ABI.
package abitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Event is one call of the guest's wasmbox.emit import.
type Event struct {
	Kind    uint32
	Payload string
}

// Decode unmarshals the event's JSON payload into v.
func (e Event) Decode(v any) error { return json.Unmarshal([]byte(e.Payload), v) }

// Mount is a read-only fs.FS exposed to the guest at GuestPath.
type Mount struct {
	FS        fs.FS
	GuestPath string
}

// Instance is one instantiated guest module.
type Instance struct {
	rt    wazero.Runtime
	mod   api.Module
	ctl   uint32
	ctlMu sync.Mutex // orders the host's writes of the interrupt word

	mu     sync.Mutex
	events []Event
	stdout bytes.Buffer
	stderr bytes.Buffer
}

type syncBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Load compiles and instantiates wasm, calls _initialize and wasmbox_init(cfg).
func Load(ctx context.Context, wasm []byte, cfg any, mounts ...Mount) (*Instance, error) {
	// Tests load the same modules many times: a disk cache under the temp
	// dir keeps that to one compilation per module and machine.
	rcfg := wazero.NewRuntimeConfig()
	if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(os.TempDir(), "wasmbox-abitest-cache")); err == nil {
		rcfg = rcfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rcfg)
	in := &Instance{rt: rt}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	_, err := rt.NewHostModuleBuilder("wasmbox").
		NewFunctionBuilder().
		WithFunc(func(_ context.Context, m api.Module, kind, ptr, n uint32) {
			b, ok := m.Memory().Read(ptr, n)
			if !ok {
				panic("emit: out of range")
			}
			in.mu.Lock()
			in.events = append(in.events, Event{Kind: kind, Payload: string(b)})
			in.mu.Unlock()
		}).Export("emit").
		NewFunctionBuilder().
		WithFunc(func() {}).Export("yield").
		Instantiate(ctx)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	fsc := wazero.NewFSConfig()
	for _, m := range mounts {
		fsc = fsc.WithFSMount(m.FS, m.GuestPath)
	}
	mc := wazero.NewModuleConfig().
		WithStartFunctions("_initialize").
		WithStdout(syncBuf{&in.mu, &in.stdout}).
		WithStderr(syncBuf{&in.mu, &in.stderr}).
		WithFSConfig(fsc).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(randReader{})
	mod, err := rt.InstantiateModule(ctx, compiled, mc)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	in.mod = mod
	raw, err := json.Marshal(cfg)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	res, err := in.call(ctx, "wasmbox_init", raw, nil)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if res == 0 {
		ev := in.Take()
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmbox_init failed: %v", ev)
	}
	in.ctl = res
	return in, nil
}

type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return len(p), nil
}

func (in *Instance) put(ctx context.Context, b []byte) (uint32, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r, err := in.mod.ExportedFunction("wasmbox_alloc").Call(ctx, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	p := uint32(r[0])
	if p == 0 || !in.mod.Memory().Write(p, b) {
		return 0, errors.New("wasmbox_alloc failed")
	}
	return p, nil
}

func (in *Instance) call(ctx context.Context, fn string, a, b []byte) (uint32, error) {
	pa, err := in.put(ctx, a)
	if err != nil {
		return 0, err
	}
	pb, err := in.put(ctx, b)
	if err != nil {
		return 0, err
	}
	free := in.mod.ExportedFunction("wasmbox_free")
	defer func() {
		for _, p := range []uint32{pa, pb} {
			if p != 0 {
				_, _ = free.Call(ctx, uint64(p))
			}
		}
	}()
	args := []uint64{uint64(pa), uint64(len(a))}
	if fn == "wasmbox_exec" {
		args = append(args, uint64(pb), uint64(len(b)))
	}
	r, err := in.mod.ExportedFunction(fn).Call(ctx, args...)
	if err != nil {
		return 0, err
	}
	return uint32(r[0]), nil
}

// Exec runs one cell and returns wasmbox_exec's return code.
func (in *Instance) Exec(ctx context.Context, code string, opts any) (uint32, error) {
	in.ctlMu.Lock()
	in.mod.Memory().WriteUint32Le(in.ctl, 0)
	in.ctlMu.Unlock()
	raw, err := json.Marshal(opts)
	if err != nil {
		return 0, err
	}
	return in.call(ctx, "wasmbox_exec", []byte(code), raw)
}

// Interrupt performs the host side of the interrupt protocol once.
//
// # Notes
//
//   - abitest uses wazero's default memory, whose buffer moves when the guest
//     grows it: an interrupt sent during a grow can be lost. The product's
//     runtime/ keeps memory at a fixed address for that reason.
func (in *Instance) Interrupt(reason uint32) {
	in.ctlMu.Lock()
	defer in.ctlMu.Unlock()
	mem := in.mod.Memory()
	mem.WriteUint32Le(in.ctl, reason)
	addr, _ := mem.ReadUint32Le(in.ctl + 4)
	mask, _ := mem.ReadUint32Le(in.ctl + 8)
	if addr != 0 {
		v, _ := mem.ReadUint32Le(addr)
		mem.WriteUint32Le(addr, v|mask)
	}
}

// Control returns the four words of the control block.
func (in *Instance) Control() [4]uint32 {
	var w [4]uint32
	for i := range w {
		w[i], _ = in.mod.Memory().ReadUint32Le(in.ctl + uint32(4*i))
	}
	return w
}

// Take returns and clears the events, stdout and stderr collected so far.
func (in *Instance) Take() (events []Event) {
	in.mu.Lock()
	defer in.mu.Unlock()
	events, in.events = in.events, nil
	return events
}

// Output returns and clears stdout and stderr collected so far.
func (in *Instance) Output() (stdout, stderr string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	stdout, stderr = in.stdout.String(), in.stderr.String()
	in.stdout.Reset()
	in.stderr.Reset()
	return stdout, stderr
}

// Close releases the instance and its runtime.
func (in *Instance) Close(ctx context.Context) error { return in.rt.Close(ctx) }
