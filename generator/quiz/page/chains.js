  // ---------------------------------------------------------------- the chains
  let PREC = null; // defaults.DECIMAL_PRECISION, the evaluator's context: the page's limits
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

