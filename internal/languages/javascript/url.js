// wasmbox JavaScript prelude, loaded lazily by web.js: URL and
// URLSearchParams, following the WHATWG URL Standard's parser, serializer
// and setters, as Node 20 does. What it leaves out: IDNA's UTS #46 mapping
// (a non-ASCII host name is lowercased, NFC-normalized and
// Punycode-encoded label by label) and encodings other than UTF-8.
//
// This file is one function expression of (W, inspect) returning the url
// module, which web.js evaluates the first time a cell touches URL,
// URLSearchParams or require('url'). Like web.js, it is the user's API,
// never wasmbox's.
(function (W, inspect) {
  'use strict';
  const CUSTOM = Symbol.for('nodejs.util.inspect.custom');

  const SPECIAL = { __proto__: null, 'ftp': 21, 'file': null, 'http': 80, 'https': 443, 'ws': 80, 'wss': 443 };
  const isSpecialScheme = (s) => s in SPECIAL;
  const EOF = undefined;

  // ---- percent-encoding ------------------------------------------------------

  const inC0 = (c) => c < 0x20 || c > 0x7e;
  const setOf = (base, chars) => {
    const extra = new Set(Array.from(chars, (ch) => ch.codePointAt(0)));
    return (c) => base(c) || extra.has(c);
  };
  const FRAGMENT = setOf(inC0, ' "<>`');
  const QUERY = setOf(inC0, ' "#<>');
  const SPECIAL_QUERY = setOf(QUERY, "'");
  const PATH = setOf(QUERY, '?`{}'); // as Node 20 (the standard has since added ^)
  const USERINFO = setOf(PATH, '/:;=@[\\]|');
  const COMPONENT = setOf(USERINFO, '$%&+,');
  const FORM = setOf(COMPONENT, "!'()~");

  const hex2 = (b) => '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  function percentEncode(s, inSet, spaceAsPlus) {
    let out = '';
    for (const ch of s) {
      const c = ch.codePointAt(0);
      if (spaceAsPlus && c === 0x20) out += '+';
      else if (!inSet(c)) out += ch;
      else {
        const bytes = new Uint8Array(W.utf8Encode(ch.length === 1 && c >= 0xd800 && c <= 0xdfff ? '\ufffd' : ch));
        for (let i = 0; i < bytes.length; i++) out += hex2(bytes[i]);
      }
    }
    return out;
  }
  const isHex = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  function percentDecodeBytes(s) {
    const bytes = new Uint8Array(W.utf8Encode(s));
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
        out[n++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
        i += 2;
      } else {
        out[n++] = b;
      }
    }
    return out.subarray(0, n);
  }
  const utf8Decode = (bytes) => {
    let s = W.utf8Decode(bytes);
    if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    return s;
  };

  // ---- hosts -----------------------------------------------------------------

  const FORBIDDEN_HOST = new Set(Array.from('\0\t\n\r #/:<>?@[\\]^|', (ch) => ch.charCodeAt(0)));
  const forbiddenHost = (c) => FORBIDDEN_HOST.has(c);
  const forbiddenDomain = (c) => forbiddenHost(c) || (c <= 0x1f) || c === 0x25 || c === 0x7f;

  function parseIPv4Number(s) {
    if (s === '') return NaN;
    let radix = 10;
    if (/^0[xX]/.test(s)) { s = s.slice(2); radix = 16; } else if (s.length > 1 && s[0] === '0') { s = s.slice(1); radix = 8; }
    if (s === '') return 0;
    const re = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
    return re.test(s) ? parseInt(s, radix) : NaN;
  }
  function endsInANumber(s) {
    const parts = s.split('.');
    if (parts[parts.length - 1] === '') {
      if (parts.length === 1) return false;
      parts.pop();
    }
    const last = parts[parts.length - 1];
    if (last !== '' && /^[0-9]+$/.test(last)) return true;
    return !Number.isNaN(parseIPv4Number(last));
  }
  function parseIPv4(s) {
    const parts = s.split('.');
    if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
    if (parts.length > 4) return null;
    const nums = parts.map(parseIPv4Number);
    if (nums.some(Number.isNaN)) return null;
    for (let i = 0; i < nums.length - 1; i++) if (nums[i] > 255) return null;
    if (nums[nums.length - 1] >= 256 ** (5 - nums.length)) return null;
    let ip = nums[nums.length - 1];
    for (let i = 0; i < nums.length - 1; i++) ip += nums[i] * 256 ** (3 - i);
    const out = [];
    for (let i = 0; i < 4; i++) { out.unshift(ip % 256); ip = Math.floor(ip / 256); }
    return out.join('.');
  }
  function parseIPv6(input) {
    const cps = Array.from(input, (ch) => ch.codePointAt(0));
    const address = [0, 0, 0, 0, 0, 0, 0, 0];
    let piece = 0, compress = null, p = 0;
    const hexValue = (c) => parseInt(String.fromCharCode(c), 16);
    const isDigit = (c) => c >= 0x30 && c <= 0x39;
    if (cps[p] === 0x3a) {
      if (cps[p + 1] !== 0x3a) return null;
      p += 2;
      compress = ++piece;
    }
    while (cps[p] !== EOF) {
      if (piece === 8) return null;
      if (cps[p] === 0x3a) {
        if (compress !== null) return null;
        p++;
        compress = ++piece;
        continue;
      }
      let value = 0, length = 0;
      while (length < 4 && cps[p] !== EOF && isHex(cps[p])) { value = value * 16 + hexValue(cps[p]); p++; length++; }
      if (cps[p] === 0x2e) {
        if (length === 0) return null;
        p -= length;
        if (piece > 6) return null;
        let seen = 0;
        while (cps[p] !== EOF) {
          let v4 = null;
          if (seen > 0) {
            if (cps[p] === 0x2e && seen < 4) p++;
            else return null;
          }
          if (!isDigit(cps[p])) return null;
          while (isDigit(cps[p])) {
            const n = cps[p] - 0x30;
            if (v4 === null) v4 = n;
            else if (v4 === 0) return null;
            else v4 = v4 * 10 + n;
            if (v4 > 255) return null;
            p++;
          }
          address[piece] = address[piece] * 0x100 + v4;
          seen++;
          if (seen === 2 || seen === 4) piece++;
        }
        if (seen !== 4) return null;
        break;
      } else if (cps[p] === 0x3a) {
        p++;
        if (cps[p] === EOF) return null;
      } else if (cps[p] !== EOF) {
        return null;
      }
      address[piece++] = value;
    }
    if (compress !== null) {
      let swaps = piece - compress;
      piece = 7;
      while (piece !== 0 && swaps > 0) {
        const t = address[piece];
        address[piece] = address[compress + swaps - 1];
        address[compress + swaps - 1] = t;
        piece--;
        swaps--;
      }
    } else if (piece !== 8) {
      return null;
    }
    // Serialize, compressing the first longest run of two or more zeros.
    let best = -1, bestLen = 1;
    for (let i = 0; i < 8;) {
      if (address[i] !== 0) { i++; continue; }
      let j = i;
      while (j < 8 && address[j] === 0) j++;
      if (j - i > bestLen) { best = i; bestLen = j - i; }
      i = j;
    }
    let out = '';
    for (let i = 0; i < 8; i++) {
      if (i === best) {
        out += i === 0 ? '::' : ':';
        i += bestLen - 1;
        continue;
      }
      out += address[i].toString(16) + (i < 7 ? ':' : '');
    }
    return out;
  }

  // Punycode (RFC 3492) encoding of one label.
  function punycode(label) {
    const cps = Array.from(label, (ch) => ch.codePointAt(0));
    const base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700;
    const digit = (d) => String.fromCharCode(d + 22 + 75 * (d < 26));
    const adapt = (delta, numPoints, first) => {
      delta = first ? Math.floor(delta / damp) : delta >> 1;
      delta += Math.floor(delta / numPoints);
      let k = 0;
      for (; delta > ((base - tMin) * tMax) >> 1; k += base) delta = Math.floor(delta / (base - tMin));
      return k + Math.floor(((base - tMin + 1) * delta) / (delta + skew));
    };
    let out = cps.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join('');
    const basic = out.length;
    let h = basic;
    if (basic) out += '-';
    let n = 128, delta = 0, bias = 72;
    while (h < cps.length) {
      const m = Math.min(...cps.filter((c) => c >= n));
      delta += (m - n) * (h + 1);
      n = m;
      for (const c of cps) {
        if (c < n) delta++;
        if (c === n) {
          let q = delta;
          for (let k = base; ; k += base) {
            const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
            if (q < t) break;
            out += digit(t + ((q - t) % (base - t)));
            q = Math.floor((q - t) / (base - t));
          }
          out += digit(q);
          bias = adapt(delta, h + 1, h === basic);
          delta = 0;
          h++;
        }
      }
      delta++;
      n++;
    }
    return out;
  }
  function domainToASCII(domain) {
    const labels = domain.normalize('NFC').toLowerCase().replace(/[\u3002\uff0e\uff61]/g, '.').split('.');
    const out = labels.map((l) => (/[^\0-\x7f]/.test(l) ? 'xn--' + punycode(l) : l)).join('.');
    return out === '' ? null : out;
  }

  // The serialized host, or null for failure.
  function parseHost(input, opaque) {
    if (input[0] === '[') {
      if (input[input.length - 1] !== ']') return null;
      const v6 = parseIPv6(input.slice(1, -1));
      return v6 === null ? null : '[' + v6 + ']';
    }
    if (opaque) {
      for (const ch of input) if (forbiddenHost(ch.codePointAt(0))) return null;
      return percentEncode(input, inC0);
    }
    const domain = utf8Decode(percentDecodeBytes(input));
    const ascii = domainToASCII(domain);
    if (ascii === null) return null;
    for (let i = 0; i < ascii.length; i++) if (forbiddenDomain(ascii.charCodeAt(i))) return null;
    if (endsInANumber(ascii)) return parseIPv4(ascii);
    return ascii;
  }

  // ---- the basic URL parser --------------------------------------------------

  const S = {
    SCHEME_START: 1, SCHEME: 2, NO_SCHEME: 3, SPECIAL_RELATIVE_OR_AUTHORITY: 4, PATH_OR_AUTHORITY: 5, RELATIVE: 6,
    RELATIVE_SLASH: 7, SPECIAL_AUTHORITY_SLASHES: 8, SPECIAL_AUTHORITY_IGNORE_SLASHES: 9, AUTHORITY: 10, HOST: 11,
    HOSTNAME: 12, PORT: 13, FILE: 14, FILE_SLASH: 15, FILE_HOST: 16, PATH_START: 17, PATH: 18, OPAQUE_PATH: 19,
    QUERY: 20, FRAGMENT: 21,
  };
  const FAILURE = null;

  const isAlpha = (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const isDigitC = (c) => c >= 0x30 && c <= 0x39;
  const isDriveLetter = (s, normalized) => s.length === 2 && isAlpha(s.charCodeAt(0)) &&
    (s[1] === ':' || (!normalized && s[1] === '|'));
  const startsWithDriveLetter = (cps, p) => cps.length - p >= 2 && isAlpha(cps[p]) &&
    (cps[p + 1] === 0x3a || cps[p + 1] === 0x7c) &&
    (cps.length - p === 2 || [0x2f, 0x5c, 0x3f, 0x23].includes(cps[p + 2]));
  const isSingleDot = (s) => s === '.' || s.toLowerCase() === '%2e';
  const isDoubleDot = (s) => ['..', '.%2e', '%2e.', '%2e%2e'].includes(s.toLowerCase());

  const newRecord = () => ({ scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null });
  const opaque = (r) => typeof r.path === 'string';
  const includesCredentials = (r) => r.username !== '' || r.password !== '';
  function shorten(r) {
    if (r.scheme === 'file' && r.path.length === 1 && isDriveLetter(r.path[0], true)) return;
    r.path.pop();
  }

  function basicParse(input, base, url, override) {
    if (!url) {
      url = newRecord();
      input = input.replace(/^[\0-\x20]+|[\0-\x20]+$/g, '');
    }
    input = input.replace(/[\t\n\r]/g, '');
    let state = override || S.SCHEME_START;
    let buffer = '';
    let atSeen = false, inBrackets = false, passwordSeen = false;
    const cps = Array.from(input, (ch) => ch.codePointAt(0));
    const special = () => isSpecialScheme(url.scheme);
    for (let p = 0; ; p++) {
      const c = cps[p];
      const ch = c === EOF ? '' : String.fromCodePoint(c);
      switch (state) {
        case S.SCHEME_START:
          if (c !== EOF && isAlpha(c)) { buffer += ch.toLowerCase(); state = S.SCHEME; }
          else if (!override) { state = S.NO_SCHEME; p--; }
          else return FAILURE;
          break;
        case S.SCHEME:
          if (c !== EOF && (isAlpha(c) || isDigitC(c) || c === 0x2b || c === 0x2d || c === 0x2e)) {
            buffer += ch.toLowerCase();
          } else if (c === 0x3a) {
            if (override) {
              if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
              if ((includesCredentials(url) || url.port !== null) && buffer === 'file') return url;
              if (url.scheme === 'file' && url.host === '') return url;
            }
            url.scheme = buffer;
            if (override) {
              if (url.port === SPECIAL[url.scheme]) url.port = null;
              return url;
            }
            buffer = '';
            if (url.scheme === 'file') state = S.FILE;
            else if (special() && base && base.scheme === url.scheme) state = S.SPECIAL_RELATIVE_OR_AUTHORITY;
            else if (special()) state = S.SPECIAL_AUTHORITY_SLASHES;
            else if (cps[p + 1] === 0x2f) { state = S.PATH_OR_AUTHORITY; p++; }
            else { url.path = ''; state = S.OPAQUE_PATH; }
          } else if (!override) {
            buffer = '';
            state = S.NO_SCHEME;
            p = -1;
          } else return FAILURE;
          break;
        case S.NO_SCHEME:
          if (!base || (opaque(base) && c !== 0x23)) return FAILURE;
          if (opaque(base) && c === 0x23) {
            url.scheme = base.scheme;
            url.path = base.path;
            url.query = base.query;
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (base.scheme !== 'file') { state = S.RELATIVE; p--; }
          else { state = S.FILE; p--; }
          break;
        case S.SPECIAL_RELATIVE_OR_AUTHORITY:
          if (c === 0x2f && cps[p + 1] === 0x2f) { state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES; p++; }
          else { state = S.RELATIVE; p--; }
          break;
        case S.PATH_OR_AUTHORITY:
          if (c === 0x2f) state = S.AUTHORITY;
          else { state = S.PATH; p--; }
          break;
        case S.RELATIVE:
          url.scheme = base.scheme;
          if (c === 0x2f || (special() && c === 0x5c)) state = S.RELATIVE_SLASH;
          else {
            url.username = base.username; url.password = base.password; url.host = base.host; url.port = base.port;
            url.path = base.path.slice(); url.query = base.query;
            if (c === 0x3f) { url.query = ''; state = S.QUERY; }
            else if (c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
            else if (c !== EOF) { url.query = null; shorten(url); state = S.PATH; p--; }
          }
          break;
        case S.RELATIVE_SLASH:
          if (special() && (c === 0x2f || c === 0x5c)) state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          else if (c === 0x2f) state = S.AUTHORITY;
          else {
            url.username = base.username; url.password = base.password; url.host = base.host; url.port = base.port;
            state = S.PATH;
            p--;
          }
          break;
        case S.SPECIAL_AUTHORITY_SLASHES:
          if (c === 0x2f && cps[p + 1] === 0x2f) { state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES; p++; }
          else { state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES; p--; }
          break;
        case S.SPECIAL_AUTHORITY_IGNORE_SLASHES:
          if (c !== 0x2f && c !== 0x5c) { state = S.AUTHORITY; p--; }
          break;
        case S.AUTHORITY:
          if (c === 0x40) {
            if (atSeen) buffer = '%40' + buffer;
            atSeen = true;
            for (const b of buffer) {
              if (b === ':' && !passwordSeen) { passwordSeen = true; continue; }
              const enc = percentEncode(b, USERINFO);
              if (passwordSeen) url.password += enc;
              else url.username += enc;
            }
            buffer = '';
          } else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special() && c === 0x5c)) {
            if (atSeen && buffer === '') return FAILURE;
            p -= Array.from(buffer).length + 1;
            buffer = '';
            state = S.HOST;
          } else buffer += ch;
          break;
        case S.HOST:
        case S.HOSTNAME:
          if (override && url.scheme === 'file') { p--; state = S.FILE_HOST; }
          else if (c === 0x3a && !inBrackets) {
            if (buffer === '') return FAILURE;
            if (override === S.HOSTNAME) return url;
            const host = parseHost(buffer, !special());
            if (host === null) return FAILURE;
            url.host = host;
            buffer = '';
            state = S.PORT;
          } else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special() && c === 0x5c)) {
            p--;
            if (special() && buffer === '') return FAILURE;
            if (override && buffer === '' && (includesCredentials(url) || url.port !== null)) return url;
            const host = parseHost(buffer, !special());
            if (host === null) return FAILURE;
            url.host = host;
            buffer = '';
            state = S.PATH_START;
            if (override) return url;
          } else {
            if (c === 0x5b) inBrackets = true;
            if (c === 0x5d) inBrackets = false;
            buffer += ch;
          }
          break;
        case S.PORT:
          if (c !== EOF && isDigitC(c)) buffer += ch;
          else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special() && c === 0x5c) || override) {
            if (buffer !== '') {
              const port = parseInt(buffer, 10);
              if (port > 65535) return FAILURE;
              url.port = port === SPECIAL[url.scheme] ? null : port;
              buffer = '';
            }
            if (override) return url;
            state = S.PATH_START;
            p--;
          } else return FAILURE;
          break;
        case S.FILE:
          url.scheme = 'file';
          url.host = '';
          if (c === 0x2f || c === 0x5c) state = S.FILE_SLASH;
          else if (base && base.scheme === 'file') {
            url.host = base.host;
            url.path = base.path.slice();
            url.query = base.query;
            if (c === 0x3f) { url.query = ''; state = S.QUERY; }
            else if (c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
            else if (c !== EOF) {
              url.query = null;
              if (!startsWithDriveLetter(cps, p)) shorten(url);
              else url.path = [];
              state = S.PATH;
              p--;
            }
          } else { state = S.PATH; p--; }
          break;
        case S.FILE_SLASH:
          if (c === 0x2f || c === 0x5c) state = S.FILE_HOST;
          else {
            if (base && base.scheme === 'file') {
              url.host = base.host;
              if (!startsWithDriveLetter(cps, p) && base.path.length && isDriveLetter(base.path[0], true)) url.path.push(base.path[0]);
            }
            state = S.PATH;
            p--;
          }
          break;
        case S.FILE_HOST:
          if (c === EOF || c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23) {
            p--;
            if (!override && isDriveLetter(buffer, false)) state = S.PATH;
            else if (buffer === '') {
              url.host = '';
              if (override) return url;
              state = S.PATH_START;
            } else {
              let host = parseHost(buffer, !special());
              if (host === null) return FAILURE;
              if (host === 'localhost') host = '';
              url.host = host;
              if (override) return url;
              buffer = '';
              state = S.PATH_START;
            }
          } else buffer += ch;
          break;
        case S.PATH_START:
          if (special()) {
            state = S.PATH;
            if (c !== 0x2f && c !== 0x5c) p--;
          } else if (!override && c === 0x3f) { url.query = ''; state = S.QUERY; }
          else if (!override && c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
          else if (c !== EOF) {
            state = S.PATH;
            if (c !== 0x2f) p--;
          } else if (override && url.host === null) url.path.push('');
          break;
        case S.PATH:
          if (c === EOF || c === 0x2f || (special() && c === 0x5c) || (!override && (c === 0x3f || c === 0x23))) {
            const slash = c === 0x2f || (special() && c === 0x5c);
            if (isDoubleDot(buffer)) {
              shorten(url);
              if (!slash) url.path.push('');
            } else if (isSingleDot(buffer) && !slash) url.path.push('');
            else if (!isSingleDot(buffer)) {
              if (url.scheme === 'file' && url.path.length === 0 && isDriveLetter(buffer, false)) buffer = buffer[0] + ':';
              url.path.push(buffer);
            }
            buffer = '';
            if (c === 0x3f) { url.query = ''; state = S.QUERY; }
            if (c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
          } else buffer += percentEncode(ch, PATH);
          break;
        case S.OPAQUE_PATH:
          if (c === 0x3f) { url.query = ''; state = S.QUERY; }
          else if (c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
          else if (c !== EOF) url.path += percentEncode(ch, inC0);
          break;
        case S.QUERY:
          if ((!override && c === 0x23) || c === EOF) {
            url.query += percentEncode(buffer, special() ? SPECIAL_QUERY : QUERY);
            buffer = '';
            if (c === 0x23) { url.fragment = ''; state = S.FRAGMENT; }
          } else if (c !== EOF) buffer += ch;
          break;
        case S.FRAGMENT:
          if (c !== EOF) url.fragment += percentEncode(ch, FRAGMENT);
          break;
      }
      if (p >= cps.length) break; // the state handled EOF, and did not step back
    }
    return url;
  }

  function serializePath(r) {
    if (opaque(r)) return r.path;
    let out = '';
    for (const seg of r.path) out += '/' + seg;
    return out;
  }
  function serialize(r, excludeFragment) {
    let out = r.scheme + ':';
    if (r.host !== null) {
      out += '//';
      if (includesCredentials(r)) out += r.username + (r.password !== '' ? ':' + r.password : '') + '@';
      out += r.host + (r.port !== null ? ':' + r.port : '');
    } else if (!opaque(r) && r.path.length > 1 && r.path[0] === '') out += '/.';
    out += serializePath(r);
    if (r.query !== null) out += '?' + r.query;
    if (!excludeFragment && r.fragment !== null) out += '#' + r.fragment;
    return out;
  }
  function originOf(r) {
    if (r.scheme === 'blob') {
      const inner = basicParse(serializePath(r), null);
      return inner !== null && (inner.scheme === 'http' || inner.scheme === 'https') ? originOf(inner) : 'null';
    }
    if (r.scheme === 'ftp' || r.scheme === 'http' || r.scheme === 'https' || r.scheme === 'ws' || r.scheme === 'wss') {
      return r.scheme + '://' + r.host + (r.port !== null ? ':' + r.port : '');
    }
    return 'null';
  }
  const stripTrailingSpaces = (r) => {
    if (opaque(r) && r.fragment === null && r.query === null) r.path = r.path.replace(/ +$/, '');
  };

  // ---- application/x-www-form-urlencoded -------------------------------------

  function parseForm(s) {
    const out = [];
    for (const part of s.split('&')) {
      if (part === '') continue;
      const i = part.indexOf('=');
      const name = i < 0 ? part : part.slice(0, i);
      const value = i < 0 ? '' : part.slice(i + 1);
      const dec = (x) => utf8Decode(percentDecodeBytes(x.replace(/\+/g, ' ')));
      out.push([dec(name), dec(value)]);
    }
    return out;
  }
  const toUSV = (s) => String(s).toWellFormed();
  const serializeForm = (list) => list.map(([n, v]) => percentEncode(n, FORM, true) + '=' + percentEncode(v, FORM, true)).join('&');

  // ---- URLSearchParams -------------------------------------------------------

  let attach, reset, setQuery; // the classes' private access for each other

  class URLSearchParams {
    #list = [];
    #url = null; // the URL whose query this is
    constructor(init = '') {
      if (init !== null && typeof init === 'object' || typeof init === 'function') {
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const p = Array.from(pair);
            if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
            this.#list.push([toUSV(p[0]), toUSV(p[1])]);
          }
        } else {
          for (const k of Reflect.ownKeys(init)) {
            const d = Reflect.getOwnPropertyDescriptor(init, k);
            if (typeof k === 'string' && d && d.enumerable) this.#list.push([toUSV(k), toUSV(init[k])]);
          }
        }
      } else {
        let s = toUSV(init);
        if (s[0] === '?') s = s.slice(1);
        this.#list = parseForm(s);
      }
    }
    static {
      attach = (params, url, query) => {
        params.#url = url;
        params.#list = query ? parseForm(query) : [];
      };
      reset = (params, query) => { params.#list = query ? parseForm(query) : []; };
    }
    #update() {
      if (this.#url === null) return;
      const s = serializeForm(this.#list);
      setQuery(this.#url, s === '' ? null : s);
    }
    get size() { return this.#list.length; }
    append(name, value) {
      if (arguments.length < 2) throw new TypeError('The "name" and "value" arguments must be specified');
      this.#list.push([toUSV(name), toUSV(value)]);
      this.#update();
    }
    delete(name, value) {
      name = toUSV(name);
      value = value === undefined ? undefined : toUSV(value);
      this.#list = this.#list.filter(([n, v]) => !(n === name && (value === undefined || v === value)));
      this.#update();
    }
    get(name) {
      name = toUSV(name);
      const e = this.#list.find(([n]) => n === name);
      return e ? e[1] : null;
    }
    getAll(name) {
      name = toUSV(name);
      return this.#list.filter(([n]) => n === name).map(([, v]) => v);
    }
    has(name, value) {
      name = toUSV(name);
      value = value === undefined ? undefined : toUSV(value);
      return this.#list.some(([n, v]) => n === name && (value === undefined || v === value));
    }
    set(name, value) {
      name = toUSV(name);
      value = toUSV(value);
      const i = this.#list.findIndex(([n]) => n === name);
      if (i < 0) this.#list.push([name, value]);
      else {
        this.#list[i][1] = value;
        this.#list = this.#list.filter(([n], j) => j <= i || n !== name);
      }
      this.#update();
    }
    sort() {
      // Stable, by code units of the names.
      this.#list = this.#list.map((e, i) => [e, i]).sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j)).map(([e]) => e);
      this.#update();
    }
    forEach(callback, thisArg) {
      if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
      for (let i = 0; i < this.#list.length; i++) {
        const [n, v] = this.#list[i];
        callback.call(thisArg, v, n, this);
      }
    }
    *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
    *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
    *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return serializeForm(this.#list); }
    get [Symbol.toStringTag]() { return 'URLSearchParams'; }
    [CUSTOM]() {
      if (this.#list.length === 0) return 'URLSearchParams {}';
      const items = this.#list.map(([n, v]) => `${inspect(n)} => ${inspect(v)}`);
      const one = `URLSearchParams { ${items.join(', ')} }`;
      return one.length <= 72 ? one : `URLSearchParams {\n  ${items.join(',\n  ')} }`;
    }
  }

  // ---- URL ---------------------------------------------------------------------

  class URL {
    #r;
    #params;
    constructor(url, base) {
      if (arguments.length === 0) throw new TypeError('The "url" argument must be specified');
      const r = URL.#parse(url, base);
      if (r === null) {
        const e = new TypeError('Invalid URL');
        Object.defineProperty(e, 'code', { value: 'ERR_INVALID_URL', writable: true, configurable: true });
        e.input = String(url);
        if (base !== undefined) e.base = String(base);
        throw e;
      }
      this.#r = r;
      this.#params = new URLSearchParams();
      attach(this.#params, this, r.query);
    }
    static #parse(url, base) {
      let b = null;
      if (base !== undefined) {
        b = basicParse(toUSV(base), null);
        if (b === null) return null;
      }
      return basicParse(toUSV(url), b);
    }
    static canParse(url, base) {
      try { return URL.#parse(url, base) !== null; } catch (e) { return false; }
    }
    static parse(url, base) {
      try { return new URL(url, base); } catch (e) { return null; }
    }
    static {
      setQuery = (u, q) => {
        u.#r.query = q;
        if (q === null) stripTrailingSpaces(u.#r);
      };
    }
    get href() { return serialize(this.#r); }
    set href(v) {
      const r = basicParse(toUSV(v), null);
      if (r === null) throw new TypeError(`Invalid URL: ${v}`);
      this.#r = r;
      reset(this.#params, r.query);
    }
    get origin() { return originOf(this.#r); }
    get protocol() { return this.#r.scheme + ':'; }
    set protocol(v) { basicParse(toUSV(v) + ':', null, this.#r, S.SCHEME_START); }
    get username() { return this.#r.username; }
    set username(v) {
      const r = this.#r;
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      r.username = percentEncode(toUSV(v), USERINFO);
    }
    get password() { return this.#r.password; }
    set password(v) {
      const r = this.#r;
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      r.password = percentEncode(toUSV(v), USERINFO);
    }
    get host() {
      const r = this.#r;
      if (r.host === null) return '';
      return r.port === null ? r.host : r.host + ':' + r.port;
    }
    set host(v) {
      if (opaque(this.#r)) return;
      this.#update(toUSV(v), S.HOST);
    }
    get hostname() { return this.#r.host === null ? '' : this.#r.host; }
    set hostname(v) {
      if (opaque(this.#r)) return;
      this.#update(toUSV(v), S.HOSTNAME);
    }
    get port() { return this.#r.port === null ? '' : String(this.#r.port); }
    set port(v) {
      const r = this.#r;
      if (r.host === null || r.host === '' || r.scheme === 'file') return;
      v = toUSV(v);
      if (v === '') r.port = null;
      else this.#update(v, S.PORT);
    }
    get pathname() { return serializePath(this.#r); }
    set pathname(v) {
      if (opaque(this.#r)) return;
      const copy = { ...this.#r, path: [] };
      const r = basicParse(toUSV(v), null, copy, S.PATH_START);
      if (r !== null) this.#r = r;
    }
    get search() { return this.#r.query === null || this.#r.query === '' ? '' : '?' + this.#r.query; }
    set search(v) {
      v = toUSV(v);
      const r = this.#r;
      if (v === '') {
        r.query = null;
        reset(this.#params, null);
        stripTrailingSpaces(r);
        return;
      }
      const input = v[0] === '?' ? v.slice(1) : v;
      const copy = { ...r, query: '' };
      const out = basicParse(input, null, copy, S.QUERY);
      if (out === null) return;
      this.#r = out;
      reset(this.#params, input);
    }
    get searchParams() { return this.#params; }
    get hash() { return this.#r.fragment === null || this.#r.fragment === '' ? '' : '#' + this.#r.fragment; }
    set hash(v) {
      v = toUSV(v);
      const r = this.#r;
      if (v === '') {
        r.fragment = null;
        stripTrailingSpaces(r);
        return;
      }
      const copy = { ...r, fragment: '' };
      const out = basicParse(v[0] === '#' ? v.slice(1) : v, null, copy, S.FRAGMENT);
      if (out !== null) this.#r = out;
    }
    // A setter's parse works on a copy, so that a failure changes nothing.
    #update(v, state) {
      const copy = { ...this.#r, path: opaque(this.#r) ? this.#r.path : this.#r.path.slice() };
      const out = basicParse(v, null, copy, state);
      if (out !== null) this.#r = out;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
    get [Symbol.toStringTag]() { return 'URL'; }
    [CUSTOM]() {
      const o = {
        href: this.href, origin: this.origin, protocol: this.protocol, username: this.username,
        password: this.password, host: this.host, hostname: this.hostname, port: this.port,
        pathname: this.pathname, search: this.search, searchParams: this.#params, hash: this.hash,
      };
      return 'URL ' + inspect(o);
    }
  }

  function fileURLToPath(u) {
    const url = typeof u === 'string' ? new URL(u) : u;
    if (!(url instanceof URL)) throw new TypeError(`The "path" argument must be of type string or an instance of URL. Received ${inspect(u)}`);
    if (url.protocol !== 'file:') {
      const e = new TypeError('The URL must be of scheme file');
      Object.defineProperty(e, 'code', { value: 'ERR_INVALID_URL_SCHEME', writable: true, configurable: true });
      throw e;
    }
    if (url.hostname !== '') throw new TypeError(`File URL host must be "localhost" or empty on wasi`);
    if (/%2f/i.test(url.pathname)) throw new TypeError('File URL path must not include encoded / characters');
    return decodeURIComponent(url.pathname);
  }
  function pathToFileURL(p) {
    const dir = W.getcwd();
    let abs = String(p);
    if (abs[0] !== '/') abs = dir + '/' + abs;
    const trailing = abs.endsWith('/');
    const parts = [];
    for (const seg of abs.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') parts.pop();
      else parts.push(seg);
    }
    const path = '/' + parts.join('/') + (trailing && parts.length ? '/' : '');
    const u = new URL('file://');
    u.pathname = path.replace(/%/g, '%25').replace(/\\/g, '%5C').replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/\t/g, '%09');
    return u;
  }

  return { URL, URLSearchParams, fileURLToPath, pathToFileURL, domainToASCII: (d) => domainToASCII(String(d)) || '' };
})
