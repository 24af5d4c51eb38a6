package wasmbox_test

import (
	"context"
	"fmt"

	"github.com/wasmbox/wasmbox"
)

func ExampleSandbox_Files() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	files := sb.Files()
	if _, err := files.WriteBytes(ctx, "/home/user/in.csv", []byte("n\n1\n2\n3\n")); err != nil {
		panic(err)
	}
	code := "import csv\n" +
		"total = sum(int(r['n']) for r in csv.DictReader(open('in.csv')))\n" +
		"open('out.txt', 'w').write(str(total))"
	if _, err := sb.RunCode(ctx, code); err != nil {
		panic(err)
	}
	out, err := files.Read(ctx, "/home/user/out.txt")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: 6
}
