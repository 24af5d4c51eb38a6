//go:build !unix

package shell

import "github.com/wasmbox/wasmbox/internal/wasip1"

func sysStat(wasip1.Filestat) any { return nil }
