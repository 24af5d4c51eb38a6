//go:build cgo && unix

package wasmtimeengine_test

import (
	"context"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
)

// An engine with one host function, compiled code kept in memory only.
func ExampleNew() {
	ctx := context.Background()
	eng, err := wasmtimeengine.New(ctx, wasmengine.Config{
		Host: []wasmengine.HostFunc{{
			Module: "env", Name: "double",
			Params:  []wasmengine.ValType{wasmengine.I32},
			Results: []wasmengine.ValType{wasmengine.I32},
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				stack[0] = uint64(uint32(stack[0]) * 2)
			},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close(ctx)
	fmt.Println(eng.Name(), eng.Metered())
	// Output: wasmtime false
}
