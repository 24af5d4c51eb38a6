package ehlower

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
)

// Random byte mutations of the test modules (FuzzLower's seeds, without the
// fuzzing engine): Lower neither panics nor hangs, and lowers the mutants
// wazero accepts to modules it accepts without exception handling.
func TestMutatedInputs(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	in := wazero.NewRuntimeWithConfig(ctx, config(false, featuresAll))
	defer in.Close(ctx)
	out := wazero.NewRuntimeWithConfig(ctx, config(false, featuresAll&^experimental.CoreFeaturesExceptionHandling))
	defer out.Close(ctx)
	seeds := [][]byte{ehWasm, paramsWasm, refsWasm, genModule(1, 3), gunzip(t, sjljGz)}
	valid := 0
	for i := range n {
		w := append([]byte(nil), seeds[r.IntN(len(seeds))]...)
		for range 1 + r.IntN(4) {
			p := r.IntN(len(w))
			switch r.IntN(3) {
			case 0:
				w[p] = byte(r.IntN(256))
			case 1:
				w = append(w[:p], w[p+1:]...)
			default:
				w = append(w[:p], append([]byte{byte(r.IntN(256))}, w[p:]...)...)
			}
		}
		done := make(chan []byte)
		go func() {
			lowered, _, err := Lower(w)
			if err != nil {
				lowered = nil
			}
			done <- lowered
		}()
		var lowered []byte
		select {
		case lowered = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("mutant %d: Lower hangs", i)
		}
		if lowered == nil {
			continue
		}
		cm, err := in.CompileModule(ctx, w)
		if err != nil {
			continue
		}
		_ = cm.Close(ctx)
		valid++
		cm, err = out.CompileModule(ctx, lowered)
		if err != nil {
			t.Fatalf("mutant %d: a valid module lowered to an invalid one: %v", i, err)
		}
		_ = cm.Close(ctx)
	}
	t.Logf("%d mutants, %d valid", n, valid)
}
