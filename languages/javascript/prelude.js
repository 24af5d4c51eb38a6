// wasmbox JavaScript prelude, part 2 (after inspect.js): console, display,
// timers, process, and __wasmbox_run, which the driver calls for each cell
// (wasm/ABI.md). Evaluated once per QuickJS instance as a global script.
(function () {
  'use strict';
  const W = globalThis.__wasmbox;
  const inspect = globalThis.__wasmbox_inspect;
  const format = globalThis.__wasmbox_format;
  delete globalThis.__wasmbox_inspect;
  delete globalThis.__wasmbox_format;

  const EV_RESULT = 1, EV_ERROR = 2, EV_PROBE = 100;
  const MIMEBUNDLE = Symbol.for('wasmbox.mimebundle');
  let quiet = false;

  function emit(kind, obj) {
    if (!quiet) W.emit(kind, JSON.stringify(obj));
  }

  function hide(obj, name, value) {
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }

  // ---- console -----------------------------------------------------------

  let groupIndent = '';
  const counts = new Map();
  const timers = new Map();

  function out(fd, args) {
    let s = format(...args);
    if (groupIndent) s = groupIndent + s.split('\n').join('\n' + groupIndent);
    W.write(fd, s + '\n');
  }

  const console = {
    log: (...a) => out(1, a),
    info: (...a) => out(1, a),
    debug: (...a) => out(1, a),
    error: (...a) => out(2, a),
    warn: (...a) => out(2, a),
    trace: (...a) => {
      const stack = (new Error().stack || '').split('\n').slice(1).join('\n');
      out(2, ['Trace' + (a.length ? ': ' + format(...a) : '') + '\n' + stack]);
    },
    dir: (v) => out(1, [inspect(v)]),
    assert: (cond, ...a) => {
      if (!cond) out(2, ['Assertion failed' + (a.length ? ': ' + format(...a) : '')]);
    },
    count: (label = 'default') => {
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      out(1, [`${label}: ${n}`]);
    },
    countReset: (label = 'default') => counts.delete(label),
    time: (label = 'default') => timers.set(label, Date.now()),
    timeLog: (label = 'default', ...a) => {
      if (timers.has(label)) out(1, [`${label}: ${Date.now() - timers.get(label)}ms`, ...a]);
    },
    timeEnd: (label = 'default') => {
      if (timers.has(label)) {
        out(1, [`${label}: ${Date.now() - timers.get(label)}ms`]);
        timers.delete(label);
      }
    },
    group: (...a) => {
      if (a.length) out(1, a);
      groupIndent += '  ';
    },
    groupEnd: () => { groupIndent = groupIndent.slice(2); },
    table: (data) => out(1, [inspect(data)]),
  };
  console.groupCollapsed = console.group;
  hide(globalThis, 'console', console);

  // ---- display -----------------------------------------------------------

  function isPlainJSON(v) {
    if (v === null || typeof v !== 'object') return false;
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return false;
    try {
      return JSON.stringify(v) !== undefined;
    } catch (e) {
      return false; // cycles, BigInt
    }
  }

  function bundleOf(value) {
    const data = {};
    const hook = value !== null && (typeof value === 'object' || typeof value === 'function')
      ? value[MIMEBUNDLE] : undefined;
    if (typeof hook === 'function') {
      const b = hook.call(value);
      if (b && typeof b === 'object') {
        for (const [mime, v] of Object.entries(b)) {
          if (v !== undefined && v !== null) data[mime] = typeof v === 'string' || mime === 'application/json' ? v : String(v);
        }
      }
    }
    if (!('application/json' in data) && isPlainJSON(value)) data['application/json'] = JSON.parse(JSON.stringify(value));
    if (!('text/plain' in data)) data['text/plain'] = inspect(value);
    return data;
  }

  // display(value): a result (not the main one) with the value's formats.
  // display(string, mimeType): the string as that MIME type.
  // display({mime: data, ...}, {raw: true}): a ready-made MIME bundle.
  function display(value, opt) {
    let data;
    if (typeof opt === 'string') {
      data = { [opt]: typeof value === 'string' ? value : inspect(value) };
    } else if (opt && opt.raw) {
      if (value === null || typeof value !== 'object') throw new TypeError('display(bundle, {raw: true}) takes an object of MIME types');
      data = {};
      for (const [mime, v] of Object.entries(value)) data[mime] = v;
    } else {
      data = bundleOf(value);
    }
    emit(EV_RESULT, { is_main_result: false, data });
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
    pending.set(id, { due: Date.now() + ms, fn, args, interval: interval ? ms : 0 });
    return id;
  }
  function clearTimer(id) {
    if (id && typeof id === 'object' && 'id' in id) id = id.id;
    pending.delete(id);
  }
  hide(globalThis, 'setTimeout', (fn, ms, ...args) => addTimer(fn, ms, args, false));
  hide(globalThis, 'setInterval', (fn, ms, ...args) => addTimer(fn, ms, args, true));
  hide(globalThis, 'setImmediate', (fn, ...args) => addTimer(fn, 0, args, false));
  hide(globalThis, 'clearTimeout', clearTimer);
  hide(globalThis, 'clearInterval', clearTimer);
  hide(globalThis, 'clearImmediate', clearTimer);
  if (typeof globalThis.queueMicrotask !== 'function') {
    hide(globalThis, 'queueMicrotask', (fn) => { Promise.resolve().then(fn); });
  }

  // ---- randomness --------------------------------------------------------
  //
  // Math.random is xoshiro128** seeded lazily from the host's entropy, so
  // contexts restored from one snapshot do not share a random stream (a
  // fork's set-up clears the seed).

  const rs = new Uint32Array(4);
  let seeded = false;
  function seed() {
    const b = new Uint32Array(W.entropy(16));
    rs.set(b);
    if (!(rs[0] | rs[1] | rs[2] | rs[3])) rs[0] = 1;
    seeded = true;
  }
  function next32() {
    if (!seeded) seed();
    const r = Math.imul(rotl(Math.imul(rs[1], 5), 7), 9) >>> 0;
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
  const crypto = {
    getRandomValues(arr) {
      if (!ArrayBuffer.isView(arr) || arr instanceof Float32Array || arr instanceof Float64Array) {
        throw new TypeError('getRandomValues takes an integer typed array');
      }
      if (arr.byteLength > 65536) throw new RangeError('getRandomValues: at most 65536 bytes');
      const src = new Uint8Array(W.entropy(arr.byteLength));
      new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(src);
      return arr;
    },
    randomUUID() {
      const b = new Uint8Array(W.entropy(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
    chdir: (d) => { W.chdir(String(d)); processEnv.PWD = W.getcwd(); },
    exit: (code) => {
      const e = new Error('process.exit(' + (code === undefined ? 0 : code) + ')');
      e.name = 'ProcessExit';
      throw e;
    },
    hrtime: Object.assign((prev) => {
      const ns = BigInt(Math.round(performanceNow() * 1e6));
      const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
      if (!prev) return t;
      let s = t[0] - prev[0], n = t[1] - prev[1];
      if (n < 0) { s--; n += 1e9; }
      return [s, n];
    }, { bigint: () => BigInt(Math.round(performanceNow() * 1e6)) }),
    nextTick: (fn, ...args) => { Promise.resolve().then(() => fn(...args)); },
  };
  const t0 = Date.now();
  function performanceNow() {
    return typeof W.now === 'function' ? W.now() : Date.now() - t0;
  }
  hide(globalThis, 'process', process);
  if (typeof globalThis.performance === 'undefined') hide(globalThis, 'performance', { now: performanceNow });

  // ---- cells -------------------------------------------------------------

  // REPL semantics: top-level `let`, `const` and `class` declarations become
  // `var` (and `var X = class X {...};`), so a cell can be run again without
  // "redeclaration" errors, as in Node's and Chrome's consoles. Only the top
  // level is touched; a light scanner skips strings, templates, comments and
  // regular expressions.
  const regexAfter = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void',
    'throw', 'case', 'do', 'else', 'yield', 'await']);
  const isIdStart = (c) => /[A-Za-z_$\u0080-\uffff]/.test(c);
  const isId = (c) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

  function rewriteTopLevel(src) {
    if (!/\b(let|const|class)\b/.test(src)) return src;
    const edits = []; // [pos, deleteCount, insert]
    const stack = []; // bracket kinds; 't' marks a template substitution
    let i = 0;
    let prev = null; // previous significant token: {type: 'id'|'punct'|'value', text}
    let sawNewline = true;
    let classPending = false;
    const classEnds = []; // stack depths at which a class body closes
    const n = src.length;
    const statementStart = () => stack.length === 0 && (prev === null || sawNewline ||
      (prev.type === 'punct' && (prev.text === ';' || prev.text === '}')));
    while (i < n) {
      const c = src[i];
      if (c === '\n') { sawNewline = true; i++; continue; }
      if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
      if (c === '/' && src[i + 1] === '/') {
        while (i < n && src[i] !== '\n') i++;
        continue;
      }
      if (c === '/' && src[i + 1] === '*') {
        const e = src.indexOf('*/', i + 2);
        if (src.slice(i, e < 0 ? n : e).includes('\n')) sawNewline = true;
        i = e < 0 ? n : e + 2;
        continue;
      }
      if (c === '"' || c === "'") {
        i++;
        while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
        i++;
        prev = { type: 'value', text: c };
        sawNewline = false;
        continue;
      }
      if (c === '`' || (c === '}' && stack[stack.length - 1] === 't')) {
        if (c === '}') stack.pop();
        i++;
        let resumed = false;
        while (i < n) {
          if (src[i] === '\\') { i += 2; continue; }
          if (src[i] === '`') { i++; break; }
          if (src[i] === '$' && src[i + 1] === '{') { stack.push('t'); i += 2; resumed = true; break; }
          i++;
        }
        prev = resumed ? { type: 'punct', text: '${' } : { type: 'value', text: '`' };
        sawNewline = false;
        continue;
      }
      if (c === '/') {
        const regex = prev === null || (prev.type === 'punct' && prev.text !== ')' && prev.text !== ']' &&
          prev.text !== '}') || (prev.type === 'id' && regexAfter.has(prev.text)) ||
          (prev.type === 'punct' && prev.text === '}');
        if (regex) {
          i++;
          let cls = false;
          while (i < n && src[i] !== '\n') {
            if (src[i] === '\\') { i += 2; continue; }
            if (src[i] === '[') cls = true;
            else if (src[i] === ']') cls = false;
            else if (src[i] === '/' && !cls) break;
            i++;
          }
          i++;
          while (i < n && isId(src[i])) i++;
          prev = { type: 'value', text: '/' };
          sawNewline = false;
          continue;
        }
      }
      if (isIdStart(c)) {
        let j = i + 1;
        while (j < n && isId(src[j])) j++;
        const word = src.slice(i, j);
        if ((word === 'let' || word === 'const') && statementStart()) {
          let k = j;
          while (k < n && /\s/.test(src[k])) k++;
          if (word === 'const' || isIdStart(src[k] || '') || src[k] === '[' || src[k] === '{') {
            edits.push([i, word.length, 'var']);
          }
        } else if (word === 'class' && statementStart()) {
          let k = j;
          while (k < n && /\s/.test(src[k])) k++;
          let e = k;
          while (e < n && isId(src[e])) e++;
          const name = src.slice(k, e);
          if (name && name !== 'extends') {
            edits.push([i, 0, `var ${name} = `]);
            classPending = true;
          }
        }
        prev = { type: 'id', text: word };
        sawNewline = false;
        i = j;
        continue;
      }
      if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] || ''))) {
        let j = i + 1;
        while (j < n && /[0-9A-Za-z_.]/.test(src[j])) j++;
        prev = { type: 'value', text: '0' };
        sawNewline = false;
        i = j;
        continue;
      }
      // punctuation
      if (c === '(' || c === '[' || c === '{') {
        if (c === '{' && classPending && stack.length === 0) {
          classEnds.push(1);
          classPending = false;
        }
        stack.push(c);
      } else if (c === ')' || c === ']' || c === '}') {
        stack.pop();
        if (c === '}' && stack.length === 0 && classEnds.length) {
          classEnds.pop();
          edits.push([i + 1, 0, ';']);
        }
      }
      prev = { type: 'punct', text: c };
      sawNewline = false;
      i++;
    }
    let outSrc = src;
    for (let k = edits.length - 1; k >= 0; k--) {
      const [pos, del, ins] = edits[k];
      outSrc = outSrc.slice(0, pos) + ins + outSrc.slice(pos + del);
    }
    return outSrc;
  }

  // Tracebacks show the cell's frames only, capped in size.
  function traceback(e, name, message) {
    let stack = '';
    try { stack = typeof e === 'object' && e !== null && typeof e.stack === 'string' ? e.stack : ''; } catch (x) { /* ignore */ }
    const frames = stack.split('\n').filter((l) => l.includes('<cell-')).slice(0, 50);
    let tb = `${name}: ${message}`;
    if (frames.length) tb += '\n' + frames.join('\n');
    return tb.length > 16384 ? tb.slice(0, 16384) + '\n    ... (truncated)' : tb;
  }

  // An error event must fit the host's limit (languages.MaxErrorPayload,
  // 2 MiB): the message keeps at most MAX_ERROR_FIELD characters, which stays
  // under it even if every character is escaped (6 bytes).
  const MAX_ERROR_FIELD = 128 << 10;
  const MAX_ERROR_NAME = 1000;
  function cut(s, n) {
    return s.length <= n ? s : s.slice(0, n) + `\n[wasmbox: truncated ${s.length - n} characters]`;
  }

  function errorEvent(e, prefix) {
    let name, message;
    if (e instanceof Error || (e && typeof e === 'object' && typeof e.name === 'string' && 'message' in e)) {
      try { name = String(e.name); } catch (x) { name = 'Error'; }
      try { message = String(e.message); } catch (x) { message = ''; }
    } else {
      name = 'Error';
      message = 'Uncaught ' + inspect(e);
    }
    if (prefix) message = prefix + message;
    name = cut(name, MAX_ERROR_NAME);
    message = cut(message, MAX_ERROR_FIELD);
    return { name, value: message, traceback: traceback(e, name, message) };
  }

  let count = 0;
  let firstError = null;
  const unhandled = new Map(); // promise -> reason
  if (typeof W.onRejection === 'function') {
    W.onRejection((promise, reason, handled) => {
      if (handled) unhandled.delete(promise);
      else unhandled.set(promise, reason);
    });
  }

  function fail(e, prefix) {
    if (firstError === null) firstError = errorEvent(e, prefix);
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
      if (pending.size === 0) {
        if (done()) return true;
        W.runJobs();
        if (pending.size === 0) return done();
        continue;
      }
      let nextId = null, next = null;
      for (const [id, t] of pending) {
        if (next === null || t.due < next.due) { next = t; nextId = id; }
      }
      const wait = next.due - Date.now();
      if (wait > 0) W.sleep(wait);
      if (next.due > Date.now()) continue;
      if (next.interval) next.due = Date.now() + next.interval;
      else pending.delete(nextId);
      try {
        next.fn(...next.args);
      } catch (e) {
        fail(e, 'Uncaught ');
      }
    }
  }

  function setup(o) {
    if (o.probe) {
      emit(EV_PROBE, { open_fds: [] });
      return 0;
    }
    if (o.cwd) {
      W.chdir(o.cwd);
      processEnv.PWD = o.cwd;
    }
    seeded = false;
    if (o.warm) {
      quiet = true;
      try {
        run('var __wasmbox_warm = { a: [1, "x"] }; __wasmbox_warm', '{}');
        run('delete globalThis.__wasmbox_warm', '{}');
      } finally {
        quiet = false;
        count = 0;
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
    for (const k of Object.keys(savedEnv)) {
      if (savedEnv[k] === undefined) delete processEnv[k];
      else processEnv[k] = savedEnv[k];
    }
    savedEnv = null;
  }

  function run(code, optsJSON) {
    const o = optsJSON ? JSON.parse(optsJSON) : {};
    restoreEnv();
    pending.clear();
    if (o.setup) return setup(o);
    count++; // names the cell's source; the host numbers cells itself
    firstError = null;
    unhandled.clear();
    groupIndent = '';
    const saved = {};
    const envs = o.envs || {};
    for (const k of Object.keys(envs)) {
      saved[k] = Object.prototype.hasOwnProperty.call(processEnv, k) ? processEnv[k] : undefined;
      processEnv[k] = String(envs[k]);
    }
    savedEnv = saved;
    try {
      const filename = `<cell-${count}>`;
      const src = rewriteTopLevel(code);
      const useAsync = /\bawait\b/.test(code);
      let completion;
      let ok = true;
      try {
        completion = W.evalScript(src, filename, useAsync);
      } catch (e) {
        ok = false;
        fail(e);
      }
      let value;
      let settled = !useAsync;
      if (ok && useAsync) {
        completion.then((r) => { value = r && r.value; settled = true; },
          (e) => { settled = true; ok = false; fail(e); });
      } else if (ok) {
        value = completion;
      }
      if (!runLoop(() => settled) && firstError === null) {
        fail(new Error('the cell awaited a promise that never settles'));
        ok = false;
      }
      for (const reason of unhandled.values()) {
        fail(reason, 'Uncaught (in promise) ');
        break;
      }
      if (ok && firstError === null && value !== undefined) {
        hide(globalThis, '_', value);
        emit(EV_RESULT, { is_main_result: true, data: bundleOf(value) });
      }
      if (firstError !== null) emit(EV_ERROR, firstError);
    } finally {
      restoreEnv();
      pending.clear();
    }
    return 0;
  }

  hide(globalThis, '__wasmbox_run', run);
  delete globalThis.__wasmbox;
})();
