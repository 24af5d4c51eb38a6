// wasmbox JavaScript prelude, part 3 (after primordials.js, inspect.js and
// node.js): console, display, timers, process, and __wasmbox_run, which the
// driver calls for each cell (wasm/ABI.md). Evaluated once per QuickJS
// instance as a global script.
//
// A cell may override or poison any built-in (see primordials.js): this file
// only uses the built-ins captured there, builds the events' JSON itself, and
// guards every step that touches user values (thrown values, results,
// display hooks), so that errors are always reported and later cells work.
(function () {
  'use strict';
  const {
    apply, ObjectDefineProperty, ObjectGetPrototypeOf, ObjectKeys, ObjectPrototype,
    ObjectPrototypeHasOwnProperty: hasOwn, ArrayIsArray, ArrayPrototypeJoin, ArrayPrototypePop,
    String, StringPrototypeIncludes, StringPrototypeIndexOf, StringPrototypePadStart, StringPrototypeSlice,
    Number, NumberPrototypeToString, BigInt, SymbolFor, MathImul, MathRound, DateNow, JSONParse, JSONStringify,
    Error, TypeError, RangeError, Map, MapPrototypeClear, MapPrototypeDelete, MapPrototypeForEach, MapPrototypeGet,
    MapPrototypeGetSize, MapPrototypeHas, MapPrototypeSet, SetPrototypeHas, ArrayBufferIsView,
    TypedArrayPrototypeSet, Uint8Array, Uint32Array, Float32Array, Float64Array,
    safeThen, promiseResolve, push, hide, put, split, test,
  } = globalThis.__wasmbox_primordials;
  const W = globalThis.__wasmbox_primordials.W;
  const inspect = globalThis.__wasmbox_inspect;
  const format = globalThis.__wasmbox_format;
  const modules = globalThis.__wasmbox_modules;
  delete globalThis.__wasmbox_inspect;
  delete globalThis.__wasmbox_format;
  delete globalThis.__wasmbox_modules;

  const EV_RESULT = 1, EV_ERROR = 2, EV_PROBE = 100;
  const MIMEBUNDLE = SymbolFor('wasmbox.mimebundle');
  let quiet = false;

  // ---- events ------------------------------------------------------------
  //
  // Events are JSON built here, not by JSON.stringify on objects (which runs
  // toJSON methods a cell can add to Object.prototype): only strings go
  // through the captured JSON.stringify, which has no hook for them. Values
  // a cell asked to show as JSON are stringified before, and wrapped in
  // rawJSON().

  const RAW = Symbol('wasmbox.rawjson'); // a key no cell can name
  const rawJSON = (text) => ({ __proto__: null, [RAW]: text });

  function toJSON(v) {
    switch (typeof v) {
      case 'string': return JSONStringify(v);
      case 'number': return v === v && v !== Infinity && v !== -Infinity ? '' + v : 'null';
      case 'boolean': return v ? 'true' : 'false';
      case 'object': {
        if (v === null) return 'null';
        if (hasOwn(v, RAW)) return v[RAW];
        if (ArrayIsArray(v)) {
          let s = '[';
          for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + toJSON(v[i]);
          return s + ']';
        }
        const keys = ObjectKeys(v);
        let s = '{';
        for (let i = 0; i < keys.length; i++) s += (i ? ',' : '') + JSONStringify(keys[i]) + ':' + toJSON(v[keys[i]]);
        return s + '}';
      }
    }
    return 'null';
  }

  // obj is built by the prelude: null-prototype objects, arrays, strings,
  // numbers, booleans and rawJSON().
  function emit(kind, obj) {
    if (!quiet) W.emit(kind, toJSON(obj));
  }

  // emitResult(data, main): a result event; a bundle of text alone (a
  // primitive's) is written as toJSON would, without walking it.
  function emitResult(data, main) {
    if (quiet) return;
    const keys = ObjectKeys(data);
    const text = data['text/plain'];
    if (keys.length === 1 && typeof text === 'string') {
      emitText(text, main);
      return;
    }
    emit(EV_RESULT, { __proto__: null, is_main_result: main, data });
  }

  // emitText(text, main): the result event of a bundle of text alone,
  // encoded by the driver.
  function emitText(text, main) {
    W.emitText(main, text);
  }

  // emitValue(value, main): the result event of a value. A primitive's
  // bundle is its text alone (only objects have a mimebundle hook or
  // JSON), so it is written without building the bundle.
  function emitValue(value, main) {
    if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
      emitResult(bundleOf(value), main);
    } else if (!quiet) {
      emitText(inspect(value), main);
    }
  }

  // String(v) that never throws.
  function safeString(v, fallback) {
    if (typeof v === 'string') return v;
    try {
      return String(v);
    } catch (e) {
      return fallback;
    }
  }

  // A short description of a thrown value, for wasmbox's own messages.
  function describe(e) {
    let name = '', message = '';
    try { name = safeString(e.name, ''); } catch (x) { /* getter threw */ }
    try { message = safeString(e.message, ''); } catch (x) { /* getter threw */ }
    if (!name && !message) return inspect(e);
    return message ? (name || 'Error') + ': ' + message : name;
  }

  function warn(what, e) {
    try {
      W.write(2, `wasmbox: ${what} failed: ${describe(e)}\n`);
    } catch (x) { /* stderr is gone */ }
  }

  // ---- console -----------------------------------------------------------

  let groupIndent = '';
  const counts = new Map();
  const timers = new Map();

  function out(fd, args) {
    let s = apply(format, undefined, args);
    if (groupIndent) s = groupIndent + ArrayPrototypeJoin(split(s, '\n'), '\n' + groupIndent);
    W.write(fd, s + '\n');
  }

  const console = {
    log: (...a) => out(1, a),
    info: (...a) => out(1, a),
    debug: (...a) => out(1, a),
    error: (...a) => out(2, a),
    warn: (...a) => out(2, a),
    trace: (...a) => {
      let stack = '';
      try { stack = safeString(new Error().stack, ''); } catch (e) { /* ignore */ }
      const lines = split(stack, '\n');
      let frames = '';
      for (let i = 1; i < lines.length; i++) frames += (i > 1 ? '\n' : '') + lines[i];
      out(2, ['Trace' + (a.length ? ': ' + apply(format, undefined, a) : '') + '\n' + frames]);
    },
    dir: (v) => out(1, [inspect(v)]),
    assert: (cond, ...a) => {
      if (!cond) out(2, ['Assertion failed' + (a.length ? ': ' + apply(format, undefined, a) : '')]);
    },
    count: (label = 'default') => {
      const n = (MapPrototypeGet(counts, label) || 0) + 1;
      MapPrototypeSet(counts, label, n);
      out(1, [`${label}: ${n}`]);
    },
    countReset: (label = 'default') => MapPrototypeDelete(counts, label),
    time: (label = 'default') => MapPrototypeSet(timers, label, DateNow()),
    timeLog: (label = 'default', ...a) => {
      if (MapPrototypeHas(timers, label)) {
        const args = [`${label}: ${DateNow() - MapPrototypeGet(timers, label)}ms`];
        for (let i = 0; i < a.length; i++) push(args, a[i]);
        out(1, args);
      }
    },
    timeEnd: (label = 'default') => {
      if (MapPrototypeHas(timers, label)) {
        out(1, [`${label}: ${DateNow() - MapPrototypeGet(timers, label)}ms`]);
        MapPrototypeDelete(timers, label);
      }
    },
    group: (...a) => {
      if (a.length) out(1, a);
      groupIndent += '  ';
    },
    groupEnd: () => { groupIndent = StringPrototypeSlice(groupIndent, 2); },
    table: (data) => out(1, [inspect(data)]),
  };
  console.groupCollapsed = console.group;
  hide(globalThis, 'console', console);

  // ---- display -----------------------------------------------------------

  // The value's JSON text when it is a plain object or array that
  // JSON.stringify accepts, else undefined.
  function plainJSON(v) {
    try {
      if (v === null || typeof v !== 'object') return undefined;
      const proto = ObjectGetPrototypeOf(v);
      if (!ArrayIsArray(v) && proto !== ObjectPrototype && proto !== null) return undefined;
      const text = JSONStringify(v);
      return typeof text === 'string' ? text : undefined;
    } catch (e) {
      return undefined; // cycles, BigInt, a throwing getter or toJSON
    }
  }

  // bundleOf(value): the MIME bundle of a value, a null-prototype object of
  // strings and rawJSON(). Never throws: what fails is left out, with a
  // warning on stderr.
  function bundleOf(value) {
    const data = { __proto__: null };
    let hook;
    try {
      hook = value !== null && (typeof value === 'object' || typeof value === 'function') ? value[MIMEBUNDLE] : undefined;
    } catch (e) {
      warn('reading [wasmbox.mimebundle]', e);
    }
    if (typeof hook === 'function') {
      try {
        const b = apply(hook, value, []);
        if (b !== null && typeof b === 'object') {
          const mimes = ObjectKeys(b);
          for (let i = 0; i < mimes.length; i++) {
            const mime = mimes[i];
            const v = b[mime];
            if (v === undefined || v === null) continue;
            if (mime === 'application/json') {
              const text = JSONStringify(v);
              if (typeof text === 'string') data[mime] = rawJSON(text);
            } else {
              data[mime] = safeString(v, '');
            }
          }
        }
      } catch (e) {
        warn('[wasmbox.mimebundle]()', e);
      }
    }
    if (!hasOwn(data, 'application/json')) {
      const text = plainJSON(value);
      if (text !== undefined) data['application/json'] = rawJSON(text);
    }
    if (!hasOwn(data, 'text/plain')) data['text/plain'] = inspect(value);
    return data;
  }

  // display(value): a result (not the main one) with the value's formats.
  // display(string, mimeType): the string as that MIME type.
  // display({mime: data, ...}, {raw: true}): a ready-made MIME bundle.
  function display(value, opt) {
    let data;
    if (typeof opt === 'string') {
      data = { __proto__: null, [opt]: typeof value === 'string' ? value : inspect(value) };
    } else if (opt !== null && typeof opt === 'object' && opt.raw) {
      if (value === null || typeof value !== 'object') throw new TypeError('display(bundle, {raw: true}) takes an object of MIME types');
      data = { __proto__: null };
      const mimes = ObjectKeys(value);
      for (let i = 0; i < mimes.length; i++) {
        const v = value[mimes[i]];
        if (typeof v === 'string') {
          data[mimes[i]] = v;
        } else {
          const text = JSONStringify(v);
          if (typeof text === 'string') data[mimes[i]] = rawJSON(text);
        }
      }
    } else {
      emitValue(value, false);
      return;
    }
    emitResult(data, false);
  }
  hide(globalThis, 'display', display);

  // ---- timers ------------------------------------------------------------

  let timerSeq = 0;
  const pending = new Map(); // id -> {due, fn, args, interval}

  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    ms = Number(ms);
    if (!(ms >= 1 && ms <= 2147483647)) ms = 1;
    const id = ++timerSeq;
    MapPrototypeSet(pending, id, { __proto__: null, due: DateNow() + ms, fn, args, interval: interval ? ms : 0 });
    return id;
  }
  function clearTimer(id) {
    if (id && typeof id === 'object' && 'id' in id) id = id.id;
    MapPrototypeDelete(pending, id);
  }
  hide(globalThis, 'setTimeout', (fn, ms, ...args) => addTimer(fn, ms, args, false));
  hide(globalThis, 'setInterval', (fn, ms, ...args) => addTimer(fn, ms, args, true));
  hide(globalThis, 'setImmediate', (fn, ...args) => addTimer(fn, 0, args, false));
  hide(globalThis, 'clearTimeout', clearTimer);
  hide(globalThis, 'clearInterval', clearTimer);
  hide(globalThis, 'clearImmediate', clearTimer);
  const microtask = (fn) => { safeThen(promiseResolve(undefined), fn); };
  if (typeof globalThis.queueMicrotask !== 'function') hide(globalThis, 'queueMicrotask', microtask);

  // ---- randomness --------------------------------------------------------
  //
  // Math.random is xoshiro128** seeded lazily from the host's entropy, so
  // contexts restored from one snapshot do not share a random stream (a
  // fork's set-up clears the seed).

  const rs = new Uint32Array(4);
  let seeded = false;
  function seed() {
    TypedArrayPrototypeSet(rs, new Uint32Array(W.entropy(16)));
    if (!(rs[0] | rs[1] | rs[2] | rs[3])) rs[0] = 1;
    seeded = true;
  }
  function next32() {
    if (!seeded) seed();
    const r = MathImul(rotl(MathImul(rs[1], 5), 7), 9) >>> 0;
    const t = rs[1] << 9;
    rs[2] ^= rs[0]; rs[3] ^= rs[1]; rs[1] ^= rs[2]; rs[0] ^= rs[3];
    rs[2] ^= t;
    rs[3] = rotl(rs[3], 11);
    return r;
  }
  function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }
  hide(Math, 'random', function random() {
    return (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53;
  });
  const hex2 = (b) => StringPrototypePadStart(NumberPrototypeToString(b, 16), 2, '0');
  const crypto = {
    getRandomValues(arr) {
      if (!ArrayBufferIsView(arr) || arr instanceof Float32Array || arr instanceof Float64Array) {
        throw new TypeError('getRandomValues takes an integer typed array');
      }
      if (arr.byteLength > 65536) throw new RangeError('getRandomValues: at most 65536 bytes');
      const src = new Uint8Array(W.entropy(arr.byteLength));
      TypedArrayPrototypeSet(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), src);
      return arr;
    },
    randomUUID() {
      const b = new Uint8Array(W.entropy(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      let h = '';
      for (let i = 0; i < 16; i++) h += hex2(b[i]);
      const s = (from, to) => StringPrototypeSlice(h, from, to);
      return `${s(0, 8)}-${s(8, 12)}-${s(12, 16)}-${s(16, 20)}-${s(20)}`;
    },
  };
  hide(globalThis, 'crypto', crypto);

  // ---- process -----------------------------------------------------------

  const processEnv = {};
  const process = {
    env: processEnv,
    argv: ['wasmbox'],
    platform: 'wasi',
    version: W.version || 'quickjs',
    versions: { quickjs: W.version || '' },
    cwd: () => W.getcwd(),
    chdir: (d) => { W.chdir(String(d)); put(processEnv, 'PWD', W.getcwd()); },
    exit: (code) => {
      const e = new Error('process.exit(' + (code === undefined ? 0 : code) + ')');
      hide(e, 'name', 'ProcessExit');
      throw e;
    },
    hrtime: Object.assign((prev) => {
      const ns = BigInt(MathRound(performanceNow() * 1e6));
      const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
      if (!prev) return t;
      let s = t[0] - prev[0], n = t[1] - prev[1];
      if (n < 0) { s--; n += 1e9; }
      return [s, n];
    }, { bigint: () => BigInt(MathRound(performanceNow() * 1e6)) }),
    nextTick: (fn, ...args) => { microtask(() => apply(fn, undefined, args)); },
  };
  const t0 = DateNow();
  function performanceNow() {
    return typeof W.now === 'function' ? W.now() : DateNow() - t0;
  }
  hide(globalThis, 'process', process);
  if (typeof globalThis.performance === 'undefined') hide(globalThis, 'performance', { now: performanceNow });

  // ---- cells -------------------------------------------------------------

  // Tracebacks show the user's frames only (the cells' and the sandbox
  // files'), at their places in the user's source, capped in size.
  function traceback(e, name, message) {
    let stack = '';
    try {
      const s = e !== null && (typeof e === 'object' || typeof e === 'function') ? e.stack : undefined;
      if (typeof s === 'string') stack = s;
    } catch (x) { /* a getter or proxy trap threw */ }
    const lines = split(stack, '\n');
    let tb = `${name}: ${message}`;
    for (let i = 0, n = 0; i < lines.length && n < 50; i++) {
      if (modules.userFrame(lines[i])) {
        tb += '\n' + modules.mapFrame(lines[i]);
        n++;
      }
    }
    return tb.length > 16384 ? StringPrototypeSlice(tb, 0, 16384) + '\n    ... (truncated)' : tb;
  }

  // An error event must fit the host's limit (languages.MaxErrorPayload,
  // 2 MiB): the message keeps at most MAX_ERROR_FIELD characters, which stays
  // under it even if every character is escaped (6 bytes).
  const MAX_ERROR_FIELD = 128 << 10;
  const MAX_ERROR_NAME = 1000;
  function cut(s, n) {
    return s.length <= n ? s : StringPrototypeSlice(s, 0, n) + `\n[wasmbox: truncated ${s.length - n} characters]`;
  }

  const ErrorCtor = Error;
  // Whether e looks like an error (an Error, or an object with a string name
  // and a message). Any trap or getter that throws makes it "no".
  function errorLike(e) {
    if (e === null || typeof e !== 'object') return false;
    try {
      if (e instanceof ErrorCtor) return true;
    } catch (x) { /* Symbol.hasInstance or a getPrototypeOf trap threw */ }
    try {
      return typeof e.name === 'string' && 'message' in e;
    } catch (x) {
      return false;
    }
  }

  // errorEvent(e, prefix): the error event of a thrown value. Never throws,
  // whatever e's getters, traps and conversions do.
  function errorEvent(e, prefix) {
    let name = 'Error', message = '';
    if (errorLike(e)) {
      try { name = safeString(e.name, 'Error'); } catch (x) { /* getter threw */ }
      try { message = safeString(e.message, ''); } catch (x) { /* getter threw */ }
    } else {
      message = 'Uncaught ' + inspect(e);
    }
    if (prefix) message = prefix + message;
    name = cut(name, MAX_ERROR_NAME);
    message = cut(message, MAX_ERROR_FIELD);
    return { __proto__: null, name, value: message, traceback: traceback(e, name, message) };
  }

  let count = 0;
  let firstError = null;
  const unhandled = new Map(); // promise -> reason
  if (typeof W.onRejection === 'function') {
    W.onRejection((promise, reason, handled) => {
      if (handled) MapPrototypeDelete(unhandled, promise);
      else MapPrototypeSet(unhandled, promise, reason);
    });
  }

  function fail(e, prefix) {
    if (firstError === null) firstError = errorEvent(e, prefix);
  }

  function failWith(message) {
    if (firstError === null) firstError = { __proto__: null, name: 'Error', value: message, traceback: 'Error: ' + message };
  }

  // The timer due first, or null.
  function nextTimer() {
    let next = null, nextId = null;
    MapPrototypeForEach(pending, (t, id) => {
      if (next === null || t.due < next.due) { next = t; nextId = id; }
    });
    return next === null ? null : { __proto__: null, id: nextId, t: next };
  }

  // Runs jobs and due timers until the cell's promise (if any) settled and no
  // timer is left. Interrupts (timeouts) end it from the driver.
  function runLoop(done) {
    for (;;) {
      try {
        W.runJobs();
      } catch (e) {
        fail(e);
      }
      if (MapPrototypeGetSize(pending) === 0) {
        if (done()) return true;
        W.runJobs();
        if (MapPrototypeGetSize(pending) === 0) return done();
        continue;
      }
      const { id, t: next } = nextTimer();
      const wait = next.due - DateNow();
      if (wait > 0) W.sleep(wait);
      if (next.due > DateNow()) continue;
      if (next.interval) next.due = DateNow() + next.interval;
      else MapPrototypeDelete(pending, id);
      try {
        apply(next.fn, undefined, next.args);
      } catch (e) {
        fail(e, 'Uncaught ');
      }
    }
  }

  // opts are the host's JSON (wasm/ABI.md); only their own keys count (a
  // cell may put anything on Object.prototype).
  function option(o, k) {
    return o !== null && typeof o === 'object' && hasOwn(o, k) ? o[k] : undefined;
  }

  function setup(o) {
    if (option(o, 'probe')) {
      emit(EV_PROBE, { __proto__: null, open_fds: [] });
      return 0;
    }
    const cwd = option(o, 'cwd');
    if (cwd) {
      W.chdir(cwd);
      put(processEnv, 'PWD', cwd);
      modules.setBase(cwd);
    }
    seeded = false;
    if (option(o, 'warm')) {
      quiet = true;
      try {
        run('var __wasmbox_warm = { a: [1, "x"] }; __wasmbox_warm', '{}');
        run('delete globalThis.__wasmbox_warm', '{}');
      } finally {
        quiet = false;
        count = 0;
        last = undefined;
      }
    }
    W.gc();
    return 0;
  }

  // An interrupt ends a cell without running finally blocks, so what a cell
  // must undo (its env vars, its timers) is also undone when the next starts.
  let savedEnv = null;
  function restoreEnv() {
    if (savedEnv === null) return;
    const saved = savedEnv;
    savedEnv = null;
    const keys = ObjectKeys(saved);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      try {
        if (saved[k] === undefined) delete processEnv[k];
        else put(processEnv, k, saved[k]);
      } catch (e) { /* the cell froze process.env */ }
    }
  }

  function runCell(code, optsJSON) {
    const o = optsJSON ? JSONParse(optsJSON) : null;
    restoreEnv();
    MapPrototypeClear(pending);
    if (option(o, 'setup')) return setup(o);
    count++; // names the cell's source; the host numbers cells itself
    firstError = null;
    MapPrototypeClear(unhandled);
    groupIndent = '';
    const envs = option(o, 'envs');
    if (envs !== null && typeof envs === 'object') {
      const saved = { __proto__: null };
      savedEnv = saved; // filled as it goes: an interrupt half-way is undone too
      const keys = ObjectKeys(envs);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        saved[k] = hasOwn(processEnv, k) ? processEnv[k] : undefined;
        try {
          put(processEnv, k, String(envs[k]));
        } catch (e) {
          warn('setting process.env.' + k, e);
        }
      }
    }
    try {
      const filename = `<cell-${count}>`;
      const prepared = option(o, 'prepared');
      const prepError = option(prepared, 'error');
      if (prepError !== undefined) {
        // The host could not transform the cell (a syntax error): its
        // place is in the cell's own lines.
        const name = safeString(option(prepError, 'name'), 'SyntaxError');
        const message = safeString(option(prepError, 'message'), '');
        const at = `${filename}:${option(prepError, 'line')}:${option(prepError, 'column')}`;
        emit(EV_ERROR, { __proto__: null, name, value: message, traceback: `${name}: ${message}\n    at ${at}` });
        return 0;
      }
      modules.begin(prepared, filename);
      const useAsync = StringPrototypeIncludes(code, 'await') && test(awaitRe, code);
      let completion;
      let ok = true;
      try {
        completion = W.evalScript(code, filename, useAsync); // declarations rewritten on the host (toplevel.go)
      } catch (e) {
        ok = false;
        fail(e);
      }
      let value;
      let settled = !useAsync;
      if (ok && useAsync) {
        safeThen(completion, (r) => { value = r && r.value; settled = true; },
          (e) => { settled = true; ok = false; fail(e); });
      } else if (ok) {
        value = completion;
      }
      if (!runLoop(() => settled) && firstError === null) {
        failWith('the cell awaited a promise that never settles');
        ok = false;
      }
      if (MapPrototypeGetSize(unhandled) > 0) {
        let first = true;
        MapPrototypeForEach(unhandled, (reason) => {
          if (first) fail(reason, 'Uncaught (in promise) ');
          first = false;
        });
      }
      if (ok && firstError === null && value !== undefined) {
        setLast(value);
        emitValue(value, true);
      }
      if (firstError !== null) emit(EV_ERROR, firstError);
    } finally {
      restoreEnv();
      MapPrototypeClear(pending);
    }
    return 0;
  }
  const awaitRe = /\bawait\b/;

  // _ is the last cell's value, as in Node's REPL. It is an accessor on
  // globalThis over a variable here: defining a data property after every
  // cell cost more than a tenth of a trivial cell. A cell may assign _ (the
  // setter keeps its value until the next result), delete it (the next
  // result defines it again) or define it otherwise (it is then the cell's
  // own, and no later result overwrites it).
  let last;
  const lastDescriptor = {
    __proto__: null, get: () => last, set: (v) => { last = v; }, configurable: true, enumerable: false,
  };
  ObjectDefineProperty(globalThis, '_', lastDescriptor);
  function setLast(value) {
    last = value;
    if (hasOwn(globalThis, '_')) return;
    try {
      ObjectDefineProperty(globalThis, '_', lastDescriptor);
    } catch (e) { /* the cell froze globalThis */ }
  }

  // run(code, opts): the driver's entry point. Whatever escapes runCell (a
  // bug, or a cell that broke something the prelude relies on) is still the
  // cell's error; only an interrupt, which nothing can catch, gets through,
  // and the driver reports it.
  function run(code, optsJSON) {
    try {
      return runCell(code, optsJSON);
    } catch (e) {
      try {
        emit(EV_ERROR, errorEvent(e, 'wasmbox: the cell could not be run: '));
      } catch (x) {
        W.emit(EV_ERROR, '{"name":"WasmboxError","value":"the cell could not be run","traceback":""}');
      }
      return 0;
    }
  }

  // The driver looks __wasmbox_run up on every cell: a cell can neither
  // replace nor delete it.
  ObjectDefineProperty(globalThis, '__wasmbox_run', { __proto__: null, value: run, writable: false, enumerable: false, configurable: false });
  delete globalThis.__wasmbox;
  delete globalThis.__wasmbox_primordials;
})();
