// Command load measures `wasmbox serve` under load: requests per second and
// p50/p99 latency of POST /execute with the cell 1+1, each response read to
// its end_of_execution, with 1, 8 and 64 concurrent clients.
//
//	go run ./bench/cmd/load [-duration 3s] [-clients 1,8,64] [-mode both]
//
// It starts the server in-process on a loopback port (127.0.0.1:0) and sends
// nothing anywhere else. Two modes:
//
//   - shared: every client runs its cells in the sandbox's default Python
//     context, as clients of one E2B sandbox do with runCode(code). One
//     context runs one cell at a time, so this measures queueing.
//   - per-client: each client has a context of its own (context_id), so
//     cells run in parallel up to the machine's cores.
//
// Each run is bounded by -duration and by -max-requests per client.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long each measurement runs")
	clientsFlag := flag.String("clients", "1,8,64", "comma-separated numbers of concurrent clients")
	mode := flag.String("mode", "both", "shared, per-client or both")
	maxReq := flag.Int("max-requests", 200_000, "upper bound of requests per client and run")
	flag.Parse()
	var clients []int
	for _, f := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			fmt.Fprintf(os.Stderr, "load: bad -clients %q\n", *clientsFlag)
			os.Exit(2)
		}
		clients = append(clients, n)
	}
	var modes []string
	switch *mode {
	case "both":
		modes = []string{"shared", "per-client"}
	case "shared", "per-client":
		modes = []string{*mode}
	default:
		fmt.Fprintf(os.Stderr, "load: bad -mode %q\n", *mode)
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, clients, modes, *duration, *maxReq); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// result is one measurement.
type result struct {
	mode      string
	clients   int
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
}

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)-1))
	return r.latencies[i]
}

func run(ctx context.Context, out io.Writer, clients []int, modes []string, d time.Duration, maxReq int) error {
	sb, err := wasmbox.New(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(context.WithoutCancel(ctx))
	srv, err := server.New(sb, server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln, nil) }()
	defer func() {
		stop()
		<-served
	}()
	base := "http://" + ln.Addr().String()
	maxClients := slices.Max(clients)
	hc := &http.Client{Transport: &http.Transport{
		MaxIdleConns: maxClients * 2, MaxIdleConnsPerHost: maxClients * 2, DisableCompression: true,
	}}

	fmt.Fprintf(out, "wasmbox serve, POST /execute {\"code\": \"1+1\"} over loopback HTTP/1.1; %d CPUs, GOMAXPROCS=%d, %s per run\n\n",
		goruntime.NumCPU(), goruntime.GOMAXPROCS(0), d)
	fmt.Fprintf(out, "| mode | clients | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|---|\n")
	for _, mode := range modes {
		for _, n := range clients {
			ids := make([]string, n)
			if mode == "per-client" {
				for i := range ids {
					if ids[i], err = createContext(ctx, hc, base); err != nil {
						return err
					}
				}
			}
			// warm up: the contexts exist and have run a cell
			if _, err := measure(ctx, hc, base, ids, 200*time.Millisecond, maxReq); err != nil {
				return err
			}
			r, err := measure(ctx, hc, base, ids, d, maxReq)
			if err != nil {
				return err
			}
			r.mode = mode
			fmt.Fprintf(out, "| %s | %d | %.0f | %s | %s | %d |\n", r.mode, r.clients,
				float64(r.requests)/r.elapsed.Seconds(), round(r.percentile(0.50)), round(r.percentile(0.99)), r.errors)
			for _, id := range ids {
				if id != "" {
					_ = removeContext(ctx, hc, base, id)
				}
			}
		}
	}
	return nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d > 100*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// measure runs len(ids) clients for d; client i uses context ids[i] (the
// default context when empty).
func measure(ctx context.Context, hc *http.Client, base string, ids []string, d time.Duration, maxReq int) (result, error) {
	bodies := make([][]byte, len(ids))
	for i, id := range ids {
		req := map[string]string{"code": "1+1"}
		if id != "" {
			req["context_id"] = id
		}
		bodies[i], _ = json.Marshal(req)
	}
	var mu sync.Mutex
	res := result{clients: len(ids)}
	var firstErr error
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			errs := 0
			for k := 0; k < maxReq && time.Now().Before(deadline); k++ {
				t0 := time.Now()
				err := execute(ctx, hc, base, bodies[i])
				if err != nil {
					errs++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(res.latencies)
	slices.Sort(res.latencies)
	if res.requests == 0 && firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

var want = []byte(`"text":"2"`)

// execute runs one cell and reads its whole stream.
func execute(ctx context.Context, hc *http.Client, base string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/execute", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	if !bytes.Contains(b, want) || !bytes.HasSuffix(b, []byte("{\"type\":\"end_of_execution\"}\n")) {
		return errors.New("unexpected response: " + string(b))
	}
	return nil
}

func createContext(ctx context.Context, hc *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/contexts", strings.NewReader(`{"language":"python"}`))
	if err != nil {
		return "", err
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var c struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || c.ID == "" {
		return "", fmt.Errorf("create context: status %d: %v", res.StatusCode, err)
	}
	return c.ID, nil
}

func removeContext(ctx context.Context, hc *http.Client, base, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/contexts/"+id, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}
