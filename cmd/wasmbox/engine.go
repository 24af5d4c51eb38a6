package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/engine/wasmtime"
)

// engineEnv names the environment variable that picks the WebAssembly
// engine when --engine is not given.
const engineEnv = "WASMBOX_ENGINE"

// engineChoice is the --engine flag: the WebAssembly engine of every
// sandbox the command creates.
type engineChoice struct{ name string }

func (c *engineChoice) register(root *cobra.Command) {
	def := os.Getenv(engineEnv)
	if def == "" {
		def = "wazero"
	}
	root.PersistentFlags().StringVar(&c.name, "engine", def,
		"WebAssembly engine: wazero (pure Go) or wasmtime (faster code; needs a build with cgo); default $"+engineEnv)
	_ = root.RegisterFlagCompletionFunc("engine", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"wazero", "wasmtime"}, cobra.ShellCompDirectiveNoFileComp
	})
}

// check validates the choice.
func (c *engineChoice) check() error {
	switch c.name {
	case "wazero":
		return nil
	case "wasmtime":
		if !wasmtime.Available {
			return usageErr("--engine wasmtime: this wasmbox was built without cgo, which wasmtime needs")
		}
		return nil
	}
	return usageErr("--engine must be wazero or wasmtime, got %q", c.name)
}

// newEngine creates an engine of the chosen kind.
func (c *engineChoice) newEngine(ctx context.Context, opts ...wasmbox.EngineOption) (*wasmbox.Engine, error) {
	if c.name == "wasmtime" {
		return wasmtime.NewEngine(ctx, opts...)
	}
	return wasmbox.NewEngine(ctx, opts...)
}
