package wasmbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
)

// TestDefaultContextsCostNothingUntilUsed: the default contexts New lists
// have no interpreter until their first cell; a cell in one starts only it.
func TestDefaultContextsCostNothingUntilUsed(t *testing.T) {
	ctx := context.Background()
	sb, err := New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	py, js := list[0], list[1]
	started := func(c *Context) bool {
		inst, err := c.instance()
		require.NoError(t, err)
		return inst != nil
	}
	assert.False(t, started(py))
	assert.False(t, started(js))
	live := func() int {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return sb.live
	}
	assert.Equal(t, 0, live())

	// Concurrent first cells start the interpreter once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exec, err := sb.RunCode(ctx, "1")
			assert.NoError(t, err)
			assert.Equal(t, "1", exec.Text())
		}()
	}
	wg.Wait()
	assert.True(t, started(py))
	assert.False(t, started(js), "the JavaScript context is not started by a Python cell")
	assert.Equal(t, 1, live())

	require.NoError(t, sb.RemoveCodeContext(ctx, js))
	assert.ErrorIs(t, sb.RemoveCodeContext(ctx, js), ErrContextRemoved)
	require.NoError(t, sb.RemoveCodeContext(ctx, py))
	assert.Equal(t, 0, live(), "removing counts each context once")
}

// TestRemoveDefaultWhileItStarts: removing a default context while its
// first cell starts it leaves no interpreter behind and the count right.
func TestRemoveDefaultWhileItStarts(t *testing.T) {
	ctx := context.Background()
	sb, err := New(ctx, WithMaxContexts(2))
	require.NoError(t, err)
	defer sb.Close(ctx)
	for i := range 8 {
		c, err := sb.defaultContext("python")
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			_, err := sb.RunCode(ctx, "1", InContext(c))
			done <- err
		}()
		time.Sleep(time.Duration(i%4) * time.Millisecond)
		require.NoError(t, sb.RemoveCodeContext(ctx, c))
		if err := <-done; err != nil {
			assert.ErrorIs(t, err, ErrContextRemoved)
		}
		inst, err := c.instance()
		assert.ErrorIs(t, err, ErrContextRemoved)
		assert.Nil(t, inst)
		sb.mu.Lock()
		assert.Equal(t, 0, sb.live+sb.starting, "round %d", i)
		sb.mu.Unlock()
	}
	exec, err := sb.RunCode(ctx, "2")
	require.NoError(t, err)
	assert.Equal(t, "2", exec.Text())
}

// TestDefaultsMatchTheRuntime: the defaults the package documents are the
// ones the runtime applies.
func TestDefaultsMatchTheRuntime(t *testing.T) {
	assert.Equal(t, guest.CacheDirEnv, CacheDirEnv)
	assert.Equal(t, guest.DefaultCacheMaxAge, DefaultCacheMaxAge)
	assert.Equal(t, guest.DefaultStopGrace, DefaultStopGrace)
}
