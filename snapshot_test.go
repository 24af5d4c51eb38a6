package wasmbox_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/engine/wasmtime"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
)

func TestSnapshotForkDiverges(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	orig, err := sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/fork"))
	require.NoError(t, err)
	noError(t, run(t, sb, "import json\ndata = {'n': 1}\ndef bump(): data['n'] += 1; return data['n']", wasmbox.InContext(orig)))
	snap, err := orig.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	assert.Equal(t, "python", snap.Language)
	assert.Equal(t, "/home/user/fork", snap.Cwd)

	fork, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	require.NoError(t, err)
	assert.NotEqual(t, orig.ID, fork.ID)
	assert.Equal(t, "/home/user/fork", fork.Cwd)

	assert.Equal(t, "2", run(t, sb, "bump()", wasmbox.InContext(fork)).Text())
	assert.Equal(t, "3", run(t, sb, "bump()", wasmbox.InContext(fork)).Text())
	assert.Equal(t, "2", run(t, sb, "bump()", wasmbox.InContext(orig)).Text(), "the original does not see the fork's changes")
	noError(t, run(t, sb, "only_in_orig = True", wasmbox.InContext(orig)))
	exec := run(t, sb, "only_in_orig", wasmbox.InContext(fork))
	require.NotNil(t, exec.Error, "the fork does not see the original's changes")
	assert.Equal(t, "NameError", exec.Error.Name)
	assert.Equal(t, "/home/user/fork", run(t, sb, "import os; os.getcwd()", wasmbox.InContext(fork)).Text())

	second, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	require.NoError(t, err)
	assert.Equal(t, "2", run(t, sb, "bump()", wasmbox.InContext(second)).Text(), "every fork starts from the snapshot")
}

func TestSnapshotReseedsForks(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	noError(t, run(t, sb, "import random", wasmbox.InContext(c)))
	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	draws := map[string]bool{}
	for range 3 {
		f, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
		require.NoError(t, err)
		draws[run(t, sb, "random.random()", wasmbox.InContext(f)).Text()] = true
	}
	assert.Len(t, draws, 3, "clones do not share random streams")

	urandom := map[string]bool{}
	for range 3 {
		f, err := sb.CreateCodeContext(ctx)
		require.NoError(t, err)
		urandom[run(t, sb, "import os; os.urandom(8).hex()", wasmbox.InContext(f)).Text()] = true
	}
	assert.Len(t, urandom, 3, "os.urandom is the host's crypto/rand")
}

func TestSnapshotPersistsAcrossEngines(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	noError(t, run(t, sb, "import decimal, re\nsaved = [decimal.Decimal('1.5') * 2, re.sub('a', 'b', 'aa')]", wasmbox.InContext(c)))
	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	t.Logf("persisted snapshot: %d bytes", n)
	assert.Less(t, n, int64(8<<20), "sparse: only pages that differ from the module")

	// Another engine stands for another process.
	other, err := wasmbox.NewEngine(testctx.Context(ctx))
	require.NoError(t, err)
	defer other.Close(ctx)
	sb2, err := wasmbox.New(ctx, wasmbox.WithEngine(other))
	require.NoError(t, err)
	defer sb2.Close(ctx)
	read, err := wasmbox.ReadSnapshot(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	resumed, err := sb2.CreateCodeContext(ctx, wasmbox.FromSnapshot(read))
	require.NoError(t, err)
	assert.Equal(t, "[Decimal('3.0'), 'bb']", run(t, sb2, "saved", wasmbox.InContext(resumed)).Text())

	var again bytes.Buffer
	_, err = read.WriteTo(&again)
	require.NoError(t, err)
	assert.Equal(t, buf.Bytes(), again.Bytes())

	corrupt := append([]byte(nil), buf.Bytes()...)
	corrupt[0] = 'X'
	_, err = wasmbox.ReadSnapshot(bytes.NewReader(corrupt))
	assert.ErrorIs(t, err, wasmbox.ErrSnapshotMismatch)
	truncated, err := wasmbox.ReadSnapshot(bytes.NewReader(buf.Bytes()[:buf.Len()/2]))
	require.NoError(t, err, "the header alone is readable")
	_, err = sb2.CreateCodeContext(ctx, wasmbox.FromSnapshot(truncated))
	assert.ErrorIs(t, err, wasmbox.ErrSnapshotMismatch)
	tampered := append([]byte(nil), buf.Bytes()...)
	at := bytes.Index(tampered, []byte(`"module":"`)) + len(`"module":"`)
	if tampered[at] == '0' { // same length, another hash
		tampered[at] = '1'
	} else {
		tampered[at] = '0'
	}
	bad, err := wasmbox.ReadSnapshot(bytes.NewReader(tampered))
	require.NoError(t, err)
	_, err = sb2.CreateCodeContext(ctx, wasmbox.FromSnapshot(bad))
	assert.ErrorIs(t, err, wasmbox.ErrSnapshotMismatch, "a snapshot of another interpreter build is refused")
}

// TestSnapshotsMoveBetweenEngineKinds: a snapshot persisted by a context on
// wazero resumes on wasmtime and the other way round (same interpreter
// build), for Python and JavaScript, live (a Snapshot value) and persisted.
func TestSnapshotsMoveBetweenEngineKinds(t *testing.T) {
	if !wasmtime.Available {
		t.Skip("a build without cgo has no wasmtime")
	}
	ctx := context.Background()
	wz, err := wasmbox.NewEngine(ctx)
	require.NoError(t, err)
	defer wz.Close(ctx)
	wt, err := wasmtime.NewEngine(ctx)
	require.NoError(t, err)
	defer wt.Close(ctx)
	require.Equal(t, "wazero", wz.Name())
	require.Equal(t, "wasmtime", wt.Name())
	code := map[string][2]string{
		"python":     {"import fractions\nsaved = fractions.Fraction(3, 4) * 2", "str(saved)"},
		"javascript": {"globalThis.saved = [1, 2].map(x => x * 21).join('-')", "saved"},
	}
	want := map[string]string{"python": "3/2", "javascript": "21-42"}
	for _, pair := range [][2]*wasmbox.Engine{{wz, wt}, {wt, wz}} {
		from, to := pair[0], pair[1]
		sbFrom, err := wasmbox.New(ctx, wasmbox.WithEngine(from))
		require.NoError(t, err)
		defer sbFrom.Close(ctx)
		sbTo, err := wasmbox.New(ctx, wasmbox.WithEngine(to))
		require.NoError(t, err)
		defer sbTo.Close(ctx)
		for lang, c := range code {
			name := lang + " " + from.Name() + "->" + to.Name()
			ctxFrom, err := sbFrom.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
			require.NoError(t, err, name)
			noError(t, run(t, sbFrom, c[0], wasmbox.InContext(ctxFrom)))
			snap, err := ctxFrom.Snapshot(ctx)
			require.NoError(t, err, name)

			live, err := sbTo.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
			require.NoError(t, err, name)
			assert.Equal(t, want[lang], run(t, sbTo, c[1], wasmbox.InContext(live)).Text(), name+", live")

			var buf bytes.Buffer
			_, err = snap.WriteTo(&buf)
			require.NoError(t, err, name)
			read, err := wasmbox.ReadSnapshot(&buf)
			require.NoError(t, err, name)
			persisted, err := sbTo.CreateCodeContext(ctx, wasmbox.FromSnapshot(read))
			require.NoError(t, err, name)
			assert.Equal(t, want[lang], run(t, sbTo, c[1], wasmbox.InContext(persisted)).Text(), name+", persisted")
		}
	}
}

func TestSnapshotHazards(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = sb.RunCode(ctx, "import time; time.sleep(1)", wasmbox.InContext(c))
	}()
	time.Sleep(200 * time.Millisecond)
	_, err = c.Snapshot(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrContextBusy)
	<-done

	noError(t, run(t, sb, "f = open('/tmp/held.txt', 'w')\nf.write('x')", wasmbox.InContext(c)))
	_, err = c.Snapshot(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrOpenFiles)
	noError(t, run(t, sb, "f.close()", wasmbox.InContext(c)))
	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	require.NoError(t, snap.Close())
	_, err = sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	assert.Error(t, err, "a closed snapshot cannot be restored")

	require.NoError(t, sb.RemoveCodeContext(ctx, c))
	_, err = c.Snapshot(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrContextRemoved)
}

func TestThousandContexts(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,000 contexts")
	}
	ctx := context.Background()
	sb := newSandbox(t)
	start := time.Now()
	contexts := make([]*wasmbox.Context, 0, 1000)
	for i := range 1000 {
		c, err := sb.CreateCodeContext(ctx)
		require.NoError(t, err)
		contexts = append(contexts, c)
		exec := run(t, sb, fmt.Sprintf("x = %d\nx * 2", i), wasmbox.InContext(c))
		require.Equal(t, fmt.Sprint(2*i), exec.Text())
	}
	created := time.Since(start)
	for i, c := range contexts {
		if i%100 == 0 {
			exec := run(t, sb, "x", wasmbox.InContext(c))
			assert.Equal(t, fmt.Sprint(i), exec.Text(), "contexts keep their own state")
		}
	}
	start = time.Now()
	for _, c := range contexts {
		require.NoError(t, sb.RemoveCodeContext(ctx, c))
	}
	t.Logf("1,000 Python contexts: created + one cell each in %v, removed in %v", created, time.Since(start))
}
