//go:build cgo

package testengine

import (
	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
)

func wasmtimeFactory() wasmengine.Factory { return wasmtimeengine.New }
