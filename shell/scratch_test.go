package shell_test

import "testing"

func TestScratch(t *testing.T) {
	f := newFS(t, false)
	for _, s := range []string{
		"echo hi; pwd; ls -la",
		"mkdir -p a/b/c && echo x > a/b/c/f.txt && ls -R a && cat a/b/c/f.txt",
		"seq 5 | sort -rn | head -n 2",
		"yes | head -n 3",
		"printf 'b\\na\\nb\\n' | sort | uniq -c",
		"echo hello world | sed 's/world/there/'",
		"echo 'a,b,c' | cut -d, -f2",
		"echo abc | tr a-z A-Z",
		"nosuch; echo $?",
		"find . -name '*.txt'",
		"grep -rn x .",
		"tar czf t.tgz a && tar tzf t.tgz && rm -rf a && tar xzf t.tgz && cat a/b/c/f.txt",
		"echo hi | gzip | gunzip",
		"zip -qr z.zip a && unzip -l z.zip",
		"echo hi | base64 | base64 -d; echo -n hi | sha256sum",
		"du -sh a; wc -l a/b/c/f.txt",
		"cat <<EOF\nhere $HOME\nEOF",
		"for i in 1 2 3; do echo $i; done | xargs echo",
		"f() { echo fn $1; }; f z; set -e; false; echo not",
		"cat <(echo x)",
		"date +%Y; uname -a; whoami; which ls; type cd; command -v grep",
		"ls *.tgz; echo [ab]*",
		"cd /tmp && pwd && cd - >/dev/null && pwd",
	} {
		r := runIn(t, f, s, "", nil)
		t.Logf("$ %s\n%s--stderr--\n%s[%d %v]", s, r.stdout, r.stderr, r.code, r.err)
	}
}
