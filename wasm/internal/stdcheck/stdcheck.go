// Package stdcheck is the standard-library check that the tests of both
// CPython builds (wasm/python and wasm/pydata) run in a sandbox: lzma and bz2
// (which need the _lzma and _bz2 modules and their libraries linked in),
// tarfile's xz and bz2 archives on the sandbox filesystem, and zoneinfo
// (which needs the time-zone database mounted).
package stdcheck

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"io"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cell is the Python code to run in a fresh context whose working directory
// is /home/user; its standard output must be Want.
const Cell = `
import bz2, datetime, lzma, os, tarfile, zoneinfo
data = ("wasmbox " * 5000).encode()
for mod in (lzma, bz2):
    packed = mod.compress(data)
    print(mod.__name__, len(packed) < len(data) // 20, mod.decompress(packed) == data)
c = lzma.LZMACompressor(format=lzma.FORMAT_ALONE)
alone = c.compress(data) + c.flush()
d, packed = bz2.BZ2Decompressor(), bz2.compress(data)
print("incremental", lzma.decompress(alone) == data,
      b"".join(d.decompress(packed[i:i + 10]) for i in range(0, len(packed), 10)) == data and d.eof)
print("checks", [lzma.is_check_supported(k) for k in (lzma.CHECK_CRC32, lzma.CHECK_CRC64, lzma.CHECK_SHA256)])
try:
    lzma.decompress(b"not xz at all", format=lzma.FORMAT_XZ)
except lzma.LZMAError as e:
    print("LZMAError", e)

os.makedirs("proj/sub", exist_ok=True)
for i in range(3):
    with open(f"proj/sub/f{i}.txt", "w") as f:
        f.write(str(i) * 1000)
for kind in ("xz", "bz2"):
    with tarfile.open(f"proj.tar.{kind}", f"w:{kind}") as tf:
        tf.add("proj")
    with tarfile.open(f"proj.tar.{kind}") as tf:  # the compression is detected
        names = sorted(tf.getnames())
        tf.extractall(f"out-{kind}", filter="data")
    with open(f"out-{kind}/proj/sub/f2.txt") as f:
        print(kind, names, f.read() == "2" * 1000)
with lzma.open("notes.txt.xz", "wt") as f:
    f.write("written by lzma.open\n")
with bz2.open("notes.txt.bz2", "wt") as f:
    f.write("written by bz2.open\n")
with lzma.open("notes.txt.xz", "rt") as a, bz2.open("notes.txt.bz2", "rt") as b:
    print(a.read() + b.read(), end="")

paris = zoneinfo.ZoneInfo("Europe/Paris")
for d in (datetime.datetime(2024, 7, 1, 12), datetime.datetime(2024, 1, 15, 12)):
    local = d.replace(tzinfo=paris)
    print(local.isoformat(), local.tzname(), local.astimezone(datetime.timezone.utc).isoformat())
utc = datetime.datetime(2024, 3, 31, 0, 30, tzinfo=datetime.timezone.utc)
print("dst", utc.astimezone(paris).isoformat(), (utc + datetime.timedelta(hours=1)).astimezone(paris).isoformat())
print("legacy", datetime.datetime(2024, 1, 1, tzinfo=zoneinfo.ZoneInfo("US/Eastern")).utcoffset())
zones = zoneinfo.available_timezones()
print("zones", len(zones) > 500, {"Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"} <= zones)
`

// Want is the standard output of Cell.
const Want = `lzma True True
bz2 True True
incremental True True
checks [True, True, True]
LZMAError Input format not supported by decoder
xz ['proj', 'proj/sub', 'proj/sub/f0.txt', 'proj/sub/f1.txt', 'proj/sub/f2.txt'] True
bz2 ['proj', 'proj/sub', 'proj/sub/f0.txt', 'proj/sub/f1.txt', 'proj/sub/f2.txt'] True
written by lzma.open
written by bz2.open
2024-07-01T12:00:00+02:00 CEST 2024-07-01T10:00:00+00:00
2024-01-15T12:00:00+01:00 CET 2024-01-15T11:00:00+00:00
dst 2024-03-31T01:30:00+01:00 2024-03-31T03:30:00+02:00
legacy -1 day, 19:00:00
zones True True
`

// CheckFiles checks the archives Cell left in /home/user, read through the
// sandbox's Files API with read: the xz one by its magic number, the bz2 one
// by reading it with Go's own bzip2 and tar readers.
func CheckFiles(t testing.TB, read func(path string) ([]byte, error)) {
	t.Helper()
	xz, err := read("/home/user/proj.tar.xz")
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(xz, []byte("\xfd7zXZ\x00")), "an xz stream")

	bz, err := read("/home/user/proj.tar.bz2")
	require.NoError(t, err)
	tr := tar.NewReader(bzip2.NewReader(bytes.NewReader(bz)))
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			files[h.Name] = string(b)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"proj/sub/f0.txt", "proj/sub/f1.txt", "proj/sub/f2.txt"}, names)
	assert.Equal(t, string(bytes.Repeat([]byte("1"), 1000)), files["proj/sub/f1.txt"])
}
