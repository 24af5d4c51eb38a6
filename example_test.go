package wasmbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

func Example() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(engine))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	if _, err := sb.RunCode(ctx, "x = 41"); err != nil {
		panic(err)
	}
	exec, err := sb.RunCode(ctx, "x + 1")
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Text())
	// Output: 42
}

func ExampleSandbox_RunCode_streaming() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(engine))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	exec, err := sb.RunCode(ctx, "print('working')\ndisplay({'a': 1})\n1/0",
		wasmbox.OnStdout(func(m result.OutputMessage) { fmt.Print("stdout: ", m.Line) }),
		wasmbox.OnResult(func(r result.Result) { fmt.Println("result:", r.Text) }),
		wasmbox.WithTimeout(10*time.Second))
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Error.Name, exec.Error.Value)
	// Output:
	// stdout: working
	// result: {'a': 1}
	// ZeroDivisionError division by zero
}

func ExampleSandbox_CreateCodeContext() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(engine))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/project"))
	if err != nil {
		panic(err)
	}
	exec, err := sb.RunCode(ctx, "import os\nos.getcwd()", wasmbox.InContext(c))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Language, exec.Text())
	// Output: python /home/user/project
}
