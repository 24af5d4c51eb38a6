// Command forktests is a test harness that forks a prepared context for
// each test: the fixture (code under test, data) is set up once, captured
// with Context.Snapshot, and every test runs in a fork of it, in parallel,
// so that no test sees what another one changed.
//
//	go run ./examples/forktests
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox"
)

// fixture is set up once; the tests below change its state freely.
const fixture = `
class Account:
    def __init__(self, balance):
        self.balance = balance
    def withdraw(self, amount):
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount

account = Account(100)
`

var tests = []struct{ name, code string }{
	{"withdraw", "account.withdraw(30)\nassert account.balance == 70, account.balance"},
	{"withdraw everything", "account.withdraw(100)\nassert account.balance == 0"},
	{"overdraw", "try:\n    account.withdraw(101)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('no error')"},
	{"fresh fixture", "assert account.balance == 100, 'another test leaked into this one'"},
	{"a failing test", "assert account.balance == 99, f'balance is {account.balance}'"},
}

func main() {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close(ctx)
	setup, err := sb.CreateCodeContext(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if exec, err := sb.RunCode(ctx, fixture, wasmbox.InContext(setup)); err != nil || exec.Error != nil {
		log.Fatalf("fixture: %v %v", err, exec.Error)
	}
	base, err := setup.Snapshot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer base.Close()

	results := make([]string, len(tests))
	failed := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, tc := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdict := run(ctx, sb, base, tc.code)
			mu.Lock()
			defer mu.Unlock()
			if verdict != "" {
				failed++
				results[i] = fmt.Sprintf("FAIL %s: %s", tc.name, verdict)
			} else {
				results[i] = "ok   " + tc.name
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	fmt.Printf("%d passed, %d failed\n", len(tests)-failed, failed)
	// The harness works: exactly the one test written to fail failed.
	if failed != 1 {
		os.Exit(1)
	}
}

// run runs one test in a fork of base and returns "" or why it failed.
func run(ctx context.Context, sb *wasmbox.Sandbox, base *wasmbox.Snapshot, code string) string {
	c, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(base))
	if err != nil {
		return err.Error()
	}
	defer sb.RemoveCodeContext(ctx, c)
	exec, err := sb.RunCode(ctx, code, wasmbox.InContext(c), wasmbox.WithTimeout(10*time.Second))
	switch {
	case err != nil:
		return err.Error()
	case exec.Error != nil:
		return exec.Error.Name + ": " + exec.Error.Value
	}
	return ""
}
