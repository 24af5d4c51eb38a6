// wasmbox JavaScript prelude, part 1: inspect() and format(), a compact
// re-implementation of the parts of Node's util.inspect and util.format that
// a REPL shows. Evaluated as a global script; it defines __wasmbox_inspect
// and __wasmbox_format, which prelude.js picks up and deletes from globalThis.
(function () {
  'use strict';
  const MAX_DEPTH = 2;
  const MAX_ARRAY = 100;
  const MAX_STRING = 10000;
  const BREAK = 72;

  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const W = globalThis.__wasmbox;
  const promiseState = W && typeof W.promiseState === 'function' ? W.promiseState : null;
  const objToString = (v) => Object.prototype.toString.call(v);
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

  const escapes = {
    '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\\': '\\\\',
  };

  function quote(s) {
    let q = "'";
    if (s.includes("'")) {
      if (!s.includes('"')) q = '"';
      else if (!s.includes('`') && !s.includes('${')) q = '`';
    }
    let out = '';
    for (const ch of s) {
      const code = ch.codePointAt(0);
      if (ch === q) out += '\\' + ch;
      else if (escapes[ch]) out += escapes[ch];
      else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0').toUpperCase();
      else out += ch;
    }
    return q + out + q;
  }

  const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function formatKey(k) {
    if (typeof k === 'symbol') return '[' + k.toString() + ']';
    return identRe.test(k) ? k : quote(k);
  }

  function formatNumber(n) {
    return Object.is(n, -0) ? '-0' : String(n);
  }

  function formatPrimitive(v, top) {
    switch (typeof v) {
      case 'string': {
        let s = v;
        let tail = '';
        if (s.length > MAX_STRING) {
          tail = `... ${s.length - MAX_STRING} more characters`;
          s = s.slice(0, MAX_STRING);
        }
        return quote(s) + tail;
      }
      case 'number': return formatNumber(v);
      case 'bigint': return v + 'n';
      case 'boolean': return String(v);
      case 'undefined': return 'undefined';
      case 'symbol': return v.toString();
    }
    return v === null ? 'null' : undefined;
  }

  function fnName(f) {
    try { return f.name; } catch (e) { return ''; }
  }

  function formatFunction(f) {
    let src = '';
    try { src = Function.prototype.toString.call(f); } catch (e) { /* native */ }
    const name = fnName(f);
    if (src.startsWith('class')) return name ? `[class ${name}]` : '[class (anonymous)]';
    let kind = 'Function';
    const ctor = f.constructor && fnName(f.constructor);
    if (ctor === 'AsyncFunction') kind = 'AsyncFunction';
    else if (ctor === 'GeneratorFunction') kind = 'GeneratorFunction';
    else if (ctor === 'AsyncGeneratorFunction') kind = 'AsyncGeneratorFunction';
    return name ? `[${kind}: ${name}]` : `[${kind} (anonymous)]`;
  }

  function constructorName(o) {
    let p = o;
    while (p) {
      const d = Object.getOwnPropertyDescriptor(p, 'constructor');
      if (d && typeof d.value === 'function' && fnName(d.value) !== '') return fnName(d.value);
      p = Object.getPrototypeOf(p);
    }
    return null;
  }

  function formatError(e) {
    let stack = '';
    try { stack = e.stack; } catch (x) { /* getter threw */ }
    let head;
    try { head = String(e); } catch (x) { head = 'Error'; }
    if (typeof stack === 'string' && stack) {
      return head + '\n' + stack.replace(/\n$/, '');
    }
    return '[' + head + ']';
  }

  function keysOf(o, isArrayLike) {
    const keys = [];
    for (const k of Reflect.ownKeys(o)) {
      if (isArrayLike && typeof k === 'string' && String(k >>> 0) === k && (k >>> 0) < 4294967295) continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && d.enumerable) keys.push(k);
    }
    return keys;
  }

  function formatProperty(o, k, ctx, depth) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    let val;
    if (d.get || d.set) {
      val = d.get && d.set ? '[Getter/Setter]' : d.get ? '[Getter]' : '[Setter]';
    } else {
      val = formatValue(d.value, ctx, depth + 1);
    }
    return formatKey(k) + ': ' + val;
  }

  function reduceToSingle(entries, braces, prefix, ctx, depth) {
    const start = prefix ? prefix + ' ' : '';
    if (entries.length === 0) return start + braces[0] + braces[1];
    const single = start + braces[0] + ' ' + entries.join(', ') + ' ' + braces[1];
    const indent = '  '.repeat(depth);
    if (single.length + indent.length <= BREAK && !single.includes('\n')) return single;
    const inner = '\n' + indent + '  ';
    return start + braces[0] + inner + entries.join(',' + inner) + '\n' + indent + braces[1];
  }

  function formatValue(v, ctx, depth) {
    const prim = formatPrimitive(v);
    if (prim !== undefined) return prim;
    if (typeof v === 'function' && !keysOf(v).length) return formatFunction(v);

    // Circular references: <ref *1> on the target, [Circular *1] at the back-reference.
    if (ctx.seen.includes(v)) {
      let id = ctx.circular.get(v);
      if (id === undefined) {
        id = ctx.circular.size + 1;
        ctx.circular.set(v, id);
      }
      return `[Circular *${id}]`;
    }
    const out = formatObject(v, ctx, depth);
    const id = ctx.circular.get(v);
    return id !== undefined ? `<ref *${id}> ${out}` : out;
  }

  function formatObject(v, ctx, depth) {
    const tag = objToString(v);
    let ctor = constructorName(v);
    if (v instanceof Error) return formatError(v);
    if (v instanceof Date) return isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return RegExp.prototype.toString.call(v);
    if (typeof v === 'function') {
      ctx.seen.push(v);
      const entries = keysOf(v).map((k) => formatProperty(v, k, ctx, depth));
      ctx.seen.pop();
      return reduceToSingle(entries, ['{', '}'], formatFunction(v), ctx, depth);
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean ||
        (typeof BigInt !== 'undefined' && v instanceof BigInt) || v instanceof Symbol) {
      const prim = formatPrimitive(v.valueOf());
      const name = tag.slice(8, -1);
      return `[${name}: ${prim}]`;
    }
    if (v instanceof Promise) {
      const st = promiseState ? promiseState(v) : undefined;
      if (!st) return 'Promise { <unknown> }';
      if (st[0] === 0) return 'Promise { <pending> }';
      ctx.seen.push(v);
      const inner = formatValue(st[1], ctx, depth + 1);
      ctx.seen.pop();
      return st[0] === 1 ? `Promise { ${inner} }` : `Promise { <rejected> ${inner} }`;
    }
    if (v instanceof WeakMap || v instanceof WeakSet) return `${tag.slice(8, -1)} { <items unknown> }`;

    const isArray = Array.isArray(v);
    const isTyped = v instanceof TypedArray;
    let prefix = '';
    let braces = ['{', '}'];
    let entries = [];

    if (depth > MAX_DEPTH) {
      if (isArray) return '[Array]';
      return `[${ctor || 'Object'}]`;
    }
    ctx.seen.push(v);
    try {
      if (isArray || isTyped) {
        const len = v.length;
        braces = ['[', ']'];
        if (isTyped || ctor !== 'Array') prefix = `${ctor || 'Array'}(${len})`;
        let holes = 0;
        const shown = Math.min(len, MAX_ARRAY);
        for (let i = 0; i < shown; i++) {
          if (!isTyped && !hasOwn(v, i)) {
            holes++;
            continue;
          }
          if (holes) {
            entries.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
            holes = 0;
          }
          entries.push(isTyped ? formatPrimitive(v[i]) : formatValue(v[i], ctx, depth + 1));
        }
        if (holes) entries.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
        if (len > shown) entries.push(`... ${len - shown} more item${len - shown > 1 ? 's' : ''}`);
        for (const k of keysOf(v, true)) entries.push(formatProperty(v, k, ctx, depth));
      } else if (v instanceof Map) {
        prefix = `${ctor || 'Map'}(${v.size})`;
        let n = 0;
        for (const [k, val] of v) {
          if (n++ >= MAX_ARRAY) {
            entries.push(`... ${v.size - MAX_ARRAY} more items`);
            break;
          }
          entries.push(formatValue(k, ctx, depth + 1) + ' => ' + formatValue(val, ctx, depth + 1));
        }
        for (const k of keysOf(v)) entries.push(formatProperty(v, k, ctx, depth));
      } else if (v instanceof Set) {
        prefix = `${ctor || 'Set'}(${v.size})`;
        let n = 0;
        for (const val of v) {
          if (n++ >= MAX_ARRAY) {
            entries.push(`... ${v.size - MAX_ARRAY} more items`);
            break;
          }
          entries.push(formatValue(val, ctx, depth + 1));
        }
        for (const k of keysOf(v)) entries.push(formatProperty(v, k, ctx, depth));
      } else if (v instanceof ArrayBuffer) {
        const bytes = new Uint8Array(v);
        const hex = Array.from(bytes.slice(0, 50), (b) => b.toString(16).padStart(2, '0')).join(' ');
        const more = bytes.length > 50 ? ` ... ${bytes.length - 50} more bytes` : '';
        return `ArrayBuffer { [Uint8Contents]: <${hex}${more}>, byteLength: ${v.byteLength} }`;
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto === null) prefix = '[Object: null prototype]';
        else if (ctor && ctor !== 'Object') prefix = ctor;
        else if (tag !== '[object Object]' && !ctor) prefix = `Object [${tag.slice(8, -1)}]`;
        const toStringTag = v[Symbol.toStringTag];
        if (typeof toStringTag === 'string' && toStringTag && toStringTag !== ctor) {
          prefix = (prefix || 'Object') + ` [${toStringTag}]`;
        }
        for (const k of keysOf(v)) entries.push(formatProperty(v, k, ctx, depth));
      }
    } finally {
      ctx.seen.pop();
    }
    return reduceToSingle(entries, braces, prefix, ctx, depth);
  }

  function inspect(v) {
    return formatValue(v, { seen: [], circular: new Map() }, 0);
  }

  // util.format: %s %d %i %f %j %o %O %c %%, then the remaining arguments
  // separated by spaces (strings as they are, everything else inspected).
  function format(...args) {
    if (args.length === 0) return '';
    const first = args[0];
    let i = 1;
    let out = '';
    if (typeof first === 'string' && args.length > 1) {
      let last = 0;
      for (let p = 0; p < first.length - 1; p++) {
        if (first[p] !== '%') continue;
        const c = first[p + 1];
        let rep;
        if (c === '%') {
          out += first.slice(last, p) + '%';
          last = p + 2;
          p++;
          continue;
        }
        if (i >= args.length) continue;
        const a = args[i];
        switch (c) {
          case 's':
            rep = typeof a === 'string' ? a : typeof a === 'bigint' ? a + 'n'
              : (typeof a === 'object' && a !== null) ? inspect(a) : String(a);
            break;
          case 'd': case 'i':
            if (typeof a === 'bigint') rep = a + 'n';
            else if (typeof a === 'symbol') rep = 'NaN';
            else rep = formatNumber(c === 'i' ? Math.trunc(Number(a)) : Number(a));
            break;
          case 'f': rep = typeof a === 'symbol' ? 'NaN' : formatNumber(parseFloat(a)); break;
          case 'j':
            try { rep = JSON.stringify(a); } catch (e) { rep = '[Circular]'; }
            break;
          case 'o': case 'O': rep = inspect(a); break;
          case 'c': rep = ''; break;
          default: continue;
        }
        out += first.slice(last, p) + rep;
        last = p + 2;
        p++;
        i++;
      }
      out += first.slice(last);
    } else {
      out = typeof first === 'string' ? first : inspect(first);
    }
    for (; i < args.length; i++) {
      const a = args[i];
      out += ' ' + (typeof a === 'string' ? a : inspect(a));
    }
    return out;
  }

  globalThis.__wasmbox_inspect = inspect;
  globalThis.__wasmbox_format = format;
})();
