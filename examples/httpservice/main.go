// Command httpservice answers Python cells over HTTP with a handler of its
// own: POST /run with the code as the body returns the Execution as E2B's
// JSON. Each client (the X-Client header) gets a context of its own, so its
// variables persist from one request to the next.
//
//	go run ./examples/httpservice                 # serves on 127.0.0.1:8080
//	curl -H 'X-Client: a' --data 'x = 6' localhost:8080/run
//	curl -H 'X-Client: a' --data 'x * 7' localhost:8080/run
//
// With -once it serves on a free port, sends those two requests itself,
// prints the answers' text and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox"
)

// service holds one sandbox and a context per client.
type service struct {
	sb       *wasmbox.Sandbox
	mu       sync.Mutex
	contexts map[string]*wasmbox.Context
}

func (s *service) context(ctx context.Context, client string) (*wasmbox.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.contexts[client]; ok {
		return c, nil
	}
	c, err := s.sb.CreateCodeContext(ctx)
	if err != nil {
		return nil, err
	}
	s.contexts[client] = c
	return c, nil
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/run" {
		http.Error(w, "POST /run with the code as the body", http.StatusNotFound)
		return
	}
	code, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c, err := s.context(r.Context(), r.Header.Get("X-Client"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	exec, err := s.sb.RunCode(r.Context(), string(code), wasmbox.InContext(c), wasmbox.WithTimeout(10*time.Second))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(exec) // E2B's wire format
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on")
	once := flag.Bool("once", false, "serve on a free port, send two requests, print the answers and exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	sb, err := wasmbox.New(ctx, wasmbox.WithMaxContexts(100))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close(context.Background())
	if err := sb.Warm(ctx, "python"); err != nil { // before the first request
		log.Fatal(err)
	}
	if *once {
		*addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: &service{sb: sb, contexts: map[string]*wasmbox.Context{}}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if !*once {
		log.Printf("serving on http://%s", ln.Addr())
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
		return
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	for _, code := range []string{"x = 6", "x * 7"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/run", strings.NewReader(code))
		req.Header.Set("X-Client", "a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		var exec struct {
			Results []struct {
				Text string `json:"text"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&exec)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s -> %d result(s)", code, len(exec.Results))
		for _, r := range exec.Results {
			fmt.Printf(" %s", r.Text)
		}
		fmt.Println()
	}
}
