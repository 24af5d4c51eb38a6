// wasmbox JavaScript prelude, loaded lazily by web.js: Intl for en-US.
// QuickJS has no Intl. This gives NumberFormat, DateTimeFormat,
// PluralRules, Collator, ListFormat and RelativeTimeFormat with en-US
// conventions, in UTC (the sandbox has no time-zone database), and routes
// Number/BigInt/Date toLocaleString through them. Every locale resolves to
// en-US, as the specification lets an implementation do for a locale it
// does not have (resolvedOptions().locale says so, supportedLocalesOf
// lists only en and en-US). docs/javascript.md lists what is and is not
// there. This file is one function expression, which web.js evaluates and
// calls the first time a cell touches Intl or a toLocaleString method or
// localeCompare; it installs Intl and those methods. Like web.js, this is
// the user's API; the rest of the prelude never calls it.
(function () {
  'use strict';

  const LOCALE = 'en-US';
  const localeRe = /^[a-zA-Z]{2,3}(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?(?:-(?:[a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(?:-[0-9a-wy-zA-WY-Z](?:-[a-zA-Z0-9]{2,8})+)*(?:-x(?:-[a-zA-Z0-9]{1,8})+)?$/;

  function canonicalLocale(tag) {
    if (typeof tag !== 'string' && (typeof tag !== 'object' || tag === null)) {
      throw new TypeError('Language ID should be string or object.');
    }
    tag = String(tag);
    if (!localeRe.test(tag)) throw new RangeError(`Incorrect locale information provided: ${tag}`);
    return tag.split('-').map((p, i) => {
      if (i === 0) return p.toLowerCase();
      if (p.length === 2 && /^[a-zA-Z]+$/.test(p)) return p.toUpperCase();
      if (p.length === 4 && /^[a-zA-Z]+$/.test(p)) return p[0].toUpperCase() + p.slice(1).toLowerCase();
      return p.toLowerCase();
    }).join('-');
  }
  function canonicalLocales(locales) {
    if (locales === undefined) return [];
    const list = typeof locales === 'string' ? [locales] : Array.from(Object(locales));
    const out = [];
    for (const l of list) {
      const c = canonicalLocale(l);
      if (!out.includes(c)) out.push(c);
    }
    return out;
  }
  const supported = (l) => l === 'en' || l === 'en-US' || l.startsWith('en-US-u-');
  function supportedLocalesOf(locales) {
    return canonicalLocales(locales).filter(supported);
  }
  function opts(o) {
    if (o === undefined) return Object.create(null);
    if (o === null) throw new TypeError('Cannot convert null to object');
    return Object(o);
  }
  function pick(o, name, allowed, fallback) {
    let v = o[name];
    if (v === undefined) return fallback;
    if (typeof allowed === 'boolean') return Boolean(v);
    v = String(v);
    if (allowed && !allowed.includes(v)) throw new RangeError(`Value ${v} out of range for Intl options property ${name}`);
    return v;
  }
  function digits(o, name, min, max, fallback) {
    let v = o[name];
    if (v === undefined) return fallback;
    v = Number(v);
    if (!(v >= min && v <= max)) throw new RangeError(`${name} value is out of range.`);
    return Math.floor(v);
  }

  // ---- numbers -------------------------------------------------------------

  // A non-negative finite number as its shortest decimal digits d and the
  // exponent e of the first: 0.d × 10^(e+1).
  function decimalOf(x) {
    if (x === 0) return { d: '0', e: 0 };
    const [m, ex] = x.toExponential().split('e');
    return { d: m.replace('.', ''), e: +ex };
  }
  function decimalOfBigInt(b) {
    const s = (b < 0n ? -b : b).toString();
    return { d: s.replace(/0+$/, '') || '0', e: s.length - 1 };
  }
  // dec rounded (half away from zero) to its first n digits.
  function roundDigits(dec, n) {
    if (n >= dec.d.length) return dec;
    if (n < 0) return { d: '0', e: dec.e };
    let d = dec.d.slice(0, n);
    let e = dec.e;
    if (dec.d.charCodeAt(n) >= 53) { // '5'
      let i = d.length - 1;
      while (i >= 0 && d[i] === '9') i--;
      if (i < 0) {
        d = '1';
        e++;
      } else {
        d = d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1);
      }
    } else if (d === '') {
      return { d: '0', e: dec.e };
    }
    return { d: d.replace(/(.)0+$/, '$1'), e };
  }
  const isZero = (dec) => /^0*$/.test(dec.d);

  const CURRENCY_DIGITS = { __proto__: null, JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, HUF: 2, TWD: 2, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3 };
  const CURRENCY_SYMBOL = {
    __proto__: null, USD: '$', EUR: '€', GBP: '£', JPY: '¥', CAD: 'CA$', AUD: 'A$', NZD: 'NZ$', CNY: 'CN¥', INR: '₹',
    KRW: '₩', BRL: 'R$', MXN: 'MX$', HKD: 'HK$', TWD: 'NT$', ILS: '₪', VND: '₫', XAF: 'FCFA', XOF: 'F\u202fCFA', PHP: '₱',
  };
  const NARROW_SYMBOL = { __proto__: null, CAD: '$', AUD: '$', NZD: '$', MXN: '$', HKD: '$', TWD: '$', CNY: '¥', BRL: 'R$', RUB: '₽', TRY: '₺', UAH: '₴', PLN: 'zł', SEK: 'kr', NOK: 'kr', DKK: 'kr', CHF: 'CHF', ZAR: 'R', SGD: '$', THB: '฿', NGN: '₦' };
  const CURRENCY_NAME = {
    __proto__: null, USD: ['US dollar', 'US dollars'], EUR: ['euro', 'euros'], GBP: ['British pound', 'British pounds'],
    JPY: ['Japanese yen', 'Japanese yen'], CAD: ['Canadian dollar', 'Canadian dollars'], AUD: ['Australian dollar', 'Australian dollars'],
    CNY: ['Chinese yuan', 'Chinese yuan'], INR: ['Indian rupee', 'Indian rupees'], CHF: ['Swiss franc', 'Swiss francs'],
    MXN: ['Mexican peso', 'Mexican pesos'], BRL: ['Brazilian real', 'Brazilian reals'], KRW: ['South Korean won', 'South Korean won'],
  };
  // unit: [short singular, short plural, narrow, long singular, long plural]; short forms in
  // `{0} x` patterns.
  const UNITS = {
    __proto__: null,
    percent: ['%', '%', '%', 'percent', 'percent'],
    millisecond: ['ms', 'ms', 'ms', 'millisecond', 'milliseconds'],
    second: ['sec', 'sec', 's', 'second', 'seconds'],
    minute: ['min', 'min', 'm', 'minute', 'minutes'],
    hour: ['hr', 'hr', 'h', 'hour', 'hours'],
    day: ['day', 'days', 'd', 'day', 'days'],
    week: ['wk', 'wks', 'w', 'week', 'weeks'],
    month: ['mth', 'mths', 'm', 'month', 'months'],
    year: ['yr', 'yrs', 'y', 'year', 'years'],
    bit: ['bit', 'bit', 'bit', 'bit', 'bits'],
    byte: ['byte', 'byte', 'B', 'byte', 'bytes'],
    kilobyte: ['kB', 'kB', 'kB', 'kilobyte', 'kilobytes'],
    megabyte: ['MB', 'MB', 'MB', 'megabyte', 'megabytes'],
    gigabyte: ['GB', 'GB', 'GB', 'gigabyte', 'gigabytes'],
    terabyte: ['TB', 'TB', 'TB', 'terabyte', 'terabytes'],
    meter: ['m', 'm', 'm', 'meter', 'meters'],
    kilometer: ['km', 'km', 'km', 'kilometer', 'kilometers'],
    centimeter: ['cm', 'cm', 'cm', 'centimeter', 'centimeters'],
    millimeter: ['mm', 'mm', 'mm', 'millimeter', 'millimeters'],
    mile: ['mi', 'mi', 'mi', 'mile', 'miles'],
    foot: ['ft', 'ft', '′', 'foot', 'feet'],
    inch: ['in', 'in', '″', 'inch', 'inches'],
    gram: ['g', 'g', 'g', 'gram', 'grams'],
    kilogram: ['kg', 'kg', 'kg', 'kilogram', 'kilograms'],
    pound: ['lb', 'lb', 'lb', 'pound', 'pounds'],
    liter: ['L', 'L', 'L', 'liter', 'liters'],
    milliliter: ['mL', 'mL', 'mL', 'milliliter', 'milliliters'],
    celsius: ['°C', '°C', '°C', 'degree Celsius', 'degrees Celsius'],
    fahrenheit: ['°F', '°F', '°', 'degree Fahrenheit', 'degrees Fahrenheit'],
    'kilometer-per-hour': ['km/h', 'km/h', 'km/h', 'kilometer per hour', 'kilometers per hour'],
    'mile-per-hour': ['mph', 'mph', 'mph', 'mile per hour', 'miles per hour'],
    'meter-per-second': ['m/s', 'm/s', 'm/s', 'meter per second', 'meters per second'],
  };
  const NO_SPACE_NARROW = new Set(['percent', 'second', 'minute', 'hour', 'day', 'week', 'month', 'year', 'celsius', 'fahrenheit', 'foot', 'inch', 'byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte', 'meter', 'kilometer', 'centimeter', 'millimeter', 'gram', 'kilogram', 'liter', 'milliliter', 'millisecond']);
  const COMPACT = [['K', 'thousand'], ['M', 'million'], ['B', 'billion'], ['T', 'trillion']];

  // resolvedOptions() in ECMA-402's order.
  const NF_KEYS = ['locale', 'numberingSystem', 'style', 'currency', 'currencyDisplay', 'currencySign', 'unit',
    'unitDisplay', 'minimumIntegerDigits', 'minimumFractionDigits', 'maximumFractionDigits', 'minimumSignificantDigits',
    'maximumSignificantDigits', 'useGrouping', 'notation', 'compactDisplay', 'signDisplay', 'roundingMode',
    'roundingIncrement', 'trailingZeroDisplay', 'roundingPriority'];

  class NumberFormat {
    #o;
    constructor(locales, options) {
      canonicalLocales(locales);
      const o = opts(options);
      const r = { locale: LOCALE, numberingSystem: 'latn' };
      r.style = pick(o, 'style', ['decimal', 'percent', 'currency', 'unit'], 'decimal');
      let cur = o.currency;
      if (cur !== undefined) {
        cur = String(cur);
        if (!/^[a-zA-Z]{3}$/.test(cur)) throw new RangeError(`Invalid currency code : ${cur}`);
        cur = cur.toUpperCase();
      }
      const currencyDisplay = pick(o, 'currencyDisplay', ['code', 'symbol', 'narrowSymbol', 'name'], 'symbol');
      const currencySign = pick(o, 'currencySign', ['standard', 'accounting'], 'standard');
      let unit = o.unit;
      const unitDisplay = pick(o, 'unitDisplay', ['short', 'narrow', 'long'], 'short');
      if (r.style === 'currency') {
        if (cur === undefined) throw new TypeError('Currency code is required with currency style.');
        Object.assign(r, { currency: cur, currencyDisplay, currencySign });
      }
      if (r.style === 'unit') {
        if (unit === undefined) throw new TypeError('Unit is required with unit style.');
        unit = String(unit);
        if (!(unit in UNITS)) throw new RangeError(`Invalid unit argument for Intl.NumberFormat() '${unit}' (wasmbox knows ${Object.keys(UNITS).join(', ')})`);
        Object.assign(r, { unit, unitDisplay });
      }
      r.notation = pick(o, 'notation', ['standard', 'scientific', 'engineering', 'compact'], 'standard');
      const cDigits = r.style === 'currency' ? (cur in CURRENCY_DIGITS ? CURRENCY_DIGITS[cur] : 2) : 0;
      const mnfdDefault = r.style === 'currency' && r.notation !== 'compact' ? cDigits : 0;
      const mxfdDefault = r.style === 'currency' && r.notation !== 'compact' ? Math.max(cDigits, mnfdDefault)
        : r.style === 'percent' ? 0 : r.notation === 'compact' ? 0 : 3;
      r.minimumIntegerDigits = digits(o, 'minimumIntegerDigits', 1, 21, 1);
      const mnsd = o.minimumSignificantDigits, mxsd = o.maximumSignificantDigits;
      const mnfd = o.minimumFractionDigits, mxfd = o.maximumFractionDigits;
      r.roundingPriority = pick(o, 'roundingPriority', ['auto', 'morePrecision', 'lessPrecision'], 'auto');
      if (mnsd !== undefined || mxsd !== undefined) {
        r.minimumSignificantDigits = digits(o, 'minimumSignificantDigits', 1, 21, 1);
        r.maximumSignificantDigits = digits(o, 'maximumSignificantDigits', r.minimumSignificantDigits, 21, 21);
      }
      if (mnsd === undefined && mxsd === undefined || r.roundingPriority !== 'auto') {
        let lo = digits(o, 'minimumFractionDigits', 0, 100, undefined);
        let hi = digits(o, 'maximumFractionDigits', 0, 100, undefined);
        if (lo === undefined) lo = Math.min(mnfdDefault, hi === undefined ? mnfdDefault : hi);
        if (hi === undefined) hi = Math.max(mxfdDefault, lo);
        else if (lo > hi) throw new RangeError('maximumFractionDigits value is out of range.');
        r.minimumFractionDigits = lo;
        r.maximumFractionDigits = hi;
        r.compactRounding = r.notation === 'compact' && mnfd === undefined && mxfd === undefined && mnsd === undefined && mxsd === undefined;
      }
      if (r.notation === 'compact') r.compactDisplay = pick(o, 'compactDisplay', ['short', 'long'], 'short');
      let grouping = o.useGrouping;
      if (grouping === undefined) grouping = r.notation === 'compact' ? 'min2' : 'auto';
      else if (grouping === true || grouping === 'true' || grouping === 'false') grouping = grouping === 'false' ? 'auto' : 'always';
      else if (grouping === false || grouping === null || grouping === '') grouping = false;
      else if (!['always', 'auto', 'min2'].includes(String(grouping))) throw new RangeError(`Value ${grouping} out of range for Intl.NumberFormat options property useGrouping`);
      r.useGrouping = grouping;
      r.signDisplay = pick(o, 'signDisplay', ['auto', 'never', 'always', 'exceptZero', 'negative'], 'auto');
      r.roundingMode = 'halfExpand';
      r.roundingIncrement = 1;
      r.trailingZeroDisplay = pick(o, 'trailingZeroDisplay', ['auto', 'stripIfInteger'], 'auto');
      this.#o = r;
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    get format() {
      const f = (x) => this.formatToParts(x).map((p) => p.value).join('');
      Object.defineProperty(this, 'format', { value: f, configurable: true });
      return f;
    }
    formatToParts(x) {
      const o = this.#o;
      let neg, dec, special = null;
      if (typeof x === 'bigint') {
        neg = x < 0n;
        dec = decimalOfBigInt(x);
      } else {
        x = Number(x);
        neg = x < 0 || Object.is(x, -0);
        if (Number.isNaN(x)) { special = 'NaN'; neg = false; } else if (!Number.isFinite(x)) special = '∞';
        else dec = decimalOf(Math.abs(x));
      }
      const parts = [];
      let exponent = 0, compact = '';
      if (special === null) {
        if (o.style === 'percent') dec = { d: dec.d, e: dec.e + 2 };
        if (o.notation === 'scientific' || o.notation === 'engineering') {
          if (!isZero(dec)) {
            exponent = o.notation === 'engineering' ? Math.floor(dec.e / 3) * 3 : dec.e;
            dec = { d: dec.d, e: dec.e - exponent };
          }
        } else if (o.notation === 'compact') {
          let mag = isZero(dec) ? 0 : Math.max(0, Math.min(Math.floor(dec.e / 3), COMPACT.length));
          if (this.#round({ d: dec.d, e: dec.e - mag * 3 }).e >= 3 && mag < COMPACT.length) mag++; // 999.95K is 1M
          exponent = mag;
          dec = { d: dec.d, e: dec.e - mag * 3 };
        }
        dec = this.#round(dec);
        if (!isZero(dec) && (o.notation === 'scientific' && dec.e !== 0 || o.notation === 'engineering' && dec.e >= 3)) {
          exponent += dec.e; // 9.9996 rounded to 10.000: 1E1
          dec = { d: dec.d, e: 0 };
        }
      }
      const zero = special === null && isZero(dec);
      let sign = '';
      switch (o.signDisplay) {
        case 'auto': sign = neg ? '-' : ''; break;
        case 'always': sign = neg ? '-' : '+'; break;
        case 'exceptZero': sign = zero || special === 'NaN' ? '' : neg ? '-' : '+'; break;
        case 'negative': sign = neg && !zero ? '-' : ''; break;
      }
      const accounting = o.style === 'currency' && o.currencySign === 'accounting' && sign === '-';
      if (accounting) parts.push({ type: 'literal', value: '(' });
      else if (sign) parts.push({ type: sign === '-' ? 'minusSign' : 'plusSign', value: sign });
      const currencyBefore = o.style === 'currency' && o.currencyDisplay !== 'name';
      if (currencyBefore) {
        const sym = o.currencyDisplay === 'code' ? o.currency
          : o.currencyDisplay === 'narrowSymbol' ? NARROW_SYMBOL[o.currency] || CURRENCY_SYMBOL[o.currency] || o.currency
            : CURRENCY_SYMBOL[o.currency] || o.currency;
        parts.push({ type: 'currency', value: sym });
        if (/[A-Za-z]$/.test(sym)) parts.push({ type: 'literal', value: '\u00a0' });
      }
      if (special !== null) {
        parts.push({ type: special === 'NaN' ? 'nan' : 'infinity', value: special });
      } else {
        this.#number(dec, parts);
        if (o.notation === 'scientific' || o.notation === 'engineering') {
          parts.push({ type: 'exponentSeparator', value: 'E' });
          if (exponent < 0) parts.push({ type: 'exponentMinusSign', value: '-' });
          parts.push({ type: 'exponentInteger', value: String(Math.abs(exponent)) });
        } else if (o.notation === 'compact' && exponent > 0) {
          const [short, long] = COMPACT[exponent - 1];
          if (o.compactDisplay === 'long') parts.push({ type: 'literal', value: ' ' }, { type: 'compact', value: long });
          else parts.push({ type: 'compact', value: short });
        }
      }
      if (o.style === 'percent') parts.push({ type: 'percentSign', value: '%' });
      if (o.style === 'currency' && o.currencyDisplay === 'name') {
        const n = CURRENCY_NAME[o.currency];
        const one = special === null && dec.d === '1' && dec.e === 0 && o.minimumFractionDigits === 0;
        parts.push({ type: 'literal', value: ' ' }, { type: 'currency', value: n ? n[one ? 0 : 1] : o.currency });
      }
      if (o.style === 'unit') {
        const u = UNITS[o.unit];
        const one = special === null && dec.d === '1' && dec.e === 0;
        if (o.unitDisplay === 'long') parts.push({ type: 'literal', value: ' ' }, { type: 'unit', value: u[one ? 3 : 4] });
        else if (o.unitDisplay === 'narrow') {
          if (!NO_SPACE_NARROW.has(o.unit)) parts.push({ type: 'literal', value: ' ' });
          parts.push({ type: 'unit', value: u[2] });
        } else {
          if (o.unit !== 'percent') parts.push({ type: 'literal', value: ' ' });
          parts.push({ type: 'unit', value: u[one ? 0 : 1] });
        }
      }
      if (accounting) parts.push({ type: 'literal', value: ')' });
      return parts;
    }
    // Rounds a decimal by the fraction and significant digits options.
    #round(dec) {
      const o = this.#o;
      if (o.compactRounding) {
        // Compact notation's default: two significant digits below 100, integers above.
        return dec.e >= 2 ? roundDigits(dec, dec.e + 1) : roundDigits(dec, 2);
      }
      const byFraction = o.maximumFractionDigits !== undefined ? roundDigits(dec, dec.e + 1 + o.maximumFractionDigits) : null;
      const bySignificant = o.maximumSignificantDigits !== undefined ? roundDigits(dec, o.maximumSignificantDigits) : null;
      if (bySignificant && byFraction) {
        const moreDigits = (a, b) => (a.d.length - a.e) >= (b.d.length - b.e);
        if (o.roundingPriority === 'morePrecision') return moreDigits(bySignificant, byFraction) ? bySignificant : byFraction;
        return moreDigits(bySignificant, byFraction) ? byFraction : bySignificant;
      }
      return bySignificant || byFraction || dec;
    }
    #number(dec, parts) {
      const o = this.#o;
      let int, frac;
      if (isZero(dec)) { int = '0'; frac = ''; } else if (dec.e >= 0) {
        int = dec.d.slice(0, dec.e + 1).padEnd(dec.e + 1, '0');
        frac = dec.d.slice(dec.e + 1);
      } else {
        int = '0';
        frac = '0'.repeat(-dec.e - 1) + dec.d;
      }
      frac = frac.replace(/0+$/, '');
      let minFrac = 0;
      if (o.minimumSignificantDigits !== undefined && o.maximumFractionDigits === undefined) {
        const sig = (int === '0' ? '' : int) + frac;
        const have = int === '0' ? frac.replace(/^0+/, '').length : sig.length;
        if (have < o.minimumSignificantDigits) minFrac = frac.length + o.minimumSignificantDigits - have;
        if (int !== '0' && int.length >= o.minimumSignificantDigits) minFrac = 0;
      } else if (o.minimumFractionDigits !== undefined && !o.compactRounding) {
        minFrac = o.minimumFractionDigits;
      }
      if (o.trailingZeroDisplay === 'stripIfInteger' && frac === '') minFrac = 0;
      frac = frac.padEnd(minFrac, '0');
      int = int.padStart(o.minimumIntegerDigits, '0');
      const g = o.useGrouping;
      const group = g === 'always' || g === 'auto' ? int.length > 3 : g === 'min2' ? int.length > 4 : false;
      if (group) {
        const first = int.length % 3 || 3;
        parts.push({ type: 'integer', value: int.slice(0, first) });
        for (let i = first; i < int.length; i += 3) {
          parts.push({ type: 'group', value: ',' }, { type: 'integer', value: int.slice(i, i + 3) });
        }
      } else {
        parts.push({ type: 'integer', value: int });
      }
      if (frac) parts.push({ type: 'decimal', value: '.' }, { type: 'fraction', value: frac });
    }
    formatRange(a, b) { return `${this.format(a)}–${this.format(b)}`; }
    resolvedOptions() {
      const r = {};
      for (const k of NF_KEYS) if (this.#o[k] !== undefined) r[k] = this.#o[k];
      return r;
    }
    get [Symbol.toStringTag]() { return 'Intl.NumberFormat'; }
  }

  // ---- dates -----------------------------------------------------------------

  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const UTC_NAMES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'etc/universal', 'universal', 'etc/zulu', 'zulu', 'etc/uct', 'uct', 'etc/greenwich', 'greenwich', 'gmt0', 'etc/gmt0', 'gmt+0', 'gmt-0', 'etc/gmt+0', 'etc/gmt-0']);

  // The time zone: 'UTC' or an offset such as '+05:30', with its offset in minutes.
  function timeZoneOf(tz) {
    if (tz === undefined) return { name: 'UTC', offset: 0 };
    tz = String(tz);
    if (UTC_NAMES.has(tz.toLowerCase())) return { name: 'UTC', offset: 0 };
    const m = /^([+-])([01][0-9]|2[0-3]):?([0-5][0-9])?$/.exec(tz);
    if (m) {
      const offset = (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +(m[3] || 0));
      return { name: `${m[1]}${m[2]}:${m[3] || '00'}`, offset };
    }
    throw new RangeError(`Invalid time zone specified: ${tz} (wasmbox has no time-zone database: only UTC and offsets such as +05:30)`);
  }

  const DATE_STYLES = {
    full: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' },
    long: { year: 'numeric', month: 'long', day: 'numeric' },
    medium: { year: 'numeric', month: 'short', day: 'numeric' },
    short: { year: '2-digit', month: 'numeric', day: 'numeric' },
  };
  const TIME_STYLES = {
    full: { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'long' },
    long: { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'short' },
    medium: { hour: 'numeric', minute: '2-digit', second: '2-digit' },
    short: { hour: 'numeric', minute: '2-digit' },
  };
  const FIELDS = {
    weekday: ['narrow', 'short', 'long'], era: ['narrow', 'short', 'long'], year: ['2-digit', 'numeric'],
    month: ['2-digit', 'numeric', 'narrow', 'short', 'long'], day: ['2-digit', 'numeric'],
    dayPeriod: ['narrow', 'short', 'long'], hour: ['2-digit', 'numeric'], minute: ['2-digit', 'numeric'],
    second: ['2-digit', 'numeric'],
    timeZoneName: ['short', 'long', 'shortOffset', 'longOffset', 'shortGeneric', 'longGeneric'],
  };

  const DTF_KEYS = ['locale', 'calendar', 'numberingSystem', 'timeZone', 'hourCycle', 'hour12', 'weekday', 'era',
    'year', 'month', 'day', 'dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits', 'timeZoneName',
    'dateStyle', 'timeStyle'];

  class DateTimeFormat {
    #o;
    #tz;
    #styled = false;
    constructor(locales, options, defaults = 'date', required = 'any') {
      canonicalLocales(locales);
      const o = opts(options);
      const r = { locale: LOCALE, calendar: 'gregory', numberingSystem: 'latn' };
      const hour12 = o.hour12 === undefined ? undefined : Boolean(o.hour12);
      let hourCycle = pick(o, 'hourCycle', ['h11', 'h12', 'h23', 'h24'], undefined);
      if (hour12 !== undefined) hourCycle = hour12 ? 'h12' : 'h23';
      this.#tz = timeZoneOf(o.timeZone);
      r.timeZone = this.#tz.name;
      const f = {};
      for (const k of Object.keys(FIELDS)) {
        const v = pick(o, k, FIELDS[k], undefined);
        if (v !== undefined) f[k] = v;
      }
      const fsd = o.fractionalSecondDigits === undefined ? undefined : digits(o, 'fractionalSecondDigits', 1, 3, undefined);
      if (fsd !== undefined) f.fractionalSecondDigits = fsd;
      const dateStyle = pick(o, 'dateStyle', ['full', 'long', 'medium', 'short'], undefined);
      const timeStyle = pick(o, 'timeStyle', ['full', 'long', 'medium', 'short'], undefined);
      if (dateStyle || timeStyle) {
        const explicit = Object.keys(f).filter((k) => k !== 'timeZoneName' || !timeStyle);
        if (explicit.length) throw new TypeError(`Can't set option ${explicit[0]} when ${dateStyle ? 'dateStyle' : 'timeStyle'} is used`);
        if (dateStyle) { r.dateStyle = dateStyle; Object.assign(f, DATE_STYLES[dateStyle]); }
        if (timeStyle) { r.timeStyle = timeStyle; Object.assign(f, TIME_STYLES[timeStyle]); }
        this.#styled = true;
      } else {
        // ECMA-402's ToDateTimeOptions.
        const hasDate = ['weekday', 'year', 'month', 'day'].some((k) => k in f);
        const hasTime = ['dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits'].some((k) => k in f);
        let need = true;
        if ((required === 'date' || required === 'any') && hasDate) need = false;
        if ((required === 'time' || required === 'any') && hasTime) need = false;
        if (need && (defaults === 'date' || defaults === 'all')) Object.assign(f, { year: 'numeric', month: 'numeric', day: 'numeric' });
        if (need && (defaults === 'time' || defaults === 'all')) Object.assign(f, { hour: 'numeric', minute: 'numeric', second: 'numeric' });
      }
      if ('hour' in f) {
        r.hourCycle = hourCycle || 'h12';
        r.hour12 = r.hourCycle === 'h11' || r.hourCycle === 'h12';
      }
      this.#o = Object.assign(r, f);
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    get format() {
      const fn = (date) => this.formatToParts(date).map((p) => p.value).join('');
      Object.defineProperty(this, 'format', { value: fn, configurable: true });
      return fn;
    }
    formatToParts(date) {
      const t = date === undefined ? Date.now() : Number(date instanceof Date ? date.getTime() : date);
      if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw new RangeError('Invalid time value');
      const o = this.#o;
      const d = new Date(t + this.#tz.offset * 60000);
      const parts = [];
      const lit = (value) => parts.push({ type: 'literal', value });
      const pad = (n, w) => String(n).padStart(w, '0');
      const year = d.getUTCFullYear(), month = d.getUTCMonth(), day = d.getUTCDate(), wd = d.getUTCDay();
      const textMonth = o.month === 'long' || o.month === 'short' || o.month === 'narrow';
      const weekdayText = o.weekday === 'long' ? WEEKDAYS[wd] : o.weekday === 'short' ? WEEKDAYS[wd].slice(0, 3) : o.weekday === 'narrow' ? WEEKDAYS[wd][0] : '';
      const monthText = o.month === 'long' ? MONTHS[month] : o.month === 'short' ? MONTHS[month].slice(0, 3)
        : o.month === 'narrow' ? MONTHS[month][0] : o.month === '2-digit' ? pad(month + 1, 2) : String(month + 1);
      const displayYear = year <= 0 && o.era ? 1 - year : year;
      const yearText = o.year === '2-digit' ? pad(((displayYear % 100) + 100) % 100, 2) : String(displayYear);
      const dayText = o.day === '2-digit' ? pad(day, 2) : String(day);
      const eraText = o.era === 'long' ? (year > 0 ? 'Anno Domini' : 'Before Christ') : o.era === 'narrow' ? (year > 0 ? 'A' : 'B') : (year > 0 ? 'AD' : 'BC');
      const hasDate = o.weekday || o.year || o.month || o.day;
      if (hasDate) {
        if (weekdayText) {
          parts.push({ type: 'weekday', value: weekdayText });
          if (o.year || o.month || o.day) lit(', ');
        }
        if (textMonth) {
          if (o.month) parts.push({ type: 'month', value: monthText });
          if (o.day) { lit(' '); parts.push({ type: 'day', value: dayText }); }
          if (o.year) { lit(o.day ? ', ' : ' '); parts.push({ type: 'year', value: yearText }); }
        } else {
          const fields = [];
          if (o.month) fields.push({ type: 'month', value: monthText });
          if (o.day) fields.push({ type: 'day', value: dayText });
          if (o.year) fields.push({ type: 'year', value: yearText });
          const sep = o.month ? '/' : ' ';
          fields.forEach((p, i) => { if (i) lit(sep); parts.push(p); });
        }
        if (o.era) { lit(' '); parts.push({ type: 'era', value: eraText }); }
      } else if (o.era) {
        parts.push({ type: 'era', value: eraText });
      }
      const hasTime = o.hour || o.minute || o.second || o.fractionalSecondDigits;
      if (hasTime) {
        if (hasDate) lit(o.dateStyle === 'full' || o.dateStyle === 'long' ? ' at ' : ', ');
        const h = d.getUTCHours();
        const twelve = o.hour && (o.hourCycle === 'h12' || o.hourCycle === 'h11');
        let hourText = '';
        if (o.hour) {
          let hv = h;
          if (o.hourCycle === 'h12') hv = h % 12 || 12;
          else if (o.hourCycle === 'h11') hv = h % 12;
          else if (o.hourCycle === 'h24') hv = h || 24;
          hourText = o.hour === '2-digit' || (!twelve && (o.minute || o.second)) ? pad(hv, 2) : String(hv);
          parts.push({ type: 'hour', value: hourText });
        }
        const m = d.getUTCMinutes(), s = d.getUTCSeconds();
        if (o.minute) {
          if (o.hour) lit(':');
          parts.push({ type: 'minute', value: o.hour || o.minute === '2-digit' || o.second ? pad(m, 2) : String(m) });
        }
        if (o.second) {
          if (o.hour || o.minute) lit(':');
          parts.push({ type: 'second', value: o.hour || o.minute || o.second === '2-digit' ? pad(s, 2) : String(s) });
        }
        if (o.fractionalSecondDigits) {
          if (o.hour || o.minute || o.second) lit('.');
          parts.push({ type: 'fractionalSecond', value: pad(d.getUTCMilliseconds(), 3).slice(0, o.fractionalSecondDigits) });
        }
        if (twelve) {
          lit(' ');
          parts.push({ type: 'dayPeriod', value: h < 12 ? 'AM' : 'PM' });
        }
      }
      if (o.timeZoneName) {
        if (parts.length) lit(' ');
        parts.push({ type: 'timeZoneName', value: this.#zoneName() });
      }
      return parts;
    }
    #zoneName() {
      const { name, offset } = this.#tz;
      const style = this.#o.timeZoneName;
      if (offset === 0 && name === 'UTC') {
        return style === 'long' ? 'Coordinated Universal Time' : style === 'short' ? 'UTC' : 'GMT';
      }
      const sign = offset < 0 ? '-' : '+';
      const hh = Math.floor(Math.abs(offset) / 60), mm = Math.abs(offset) % 60;
      if (style === 'long' || style === 'longOffset' || style === 'longGeneric') return `GMT${sign}${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
      return `GMT${sign}${hh}${mm ? ':' + String(mm).padStart(2, '0') : ''}`;
    }
    formatRange(a, b) { return `${this.format(a)}\u2009–\u2009${this.format(b)}`; }
    resolvedOptions() {
      const r = {};
      for (const k of DTF_KEYS) {
        if (this.#o[k] === undefined || (this.#styled && k in FIELDS)) continue;
        r[k] = this.#o[k];
      }
      return r;
    }
    get [Symbol.toStringTag]() { return 'Intl.DateTimeFormat'; }
  }

  // ---- plural rules, collation, lists, relative time ---------------------------

  class PluralRules {
    #type;
    constructor(locales, options) {
      canonicalLocales(locales);
      this.#type = pick(opts(options), 'type', ['cardinal', 'ordinal'], 'cardinal');
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    select(n) {
      n = Math.abs(Number(n));
      if (this.#type === 'cardinal') return n === 1 ? 'one' : 'other';
      if (!Number.isInteger(n)) return 'other';
      const d = n % 10, h = n % 100;
      if (d === 1 && h !== 11) return 'one';
      if (d === 2 && h !== 12) return 'two';
      if (d === 3 && h !== 13) return 'few';
      return 'other';
    }
    resolvedOptions() {
      return {
        locale: LOCALE, type: this.#type, minimumIntegerDigits: 1, minimumFractionDigits: 0, maximumFractionDigits: 3,
        pluralCategories: this.#type === 'cardinal' ? ['one', 'other'] : ['few', 'one', 'two', 'other'],
        roundingIncrement: 1, roundingMode: 'halfExpand', roundingPriority: 'auto', trailingZeroDisplay: 'auto',
      };
    }
    get [Symbol.toStringTag]() { return 'Intl.PluralRules'; }
  }

  const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  class Collator {
    #o;
    constructor(locales, options) {
      canonicalLocales(locales);
      const o = opts(options);
      this.#o = {
        locale: LOCALE, usage: pick(o, 'usage', ['sort', 'search'], 'sort'),
        sensitivity: pick(o, 'sensitivity', ['base', 'accent', 'case', 'variant'], 'variant'),
        ignorePunctuation: pick(o, 'ignorePunctuation', true, false), collation: 'default',
        numeric: pick(o, 'numeric', true, false), caseFirst: pick(o, 'caseFirst', ['upper', 'lower', 'false'], 'false'),
      };
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    get compare() {
      const fn = (a, b) => this.#compare(String(a), String(b));
      Object.defineProperty(this, 'compare', { value: fn, configurable: true });
      return fn;
    }
    #compare(a, b) {
      const o = this.#o;
      if (o.ignorePunctuation) {
        a = a.replace(/[\s\p{P}]/gu, '');
        b = b.replace(/[\s\p{P}]/gu, '');
      }
      const levels = [(s) => fold(s).toLowerCase()];
      if (o.sensitivity === 'accent' || o.sensitivity === 'variant') levels.push((s) => s.toLowerCase());
      if (o.sensitivity === 'case' || o.sensitivity === 'variant') levels.push((s) => fold(s));
      if (o.sensitivity === 'variant') levels.push((s) => s);
      for (let i = 0; i < levels.length; i++) {
        const c = this.#level(levels[i](a), levels[i](b));
        if (c !== 0) return c;
      }
      return 0;
    }
    // Compares two keys, numbers by value when numeric. Letters that differ
    // only in case (only the case level's keys keep case) sort lower case
    // first, ICU's default for English, unless caseFirst says upper.
    #level(a, b) {
      const split = (s) => (this.#o.numeric ? s.match(/\d+|\D+/g) || [] : [s]);
      const A = split(a), B = split(b);
      for (let i = 0; i < Math.min(A.length, B.length); i++) {
        const x = A[i], y = B[i];
        if (this.#o.numeric && /^\d/.test(x) && /^\d/.test(y)) {
          const nx = BigInt(x), ny = BigInt(y);
          if (nx !== ny) return nx < ny ? -1 : 1;
          continue;
        }
        if (x === y) continue;
        for (let j = 0; j < Math.min(x.length, y.length); j++) {
          if (x[j] === y[j]) continue;
          const lx = x[j].toLowerCase(), ly = y[j].toLowerCase();
          if (lx === ly) {
            const upperFirst = this.#o.caseFirst === 'upper';
            return (x[j] === lx) !== upperFirst ? -1 : 1;
          }
          return lx < ly ? -1 : lx > ly ? 1 : x[j] < y[j] ? -1 : 1;
        }
        if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      }
      return A.length === B.length ? 0 : A.length < B.length ? -1 : 1;
    }
    resolvedOptions() { return { ...this.#o }; }
    get [Symbol.toStringTag]() { return 'Intl.Collator'; }
  }

  class ListFormat {
    #o;
    constructor(locales, options) {
      canonicalLocales(locales);
      const o = opts(options);
      this.#o = {
        locale: LOCALE, type: pick(o, 'type', ['conjunction', 'disjunction', 'unit'], 'conjunction'),
        style: pick(o, 'style', ['long', 'short', 'narrow'], 'long'),
      };
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    formatToParts(list) {
      const items = Array.from(list, (x) => {
        if (typeof x !== 'string') throw new TypeError(`Iterable yielded ${typeof x} which is not a string`);
        return x;
      });
      const { type, style } = this.#o;
      const word = type === 'disjunction' ? 'or' : type === 'unit' ? '' : style === 'long' ? 'and' : style === 'short' ? '&' : '';
      const sep = type === 'unit' && style === 'narrow' ? ' ' : ', ';
      const parts = [];
      items.forEach((v, i) => {
        if (i > 0) {
          let l;
          if (i < items.length - 1) l = sep;
          else if (items.length === 2) l = word ? ` ${word} ` : sep;
          else l = word ? `, ${word} ` : sep;
          parts.push({ type: 'literal', value: l });
        }
        parts.push({ type: 'element', value: v });
      });
      return parts;
    }
    format(list) { return this.formatToParts(list).map((p) => p.value).join(''); }
    resolvedOptions() { return { ...this.#o }; }
    get [Symbol.toStringTag]() { return 'Intl.ListFormat'; }
  }

  const REL_UNITS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'];
  const REL_SHORT = { year: 'yr.', quarter: 'qtr.', month: 'mo.', week: 'wk.', day: 'day', hour: 'hr.', minute: 'min.', second: 'sec.' };
  const REL_SHORT_PLURAL = { year: 'yr.', quarter: 'qtrs.', month: 'mo.', week: 'wk.', day: 'days', hour: 'hr.', minute: 'min.', second: 'sec.' };
  const REL_AUTO = {
    year: ['last year', 'this year', 'next year'], quarter: ['last quarter', 'this quarter', 'next quarter'],
    month: ['last month', 'this month', 'next month'], week: ['last week', 'this week', 'next week'],
    day: ['yesterday', 'today', 'tomorrow'], hour: [null, 'this hour', null], minute: [null, 'this minute', null],
    second: [null, 'now', null],
  };
  class RelativeTimeFormat {
    #o;
    #nf = new NumberFormat();
    constructor(locales, options) {
      canonicalLocales(locales);
      const o = opts(options);
      this.#o = {
        locale: LOCALE, style: pick(o, 'style', ['long', 'short', 'narrow'], 'long'),
        numeric: pick(o, 'numeric', ['always', 'auto'], 'always'), numberingSystem: 'latn',
      };
    }
    static supportedLocalesOf(locales) { return supportedLocalesOf(locales); }
    formatToParts(value, unit) {
      value = Number(value);
      if (!Number.isFinite(value)) throw new RangeError('Invalid value');
      unit = String(unit).replace(/s$/, '');
      if (!REL_UNITS.includes(unit)) throw new RangeError(`Invalid unit argument for format() '${unit}'`);
      const { style, numeric } = this.#o;
      if (numeric === 'auto' && (value === -1 || value === 0 || value === 1) && !Object.is(value, -0)) {
        const text = REL_AUTO[unit][value + 1];
        if (text) return [{ type: 'literal', value: text }];
      }
      const past = value < 0 || Object.is(value, -0);
      const n = Math.abs(value);
      const one = n === 1;
      const name = style === 'long' ? unit + (one ? '' : 's') : (one ? REL_SHORT : REL_SHORT_PLURAL)[unit];
      const num = this.#nf.formatToParts(n).map((p) => ({ ...p, unit }));
      return past ? [...num, { type: 'literal', value: ` ${name} ago` }] : [{ type: 'literal', value: 'in ' }, ...num, { type: 'literal', value: ` ${name}` }];
    }
    format(value, unit) { return this.formatToParts(value, unit).map((p) => p.value).join(''); }
    resolvedOptions() { return { ...this.#o }; }
    get [Symbol.toStringTag]() { return 'Intl.RelativeTimeFormat'; }
  }

  // Intl's constructors also work without new (NumberFormat, DateTimeFormat, Collator).
  const callable = (C) => {
    const F = function (locales, options) { return new C(locales, options); };
    return new Proxy(C, { apply: (target, self, args) => F(...args) });
  };

  const Intl = {
    getCanonicalLocales: (l) => canonicalLocales(l),
    supportedValuesOf(key) {
      switch (key) {
        case 'calendar': return ['gregory'];
        case 'collation': return ['default'];
        case 'currency': return Object.keys(CURRENCY_SYMBOL).sort();
        case 'numberingSystem': return ['latn'];
        case 'timeZone': return ['UTC'];
        case 'unit': return Object.keys(UNITS).sort();
      }
      throw new RangeError(`Invalid key : ${key}`);
    },
    NumberFormat: callable(NumberFormat),
    DateTimeFormat: callable(DateTimeFormat),
    Collator: callable(Collator),
    PluralRules,
    ListFormat,
    RelativeTimeFormat,
  };
  Object.defineProperty(Intl, Symbol.toStringTag, { value: 'Intl', configurable: true });
  for (const k of Object.keys(Intl)) Object.defineProperty(Intl, k, { enumerable: false });
  Object.defineProperty(globalThis, 'Intl', { value: Intl, writable: true, configurable: true, enumerable: false });

  const method = (proto, name, fn) => Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  method(Number.prototype, 'toLocaleString', function toLocaleString(locales, options) {
    return new NumberFormat(locales, options).format(Number.prototype.valueOf.call(this));
  });
  method(BigInt.prototype, 'toLocaleString', function toLocaleString(locales, options) {
    return new NumberFormat(locales, options).format(BigInt.prototype.valueOf.call(this));
  });
  const dateMethod = (name, defaults, required) => method(Date.prototype, name, function (locales, options) {
    const t = Date.prototype.getTime.call(this);
    if (Number.isNaN(t)) return 'Invalid Date';
    return new DateTimeFormat(locales, options, defaults, required).format(t);
  });
  dateMethod('toLocaleString', 'all', 'any');
  dateMethod('toLocaleDateString', 'date', 'date');
  dateMethod('toLocaleTimeString', 'time', 'time');
  method(String.prototype, 'localeCompare', function localeCompare(that, locales, options) {
    if (this === null || this === undefined) throw new TypeError('String.prototype.localeCompare called on null or undefined');
    return new Collator(locales, options).compare(String(this), String(that));
  });
})
