/* lstm-exam practice pages: check answers in the browser as `lstm-exam grade` does.
 *
 * The cell's right formulas of generator/core/evaluate.py (both chains, a student's own
 * answers as overrides, at most one misconception at one step), one interpreter of the
 * misconceptions' formulas (the registry's, sent in the page's data) beside the three
 * structural ones, and graders/grade.py's compare, carry_forward, diagnose and score.
 * Everything a page knows of its variant (givens, accepted ranges, the misconceptions
 * that apply, their formulas and sentences, which answer feeds which) is in its
 * <script type="application/json" id="practice-data">, written by
 * generator/quiz/practice.py from the same registry that grading reads.
 *
 * Two kinds of numbers, as in generator/core/chains.py: float64 (JavaScript's Number, the
 * full chain) and exact decimals (Dec below, BigInt based, 40 significant digits, the
 * rounded chain), so that the rounded chain is computed digit for digit as Python's
 * decimal module computes it. Nothing is fetched: the page works from file://.
 */
"use strict";
(function () {
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
  /** Quantize to ``places`` decimals: "up" is ROUND_HALF_UP, "down" ROUND_DOWN. */
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

  // ---------------------------------------------------------------- the chains
  const PREC = 40; // defaults.DECIMAL_PRECISION: the evaluator's context
  const GRADE_PREC = 28; // the decimal module's default context, in which grade.py works

  function fullChain() {
    return {
      name: "full",
      num: (v) => (v instanceof Dec ? dnumber(v) : typeof v === "string" ? Number(v) : v),
      rnd: (v) => v,
      add: (a, b) => a + b,
      sub: (a, b) => a - b,
      mul: (a, b) => a * b,
      div: (a, b) => a / b,
      sigmoid: (v) => {
        if (v >= 0) return 1.0 / (1.0 + Math.exp(-v));
        const e = Math.exp(v);
        return e / (1.0 + e);
      },
      tanh: (v) => Math.tanh(v),
      exp: (v) => Math.exp(v),
      cmp: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
      int: (v) => Math.trunc(v),
      sum: (values, start) => values.reduce((s, v) => s + v, start), // left to right, as Python adds
      eq: (a, b) => a === b,
    };
  }

  function roundedChain(decimals, truncate) {
    const mode = truncate ? "down" : "up";
    const one = new Dec(1n, 0);
    const exp = (v) => dexp(v, PREC);
    const ch = {
      name: "rounded",
      num: (v) => {
        if (v instanceof Dec) return v;
        if (typeof v === "string") return dparse(v);
        return Number.isInteger(v) ? new Dec(BigInt(v), 0) : dfloat(v);
      },
      rnd: (v) => quantize(v, decimals, mode),
      add: (a, b) => dadd(a, b, PREC),
      sub: (a, b) => dsub(a, b, PREC),
      mul: (a, b) => dmul(a, b, PREC),
      div: (a, b) => ddiv(a, b, PREC),
      sigmoid: (v) => ddiv(one, dadd(one, exp(dround(dneg(v), PREC)), PREC), PREC),
      tanh: (v) => {
        if (sign(v) < 0) return dround(dneg(ch.tanh(dround(dneg(v), PREC))), PREC);
        const e = exp(dmul(new Dec(-2n, 0), v, PREC));
        return ddiv(dsub(one, e, PREC), dadd(one, e, PREC), PREC);
      },
      exp: exp,
      cmp: dcmp,
      int: (v) => Number(roundInt(v.m, -v.e, "down")),
      sum: (values, start) => values.reduce((s, v) => dadd(s, v, PREC), start),
      eq: (a, b) => dcmp(a, b) === 0,
    };
    return ch;
  }

  // ---------------------------------------------------------------- the evaluator
  // generator/core/evaluate.py's right formulas; a misconception's own are interpreted
  // (below). `NOTATION` (gates, the output layer's quantities) comes from
  // generator/core/notation.py through the page.
  let NOTATION = null;

  const makeLabel = (name, cell, step) => (step != null ? `t${step}.` : "") + `${name}[${cell}]`;

  function convert(ch, v) {
    if (!Array.isArray(v)) return ch.num(v);
    return v.map((e) => convert(ch, e));
  }
  function prepare(givens, ch) {
    const g = {};
    for (const [k, v] of Object.entries(givens)) g[k] = convert(ch, v);
    return g;
  }

  function makePut(ch, env, out, ov, computed, step) {
    return (name, values) => {
      const vals = values.map((v, k) => {
        const label = makeLabel(name, k + 1, step);
        if (computed) computed[label] = v;
        if (ov.has(label)) v = ch.num(ov.get(label));
        out[label] = v;
        return v;
      });
      env[name] = vals;
      return vals;
    };
  }

  function dot(ch, row, z) {
    if (row.length !== z.length) throw new Error("a row of weights against another length");
    return ch.sum(row.map((w, k) => ch.mul(w, z[k])), ch.num(0));
  }

  /**
   * evaluate_prepared: every quantity of a problem as {label: value}.
   * slip: {twist, step, gate} (twist null: none); ov: Map label -> Dec (own answers);
   * computed: receives what each formula gave from the (overridden) values before it.
   */
  function evaluate(kind, g, ch, slip, ov, computed) {
    const out = {};
    const twist = slip.twist;
    const info = NOTATION.kinds[kind];
    if (kind === "parameters") {
      parameters(ch, g, out, ov, formulasOf(twist, slip.gate), computed);
      return out;
    }
    const names = info.order;
    if (info.stepped) {
      let h = g.h_0, C = g.C_0;
      for (let t = 1; t <= g.xs.length; t++) {
        const env = Object.assign({}, g, { x: g.xs[t - 1], h_prev: h, C_prev: C });
        const tw = slip.step === t ? twist : null;
        if (tw === "SEQ_REUSE" && t > 1) {
          env.h_prev = g.h_0;
          env.C_prev = g.C_0;
        }
        cell(names, ch, env, makePut(ch, env, out, ov, computed, t), tw, slip);
        h = env.h_t;
        C = env.C_t;
      }
      if (NOTATION.head.includes(names[names.length - 1])) {
        const env = Object.assign({}, g, { h_t: h, C_t: C });
        head(names, ch, env, makePut(ch, env, out, ov, computed, null), formulasOf(twist, slip.gate));
      }
    } else {
      const env = Object.assign({}, g);
      const put = makePut(ch, env, out, ov, computed, null);
      cell(names, ch, env, put, slip.step === 1 ? twist : null, slip);
      if (names.includes("dh_prev")) backward(ch, env, put, twist, formulasOf(twist, slip.gate));
    }
    return out;
  }

  // ---------------------------------------------------------------- a misconception's formulas
  // The registry's formulas (generator/core/misconception_registry.py), as the page's
  // JSON holds them: {twist: [[quantity, its gate or null, expression], ...]}. An
  // expression is a quantity's name (read cell by cell), a whole number, or
  // [operator or function, ...arguments]. One interpreter, as core/formulas.py's
  // formula_values; the three structural misconceptions (SWAPPED_CONCAT, SEQ_REUSE,
  // NO_TRANSPOSE) are named in the evaluator above and below.
  let FORMULAS = {};
  const ARITHMETIC = { "+": "add", "-": "sub", "*": "mul", "/": "div" };
  const CHAIN_FUNCTION = { sigma: "sigmoid", tanh: "tanh", exp: "exp", rounded: "rnd" };

  /** The formulas a slip puts in place, by quantity: all, or one gate's. */
  function formulasOf(tw, gate) {
    const out = {};
    for (const [quantity, g, expr] of (tw != null && FORMULAS[tw]) || []) {
      if (gate == null || g === gate) out[quantity] = expr;
    }
    return out;
  }
  const readsAll = (e, env) =>
    typeof e === "string" ? e in env : typeof e === "number" || e.slice(1).every((a) => readsAll(a, env));

  function values(ch, e, env, cells) {
    if (typeof e === "string") return env[e];
    if (typeof e === "number") return Array(cells).fill(ch.num(e));
    const [op, ...args] = e;
    if (op in ARITHMETIC) {
      const a = values(ch, args[0], env, cells), b = values(ch, args[1], env, cells);
      return a.map((x, k) => ch[ARITHMETIC[op]](x, b[k]));
    }
    if (op === "dot") return env[args[0]].map((row) => dot(ch, row, env[args[1]]));
    if (op === "argmax") return [ch.num(firstMax(ch, env[args[0]]))];
    return values(ch, args[0], env, cells).map((v) => ch[CHAIN_FUNCTION[op]](v));
  }

  /** The values of ``name`` by the slip's formula, rounded as a named quantity (a count as
   * it is), or null: the right formula stands (none, or it reads what the problem lacks). */
  function altered(ch, alter, name, env, cells) {
    const e = alter[name];
    if (e === undefined || !readsAll(e, env)) return null;
    const vs = values(ch, e, env, cells);
    return Array.isArray(e) && e[0] === "argmax" ? vs : vs.map((v) => ch.rnd(v));
  }

  function cell(names, ch, env, put, stepTw, slip) {
    const alter = formulasOf(stepTw, slip.gate);
    for (const [letter, actName, actFn] of NOTATION.gates) {
      if (!names.includes(actName)) continue;
      let z = env.h_prev.concat(env.x);
      if (stepTw === "SWAPPED_CONCAT" && (slip.gate == null || slip.gate === letter)) {
        z = env.x.concat(env.h_prev);
      }
      const W = env[`W_${letter}`];
      const Wz = put(`Wz_${letter}`, W.map((row) => ch.rnd(dot(ch, row, z))));
      const name = `a_${letter}`;
      const b = env[`b_${letter}`];
      put(name, altered(ch, alter, name, env, W.length) || Wz.map((w, k) => ch.rnd(ch.add(w, b[k]))));
      const fn = actFn === "sigmoid" ? ch.sigmoid : ch.tanh;
      put(actName, altered(ch, alter, actName, env, W.length) || env[name].map((v) => ch.rnd(fn(v))));
      if (letter === "C" && names.includes("fC")) cellState(ch, env, put, alter);
    }
    if (names.includes("fC") && !names.includes("f_t")) cellState(ch, env, put, alter);
    if (names.includes("h_t")) {
      const o = env.o_t, C = env.C_t;
      const tC = put("tanh_C", C.map((c) => ch.rnd(ch.tanh(c))));
      put("h_t", altered(ch, alter, "h_t", env, C.length) || o.map((oo, k) => ch.rnd(ch.mul(oo, tC[k]))));
    }
  }

  function cellState(ch, env, put, alter) {
    const f = env.f_t, i = env.i_t, Ct = env.C_tilde, Cp = env.C_prev, H = f.length;
    const fC = put("fC", altered(ch, alter, "fC", env, H) || f.map((a, k) => ch.rnd(ch.mul(a, Cp[k]))));
    const iC = put("iC", altered(ch, alter, "iC", env, H) || i.map((a, k) => ch.rnd(ch.mul(a, Ct[k]))));
    put("C_t", altered(ch, alter, "C_t", env, H) || fC.map((a, k) => ch.rnd(ch.add(a, iC[k]))));
  }

  function largest(ch, vs) {
    let best = vs[0];
    for (const v of vs.slice(1)) if (ch.cmp(v, best) > 0) best = v;
    return best;
  }
  function firstMax(ch, vs) {
    let k = 0;
    for (let j = 1; j < vs.length; j++) if (ch.cmp(vs[j], vs[k]) > 0) k = j;
    return k;
  }

  function head(names, ch, env, put, alter) {
    const W = env.W_y, h = env.h_t;
    const out =
      altered(ch, alter, names.includes("y_hat") ? "y_hat" : "logit", env, W.length) ||
      W.map((row, k) => ch.rnd(ch.add(dot(ch, row, h), env.b_y[k])));
    if (names.includes("y_hat")) {
      const [yHat] = put("y_hat", out);
      const err = ch.sub(yHat, env.y[0]);
      put("sq_error", altered(ch, alter, "sq_error", env, 1) || [ch.rnd(ch.mul(err, err))]);
      return;
    }
    const logits = put("logit", out);
    let probs = altered(ch, alter, "prob", env, W.length);
    if (probs === null) {
      const top = largest(ch, logits);
      const exps = logits.map((v) => ch.exp(ch.sub(v, top)));
      const total = ch.sum(exps.slice(1), exps[0]);
      probs = exps.map((e) => ch.rnd(ch.div(e, total)));
    }
    probs = put("prob", probs);
    put("class", altered(ch, alter, "class", env, 1) || [ch.num(firstMax(ch, probs) + 1)]);
  }

  function backward(ch, env, put, tw, alter) {
    const one = ch.num(1);
    const dh = env.dh_t, tC = env.tanh_C, o = env.o_t, H = dh.length;
    const f = env.f_t, i = env.i_t, Ct = env.C_tilde, Cp = env.C_prev;
    put("do_t", dh.map((d, k) => ch.rnd(ch.mul(d, tC[k]))));
    const tanhSlope = (t) => ch.sub(one, ch.mul(t, t));
    const sigmaSlope = (g) => ch.mul(g, ch.sub(one, g));
    let dC = altered(ch, alter, "dC_t", env, H);
    if (dC === null) {
      const viaH = dh.map((d, k) => ch.mul(ch.mul(d, o[k]), tanhSlope(tC[k])));
      dC = env.dC_next.map((a, k) => ch.rnd(ch.add(a, viaH[k])));
    }
    dC = put("dC_t", dC);
    put("df_t", dC.map((d, k) => ch.rnd(ch.mul(d, Cp[k]))));
    put("di_t", dC.map((d, k) => ch.rnd(ch.mul(d, Ct[k]))));
    put("dC_tilde", dC.map((d, k) => ch.rnd(ch.mul(d, i[k]))));
    for (const [letter, grad, act] of NOTATION.gate_gradients) {
      const slope = act === "C_tilde" ? tanhSlope : sigmaSlope;
      const name = `da_${letter}`;
      put(name, altered(ch, alter, name, env, H) || env[grad].map((d, k) => ch.rnd(ch.mul(d, slope(env[act][k])))));
    }
    const dhPrev = [];
    for (let j = 0; j < H; j++) {
      let total = ch.num(0);
      for (const letter of "fiCo") {
        const W = env[`W_${letter}`], da = env[`da_${letter}`];
        for (let c = 0; c < H; c++) {
          total = ch.add(total, ch.mul(tw === "NO_TRANSPOSE" ? W[j][c] : W[c][j], da[c]));
        }
      }
      dhPrev.push(ch.rnd(total));
    }
    put("dh_prev", dhPrev);
    put("dC_prev", altered(ch, alter, "dC_prev", env, H) || dC.map((d, k) => ch.rnd(ch.mul(d, f[k]))));
  }

  /** The arithmetic of counts: whole numbers (JavaScript's are exact below 2^53). */
  const WHOLE = {
    num: (v) => v, rnd: (v) => v,
    add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  };

  function parameters(ch, g, out, ov, alter, computed) {
    const counts = {};
    for (const n of ["D", "H", "K", "F", "T"]) counts[n] = [ch.int(g[n][0])];
    const [D, H, K, F, T] = ["D", "H", "K", "F", "T"].map((n) => counts[n][0]);
    const put = (name, value) => {
      const mine = altered(WHOLE, alter, name, counts, 1);
      if (mine !== null) value = mine[0];
      const label = makeLabel(name, 1);
      let v = ch.num(value);
      if (computed) computed[label] = v;
      if (ov.has(label)) v = ch.num(ov.get(label));
      out[label] = v;
      counts[name] = [ch.int(v)];
      return v;
    };
    const pGate = put("P_gate", H * (H + D) + H);
    put("P_lstm", 4 * ch.int(pGate));
    const dense = put("P_dense", H * K + K);
    put("P_video", 4 * (H * (H + F) + H) + ch.int(dense));
    put("seq_steps", T);
    put("seq_units", H);
    put("last_units", H);
  }

  // ---------------------------------------------------------------- reading a number
  // graders/submissions.py's parse_number and decimals_of, for a comma-separated file
  // (the page's boxes: a lone comma is a decimal comma).
  const ANSWER_DIGITS = 9, ANSWER_PLACES = 30;
  const PLAIN = /^-?[0-9]+\.[0-9]+$/;
  const SPACES = /[ \u00a0\u2009\u202f\u2007]/g;
  const GROUPED = {
    "false,true": /^-?[1-9][0-9]{0,2}(,[0-9]{3})+\.[0-9]*$/,
    "true,true": /^-?[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]*$/,
    "false,false": /^-?[1-9][0-9]{0,2}(,[0-9]{3})+$/,
    "true,false": /^-?[1-9][0-9]{0,2}(\.[0-9]{3})+$/,
  };
  // Python's \d is any Unicode decimal digit, and Decimal() reads each as its value
  const ND = /\p{Nd}/u;
  function asciiDigits(text) {
    let out = "";
    for (const c of text) {
      if (c >= "0" && c <= "9") out += c;
      else if (ND.test(c)) {
        // the digits come in runs of ten, 0 to 9, some runs side by side (the five of
        // the mathematical digits, U+1D7CE to U+1D7FF): the distance from the first
        // digit of the whole block, modulo ten
        const cp = c.codePointAt(0);
        let start = cp;
        while (ND.test(String.fromCodePoint(start - 1))) start -= 1;
        out += String((cp - start) % 10);
      } else out += c;
    }
    return out;
  }
  const NUMBER_RE = /^-?(\p{Nd}+\.?\p{Nd}*|\.\p{Nd}+)([eE][-+]?\p{Nd}+)?$/u;
  const DIGITS_COMMA = /^-?\p{Nd}*,\p{Nd}+$/u;
  // str.strip(): what Python counts as white space (JavaScript's trim differs)
  const PY_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  const STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");
  const pyStrip = (s) => s.replace(STRIP, "");
  const cpLength = (s) => Array.from(s).length;
  const cpSlice = (s, a, b) => Array.from(s).slice(a, b).join("");

  function withoutThousands(text, decimalComma, whole) {
    const sep = decimalComma ? "." : ",";
    if (
      GROUPED[`${decimalComma},true`].test(text) ||
      (whole && GROUPED[`${decimalComma},false`].test(text))
    ) {
      return text.split(sep).join("").split(",").join(".");
    }
    return text;
  }

  /** parse_number: a Dec, or throws an Error whose message is grade's words. */
  function parseNumber(raw, decimalComma, whole) {
    const usual = cpLength(raw) <= 24 && PLAIN.test(raw) && raw.indexOf(".") <= ANSWER_DIGITS;
    if (usual && !(whole && decimalComma)) return dparse(raw);
    let text = raw.replace(SPACES, "").split("\u2212").join("-");
    if (text.startsWith("+") && !text.startsWith("+-") && !text.startsWith("++")) {
      text = text.slice(1);
    }
    text = withoutThousands(text, decimalComma, whole);
    if (
      text.split(",").length === 2 &&
      !text.includes(".") &&
      (decimalComma || DIGITS_COMMA.test(text))
    ) {
      text = text.replace(",", ".");
    }
    if (!NUMBER_RE.test(text)) {
      const low = text.toLowerCase().replace(/^-+/, "");
      if (low === "nan" || low === "inf" || low === "infinity") {
        throw new Error(`'${raw}' is not a finite number`);
      }
      throw new Error(`'${raw}' is not a number`);
    }
    return gradable(asciiDigits(text), raw);
  }

  function gradable(text, raw) {
    // out_of_bounds, on the digits and the exponent alone
    const t = DEC_RE.exec(text);
    const frac = t[3] || "";
    const digits = ((t[2] || "") + frac).replace(/^0+/, "");
    const exponent = (t[4] ? BigInt(t[4]) : 0n) - BigInt(frac.length);
    let why = null;
    if (exponent < BigInt(-ANSWER_PLACES)) why = `more than ${ANSWER_PLACES} decimal places`;
    else if (digits !== "" && exponent + BigInt(digits.length - 1) >= BigInt(ANSWER_DIGITS)) {
      why = `out of range (less than ${10 ** ANSWER_DIGITS} in size)`;
    }
    if (why === null) {
      const m = BigInt(((t[2] || "") + frac) || "0") * (t[1] === "-" ? -1n : 1n);
      return new Dec(m, Number(exponent));
    }
    const shown = cpLength(raw) <= 24 ? raw : cpSlice(raw, 0, 21) + "...";
    if (why.startsWith("out of range")) throw new Error(`'${shown}' is out of range`);
    throw new Error(`'${shown}' has ${why}: not a number we can grade`);
  }

  function decimalsOf(raw) {
    const text = pyStrip(raw).split(",").join(".");
    if (text.includes("e") || text.includes("E")) return null;
    const chars = Array.from(text);
    const dot = chars.indexOf(".");
    return dot >= 0 ? chars.length - dot - 1 : 0;
  }

  // ---------------------------------------------------------------- grading
  // graders/grade.py: compare, carry_forward, diagnose, score; the same rules, in order.
  const within = (v, [lo, hi]) => dcmp(lo, v) <= 0 && dcmp(v, hi) <= 0;
  const asDec = (v) => (v instanceof Dec ? v : dfloat(v));

  /** Tolerance.window: [min(a, b) − t, max(a, b) + t], in the default decimal context. */
  function tolWindow(tol, a, b, extra) {
    const da = asDec(a), db = asDec(b);
    const [lo, hi] = dcmp(db, da) < 0 ? [db, da] : [da, db];
    const la = dabs(lo, GRADE_PREC), ha = dabs(hi, GRADE_PREC);
    const big = dcmp(ha, la) > 0 ? ha : la;
    const of = tol.mode === "absolute" ? tol.amount : dmul(tol.amount, big, GRADE_PREC);
    const t = dadd(of, extra || new Dec(0n, 0), GRADE_PREC);
    return [dsub(lo, t, GRADE_PREC), dadd(hi, t, GRADE_PREC)];
  }

  function compare(p, answers, values, invalid) {
    const out = [];
    for (const lab of p.asked) {
      const q = `q${p.number}.${lab}`;
      const accept = p.accept[lab].map(dparse);
      const raw = answers.get(q) || "";
      const value = values.get(q);
      let verdict, credit, reason;
      if (invalid.has(q)) [verdict, credit, reason] = ["invalid", "0", invalid.get(q)];
      else if (!raw) [verdict, credit, reason] = ["unanswered", "0", "no answer"];
      else if (value !== undefined && within(value, accept)) {
        const note = p.whole[lab] ? "" : digitsNote(raw, p.decimals);
        [verdict, credit, reason] = ["correct", "1", note];
      } else [verdict, credit, reason] = ["wrong", "0", ""];
      out.push({ label: q, lab, answer: raw, value, verdict, credit, accept, reason, mistake: null });
    }
    return out;
  }

  function digitsNote(raw, decimals) {
    const d = decimalsOf(raw);
    if (d !== null && d < decimals) {
      return `accepted; note: you gave ${d} decimals, the sheet asks for ${decimals}`;
    }
    return "";
  }

  function own(p, values) {
    const prefix = `q${p.number}.`;
    const ov = new Map();
    for (const [q, v] of values) if (q.startsWith(prefix)) ov.set(q.slice(prefix.length), v);
    return ov;
  }

  function carryForward(data, p, work, findings) {
    const wrong = new Set(findings.filter((f) => f.verdict === "wrong").map((f) => f.lab));
    const sources = new Map();
    for (const f of findings) {
      if (wrong.has(f.lab)) {
        sources.set(f.lab, p.upstream[f.lab].filter((u) => wrong.has(u)).map((u) => `q${p.number}.${u}`));
      }
    }
    if (![...sources.values()].some((s) => s.length)) return findings;
    const ov = own(p, work.values);
    const full = {};
    evaluate(p.kind, work.givens(FULL), FULL, NO_SLIP, ov, full);
    let rnd = null;
    return findings.map((f) => {
      const found = sources.get(f.lab);
      if (!found || !found.length) return f;
      const value = work.values.get(f.label);
      let consistent = within(value, tolWindow(data.tolerance, full[f.lab], full[f.lab]));
      if (!consistent) {
        if (rnd === null) {
          rnd = {};
          const ch = roundedChain(p.decimals, false);
          evaluate(p.kind, work.givens(ch), ch, NO_SLIP, ov, rnd);
        }
        consistent = within(value, tolWindow(data.tolerance, full[f.lab], rnd[f.lab]));
      }
      if (!consistent) return f;
      const shown = found.slice(0, 3).join(", ") + (found.length > 3 ? " ..." : "");
      return Object.assign({}, f, {
        verdict: "carried forward",
        credit: data.carry_forward,
        reason: `consistent with your own earlier answers: error carried forward from ${shown}`,
      });
    });
  }

  function roundingMatches(p, wrong, ov, values, work, chains) {
    const found = new Map();
    for (const slip of p.rounding) {
      const ch = roundedChain(slip.decimals, slip.truncate);
      const left = wrong.filter((f) => !found.has(f.label));
      if (!left.some((f) => ch.eq(values.get(f.label), ch.rnd(values.get(f.label))))) continue;
      if (!chains.has(slip.id)) {
        const computed = {};
        evaluate(p.kind, work.givens(ch), ch, NO_SLIP, ov, computed);
        chains.set(slip.id, computed);
      }
      const computed = chains.get(slip.id);
      for (const f of left) {
        if (ch.eq(values.get(f.label), ch.rnd(computed[f.lab]))) found.set(f.label, [slip.id, slip.feedback]);
      }
    }
    return found;
  }

  function diagnose(data, p, work, findings) {
    const values = work.values;
    const wrong = findings.filter((f) => f.verdict === "wrong");
    if (!wrong.length) return findings;
    const ov = own(p, values);
    const half = new Dec(5n, -(p.decimals + 1)); // half a unit of the last place
    let found = new Map();
    const early = wrong.filter((f) => {
      const d = decimalsOf(f.answer);
      return d !== null && d < p.decimals;
    });
    const chains = new Map();
    if (early.length) found = roundingMatches(p, early, ov, values, work, chains);
    const names = new Set(wrong.map((f) => labelName(f.label)));
    const someUnanswered = ov.size < p.asked.length;
    const g = work.givens(FULL);
    for (const s of p.slips) {
      if (found.size === wrong.length) break;
      if (!someUnanswered && !s.targets.some((n) => names.has(n))) continue;
      const computed = {};
      evaluate(p.kind, g, FULL, { twist: s.twist, step: s.step, gate: s.gate }, ov, computed);
      for (const f of wrong) {
        if (found.has(f.label) || !(f.lab in computed)) continue;
        const v = computed[f.lab];
        if (
          within(values.get(f.label), tolWindow(data.tolerance, v, v, half)) &&
          !within(dfloat(v), f.accept)
        ) {
          found.set(f.label, [s.twist, p.sentences[s.explain[labelName(f.lab)]]]);
        }
      }
    }
    const rest = wrong.filter((f) => !found.has(f.label));
    if (rest.length) {
      for (const [k, v] of roundingMatches(p, rest, ov, values, work, chains)) found.set(k, v);
    }
    return findings.map((f) => {
      if (found.has(f.label)) {
        const [code, words] = found.get(f.label);
        return Object.assign({}, f, { mistake: code, reason: words });
      }
      if (f.verdict === "wrong") {
        return Object.assign({}, f, { reason: "outside the accepted range; no usual mistake explains it" });
      }
      return f;
    });
  }

  function score(p, findings) {
    if (!findings.length) return new Dec(0n, 0);
    const total = findings.reduce((s, f) => dadd(s, dparse(f.credit), GRADE_PREC), new Dec(0n, 0));
    const points = dparse(p.points);
    const mean = ddiv(dmul(points, total, GRADE_PREC), new Dec(BigInt(findings.length), 0), GRADE_PREC);
    return dround(quantizeEven(mean, 2), GRADE_PREC);
  }
  const quantizeEven = (d, places) =>
    d.e >= -places ? new Dec(d.m * pow10(d.e + places), -places) : new Dec(roundInt(d.m, -places - d.e, "even"), -places);

  const labelName = (label) => {
    const tail = label.slice(label.lastIndexOf(".") + 1);
    return tail.slice(0, tail.indexOf("["));
  };

  let FULL = null;
  const NO_SLIP = { twist: null, step: 1, gate: null };

  /** grade_sheet on the page's answers: {label: finding}, the problems' scores. */
  function gradeAnswers(data, typed) {
    const answers = new Map(), values = new Map(), invalid = new Map();
    for (const p of data.problems) {
      for (const lab of p.asked) {
        const q = `q${p.number}.${lab}`;
        const raw = pyStrip(typed[q] || "");
        answers.set(q, cpSlice(raw, 0, 60));
        if (!raw) continue;
        try {
          values.set(q, parseNumber(raw, false, p.whole[lab]));
        } catch (e) {
          if (!(e instanceof Error) || e instanceof RangeError) throw e;
          invalid.set(q, e.message);
        }
      }
    }
    const findings = [];
    const scores = [];
    for (const p of data.problems) {
      const prepared = new Map();
      const work = {
        values,
        givens: (ch) => {
          const key = ch.name;
          if (!prepared.has(key)) prepared.set(key, prepare(p.givens, ch));
          return prepared.get(key);
        },
      };
      let fs = compare(p, answers, values, invalid);
      if (fs.some((f) => f.verdict === "wrong")) {
        fs = carryForward(data, p, work, fs);
        fs = diagnose(data, p, work, fs);
      }
      scores.push(score(p, fs));
      findings.push(...fs);
    }
    return { findings, scores };
  }

  // ---------------------------------------------------------------- the page
  function show(data, result) {
    for (const f of result.findings) {
      const row = document.querySelector(`tr[data-label="${CSS.escape(f.label)}"]`);
      if (!row) continue;
      row.dataset.verdict = f.verdict;
      row.dataset.credit = f.credit;
      row.dataset.mistake = f.mistake || "";
      row.querySelector(".verdict").textContent = f.verdict;
      row.querySelector(".reason").textContent = f.reason;
    }
    let total = new Dec(0n, 0), max = new Dec(0n, 0);
    data.problems.forEach((p, k) => {
      const s = result.scores[k];
      total = dadd(total, s, GRADE_PREC);
      max = dadd(max, dparse(p.points), GRADE_PREC);
      const el = document.querySelector(`.score[data-problem="${p.number}"]`);
      if (el) {
        el.dataset.score = dplain(s);
        el.textContent = `${dplain(s)} of ${p.points} points`;
      }
    });
    const el = document.getElementById("total");
    el.dataset.score = dplain(total);
    el.textContent = `Total: ${dplain(total)} of ${dplain(max)} points`;
  }

  function check(data) {
    const typed = {};
    for (const input of document.querySelectorAll("input[data-label]")) {
      typed[input.dataset.label] = input.value;
    }
    const status = document.getElementById("status");
    try {
      show(data, gradeAnswers(data, typed));
      status.textContent = "";
    } catch (e) {
      status.textContent = `These answers cannot be checked here (${e.message}).`;
    }
    document.body.dataset.checked = String(Number(document.body.dataset.checked || "0") + 1);
  }

  function start() {
    const node = document.getElementById("practice-data");
    if (!node) return;
    const data = JSON.parse(node.textContent);
    NOTATION = data.notation;
    FULL = fullChain();
    FORMULAS = data.misconceptions;
    data.tolerance = { mode: data.tolerance.mode, amount: dparse(data.tolerance.amount) };
    const form = document.getElementById("practice");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      check(data);
    });
    // for the tests: the evaluator and the reader, as the page runs them
    window.lstmPractice = {
      data,
      gradeAnswers: (typed) => gradeAnswers(data, typed),
      parseNumber: (raw, decimalComma, whole) => dplain(parseNumber(raw, decimalComma, whole)),
      evaluate: (kind, givens, chain, decimals, twist, step, gate, overrides) => {
        const ch = chain === "full" ? FULL : roundedChain(decimals, chain === "truncated");
        const ov = new Map(Object.entries(overrides || {}).map(([k, v]) => [k, dparse(v)]));
        const computed = {};
        const out = evaluate(kind, prepare(givens, ch), ch, { twist, step, gate }, ov, computed);
        const text = (v) => (v instanceof Dec ? dplain(v) : String(v));
        const res = {};
        for (const [k, v] of Object.entries(out)) res[k] = [text(v), text(computed[k])];
        return res;
      },
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
