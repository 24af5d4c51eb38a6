package wasmbox_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeSection returns the text of the README section with the given
// title, up to the next section.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	s := string(b)
	start := strings.Index(s, "\n## "+title+"\n")
	require.GreaterOrEqual(t, start, 0, "README has no section %q", title)
	s = s[start+1:]
	if end := strings.Index(s[3:], "\n## "); end >= 0 {
		s = s[:end+3]
	}
	return s
}

// readmeBlock is a fenced block of the README: a sh block is commands, a
// text block the output of the sh block before it.
type readmeBlock struct {
	lang, body string
}

var fence = regexp.MustCompile("(?ms)^```(\\w*)\\n(.*?)^```$")

func readmeBlocks(section string) []readmeBlock {
	var blocks []readmeBlock
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, readmeBlock{lang: m[1], body: m[2]})
	}
	return blocks
}

// TestReadmeFirstFiveMinutes runs every command block of the README's
// "First five minutes" section, in order and in one shell (as a reader
// types them), with the wasmbox it installs, and compares the output of
// each block followed by a text block with that text.
func TestReadmeFirstFiveMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs the wasmbox binary")
	}
	blocks := readmeBlocks(readmeSection(t, "First five minutes"))
	var script strings.Builder
	script.WriteString("set -e\n")
	var want []string // per sh block: its expected output, or "" if not given
	for i, b := range blocks {
		switch b.lang {
		case "sh":
			fmt.Fprintf(&script, "echo '@@block %d@@'\n%s", len(want), b.body)
			want = append(want, "")
		case "text":
			require.True(t, i > 0 && blocks[i-1].lang == "sh", "a text block follows a sh block")
			want[len(want)-1] = b.body
		default:
			t.Fatalf("block %d: unexpected language %q", i, b.lang)
		}
	}
	require.GreaterOrEqual(t, len(want), 3, "the section has command blocks")
	require.Contains(t, script.String(), "go install ./cmd/wasmbox")

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	cmd := exec.Command("sh", "-c", script.String())
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+tmp)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	_, err := os.Stat(filepath.Join(bin, "wasmbox"))
	require.NoError(t, err, "the README installs wasmbox")

	got := regexp.MustCompile(`(?m)^@@block \d+@@\n`).Split(out.String(), -1)[1:]
	require.Len(t, got, len(want), "output: %s", out.String())
	for i := range want {
		if want[i] != "" {
			assert.Equal(t, want[i], got[i], "output of command block %d", i)
		}
	}
}
