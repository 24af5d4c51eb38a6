package hostile_test

// The hostile cells. Each group runs in one child process (harness_test.go)
// with the sandbox set up as the suite's constants say: a 1 s timeout per
// cell, a stop grace of 0.5 s, a 64 MiB / 2,000-entry filesystem quota and
// the default 512 MiB memory limit per context. Every cell, whatever its
// `want`, must return within the deadline, keep the heartbeat alive, leave
// its context able to run 1+1, and leave the bystander contexts and the
// filesystem as they were.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

const (
	py = "python"
	js = "javascript"
)

var groups = []group{
	{"py-loops", pyLoops},
	{"py-catch", pyCatch},
	{"py-output", pyOutput},
	{"py-recursion-memory", pyRecursionMemory},
	{"py-files", pyFiles},
	{"py-quota", pyQuota},
	{"py-events", pyEvents},
	{"py-environment", pyEnvironment},
	{"py-interpreter", pyInterpreter},
	{"js-loops", jsLoops},
	{"js-output-memory", jsOutputMemory},
	{"js-abuse", jsAbuse},
}

// ---- checks ------------------------------------------------------------------

// logsBounded: each stream kept at most the log limit (and the note).
func logsBounded(e *result.Execution) error {
	for name, lines := range map[string][]string{"stdout": e.Logs.Stdout, "stderr": e.Logs.Stderr} {
		n := 0
		for _, l := range lines {
			n += len(l)
		}
		if n > wasmbox.DefaultLogLimit+1024 {
			return fmt.Errorf("%s kept %d bytes, more than the %d-byte limit", name, n, wasmbox.DefaultLogLimit)
		}
	}
	return nil
}

// resultsBounded: the results kept fit in the result limit.
func resultsBounded(e *result.Execution) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e.Results); err != nil {
		return err
	}
	if b.Len() > wasmbox.DefaultResultLimit+1<<20 {
		return fmt.Errorf("%d results kept, %d bytes as JSON, more than the %d-byte limit", len(e.Results), b.Len(), wasmbox.DefaultResultLimit)
	}
	return logsBounded(e)
}

func textIs(want string) func(*result.Execution) error {
	return func(e *result.Execution) error {
		if e.Text() != want {
			return fmt.Errorf("main result %q, want %q", short(e.Text()), want)
		}
		return nil
	}
}

func stdoutHas(s string) func(*result.Execution) error {
	return func(e *result.Execution) error {
		if !strings.Contains(strings.Join(e.Logs.Stdout, ""), s) {
			return fmt.Errorf("stdout %q does not contain %q", short(strings.Join(e.Logs.Stdout, "")), s)
		}
		return nil
	}
}

func valueHas(s string) func(*result.Execution) error {
	return func(e *result.Execution) error {
		if e.Error == nil || !strings.Contains(e.Error.Value, s) {
			return fmt.Errorf("error %v does not mention %q", e.Error, s)
		}
		return nil
	}
}

func all(checks ...func(*result.Execution) error) func(*result.Execution) error {
	return func(e *result.Execution) error {
		for _, c := range checks {
			if err := c(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// countNot: the execution count is not what the cell tried to forge.
func countNot(n int) func(*result.Execution) error {
	return func(e *result.Execution) error {
		if e.ExecutionCount == n {
			return fmt.Errorf("execution_count is the forged %d", n)
		}
		return nil
	}
}

// errorCapped: an error's value and traceback were capped (1 MiB each).
func errorCapped(e *result.Execution) error {
	if e.Error != nil && len(e.Error.Value)+len(e.Error.Traceback) > 2<<20+256 {
		return fmt.Errorf("error of %d bytes kept", len(e.Error.Value)+len(e.Error.Traceback))
	}
	return nil
}

// onlyNames: the main result is a Python list (or a JS array) of strings, all
// among allowed.
func onlyNames(allowed ...string) func(*result.Execution) error {
	return func(e *result.Execution) error {
		text := strings.NewReplacer("'", `"`, "[ ", "[", " ]", "]").Replace(e.Text())
		var got []string
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			return fmt.Errorf("main result %q: %v", short(e.Text()), err)
		}
		for _, g := range got {
			if !slices.Contains(allowed, g) {
				return fmt.Errorf("%q is not among %v", g, allowed)
			}
		}
		return nil
	}
}

// ---- Python ------------------------------------------------------------------

var pyLoops = []cell{
	{name: "while_true", lang: py, code: "while True: pass", want: errIs("TimeoutError")},
	{name: "itertools_count", lang: py, code: "import itertools\nfor i in itertools.count(): pass", want: errIs("TimeoutError")},
	{name: "sum_range", lang: py, code: "sum(range(10**12))", want: stopped},
	{name: "catastrophic_regex", lang: py, code: "import re\nre.match(r'(a+)+$', 'a'*64+'b')", want: stopped},
	{name: "huge_power", lang: py, code: "10**10**8", want: stopped},
	{name: "int_to_str", lang: py, code: "import sys\nsys.set_int_max_str_digits(0)\nx = 7**(10**7)\nlen(str(x))", want: stopped},
	{name: "factorial", lang: py, code: "import math\nmath.factorial(10**7).bit_length()", want: stopped},
	{name: "sorted_4M_hashes", lang: py, code: "sorted(hash(str(i)) for i in range(4_000_000))[:1]", want: stopped},
	{name: "sha256_400MiB", lang: py, code: "import hashlib\nhashlib.sha256(b'x' * (400 << 20)).hexdigest()", want: anything},
	{name: "sha256_loop", lang: py, code: "import hashlib\nb = b'x' * (100 << 20)\nwhile True: hashlib.sha256(b)", want: stopped},
	{name: "bytes_find_loop", lang: py, code: "b = b'a' * (200 << 20)\nwhile True: b.find(b'ab')", want: stopped},
	{name: "list_alloc_loop", lang: py, code: "while True: x = [0] * 50_000_000", want: stopped},
	{name: "json_loop", lang: py, code: "import json\nl = list(range(10**6))\nwhile True: json.loads(json.dumps(l))", want: stopped},
	{name: "decimal_sqrt", lang: py, code: "import decimal\ndecimal.getcontext().prec = 10**7\ndecimal.Decimal(2).sqrt()", want: anything},
	{name: "sleep", lang: py, code: "import time\ntime.sleep(100)", want: errIs("TimeoutError")},
	{name: "asyncio_sleep", lang: py, code: "import asyncio\nawait asyncio.sleep(100)", want: stopped},
	{name: "exponential_recursion", lang: py, code: "def f():\n    try:\n        f()\n    except BaseException:\n        f()\nf()", want: stopped},
	{name: "str_replace_growth", lang: py, code: "s = 'a'\nwhile True: s = s.replace('a', 'aa')", want: errIs("TimeoutError", "MemoryError", wasmbox.ErrorContextRestarted)},
}

var pyCatch = []cell{
	{name: "catch_timeout_loop", lang: py, code: "while True:\n    try:\n        while True: pass\n    except TimeoutError:\n        pass", want: hardStopped,
		check: valueHas("TimeoutError")},
	{name: "catch_interrupts_sleep", lang: py, code: "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except (KeyboardInterrupt, TimeoutError):\n        pass", want: hardStopped},
	// A timeout is a TimeoutError, which these do not catch.
	{name: "catch_keyboardinterrupt_only", lang: py, code: "while True:\n    try:\n        while True: pass\n    except KeyboardInterrupt:\n        pass", want: errIs("TimeoutError")},
	{name: "catch_base_exception", lang: py, code: "while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass", want: hardStopped},
	{name: "bare_except_c_loop", lang: py, code: "while True:\n    try:\n        sum(range(10**12))\n    except:\n        pass", want: hardStopped},
	{name: "finally_continue", lang: py, code: "while True:\n    try:\n        while True: pass\n    finally:\n        continue", want: hardStopped},
	{name: "except_star", lang: py, code: "while True:\n    try:\n        while True: pass\n    except* BaseException:\n        pass", want: hardStopped},
	{name: "suppress", lang: py, code: "import contextlib\nwhile True:\n    with contextlib.suppress(BaseException):\n        while True: pass", want: hardStopped},
	{name: "del_loops", lang: py, code: "class A:\n    def __del__(self):\n        while True: pass\nwhile True: A()", want: hardStopped},
	{name: "generator_finally", lang: py, code: "def g():\n    while True:\n        try:\n            yield\n        except BaseException:\n            pass\nfor _ in g():\n    while True: pass", want: stopped},
	{name: "catch_in_except_handler", lang: py, code: "while True:\n    try:\n        while True: pass\n    except BaseException:\n        try:\n            while True: pass\n        except BaseException:\n            pass", want: hardStopped},
	{name: "catch_systemexit_loop", lang: py, code: "import sys\nwhile True:\n    try:\n        sys.exit(1)\n    except SystemExit:\n        pass", want: errIs("TimeoutError")},
}

var pyOutput = []cell{
	{name: "print_loop", lang: py, code: "while True: print('x' * 100)", want: stopped, check: logsBounded},
	{name: "stderr_loop", lang: py, code: "import sys\nwhile True: sys.stderr.write('e' * 1000 + '\\n')", want: stopped, check: logsBounded},
	{name: "huge_line", lang: py, code: "print('x' * (50 << 20))", want: orStopped, check: logsBounded},
	{name: "no_newline_flood", lang: py, code: "import sys\nwhile True: sys.stdout.write('y' * 65536)", want: stopped, check: logsBounded},
	{name: "os_write_flood", lang: py, code: "import os\nwhile True: os.write(1, b'z' * (1 << 20))", want: stopped, check: logsBounded},
	{name: "tiny_flushes", lang: py, code: "while True: print('a', end='', flush=True)", want: stopped, check: logsBounded},
	{name: "newline_storm", lang: py, code: "print('\\n' * 10**7)", want: orTimeout, check: logsBounded},
	{name: "display_flood", lang: py, code: "while True: display({'a': 'x' * 10000})", want: stopped, check: resultsBounded},
	{name: "display_many_small", lang: py, code: "for i in range(10**6): display(i)", want: anything, check: resultsBounded},
	{name: "huge_main_result", lang: py, code: "'x' * (40 << 20)", want: orStopped, check: resultsBounded},
	{name: "huge_repr_html", lang: py, code: "class H:\n    def _repr_html_(self): return '<b>' * (12 << 20)\n    def __repr__(self): return 'y' * (12 << 20)\nH()", want: orStopped, check: resultsBounded},
	{name: "huge_exception_message", lang: py, code: "raise ValueError('v' * (50 << 20))", want: errIs("ValueError"), check: errorCapped},
	{name: "huge_traceback", lang: py, code: "exec('\\n' * 100000 + 'def f(n): return f(n + 1)\\n')\nf(0)", want: errIs("RecursionError"), check: errorCapped},
	{name: "binary_stdout", lang: py, code: "import os\nfor _ in range(200): os.write(1, bytes(range(256)) * 64)", want: noError, check: logsBounded},
	{name: "invalid_surrogates", lang: py, code: "print('\\udcff' * 1000)\n'\\ud800'", want: anything, check: logsBounded},
}

var pyRecursionMemory = []cell{
	{name: "deep_recursion", lang: py, code: "def f(n): return f(n + 1)\nf(0)", want: errIs("RecursionError")},
	{name: "recursionlimit_1e6", lang: py, code: "import sys\nsys.setrecursionlimit(10**6)\ndef f(n): return f(n + 1)\nf(0)", want: errIs("RecursionError", "MemoryError", "TimeoutError", wasmbox.ErrorContextRestarted)},
	{name: "recursionlimit_c_repr", lang: py, code: "import sys\nsys.setrecursionlimit(10**6)\nl = []\nfor _ in range(10**6): l = [l]\nrepr(l)", want: anyError},
	{name: "repr_nested", lang: py, code: "l = []\nfor _ in range(10**5): l = [l]\nrepr(l)", want: errIs("RecursionError")},
	{name: "json_nested", lang: py, code: "import json\nd = {}\nfor _ in range(10**5): d = {'a': d}\njson.dumps(d)", want: errIs("RecursionError")},
	{name: "nested_main_result", lang: py, code: "l = []\nfor _ in range(10**5): l = [l]\nl", want: anything},
	{name: "eval_parens", lang: py, code: "eval('(' * 10**6 + ')' * 10**6)", want: anyError},
	{name: "deepcopy_nested", lang: py, code: "import copy\nl = []\nfor _ in range(10**5): l = [l]\ncopy.deepcopy(l)", want: anyError},
	{name: "getattr_recursion", lang: py, code: "class A:\n    def __getattr__(self, n): return getattr(self, n)\nA().x", want: errIs("RecursionError")},
	{name: "repr_recursion", lang: py, code: "class A:\n    def __repr__(self): return repr(self)\nA()", want: anything},
	{name: "fill_memory", lang: py, code: "l = []\nwhile True: l.append(bytearray(1 << 20))", want: errIs("MemoryError")},
	{name: "bytearray_2GiB", lang: py, code: "bytearray(2**31)", want: errIs("MemoryError", "OverflowError")},
	{name: "space_2_40", lang: py, code: "' ' * 2**40", want: errIs("MemoryError", "OverflowError")},
	{name: "list_2_40", lang: py, code: "[0] * 2**40", want: errIs("MemoryError", "OverflowError")},
	{name: "small_objects", lang: py, code: "l = []\nwhile True: l.append(object())", want: errIs("MemoryError", "TimeoutError", wasmbox.ErrorContextRestarted)},
	{name: "dict_fill", lang: py, code: "d = {}\ni = 0\nwhile True:\n    d[i] = str(i) * 10\n    i += 1", want: errIs("MemoryError", "TimeoutError", wasmbox.ErrorContextRestarted)},
	// Filling 512 MiB takes 0.8 s on an idle machine: more than a second
	// when the suite shares the cores with other packages' tests.
	{name: "memory_full_of_small_objects", lang: py, code: "l = []\ntry:\n    while True: l.append(bytearray(1 << 20))\nexcept MemoryError:\n    pass\nwhile True: l.append([0] * 8)", want: errIs("MemoryError"), timeout: 3 * time.Second},
	{name: "memory_error_then_work", lang: py, code: "try:\n    x = bytearray(2**30)\nexcept MemoryError:\n    pass\nx = [bytearray(1 << 20) for _ in range(100)]\n'ok'", want: noError, check: textIs("ok")},
	{name: "string_doubling", lang: py, code: "s = 'x'\nwhile True: s += s", want: errIs("MemoryError", "OverflowError")},
	{name: "mmap", lang: py, code: "import mmap\nmmap.mmap(-1, 2**31)", want: anyError},
}

var pyFiles = []cell{
	{name: "open_thousands", lang: py, code: "fs = [open(f'/tmp/f{i}', 'w') for i in range(5000)]\nlen(fs)", want: anything},
	{name: "close_std_fds", lang: py, code: "import os\nfor fd in (0, 1, 2): os.close(fd)\nprint('still here')", want: noError, check: stdoutHas("still here")},
	{name: "close_every_fd", lang: py, code: "import os\nfor fd in range(100):\n    try: os.close(fd)\n    except OSError: pass\nprint('after')", want: anything},
	{name: "dup2", lang: py, code: "import os\nfd = os.open('/tmp/x', os.O_WRONLY | os.O_CREAT)\nos.dup2(fd, 1)\nprint('where')", want: anything},
	{name: "write_closed_stdout", lang: py, code: "import sys\nsys.stdout.close()\nprint('x')", want: errIs("ValueError")},
	{name: "stdout_none", lang: py, code: "import sys\nsys.stdout = None\nsys.stderr = None\nprint('lost')\n1/0", want: anything},
	{name: "read_stdin", lang: py, code: "import os, sys\n(os.read(0, 10), sys.stdin.read())", want: anything},
	{name: "input", lang: py, code: "input('? ')", want: anyError},
	{name: "write_preopen_fd", lang: py, code: "import os\nos.write(3, b'x')", want: anyError},
	{name: "dotdot_root", lang: py, code: "open('/../../etc/passwd').read()", want: errIs("FileNotFoundError", "PermissionError")},
	{name: "relative_passwd", lang: py, code: "open('../../../../etc/passwd').read()", want: errIs("FileNotFoundError", "PermissionError")},
	{name: "proc_self", lang: py, code: "import os\nos.listdir('/proc/self')", want: errIs("FileNotFoundError")},
	{name: "listdir_root", lang: py, code: "import os\nsorted(os.listdir('/'))", want: noError, check: onlyNames("home", "tmp", "usr")},
	{name: "symlink", lang: py, code: "import os\nos.symlink('/etc/passwd', '/tmp/l')", want: errIs("PermissionError", "OSError")},
	{name: "hardlink", lang: py, code: "open('/tmp/a', 'w').close()\nimport os\nos.link('/tmp/a', '/tmp/b')", want: errIs("PermissionError", "OSError")},
	{name: "write_stdlib", lang: py, code: "import os\nos.open('/usr/lib/python313.zip', os.O_WRONLY)", want: errIs("OSError", "PermissionError")},
	{name: "remove_stdlib", lang: py, code: "import os\nos.remove('/usr/lib/python313.zip')", want: errIs("OSError", "PermissionError")},
	{name: "create_in_stdlib", lang: py, code: "import os\nos.chdir('/usr/lib')\nopen('evil.py', 'w')", want: anyError},
	{name: "rename_home", lang: py, code: "import os\nos.rename('/home/user', '/tmp/h')", want: anything},
	{name: "rmtree_root", lang: py, code: "import shutil\nopen('/home/user/x', 'w').close()\nshutil.rmtree('/')", want: anyError},
	{name: "huge_name", lang: py, code: "open('a' * 10000, 'w')", want: errIs("OSError")},
	{name: "deep_path", lang: py, code: "import os\np = '/tmp'\nwhile True:\n    p += '/' + 'd' * 200\n    os.mkdir(p)", want: errIs("OSError")},
	{name: "nul_in_path", lang: py, code: "open('a\\x00b', 'w')", want: errIs("ValueError")},
	{name: "non_utf8_name", lang: py, code: "import os\nos.close(os.open(b'\\xff\\xfe', os.O_CREAT | os.O_WRONLY))\nos.listdir(b'.')", want: anything},
	{name: "surrogate_name", lang: py, code: "open('\\udcff', 'w').close()\nimport os\nos.listdir('.')", want: anything},
	{name: "mkfifo", lang: py, code: "import os\nos.mkfifo('/tmp/p')", want: anyError},
	{name: "dev_files", lang: py, code: "open('/dev/zero', 'rb').read(10)", want: anyError},
}

var pyQuota = []cell{
	{name: "write_until_enospc", lang: py, code: "f = open('/tmp/big', 'wb')\nwhile True: f.write(b'x' * (1 << 20)); f.flush()", want: errIs("OSError"), check: valueHas("No space left")},
	{name: "files_until_edquot", lang: py, code: "i = 0\nwhile True:\n    open(f'/tmp/m{i}', 'w').close()\n    i += 1", want: errIs("OSError")},
	{name: "dirs_until_edquot", lang: py, code: "import os\ni = 0\nwhile True:\n    os.mkdir(f'/home/user/d{i}')\n    i += 1", want: errIs("OSError")},
	{name: "unlinked_tempfiles", lang: py, code: "import tempfile\nfs = []\nwhile True:\n    f = tempfile.TemporaryFile()\n    f.write(b'x' * (4 << 20)); f.flush()\n    fs.append(f)", want: errIs("OSError")},
	{name: "truncate_huge", lang: py, code: "f = open('/tmp/t', 'wb')\nf.truncate(2**40)", want: errIs("OSError")},
	{name: "sparse_seek_write", lang: py, code: "f = open('/tmp/s', 'wb')\nf.seek(2**40)\nf.write(b'x')\nf.flush()", want: errIs("OSError")},
	{name: "many_handles_append", lang: py, code: "fs = [open(f'/tmp/h{i}', 'ab') for i in range(64)]\nwhile True:\n    for f in fs: f.write(b'y' * 65536); f.flush()", want: errIs("OSError")},
	{name: "quota_then_catch_loop", lang: py, code: "while True:\n    try:\n        open('/tmp/q', 'ab').write(b'z' * (8 << 20))\n    except OSError:\n        pass", want: stopped},
}

var pyEvents = []cell{
	{name: "forge_count", lang: py, code: "import _wasmbox\n_wasmbox.emit(3, '{\"execution_count\": 999}')", want: noError, check: countNot(999)},
	{name: "bad_json_result", lang: py, code: "import _wasmbox\n_wasmbox.emit(1, 'not json')", want: anyError},
	{name: "bad_json_error", lang: py, code: "import _wasmbox\n_wasmbox.emit(2, 'not json')", want: anyError},
	{name: "bad_json_count", lang: py, code: "import _wasmbox\n_wasmbox.emit(3, '{')", want: anything},
	{name: "forged_error", lang: py, code: "import _wasmbox\n_wasmbox.emit(2, '{\"name\": \"Forged\", \"value\": \"v\", \"traceback\": \"\"}')\n'after'", want: anything},
	{name: "huge_error_event", lang: py, code: "import _wasmbox, json\n_wasmbox.emit(2, json.dumps({'name': 'E' * (8 << 20), 'value': 'v' * (60 << 20), 'traceback': 't' * (60 << 20)}))", want: anything, check: errorCapped},
	{name: "huge_probe_event", lang: py, code: "import _wasmbox\n_wasmbox.emit(100, '{\"open_fds\": [' + '1,' * (16 << 20) + '1]}')", want: anything},
	{name: "huge_result_event", lang: py, code: "import _wasmbox, json\n_wasmbox.emit(1, json.dumps({'is_main_result': True, 'data': {'text/plain': 'x' * (200 << 20)}}))", want: anything, check: resultsBounded},
	{name: "many_result_events", lang: py, code: "import _wasmbox\nfor i in range(10**6): _wasmbox.emit(1, '{\"is_main_result\": true, \"data\": {\"text/plain\": \"1\"}}')", want: anything, check: resultsBounded},
	{name: "many_unknown_events", lang: py, code: "import _wasmbox\nwhile True: _wasmbox.emit(7, 'x' * 4096)", want: stopped},
	{name: "odd_kinds", lang: py, code: "import _wasmbox\nfor k in (0, -1, 2**31 - 1, 4, 99, 101):\n    _wasmbox.emit(k, '{}')\n_wasmbox.emit(1, b'\\xff\\xfe')", want: anything},
	{name: "emit_too_big_kind", lang: py, code: "import _wasmbox\n_wasmbox.emit(2**40, '{}')", want: errIs("OverflowError")},
	// The timeout lands in the middle of importing packages: later cells
	// must still be able to import them.
	{name: "interrupted_import", lang: py, code: "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 0.97: pass\n" +
		"import asyncio, email.mime.multipart, http.client, xml.dom.minidom, decimal, fractions, statistics, unittest, argparse, logging.handlers",
		want: anything, followUp: "import asyncio, email.mime.multipart, http.client, xml.dom.minidom, unittest, argparse, logging.handlers\nasyncio.sleep.__name__", followUpText: "sleep"},
	// The same, deterministic: the interrupt lands once asyncio's first
	// submodules are loaded (an import hook raises it where a timeout could).
	{name: "interrupted_import_asyncio", lang: py, code: "import sys\nclass Hook:\n    def find_spec(self, name, path=None, target=None):\n" +
		"        if name == 'asyncio.tasks':\n            sys.meta_path.remove(self)\n            raise TimeoutError('execution timed out')\n" +
		"sys.meta_path.insert(0, Hook())\nimport asyncio",
		want: errIs("TimeoutError"), followUp: "await __import__('asyncio').sleep(0)\n'ok'", followUpText: "ok"},
	{name: "tamper_prelude_count", lang: py, code: "import wasmbox_prelude\nwasmbox_prelude._count = 998", want: noError, check: countNot(999), skipState: true},
	{name: "tamper_prelude_emit", lang: py, code: "import sys\nsys.modules['wasmbox_prelude']._emit = lambda *a: None", want: anything,
		known: "prelude: the prelude's module globals are reachable, so a cell can switch off its results for good"},
}

var pyEnvironment = []cell{
	{name: "environ", lang: py, code: "import os\nsorted(os.environ)", want: noError, check: onlyNames("HOME", "USER", "LANG", "PATH", "PWD")},
	{name: "getpid", lang: py, code: "import os\n(os.getpid(), os.getuid() if hasattr(os, 'getuid') else None)", want: anything},
	{name: "socket_connect", lang: py, code: "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 22))", want: anyError},
	{name: "socket_bind", lang: py, code: "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8080))\ns.listen()", want: anyError},
	{name: "subprocess", lang: py, code: "import subprocess\nsubprocess.run(['ls', '/'])", want: anyError},
	{name: "ctypes", lang: py, code: "import ctypes\nctypes.CDLL(None)", want: anyError},
	{name: "threading", lang: py, code: "import threading\nt = threading.Thread(target=lambda: None)\nt.start()\nt.join()", want: anyError},
	{name: "signal_alarm", lang: py, code: "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\nsignal.alarm(1)", want: anyError},
	{name: "os_kill", lang: py, code: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", want: anyError},
	{name: "fork", lang: py, code: "import os\nos.fork()", want: anyError},
	{name: "system", lang: py, code: "import os\nos.system('echo hi')", want: anyError},
	{name: "popen", lang: py, code: "import os\nos.popen('id').read()", want: anyError},
	{name: "multiprocessing", lang: py, code: "import multiprocessing\nmultiprocessing.Pool(2).map(abs, [1])", want: anyError},
	{name: "urllib", lang: py, code: "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:49999/health', timeout=0.5)", want: anyError},
	{name: "host_paths", lang: py, code: "import os\n[p for p in ('/etc', '/root', '/proc', '/sys', '/dev', '/var', '/work') if os.path.exists(p)]", want: noError, check: textIs("[]")},
	{name: "uname_platform", lang: py, code: "import os, sys, platform\n(sys.platform, platform.platform())", want: anything},
}

var pyExits = []cell{
	{name: "sys_exit", lang: py, code: "import sys\nsys.exit()", want: errIs("SystemExit")},
	{name: "sys_exit_code", lang: py, code: "import sys\nsys.exit(3)", want: errIs("SystemExit")},
	{name: "raise_systemexit", lang: py, code: "raise SystemExit", want: errIs("SystemExit")},
	{name: "exit_builtin", lang: py, code: "exit()", want: errIs("SystemExit")},
	{name: "os_exit", lang: py, code: "import os\nos._exit(3)", want: errIs(wasmbox.ErrorContextRestarted)},
	{name: "os_abort", lang: py, code: "import os\nos.abort()", want: errIs(wasmbox.ErrorContextRestarted)},
	{name: "atexit_then_exit", lang: py, code: "import atexit, sys\natexit.register(lambda: print('atexit ran'))\nsys.exit(0)", want: errIs("SystemExit")},
}

var pyInterpreter = append(slices.Clone(pyExits), []cell{
	{name: "settrace_raises", lang: py, code: "import sys\ndef t(*a):\n    raise RuntimeError('tracer')\nsys.settrace(t)\ndef f(): return 1\nf()", want: anyError},
	{name: "settrace_loops", lang: py, code: "import sys\ndef t(*a):\n    while True: pass\nsys.settrace(t)\ndef f(): return 1\nf()", want: stopped},
	{name: "setprofile_raises", lang: py, code: "import sys\ndef p(*a):\n    raise RuntimeError('profiler')\nsys.setprofile(p)\nlen([])", want: anything},
	{name: "gc_threshold_1", lang: py, code: "import gc\ngc.set_threshold(1)\nx = [[i] for i in range(100000)]\nlen(x)", want: noError, check: textIs("100000")},
	{name: "del_builtins_print", lang: py, code: "del __builtins__.print\nprint('x')", want: errIs("NameError")},
	{name: "del_builtins_repr", lang: py, code: "import builtins\ndel builtins.repr\n42", want: anything},
	{name: "poison_builtins_isinstance", lang: py, code: "import builtins\nbuiltins.isinstance = None\nbuiltins.len = None\n1", want: anything},
	{name: "sys_modules_clear", lang: py, code: "import sys\nsys.modules.clear()", want: anything, skipState: true},
	{name: "stdout_write_raises", lang: py, code: "import sys\nclass W:\n    def write(self, s): raise RuntimeError('no')\n    def flush(self): raise RuntimeError('no')\nsys.stdout = W()\nsys.stderr = W()\nprint('x')", want: anything},
	{name: "stdout_write_loops", lang: py, code: "import sys\nclass W:\n    def write(self, s):\n        while True: pass\nsys.stdout = W()\nprint('x')", want: stopped},
	{name: "json_dumps_poisoned", lang: py, code: "import json\njson.dumps = None\n1", want: anything},
	{name: "ast_parse_poisoned", lang: py, code: "import ast\nast.parse = None", want: anything},
	{name: "globals_clear", lang: py, code: "globals().clear()", want: anything, skipState: true},
	{name: "excepthook_loops", lang: py, code: "import sys\ndef h(*a):\n    while True: pass\nsys.excepthook = h\n1/0", want: anything},
	{name: "linecache_flood", lang: py, code: "for i in range(2000):\n    exec(compile('x=1\\n' * 1000, f'<f{i}>', 'exec'))", want: anything},
	{name: "gc_freeze", lang: py, code: "import gc\nl = []\nfor _ in range(2000):\n    l.append([1] * 1000)\n    gc.freeze()\ngc.unfreeze()\nlen(l)", want: noError, check: textIs("2000")},
}...)

// ---- JavaScript ----------------------------------------------------------------

var jsLoops = []cell{
	{name: "while_true", lang: js, code: "while (true) {}", want: errIs("TimeoutError")},
	{name: "catch_loop", lang: js, code: "for (;;) { try { for (;;) {} } catch (e) {} }", want: stopped},
	{name: "finally_continue", lang: js, code: "for (;;) { try { for (;;) {} } finally { continue } }", want: stopped},
	{name: "sort_6e6", lang: js, code: "const a = new Array(6e6); for (let i = 0; i < 6e6; i++) a[i] = (i * 7919) % 100003; a.sort((x, y) => x - y); a[0]", want: stopped},
	{name: "sort_default_loop", lang: js, code: "const a = []; for (let i = 0; i < 1e6; i++) a.push(i * 7); for (;;) a.slice().sort()", want: stopped},
	{name: "eval_10MB", lang: js, code: "eval('var big = [' + '1,'.repeat(5e6) + '1]; big.length')", want: anything},
	{name: "new_function_10MB", lang: js, code: "new Function('return ' + '1+'.repeat(5e6) + '1')()", want: anything},
	{name: "eval_deep_parens", lang: js, code: "eval('('.repeat(1e6) + '1' + ')'.repeat(1e6))", want: anyError},
	{name: "catastrophic_regex", lang: js, code: "/(a+)+$/.test('a'.repeat(64) + 'b')", want: stopped},
	{name: "bigint_power", lang: js, code: "(10n ** 10n ** 8n).toString().length", want: anything},
	{name: "settimeout_busy", lang: js, code: "setTimeout(() => { for (;;) {} }, 0)", want: stopped},
	{name: "setinterval_forever", lang: js, code: "setInterval(() => {}, 1)", want: stopped},
	{name: "microtask_loop", lang: js, code: "function f() { Promise.resolve().then(f) } f()", want: stopped},
	{name: "async_loop", lang: js, code: "(async () => { for (;;) await null })()", want: stopped},
	{name: "await_never", lang: js, code: "await new Promise(() => {})", want: anyError},
	{name: "json_loop", lang: js, code: "const o = []; for (let i = 0; i < 1e5; i++) o.push({ a: i }); for (;;) JSON.parse(JSON.stringify(o))", want: stopped},
	{name: "catch_in_timer_loop", lang: js, code: "function t() { try { for (;;) {} } catch (e) { setTimeout(t, 0) } } setTimeout(t, 0)", want: stopped},
}

var jsOutputMemory = []cell{
	{name: "console_log_loop", lang: js, code: "for (;;) console.log('x'.repeat(100))", want: stopped, check: logsBounded},
	{name: "console_error_loop", lang: js, code: "for (;;) console.error('e'.repeat(1000))", want: stopped, check: logsBounded},
	{name: "huge_line", lang: js, code: "console.log('x'.repeat(20e6))", want: orStopped, check: logsBounded},
	{name: "display_flood", lang: js, code: "for (;;) display({ a: 'x'.repeat(10000) })", want: stopped, check: resultsBounded},
	{name: "huge_main_result", lang: js, code: "'x'.repeat(40e6)", want: orStopped, check: resultsBounded},
	{name: "huge_error_message", lang: js, code: "throw new Error('m'.repeat(50e6))", want: errIs("Error"), check: errorCapped},
	{name: "deep_recursion", lang: js, code: "function f() { return f() } f()", want: errIs("InternalError", "RangeError")},
	{name: "json_stringify_nested", lang: js, code: "let o = {}; for (let i = 0; i < 1e6; i++) o = { o }; JSON.stringify(o).length", want: anyError},
	{name: "nested_main_result", lang: js, code: "let a = []; for (let i = 0; i < 1e5; i++) a = [a]; a", want: anything},
	{name: "tostring_recursion", lang: js, code: "const o = { toString() { return String(this) } }; String(o)", want: anyError},
	{name: "huge_array", lang: js, code: "new Array(2 ** 32 - 1).fill(0).length", want: anyError},
	{name: "huge_string", lang: js, code: "'x'.repeat(2 ** 30).length", want: anyError},
	{name: "fill_memory", lang: js, code: "const a = []; for (;;) a.push(new Array(1e6).fill(1.5))", want: errIs("InternalError", "RangeError", "TimeoutError", wasmbox.ErrorContextRestarted)},
	{name: "arraybuffer_2GiB", lang: js, code: "new ArrayBuffer(2 ** 31).byteLength", want: anyError},
	{name: "string_doubling", lang: js, code: "let s = 'x'; for (;;) s += s", want: anyError},
	{name: "out_of_memory_then_work", lang: js, code: "try { new ArrayBuffer(2 ** 31) } catch (e) {} const b = new Array(1e6).fill(1); b.length", want: noError, check: textIs("1000000")},
}

var jsAbuse = []cell{
	{name: "tojson_throws", lang: js, code: "Object.prototype.toJSON = function () { throw new Error('poisoned') }; throw new Error('x')", want: errIs("Error")},
	{name: "json_stringify_null", lang: js, code: "JSON.stringify = null; 1", want: anything},
	{name: "json_parse_null", lang: js, code: "JSON.parse = null; 1", want: anything},
	{name: "map_values_null", lang: js, code: "Map.prototype.values = null; Map.prototype.get = null; Map.prototype.set = null; 1", want: anything},
	{name: "object_keys_null", lang: js, code: "Object.keys = null; Object.defineProperty = null; Array.prototype.join = null; 1", want: anything},
	{name: "proxy_thrown", lang: js, code: "throw new Proxy({}, { get() { throw new Error('trap') }, getPrototypeOf() { throw new Error('trap') } })", want: anyError},
	{name: "proxy_thrown_loops", lang: js, code: "throw new Proxy({}, { get() { for (;;) {} } })", want: stopped},
	{name: "toprimitive_thrown", lang: js, code: "throw { [Symbol.toPrimitive]() { throw new Error('prim') }, toString() { throw 1 } }", want: anyError},
	{name: "toprimitive_loops", lang: js, code: "throw { [Symbol.toPrimitive]() { for (;;) {} } }", want: anyError},
	{name: "error_name_getter_loops", lang: js, code: "const e = new Error('x'); Object.defineProperty(e, 'name', { get() { for (;;) {} } }); throw e", want: stopped},
	{name: "error_tostring_poisoned", lang: js, code: "Error.prototype.toString = () => { throw 1 }; Object.defineProperty(Error.prototype, 'stack', { get() { throw 2 } }); throw new Error('x')", want: anyError},
	{name: "proxy_result", lang: js, code: "new Proxy({}, { ownKeys() { for (;;) {} }, get() { for (;;) {} } })", want: stopped},
	{name: "getter_result", lang: js, code: "({ get x() { for (;;) {} } })", want: anything},
	{name: "symbol_result", lang: js, code: "({ [Symbol.toPrimitive]() { throw 1 }, toString() { throw 2 }, valueOf() { throw 3 } })", want: anything},
	{name: "hijack_run", lang: js, code: "globalThis.__wasmbox_run = () => 0", want: anything, skipState: true},
	{name: "reenter_run", lang: js, code: "__wasmbox_run('for (;;) {}', '{}')", want: stopped},
	{name: "emit_hidden", lang: js, code: "__wasmbox.emit(3, '{\"execution_count\": 999}')", want: errIs("ReferenceError"), check: countNot(999)},
	{name: "process_exit", lang: js, code: "process.exit(3)", want: anyError},
	{name: "exit", lang: js, code: "exit()", want: anyError},
	{name: "require_outside", lang: js, code: "require('fs').readFileSync('/../../etc/passwd', 'utf8')", want: anyError},
	{name: "require_child_process", lang: js, code: "require('child_process').execSync('id')", want: anyError},
	{name: "env_probe", lang: js, code: "Object.keys(process.env).sort()", want: noError, check: onlyNames("HOME", "USER", "LANG", "PATH", "PWD")},
	{name: "fs_flood", lang: js, code: "const fs = require('fs'); for (let i = 0; ; i++) fs.writeFileSync('/tmp/j' + i, 'x'.repeat(1 << 20))", want: anyError},
	{name: "console_poisoned", lang: js, code: "globalThis.console = null; globalThis.display = null; 1", want: anything},
	{name: "function_call_poisoned", lang: js, code: "Function.prototype.call = null; Function.prototype.apply = null; Reflect.apply = null; 1", want: anything},
	{name: "string_poisoned", lang: js, code: "String.prototype.split = null; String.prototype.replace = null; String.prototype.repeat = null; RegExp.prototype.test = null; 1", want: anything},
}
