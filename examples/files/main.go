// Command files moves files into a sandbox, lets a Python cell and a
// JavaScript cell work on them, and copies what they wrote back out to the
// host.
//
//	go run ./examples/files [-in DIR] [-out DIR]
//
// -in is a host directory whose regular files are copied to
// /home/user/in (default: two small sample texts); -out receives the
// files the cells wrote to /home/user/out (default: a new temporary
// directory, printed at the end).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path"
	"path/filepath"

	"github.com/wasmbox/wasmbox"
)

func main() {
	in := flag.String("in", "", "host directory of input files (default: samples)")
	out := flag.String("out", "", "host directory for the output files (default: a temporary directory)")
	flag.Parse()
	ctx := context.Background()

	sb, err := wasmbox.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close(ctx)
	files := sb.Files()

	// In: host files -> the sandbox's /home/user/in.
	inputs := map[string][]byte{
		"a.txt": []byte("the quick brown fox\njumps over the lazy dog\n"),
		"b.txt": []byte("the dog sleeps\n"),
	}
	if *in != "" {
		inputs = map[string][]byte{}
		entries, err := os.ReadDir(*in)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				b, err := os.ReadFile(filepath.Join(*in, e.Name()))
				if err != nil {
					log.Fatal(err)
				}
				inputs[e.Name()] = b
			}
		}
	}
	for name, data := range inputs {
		if _, err := files.WriteBytes(ctx, path.Join("/home/user/in", name), data); err != nil {
			log.Fatal(err)
		}
	}

	// Work: Python counts words, JavaScript (Node's fs) writes a summary of
	// Python's result.
	run := func(lang, code string) {
		exec, err := sb.RunCode(ctx, code, wasmbox.WithLanguage(lang))
		if err != nil {
			log.Fatal(err)
		}
		if exec.Error != nil {
			log.Fatalf("%s: %s: %s\n%s", lang, exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
		}
	}
	run("python", `
import collections, json, pathlib
counts = collections.Counter()
for f in sorted(pathlib.Path("in").iterdir()):
    counts.update(f.read_text().split())
pathlib.Path("out").mkdir(exist_ok=True)
pathlib.Path("out/counts.json").write_text(json.dumps(counts.most_common(3)))
`)
	run("javascript", `
const fs = require('fs')
const top = JSON.parse(fs.readFileSync('out/counts.json', 'utf8'))
fs.writeFileSync('out/summary.txt', top.map(([w, n]) => w + ': ' + n).join('\n') + '\n')
`)

	// Out: /home/user/out -> the host.
	if *out == "" {
		if *out, err = os.MkdirTemp("", "wasmbox-files-"); err != nil {
			log.Fatal(err)
		}
	}
	entries, err := files.List(ctx, "/home/user/out", 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		data, err := files.Read(ctx, e.Path)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*out, e.Name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s (%d bytes)\n", e.Name, len(data))
	}
	summary, err := os.ReadFile(filepath.Join(*out, "summary.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(bytes.TrimLeft(summary, "\n")))
	log.Printf("output files in %s", *out)
}
