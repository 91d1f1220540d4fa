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
    ({ precision: PREC, answer_digits: ANSWER_DIGITS, answer_places: ANSWER_PLACES } = data.limits);
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
