// wasmbox JavaScript prelude, part 3 (after intl.js, before modules.js):
// the small part of Node's API that code written for Node reaches for first —
// fs (sync, callback and promise forms) on the sandbox filesystem, path,
// util, TextEncoder/TextDecoder — and the table of built-in modules that
// modules.js serves to require() and import. Evaluated as a global script.
(function () {
  'use strict';
  const W = globalThis.__wasmbox;

  function hide(obj, name, value) {
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }

  // ---- path (POSIX) ------------------------------------------------------

  function normalizeParts(p) {
    const abs = p.startsWith('/');
    const out = [];
    for (const seg of p.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (out.length && out[out.length - 1] !== '..') out.pop();
        else if (!abs) out.push('..');
      } else out.push(seg);
    }
    return { abs, out };
  }
  const path = {
    sep: '/',
    delimiter: ':',
    normalize(p) {
      const { abs, out } = normalizeParts(String(p));
      const s = (abs ? '/' : '') + out.join('/');
      return s || (abs ? '/' : '.') + (String(p).endsWith('/') && out.length ? '/' : '');
    },
    join(...parts) {
      const joined = parts.map(String).filter((x) => x !== '').join('/');
      return joined === '' ? '.' : path.normalize(joined);
    },
    resolve(...parts) {
      let p = '';
      for (let i = parts.length - 1; i >= 0 && !p.startsWith('/'); i--) p = parts[i] + (p ? '/' + p : '');
      if (!p.startsWith('/')) p = W.getcwd() + (p ? '/' + p : '');
      const { out } = normalizeParts(p);
      return '/' + out.join('/');
    },
    isAbsolute: (p) => String(p).startsWith('/'),
    dirname(p) {
      p = String(p);
      const i = p.replace(/\/+$/, '').lastIndexOf('/');
      if (i < 0) return '.';
      return i === 0 ? '/' : p.slice(0, i);
    },
    basename(p, ext) {
      let b = String(p).replace(/\/+$/, '');
      b = b.slice(b.lastIndexOf('/') + 1);
      if (ext && b.endsWith(ext) && b !== ext) b = b.slice(0, -ext.length);
      return b;
    },
    extname(p) {
      const b = path.basename(p);
      const i = b.lastIndexOf('.');
      return i <= 0 ? '' : b.slice(i);
    },
    relative(from, to) {
      const a = path.resolve(from).split('/').filter(Boolean);
      const b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
    },
    parse(p) {
      const base = path.basename(p);
      const ext = path.extname(p);
      const dir = path.dirname(p);
      return { root: String(p).startsWith('/') ? '/' : '', dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
  };
  path.posix = path;

  // ---- TextEncoder / TextDecoder -----------------------------------------

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(s = '') { return new Uint8Array(W.utf8Encode(String(s))); }
  }
  class TextDecoder {
    constructor(label = 'utf-8') {
      if (!/^utf-?8$/i.test(label)) throw new RangeError(`TextDecoder: only utf-8 is supported, not ${label}`);
    }
    get encoding() { return 'utf-8'; }
    decode(b) { return b === undefined ? '' : W.utf8Decode(b); }
  }
  if (typeof globalThis.TextEncoder === 'undefined') hide(globalThis, 'TextEncoder', TextEncoder);
  if (typeof globalThis.TextDecoder === 'undefined') hide(globalThis, 'TextDecoder', TextDecoder);

  // ---- fs ------------------------------------------------------------------

  const web = globalThis.__wasmbox_web;
  const encodingOf = (opt) => (typeof opt === 'string' ? opt : (opt && opt.encoding) || null);
  const isUTF8 = (enc) => /^utf-?8$/i.test(enc);
  // Data to write: strings in another encoding than UTF-8 become bytes.
  const dataOf = (data, opt) => {
    const enc = encodingOf(opt);
    return typeof data === 'string' && enc && !isUTF8(enc) ? web.loadGlobals().Buffer.from(data, enc) : data;
  };

  class Stats {
    constructor(s) {
      this.size = s.size; this.mode = s.mode; this.ino = s.ino; this.nlink = s.nlink;
      this.mtimeMs = s.mtimeMs; this.atimeMs = s.atimeMs; this.ctimeMs = s.ctimeMs;
      this.mtime = new Date(s.mtimeMs); this.atime = new Date(s.atimeMs); this.ctime = new Date(s.ctimeMs);
      hide(this, '_type', s.type);
    }
    isFile() { return this._type === 'file'; }
    isDirectory() { return this._type === 'dir'; }
    isSymbolicLink() { return this._type === 'symlink'; }
  }
  class Dirent {
    constructor(name, type, parentPath) { this.name = name; this.parentPath = parentPath; hide(this, '_type', type); }
    isFile() { return this._type === 'file'; }
    isDirectory() { return this._type === 'dir'; }
    isSymbolicLink() { return this._type === 'symlink'; }
  }

  function statSync(p, opts) {
    try {
      return new Stats(W.stat(String(p), false));
    } catch (e) {
      if (opts && opts.throwIfNoEntry === false && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  function mkdirSync(p, opts) {
    p = String(p);
    const recursive = typeof opts === 'object' && opts !== null && opts.recursive;
    if (!recursive) {
      W.mkdir(p);
      return undefined;
    }
    const abs = path.resolve(p);
    let first;
    let cur = '';
    for (const seg of abs.split('/').filter(Boolean)) {
      cur += '/' + seg;
      try {
        W.mkdir(cur);
        if (first === undefined) first = cur;
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
        if (W.stat(cur, false).type !== 'dir') throw e;
      }
    }
    return first;
  }

  function rmSync(p, opts = {}) {
    p = String(p);
    let st;
    try {
      st = W.stat(p, true);
    } catch (e) {
      if (opts.force && e.code === 'ENOENT') return;
      throw e;
    }
    if (st.type !== 'dir') {
      W.unlink(p);
      return;
    }
    if (!opts.recursive) {
      const e = new Error(`ERR_FS_EISDIR: Path is a directory: rm returned EISDIR (is a directory) ${p}`);
      e.code = 'ERR_FS_EISDIR';
      throw e;
    }
    for (const [name] of W.readdir(p)) rmSync(p + '/' + name, opts);
    W.rmdir(p);
  }

  function readdirSync(p, opts) {
    const entries = W.readdir(String(p));
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (opts && typeof opts === 'object' && opts.withFileTypes) {
      return entries.map(([n, t]) => new Dirent(n, t, String(p)));
    }
    return entries.map(([n]) => n);
  }

  const fs = {
    constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 },
    Stats,
    Dirent,
    // A string for an encoding, else a Buffer, as in Node.
    readFileSync: (p, opt) => {
      const enc = encodingOf(opt);
      if (enc && isUTF8(enc)) return W.readFile(String(p), true);
      const bytes = new (web.loadGlobals().Buffer)(W.readFile(String(p), false));
      return enc ? bytes.toString(enc) : bytes;
    },
    writeFileSync: (p, data, opt) => W.writeFile(String(p), dataOf(data, opt), (opt && opt.flag) || 'w'),
    appendFileSync: (p, data, opt) => W.writeFile(String(p), dataOf(data, opt), 'a'),
    existsSync: (p) => {
      try { W.stat(String(p), false); return true; } catch (e) { return false; }
    },
    accessSync: (p) => { W.stat(String(p), false); },
    statSync,
    lstatSync: (p) => new Stats(W.stat(String(p), true)),
    readdirSync,
    mkdirSync,
    rmSync,
    rmdirSync: (p, opts) => (opts && opts.recursive ? rmSync(p, { recursive: true }) : W.rmdir(String(p))),
    unlinkSync: (p) => W.unlink(String(p)),
    renameSync: (a, b) => W.rename(String(a), String(b)),
    copyFileSync: (a, b) => W.writeFile(String(b), W.readFile(String(a), false), 'w'),
    mkdtempSync: (prefix) => {
      for (;;) {
        const p = prefix + Math.random().toString(36).slice(2, 8);
        try { W.mkdir(p); return p; } catch (e) { if (e.code !== 'EEXIST') throw e; }
      }
    },
  };
  // Callback and promise forms of every *Sync function.
  fs.promises = {};
  for (const name of Object.keys(fs)) {
    if (!name.endsWith('Sync') || name === 'existsSync') continue;
    const base = name.slice(0, -4);
    const sync = fs[name];
    fs.promises[base] = (...args) => new Promise((resolve, reject) => {
      try { resolve(sync(...args)); } catch (e) { reject(e); }
    });
    fs[base] = (...args) => {
      const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      let res, err = null;
      try { res = sync(...args); } catch (e) { err = e; }
      if (cb) Promise.resolve().then(() => cb(err, res));
      else if (err) throw err;
    };
  }
  fs.exists = (p, cb) => { const r = fs.existsSync(p); Promise.resolve().then(() => cb(r)); };

  // ---- util ---------------------------------------------------------------

  const inspect = globalThis.__wasmbox_inspect;
  const util = {
    inspect, format: globalThis.__wasmbox_format, TextEncoder, TextDecoder,
    promisify(fn) {
      if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
      return function (...args) {
        return new Promise((resolve, reject) => {
          fn.call(this, ...args, (err, value) => (err ? reject(err) : resolve(value)));
        });
      };
    },
    inherits(ctor, superCtor) {
      Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
      Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
    },
    isDeepStrictEqual: (a, b) => deepEqual(a, b),
    types: {
      isDate: (v) => Object.prototype.toString.call(v) === '[object Date]',
      isRegExp: (v) => Object.prototype.toString.call(v) === '[object RegExp]',
      isPromise: (v) => Object.prototype.toString.call(v) === '[object Promise]',
      isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
      isUint8Array: (v) => v instanceof Uint8Array,
      isMap: (v) => Object.prototype.toString.call(v) === '[object Map]',
      isSet: (v) => Object.prototype.toString.call(v) === '[object Set]',
    },
  };
  inspect.custom = Symbol.for('nodejs.util.inspect.custom');
  function deepEqual(a, b, seen = new Map()) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (seen.get(a) === b) return true;
    seen.set(a, b);
    const tag = Object.prototype.toString.call(a);
    if (tag !== Object.prototype.toString.call(b)) return false;
    if (tag === '[object Date]') return a.getTime() === b.getTime();
    if (tag === '[object RegExp]') return String(a) === String(b);
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), seen)) return false;
      return true;
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return false;
      for (const v of a) if (!b.has(v)) return false;
      return true;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k], seen)) return false;
    return true;
  }

  // ---- the built-in modules --------------------------------------------------

  delete globalThis.__wasmbox_web;
  const sleep = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));
  const timers = {
    setTimeout: (...a) => globalThis.setTimeout(...a), clearTimeout: (id) => globalThis.clearTimeout(id),
    setInterval: (...a) => globalThis.setInterval(...a), clearInterval: (id) => globalThis.clearInterval(id),
    setImmediate: (...a) => globalThis.setImmediate(...a), clearImmediate: (id) => globalThis.clearImmediate(id),
  };
  const builtins = {
    __proto__: null,
    fs, 'fs/promises': fs.promises, path, 'path/posix': path, util,
    timers,
    'timers/promises': { setTimeout: sleep, setImmediate: (value) => sleep(0, value) },
  };
  let buffer = null;
  Object.defineProperty(builtins, 'buffer', {
    get() {
      if (buffer === null) {
        const g = web.loadGlobals();
        buffer = { Buffer: g.Buffer, INSPECT_MAX_BYTES: g.INSPECT_MAX_BYTES, kMaxLength: 2 ** 32, atob: g.atob, btoa: g.btoa };
      }
      return buffer;
    },
    enumerable: true,
  });
  Object.defineProperty(builtins, 'url', { get: web.loadURL, enumerable: true });
  // process is defined by prelude.js, after this file.
  Object.defineProperty(builtins, 'process', { get: () => globalThis.process, enumerable: true });
  hide(globalThis, '__wasmbox_builtins', builtins);
  hide(globalThis, 'fs', fs);
  hide(globalThis, 'path', path);
})();
