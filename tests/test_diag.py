"""One acceptance rule (exact and array forms) and one way to run a mistake on a variant.

The array form of the rule (:func:`tolerance.array_window`) screens; the exact form
decides: these tests prove the array form's bounds lie within its slack of the exact
bounds for every input, so where it decides (inside or outside beyond the slack) it
says what the exact rule says. The batch chains run a mistake as
:func:`diagnosis.run_mistake` does in the scalar chains, value for value.
"""

from __future__ import annotations

import ast
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.diagnosis import Redo, redo_from, run_mistake
from lstm_exam.generator.core.evaluate import evaluate, prepare
from lstm_exam.generator.core.misconceptions import applicable_slips
from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.core.solution import Value
from lstm_exam.generator.core.tolerance import (
    Tolerance,
    accept_bounds,
    accept_window,
    array_verdict,
    array_window,
)
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.variants.batch import BATCH, RoundedBatch, stack

ROOT = Path(__file__).resolve().parent.parent
SEED = "diag-seed-0123456789"

values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
tolerances = st.builds(
    Tolerance,
    st.sampled_from(["absolute", "relative"]),
    st.decimals(Decimal("0.0001"), Decimal(1000), places=4),
)
times = st.sampled_from([1, defaults.MISCONCEPTION_MARGIN])


def _reference(tol: Tolerance, a, b, times: int = 1, extra: Decimal = Decimal(0)):
    """The rule as it was first written: [min − t, max + t], t = times·tol + extra."""
    da = Decimal(repr(a)) if isinstance(a, float) else a
    db = Decimal(repr(b)) if isinstance(b, float) else b
    lo, hi = min(da, db), max(da, db)
    t = times * tol.of(max(abs(lo), abs(hi))) + extra
    return lo - t, hi + t


@settings(max_examples=300, deadline=None)
@given(values, values, tolerances, times, st.sampled_from([Decimal(0), Decimal("0.0005")]))
def test_the_exact_rule_gives_the_written_rule_digit_for_digit(a, b, tol, times, extra):
    """Tolerance.window is [min − t, max + t], the same decimals (exponents too)."""
    got = tol.window(a, b, times=times, extra=extra)
    want = _reference(tol, a, b, times, extra)
    assert [str(x) for x in got] == [str(x) for x in want]


@settings(max_examples=200, deadline=None)
@given(values, st.integers(-(10**6), 10**6), tolerances, st.integers(0, 4))
def test_the_key_window_is_the_rule_widened_outward(full, units, tol, decimals):
    """accept_window (the quiz's mistakes) and accept_bounds (the key) are one rule:
    the exact window, its bounds rounded outward to decimals + BOUND_EXTRA_DIGITS."""
    rounded = Decimal(units).scaleb(-decimals)
    lo, hi = accept_window(full, rounded, tol, decimals)
    assert (lo, hi) == accept_bounds(Value(full, rounded), tol, decimals)
    exact_lo, exact_hi = _reference(tol, full, rounded)
    q = Decimal(1).scaleb(-(decimals + defaults.BOUND_EXTRA_DIGITS))
    assert lo == exact_lo.quantize(q, ROUND_FLOOR) <= exact_lo
    assert hi == exact_hi.quantize(q, ROUND_CEILING) >= exact_hi
    assert exact_lo - lo <= q and hi - exact_hi <= q  # (at 28 digits)


@settings(max_examples=500, deadline=None)
@given(values, st.none() | values, tolerances, times)
def test_the_array_bounds_lie_within_their_slack_of_the_exact_ones(a, b, tol, times):
    """Float rounding moves an array bound by far less than its slack, for every value
    up to 1e6 and every tolerance up to 1000 (absolute or relative)."""
    lo, hi, slack = array_window(tol, np.array([a]), None if b is None else np.array([b]), times)
    exact_lo, exact_hi = tol.window(a, a if b is None else b, times=times)
    s = Decimal(float(slack[0]))
    assert abs(Decimal(float(lo[0])) - exact_lo) < s / 1000
    assert abs(Decimal(float(hi[0])) - exact_hi) < s / 1000


@settings(max_examples=500, deadline=None)
@given(
    values,
    values,
    tolerances,
    times,
    st.sampled_from(["lo", "hi"]),
    st.floats(-1e-6, 1e-6),
)
def test_where_the_array_form_decides_it_decides_as_the_exact_rule(a, b, tol, times, end, off):
    """A value the array form calls inside is inside the exact window; one it calls
    neither inside nor near a bound is outside: only values within the slack of a bound
    (about 1e-9 of the value) are left to the exact rule, and it is never narrower where
    it decides. The values tried crowd the bounds, where floats could err."""
    exact_lo, exact_hi = tol.window(a, b, times=times)
    at = float(exact_lo if end == "lo" else exact_hi)
    xs = np.array(
        [at, np.nextafter(at, -np.inf), np.nextafter(at, np.inf), at + off * max(1, abs(at))]
    )
    lo, hi, slack = array_window(tol, np.array([a] * 4), np.array([b] * 4), times)
    inside, near_lo, near_hi, near = array_verdict(xs, lo, hi, slack)
    for k, x in enumerate(xs.tolist()):
        exact = exact_lo <= Decimal(x) <= exact_hi
        if inside[k]:
            assert exact
        elif not near[k]:
            assert not exact
        else:  # left to the exact rule: truly within the slack of a bound
            assert near_lo[k] or near_hi[k]
            assert min(abs(Decimal(x) - exact_lo), abs(Decimal(x) - exact_hi)) <= 2 * Decimal(
                float(slack[k])
            )


SPECS = [
    None,
    ROOT / "examples" / "all-kinds.toml",
    ROOT / "examples" / "classification.toml",
    ROOT / "examples" / "regression.toml",
    ROOT / "examples" / "backward-step.toml",
    ROOT / "examples" / "parameters.toml",
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: "builtin" if p is None else p.stem)
def test_the_batch_runs_a_mistake_as_the_scalar_chains_do(spec):
    """Every mistake of every problem of the examples, run on 12 variants at once in
    the batch chains (as the quiz runs them) and redone from its step (as the quiz and
    well-posedness do), gives each variant what run_mistake gives it alone in the
    scalar chains from its givens (as grade runs it): the full chain bit for bit, the
    rounded chain the exact decimal's float wherever the batch does not mark a tie
    (those the quiz redoes in exact decimals)."""
    ws = load_spec(spec)
    m, _, _ = build_manifest(ws, numbered_roster(12), SEED)
    checked = 0
    for k in range(len(ws.problems)):
        vps = [v.problems[k] for v in m.variants]
        first = vps[0].problem
        labels = list(vps[0].solution.values)
        base_full = {lab: np.array([vp.solution.values[lab].full for vp in vps]) for lab in labels}
        base_rounded = {
            lab: np.array([float(vp.solution.values[lab].rounded) for vp in vps]) for lab in labels
        }
        whole = first.kind is Kind.PARAMETERS
        g = {} if whole else stack([vp.problem.givens for vp in vps])
        for mistake in applicable_slips(first):
            start = redo_from(first.kind, first.steps, mistake)
            if not whole:
                full = run_mistake(first.kind, g, mistake, BATCH, redo=Redo(base_full, start))
                chain = RoundedBatch.for_draws([vp.problem for vp in vps])
                rounded = run_mistake(first.kind, g, mistake, chain, redo=Redo(base_rounded, start))
                ties = np.asarray(chain.ties, dtype=bool) & np.ones(len(vps), dtype=bool)
            for j, vp in enumerate(vps):
                p = vp.problem
                alone = run_mistake(p.kind, prepare(p.givens), mistake)
                assert alone == evaluate(
                    p.kind, p.givens, misconception=mistake[0], step=mistake[1], gate=mistake[2]
                )
                if whole:
                    continue
                ch = Rounded(p.decimals)
                exact = run_mistake(p.kind, prepare(p.givens, ch), mistake, ch)
                for lab in full:
                    assert float(full[lab][j]) == alone[lab], (mistake, lab)
                    if not ties[j]:
                        assert float(np.broadcast_to(rounded[lab], (len(vps),))[j]) == float(
                            exact[lab]
                        ), (mistake, lab)
                    checked += 1
    assert whole or checked > 500


def test_a_redone_mistake_takes_no_overrides():
    ws = load_spec(None)
    p = build_manifest(ws, numbered_roster(1), SEED)[0].variants[0].problems[0].problem
    g = prepare(p.givens)
    mistake = applicable_slips(p)[0]
    base = evaluate(p.kind, p.givens)
    with pytest.raises(ValueError):
        run_mistake(p.kind, g, mistake, FULL, overrides={"f_t[1]": 0.5}, redo=Redo(base, 1))


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lstm_exam")
        for alias in node.names
        if alias.name.startswith("_")
    ]


@pytest.mark.parametrize(
    "module",
    [
        "generator/core/tolerance.py",
        "generator/core/diagnosis.py",
        "generator/variants/batch.py",
        "generator/variants/screen.py",
        "generator/quiz/items.py",
    ],
)
def test_the_acceptance_and_mistake_modules_import_no_private_name(module):
    assert _private_imports(ROOT / module) == []
