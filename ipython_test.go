package wasmbox_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// The IPython habits of Python cells (E2B runs an IPython kernel): indented
// cells, magics, !commands, help(), get_ipython() and IPython's tracebacks.

func stdout(exec *result.Execution) string { return strings.Join(exec.Logs.Stdout, "") }
func stderr(exec *result.Execution) string { return strings.Join(exec.Logs.Stderr, "") }

// pyContext is a fresh Python context of a shared sandbox.
func pyContext(t *testing.T) (*wasmbox.Sandbox, *wasmbox.Context) {
	t.Helper()
	sb := newSandbox(t)
	return sb, newContext(t, sb, "python")
}

func TestPythonIndentedCell(t *testing.T) {
	sb, c := pyContext(t)
	exec := runIn(t, sb, c, "\n    x = 1\n    x\n")
	noError(t, exec)
	assert.Equal(t, "1", exec.Text())

	// Blocks inside keep their relative indentation; strings their text.
	exec = runIn(t, sb, c, "\t\tdef f(n):\n\t\t    return n * 2\n\t\tf(21)")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text())

	// Line numbers are still the cell's.
	exec = runIn(t, sb, c, "\n\n    y = 2\n    y / 0\n")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, `File "<cell-3>", line 4, in <module>`)
	assert.Contains(t, exec.Error.Traceback, "y / 0")
	exec = runIn(t, sb, c, "\n    a = 1\n    b = (\n")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, `File "<cell-4>", line 3`)

	// A cell whose first line is not indented is left alone: an indented
	// line later is still an error.
	exec = runIn(t, sb, c, "a = 1\n    b = 2")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "IndentationError", exec.Error.Name)
}

func TestPythonTracebacksShowOnlyTheCell(t *testing.T) {
	sb, c := pyContext(t)
	wasmboxFrame := regexp.MustCompile(`python313\.zip|wasmbox-prelude|run_cell|base_events`)

	exec := runIn(t, sb, c, "x = 1\ndef broken(:\n  pass")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Equal(t, "  File \"<cell-1>\", line 2\n    def broken(:\n               ^\nSyntaxError: invalid syntax\n",
		exec.Error.Traceback)

	// An error of the compiler's later stages shows its line too, as IPython does.
	exec = runIn(t, sb, c, "x = 1\nreturn x")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "  File \"<cell-2>\", line 2\n    return x\n    ^")

	// A cell with top-level await runs in an asyncio loop: the loop's frames
	// are not the user's.
	exec = runIn(t, sb, c, "import asyncio\nawait asyncio.sleep(0)\n1 / 0")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.True(t, strings.HasPrefix(exec.Error.Traceback, "Traceback (most recent call last):\n  File \"<cell-3>\", line 3, in <module>\n"),
		exec.Error.Traceback)

	for _, code := range []string{"x = (", "\n    1 +", "%time 1 +", "%%time\nx = (", "x = 1\n%timeit -n1 -r1 1/0", "import asyncio\nawait asyncio.sleep(0)\n(", "%%bash\nexit 1"} {
		exec = runIn(t, sb, c, code)
		require.NotNil(t, exec.Error, code)
		assert.NotRegexp(t, wasmboxFrame, exec.Error.Traceback, code)
	}
}

func TestIPythonLineMagics(t *testing.T) {
	sb, c := pyContext(t)
	exec := runIn(t, sb, c, "%pwd")
	noError(t, exec)
	assert.Contains(t, exec.Text(), "/home/user")

	exec = runIn(t, sb, c, "here = %pwd\nhere == '/home/user'")
	noError(t, exec)
	assert.Equal(t, "True", exec.Text())

	// %cd changes the directory of the context, as os.chdir, and prints it.
	_, err := sb.Files().WriteBytes(context.Background(), "/home/user/proj/data.txt", []byte("in proj"))
	require.NoError(t, err)
	exec = runIn(t, sb, c, "%cd proj")
	noError(t, exec)
	assert.Equal(t, "/home/user/proj\n", stdout(exec))
	exec = runIn(t, sb, c, "import os\nos.getcwd() == '/home/user/proj' and open('data.txt').read() == 'in proj'")
	noError(t, exec)
	assert.Equal(t, "True", exec.Text())
	exec = runIn(t, sb, c, "%cd -q /tmp\n%cd -\n%cd nowhere")
	noError(t, exec)
	assert.Equal(t, "/home/user/proj\n[Errno 44] No such file or directory: 'nowhere'\n", stdout(exec))
	exec = runIn(t, sb, c, "sub = 'proj'\n%cd /home/user\n%cd {sub}\n%cd\nos.getcwd() == '/home/user'")
	noError(t, exec)
	assert.Equal(t, "/home/user\n/home/user/proj\n/home/user\n", stdout(exec))
	assert.Equal(t, "True", exec.Text())

	// %env lists (secrets hidden), gets and sets.
	exec = run(t, sb, "%env", wasmbox.InContext(c), wasmbox.WithEnvs(map[string]string{"API_TOKEN": "s3cr3t"}))
	noError(t, exec)
	assert.Contains(t, exec.Text(), "'API_TOKEN': '<hidden>'")
	assert.Contains(t, exec.Text(), "'HOME': '/home/user'")
	assert.NotContains(t, exec.Text(), "s3cr3t")
	exec = runIn(t, sb, c, "%env MODE=fast\nmode = %env MODE\nmode == os.environ['MODE'] == 'fast'")
	noError(t, exec)
	assert.Equal(t, "env: MODE=fast\n", stdout(exec))
	assert.Equal(t, "True", exec.Text())
	exec = runIn(t, sb, c, "%env NOPE")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "UsageError", exec.Error.Name)
	assert.Equal(t, "Environment does not have key: NOPE", exec.Error.Value)

	// %who lists the user's variables, %who TYPE filters, %who_ls returns them.
	exec = runIn(t, sb, c, "%who int")
	noError(t, exec)
	assert.Equal(t, "No variables match your requested type.\n", stdout(exec))
	exec = runIn(t, sb, c, "alpha = 1\nbeta = 'b'\n_hidden = 3\n%who str\n%who\nnames = %who_ls int\nnames")
	noError(t, exec)
	assert.Equal(t, "beta\t here\t mode\t sub\t \nalpha\t beta\t here\t mode\t os\t sub\t \n", stdout(exec))
	assert.Equal(t, "['alpha']", exec.Text())
}

func TestIPythonMagicsInsideCells(t *testing.T) {
	sb, c := pyContext(t)
	// In the middle of a cell, indented in a block, after an assignment, and
	// continued with a backslash: later lines keep their numbers.
	exec := runIn(t, sb, c, "x = 1\n%time y = 2\nprint(y)\nfor i in range(2):\n    %time z = i\nw = %time 40 + \\\n  2\nw\n")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text())
	out := stdout(exec)
	assert.Equal(t, 4, strings.Count(out, "CPU times: user "), out)
	assert.Contains(t, out, "\n2\n")
	exec = runIn(t, sb, c, "%time a = 1 + \\\n  1\nb = a\nb / 0")
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Traceback, "line 4, in <module>\n    b / 0")

	// What looks like a magic inside a string, a comment or brackets is not one.
	exec = runIn(t, sb, c, "s = '''\n%pwd\n!ls\n'''\n# %pwd\nt = (7\n% 4)\ns == '\\n%pwd\\n!ls\\n' and t == 3")
	noError(t, exec)
	assert.Equal(t, "True", exec.Text())
	exec = runIn(t, sb, c, "n = 10\nn %= 3\nm = 7 % 4\nn != m, n")
	noError(t, exec)
	assert.Equal(t, "(True, 1)", exec.Text())

	// Windows line ends, and a character Python's str.splitlines() (but not
	// the tokenizer) takes for a line end: lines are still found.
	exec = runIn(t, sb, c, "a = '\u2028'\r\n%time b = len(a)\r\nb")
	noError(t, exec)
	assert.Equal(t, "1", exec.Text())

	// A magic in a function runs when it is called, in its scope.
	exec = runIn(t, sb, c, "def f(v):\n    %time r = v * 2\n    return get_ipython().run_line_magic('time', 'v + 1')\nf(1)")
	noError(t, exec)
	assert.Equal(t, "2", exec.Text())

	// An error in magic code is at the magic's line and column.
	exec = runIn(t, sb, c, "x = 1\n%time y = x / 0")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "  File \"<cell-7>\", line 2, in <module>\n    %time y = x / 0\n              ~~^~~\n")
	exec = runIn(t, sb, c, "\n%time y = (")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "  File \"<cell-8>\", line 2\n    %time y = (\n              ^\n")
}

func TestIPythonUnknownMagics(t *testing.T) {
	sb, c := pyContext(t)
	for code, value := range map[string]string{
		"%foo":             "Line magic function `%foo` not found.",
		"x = 1\n%foo bar":  "Line magic function `%foo` not found.",
		"y = %foo":         "Line magic function `%foo` not found.",
		"%writefile f.txt": "Line magic function `%writefile` not found (But cell magic `%%writefile` exists, did you mean that instead?).",
		"%%foo\nbody":      "Cell magic `%%foo` not found.",
		"%%pwd\nbody":      "Cell magic `%%pwd` not found (But line magic `%pwd` exists, did you mean that instead?).",
		"%%time":           "%%time is a cell magic, but the cell body is empty. Did you mean the line magic %time (single %)?",
		"x = 1\n%%time\nx": "Line magic function `%%time` not found.",
	} {
		exec := runIn(t, sb, c, code)
		require.NotNil(t, exec.Error, code)
		assert.Equal(t, "UsageError", exec.Error.Name, code)
		assert.Equal(t, value, exec.Error.Value, code)
		assert.Equal(t, "UsageError: "+value+"\n", exec.Error.Traceback, code)
	}
}

func TestIPythonTime(t *testing.T) {
	sb, c := pyContext(t)
	timeLines := regexp.MustCompile(`^CPU times: user [0-9.]+ (ns|μs|ms|s), sys: 0 ns, total: [0-9.]+ (ns|μs|ms|s)\nWall time: [0-9.]+ (ns|μs|ms|s)\n$`)
	exec := runIn(t, sb, c, "%time sum(range(1000))")
	noError(t, exec)
	assert.Equal(t, "499500", exec.Text())
	assert.Regexp(t, timeLines, stdout(exec))

	exec = runIn(t, sb, c, "%time sum(range(10));")
	noError(t, exec)
	assert.Empty(t, exec.Results, "a trailing ; silences %time's value")

	exec = runIn(t, sb, c, "%%time\nimport asyncio\nawait asyncio.sleep(0.05)\ntotal = 6 * 7\ntotal")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text())
	assert.Regexp(t, timeLines, stdout(exec))
	assert.Regexp(t, `Wall time: [0-9.]+ ms`, stdout(exec))

	exec = runIn(t, sb, c, "%%time\nprint('in')\n1 / 0")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "File \"<cell-4>\", line 3, in <module>\n    1 / 0")
	assert.True(t, strings.HasPrefix(stdout(exec), "in\nCPU times: user "), "times are printed when the cell fails too")
}

func TestIPythonTimeit(t *testing.T) {
	sb, c := pyContext(t)
	// IPython's format; the loop count a power of ten that makes a run last
	// at least 0.2 s; 7 runs, fewer when they would measure beyond about 10 s
	// (a run can last up to 2 s: on a busy machine the bound is reached).
	auto := regexp.MustCompile(`^(The slowest run took [0-9.]+ times longer than the fastest\. This could mean that an intermediate result is being cached\.\n)?[0-9.]+ (ns|μs|ms) ± [0-9.]+ (ns|μs|ms) per loop \(mean ± std\. dev\. of [1-7] runs?, (10|100|1,000|10,000|100,000|1,000,000|10,000,000) loops each\)\n$`)
	exec := runIn(t, sb, c, "data = list(range(100))\n%timeit sum(data)")
	noError(t, exec)
	assert.Regexp(t, auto, stdout(exec))
	assert.Empty(t, exec.Results)

	exec = runIn(t, sb, c, "%timeit -n 3 -r 2 sum(data)")
	noError(t, exec)
	assert.Regexp(t, `per loop \(mean ± std\. dev\. of 2 runs, 3 loops each\)\n$`, stdout(exec))

	exec = runIn(t, sb, c, "r = %timeit -o -q -n1 -r4 sum(data)\n(r.loops, r.repeat, len(r.all_runs), r.best <= r.average <= r.worst)")
	noError(t, exec)
	assert.Empty(t, stdout(exec))
	assert.Equal(t, "(1, 4, 4, True)", exec.Text())

	exec = runIn(t, sb, c, "%%timeit -n2 -r2 acc = []\nacc.append(1)")
	noError(t, exec)
	assert.Regexp(t, `of 2 runs, 2 loops each\)\n$`, stdout(exec))

	// A slow statement gets fewer runs rather than outliving the cell's
	// timeout: the measuring budget (10 s) is lowered here to keep it short.
	// A run of 0.4 to 0.5 s fits twice in 1 s (7 runs without the bound).
	exec = runIn(t, sb, c, "import wasmbox_prelude, time\nwasmbox_prelude._TIMEIT_BUDGET = 1.0\n%timeit time.sleep(0.4)")
	noError(t, exec)
	assert.Regexp(t, `^4\d\d ms ± [0-9.]+ (ns|μs|ms) per loop \(mean ± std\. dev\. of 2 runs, 1 loop each\)\n$`, stdout(exec))
	start := time.Now()
	exec = runIn(t, sb, c, "%timeit time.sleep(1.1)")
	noError(t, exec)
	assert.Regexp(t, `of 1 run, 1 loop each\)\n$`, stdout(exec))
	assert.Less(t, time.Since(start), 2*time.Second, "the calibration run is the measurement")
}

func TestIPythonCellMagics(t *testing.T) {
	ctx := context.Background()
	sb, c := pyContext(t)
	exec := runIn(t, sb, c, "%%writefile notes.txt\nfirst line\n  {not expanded}\n")
	noError(t, exec)
	assert.Equal(t, "Writing notes.txt\n", stdout(exec))
	exec = runIn(t, sb, c, "name = 'notes'\n%%writefile -a {name}.txt\nsecond\n")
	require.NotNil(t, exec.Error, "%%%% must start the cell")
	exec = runIn(t, sb, c, "\n%%writefile -a {name}.txt\nsecond")
	noError(t, exec)
	assert.Equal(t, "Appending to notes.txt\n", stdout(exec))
	data, err := sb.Files().Read(ctx, "/home/user/notes.txt")
	require.NoError(t, err)
	assert.Equal(t, "first line\n  {not expanded}\nsecond\n", string(data))
	exec = runIn(t, sb, c, "%%writefile notes.txt\nnew")
	noError(t, exec)
	assert.Equal(t, "Overwriting notes.txt\n", stdout(exec))

	// %%capture keeps stdout, stderr and displays, in a variable if named.
	exec = runIn(t, sb, c, "%%capture cap\nimport sys\nfrom IPython.display import HTML\nprint('out')\nprint('err', file=sys.stderr)\ndisplay(HTML('<b>x</b>'))\n41 + 1")
	noError(t, exec)
	assert.Empty(t, exec.Results)
	assert.Empty(t, exec.Logs.Stdout)
	assert.Empty(t, exec.Logs.Stderr)
	exec = runIn(t, sb, c, "(cap.stdout, cap.stderr, [o.data['text/plain'] for o in cap.outputs])")
	noError(t, exec)
	assert.Equal(t, `('out\n', 'err\n', ['<IPython.core.display.HTML object>', '42'])`, exec.Text())
	exec = runIn(t, sb, c, "cap.show()")
	noError(t, exec)
	assert.Equal(t, "out\n", stdout(exec))
	assert.Equal(t, "err\n", stderr(exec))
	require.Len(t, exec.Results, 2)
	assert.Equal(t, "<b>x</b>", exec.Results[0].HTML)
	exec = runIn(t, sb, c, "%%capture --no-stderr\nimport sys\nprint('gone')\nprint('kept', file=sys.stderr)")
	noError(t, exec)
	assert.Empty(t, exec.Logs.Stdout)
	assert.Equal(t, []string{"kept\n"}, exec.Logs.Stderr)
	exec = runIn(t, sb, c, "%%capture failed\nprint('before')\n1 / 0")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.Equal(t, "True", runIn(t, sb, c, "failed.stdout == 'before\\n'").Text())

	// Display magics.
	exec = runIn(t, sb, c, "%%html\n<i>hi</i>")
	noError(t, exec)
	require.Len(t, exec.Results, 1)
	assert.Equal(t, "<i>hi</i>\n", exec.Results[0].HTML)
	exec = runIn(t, sb, c, "%%markdown\n# title")
	noError(t, exec)
	require.Len(t, exec.Results, 1)
	assert.Equal(t, "# title\n", exec.Results[0].Markdown)
}

func TestIPythonCommands(t *testing.T) {
	sb, c := pyContext(t)
	ctx := context.Background()
	_, err := sb.Files().WriteBytes(ctx, "/home/user/d/a.txt", []byte("alpha\nbeta\n"))
	require.NoError(t, err)
	for _, tc := range []struct{ code, stdout, stderr, text string }{
		{code: "!ls d; cat d/a.txt | wc -l", stdout: "a.txt\n2\n"},
		{code: "x = 'd'\n!ls $x {x.upper()}_none", stdout: "d:\na.txt\n", stderr: "ls: cannot access 'D_none': No such file or directory\n"},
		{code: "files = !ls d\nfiles, files.s, files.n, _exit_code", text: "(['a.txt'], 'a.txt', 'a.txt', 0)"},
		{code: "lines = !cat d/a.txt; nosuch\nlines", text: "['alpha', 'beta', 'nosuch: command not found']"},
		{code: "x = 1\n!!pwd", text: "['/home/user']"},
		{code: "!exit 3\n_exit_code", text: "3"},
		{code: "%system echo sys", stdout: "sys\n"},
		{code: "%sx echo sx", text: "['sx']"},
		{code: "%%bash\necho \"$HOME\"\nfor i in 1 2; do echo $i; done", stdout: "/home/user\n1\n2\n"},
		{code: "%%sh\necho sh >&2", stderr: "sh\n"},
		{code: "%%script python3\nimport sys\nprint(sys.version_info[0])", stdout: "3\n"},
		{code: "%%!\nls d", text: "['a.txt']"},
		{code: "get_ipython().system('echo direct')", stdout: "direct\n"},
		{code: "if True:\n    !echo indented", stdout: "indented\n"},
		{code: "import os\nos.environ['FROM_CELL'] = 'yes'\n!echo $FROM_CELL", stdout: "yes\n"},
		{code: "%cd d\n!pwd\n%cd /home/user", stdout: "/home/user/d\n/home/user/d\n/home/user\n"},
		{code: "!python -c 'print(6*7)' | wc -l", stdout: "1\n"},
	} {
		exec := runIn(t, sb, c, tc.code)
		noError(t, exec)
		assert.Equal(t, tc.stdout, stdout(exec), tc.code)
		assert.Equal(t, tc.stderr, stderr(exec), tc.code)
		assert.Equal(t, tc.text, exec.Text(), tc.code)
	}
	// The files a command writes are the cell's.
	exec := runIn(t, sb, c, "!echo made > made.txt\nopen('made.txt').read()")
	noError(t, exec)
	assert.Equal(t, "made\\n", exec.Text())

	exec = runIn(t, sb, c, "%%bash\necho before\nexit 3")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "CalledProcessError", exec.Error.Name)
	assert.Equal(t, "before\n", stdout(exec))

	// A command's output streams while it runs.
	var lines []string
	var times []time.Time
	exec, err = sb.RunCode(ctx, "!for i in 1 2 3; do echo $i; sleep 0.1; done", wasmbox.InContext(c),
		wasmbox.OnStdout(func(m result.OutputMessage) { lines = append(lines, m.Line); times = append(times, time.Now()) }))
	require.NoError(t, err)
	noError(t, exec)
	assert.Equal(t, []string{"1\n", "2\n", "3\n"}, lines)
	require.Len(t, times, 3)
	assert.Greater(t, times[2].Sub(times[0]), 150*time.Millisecond)

	// The cell's timeout stops the command, and the cell goes on.
	start := time.Now()
	exec, err = sb.RunCode(ctx, "!sleep 100", wasmbox.InContext(c), wasmbox.WithTimeout(300*time.Millisecond))
	require.NoError(t, err)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TimeoutError", exec.Error.Name)
	assert.Less(t, time.Since(start), 5*time.Second)
	exec = runIn(t, sb, c, "files")
	noError(t, exec)
	assert.Equal(t, "['a.txt']", exec.Text(), "the context kept its state")

	// Restarting the context stops a cell waiting for its command.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = sb.RunCode(ctx, "!sleep 100", wasmbox.InContext(c))
	}()
	require.Eventually(t, func() bool {
		l, err := sb.Commands().List(ctx)
		return err == nil && len(l) == 1
	}, 10*time.Second, 10*time.Millisecond)
	start = time.Now()
	require.NoError(t, sb.RestartCodeContext(ctx, c))
	assert.Less(t, time.Since(start), 5*time.Second)
	<-done
}

func TestIPythonPip(t *testing.T) {
	ctx := context.Background()
	sb, c := pyContext(t)
	exec := runIn(t, sb, c, "%pip install requests")
	noError(t, exec)
	assert.Empty(t, exec.Logs.Stdout)
	assert.Contains(t, stderr(exec), "ERROR: wasmbox cannot install requests: the sandbox has no network")

	// What the sandbox has counts as installed: a package with metadata in
	// site-packages (as one copied there would be).
	site := "/usr/local/lib/python3.13/site-packages/"
	_, err := sb.Files().WriteBytes(ctx, site+"demo_pkg-1.2.dist-info/METADATA", []byte("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2\n"))
	require.NoError(t, err)
	_, err = sb.Files().WriteBytes(ctx, site+"demo_pkg/__init__.py", []byte("VALUE = 1\n"))
	require.NoError(t, err)
	_, err = sb.Files().WriteBytes(ctx, site+"nometa/__init__.py", []byte("__version__ = '0.3'\n"))
	require.NoError(t, err)
	exec = runIn(t, sb, c, "%pip install -q demo_pkg>=1 nometa -U")
	noError(t, exec)
	assert.Equal(t, "Requirement already satisfied: demo_pkg>=1 in /usr/local/lib/python3.13/site-packages (1.2)\n"+
		"Requirement already satisfied: nometa in /usr/local/lib/python3.13/site-packages (0.3)\n", stdout(exec))
	assert.Empty(t, exec.Logs.Stderr)
	exec = runIn(t, sb, c, "%pip install demo-pkg==2.0")
	noError(t, exec)
	assert.Contains(t, stderr(exec), "cannot install demo-pkg==2.0: the sandbox has no network")
	exec = runIn(t, sb, c, "%pip list")
	noError(t, exec)
	assert.Equal(t, "Package  Version\n-------- -------\ndemo-pkg 1.2\nnometa   0.3\n", stdout(exec))
	exec = runIn(t, sb, c, "%pip show demo-pkg missing")
	noError(t, exec)
	assert.Equal(t, "Name: demo-pkg\nVersion: 1.2\nLocation: /usr/local/lib/python3.13/site-packages\n", stdout(exec))
	assert.Equal(t, "WARNING: Package(s) not found: missing\n", stderr(exec))
	exec = runIn(t, sb, c, "%pip freeze")
	noError(t, exec)
	assert.Equal(t, "demo-pkg==1.2\nnometa==0.3\n", stdout(exec))
	exec = runIn(t, sb, c, "%pip download demo-pkg")
	noError(t, exec)
	assert.Contains(t, stderr(exec), "`pip download` is not available")
	_, err = sb.Files().WriteBytes(ctx, "/home/user/requirements.txt", []byte("# deps\nnometa\nflask==3.0  # web\n"))
	require.NoError(t, err)
	exec = runIn(t, sb, c, "%pip install -r requirements.txt")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "Requirement already satisfied: nometa")
	assert.Contains(t, stderr(exec), "cannot install flask==3.0:")

	// A wheel installs through the sandbox's pip, and imports at once.
	_, err = sb.Files().WriteBytes(ctx, "/home/user/w/cellpkg-1.0-py3-none-any.whl", wheel(t, "cellpkg", "1.0", "VALUE = 'from a wheel'\n"))
	require.NoError(t, err)
	exec = runIn(t, sb, c, "try:\n    import cellpkg\nexcept ImportError:\n    pass\n%pip install w/cellpkg-1.0-py3-none-any.whl\nimport cellpkg\ncellpkg.VALUE")
	noError(t, exec)
	assert.Equal(t, "from a wheel", exec.Text())
	assert.Contains(t, stdout(exec), "Successfully installed cellpkg-1.0")
	exec = runIn(t, sb, c, "%pip uninstall -y cellpkg")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "Successfully uninstalled cellpkg-1.0")
}

func TestPythonHelp(t *testing.T) {
	sb, c := pyContext(t)
	exec := runIn(t, sb, c, "help(len)")
	noError(t, exec)
	assert.Empty(t, exec.Results)
	assert.Equal(t, "Help on built-in function len in module builtins:\n\nlen(obj, /)\n    Return the number of items in a container.\n\n", stdout(exec))
	exec = runIn(t, sb, c, "import json\nhelp(json.dumps)\nhelp('json.loads')")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "Help on function dumps in module json:")
	assert.Contains(t, stdout(exec), "Help on function loads in json:")
	assert.NotContains(t, stdout(exec), "\b", "no overstrike bold: plain text")
	exec = runIn(t, sb, c, "class Point:\n    'A point in the plane.'\nhelp(Point)\nhelp")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "A point in the plane.")
	assert.Equal(t, "Type help() for interactive help, or help(object) for help about object.", exec.Text())
	exec = runIn(t, sb, c, "help()")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "Welcome to Python 3.13's help utility!")
	assert.Contains(t, stdout(exec), "use help(object)")
	exec = runIn(t, sb, c, "import sys\n'_pyrepl' in sys.modules, 'pydoc' in sys.modules")
	assert.Equal(t, "(False, True)", exec.Text(), "pydoc's stand-in pager does not stay importable")
}

func TestIPythonGetIPython(t *testing.T) {
	sb, c := pyContext(t)
	// The builtin is the shell; IPython.get_ipython(), which libraries call
	// to detect a notebook front end, answers as outside IPython.
	exec := runIn(t, sb, c, "ip = get_ipython()\nimport IPython\n"+
		"IPython.get_ipython() is None, ip.user_ns is globals(), ip.run_line_magic('pwd', '') == '/home/user'")
	noError(t, exec)
	assert.Equal(t, "(True, True, True)", exec.Text())

	// events: pre_execute and post_execute callbacks run around every cell.
	exec = runIn(t, sb, c, "seen = []\nip.events.register('post_execute', lambda: seen.append('post'))\n"+
		"ip.events.register('pre_execute', lambda: seen.append('pre'))")
	noError(t, exec)
	exec = runIn(t, sb, c, "seen.append('cell')\nlen(seen)")
	noError(t, exec)
	assert.Equal(t, "3", exec.Text())
	assert.Equal(t, "['post', 'pre', 'cell', 'post']", runIn(t, sb, c, "seen[:4]").Text())

	// A magic of one's own.
	exec = runIn(t, sb, c, "def shout(line):\n    return line.upper()\nip.register_magic_function(shout)\n"+
		"def twice(line, cell):\n    return cell * 2\nip.register_magic_function(twice, 'cell')\nloud = %shout hey")
	noError(t, exec)
	assert.Equal(t, "True", runIn(t, sb, c, "loud == 'HEY'").Text())
	exec = runIn(t, sb, c, "%%twice\nab")
	noError(t, exec)
	assert.Equal(t, "True", runIn(t, sb, c, "_ == 'ab\\nab\\n'").Text())
	exec = runIn(t, sb, c, "%lsmagic")
	noError(t, exec)
	assert.Contains(t, stdout(exec), "%shout")
	assert.Contains(t, stdout(exec), "%%twice")
	assert.Contains(t, stdout(exec), "%%writefile")
	exec = runIn(t, sb, c, "%matplotlib inline")
	noError(t, exec)
	assert.Empty(t, exec.Logs.Stdout)
	assert.Empty(t, exec.Logs.Stderr)
}
