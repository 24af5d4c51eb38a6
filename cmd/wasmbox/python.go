package main

import (
	"flag"
	"fmt"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/wasm/pydata"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// pythonFlag adds --python to fs: the CPython build of the Python contexts.
func pythonFlag(fs *flag.FlagSet) *string {
	return fs.String("python", "data",
		"Python build: data (numpy, pandas, matplotlib, Pillow; as E2B's) or plain (the standard library only)")
}

// pythonOption is the sandbox option for a --python value.
func pythonOption(name string) (wasmbox.Option, error) {
	switch name {
	case "data":
		return wasmbox.WithPython(pydata.Build()), nil
	case "plain":
		return wasmbox.WithPython(wasmpy.Default()), nil
	}
	return nil, fmt.Errorf("--python %q: want data or plain", name)
}
