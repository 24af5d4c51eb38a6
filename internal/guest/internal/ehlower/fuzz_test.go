package ehlower

import (
	"context"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// FuzzLower: Lower never panics, and what it writes for a module wazero
// accepts, wazero accepts without exception handling.
//
//	go test -run XXX -fuzz FuzzLower -fuzztime 1m ./runtime/internal/ehlower
func FuzzLower(f *testing.F) {
	for _, w := range [][]byte{ehWasm, paramsWasm, refsWasm, genModule(1, 3), gunzip(f, sjljGz)} {
		f.Add(w)
	}
	ctx := context.Background()
	in := wazero.NewRuntimeWithConfig(ctx, config(false, featuresAll))
	out := wazero.NewRuntimeWithConfig(ctx, config(false, featuresAll&^experimental.CoreFeaturesExceptionHandling))
	f.Cleanup(func() {
		in.Close(ctx)
		out.Close(ctx)
	})
	f.Fuzz(func(t *testing.T, wasm []byte) {
		lowered, _, err := Lower(wasm)
		if err != nil {
			return
		}
		cm, err := in.CompileModule(ctx, wasm)
		if err != nil {
			return // not valid: nothing is promised of the output
		}
		_ = cm.Close(ctx)
		cm, err = out.CompileModule(ctx, lowered)
		if err != nil {
			t.Fatalf("a valid module lowered to an invalid one: %v", err)
		}
		_ = cm.Close(ctx)
	})
}

// FuzzRandomPrograms runs TestRandomPrograms's comparison on more
// programs, bigger ones too.
//
//	go test -run XXX -fuzz FuzzRandomPrograms -fuzztime 1m ./runtime/internal/ehlower
func FuzzRandomPrograms(f *testing.F) {
	f.Add(uint64(0), uint8(6))
	ctx := context.Background()
	oracle := wazero.NewRuntimeWithConfig(ctx, config(false, featuresEH))
	lowered := wazero.NewRuntimeWithConfig(ctx, config(true, api.CoreFeaturesV2))
	f.Cleanup(func() {
		oracle.Close(ctx)
		lowered.Close(ctx)
	})
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		n = n%12 + 1
		wasm := genModule(seed, int(n))
		cm, err := oracle.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("the generator wrote an invalid module: %v", err)
		}
		defer cm.Close(ctx)
		out, _, err := Lower(wasm)
		if err != nil {
			t.Fatal(err)
		}
		lcm, err := lowered.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("the lowered module does not compile: %v", err)
		}
		defer lcm.Close(ctx)
		for f := range int(n) {
			fn := fmt.Sprintf("f%d", f)
			for _, arg := range []uint64{0, 1, 7, api.EncodeI32(-3)} {
				want := runGen(t, oracle, cm, fn, arg, false)
				if got := runGen(t, lowered, lcm, fn, arg, true); got != want {
					t.Errorf("%s(%d): got %+v, want %+v", fn, int32(arg), got, want)
				}
			}
		}
	})
}
