// wasmbox JavaScript prelude, loaded lazily by web.js: the globals Node
// gives every script that QuickJS lacks — DOMException, atob/btoa,
// structuredClone, Buffer. This file is one function expression of (W,
// inspect) returning them, which web.js evaluates the first time a cell
// touches one of them or require('buffer').
//
// These are the user's API, not wasmbox's: the rest of the prelude never
// calls them, so a cell that replaces or breaks them changes only its own
// view, as with any built-in. They call built-ins at run time like user
// code does. Node's display of a Buffer comes from
// Symbol.for('nodejs.util.inspect.custom'), which inspect.js honours.
(function (W, inspect) {
  'use strict';
  const CUSTOM = Symbol.for('nodejs.util.inspect.custom');

  function hide(obj, name, value) {
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }

  // ---- DOMException --------------------------------------------------------

  const legacyCodes = {
    __proto__: null, IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
    InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17,
    SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22,
    TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  class DOMException extends Error {
    constructor(message = '', options = 'Error') {
      super(String(message));
      const name = options !== null && typeof options === 'object' ? String(options.name ?? 'Error') : String(options);
      hide(this, 'name', name);
      hide(this, 'code', legacyCodes[name] || 0);
      if (options !== null && typeof options === 'object' && 'cause' in options) hide(this, 'cause', options.cause);
    }
  }

  // ---- base64 --------------------------------------------------------------

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const b64Value = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) b64Value[B64.charCodeAt(i)] = i;
  b64Value[45] = 62; // -
  b64Value[95] = 63; // _

  function base64Encode(bytes, alphabet, pad) {
    let out = '';
    const n = bytes.length;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63] + alphabet[(v >> 6) & 63] + alphabet[v & 63];
    }
    if (i < n) {
      const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63];
      out += i + 1 < n ? alphabet[(v >> 6) & 63] : pad ? '=' : '';
      out += pad ? '=' : '';
    }
    return out;
  }

  // Node's lenient decoding: both alphabets, stops at '=', skips anything
  // else that is not a base64 character.
  function base64Decode(s) {
    const out = new Uint8Array(((s.length + 3) >> 2) * 3);
    let n = 0, acc = 0, bits = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 61) break; // =
      const v = c < 128 ? b64Value[c] : -1;
      if (v < 0) continue;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (acc >> bits) & 255;
      }
    }
    return out.subarray(0, n);
  }

  // ---- atob / btoa (HTML's forgiving-base64) ---------------------------------

  function btoa(data) {
    if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
    const s = String(data);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new DOMException('Invalid character', 'InvalidCharacterError');
      bytes[i] = c;
    }
    return base64Encode(bytes, B64, true);
  }
  function atob(data) {
    if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
    let s = String(data).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/==?$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) {
      throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
    }
    const bytes = base64Decode(s);
    let out = '';
    for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096));
    return out;
  }

  // ---- structuredClone -------------------------------------------------------

  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const typedArrays = {
    __proto__: null, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  };
  const typedArrayName = Function.prototype.call.bind(Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get);
  const errorCtors = { __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  const tagOf = (v) => Object.prototype.toString.call(v);
  const cloneError = (what) => new DOMException(`${what} could not be cloned.`, 'DataCloneError');

  function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeError('The "value" argument must be specified');
    const transfer = options != null && options.transfer != null ? Array.from(options.transfer) : [];
    if (transfer.length && typeof ArrayBuffer.prototype.transfer !== 'function') {
      throw new DOMException('structuredClone: transfer is not supported (QuickJS cannot detach an ArrayBuffer)', 'DataCloneError');
    }
    const transferred = new Map();
    for (const t of transfer) {
      if (tagOf(t) !== '[object ArrayBuffer]') throw cloneError('Value not transferable:');
      if (transferred.has(t)) throw new DOMException('Duplicate ArrayBuffer in the transfer list', 'DataCloneError');
      transferred.set(t, null);
    }
    const memory = new Map();
    const clone = (v) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
        if (typeof v === 'symbol') throw cloneError(String(v));
        return v;
      }
      if (typeof v === 'function') throw cloneError(inspect(v));
      if (memory.has(v)) return memory.get(v);
      const tag = tagOf(v);
      let out;
      switch (tag) {
        case '[object Boolean]': out = Object(Boolean.prototype.valueOf.call(v)); break;
        case '[object Number]': out = Object(Number.prototype.valueOf.call(v)); break;
        case '[object String]': out = Object(String.prototype.valueOf.call(v)); break;
        case '[object BigInt]': out = Object(BigInt.prototype.valueOf.call(v)); break;
        case '[object Date]': out = new Date(Date.prototype.getTime.call(v)); break;
        case '[object RegExp]': out = new RegExp(v.source, v.flags); break;
        case '[object ArrayBuffer]':
          if (transferred.has(v)) {
            out = v.transfer();
            transferred.set(v, out);
          } else {
            out = v.slice(0);
          }
          break;
        case '[object DataView]':
          memory.set(v, null);
          out = new DataView(clone(v.buffer), v.byteOffset, v.byteLength);
          break;
        case '[object Map]':
          out = new Map();
          memory.set(v, out);
          for (const [k, x] of Map.prototype.entries.call(v)) out.set(clone(k), clone(x));
          return out;
        case '[object Set]':
          out = new Set();
          memory.set(v, out);
          for (const x of Set.prototype.values.call(v)) out.add(clone(x));
          return out;
        case '[object Error]': {
          const name = v.name;
          const Ctor = errorCtors[name] || Error;
          out = new Ctor(v.message === undefined ? undefined : String(v.message));
          if (!errorCtors[name]) hide(out, 'name', 'Error');
          if (typeof v.stack === 'string') hide(out, 'stack', v.stack);
          memory.set(v, out);
          if ('cause' in v) hide(out, 'cause', clone(v.cause));
          return out;
        }
        case '[object Array]':
          out = new Array(v.length);
          memory.set(v, out);
          for (const k of Object.keys(v)) out[k] = clone(v[k]);
          return out;
        case '[object Object]': // a class instance too: a plain object of its own properties, as in Node
          out = {};
          memory.set(v, out);
          for (const k of Object.keys(v)) out[k] = clone(v[k]);
          return out;
        default:
          if (ArrayBuffer.isView(v)) {
            const Ctor = typedArrays[typedArrayName(v)];
            if (Ctor === undefined) throw cloneError(inspect(v));
            memory.set(v, null);
            const buffer = clone(v.buffer);
            out = new Ctor(buffer, v.byteOffset, v.length);
            break;
          }
          if (tag === '[object Promise]' || tag === '[object WeakMap]' || tag === '[object WeakSet]' ||
            tag === '[object WeakRef]' || tag === '[object Symbol]') {
            throw cloneError(`#<${tag.slice(8, -1)}>`);
          }
          out = {};
          memory.set(v, out);
          for (const k of Object.keys(v)) out[k] = clone(v[k]);
          return out;
      }
      memory.set(v, out);
      return out;
    };
    const result = clone(value);
    for (const [t] of transferred) {
      if (transferred.get(t) === null) t.transfer(); // listed but not reached: detached all the same
    }
    return result;
  }

  // ---- Buffer ----------------------------------------------------------------

  const ENCODINGS = {
    __proto__: null, utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url',
    latin1: 'latin1', binary: 'latin1', ascii: 'ascii', ucs2: 'utf16le', 'ucs-2': 'utf16le', utf16le: 'utf16le',
    'utf-16le': 'utf16le',
  };
  function encodingOf(enc) {
    if (enc === undefined || enc === null) return 'utf8';
    const e = ENCODINGS[String(enc).toLowerCase()];
    if (e === undefined) {
      const err = new TypeError(`Unknown encoding: ${enc}`);
      hide(err, 'code', 'ERR_UNKNOWN_ENCODING');
      throw err;
    }
    return e;
  }

  function encode(str, enc) {
    switch (enc) {
      case 'utf8': return new Uint8Array(W.utf8Encode(str));
      case 'hex': {
        const n = str.length >> 1;
        const out = new Uint8Array(n);
        let i = 0;
        for (; i < n; i++) {
          const v = parseInt(str.substr(i * 2, 2), 16);
          if (!(v >= 0) || !/^[0-9a-fA-F]{2}$/.test(str.substr(i * 2, 2))) break;
          out[i] = v;
        }
        return out.subarray(0, i);
      }
      case 'base64': case 'base64url': return base64Decode(str);
      case 'latin1': case 'ascii': {
        const out = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i);
        return out;
      }
      case 'utf16le': {
        const out = new Uint8Array(str.length * 2);
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          out[2 * i] = c & 255;
          out[2 * i + 1] = c >> 8;
        }
        return out;
      }
    }
    throw new TypeError(`Unknown encoding: ${enc}`);
  }

  function decode(bytes, enc) {
    switch (enc) {
      case 'utf8': return W.utf8Decode(bytes);
      case 'hex': {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
        return s;
      }
      case 'base64': return base64Encode(bytes, B64, true);
      case 'base64url': return base64Encode(bytes, B64URL, false);
      case 'latin1': case 'ascii': {
        let s = '';
        for (let i = 0; i < bytes.length; i += 4096) {
          const part = bytes.subarray(i, i + 4096);
          s += String.fromCharCode.apply(null, enc === 'ascii' ? part.map((b) => b & 127) : part);
        }
        return s;
      }
      case 'utf16le': {
        let s = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return s;
      }
    }
    throw new TypeError(`Unknown encoding: ${enc}`);
  }

  const bytesOf = (v) => (v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));

  function checkSize(size) {
    if (typeof size !== 'number' || !(size >= 0) || size > 2 ** 32) {
      const e = new RangeError(`The argument 'size' is invalid. Received ${inspect(size)}`);
      hide(e, 'code', 'ERR_OUT_OF_RANGE');
      throw e;
    }
  }

  const INSPECT_MAX_BYTES = 50;

  class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return toBuffer(encode(value, encodingOf(encodingOrOffset)));
      if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
        const off = encodingOrOffset === undefined ? 0 : +encodingOrOffset;
        const len = length === undefined ? value.byteLength - off : +length;
        return new Buffer(value, off, len);
      }
      if (ArrayBuffer.isView(value)) {
        const b = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) b[i] = Number(value[i]);
        return b;
      }
      if (value !== null && typeof value === 'object') {
        const prim = typeof value[Symbol.toPrimitive] === 'function' ? value[Symbol.toPrimitive]('string')
          : typeof value.valueOf === 'function' ? value.valueOf() : value;
        if (prim !== value && (typeof prim === 'string' || prim instanceof ArrayBuffer || ArrayBuffer.isView(prim))) {
          return Buffer.from(prim, encodingOrOffset, length);
        }
        if (value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data);
        if (typeof value.length === 'number' || Array.isArray(value)) {
          const b = new Buffer(value.length >>> 0);
          for (let i = 0; i < b.length; i++) b[i] = value[i];
          return b;
        }
      }
      throw new TypeError('The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array ' +
        `or an Array-like Object. Received ${inspect(value)}`);
    }
    static alloc(size, fill, encoding) {
      checkSize(size);
      const b = new Buffer(size);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, encoding);
      return b;
    }
    static allocUnsafe(size) { checkSize(size); return new Buffer(size); }
    static allocUnsafeSlow(size) { checkSize(size); return new Buffer(size); }
    static isBuffer(v) { return v instanceof Buffer; }
    static isEncoding(e) { return typeof e === 'string' && e.toLowerCase() in ENCODINGS; }
    static byteLength(v, encoding) {
      if (typeof v === 'string') {
        const enc = encodingOf(encoding);
        if (enc === 'utf8') return W.utf8Encode(v).byteLength;
        if (enc === 'latin1' || enc === 'ascii') return v.length;
        if (enc === 'utf16le') return v.length * 2;
        if (enc === 'hex') return v.length >>> 1;
        return encode(v, enc).length;
      }
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v.byteLength;
      throw new TypeError(`The "string" argument must be of type string or an instance of Buffer or ArrayBuffer. Received ${inspect(v)}`);
    }
    static concat(list, totalLength) {
      if (!Array.isArray(list)) throw new TypeError(`The "list" argument must be an instance of Array. Received ${inspect(list)}`);
      if (totalLength === undefined) totalLength = list.reduce((n, b) => n + b.length, 0);
      const out = Buffer.alloc(totalLength);
      let pos = 0;
      for (const b of list) {
        if (!(b instanceof Uint8Array)) throw new TypeError(`The "list" argument must contain only Buffer or Uint8Array instances. Received ${inspect(b)}`);
        const part = b.subarray(0, Math.max(0, totalLength - pos));
        out.set(part, pos);
        pos += part.length;
        if (pos >= totalLength) break;
      }
      return out;
    }
    static compare(a, b) { return Buffer.prototype.compare.call(a, b); }

    toString(encoding, start = 0, end = this.length) {
      start = Math.max(0, start | 0);
      end = Math.min(this.length, end === undefined ? this.length : end | 0);
      if (end <= start) return '';
      return decode(this.subarray(start, end), encodingOf(encoding));
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(other) {
      if (!(other instanceof Uint8Array)) throw new TypeError(`The "otherBuffer" argument must be an instance of Buffer or Uint8Array. Received ${inspect(other)}`);
      return this.compare(other) === 0;
    }
    compare(other, targetStart = 0, targetEnd = other.length, sourceStart = 0, sourceEnd = this.length) {
      const a = this.subarray(sourceStart, sourceEnd), b = other.subarray(targetStart, targetEnd);
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
    }
    slice(start, end) { return this.subarray(start, end); } // a view, as in Node
    subarray(start, end) {
      const v = Uint8Array.prototype.subarray.call(this, start, end);
      return new Buffer(v.buffer, v.byteOffset, v.length);
    }
    write(string, offset, length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; }
      else if (typeof length === 'string') { encoding = length; length = undefined; }
      offset = offset === undefined ? 0 : offset >>> 0;
      const bytes = encode(String(string), encodingOf(encoding));
      const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length >>> 0);
      this.set(bytes.subarray(0, n), offset);
      return n;
    }
    fill(value, offset = 0, end = this.length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
      else if (typeof end === 'string') { encoding = end; end = this.length; }
      if (typeof value === 'string' || value instanceof Uint8Array) {
        const bytes = typeof value === 'string' ? encode(value, encodingOf(encoding)) : value;
        if (bytes.length === 0) return Uint8Array.prototype.fill.call(this, 0, offset, end), this;
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
        return this;
      }
      Uint8Array.prototype.fill.call(this, typeof value === 'boolean' ? +value : value & 255, offset, end);
      return this;
    }
    indexOf(value, byteOffset = 0, encoding) {
      if (typeof byteOffset === 'string') { encoding = byteOffset; byteOffset = 0; }
      if (typeof value === 'number') return Uint8Array.prototype.indexOf.call(this, value & 255, byteOffset);
      const needle = typeof value === 'string' ? encode(value, encodingOf(encoding)) : bytesOf(value);
      if (byteOffset < 0) byteOffset = Math.max(0, this.length + byteOffset);
      outer: for (let i = byteOffset; i + needle.length <= this.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(value, byteOffset, encoding) { return this.indexOf(value, byteOffset, encoding) !== -1; }
    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      const part = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
      target.set(part, targetStart);
      return part.length;
    }
    [CUSTOM]() {
      let hex = '';
      const n = Math.min(this.length, INSPECT_MAX_BYTES);
      for (let i = 0; i < n; i++) hex += (i ? ' ' : '') + (this[i] < 16 ? '0' : '') + this[i].toString(16);
      const more = this.length > n ? ` ... ${this.length - n} more byte${this.length - n > 1 ? 's' : ''}` : '';
      return `<Buffer${hex ? ' ' + hex : ''}${more}>`;
    }
  }
  function toBuffer(u8) { return new Buffer(u8.buffer, u8.byteOffset, u8.length); }
  Object.defineProperty(Buffer, 'poolSize', { value: 8192, writable: true, enumerable: true, configurable: true });
  // readUInt8, readInt16LE, writeUInt32BE, readDoubleLE, readBigUInt64LE... through a DataView.
  const accessors = [
    ['UInt8', 1, 'Uint8'], ['Int8', 1, 'Int8'], ['UInt16', 2, 'Uint16'], ['Int16', 2, 'Int16'],
    ['UInt32', 4, 'Uint32'], ['Int32', 4, 'Int32'], ['Float', 4, 'Float32'], ['Double', 8, 'Float64'],
    ['BigUInt64', 8, 'BigUint64'], ['BigInt64', 8, 'BigInt64'],
  ];
  const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  function checkOffset(b, offset, size) {
    if (offset === undefined) offset = 0;
    if (typeof offset === 'number' && b.length < size) {
      const e = new RangeError('Attempt to access memory outside buffer bounds');
      hide(e, 'code', 'ERR_BUFFER_OUT_OF_BOUNDS');
      throw e;
    }
    if (typeof offset !== 'number' || offset !== Math.floor(offset) || offset < 0 || offset + size > b.length) {
      const e = new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${b.length - size}. Received ${offset}`);
      hide(e, 'code', 'ERR_OUT_OF_RANGE');
      throw e;
    }
    return offset;
  }
  for (const [name, size, dv] of accessors) {
    const ends = size === 1 ? [''] : ['LE', 'BE'];
    for (const end of ends) {
      const little = end === 'LE';
      const get = DataView.prototype['get' + dv], set = DataView.prototype['set' + dv];
      const read = function (offset) { offset = checkOffset(this, offset, size); return get.call(view(this), offset, little); };
      const write = function (value, offset) {
        offset = checkOffset(this, offset, size);
        set.call(view(this), offset, dv.startsWith('Big') ? BigInt(value) : +value, little);
        return offset + size;
      };
      for (const n of new Set([name, name.replace('UInt', 'Uint')])) {
        hide(Buffer.prototype, 'read' + n + end, read);
        hide(Buffer.prototype, 'write' + n + end, write);
      }
    }
  }
  return { Buffer, DOMException, atob, btoa, structuredClone, INSPECT_MAX_BYTES };
})
