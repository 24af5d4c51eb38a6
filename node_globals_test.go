package wasmbox_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox"
)

// checkJS runs each expression in one JavaScript context and compares its
// JSON (or, for a thrown error, "THROW name: message") with what Node 20
// gives.
func checkJS(t *testing.T, cases map[string]string) {
	t.Helper()
	sb := newSandbox(t)
	c := newContext(t, sb, "javascript")
	for expr, want := range cases {
		exec := run(t, sb, "let __out; try { __out = JSON.stringify(("+expr+")) } catch (e) { __out = 'THROW ' + e.name + ': ' + e.message }; console.log(__out)", wasmbox.InContext(c))
		noError(t, exec)
		assert.Equal(t, []string{want + "\n"}, exec.Logs.Stdout, expr)
	}
}

// The strings below are Node 20's answers.
func TestNodeGlobalsBase64AndClone(t *testing.T) {
	checkJS(t, map[string]string{
		`btoa('hello')`:     `"aGVsbG8="`,
		`atob('aGVs bG8=')`: `"hello"`,
		`atob('YQ')`:        `"a"`,
		`btoa('\xff\x00')`:  `"/wA="`,
		`(() => { try { btoa('é漢') } catch (e) { return [e.name, e.code, e instanceof DOMException, e instanceof Error] } })()`: `["InvalidCharacterError",5,true,true]`,
		`(() => { try { atob('a') } catch (e) { return e.name } })()`:                                                           `"InvalidCharacterError"`,
		`(() => { const s = structuredClone({ a: 1, d: new Date(5), r: /x/gi, m: new Map([[1, { b: [2] }]]), s: new Set([1]), u8: new Uint8Array([1, 2]), big: 10n, n: null, und: undefined, nested: { arr: [1, , 3] } }); return [s.d instanceof Date, s.d.getTime(), String(s.r), s.m.get(1).b[0], s.s.has(1), s.u8 instanceof Uint8Array, s.u8[1], typeof s.big, s.n, 'und' in s, 1 in s.nested.arr] })()`: `[true,5,"/x/gi",2,true,true,2,"bigint",null,true,false]`,
		`(() => { const o = { name: 'o' }; o.self = o; const c = structuredClone(o); return [c !== o, c.self === c] })()`:                                                                  `[true,true]`,
		`(() => { const a = {}; const c = structuredClone([a, a]); return c[0] === c[1] })()`:                                                                                              `true`,
		`(() => { try { structuredClone({ f() {} }) } catch (e) { return [e.name, e instanceof DOMException] } })()`:                                                                       `["DataCloneError",true]`,
		`(() => { const e = structuredClone(new RangeError('bad')); return [e instanceof RangeError, e.message, e.name] })()`:                                                              `[true,"bad","RangeError"]`,
		`(() => { class P { constructor() { this.x = 1 } get y() { return 2 } } const c = structuredClone(new P()); return [Object.getPrototypeOf(c) === Object.prototype, c.x, c.y] })()`: `[true,1,null]`,
		`(() => { const u = new Uint8Array([1, 2, 3, 4]); const v = new Uint16Array(u.buffer, 2, 1); const c = structuredClone({ u, v }); return [c.u.buffer === c.v.buffer, c.v[0]] })()`: `[true,1027]`,
		`(() => { const d = new DOMException('m', 'AbortError'); return [d.name, d.message, d.code, d instanceof Error] })()`:                                                              `["AbortError","m",20,true]`,
		`[typeof queueMicrotask, typeof performance.now(), typeof TextEncoder, typeof structuredClone]`:                                                                                    `["function","number","function","function"]`,
	})
}

func TestNodeGlobalsBuffer(t *testing.T) {
	checkJS(t, map[string]string{
		`[...Buffer.from('héllo wörld')]`:                  `[104,195,169,108,108,111,32,119,195,182,114,108,100]`,
		`Buffer.from('héllo').toString('hex')`:             `"68c3a96c6c6f"`,
		`Buffer.from('héllo').toString('base64')`:          `"aMOpbGxv"`,
		`Buffer.from('héllo').toString('base64url')`:       `"aMOpbGxv"`,
		`Buffer.from('aMOpbGxv\n', 'base64').toString()`:   `"héllo"`,
		`Buffer.from('aMO-bA', 'base64url').length`:        `4`,
		`Buffer.from('1234zz', 'hex').toString('hex')`:     `"1234"`,
		`Buffer.from('é', 'latin1')[0]`:                    `233`,
		`Buffer.from('hi', 'utf16le').toString('hex')`:     `"68006900"`,
		`Buffer.from([256, -1, 1.5, 'x']).toString('hex')`: `"00ff0100"`,
		`(() => { const ab = new ArrayBuffer(4); const b = Buffer.from(ab, 1, 2); b[0] = 7; return [b.length, new Uint8Array(ab)[1]] })()`: `[2,7]`,
		`[Buffer.byteLength('héllo'), Buffer.byteLength('aGk=', 'base64'), Buffer.byteLength(new Uint8Array(5))]`:                          `[6,2,5]`,
		`Buffer.concat([Buffer.from('ab'), new Uint8Array([99]), Buffer.from('de')], 4).toString()`:                                        `"abcd"`,
		`[Buffer.isBuffer(Buffer.alloc(1)), Buffer.isBuffer(new Uint8Array(1)), Buffer.isEncoding('UTF-8'), Buffer.isEncoding('nope')]`:    `[true,false,true,false]`,
		`Buffer.alloc(5, 'ab').toString()`: `"ababa"`,
		`(() => { const b = Buffer.from('hello'); const s = b.subarray(1); s[0] = 69; return [b.toString(), Buffer.isBuffer(s), b.slice(1, 3).toString()] })()`:                           `["hEllo",true,"El"]`,
		`[Buffer.from('hello').equals(Buffer.from('hello')), Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.from('hello world').indexOf('world')]`:                            `[true,-1,6]`,
		`(() => { const b = Buffer.alloc(8); b.writeUInt32BE(0xdeadbeef, 0); b.writeInt16LE(-2, 4); return [b.toString('hex'), b.readUInt32BE(0), b.readInt16LE(4), b.readUint8(0)] })()`: `["deadbeeffeff0000",3735928559,-2,222]`,
		`(() => { try { Buffer.alloc(2).readUInt32LE(0) } catch (e) { return [e.name, e.code] } })()`:                                                                                     `["RangeError","ERR_BUFFER_OUT_OF_BOUNDS"]`,
		`(() => { const b = Buffer.alloc(4); return [b.write('héllo'), b.toString()] })()`:                                                                                                `[4,"hél"]`,
		`JSON.stringify(Buffer.from('hi'))`:                                                    `"{\"type\":\"Buffer\",\"data\":[104,105]}"`,
		`Buffer.from({ type: 'Buffer', data: [1, 2] }).toString('hex')`:                        `"0102"`,
		`(() => { try { Buffer.from('x', 'nope') } catch (e) { return [e.name, e.code] } })()`: `["TypeError","ERR_UNKNOWN_ENCODING"]`,
		`require('buffer').Buffer === Buffer`:                                                  `true`,
		"(() => { fs.writeFileSync('/tmp/b64', 'aGk=', 'base64'); const b = fs.readFileSync('/tmp/b64'); return [Buffer.isBuffer(b), b.toString(), fs.readFileSync('/tmp/b64', 'hex')] })()": `[true,"hi","6869"]`,
	})
	sb := newSandbox(t)
	exec := run(t, sb, "[Buffer.from('hi'), Buffer.alloc(60)]", wasmbox.WithLanguage("js"))
	noError(t, exec)
	assert.Equal(t, "[\n  <Buffer 68 69>,\n  <Buffer 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ... 10 more bytes>\n]", exec.Text(), "shown as Node shows a Buffer")
}

func TestNodeGlobalsURL(t *testing.T) {
	cases := map[string]string{
		`new URL('https://user:pw@Example.COM:443/a/../b/./c?x=1&y=two words#frag').href`:               `"https://user:pw@example.com/b/c?x=1&y=two%20words#frag"`,
		`new URL('../x/y?z', 'http://h.com/a/b/c').href`:                                                `"http://h.com/a/x/y?z"`,
		`new URL('mailto:someone@example.com').pathname`:                                                `"someone@example.com"`,
		`new URL('file:///home/user/a b.txt').href`:                                                     `"file:///home/user/a%20b.txt"`,
		`new URL('http://[::ffff:192.168.0.1]/').hostname`:                                              `"[::ffff:c0a8:1]"`,
		`new URL('http://0x7f.1/').hostname`:                                                            `"127.0.0.1"`,
		`new URL('http://Βόλος.com/').hostname`:                                                         `"xn--nxasmm1c.com"`,
		`new URL('http://a.b:65535').port`:                                                              `"65535"`,
		`new URL('blob:https://a.b/uuid').origin`:                                                       `"https://a.b"`,
		`(() => { try { new URL('http://a b/') } catch (e) { return [e.name, e.message, e.code] } })()`: `["TypeError","Invalid URL","ERR_INVALID_URL"]`,
		`[URL.canParse('x'), URL.canParse('x', 'http://y/')]`:                                           `[false,true]`,
		`(() => { const u = new URL('http://a.b/p?x=1'); u.searchParams.set('y', '2 3'); u.searchParams.append('x', '&'); return [u.href, u.search] })()`:                                                                  `["http://a.b/p?x=1&y=2+3&x=%26","?x=1&y=2+3&x=%26"]`,
		`(() => { const u = new URL('http://a.b/p'); u.pathname = '/x y/../z'; u.hash = 'h h'; u.port = '8080'; u.hostname = 'NEW.com'; u.protocol = 'https'; u.username = 'u s'; u.password = 'p@ss'; return u.href })()`: `"https://u%20s:p%40ss@new.com:8080/z#h%20h"`,
		`(() => { const u = new URL('http://a.b/p?x=1#f'); u.href = 'https://c.d/q?y=2'; return [u.href, u.searchParams.get('y')] })()`:                                                                                    `["https://c.d/q?y=2","2"]`,
		`[...new URLSearchParams('a=b+c%20d&e=%zz&=f&g')]`: `[["a","b c d"],["e","%zz"],["","f"],["g",""]]`,
		`(() => { const p = new URLSearchParams('z=1&a=2&z=0&b'); p.sort(); p.delete('b'); return [p.toString(), p.size, p.has('z', '0')] })()`:           `["a=2&z=1&z=0",3,true]`,
		`new URLSearchParams({ x: '1', y: 'é ü' }).toString()`:                                                                                            `"x=1&y=%C3%A9+%C3%BC"`,
		`(() => { const { fileURLToPath, pathToFileURL } = require('url'); return [fileURLToPath('file:///a/b%20c'), pathToFileURL('/x/y z#').href] })()`: `["/a/b c","file:///x/y%20z%23"]`,
	}
	checkJS(t, cases)
	sb := newSandbox(t)
	exec := run(t, sb, "new URL('https://example.com/a?b=1')", wasmbox.WithLanguage("js"))
	noError(t, exec)
	assert.Equal(t, `URL {
  href: 'https://example.com/a?b=1',
  origin: 'https://example.com',
  protocol: 'https:',
  username: '',
  password: '',
  host: 'example.com',
  hostname: 'example.com',
  port: '',
  pathname: '/a',
  search: '?b=1',
  searchParams: URLSearchParams { 'b' => '1' },
  hash: ''
}`, exec.Text(), "shown as Node shows a URL")
}

func TestNodeGlobalsIntl(t *testing.T) {
	checkJS(t, map[string]string{
		`(1234567.891).toLocaleString()`:                                                                                                                                `"1,234,567.891"`,
		`(-0).toLocaleString()`:                                                                                                                                         `"-0"`,
		`(1.005).toLocaleString('en-US', {maximumFractionDigits: 2})`:                                                                                                   `"1.01"`,
		`(-2.5).toLocaleString('en-US', {maximumFractionDigits: 0})`:                                                                                                    `"-3"`,
		`(1234.5).toLocaleString('en-US', {style: 'currency', currency: 'EUR'})`:                                                                                        `"€1,234.50"`,
		`(1234.5).toLocaleString('en-US', {style: 'currency', currency: 'JPY'})`:                                                                                        `"¥1,235"`,
		`(-1234.5).toLocaleString('en-US', {style: 'currency', currency: 'USD', currencySign: 'accounting'})`:                                                           `"($1,234.50)"`,
		`(1234.5).toLocaleString('en-US', {style: 'currency', currency: 'USD', currencyDisplay: 'name'})`:                                                               `"1,234.50 US dollars"`,
		`(0.256).toLocaleString('en-US', {style: 'percent', minimumFractionDigits: 1})`:                                                                                 `"25.6%"`,
		`[999999, 1500000, 123, 12345, 1.5e13].map(n => n.toLocaleString('en-US', {notation: 'compact'}))`:                                                              `["1M","1.5M","123","12K","15T"]`,
		`(123456).toLocaleString('en-US', {notation: 'engineering'})`:                                                                                                   `"123.456E3"`,
		`(1234.5678).toLocaleString('en-US', {maximumSignificantDigits: 3})`:                                                                                            `"1,230"`,
		`(12345).toLocaleString('en-US', {useGrouping: 'min2'})`:                                                                                                        `"12,345"`,
		`(50).toLocaleString('en-US', {style: 'unit', unit: 'kilometer-per-hour', unitDisplay: 'long'})`:                                                                `"50 kilometers per hour"`,
		`(123456789n).toLocaleString()`:                                                                                                                                 `"123,456,789"`,
		`new Intl.NumberFormat().formatToParts(-1234.5)`:                                                                                                                `[{"type":"minusSign","value":"-"},{"type":"integer","value":"1"},{"type":"group","value":","},{"type":"integer","value":"234"},{"type":"decimal","value":"."},{"type":"fraction","value":"5"}]`,
		`new Intl.NumberFormat().resolvedOptions()`:                                                                                                                     `{"locale":"en-US","numberingSystem":"latn","style":"decimal","minimumIntegerDigits":1,"minimumFractionDigits":0,"maximumFractionDigits":3,"useGrouping":"auto","notation":"standard","signDisplay":"auto","roundingMode":"halfExpand","roundingIncrement":1,"trailingZeroDisplay":"auto","roundingPriority":"auto"}`,
		`new Date(Date.UTC(2024, 0, 2, 15, 4, 5)).toLocaleString()`:                                                                                                     `"1/2/2024, 3:04:05 PM"`,
		`new Date(Date.UTC(2024, 0, 2, 0, 4, 5)).toLocaleTimeString('en-US', {timeZone: 'UTC'})`:                                                                        `"12:04:05 AM"`,
		`new Date(Date.UTC(2024, 0, 2, 3, 4, 5)).toLocaleTimeString('en-US', {hour12: false})`:                                                                          `"03:04:05"`,
		`new Date(Date.UTC(2024, 0, 2, 15, 4, 5)).toLocaleString('en-US', {dateStyle: 'full', timeStyle: 'full'})`:                                                      `"Tuesday, January 2, 2024 at 3:04:05 PM Coordinated Universal Time"`,
		`new Date(Date.UTC(2024, 0, 2, 15, 4, 5)).toLocaleString('en-US', {dateStyle: 'medium', timeStyle: 'short'})`:                                                   `"Jan 2, 2024, 3:04 PM"`,
		`new Date(Date.UTC(2024, 0, 2)).toLocaleDateString('en-US', {weekday: 'long', month: 'long', day: 'numeric'})`:                                                  `"Tuesday, January 2"`,
		`new Date(Date.UTC(2024, 0, 2)).toLocaleDateString('en-US', {year: 'numeric', month: '2-digit', day: '2-digit'})`:                                               `"01/02/2024"`,
		`new Date(Date.UTC(2024, 0, 2, 15, 4, 5, 123)).toLocaleTimeString('en-US', {fractionalSecondDigits: 2, hour: 'numeric', minute: 'numeric', second: 'numeric'})`: `"3:04:05.12 PM"`,
		`new Date(Date.UTC(2024, 0, 2, 15, 4, 5)).toLocaleString('en-US', {timeZoneName: 'short'})`:                                                                     `"1/2/2024, 3:04:05 PM UTC"`,
		`new Intl.DateTimeFormat('en-US', {timeStyle: 'short'}).resolvedOptions()`:                                                                                      `{"locale":"en-US","calendar":"gregory","numberingSystem":"latn","timeZone":"UTC","hourCycle":"h12","hour12":true,"timeStyle":"short"}`,
		`new Date(NaN).toLocaleString()`:                                                                                                                                `"Invalid Date"`,
		`[1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(n => new Intl.PluralRules('en-US', {type: 'ordinal'}).select(n))`:                                           `["one","two","few","other","other","other","other","one","two","few","one","other"]`,
		`['b', 'a', 'B', 'A', 'á', 'c'].sort(new Intl.Collator('en').compare)`:                                                                                          `["a","A","á","b","B","c"]`,
		`['item10', 'item2', 'item1'].sort(new Intl.Collator(undefined, {numeric: true}).compare)`:                                                                      `["item1","item2","item10"]`,
		`'résumé'.localeCompare('resume', 'en', {sensitivity: 'base'})`:                                                                                                 `0`,
		`new Intl.ListFormat('en', {style: 'long', type: 'conjunction'}).format(['a', 'b', 'c'])`:                                                                       `"a, b, and c"`,
		`new Intl.RelativeTimeFormat('en', {numeric: 'auto'}).format(-1, 'day')`:                                                                                        `"yesterday"`,
		`new Intl.RelativeTimeFormat('en').format(1000, 'year')`:                                                                                                        `"in 1,000 years"`,
		`Intl.getCanonicalLocales(['EN-us', 'zh-hant-tw'])`:                                                                                                             `["en-US","zh-Hant-TW"]`,
	})
	// What Node does and wasmbox does not: other locales, time zones.
	checkJS(t, map[string]string{
		`new Intl.NumberFormat('de-DE').format(1234.5)`:                   `"1,234.5"`,
		`new Intl.NumberFormat('de-DE').resolvedOptions().locale`:         `"en-US"`,
		`Intl.NumberFormat.supportedLocalesOf(['en-US', 'de-DE', 'en'])`:  `["en-US","en"]`,
		`new Date(0).toLocaleString('en-US', {timeZone: 'Europe/Paris'})`: `THROW RangeError: Invalid time zone specified: Europe/Paris (wasmbox has no time-zone database: only UTC and offsets such as +05:30)`,
		`new Date(0).toLocaleString('en-US', {timeZone: '+05:30'})`:       `"1/1/1970, 5:30:00 AM"`,
	})
}

// The globals are the user's: a cell that replaces or breaks them changes
// its own view, never wasmbox's reporting or later cells.
func TestNodeGlobalsHostile(t *testing.T) {
	sb := newSandbox(t)
	c := newContext(t, sb, "javascript")
	runIn(t, sb, c, "var kept = 41")
	exec := runIn(t, sb, c, `
Buffer.prototype[Symbol.for('nodejs.util.inspect.custom')] = () => { throw new Error('custom inspect') }
URL.prototype[Symbol.for('nodejs.util.inspect.custom')] = function () { return this }
globalThis.Intl = undefined
globalThis.structuredClone = () => { throw new Error('clone') }
Number.prototype.toLocaleString = () => { throw new Error('toLocaleString') }
globalThis.atob = globalThis.btoa = globalThis.URL = globalThis.DOMException = null
;[Buffer.from('a'), new (require('url').URL)('http://x/')]`)
	noError(t, exec)
	assert.True(t, strings.HasPrefix(exec.Text(), "[ Buffer(1) [ 97 ],"), exec.Text())
	checkJavaScriptWorks(t, sb, c)
	exec = runIn(t, sb, c, "new Date(0).toLocaleDateString('en-US', { dateStyle: 'long' })")
	noError(t, exec)
	assert.Equal(t, "January 1, 1970", exec.Text(), "toLocaleString of Date still formats with the prelude's Intl")
}
