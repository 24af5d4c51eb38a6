package guest_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/javascript"
	"github.com/wasmbox/wasmbox/internal/languages/python"
)

// TestFuelSiteProfile is a measurement tool, not a check: with
// WASMBOX_FUEL_PROFILE set to a cell ("python:<code>" or
// "javascript:<code>"), it runs the cell on a module whose fuel checks count
// their runs and prints the busiest sites, to find where metering costs.
//
//	WASMBOX_FUEL_PROFILE=$'python:n = 0\nfor i in range(100_000):\n    n += i * i % 7' \
//	  go test -run TestFuelSiteProfile -v ./runtime/
func TestFuelSiteProfile(t *testing.T) {
	cell := os.Getenv("WASMBOX_FUEL_PROFILE")
	if cell == "" {
		t.Skip("set WASMBOX_FUEL_PROFILE to profile a cell")
	}
	spec, code := python.Spec(), cell
	if lang, rest, ok := cutPrefix(cell); ok {
		code = rest
		switch lang {
		case "javascript":
			spec = javascript.Spec()
		}
	}
	ctx := context.Background()
	e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithFuelProfile())
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, spec.Wasm())
	require.NoError(t, err)
	inst, err := m.Instantiate(ctx, guest.Config{Mounts: spec.Mounts(), Init: spec.Init(languages.Limits{}), NoSnapshot: true})
	require.NoError(t, err)
	defer inst.Close(ctx)
	_, base := guest.SiteCounts(inst)
	_, err = inst.Exec(ctx, []byte(code), []byte("{}"), &rec{})
	require.NoError(t, err)
	sites, counts := guest.SiteCounts(inst)
	type row struct {
		k int
		n uint64
	}
	var rows []row
	var total, weighted uint64
	byKind := map[string]uint64{}
	for k := range sites {
		n := counts[k] - base[k]
		if n > 0 {
			rows = append(rows, row{k, n})
			total += n
			weighted += n * uint64(sites[k].Weight)
			byKind[sites[k].Kind] += n
		}
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].n > rows[b].n })
	fmt.Printf("%d checks ran (%v), %d fuel\n", total, byKind, weighted)
	for _, r := range rows[:min(len(rows), 30)] {
		s := sites[r.k]
		fmt.Printf("%10d  %-8s func %5d weight %d every %d\n", r.n, s.Kind, s.Function, s.Weight, s.Every)
	}
}

func cutPrefix(s string) (string, string, bool) {
	for _, l := range []string{"python", "javascript"} {
		if len(s) > len(l) && s[:len(l)+1] == l+":" {
			return l, s[len(l)+1:], true
		}
	}
	return "", s, false
}
