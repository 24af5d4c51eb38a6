package pydata_test

import (
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
)

// pandas.read_csv of a URL goes through urllib.request, and so through the
// host, under the sandbox's network policy.
func TestReadCSVFromAllowedURL(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "city,temp\nParis,21\nOslo,12\nLima,18\n")
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tls := httptest.NewTLSServer(h)
	defer tls.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tls.Certificate())
	sb := newSandbox(t, wasmbox.WithNetwork(network.Policy{
		Allow:   []string{srv.Listener.Addr().String(), tls.Listener.Addr().String()},
		RootCAs: pool,
	}))
	for _, u := range []string{srv.URL, tls.URL} {
		e := ok(t, sb, fmt.Sprintf("import pandas as pd\ndf = pd.read_csv(%q)\n(len(df), int(df.temp.sum()), list(df.columns))", u+"/temps.csv"))
		if got := e.Text(); got != "(3, 51, ['city', 'temp'])" {
			t.Fatalf("%s: %q", u, got)
		}
	}
	e := run(t, sb, "pd.read_csv('https://example.com/x.csv')")
	if e.Error == nil || e.Error.Name != "URLError" || !strings.Contains(e.Error.Value, "not in the allow-list") {
		t.Fatalf("refused: %+v", e.Error)
	}
	// Without a policy: the sandbox says it has no network.
	e = run(t, newSandbox(t), fmt.Sprintf("import pandas as pd\npd.read_csv(%q)", srv.URL+"/temps.csv"))
	if e.Error == nil || !strings.Contains(e.Error.Value, "the sandbox has no network") {
		t.Fatalf("no network: %+v", e.Error)
	}
}
