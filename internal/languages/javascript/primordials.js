// wasmbox JavaScript prelude, part 0: primordials. Evaluated first, before any
// user code exists, it keeps private references to every built-in the rest
// of the prelude uses, so that a cell that overrides or poisons built-ins
// (JSON.stringify, Object.prototype.toJSON, Array.prototype.push,
// Map.prototype.get, a getter on Error.prototype...) changes its own view of
// the language, not the prelude's: errors are still reported and later cells
// still work.
//
// The other parts call methods only through these uncurried forms,
// fn(self, ...args) instead of self.fn(...args), and avoid what looks things
// up on shared prototypes at run time:
//   - spread, for-of and array destructuring (the iterator protocol);
//   - Array.prototype.map/filter/slice/concat (ArraySpeciesCreate reads
//     arr.constructor);
//   - String.prototype.split/replace with a string (they look up
//     Symbol.split/Symbol.replace on it);
//   - assignments that create a property (a setter on the prototype would
//     run): objects built by the prelude have a null prototype, or are
//     object literals, and arrays grow with push() below;
//   - property descriptors with a prototype (a getter named `get` on
//     Object.prototype would turn them into accessors);
//   - instanceof (Symbol.hasInstance): brand checks use methods that throw
//     on the wrong object.
// prelude.js removes globalThis.__wasmbox_primordials.
(function () {
  'use strict';
  const FunctionPrototype = Function.prototype;
  // uncurryThis(f)(self, a, b) calls f with this = self, like f.call(self,
  // a, b), without looking up `call` when it runs.
  const uncurryThis = FunctionPrototype.bind.bind(FunctionPrototype.call);
  const getter = (proto, name) => uncurryThis(Object.getOwnPropertyDescriptor(proto, name).get);
  const apply = Reflect.apply;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectFreeze = Object.freeze;

  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const MapIteratorPrototype = Object.getPrototypeOf(new Map().entries());
  const SetIteratorPrototype = Object.getPrototypeOf(new Set().values());
  const PromiseCtor = Promise;
  const PromisePrototypeThen = uncurryThis(Promise.prototype.then);
  const PromiseResolveStatic = Promise.resolve;
  // Promise.prototype.then creates its promise with the SpeciesConstructor of
  // the receiver, i.e. p.constructor[Symbol.species], both of which a cell
  // can replace on Promise; an own `constructor` holding the real Promise as
  // its species pins it.
  const speciesHolder = ObjectFreeze({ __proto__: null, [Symbol.species]: PromiseCtor });

  const P = {
    __proto__: null,
    apply,
    ReflectOwnKeys: Reflect.ownKeys,

    ObjectDefineProperty,
    ObjectGetOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    ObjectGetPrototypeOf: Object.getPrototypeOf,
    ObjectIs: Object.is,
    ObjectKeys: Object.keys,
    ObjectFreeze,
    ObjectCreate: Object.create,
    ObjectGetOwnPropertyNames: Object.getOwnPropertyNames,
    ObjectPrototype: Object.prototype,
    ObjectPrototypeHasOwnProperty: uncurryThis(Object.prototype.hasOwnProperty),
    ObjectPrototypeToString: uncurryThis(Object.prototype.toString),

    FunctionPrototypeToString: uncurryThis(FunctionPrototype.toString),
    AsyncFunctionPrototype: Object.getPrototypeOf(async function () {}),
    GeneratorFunctionPrototype: Object.getPrototypeOf(function* () {}),
    AsyncGeneratorFunctionPrototype: Object.getPrototypeOf(async function* () {}),

    ArrayIsArray: Array.isArray,
    ArrayPrototypeIncludes: uncurryThis(Array.prototype.includes),
    ArrayPrototypeJoin: uncurryThis(Array.prototype.join),
    ArrayPrototypePop: uncurryThis(Array.prototype.pop),
    ArrayPrototypeShift: uncurryThis(Array.prototype.shift),

    String,
    StringPrototypeCharCodeAt: uncurryThis(String.prototype.charCodeAt),
    StringPrototypeEndsWith: uncurryThis(String.prototype.endsWith),
    StringPrototypeIncludes: uncurryThis(String.prototype.includes),
    StringPrototypeIndexOf: uncurryThis(String.prototype.indexOf),
    StringPrototypeLastIndexOf: uncurryThis(String.prototype.lastIndexOf),
    StringPrototypeToLowerCase: uncurryThis(String.prototype.toLowerCase),
    StringPrototypeCodePointAt: uncurryThis(String.prototype.codePointAt),
    StringFromCharCode: String.fromCharCode,
    StringFromCodePoint: String.fromCodePoint,
    StringPrototypePadStart: uncurryThis(String.prototype.padStart),
    StringPrototypeRepeat: uncurryThis(String.prototype.repeat),
    StringPrototypeSlice: uncurryThis(String.prototype.slice),
    StringPrototypeStartsWith: uncurryThis(String.prototype.startsWith),
    StringPrototypeToUpperCase: uncurryThis(String.prototype.toUpperCase),
    StringPrototypeValueOf: uncurryThis(String.prototype.valueOf),

    Number,
    NumberIsNaN: Number.isNaN,
    NumberParseFloat: Number.parseFloat,
    NumberPrototypeToString: uncurryThis(Number.prototype.toString),
    NumberPrototypeValueOf: uncurryThis(Number.prototype.valueOf),
    BooleanPrototypeValueOf: uncurryThis(Boolean.prototype.valueOf),
    BigInt,
    BigIntPrototypeValueOf: uncurryThis(BigInt.prototype.valueOf),
    SymbolFor: Symbol.for,
    SymbolToStringTag: Symbol.toStringTag,
    SymbolPrototypeToString: uncurryThis(Symbol.prototype.toString),
    SymbolPrototypeValueOf: uncurryThis(Symbol.prototype.valueOf),
    MathImul: Math.imul,
    MathMin: Math.min,
    MathRound: Math.round,
    MathTrunc: Math.trunc,

    DateNow: Date.now,
    DatePrototypeGetTime: uncurryThis(Date.prototype.getTime),
    DatePrototypeToISOString: uncurryThis(Date.prototype.toISOString),
    RegExp,
    RegExpPrototypeExec: uncurryThis(RegExp.prototype.exec),
    RegExpPrototypeGetSource: getter(RegExp.prototype, 'source'),
    RegExpPrototypeToString: uncurryThis(RegExp.prototype.toString),
    JSONParse: JSON.parse,
    JSONStringify: JSON.stringify,

    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,

    Map,
    MapPrototypeClear: uncurryThis(Map.prototype.clear),
    MapPrototypeDelete: uncurryThis(Map.prototype.delete),
    MapPrototypeEntries: uncurryThis(Map.prototype.entries),
    MapPrototypeForEach: uncurryThis(Map.prototype.forEach),
    MapPrototypeGet: uncurryThis(Map.prototype.get),
    MapPrototypeGetSize: getter(Map.prototype, 'size'),
    MapPrototypeHas: uncurryThis(Map.prototype.has),
    MapPrototypeSet: uncurryThis(Map.prototype.set),
    MapIteratorPrototypeNext: uncurryThis(MapIteratorPrototype.next),
    Set,
    SetPrototypeGetSize: getter(Set.prototype, 'size'),
    SetPrototypeHas: uncurryThis(Set.prototype.has),
    SetPrototypeValues: uncurryThis(Set.prototype.values),
    SetIteratorPrototypeNext: uncurryThis(SetIteratorPrototype.next),
    WeakMap,
    WeakMapPrototypeGet: uncurryThis(WeakMap.prototype.get),
    WeakMapPrototypeHas: uncurryThis(WeakMap.prototype.has),
    WeakMapPrototypeSet: uncurryThis(WeakMap.prototype.set),
    WeakSetPrototypeHas: uncurryThis(WeakSet.prototype.has),

    ArrayBufferIsView: ArrayBuffer.isView,
    ArrayBufferPrototypeGetByteLength: getter(ArrayBuffer.prototype, 'byteLength'),
    TypedArrayPrototypeGetLength: getter(TypedArray.prototype, 'length'),
    TypedArrayPrototypeGetSymbolToStringTag: getter(TypedArray.prototype, Symbol.toStringTag),
    TypedArrayPrototypeSet: uncurryThis(TypedArray.prototype.set),
    Uint8Array,
    Uint32Array,
    Float32Array,
    Float64Array,

    Promise: PromiseCtor,
    // PromisePrototypeThen(p, f, r) that neither p's constructor nor
    // Promise[Symbol.species] can redirect.
    safeThen(p, onFulfilled, onRejected) {
      ObjectDefineProperty(p, 'constructor', { __proto__: null, value: speciesHolder, configurable: true });
      return PromisePrototypeThen(p, onFulfilled, onRejected);
    },
    // A promise resolved with v, as Promise.resolve(v).
    promiseResolve: (v) => apply(PromiseResolveStatic, PromiseCtor, [v]),

    // arr.push(v), without [[Set]] (which would run a setter that a cell
    // defined on Array.prototype for that index).
    push(arr, v) {
      ObjectDefineProperty(arr, arr.length, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true });
    },
    // The own data property obj[name] = value, whatever obj's prototype
    // defines; not enumerable.
    hide(obj, name, value) {
      ObjectDefineProperty(obj, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false });
    },
    // The own enumerable data property obj[name] = value.
    put(obj, name, value) {
      ObjectDefineProperty(obj, name, { __proto__: null, value, writable: true, configurable: true, enumerable: true });
    },
  };
  // re.test(s) without looking up re.exec.
  P.test = (re, s) => P.RegExpPrototypeExec(re, s) !== null;
  // s.split(sep) for a string separator, without Symbol.split.
  P.split = (s, sep) => {
    const parts = [];
    let from = 0;
    for (;;) {
      const i = P.StringPrototypeIndexOf(s, sep, from);
      if (i < 0) break;
      P.push(parts, P.StringPrototypeSlice(s, from, i));
      from = i + sep.length;
    }
    P.push(parts, P.StringPrototypeSlice(s, from));
    return parts;
  };
  // The native functions of globalThis.__wasmbox (the driver's), which
  // prelude.js removes from globalThis.
  const W = globalThis.__wasmbox;
  const natives = { __proto__: null };
  for (const k of Reflect.ownKeys(W)) natives[k] = W[k];
  P.W = ObjectFreeze(natives);

  Object.defineProperty(globalThis, '__wasmbox_primordials', {
    __proto__: null, value: ObjectFreeze(P), writable: false, enumerable: false, configurable: true,
  });
})();
