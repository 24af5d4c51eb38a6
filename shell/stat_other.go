//go:build !unix

package shell

import "github.com/tetratelabs/wazero/sys"

func sysStat(st sys.Stat_t) any { return nil }
