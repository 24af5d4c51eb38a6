package wasmbox_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/languages"
	"github.com/wasmbox/wasmbox/result"
)

// newContext creates a context of lang in sb.
func newContext(t *testing.T, sb *wasmbox.Sandbox, lang string) *wasmbox.Context {
	t.Helper()
	c, err := sb.CreateCodeContext(context.Background(), wasmbox.ContextLanguage(lang))
	require.NoError(t, err)
	return c
}

// runIn runs code in c.
func runIn(t *testing.T, sb *wasmbox.Sandbox, c *wasmbox.Context, code string) *result.Execution {
	t.Helper()
	return run(t, sb, code, wasmbox.InContext(c))
}

func TestErrorsFitTheEventLimit(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range []struct{ lang, code, name string }{
		// NUL is escaped as \u0000: 6 bytes of JSON for each character.
		{"python", `raise ValueError('\0' * (3 << 20))`, "ValueError"},
		{"python", `raise type('E' * (3 << 20), (Exception,), {})('x')`, ""},
		{"javascript", `throw new RangeError('\0'.repeat(3 << 20))`, "RangeError"},
		{"javascript", `const e = new Error('x'); e.name = 'E'.repeat(3 << 20); throw e`, ""},
	} {
		ctx := newContext(t, sb, c.lang)
		exec := runIn(t, sb, ctx, c.code)
		require.NotNil(t, exec.Error, c.code)
		if c.name != "" {
			assert.Equal(t, c.name, exec.Error.Name, c.code)
			assert.Contains(t, exec.Error.Value, "[wasmbox: truncated", c.code)
		} else {
			assert.Less(t, len(exec.Error.Name), 2000, c.code)
			assert.Contains(t, exec.Error.Name, "EEEE", c.code)
		}
		assert.Less(t, len(exec.Error.Value)+len(exec.Error.Traceback), languages.MaxErrorPayload, c.code)
		assert.NotEqual(t, wasmbox.ErrorWasmbox, exec.Error.Name, c.code)
	}
}
