package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/wasm/pydata"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// pythonFlag adds --python to cmd: the CPython build of the Python contexts.
func pythonFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "python", "data",
		"Python build: data (numpy, pandas, matplotlib, Pillow; as E2B's) or plain (the standard library only)")
	_ = cmd.RegisterFlagCompletionFunc("python", cobra.FixedCompletions([]string{
		"data\tnumpy, pandas, matplotlib, Pillow", "plain\tthe standard library only"}, cobra.ShellCompDirectiveNoFileComp))
}

// languageFlag adds -l/--language to cmd. The languages are the sandbox's
// (completion asks a sandbox for them), not a list kept here.
func languageFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "language", "l", "python",
		"language of the cells: python, javascript, an alias such as py or js, or any other the sandbox supports")
	_ = cmd.RegisterFlagCompletionFunc("language", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sb, err := wasmbox.New(ctx, wasmbox.WithCacheDir("off"))
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		defer sb.Close(ctx)
		return sb.Languages(), cobra.ShellCompDirectiveNoFileComp
	})
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
