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

  const largest = (ch, vs) => vs[firstMax(ch, vs)];
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

