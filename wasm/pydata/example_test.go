package pydata_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

// A data analysis as code-interpreter users run it: a CSV in through the
// Files API, pandas, and a chart out as a PNG with its data.
func Example() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithPython(pydata.Build()))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	csv := "month,sales\nJan,120\nFeb,135\nMar,160\n"
	if _, err := sb.Files().Write(ctx, "/home/user/sales.csv", strings.NewReader(csv)); err != nil {
		panic(err)
	}
	exec, err := sb.RunCode(ctx, `
import pandas as pd
import matplotlib.pyplot as plt
df = pd.read_csv("sales.csv")
print(df.sales.sum())
plt.bar(df.month, df.sales)
plt.title("Sales")
`)
	if err != nil {
		panic(err)
	}
	fmt.Print(exec.Logs.Stdout[0])
	for _, r := range exec.Results {
		if r.PNG != "" {
			fmt.Println(r.Chart["type"], r.Chart["title"], len(r.Chart["elements"].([]any)))
		}
	}
	// Output:
	// 415
	// bar Sales 3
}
