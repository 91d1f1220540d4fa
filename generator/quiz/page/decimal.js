  // ---------------------------------------------------------------- exact decimals
  /** m * 10^e, m a BigInt. */
  class Dec {
    constructor(m, e) {
      this.m = m;
      this.e = e;
    }
  }
  const POW = [1n];
  function pow10(n) {
    if (n < 400) {
      while (POW.length <= n) POW.push(POW[POW.length - 1] * 10n);
      return POW[n];
    }
    return 10n ** BigInt(n);
  }
  const absB = (m) => (m < 0n ? -m : m);
  const ndigits = (m) => (m === 0n ? 1 : absB(m).toString().length);
  const adjusted = (d) => d.e + ndigits(d.m) - 1;
  const sign = (d) => (d.m < 0n ? -1 : d.m > 0n ? 1 : 0);

  /** m / 10^drop as an integer, rounded: "even" (half even, a context's rounding), "up"
   * (half away from zero, ROUND_HALF_UP), "down" (toward zero), "floor", "ceil". */
  function roundInt(m, drop, mode) {
    if (drop <= 0) return m * pow10(-drop);
    const p = pow10(drop);
    const neg = m < 0n;
    const a = neg ? -m : m;
    let q = a / p;
    const r = a - q * p;
    if (r !== 0n) {
      if (mode === "floor") {
        if (neg) q += 1n;
      } else if (mode === "ceil") {
        if (!neg) q += 1n;
      } else if (mode !== "down") {
        const twice = 2n * r;
        if (twice > p || (twice === p && (mode === "up" || (q & 1n) === 1n))) q += 1n;
      }
    }
    return neg ? -q : q;
  }
  /** To ``prec`` significant digits, half even: what every operation of a decimal
   * context does to its result. */
  function dround(d, prec) {
    const n = ndigits(d.m);
    if (n <= prec) return d;
    return new Dec(roundInt(d.m, n - prec, "even"), d.e + n - prec);
  }
  function dadd(a, b, prec) {
    if (a.m === 0n) return dround(b, prec);
    if (b.m === 0n) return dround(a, prec);
    // a term far below the other's last digit only decides the rounding: a sticky digit
    const ga = adjusted(a), gb = adjusted(b);
    if (ga - gb > prec + 3) b = new Dec(BigInt(sign(b)), ga - prec - 3);
    else if (gb - ga > prec + 3) a = new Dec(BigInt(sign(a)), gb - prec - 3);
    const e = Math.min(a.e, b.e);
    return dround(new Dec(a.m * pow10(a.e - e) + b.m * pow10(b.e - e), e), prec);
  }
  const dneg = (a) => new Dec(-a.m, a.e);
  const dsub = (a, b, prec) => dadd(a, dneg(b), prec);
  const dmul = (a, b, prec) => dround(new Dec(a.m * b.m, a.e + b.e), prec);
  const dabs = (a, prec) => dround(new Dec(absB(a.m), a.e), prec);
  function ddiv(a, b, prec) {
    if (b.m === 0n) throw new RangeError("division by zero");
    if (a.m === 0n) return new Dec(0n, 0);
    const neg = a.m < 0n !== b.m < 0n;
    const num = absB(a.m), den = absB(b.m);
    let s = prec - ndigits(num) + ndigits(den);
    let q, r, d2;
    for (;;) {
      const n2 = s >= 0 ? num * pow10(s) : num;
      d2 = s >= 0 ? den : den * pow10(-s);
      q = n2 / d2;
      r = n2 - q * d2;
      if (ndigits(q) <= prec) break;
      s -= 1;
    }
    const twice = 2n * r;
    if (twice > d2 || (twice === d2 && (q & 1n) === 1n)) q += 1n;
    return new Dec(neg ? -q : q, a.e - b.e - s);
  }
  function dcmp(a, b) {
    const sa = sign(a), sb = sign(b);
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    const ga = adjusted(a), gb = adjusted(b);
    if (ga !== gb) return (ga < gb ? -1 : 1) * sa;
    const e = Math.min(a.e, b.e);
    const x = a.m * pow10(a.e - e), y = b.m * pow10(b.e - e);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  /** Quantize to ``places`` decimals: "up" is ROUND_HALF_UP, "down" ROUND_DOWN, "even"
   * ROUND_HALF_EVEN. */
  function quantize(d, places, mode) {
    if (d.e >= -places) return new Dec(d.m * pow10(d.e + places), -places);
    return new Dec(roundInt(d.m, -places - d.e, mode), -places);
  }
  const DEC_RE = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/;
  /** A decimal from its text (ASCII digits), exactly. */
  function dparse(text) {
    const t = DEC_RE.exec(text);
    if (t === null || (t[2] === "" && (t[3] === undefined || t[3] === ""))) {
      throw new SyntaxError(`not a decimal: ${text}`);
    }
    const frac = t[3] || "";
    let m = BigInt((t[2] || "0") + frac);
    if (t[1] === "-") m = -m;
    return new Dec(m, (t[4] ? Number(t[4]) : 0) - frac.length);
  }
  /** Python's Decimal(repr(x)) of a float: the shortest text that reads back as x. */
  function dfloat(x) {
    if (!Number.isFinite(x)) throw new RangeError("not a finite number");
    return dparse(String(x));
  }
  /** The decimal written out without an exponent, no minus on a zero (numbers.plain). */
  function dplain(d) {
    if (d.m === 0n && d.e >= 0) return "0";
    let digits = absB(d.m).toString();
    let text;
    if (d.e >= 0) text = digits + "0".repeat(d.e);
    else {
      const places = -d.e;
      if (digits.length <= places) digits = "0".repeat(places - digits.length + 1) + digits;
      text = digits.slice(0, digits.length - places) + "." + digits.slice(digits.length - places);
    }
    return d.m < 0n ? "-" + text : text;
  }
  const dnumber = (d) => Number(`${d.m}e${d.e}`);

  // exp on exact decimals, correctly rounded as the decimal module's exp is: computed
  // with 25 more digits than asked, then rounded half even
  const LN10 = new Map();
  function atanhInv(n, scale) {
    // atanh(1/n) * scale, by its series
    const N = BigInt(n), N2 = N * N;
    let term = scale / N, sum = 0n, k = 1n;
    while (term !== 0n) {
      sum += term / k;
      term /= N2;
      k += 2n;
    }
    return sum;
  }
  function ln10(digits) {
    if (!LN10.has(digits)) {
      const scale = pow10(digits + 5);
      // ln 10 = 3 ln 2 + ln 1.25 = 6 atanh(1/3) + 2 atanh(1/9)
      const v = 6n * atanhInv(3, scale) + 2n * atanhInv(9, scale);
      LN10.set(digits, v / pow10(5));
    }
    return LN10.get(digits);
  }
  const floorDiv = (a, b) => {
    const q = a / b;
    return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
  };
  function dexp(x, prec) {
    if (x.m === 0n) return new Dec(1n, 0);
    if (dcmp(x, new Dec(2302586n, 0)) > 0) throw new RangeError("overflow");
    if (dcmp(x, new Dec(-2400000n, 0)) < 0) return new Dec(0n, 0);
    const F = prec + 25;
    const whole = Math.max(0, adjusted(x) + 1);
    const scale = pow10(F);
    const X = roundInt(x.m * pow10(F + whole + 5), -x.e + whole + 5, "even"); // x * 10^F
    const L = ln10(F + whole + 5);
    const Lf = roundInt(L, whole + 5, "even"); // ln 10 * 10^F
    // x = q ln 10 + r, 0 <= r < ln 10: with ln 10 to F + whole digits, r is good to F
    const q = floorDiv(X * pow10(whole + 5), L);
    let R = X - roundInt(q * L, whole + 5, "even");
    if (R < 0n) R = 0n;
    if (R > Lf) R = Lf;
    const k = 12;
    R /= BigInt(2 ** k);
    let sum = scale, term = scale;
    for (let n = 1n; term !== 0n; n += 1n) {
      term = (term * R) / (scale * n);
      sum += term;
    }
    for (let i = 0; i < k; i++) sum = (sum * sum) / scale;
    return dround(new Dec(sum, Number(q) - F), prec);
  }

