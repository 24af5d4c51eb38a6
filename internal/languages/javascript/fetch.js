// wasmbox JavaScript prelude, loaded lazily by web.js: fetch, Request,
// Response and Headers. This file is one function expression of (W, web)
// returning them, which web.js evaluates the first time a cell touches one
// of them.
//
// A sandbox has no sockets: fetch hands the request to the host through
// the files under /dev/wasmbox/net (see the Go package network, Device).
// The host checks it against its network policy, makes it with Go's
// net/http (TLS verified by Go) and follows redirects; the response body is
// read whole before fetch's promise settles. A refused or failed request
// rejects with TypeError("fetch failed: <reason>"), the reason also being
// its cause, as in Node; without a policy the reason says that the sandbox
// has no network.
(function (W, web) {
  'use strict';
  const DEV = '/dev/wasmbox/net';
  const NO_NETWORK = 'the sandbox has no network: the host must allow it ' +
    '(wasmbox.WithNetwork in Go, or wasmbox serve --allow-host HOST)';
  let seq = 0;

  function hide(obj, name, value) {
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }
  const encode = (s) => new Uint8Array(W.utf8Encode(String(s)));
  const decode = (bytes) => W.utf8Decode(bytes);

  // ---- Headers -------------------------------------------------------------

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  function checkName(name) {
    name = String(name);
    if (!TOKEN.test(name)) throw new TypeError(`Headers: invalid header name: "${name}"`);
    return name.toLowerCase();
  }
  function checkValue(value) {
    value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (/[\0\r\n]/.test(value)) throw new TypeError(`Headers: invalid header value: "${value}"`);
    return value;
  }
  const LIST = Symbol('headers');
  class Headers {
    constructor(init) {
      hide(this, LIST, []); // [lower-case name, value] pairs, in order
      if (init == null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init[LIST]) this[LIST].push([k, v]);
      } else if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeError('Headers: each header must be a [name, value] pair');
          this.append(p[0], p[1]);
        }
      } else if (typeof init === 'object') {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError('Headers: init must be an object, an iterable of pairs or a Headers');
      }
    }
    append(name, value) { this[LIST].push([checkName(name), checkValue(value)]); }
    delete(name) { const n = checkName(name); hide(this, LIST, this[LIST].filter(([k]) => k !== n)); }
    get(name) {
      const n = checkName(name);
      const vs = this[LIST].filter(([k]) => k === n).map(([, v]) => v);
      return vs.length ? vs.join(', ') : null;
    }
    getSetCookie() { return this[LIST].filter(([k]) => k === 'set-cookie').map(([, v]) => v); }
    has(name) { const n = checkName(name); return this[LIST].some(([k]) => k === n); }
    set(name, value) {
      const n = checkName(name);
      const v = checkValue(value);
      const i = this[LIST].findIndex(([k]) => k === n);
      if (i < 0) { this[LIST].push([n, v]); return; }
      this[LIST][i][1] = v;
      hide(this, LIST, this[LIST].filter(([k], j) => k !== n || j === i));
    }
    *entries() {
      const names = [...new Set(this[LIST].map(([k]) => k))].sort();
      for (const n of names) {
        if (n === 'set-cookie') for (const v of this.getSetCookie()) yield [n, v];
        else yield [n, this.get(n)];
      }
    }
    keys() { return (function* (h) { for (const [k] of h.entries()) yield k; })(this); }
    values() { return (function* (h) { for (const [, v] of h.entries()) yield v; })(this); }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'Headers'; }
    [Symbol.for('nodejs.util.inspect.custom')]() {
      const o = {};
      for (const [k, v] of this.entries()) o[k] = v;
      return o;
    }
  }

  // ---- bodies --------------------------------------------------------------

  function bodyBytes(body, headers) {
    if (body == null) return null;
    let type = null;
    let bytes;
    if (typeof body === 'string') {
      bytes = encode(body);
      type = 'text/plain;charset=UTF-8';
    } else if (body instanceof ArrayBuffer) {
      bytes = new Uint8Array(body.slice(0));
    } else if (ArrayBuffer.isView(body)) {
      bytes = new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    } else if (body instanceof web.loadURL().URLSearchParams) {
      bytes = encode(body.toString());
      type = 'application/x-www-form-urlencoded;charset=UTF-8';
    } else {
      bytes = encode(String(body));
      type = 'text/plain;charset=UTF-8';
    }
    if (type && headers && !headers.has('content-type')) headers.set('content-type', type);
    return bytes;
  }

  const BODY = Symbol('body');
  const USED = Symbol('used');
  class Body {
    get bodyUsed() { return this[USED] === true; }
    get body() { return null; } // no streams: use text(), json(), arrayBuffer()
    _consume() {
      if (this[USED]) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
      hide(this, USED, true);
      const b = this[BODY];
      return Promise.resolve(b ? b : new Uint8Array(0));
    }
    arrayBuffer() { return this._consume().then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
    bytes() { return this._consume().then((b) => new Uint8Array(b)); }
    text() { return this._consume().then((b) => decode(b)); }
    json() { return this.text().then((t) => JSON.parse(t)); }
  }

  // ---- Request -------------------------------------------------------------

  const METHODS = /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS)$/i;
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const from = input instanceof Request ? input : null;
      let url;
      try {
        url = new (web.loadURL().URL)(from ? from.url : String(input));
      } catch (e) {
        throw new TypeError(`Failed to parse URL from ${from ? from.url : String(input)}`);
      }
      if (url.username || url.password) throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url}`);
      let method = init.method !== undefined ? String(init.method) : from ? from.method : 'GET';
      if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
      if (METHODS.test(method)) method = method.toUpperCase();
      const headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
      let body = init.body !== undefined ? bodyBytes(init.body, headers) : from ? from[BODY] : null;
      if (body && (method === 'GET' || method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
      hide(this, 'url', url.href);
      hide(this, 'method', method);
      hide(this, 'headers', headers);
      hide(this, 'redirect', init.redirect || (from ? from.redirect : 'follow'));
      hide(this, BODY, body);
    }
    clone() { return new Request(this); }
    get [Symbol.toStringTag]() { return 'Request'; }
  }

  // ---- Response ------------------------------------------------------------

  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!(status >= 200 && status <= 599) || !Number.isInteger(status)) throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
      const headers = new Headers(init.headers);
      hide(this, 'status', status);
      hide(this, 'statusText', init.statusText === undefined ? '' : String(init.statusText));
      hide(this, 'headers', headers);
      hide(this, 'url', '');
      hide(this, 'redirected', false);
      hide(this, 'type', 'default');
      hide(this, BODY, bodyBytes(body, headers));
    }
    get ok() { return this.status >= 200 && this.status <= 299; }
    clone() {
      if (this[USED]) throw new TypeError('Response.clone: Body has already been consumed.');
      const r = Object.create(Response.prototype);
      for (const k of ['status', 'statusText', 'url', 'redirected', 'type']) hide(r, k, this[k]);
      hide(r, 'headers', new Headers(this.headers));
      hide(r, BODY, this[BODY]);
      return r;
    }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static error() {
      const r = new Response(null, { status: 200 });
      hide(r, 'status', 0);
      hide(r, 'type', 'error');
      return r;
    }
    get [Symbol.toStringTag]() { return 'Response'; }
  }

  // ---- fetch ---------------------------------------------------------------

  function failed(reason) {
    if (reason === 'the cell was interrupted') {
      // The cell's timeout or cancellation ended the request: sleeping lets
      // the interrupt, on its way, end the cell as it should.
      W.sleep(200);
    }
    const cause = new Error(reason);
    const e = new TypeError(`fetch failed: ${reason}`);
    hide(e, 'cause', cause);
    return e;
  }

  function indexOf(bytes, pattern, from) {
    outer: for (let i = from; i + pattern.length <= bytes.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  function readSmall(path) {
    try {
      return W.readFile(path, true);
    } catch (e) {
      return '';
    }
  }

  // exchange makes one request through the host and returns the response.
  function exchange(req) {
    const url = new (web.loadURL().URL)(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw failed(`unsupported scheme ${url.protocol}`);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const base = `${url.protocol}//${url.hostname}:${port}`;
    const headers = new Headers(req.headers);
    const body = req[BODY];
    headers.set('host', url.host);
    if (!headers.has('accept')) headers.set('accept', '*/*');
    if (body) headers.set('content-length', String(body.length));
    else if (req.method !== 'GET' && req.method !== 'HEAD') headers.set('content-length', '0');
    headers.delete('transfer-encoding');
    headers.delete('connection');
    let head = `${JSON.stringify({ base })}\n${req.method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
    for (const [k, v] of headers[LIST]) head += `${k}: ${v}\r\n`;
    head += '\r\n';
    const headBytes = encode(head);
    const out = new Uint8Array(headBytes.length + (body ? body.length : 0));
    out.set(headBytes, 0);
    if (body) out.set(body, headBytes.length);
    const path = `${DEV}/js-${++seq}`;
    try {
      W.writeFile(path, out, 'w');
    } catch (e) {
      throw failed(e && e.code === 'EIO' ? 'the request is larger than the network policy allows' : NO_NETWORK);
    }
    let raw;
    try {
      raw = new Uint8Array(W.readFile(path, false));
    } catch (e) {
      const reason = readSmall(`${path}.error`) || String(e && e.message);
      try { W.unlink(path); } catch (_) { /* gone */ }
      throw failed(reason);
    }
    try { W.unlink(path); } catch (_) { /* gone */ }
    const nl = raw.indexOf(10);
    let meta = null;
    try {
      meta = JSON.parse(decode(raw.subarray(0, nl < 0 ? raw.length : nl)));
    } catch (e) { /* not the device */ }
    if (meta === null || typeof meta !== 'object' || !('status' in meta)) {
      throw failed(meta && typeof meta.error === 'string' ? meta.error : NO_NETWORK);
    }
    const end = indexOf(raw, [13, 10, 13, 10], nl + 1);
    const resp = Object.create(Response.prototype);
    const rh = new Headers();
    for (const [k, v] of meta.headers) rh.append(k, v);
    hide(resp, 'status', meta.status);
    hide(resp, 'statusText', meta.reason || '');
    hide(resp, 'headers', rh);
    hide(resp, 'url', meta.url || req.url);
    hide(resp, 'redirected', !!meta.url && meta.url !== req.url);
    hide(resp, 'type', 'basic');
    hide(resp, BODY, end < 0 ? new Uint8Array(0) : raw.subarray(end + 4));
    return resp;
  }

  function fetch(input, init) {
    try {
      const req = new Request(input, init);
      if (req.redirect !== 'follow') return Promise.reject(failed(`redirect: '${req.redirect}' is not supported: the host follows redirects`));
      return Promise.resolve(exchange(req));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  return { fetch, Request, Response, Headers };
})
