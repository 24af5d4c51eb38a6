package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

// Serve a sandbox's code-interpreter API and run a cell over HTTP, as the
// E2B SDKs do: POST /execute answers one JSON event per line.
func ExampleServer_CodeHandler() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)
	srv, err := server.New(sb, server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.CodeHandler())
	defer hs.Close()

	res, err := http.Post(hs.URL+"/execute", "application/json",
		strings.NewReader(`{"code": "print('hello')\nx = 41\nx + 1"}`))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		var ev struct {
			Type  string `json:"type"`
			Text  string `json:"text"`
			Count int    `json:"execution_count"`
		}
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			panic(err)
		}
		fmt.Printf("%s %q %d\n", ev.Type, ev.Text, ev.Count)
	}
	// Output:
	// stdout "hello\n" 0
	// result "42" 0
	// number_of_executions "" 1
	// end_of_execution "" 0
}
