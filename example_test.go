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
	sb, err := wasmbox.New(ctx)
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
	sb, err := wasmbox.New(ctx)
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
	sb, err := wasmbox.New(ctx)
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

func ExampleWithEnvs() {
	ctx := context.Background()
	// Given to New: variables every cell of every context sees.
	sb, err := wasmbox.New(ctx, wasmbox.WithEnvs(map[string]string{"STAGE": "test"}))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)
	show := func(code string, opts ...wasmbox.RunOption) {
		exec, err := sb.RunCode(ctx, code, opts...)
		if err != nil {
			panic(err)
		}
		fmt.Println(exec.Text())
	}
	show("import os; os.environ['STAGE']")
	// Given to RunCode: this cell only, over the sandbox's.
	show("os.environ['STAGE']", wasmbox.WithEnvs(map[string]string{"STAGE": "one cell"}))
	show("os.environ['STAGE']")
	show("process.env.STAGE", wasmbox.WithLanguage("js"))
	// Output:
	// test
	// one cell
	// test
	// test
}

func ExampleSandbox_ListCodeContexts() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)
	// The default contexts exist from the start, as in E2B; their
	// interpreters start with their first cell.
	list, err := sb.ListCodeContexts(ctx)
	if err != nil {
		panic(err)
	}
	for _, c := range list {
		fmt.Println(c.Language, c.Cwd)
	}
	// Output:
	// python /home/user
	// javascript /home/user
}
