// wasmbox JavaScript prelude, part 1: inspect() and format(), a compact
// re-implementation of the parts of Node's util.inspect and util.format that
// a REPL shows. Evaluated as a global script after primordials.js, whose
// built-ins it uses (see there why); it defines __wasmbox_inspect and
// __wasmbox_format, which prelude.js picks up and deletes from globalThis.
//
// inspect() never throws: a value whose getters, proxy traps or conversions
// throw is shown as far as possible, or as "[... (inspect failed)]".
(function () {
  'use strict';
  const {
    ReflectOwnKeys, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectIs, ObjectPrototype,
    ObjectPrototypeHasOwnProperty: hasOwn, ObjectPrototypeToString,
    FunctionPrototypeToString, AsyncFunctionPrototype, GeneratorFunctionPrototype, AsyncGeneratorFunctionPrototype,
    ArrayIsArray, ArrayPrototypeIncludes, ArrayPrototypeJoin, ArrayPrototypePop,
    String, StringPrototypeCharCodeAt, StringPrototypeEndsWith, StringPrototypeIncludes, StringPrototypePadStart,
    StringPrototypeRepeat, StringPrototypeSlice, StringPrototypeStartsWith, StringPrototypeToUpperCase,
    StringPrototypeValueOf, Number, NumberIsNaN, NumberParseFloat, NumberPrototypeToString, NumberPrototypeValueOf,
    BooleanPrototypeValueOf, BigIntPrototypeValueOf, SymbolToStringTag, SymbolPrototypeToString,
    SymbolPrototypeValueOf, MathMin, MathTrunc, DatePrototypeGetTime, DatePrototypeToISOString,
    RegExpPrototypeExec, RegExpPrototypeGetSource, RegExpPrototypeToString, JSONStringify, Error,
    Map, MapPrototypeEntries, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeSet, MapIteratorPrototypeNext,
    SetPrototypeGetSize, SetPrototypeValues, SetIteratorPrototypeNext, WeakMapPrototypeHas, WeakSetPrototypeHas,
    ArrayBufferPrototypeGetByteLength, TypedArrayPrototypeGetLength, TypedArrayPrototypeGetSymbolToStringTag,
    Uint8Array, SymbolFor, apply, push, split, test,
  } = globalThis.__wasmbox_primordials;
  const promiseState = globalThis.__wasmbox_primordials.W.promiseState;

  const MAX_DEPTH = 2;
  const MAX_ARRAY = 100;
  const MAX_STRING = 10000;
  const MAX_PROTOTYPES = 1000; // a proxy can make up an endless chain
  const BREAK = 72;

  // Brand checks: each calls a built-in that throws on any other object
  // (proxies included), so neither Symbol.hasInstance nor a forged
  // Symbol.toStringTag can fool them. Throwing is slow, so formatObject only
  // tries the one that Object.prototype.toString's tag points to.
  function brand(f, v) {
    try {
      f(v);
      return true;
    } catch (e) {
      return false;
    }
  }
  const isMap = (v) => brand(MapPrototypeGetSize, v);
  const isSet = (v) => brand(SetPrototypeGetSize, v);
  const isDate = (v) => brand(DatePrototypeGetTime, v);
  const RegExpPrototype = ObjectGetPrototypeOf(/x/);
  const isRegExp = (v) => v !== RegExpPrototype && brand(RegExpPrototypeGetSource, v);
  const isArrayBuffer = (v) => brand(ArrayBufferPrototypeGetByteLength, v);
  const isWeakMap = (v) => { try { WeakMapPrototypeHas(v, ObjectPrototype); return true; } catch (e) { return false; } };
  const isWeakSet = (v) => { try { WeakSetPrototypeHas(v, ObjectPrototype); return true; } catch (e) { return false; } };
  // These two never throw.
  const isTypedArray = (v) => TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined;
  const isPromise = (v) => promiseState(v) !== undefined;
  const ErrorPrototype = Error.prototype;
  function isError(v) {
    for (let p = protoOf(v), n = 0; p && n < MAX_PROTOTYPES; p = protoOf(p), n++) {
      if (p === ErrorPrototype) return true;
    }
    return false;
  }
  // The valueOf of each boxed primitive, by tag.
  const boxes = {
    __proto__: null,
    '[object Number]': NumberPrototypeValueOf,
    '[object String]': StringPrototypeValueOf,
    '[object Boolean]': BooleanPrototypeValueOf,
    '[object BigInt]': BigIntPrototypeValueOf,
    '[object Symbol]': SymbolPrototypeValueOf,
  };

  const objToString = (v) => {
    try { return ObjectPrototypeToString(v); } catch (e) { return '[object Object]'; }
  };

  const escapes = {
    __proto__: null, '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\\': '\\\\',
  };
  const needsEscape = /[\x00-\x1f\x7f\\'"`]/g; // global: exec resumes at lastIndex

  function quote(s) {
    let q = "'";
    if (StringPrototypeIncludes(s, "'")) {
      if (!StringPrototypeIncludes(s, '"')) q = '"';
      else if (!StringPrototypeIncludes(s, '`') && !StringPrototypeIncludes(s, '${')) q = '`';
    }
    let out = '';
    let from = 0;
    for (;;) {
      needsEscape.lastIndex = from;
      const m = RegExpPrototypeExec(needsEscape, s);
      if (m === null) break;
      const i = m.index;
      const ch = s[i];
      const code = StringPrototypeCharCodeAt(s, i);
      out += StringPrototypeSlice(s, from, i);
      if (ch === q) out += '\\' + ch;
      else if (escapes[ch] !== undefined) out += escapes[ch];
      else if (code < 0x20 || code === 0x7f) {
        out += '\\x' + StringPrototypeToUpperCase(StringPrototypePadStart(NumberPrototypeToString(code, 16), 2, '0'));
      } else out += ch;
      from = i + 1;
    }
    return q + out + StringPrototypeSlice(s, from) + q;
  }

  const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function formatKey(k) {
    if (typeof k === 'symbol') return '[' + SymbolPrototypeToString(k) + ']';
    return test(identRe, k) ? k : quote(k);
  }

  function formatNumber(n) {
    return ObjectIs(n, -0) ? '-0' : '' + n;
  }

  function formatPrimitive(v) {
    switch (typeof v) {
      case 'string': {
        let s = v;
        let tail = '';
        if (s.length > MAX_STRING) {
          tail = `... ${s.length - MAX_STRING} more characters`;
          s = StringPrototypeSlice(s, 0, MAX_STRING);
        }
        return quote(s) + tail;
      }
      case 'number': return formatNumber(v);
      case 'bigint': return v + 'n';
      case 'boolean': return v ? 'true' : 'false';
      case 'undefined': return 'undefined';
      case 'symbol': return SymbolPrototypeToString(v);
    }
    return v === null ? 'null' : undefined;
  }

  // A property read that runs no user code: own data properties only.
  function ownData(o, k) {
    try {
      const d = ObjectGetOwnPropertyDescriptor(o, k);
      return d !== undefined && hasOwn(d, 'value') ? d.value : undefined;
    } catch (e) {
      return undefined;
    }
  }

  function fnName(f) {
    const name = ownData(f, 'name');
    return typeof name === 'string' ? name : '';
  }

  function formatFunction(f) {
    let src = '';
    try { src = FunctionPrototypeToString(f); } catch (e) { /* a proxy */ }
    const name = fnName(f);
    if (StringPrototypeStartsWith(src, 'class')) return name ? `[class ${name}]` : '[class (anonymous)]';
    let kind = 'Function';
    const proto = protoOf(f);
    if (proto === AsyncFunctionPrototype) kind = 'AsyncFunction';
    else if (proto === GeneratorFunctionPrototype) kind = 'GeneratorFunction';
    else if (proto === AsyncGeneratorFunctionPrototype) kind = 'AsyncGeneratorFunction';
    return name ? `[${kind}: ${name}]` : `[${kind} (anonymous)]`;
  }

  // Object.getPrototypeOf(o), or undefined when a proxy trap throws.
  function protoOf(o) {
    try {
      return ObjectGetPrototypeOf(o);
    } catch (e) {
      return undefined;
    }
  }

  function constructorName(o) {
    let p = o;
    for (let n = 0; p && n < MAX_PROTOTYPES; n++) {
      const c = ownData(p, 'constructor');
      if (typeof c === 'function' && fnName(c) !== '') return fnName(c);
      p = protoOf(p);
    }
    return null;
  }

  // String(v) that never throws; fallback when v's conversion does.
  function safeString(v, fallback) {
    if (typeof v === 'string') return v;
    try {
      return String(v);
    } catch (e) {
      return fallback;
    }
  }

  function formatError(e) {
    let stack;
    try { stack = e.stack; } catch (x) { /* getter threw */ }
    const head = safeString(e, 'Error');
    if (typeof stack === 'string' && stack) {
      return head + '\n' + (StringPrototypeEndsWith(stack, '\n') ? StringPrototypeSlice(stack, 0, -1) : stack);
    }
    return '[' + head + ']';
  }

  function keysOf(o, isArrayLike) {
    const keys = [];
    const all = ReflectOwnKeys(o);
    for (let i = 0; i < all.length; i++) {
      const k = all[i];
      if (isArrayLike && typeof k === 'string' && '' + (k >>> 0) === k && (k >>> 0) < 4294967295) continue;
      const d = ObjectGetOwnPropertyDescriptor(o, k);
      if (d && d.enumerable) push(keys, k);
    }
    return keys;
  }

  function formatProperty(o, k, ctx, depth) {
    const d = ObjectGetOwnPropertyDescriptor(o, k);
    let val;
    if (d === undefined) {
      val = 'undefined';
    } else if (!hasOwn(d, 'value')) {
      val = d.get && d.set ? '[Getter/Setter]' : d.get ? '[Getter]' : '[Setter]';
    } else {
      val = formatValue(d.value, ctx, depth + 1);
    }
    return formatKey(k) + ': ' + val;
  }

  function pushProperties(entries, o, keys, ctx, depth) {
    for (let i = 0; i < keys.length; i++) push(entries, formatProperty(o, keys[i], ctx, depth));
  }

  function reduceToSingle(entries, braces, prefix, ctx, depth) {
    const start = prefix ? prefix + ' ' : '';
    if (entries.length === 0) return start + braces[0] + braces[1];
    const single = start + braces[0] + ' ' + ArrayPrototypeJoin(entries, ', ') + ' ' + braces[1];
    const indent = StringPrototypeRepeat('  ', depth);
    if (single.length + indent.length <= BREAK && !StringPrototypeIncludes(single, '\n')) return single;
    const inner = '\n' + indent + '  ';
    return start + braces[0] + inner + ArrayPrototypeJoin(entries, ',' + inner) + '\n' + indent + braces[1];
  }

  function formatValue(v, ctx, depth) {
    const prim = formatPrimitive(v);
    if (prim !== undefined) return prim;
    if (typeof v === 'function' && !keysOf(v).length) return formatFunction(v);

    // Circular references: <ref *1> on the target, [Circular *1] at the back-reference.
    if (ArrayPrototypeIncludes(ctx.seen, v)) {
      let id = MapPrototypeGet(ctx.circular, v);
      if (id === undefined) {
        id = MapPrototypeGetSize(ctx.circular) + 1;
        MapPrototypeSet(ctx.circular, v, id);
      }
      return `[Circular *${id}]`;
    }
    const custom = customInspect(v, ctx, depth);
    if (custom !== undefined) return custom;
    const out = formatObject(v, ctx, depth);
    const id = MapPrototypeGet(ctx.circular, v);
    return id !== undefined ? `<ref *${id}> ${out}` : out;
  }

  // Node's util.inspect.custom: an object (Buffer, URL, a user's class) may
  // say how it is shown. A hook that throws is ignored.
  const CUSTOM = SymbolFor('nodejs.util.inspect.custom');
  function customInspect(v, ctx, depth) {
    let hook;
    try {
      hook = v[CUSTOM];
    } catch (e) {
      return undefined;
    }
    if (typeof hook !== 'function') return undefined;
    let r;
    try {
      r = apply(hook, v, [MAX_DEPTH - depth, { __proto__: null, depth: MAX_DEPTH - depth }, inspect]);
    } catch (e) {
      return undefined;
    }
    if (typeof r === 'string') {
      // Indented as the lines of a nested value are.
      return depth > 0 && StringPrototypeIncludes(r, '\n')
        ? ArrayPrototypeJoin(split(r, '\n'), '\n' + StringPrototypeRepeat('  ', depth)) : r;
    }
    if (r === v) return undefined;
    push(ctx.seen, v);
    try {
      return formatValue(r, ctx, depth);
    } finally {
      ArrayPrototypePop(ctx.seen);
    }
  }

  function emptyItems(n) {
    return `<${n} empty item${n > 1 ? 's' : ''}>`;
  }

  function formatObject(v, ctx, depth) {
    const tag = objToString(v);
    const ctor = constructorName(v);
    if (isError(v)) return formatError(v);
    if (tag === '[object Date]' && isDate(v)) {
      const t = DatePrototypeGetTime(v);
      return NumberIsNaN(t) ? 'Invalid Date' : DatePrototypeToISOString(v);
    }
    if (tag === '[object RegExp]' && isRegExp(v)) return safeString(RegExpPrototypeToString(v), '/(?:)/');
    if (typeof v === 'function') {
      push(ctx.seen, v);
      const entries = [];
      pushProperties(entries, v, keysOf(v), ctx, depth);
      ArrayPrototypePop(ctx.seen);
      return reduceToSingle(entries, ['{', '}'], formatFunction(v), ctx, depth);
    }
    const valueOf = boxes[tag];
    if (valueOf !== undefined) {
      let prim, boxed = true;
      try { prim = valueOf(v); } catch (e) { boxed = false; }
      if (boxed) return `[${StringPrototypeSlice(tag, 8, -1)}: ${formatPrimitive(prim)}]`;
    }
    if (isPromise(v)) {
      const st = promiseState(v);
      const state = st[0];
      if (state === 0) return 'Promise { <pending> }';
      push(ctx.seen, v);
      const inner = formatValue(st[1], ctx, depth + 1);
      ArrayPrototypePop(ctx.seen);
      return state === 1 ? `Promise { ${inner} }` : `Promise { <rejected> ${inner} }`;
    }
    if (tag === '[object WeakMap]' && isWeakMap(v)) return 'WeakMap { <items unknown> }';
    if (tag === '[object WeakSet]' && isWeakSet(v)) return 'WeakSet { <items unknown> }';

    const isArray = ArrayIsArray(v);
    const isTyped = isTypedArray(v);
    let prefix = '';
    let braces = ['{', '}'];
    const entries = [];

    if (depth > MAX_DEPTH) {
      if (isArray) return '[Array]';
      return `[${ctor || 'Object'}]`;
    }
    push(ctx.seen, v);
    try {
      if (isArray || isTyped) {
        const len = isTyped ? TypedArrayPrototypeGetLength(v) : v.length;
        braces = ['[', ']'];
        if (isTyped) prefix = `${ctor || TypedArrayPrototypeGetSymbolToStringTag(v)}(${len})`;
        else if (ctor !== 'Array') prefix = `${ctor || 'Array'}(${len})`;
        let holes = 0;
        const shown = MathMin(len, MAX_ARRAY);
        for (let i = 0; i < shown; i++) {
          if (!isTyped && !hasOwn(v, i)) {
            holes++;
            continue;
          }
          if (holes) {
            push(entries, emptyItems(holes));
            holes = 0;
          }
          push(entries, isTyped ? formatPrimitive(v[i]) : formatValue(v[i], ctx, depth + 1));
        }
        if (holes) push(entries, emptyItems(holes));
        if (len > shown) push(entries, `... ${len - shown} more item${len - shown > 1 ? 's' : ''}`);
        pushProperties(entries, v, keysOf(v, true), ctx, depth);
      } else if (tag === '[object Map]' && isMap(v)) {
        const size = MapPrototypeGetSize(v);
        prefix = `${ctor || 'Map'}(${size})`;
        const it = MapPrototypeEntries(v);
        for (let n = 0; ; n++) {
          const r = MapIteratorPrototypeNext(it);
          if (r.done) break;
          if (n >= MAX_ARRAY) {
            push(entries, `... ${size - MAX_ARRAY} more items`);
            break;
          }
          push(entries, formatValue(r.value[0], ctx, depth + 1) + ' => ' + formatValue(r.value[1], ctx, depth + 1));
        }
        pushProperties(entries, v, keysOf(v), ctx, depth);
      } else if (tag === '[object Set]' && isSet(v)) {
        const size = SetPrototypeGetSize(v);
        prefix = `${ctor || 'Set'}(${size})`;
        const it = SetPrototypeValues(v);
        for (let n = 0; ; n++) {
          const r = SetIteratorPrototypeNext(it);
          if (r.done) break;
          if (n >= MAX_ARRAY) {
            push(entries, `... ${size - MAX_ARRAY} more items`);
            break;
          }
          push(entries, formatValue(r.value, ctx, depth + 1));
        }
        pushProperties(entries, v, keysOf(v), ctx, depth);
      } else if (tag === '[object ArrayBuffer]' && isArrayBuffer(v)) {
        const bytes = new Uint8Array(v);
        const n = ArrayBufferPrototypeGetByteLength(v);
        let hex = '';
        for (let i = 0; i < n && i < 50; i++) {
          hex += (i ? ' ' : '') + StringPrototypePadStart(NumberPrototypeToString(bytes[i], 16), 2, '0');
        }
        const more = n > 50 ? ` ... ${n - 50} more bytes` : '';
        return `ArrayBuffer { [Uint8Contents]: <${hex}${more}>, byteLength: ${n} }`;
      } else {
        const proto = protoOf(v);
        if (proto === null) prefix = '[Object: null prototype]';
        else if (ctor && ctor !== 'Object') prefix = ctor;
        else if (tag !== '[object Object]' && !ctor) prefix = `Object [${StringPrototypeSlice(tag, 8, -1)}]`;
        let toStringTag;
        try { toStringTag = v[SymbolToStringTag]; } catch (e) { /* getter threw */ }
        if (typeof toStringTag === 'string' && toStringTag && toStringTag !== ctor) {
          prefix = (prefix || 'Object') + ` [${toStringTag}]`;
        }
        pushProperties(entries, v, keysOf(v), ctx, depth);
      }
    } finally {
      ArrayPrototypePop(ctx.seen);
    }
    return reduceToSingle(entries, braces, prefix, ctx, depth);
  }

  function inspect(v) {
    try {
      // A primitive needs no context (most results are one).
      const prim = formatPrimitive(v);
      if (prim !== undefined) return prim;
      return formatValue(v, { __proto__: null, seen: [], circular: new Map() }, 0);
    } catch (e) {
      // A getter or proxy trap threw (or the stack ran out).
      return `[${typeof v} (inspect failed)]`;
    }
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
          out += StringPrototypeSlice(first, last, p) + '%';
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
            else rep = formatNumber(c === 'i' ? MathTrunc(Number(a)) : Number(a));
            break;
          case 'f': rep = typeof a === 'symbol' ? 'NaN' : formatNumber(NumberParseFloat(a)); break;
          case 'j':
            try { rep = JSONStringify(a); } catch (e) { rep = '[Circular]'; }
            break;
          case 'o': case 'O': rep = inspect(a); break;
          case 'c': rep = ''; break;
          default: continue;
        }
        out += StringPrototypeSlice(first, last, p) + rep;
        last = p + 2;
        p++;
        i++;
      }
      out += StringPrototypeSlice(first, last);
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
