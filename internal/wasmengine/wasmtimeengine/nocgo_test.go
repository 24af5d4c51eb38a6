//go:build !cgo

package wasmtimeengine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
)

func TestNewWithoutCgo(t *testing.T) {
	e, err := wasmtimeengine.New(context.Background(), wasmengine.Config{})
	if e != nil || !errors.Is(err, wasmtimeengine.ErrNoCgo) {
		t.Fatalf("New = %v, %v; want ErrNoCgo", e, err)
	}
}
