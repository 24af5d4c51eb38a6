package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/result"
)

type batchLine struct {
	ID        any               `json:"id"`
	Execution *result.Execution `json:"execution"`
	WallMS    *float64          `json:"wall_ms"`
	TimedOut  bool              `json:"timed_out"`
	Error     string            `json:"error"`
}

func parseBatchOutput(t *testing.T, out string) map[string]batchLine {
	t.Helper()
	got := map[string]batchLine{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l batchLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "every output line is one JSON object: %q", line)
		require.NotNil(t, l.WallMS, "wall_ms is always there: %q", line)
		id, _ := json.Marshal(l.ID)
		got[string(id)] = l
	}
	return got
}

// TestBatch: the JSON Lines contract of wasmbox batch: one result line per
// job, carrying its id as given, E2B's Execution JSON, the wall time, and
// why a line could not run; a summary on stderr.
func TestBatch(t *testing.T) {
	in := strings.Join([]string{
		`{"id": "ok", "code": "print('hi')\n6 * 7"}`,
		`{"id": 2, "code": "1/0"}`,
		`{"id": "slow", "code": "while True: pass", "timeout": 0.2}`,
		`{"id": "js", "language": "javascript", "code": "[1, 2].map(x => x * 2)"}`,
		`{"id": "files", "code": "open('data/in.txt').read()", "files": {"data/in.txt": "content"}}`,
		`{"id": "stdin", "code": "input() + '!'", "stdin": "typed\n"}`,
		``,
		`not a job`,
		`{"id": "unknown-field", "code": "1", "colour": "red"}`,
	}, "\n")
	rc, out, errOut := cli(t, in, "batch", "--python", "plain", "-j", "2", "--no-progress")
	assert.Equal(t, exitFailed, rc, "lines that are not jobs make the status 1")
	got := parseBatchOutput(t, out)
	require.Len(t, got, 8, out)

	ok := got[`"ok"`]
	require.NotNil(t, ok.Execution)
	assert.Equal(t, "42", ok.Execution.Text())
	assert.Equal(t, []string{"hi\n"}, ok.Execution.Logs.Stdout)
	assert.Empty(t, ok.Error)
	assert.Contains(t, out, `"text":"42"`, "the execution is E2B's wire JSON")

	assert.Equal(t, "ZeroDivisionError", got["2"].Execution.Error.Name, "a numeric id comes back as a number")
	assert.True(t, got[`"slow"`].TimedOut)
	assert.Equal(t, "[ 2, 4 ]", got[`"js"`].Execution.Text())
	assert.Equal(t, "content", got[`"files"`].Execution.Text())
	assert.Equal(t, "typed!", got[`"stdin"`].Execution.Text())
	assert.Contains(t, got["null"].Error, "line 8: not a valid job")
	assert.Nil(t, got["null"].Execution)
	assert.Contains(t, got[`"unknown-field"`].Error, "colour")

	assert.Contains(t, errOut, "8 jobs: 4 passed, 1 failed, 1 timed out, 2 not run; time p50")
}

// TestBatchSeedAndFiles: a seed makes a job reproducible; jobs come from a
// FILE and results go to --output; a batch whose jobs all ran exits 0.
func TestBatchSeedAndFiles(t *testing.T) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.jsonl")
	code := `"import random, time\nprint(time.time())\nrandom.random()"`
	require.NoError(t, os.WriteFile(jobs, []byte(
		`{"id": "a", "seed": 5, "code": `+code+`}`+"\n"+
			`{"id": "b", "seed": 5, "code": `+code+`}`+"\n"+
			`{"id": "c", "seed": 6, "code": `+code+`}`+"\n"), 0o644))
	results := filepath.Join(dir, "results.jsonl")
	rc, out, errOut := cli(t, "", "batch", "--python", "plain", "-o", results, jobs)
	require.Equal(t, 0, rc, errOut)
	assert.Empty(t, out)
	b, err := os.ReadFile(results)
	require.NoError(t, err)
	got := parseBatchOutput(t, string(b))
	ea, _ := json.Marshal(got[`"a"`].Execution)
	eb, _ := json.Marshal(got[`"b"`].Execution)
	ec, _ := json.Marshal(got[`"c"`].Execution)
	assert.Equal(t, string(ea), string(eb), "the same seed gives the same execution")
	assert.NotEqual(t, got[`"a"`].Execution.Text(), got[`"c"`].Execution.Text(), "another seed, another random stream")
	assert.Contains(t, string(ec), "946684800", "the clock starts at 2000-01-01")
	assert.Contains(t, errOut, "3 jobs: 3 passed")

	rc, _, errOut = cli(t, "", "batch", "-j", "0")
	assert.Equal(t, exitUsage, rc, errOut)
}
