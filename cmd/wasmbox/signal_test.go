package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/testcache"
)

// stubbornCell catches every interrupt, from the moment it says it started:
// nothing but tearing its instance down stops it.
const stubbornCell = `{"code": "import time\nstarted = False\nwhile True:\n    try:\n        if not started:\n` +
	`            started = True\n            print('started', flush=True)\n        time.sleep(.5)\n    except BaseException:\n        pass"}`

var (
	buildOnce sync.Once
	binDir    string // removed by TestMain
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := testcache.Main(m)
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// wasmboxBinary builds the command, once per test process, with go build:
// signals are about the real process.
func wasmboxBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the wasmbox binary")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "wasmbox-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wasmbox")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// serverProc is a running `wasmbox serve` process.
type serverProc struct {
	cmd  *exec.Cmd
	url  string
	log  *lockedBuffer
	done chan struct{}
	rc   int
}

func startServe(t *testing.T, args ...string) *serverProc {
	t.Helper()
	bin := wasmboxBinary(t)
	p := &serverProc{log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--envd-addr", ""}, args...)...)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	addrRE := regexp.MustCompile(`msg="wasmbox server listening".* addr=(127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.log.Write([]byte(line + "\n"))
			if m := addrRE.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		_ = p.cmd.Wait()
		p.rc = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case addr := <-found:
		p.url = "http://" + addr
	case <-p.done:
		t.Fatalf("serve exited: %s", p.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start: %s", p.log.String())
	}
	return p
}

// startCell posts a cell and returns once it printed its first line.
func (p *serverProc) startCell(t *testing.T, body string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.url+"/execute", strings.NewReader(body))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	rd := bufio.NewReader(res.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err, p.log.String())
	require.Contains(t, line, "started")
	return rd
}

// signalAndWait sends sig and returns how long the process took to exit.
func (p *serverProc) signalAndWait(t *testing.T, sig os.Signal, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("serve still runs %v after %v: %s", limit, sig, p.log.String())
	}
	return 0
}

// TestSIGTERMWithAStubbornCell: SIGTERM stops the server within its grace
// (0.5 s here, shorter than the cell's stop grace) plus one second even
// while a cell that catches every interrupt runs; the exit status says
// requests were abandoned.
func TestSIGTERMWithAStubbornCell(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--shutdown-grace", "500ms", "--stop-grace", "5s")
	p.startCell(t, stubbornCell)
	took := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second)
	t.Logf("exited %v after SIGTERM, status %d", took, p.rc)
	assert.Less(t, took, 2*time.Second)
	assert.GreaterOrEqual(t, took, time.Second/2, "it did not wait for the grace")
	assert.Equal(t, exitFailed, p.rc)
	assert.Contains(t, p.log.String(), "abandoning requests that did not finish within the grace")
}

// TestSIGTERMStopsAStubbornCell: with the default shutdown grace (5 s), a
// cell that catches every interrupt is stopped after the stop grace (1 s),
// its stream ends properly with ContextRestarted, and the server exits 0.
func TestSIGTERMStopsAStubbornCell(t *testing.T) {
	t.Parallel()
	p := startServe(t)
	rd := p.startCell(t, stubbornCell)
	took := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second)
	t.Logf("exited %v after SIGTERM, status %d", took, p.rc)
	assert.Less(t, took, 3*time.Second)
	assert.Equal(t, exitOK, p.rc, p.log.String())
	rest, err := io.ReadAll(rd)
	require.NoError(t, err)
	assert.Contains(t, string(rest), `"name":"ContextRestarted"`)
	assert.True(t, strings.HasSuffix(string(rest), `{"type":"end_of_execution"}`+"\n"), "%s", rest)
}

// TestSecondSignalExitsAtOnce: with a long grace, a second signal ends the
// wait.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--shutdown-grace", "60s", "--stop-grace", "60s")
	p.startCell(t, stubbornCell)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool { return strings.Contains(p.log.String(), "shutting down") },
		5*time.Second, 10*time.Millisecond)
	took := p.signalAndWait(t, os.Interrupt, 5*time.Second)
	assert.Less(t, took, 2*time.Second)
	assert.Equal(t, exitFailed, p.rc)
	assert.Contains(t, p.log.String(), "second signal: exiting at once")
}

// TestSIGTERMFinishesAnInterruptibleCell: a cell that stops when
// interrupted ends its stream properly and the server exits 0, without
// waiting for the grace.
func TestSIGTERMFinishesAnInterruptibleCell(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--shutdown-grace", "30s")
	rd := p.startCell(t, `{"code": "import time\nprint('started', flush=True)\ntime.sleep(60)"}`)
	took := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second)
	assert.Less(t, took, 5*time.Second)
	assert.Equal(t, exitOK, p.rc, p.log.String())
	rest, err := io.ReadAll(rd)
	require.NoError(t, err)
	assert.Contains(t, string(rest), `"name":"KeyboardInterrupt"`)
	assert.True(t, strings.HasSuffix(string(rest), `{"type":"end_of_execution"}`+"\n"), "%s", rest)
	assert.Contains(t, p.log.String(), "wasmbox server stopped")
}
