package wasmbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
)

func ExampleWithNetwork() {
	// A service the cells may call (here a local one: an allow-list entry
	// that names a loopback address explicitly allows it).
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"temperature": 21}`)
	}))
	defer api.Close()

	ctx := context.Background()
	sb, err := wasmbox.New(ctx,
		wasmbox.WithNetwork(network.Policy{Allow: []string{api.Listener.Addr().String()}}))
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	exec, err := sb.RunCode(ctx, fmt.Sprintf(`import json, urllib.request
json.load(urllib.request.urlopen(%q))["temperature"]`, api.URL))
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Text())

	exec, err = sb.RunCode(ctx, `import urllib.request
urllib.request.urlopen("https://example.com/")`)
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Error.Name)
	// Output:
	// 21
	// URLError
}
