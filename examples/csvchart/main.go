// Command csvchart analyses a CSV file with pandas and charts it with
// matplotlib, in the data build of CPython (wasm/pydata): the CSV goes into
// the sandbox, a cell groups and sums it, prints the table and shows a bar
// chart, and the chart comes back as a PNG result that is written to a file.
//
//	go run ./examples/csvchart [-csv sales.csv] [-out chart.png]
//
// The CSV needs the columns region and sales (default: a sample). The
// first run on a machine compiles the data build (tens of seconds, once).
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

const sample = `month,region,sales
Jan,north,120
Jan,south,80
Feb,north,135
Feb,south,95
Mar,north,160
Mar,south,70
`

const analysis = `
import pandas as pd
import matplotlib.pyplot as plt

df = pd.read_csv("sales.csv")
totals = df.groupby("region")["sales"].sum().sort_values(ascending=False)
print(totals.to_string())

fig, ax = plt.subplots(figsize=(5, 3))
totals.plot.bar(ax=ax, color="#4c72b0")
ax.set_ylabel("sales")
ax.set_title("Sales by region")
fig.tight_layout()
plt.show()
`

func main() {
	csvPath := flag.String("csv", "", "CSV file with the columns region and sales (default: a sample)")
	out := flag.String("out", filepath.Join(os.TempDir(), "wasmbox-chart.png"), "where to write the chart")
	flag.Parse()
	ctx := context.Background()

	data := []byte(sample)
	if *csvPath != "" {
		var err error
		if data, err = os.ReadFile(*csvPath); err != nil {
			log.Fatal(err)
		}
	}
	sb, err := wasmbox.New(ctx, wasmbox.WithPython(pydata.Build()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close(ctx)
	if _, err := sb.Files().WriteBytes(ctx, "/home/user/sales.csv", data); err != nil {
		log.Fatal(err)
	}
	exec, err := sb.RunCode(ctx, analysis, wasmbox.WithTimeout(2*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	if exec.Error != nil {
		log.Fatalf("%s: %s\n%s", exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
	}
	for _, line := range exec.Logs.Stdout {
		fmt.Print(line)
	}
	for _, r := range exec.Results {
		if r.PNG == "" {
			continue
		}
		png, err := base64.StdEncoding.DecodeString(r.PNG)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*out, png, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("chart: %s (%d bytes of PNG)\n", *out, len(png))
		return
	}
	log.Fatal("the cell showed no chart")
}
