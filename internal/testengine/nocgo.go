//go:build !cgo

package testengine

import "github.com/wasmbox/wasmbox/internal/wasmengine"

func wasmtimeFactory() wasmengine.Factory { return nil }
