package wasmbox_test

import (
	"context"
	"fmt"

	"github.com/wasmbox/wasmbox"
)

func ExampleCommands_Run() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	res, err := sb.Commands().Run(ctx, "mkdir -p data && seq 1 5 > data/n.txt && "+
		"python -c 'import sys; print(sum(int(l) for l in sys.stdin))' < data/n.txt",
		wasmbox.CommandCwd("/home/user"))
	if err != nil {
		panic(err)
	}
	fmt.Print(res.Stdout)
	res, _ = sb.Commands().Run(ctx, "nosuchcommand")
	fmt.Println(res.ExitCode, res.Stderr)
	// Output:
	// 15
	// 127 nosuchcommand: command not found
}
