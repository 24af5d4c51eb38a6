// wasmbox JavaScript prelude, part 4 (after node.js, before prelude.js):
// modules. Cells import with ES module syntax, which the host rewrote
// (languages/javascript/rewrite.go): a static import is a call of
// __wasmbox_esm(specifier), import() is __wbim(specifier), import.meta is
// __wbmeta___. The host also sent, with the cell (CellOptions.Prepared),
// the files its imports reach, transformed to CommonJS, and what each file
// specifier resolves to. This file keeps the context's module registry:
//
//   - a file is evaluated once per context, the first time something
//     imports or requires it, wrapped in a function of (exports, require,
//     module, __filename, __dirname); later imports, in any cell, get the
//     same module (as Node caches modules);
//   - built-in modules (node.js) are served by name, with or without node:;
//   - an import of a file gets the module's namespace: the exports of an ES
//     module, or {default: module.exports, ...module.exports} for CommonJS
//     and built-in modules, as Node gives them;
//   - source maps of transformed cells and files turn the positions of an
//     error's frames back into the user's lines and columns.
//
// It defines require, __wasmbox_esm, __wbim and __wbmeta___ on globalThis
// and hands prelude.js its hooks in __wasmbox_modules (which prelude.js
// removes).
(function () {
  'use strict';
  const {
    apply, ObjectDefineProperty, ObjectKeys, ObjectPrototypeHasOwnProperty: hasOwn, ArrayPrototypeJoin,
    String, StringPrototypeCharCodeAt, StringPrototypeIncludes, StringPrototypeLastIndexOf, StringPrototypeSlice,
    StringPrototypeStartsWith, Error, TypeError, RangeError, SyntaxError, Map, MapPrototypeDelete, MapPrototypeGet,
    MapPrototypeGetSize, MapPrototypeHas, MapPrototypeSet, MapPrototypeEntries, MapIteratorPrototypeNext, WeakMap,
    WeakMapPrototypeGet, WeakMapPrototypeSet, Promise, RegExpPrototypeExec, push, hide, split,
  } = globalThis.__wasmbox_primordials;
  const W = globalThis.__wasmbox_primordials.W;
  const encodeURIPath = encodeURI, decodeURIPath = decodeURIComponent;
  const builtins = globalThis.__wasmbox_builtins;
  delete globalThis.__wasmbox_builtins;
  const builtinNames = ArrayPrototypeJoin(ObjectKeys(builtins), ', ');

  const registry = new Map(); // path -> module, once evaluation started
  const shipped = new Map(); // path -> the host's {code, map, imports, error}, until evaluated
  const maps = new Map(); // file name (path or <cell-N>) -> {mappings, offset, lines}
  const cellMaps = []; // cell names with a map, oldest first
  const MAX_CELL_MAPS = 100;

  // ---- resolution --------------------------------------------------------

  function dirname(p) {
    const i = StringPrototypeLastIndexOf(p, '/');
    return i <= 0 ? '/' : StringPrototypeSlice(p, 0, i);
  }

  // The absolute path a file specifier names, or null for a bare one.
  function filePath(spec, dir) {
    let p;
    if (StringPrototypeStartsWith(spec, 'file://')) {
      p = StringPrototypeSlice(spec, 7);
      try { p = decodeURIPath(p); } catch (e) { /* keep it */ }
    } else if (StringPrototypeStartsWith(spec, '/')) {
      p = spec;
    } else if (spec === '.' || spec === '..' || StringPrototypeStartsWith(spec, './') || StringPrototypeStartsWith(spec, '../')) {
      p = dir + '/' + spec;
    } else {
      return null;
    }
    const parts = split(p, '/');
    const out = [];
    for (let i = 0; i < parts.length; i++) {
      const seg = parts[i];
      if (seg === '' || seg === '.') continue;
      if (seg === '..') { if (out.length) out.length--; } else push(out, seg);
    }
    return '/' + ArrayPrototypeJoin(out, '/');
  }

  // The candidates of languages/javascript/transform.go, in its order.
  const EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs', '.mts', '.cts', '.json'];
  const INDEXES = ['/index.ts', '/index.js', '/index.mjs'];
  const SWAP = { __proto__: null, '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };
  function known(p) { return MapPrototypeHas(registry, p) || MapPrototypeHas(shipped, p); }
  function findKnown(p) {
    if (known(p)) return p;
    const dot = StringPrototypeLastIndexOf(p, '.');
    const ext = dot > StringPrototypeLastIndexOf(p, '/') ? StringPrototypeSlice(p, dot) : '';
    if (SWAP[ext] && known(StringPrototypeSlice(p, 0, dot) + SWAP[ext])) return StringPrototypeSlice(p, 0, dot) + SWAP[ext];
    for (let i = 0; i < EXTENSIONS.length; i++) if (known(p + EXTENSIONS[i])) return p + EXTENSIONS[i];
    for (let i = 0; i < INDEXES.length; i++) if (known(p + INDEXES[i])) return p + INDEXES[i];
    return '';
  }

  function notFound(spec, from, why, esm) {
    const e = new Error(`Cannot find module '${spec}' imported from ${from}: ${why}`);
    hide(e, 'code', esm ? 'ERR_MODULE_NOT_FOUND' : 'MODULE_NOT_FOUND');
    return e;
  }

  // The error of a file the host could not transform, at its place.
  function loadError(loc) {
    const Ctor = loc.name === 'RangeError' ? RangeError : loc.name === 'SyntaxError' ? SyntaxError : Error;
    const e = new Ctor(String(loc.message));
    let stack = '';
    try { stack = e.stack; } catch (x) { /* ignore */ }
    hide(e, 'stack', `    at ${loc.file}:${loc.line}:${loc.column}\n${stack}`);
    return e;
  }

  // ---- the registry ------------------------------------------------------

  const HEADER = '(function (exports, require, module, __filename, __dirname) {\n';

  function load(file, spec, from, esm) {
    const cached = MapPrototypeGet(registry, file);
    if (cached !== undefined) return cached.exports;
    const src = MapPrototypeGet(shipped, file);
    if (src === undefined) {
      throw notFound(spec, from, `${file} was not loaded when the cell started (wasmbox reads the files a cell ` +
        'imports before it runs, so a specifier computed at run time only finds files imported before)', esm);
    }
    const err = own(src, 'error');
    if (err) throw loadError(err);
    const module = { exports: {}, id: file, filename: file, path: dirname(file), loaded: false };
    MapPrototypeSet(registry, file, module);
    try {
      // The wrapper's first line shifts the file's lines by one.
      const map = own(src, 'map');
      MapPrototypeSet(maps, file, { __proto__: null, mappings: typeof map === 'string' && map ? map : null, offset: 1, lines: null });
      const fn = W.evalScript(HEADER + String(own(src, 'code')) + '\n})', file, false);
      const imports = own(src, 'imports');
      apply(fn, module.exports, [module.exports, makeRequire(imports, dirname(file), file), module, file, dirname(file)]);
    } catch (e) {
      MapPrototypeDelete(registry, file); // it can be imported again once fixed
      throw e;
    }
    module.loaded = true;
    MapPrototypeDelete(shipped, file);
    return module.exports;
  }

  function own(o, k) {
    return o !== null && typeof o === 'object' && hasOwn(o, k) ? o[k] : undefined;
  }

  // A require() for code in dir, with the host's resolutions (imports).
  function makeRequire(imports, dir, from, esm) {
    const resolve = (spec) => {
      if (typeof spec !== 'string') throw new TypeError('The "id" argument must be of type string');
      const name = StringPrototypeStartsWith(spec, 'node:') ? StringPrototypeSlice(spec, 5) : spec;
      if (hasOwn(builtins, name)) return { __proto__: null, builtin: name };
      let file = imports !== null && typeof imports === 'object' && hasOwn(imports, spec) ? imports[spec] : undefined;
      if (typeof file !== 'string') {
        const p = filePath(spec, dir);
        if (p === null) {
          throw notFound(spec, from, `wasmbox has no npm packages; its built-in modules are ${builtinNames}`, esm);
        }
        file = findKnown(p);
      }
      if (file === '') throw notFound(spec, from, `no such file relative to ${dir}`, esm);
      return { __proto__: null, file };
    };
    const require = function require(spec) {
      const r = resolve(spec);
      return r.builtin !== undefined ? builtins[r.builtin] : load(r.file, spec, from, esm);
    };
    require.resolve = (spec) => {
      const r = resolve(spec);
      return r.builtin !== undefined ? r.builtin : r.file;
    };
    return require;
  }

  // The namespace object an import of a module gives.
  const namespaces = new WeakMap();
  function namespaceOf(exports) {
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
      return { __proto__: null, default: exports };
    }
    let ns = WeakMapPrototypeGet(namespaces, exports);
    if (ns !== undefined) return ns;
    if (exports.__esModule) {
      ns = exports; // an ES module, as esbuild converted it: its exports are live
    } else {
      ns = { __proto__: null };
      const keys = ObjectKeys(exports);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] !== 'default') ns[keys[i]] = exports[keys[i]];
      }
      ns.default = exports;
    }
    WeakMapPrototypeSet(namespaces, exports, ns);
    return ns;
  }

  // ---- cells -------------------------------------------------------------

  let base = '/home/user';
  let cellName = '<cell>';
  // The running cell's require, import and import.meta are made when the
  // cell first uses them (most cells never do), from what begin recorded.
  let cellImports = null, cellBase = base;
  let cellRequire = null, cellImport = null;
  let meta = null, metaBase = null;
  function currentRequire() {
    if (cellRequire === null) cellRequire = makeRequire(cellImports, cellBase, cellName, false);
    return cellRequire;
  }
  function currentImport() {
    if (cellImport === null) cellImport = makeRequire(cellImports, cellBase, cellName, true);
    return cellImport;
  }
  function currentMeta() {
    if (meta === null && metaBase !== null) {
      const filename = metaBase + '/' + cellName;
      meta = { url: 'file://' + encodeURIPath(filename), filename, dirname: metaBase };
    }
    return meta;
  }

  function esmImport(spec) {
    return namespaceOf(currentImport()(spec));
  }
  function dynamicImport(spec) {
    return new Promise((resolve, reject) => {
      try {
        resolve(esmImport(String(spec)));
      } catch (e) {
        reject(e);
      }
    });
  }
  function fixed(name, value) {
    ObjectDefineProperty(globalThis, name, { __proto__: null, value, writable: false, enumerable: false, configurable: false });
  }
  fixed('__wasmbox_esm', esmImport);
  fixed('__wbim', dynamicImport);
  ObjectDefineProperty(globalThis, '__wbmeta___', {
    __proto__: null, get: currentMeta, enumerable: false, configurable: false,
  });
  hide(globalThis, 'require', function require(spec) { return currentRequire()(spec); });
  globalThis.require.resolve = (spec) => currentRequire().resolve(spec);

  // begin(prepared, name): the cell about to run (prepared: the host's
  // CellOptions.Prepared, or undefined).
  function begin(prep, name) {
    cellName = name;
    if (prep === undefined) { // a plain cell: nothing shipped, mapped or resolved
      cellImports = undefined;
      cellBase = metaBase = base;
      cellRequire = cellImport = meta = null;
      return;
    }
    const b = own(prep, 'base');
    if (typeof b === 'string' && b) base = b;
    const imports = own(prep, 'imports');
    const modules = own(prep, 'modules');
    if (modules !== null && typeof modules === 'object') {
      const keys = ObjectKeys(modules);
      for (let i = 0; i < keys.length; i++) {
        if (!MapPrototypeHas(registry, keys[i])) MapPrototypeSet(shipped, keys[i], modules[keys[i]]);
      }
    }
    const map = own(prep, 'map');
    if (typeof map === 'string' && map) {
      MapPrototypeSet(maps, name, { __proto__: null, mappings: map, offset: 0, lines: null });
      push(cellMaps, name);
      if (cellMaps.length > MAX_CELL_MAPS) {
        MapPrototypeDelete(maps, cellMaps[0]);
        for (let i = 1; i < cellMaps.length; i++) cellMaps[i - 1] = cellMaps[i];
        cellMaps.length--;
      }
    }
    cellImports = imports;
    cellBase = metaBase = base;
    cellRequire = cellImport = meta = null;
  }

  // ---- source maps -------------------------------------------------------

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const digit = { __proto__: null };
  for (let i = 0; i < 64; i++) digit[StringPrototypeCharCodeAt(B64, i)] = i;

  // decode(mappings): for each generated line, the flat list
  // [generatedColumn, originalLine, originalColumn, ...], 0-based.
  function decode(m) {
    const lines = [];
    let line = [];
    let col = 0, oline = 0, ocol = 0, i = 0;
    const fields = [0, 0, 0, 0, 0];
    while (i < m.length) {
      const c = StringPrototypeCharCodeAt(m, i);
      if (c === 59) { // ;
        push(lines, line);
        line = [];
        col = 0;
        i++;
        continue;
      }
      if (c === 44) { i++; continue; } // ,
      let n = 0;
      while (i < m.length && n < 5) {
        const ch = StringPrototypeCharCodeAt(m, i);
        if (ch === 44 || ch === 59) break;
        let value = 0, shift = 0, d;
        do {
          d = digit[StringPrototypeCharCodeAt(m, i++)];
          if (d === undefined) return lines; // malformed: what was read so far
          value += (d & 31) << shift;
          shift += 5;
        } while (d & 32);
        fields[n++] = value & 1 ? -(value >>> 1) : value >>> 1;
      }
      col += fields[0];
      if (n >= 4) {
        oline += fields[2];
        ocol += fields[3];
        push(line, col);
        push(line, oline);
        push(line, ocol);
      }
    }
    push(lines, line);
    return lines;
  }

  // original(name, line, column): the user's [line, column] (1-based) of a
  // generated position, or null.
  function original(name, line, column) {
    const m = MapPrototypeGet(maps, name);
    if (m === undefined) return null;
    if (m.mappings === null) return line > m.offset ? [line - m.offset, column] : null; // not transformed
    if (m.lines === null) m.lines = decode(m.mappings);
    let l = line - 1 - m.offset;
    if (l < 0 || l >= m.lines.length) return null;
    let segs = m.lines[l];
    let best = -1;
    for (let k = 0; k < segs.length; k += 3) {
      if (segs[k] <= column - 1) best = k;
    }
    if (best < 0) { // before the first mapped column: this line's first, or the last of an earlier one
      if (segs.length) best = 0;
      else {
        while (l > 0 && !m.lines[l].length) l--;
        segs = m.lines[l];
        if (!segs.length) return null;
        best = segs.length - 3;
      }
    }
    return [segs[best + 1] + 1, segs[best + 2] + 1];
  }

  const frameRe = /^(.*?)(<cell-\d+>|\/[^:()]*):(\d+):(\d+)(\)?)$/;
  // The frames that belong to the user: cells and sandbox files.
  function userFrame(line) {
    return StringPrototypeIncludes(line, '<cell-') || StringPrototypeIncludes(line, '(/') ||
      StringPrototypeStartsWith(line, '    at /');
  }
  // A frame with its position in the user's source.
  function mapFrame(line) {
    const m = RegExpPrototypeExec(frameRe, line);
    if (m === null) return line;
    const pos = original(m[2], +m[3], +m[4]);
    return pos === null ? line : `${m[1]}${m[2]}:${pos[0]}:${pos[1]}${m[5]}`;
  }

  // setBase(dir): the context's working directory, at set-up.
  function setBase(dir) {
    base = dir;
    cellImports = null;
    cellBase = base;
    cellRequire = cellImport = null;
  }

  hide(globalThis, '__wasmbox_modules', { __proto__: null, begin, userFrame, mapFrame, setBase, original });
})();
