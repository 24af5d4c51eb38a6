// Command e2bserver embeds wasmbox's E2B-compatible server in a program of
// its own: the official E2B SDKs (with E2B_DEBUG=true, or E2B_SANDBOX_URL)
// then drive the sandbox it serves, as they drive `wasmbox serve`.
//
//	go run ./examples/e2bserver                       # 127.0.0.1:49999 and envd on :49983
//	go run ./examples/e2bserver -addr 127.0.0.1:8123  # both APIs on one address
//
// With -once it serves on a free port, runs one cell through the HTTP API
// (POST /execute, which streams the execution as JSON lines, as E2B's
// server does), prints the lines and exits.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

func main() {
	addr := flag.String("addr", server.DefaultCodeAddr, "address of the code-interpreter API")
	envdAddr := flag.String("envd-addr", server.DefaultEnvdAddr, "address of envd (files); empty: on -addr")
	once := flag.Bool("once", false, "serve on a free port, run one cell through the API, print the answer and exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	sb, err := wasmbox.New(ctx, wasmbox.WithMaxContexts(20), wasmbox.WithDefaultTimeout(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close(context.Background())
	if err := sb.Warm(ctx); err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(sb, server.WithAccessToken(os.Getenv("E2B_ACCESS_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	if !*once {
		log.Printf("serving the code interpreter on %s, envd on %s", *addr, *envdAddr)
		if err := srv.ListenAndServe(ctx, *addr, *envdAddr); err != nil {
			log.Fatal(err)
		}
		return
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }() // both APIs on ln
	resp, err := http.Post("http://"+ln.Addr().String()+"/execute", "application/json",
		strings.NewReader(`{"code": "print('hello from the sandbox')\n6 * 7"}`))
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
}
