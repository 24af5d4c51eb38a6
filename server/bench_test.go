package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// BenchmarkExecute measures one POST /execute of 1+1 over loopback HTTP in
// the default context, the response read to its end. See also
// bench/cmd/load for concurrent clients.
func BenchmarkExecute(b *testing.B) {
	e := newEnv(b, nil)
	url := e.code.URL + "/execute"
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"code": "1+1"}`))
		status, body, err := doClient(req)
		if err != nil || status != http.StatusOK || !strings.Contains(body, `"text":"2"`) {
			b.Fatalf("%d %s %v", status, body, err)
		}
	}
}
