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
    return dround(quantize(mean, 2, "even"), GRADE_PREC);
  }

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

