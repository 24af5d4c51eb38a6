// wasmbox JavaScript prelude, part 2 (after inspect.js, before node.js):
// the globals Node gives every script that QuickJS lacks, evaluated when a
// cell first uses them. Evaluated as a global script.
//
// Together they would more than double the memory every context starts
// with (compiled functions and the objects they make), so their sources
// (globals.js: DOMException, atob/btoa, structuredClone, Buffer; url.js:
// URL, URLSearchParams; intl.js: Intl) are kept as strings (ASCII, so one
// byte a character) and evaluated the first time a cell touches one of
// their globals, a toLocaleString method or localeCompare, or requires
// buffer or url.
(function () {
  'use strict';
  const W = globalThis.__wasmbox_primordials.W;
  const inspect = globalThis.__wasmbox_inspect;
  function hide(obj, name, value) {
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  }
  const lazy = globalThis.__wasmbox_lazy;
  delete globalThis.__wasmbox_lazy;
  const evalScript = W.evalScript;
  const getOwn = Object.getOwnPropertyDescriptor;
  let globalsModule = null;
  function loadGlobals() {
    if (globalsModule === null) {
      globalsModule = evalScript(lazy.globals, '<prelude:globals.js>', false)(W, inspect);
      lazy.globals = null; // compiled now
    }
    return globalsModule;
  }
  let urlModule = null;
  function loadURL() {
    if (urlModule === null) {
      urlModule = evalScript(lazy.url, '<prelude:url.js>', false)(W, inspect);
      lazy.url = null;
    }
    return urlModule;
  }
  let fetchModule = null;
  function loadFetch() {
    if (fetchModule === null) {
      fetchModule = evalScript(lazy.fetch, '<prelude:fetch.js>', false)(W, { loadURL });
      lazy.fetch = null;
    }
    return fetchModule;
  }
  let intlState = 0; // 0 not loaded, 1 loading, 2 loaded
  function loadIntl() {
    if (intlState !== 0) return;
    intlState = 1;
    try {
      evalScript(lazy.intl, '<prelude:intl.js>', false)();
      intlState = 2;
      lazy.intl = null;
    } finally {
      if (intlState === 1) intlState = 0; // it failed (an interrupt, say): the next use tries again
    }
  }
  function lazyGlobal(name, get) {
    Object.defineProperty(globalThis, name, {
      get() {
        const v = get();
        const d = getOwn(globalThis, name);
        if (d && d.get) hide(globalThis, name, v);
        return v;
      },
      set(v) { hide(globalThis, name, v); },
      enumerable: false,
      configurable: true,
    });
  }
  for (const name of ['DOMException', 'atob', 'btoa', 'structuredClone', 'Buffer']) lazyGlobal(name, () => loadGlobals()[name]);
  lazyGlobal('URL', () => loadURL().URL);
  lazyGlobal('URLSearchParams', () => loadURL().URLSearchParams);
  for (const name of ['fetch', 'Request', 'Response', 'Headers']) lazyGlobal(name, () => loadFetch()[name]);
  lazyGlobal('Intl', () => {
    loadIntl(); // defines globalThis.Intl
    const d = getOwn(globalThis, 'Intl');
    return d && 'value' in d ? d.value : undefined;
  });
  // Stubs that load Intl, which replaces them, then call the real method.
  for (const [proto, name] of [[Number.prototype, 'toLocaleString'], [BigInt.prototype, 'toLocaleString'],
    [Date.prototype, 'toLocaleString'], [Date.prototype, 'toLocaleDateString'], [Date.prototype, 'toLocaleTimeString'],
    [String.prototype, 'localeCompare']]) {
    const original = proto[name];
    const stub = {
      [name](...args) {
        loadIntl();
        const now = proto[name];
        return Reflect.apply(now !== stub ? now : original, this, args);
      },
    }[name];
    hide(proto, name, stub);
  }

  hide(globalThis, '__wasmbox_web', { loadGlobals, loadURL });
})();
