package shell_test

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/shell"
	"github.com/wasmbox/wasmbox/vfs"
)

type scriptCase struct {
	name, script, stdin string
	want                string // stdout
	code                int
	stderr              string // a substring of stderr, if set
}

// shellCases exercise the interpreter's semantics over the sandbox
// filesystem.
var shellCases = []scriptCase{
	{name: "pipes", script: "printf 'c\\na\\nb\\n' | sort | head -n 2", want: "a\nb\n"},
	{name: "redirections", script: "echo one > f; echo two >> f; cat < f; cat f 2>/dev/null | wc -l", want: "one\ntwo\n2\n"},
	{name: "stderr redirect", script: "ls nosuch 2> err.txt; cat err.txt", want: "ls: cannot access 'nosuch': No such file or directory\n"},
	{name: "stderr to stdout", script: "ls nosuch 2>&1 | wc -l", want: "1\n"},
	{name: "and or", script: "true && echo a || echo b; false && echo c || echo d", want: "a\nd\n"},
	{name: "variables", script: "X=1; Y=\"$X 2\"; echo \"$Y\" ${Z:-dflt} ${#Y}", want: "1 2 dflt 3\n"},
	{name: "command substitution", script: "n=$(echo abc | wc -c); echo $((n * 2))", want: "8\n"},
	{name: "globbing", script: "touch a.txt b.txt c.log; echo *.txt; ls *.log", want: "a.txt b.txt\nc.log\n"},
	{name: "here-doc", script: "cat <<EOF\nhome=$HOME\nEOF\ncat <<'E'\n$HOME\nE", want: "home=/home/user\n$HOME\n"},
	{name: "cd", script: "mkdir -p d/e; cd d/e; pwd; cd ..; pwd; cd; pwd", want: "/home/user/d/e\n/home/user/d\n/home/user\n"},
	{name: "exit codes", script: "false; echo $?; (exit 3); echo $?", want: "1\n3\n"},
	{name: "exit status of the script", script: "exit 7", code: 7},
	{name: "set -e", script: "set -e; echo a; false; echo b", want: "a\n", code: 1},
	{name: "functions", script: "greet() { echo \"hi $1\"; return 2; }; greet you; echo $?", want: "hi you\n2\n"},
	{name: "loops", script: "for i in 1 2 3; do echo $i; done; i=0; while [ $i -lt 2 ]; do i=$((i+1)); done; echo $i", want: "1\n2\n3\n2\n"},
	{name: "case and if", script: "x=b; case $x in a) echo A;; b) echo B;; esac; if [ -d /tmp ]; then echo dir; fi", want: "B\ndir\n"},
	{name: "test files", script: "echo x > f; [ -f f ] && [ ! -d f ] && [ -s f ] && [ -e /tmp ] && [ -w f ] && echo ok", want: "ok\n"},
	{name: "stdin", script: "cat; read -r line < /dev/null || echo eof", stdin: "in\n", want: "in\neof\n"},
	{name: "subshell and export", script: "export A=1; (A=2; echo $A); echo $A; env | grep '^A='", want: "2\n1\nA=1\n"},
	{name: "background and wait", script: "sleep 0.05 & echo started; wait; echo done", want: "started\ndone\n"},
	{name: "unknown command", script: "nosuchcmd arg", code: 127, stderr: "nosuchcmd: command not found"},
	{name: "host path", script: "/usr/local/sbin/frobnicate", code: 127, stderr: "No such file or directory"},
	{name: "syntax error", script: "if then fi", code: 2, stderr: "sh:"},
	{name: "process substitution refused", script: "cat <(echo x)", code: 2, stderr: "process substitution"},
	{name: "script file", script: "printf '#!/bin/sh\\necho \"args: $@\"\\n' > s.sh; chmod +x s.sh; ./s.sh a b; sh s.sh c", want: "args: a b\nargs: c\n"},
	{name: "sh -c", script: "sh -c 'echo $0 $1' zero one", want: "zero one\n"},
	{name: "absolute bin path", script: "/bin/echo hi; /usr/bin/env printf 'x\\n'", want: "hi\nx\n"},
	{name: "type", script: "command -v ls; command -v cd; type ls", want: "/usr/bin/ls\ncd\nls is /usr/bin/ls\n"},
	{name: "host ids hidden", script: "echo $$ \"$PPID\" $UID $(whoami)", want: "1 0 1000 user\n"},
	{name: "unsupported builtins", script: "kill 1", code: 2, stderr: "kill: unsupported builtin"},
}

// commandCases exercise each command's main flags.
var commandCases = []scriptCase{
	{name: "ls", script: "mkdir -p d/s; touch d/b d/a d/.h; echo 12345 > d/s/f; ls d; ls -1 d; ls -a d | head -n 3; ls -A d | head -n 1; ls -R d", want: "a\nb\ns\na\nb\ns\n.\n..\n.h\n.h\nd:\na\nb\ns\n\nd/s:\nf\n"},
	{name: "ls -l -h", script: "head -c 2048 /dev/zero > z 2>/dev/null || printf '%2048s' x > z; ls -l z | cut -d' ' -f1-3; ls -lh z | tr -s ' ' | cut -d' ' -f5", want: "-rw-r--r-- 1 user\n2.0K\n"},
	{name: "cat -n", script: "printf 'a\\nb\\n' > f; cat -n f; cat f - f", stdin: "S\n", want: "     1\ta\n     2\tb\na\nb\nS\na\nb\n"},
	{name: "echo printf pwd", script: "echo -n a; echo b; printf '%s-%d\\n' x 5; pwd", want: "ab\nx-5\n/home/user\n"},
	{name: "mkdir -p rmdir", script: "mkdir a; mkdir a 2>/dev/null || echo exists; mkdir -p a/b/c; rmdir a/b/c; rmdir a 2>/dev/null || echo notempty; ls a", want: "exists\nnotempty\nb\n"},
	{name: "rm -rf", script: "mkdir -p t/u; touch t/u/f; rm t 2>/dev/null || echo isdir; rm -rf t; ls t 2>/dev/null || echo gone; rm nosuch 2>/dev/null || echo missing; rm -f nosuch && echo forced", want: "isdir\ngone\nmissing\nforced\n"},
	{name: "cp -r mv", script: "mkdir -p s/x; echo 1 > s/x/f; cp -r s t; cat t/x/f; cp s/x/f g; mv g h; cat h; ls g 2>/dev/null || echo moved; mkdir dd; mv h dd; ls dd; cp s 2>/dev/null u || echo needr", want: "1\n1\nmoved\nh\nneedr\n"},
	{name: "touch", script: "touch new; [ -f new ] && echo made; touch -c none; [ -e none ] || echo notmade", want: "made\nnotmade\n"},
	{name: "head tail", script: "seq 10 > n; head -n 2 n; tail -n 2 n; head -3 n | tail -1; tail -n +9 n; head -c 3 n | wc -c", want: "1\n2\n9\n10\n3\n9\n10\n3\n"},
	{name: "wc", script: "printf 'a b\\nc\\n' > f; wc -l f; wc -w < f; wc -c < f; wc f", want: "2 f\n3\n6\n2 3 6 f\n"},
	{name: "grep", script: "printf 'Apple\\nbanana\\ncherry\\napple pie\\n' > f; grep -i apple f; grep -v an f | grep -c .; grep -n cherry f; grep -E 'an(an)+' f; grep -l pie f; grep -c apple f; grep -q zzz f || echo none", want: "Apple\napple pie\n3\n3:cherry\nbanana\nf\n1\nnone\n"},
	{name: "grep -r", script: "mkdir -p d/e; echo needle > d/e/x; echo hay > d/y; grep -r needle d; grep -rl needle .; grep -o 'ee' d/e/x", want: "d/e/x:needle\n./d/e/x\nee\n"},
	{name: "grep BRE", script: "echo 'a+b (c)' | grep 'a+b (c)'; echo aaa | grep -o 'a\\{2\\}'", want: "a+b (c)\naa\n"},
	{name: "sort", script: "printf '10\\n9\\n100\\n9\\n' > n; sort n | tr '\\n' ' '; echo; sort -n n | tr '\\n' ' '; echo; sort -rn n | head -n 1; sort -u n | wc -l; printf 'b 2\\na 10\\nc 1\\n' | sort -k2 -n", want: "10 100 9 9 \n9 9 10 100 \n100\n3\nc 1\nb 2\na 10\n"},
	{name: "sort -t -k", script: "printf 'x:3\\ny:1\\nz:2\\n' | sort -t: -k2 | cut -d: -f1 | tr -d '\\n'", want: "yzx"},
	{name: "uniq", script: "printf 'a\\na\\nb\\na\\n' | uniq; printf 'a\\na\\nb\\n' | uniq -c; printf 'a\\na\\nb\\n' | uniq -d", want: "a\nb\na\n      2 a\n      1 b\na\n"},
	{name: "cut", script: "echo 'a:b:c:d' | cut -d: -f2,4; echo 'a:b:c:d' | cut -d: -f2-; echo hello | cut -c2-4; printf 'x\\ty\\n' | cut -f2", want: "b:d\nb:c:d\nell\ny\n"},
	{name: "tr", script: "echo hello | tr a-z A-Z; echo hello | tr -d l; echo aabbcc | tr -s ab; echo 'a b' | tr '[:lower:]' '[:upper:]'", want: "HELLO\nheo\nabcc\nA B\n"},
	{name: "sed", script: "printf 'one\\ntwo\\nthree\\n' > f; sed 's/o/0/g' f; sed -n 2p f; sed 2d f; sed -n '/th/p' f; sed -E 's/(t)(w)/\\2\\1/' f | sed -n 2p; sed 's/e/E/2' f | tail -n 1; sed '1,2d' f; sed '$d' f | wc -l", want: "0ne\ntw0\nthree\ntwo\none\nthree\nthree\nwto\nthreE\nthree\n2\n"},
	{name: "sed -i", script: "echo 'hello world' > f; sed -i 's/world/there/' f; cat f; sed -i.bak -e 's/h/H/' f; cat f", want: "hello there\nHello there\n"},
	{name: "sed BRE groups", script: "echo 'key=value' | sed 's/\\(.*\\)=\\(.*\\)/\\2=\\1/'; echo abc | sed 's/b/[&]/'", want: "value=key\na[b]c\n"},
	{name: "find", script: "mkdir -p d/e/f; touch d/a.txt d/e/b.txt d/e/f/c.log; find d -name '*.txt' | sort; find d -type d | sort; find d -maxdepth 1 -type f; find d -type f -not -name '*.txt'", want: "d/a.txt\nd/e/b.txt\nd\nd/e\nd/e/f\nd/a.txt\nd/e/f/c.log\n"},
	{name: "find -exec -delete", script: "mkdir d; echo x > d/a; find d -type f -exec cat {} \\;; find d -name a -delete; ls d | wc -l", want: "x\n0\n"},
	{name: "xargs", script: "printf 'a\\nb\\nc\\n' | xargs echo; printf 'a b c\\n' | xargs -n 1 echo; printf 'x\\ny\\n' | xargs -I{} echo '<{}>'; echo f1 f2 | xargs touch; ls f1 f2", want: "a b c\na\nb\nc\n<x>\n<y>\nf1\nf2\n"},
	{name: "tee", script: "echo hi | tee f | tr a-z A-Z; cat f; echo again | tee -a f > /dev/null; cat f", want: "HI\nhi\nhi\nagain\n"},
	{name: "env export", script: "export FOO=bar; env | grep ^FOO; env X=1 sh -c 'echo $X'; printenv FOO", want: "FOO=bar\n1\nbar\n"},
	{name: "true false test", script: "true; echo $?; false; echo $?; test 1 -lt 2 && echo lt; [ abc = abc ] && echo eq; test -z '' && echo empty", want: "0\n1\nlt\neq\nempty\n"},
	{name: "seq", script: "seq 3; seq 2 4 | tr '\\n' ' '; echo; seq 0 5 10 | tr '\\n' ' '; echo; seq -s, 3; seq -w 8 10 | head -n 1", want: "1\n2\n3\n2 3 4 \n0 5 10 \n1,2,3\n08\n"},
	{name: "sleep", script: "sleep 0.01 && echo slept; sleep x 2>/dev/null || echo bad", want: "slept\nbad\n"},
	{name: "date", script: "date +%Y-%m-%d | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'; date -u -d @0 +%F", want: "1\n1970-01-01\n"},
	{name: "basename dirname", script: "basename /a/b/c.txt; basename /a/b/c.txt .txt; dirname /a/b/c.txt; dirname c.txt", want: "c.txt\nc\n/a/b\n.\n"},
	{name: "du -sh", script: "mkdir d; printf '%3000s' x > d/f; du -sh d; du -s d | cut -f1", want: "3.0K\td\n3\n"},
	{name: "which whoami uname", script: "which grep; which nosuch || echo no; whoami; uname; uname -m", want: "/usr/bin/grep\nno\nuser\nwasmbox\nwasm32\n"},
	{name: "tar", script: "mkdir -p p/q; echo data > p/q/f; tar -cf a.tar p; tar -tf a.tar; tar czf a.tgz p && rm -r p && tar -xzf a.tgz && cat p/q/f; mkdir out; tar -xf a.tar -C out; cat out/p/q/f", want: "p/\np/q/\np/q/f\ndata\ndata\n"},
	{name: "gzip gunzip", script: "echo hello > f; gzip f; ls; gunzip f.gz; cat f; gzip -k f; ls | tr '\\n' ' '; echo; gzip -c f | gunzip -c; zcat f.gz", want: "f.gz\nhello\nf f.gz \nhello\nhello\n"},
	{name: "zip unzip", script: "mkdir -p z/y; echo 1 > z/y/f; zip -qr a.zip z; rm -r z; unzip -q a.zip; cat z/y/f; unzip -l a.zip | grep -c z/y/f; mkdir o; unzip -q a.zip -d o; cat o/z/y/f", want: "1\n1\n1\n"},
	{name: "base64", script: "echo -n hello | base64; echo aGVsbG8= | base64 -d; echo", want: "aGVsbG8=\nhello\n"},
	{name: "sha256sum md5sum", script: "echo -n abc > f; sha256sum f; md5sum f; sha256sum f > s; sha256sum -c s", want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\n900150983cd24fb0d6963f7d28e17f72  f\nf: OK\n"},
	{name: "diff", script: "printf 'a\\nb\\nc\\n' > x; printf 'a\\nB\\nc\\nd\\n' > y; diff x y; echo $?; diff -u x y; diff -q x y; diff x x && echo same",
		want: "2c2\n< b\n---\n> B\n3a4\n> d\n1\n--- x\n+++ y\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\nFiles x and y differ\nsame\n"},
	{name: "chmod", script: "touch f; chmod 700 f; ls -l f | cut -d' ' -f1; chmod u-w,go+r f; ls -l f | cut -d' ' -f1; [ -w f ] || echo readonly; [ -O f ] && [ -G f ] && echo mine; mkdir d; chmod 750 d; ls -l | grep ' d$' | cut -d' ' -f1; readlink f || echo notalink; chmod 600 nosuch",
		want: "-rwx------\n-r-xr--r--\nreadonly\nmine\ndrwxr-x---\nnotalink\n", code: 1, stderr: "No such file or directory"},
	{name: "sh -c exit", script: "sh -c 'exit 4'; echo $?", want: "4\n"},
	{name: "timeout", script: "timeout 0.05 sleep 5; echo $?", want: "124\n"},
}

func runCases(t *testing.T, cases []scriptCase) {
	for _, disk := range []bool{false, true} {
		name := "memfs"
		if disk {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					f := newFS(t, disk)
					r := runIn(t, f, tc.script, tc.stdin, nil)
					if r.stdout != tc.want || r.code != tc.code {
						t.Errorf("%s\nstdout %q, want %q\nstatus %d, want %d\nstderr %q", tc.script, r.stdout, tc.want, r.code, tc.code, r.stderr)
					}
					if tc.stderr != "" && !strings.Contains(r.stderr, tc.stderr) {
						t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderr)
					}
					if tc.code != 2 && r.err != nil {
						t.Errorf("error %v", r.err)
					}
				})
			}
		})
	}
}

func TestShellSemantics(t *testing.T) { runCases(t, shellCases) }

func TestCommands(t *testing.T) { runCases(t, commandCases) }

func TestExtraCommands(t *testing.T) {
	f := newFS(t, false)
	upper := func(ctx context.Context, c *shell.Call) int {
		b, _ := io.ReadAll(c.Stdin)
		c.Stdout.Write([]byte(strings.ToUpper(string(b))))
		return len(c.Args)
	}
	r := runIn(t, f, "echo hi | up a b; echo $?", "", map[string]shell.Command{"up": upper})
	if r.stdout != "HI\n3\n" {
		t.Fatalf("got %q", r.stdout)
	}
}

func TestErrors(t *testing.T) {
	f := newFS(t, false)
	if r := runIn(t, f, "if then", "", nil); !errors.Is(r.err, shell.ErrSyntax) || r.code != 2 {
		t.Fatalf("syntax error: %v %d", r.err, r.code)
	}
	if r := runIn(t, f, "cat <(true)", "", nil); !errors.Is(r.err, shell.ErrUnsupported) {
		t.Fatalf("procsubst: %v", r.err)
	}
	if _, err := shell.Run(context.Background(), "true", shell.Config{}); err == nil {
		t.Fatal("nil FS accepted")
	}
}

// TestLimits: a pipeline whose writer never ends stops with its reader; a
// runaway loop stops at its timeout; a blocked read stops too.
func TestLimits(t *testing.T) {
	f := newFS(t, false)
	r := runIn(t, f, "yes | head -n 5; seq 1000000000 | head -n 1", "", nil)
	if r.stdout != "y\ny\ny\ny\ny\n1\n" || r.code != 0 {
		t.Fatalf("yes | head: %q %d %q", r.stdout, r.code, r.stderr)
	}
	for _, script := range []string{"while true; do :; done", "sleep 100", "cat", "yes > /dev/null", "f() { f; }; while :; do x=1; done"} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		pr, pw, _ := os.Pipe() // a stdin that never ends
		_, err := shell.Run(ctx, script, shell.Config{FS: f, Dir: "/", Stdin: pr})
		cancel()
		pr.Close()
		pw.Close()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v", script, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: stopped after %v", script, d)
		}
	}
}

// TestNoHostProcess: nothing the shell runs reaches a host executable, and
// the package does not import os/exec.
func TestNoHostProcess(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	exe := filepath.Join(dir, "hostcmd")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := newFS(t, false)
	for _, script := range []string{
		"hostcmd", exe, "PATH=" + dir + ":$PATH hostcmd", "exec hostcmd", "command hostcmd",
		"env hostcmd", "xargs hostcmd < /dev/null", "find /tmp -exec hostcmd \\;", "sh -c hostcmd",
		"timeout 1 hostcmd", "builtin hostcmd",
	} {
		var out strings.Builder
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		code, _ := shell.Run(ctx, script, shell.Config{FS: f, Dir: "/", Stderr: &out,
			Env: []string{"PATH=" + dir + ":/usr/bin:/bin"}})
		cancel()
		if code == 0 {
			t.Errorf("%s: status 0 (stderr %q)", script, out.String())
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s started a host process", script)
		}
	}
	// No file of the package may import os/exec or start a process.
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		af, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "os/exec" {
				t.Errorf("%s imports %s", name, p)
			}
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		for _, call := range []string{"StartProcess", "ForkExec", "syscall.Exec", "DefaultExecHandler", "DefaultOpenHandler"} {
			if strings.Contains(string(src), call) {
				t.Errorf("%s mentions %s", name, call)
			}
		}
	}
}

func TestNames(t *testing.T) {
	names := strings.Join(shell.Names(), " ")
	for _, n := range []string{"ls", "grep", "sed", "tar", "unzip", "sha256sum", "xargs"} {
		if !strings.Contains(" "+names+" ", " "+n+" ") {
			t.Errorf("%s missing from %s", n, names)
		}
	}
}

// TestMountsAndQuota: commands meet the sandbox filesystem's read-only
// mounts and quota with the errors a Unix shell prints.
func TestMountsAndQuota(t *testing.T) {
	ro := vfs.NewMemFS()
	require.NoError(t, afero.WriteFile(ro, "/data.txt", []byte("ro data\n"), 0o644))
	f, err := vfs.New(vfs.NewMemFS(), vfs.WithMount("/mnt/ro", ro, true), vfs.WithMount("/mnt/rw", vfs.NewMemFS(), false),
		vfs.WithMaxBytes(4096))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	_, err = f.MakeDir(context.Background(), "/home/user")
	require.NoError(t, err)
	r := runIn(t, f, "cat /mnt/ro/data.txt; echo x > /mnt/ro/new; echo $?; rm /mnt/ro/data.txt; echo $?", "", nil)
	assert.Equal(t, "ro data\n1\n1\n", r.stdout)
	assert.Contains(t, r.stderr, "Read-only file system")
	r = runIn(t, f, "seq 100000 > big; echo $?; yes | head -c 10000 > big2", "", nil)
	assert.Equal(t, "1\n", r.stdout)
	assert.Contains(t, r.stderr, "No space left on device")
	// A rename across mounts is EXDEV, which mv answers by copying; a mount
	// point cannot be removed (EBUSY).
	r = runIn(t, f, "rm -f big big2; echo moved > m; mv m /mnt/rw/; cat /mnt/rw/m; ls m; rmdir /mnt/rw", "", nil)
	assert.Equal(t, "moved\n", r.stdout)
	assert.Contains(t, r.stderr, "ls: cannot access 'm': No such file or directory")
	assert.Contains(t, r.stderr, "Device or resource busy")
	assert.Equal(t, 1, r.code)
}

// TestNoLeaks: scripts that do not read their input, or are cancelled,
// leave no goroutine behind.
func TestNoLeaks(t *testing.T) {
	f := newFS(t, false)
	big := strings.Repeat("x", 1<<20)
	before := runtime.NumGoroutine()
	for range 50 {
		_, err := shell.Run(context.Background(), "true | true; echo x > /dev/null", shell.Config{FS: f, Stdin: strings.NewReader(big)})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		_, _ = shell.Run(ctx, "sleep 10 | cat & cat", shell.Config{FS: f, Stdin: strings.NewReader(big)})
		cancel()
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 10*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// TestRecursionAndForkBombs: a script cannot exhaust the host's stack or
// memory: deep recursion and fork bombs end with ErrLimit, at once.
func TestRecursionAndForkBombs(t *testing.T) {
	f := newFS(t, false)
	before := runtime.NumGoroutine()
	for _, script := range []string{
		"f() { f; }; f",
		"k() { eval k; }; k",
		"echo 'sh s.sh' > s.sh; sh s.sh",
		"f() { f | f; }; f",
		"g() { g & g; }; g",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		var errb strings.Builder
		code, err := shell.Run(ctx, script, shell.Config{FS: f, Dir: "/home/user", Stderr: &errb})
		cancel()
		assert.ErrorIs(t, err, shell.ErrLimit, script)
		assert.Equal(t, 2, code, script)
		assert.Contains(t, errb.String(), "limit exceeded", script)
		assert.Less(t, time.Since(start), 10*time.Second, script)
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 10*time.Second, 10*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// TestMemoryLimits: a script cannot make the host hold unbounded memory:
// doubling variables, huge command substitutions, and commands that hold
// their input (sort, sed, xargs, base64) fed by an endless writer all stop.
func TestMemoryLimits(t *testing.T) {
	f := newFS(t, false)
	for _, tc := range []struct{ script, stderr string }{
		{"x=a; for i in $(seq 40); do x=$x$x; done", "the variables hold more than 64 MiB"},
		{"x=a; while :; do x=$x$x; done", "the variables hold more than 64 MiB"},
		{"x=a; " + strings.Repeat("x=$x$x; ", 40), "limit exceeded"},
		{"x=a; " + strings.Repeat("x=$x$x && ", 40) + "true", "limit exceeded"},
		{"x=$(yes)", "command substitution output over 64 MiB"},
		{"yes | sort", "sort: input too large"},
		{"yes | sed s/y/n/", "sed: input too large"},
		{"yes | xargs echo", "xargs: input too large"},
		{"yes | base64", "base64: input too large"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var errb strings.Builder
		code, err := shell.Run(ctx, tc.script, shell.Config{FS: f, Dir: "/home/user", Stdout: io.Discard, Stderr: &errb})
		cancel()
		assert.NotEqual(t, 0, code, tc.script)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, tc.script)
		assert.Contains(t, errb.String(), tc.stderr, tc.script)
	}
}
