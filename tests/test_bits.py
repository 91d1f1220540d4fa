"""Issue 22, parts 4 and 3b: the same bits on every Python from 3.11 on, and one way to
draw a class (in worker processes or not) for `generate` and `quiz`.

Python 3.12's ``sum`` of floats compensates (Neumaier), 3.11's adds from left to right:
the chains add from left to right themselves, so their values do not depend on the
interpreter. ``make test`` runs this file on Python 3.12 too (the Makefile's
``CHAIN_TESTS``), where a ``sum`` come back would change these values.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import operator
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL
from lstm_exam.generator.core.evaluate import added, evaluate, evaluate_prepared
from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.generate import build_manifest, draw_class, search_batch
from lstm_exam.generator.quiz.run import draw_quiz, quiz_roster
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest import student_json
from lstm_exam.generator.variants.draw import draw_problem
from lstm_exam.generator.variants.screen import BATCH, stack
from lstm_exam.generator.variants.stream import Stream

ROOT = Path(__file__).resolve().parent.parent
LIGHT = settings(max_examples=60, deadline=None, database=None)


def left_to_right(terms: list, start: float) -> float:
    """``start + t1 + t2 + ...`` one addition at a time: what a calculator (and 3.11) adds."""
    return functools.reduce(operator.add, terms, start)


def compensated(terms: list[float], start: float) -> float:
    """What Python 3.12's ``sum(terms, start)`` of floats gives: Neumaier's summation."""
    total, c = start, 0.0
    for x in terms:
        t = total + x
        c += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    return total + c


def test_the_model_of_the_builtin_sum_is_this_pythons():
    """The builtin ``sum`` is ``left_to_right`` before 3.12 and ``compensated`` from it on:
    the examples below, where the two differ, are where a ``sum`` would show."""
    terms = [0.1, 0.2, 0.3]
    assert left_to_right(terms, 0.0) == 0.6000000000000001
    assert compensated(terms, 0.0) == 0.6
    model = compensated if sys.version_info >= (3, 12) else left_to_right
    assert sum(terms, 0.0) == model(terms, 0.0)


# --- the evaluator adds from left to right --------------------------------------------

FORGET_GATE = """kind = "forget_gate"
decimals = 3
h_prev = [0.1]
x = [0.2, 0.3]
W_f = [[1.0, 1.0, 1.0]]
b_f = [0.5]
"""


def test_solve_json_gives_the_left_to_right_sum_on_every_python(run, tmp_path):
    """Wz_f = 1(0.1) + 1(0.2) + 1(0.3): 0.6000000000000001 from left to right, on 3.11 as
    on 3.12 (whose ``sum`` would make it 0.6), and a_f adds the bias to that."""
    (tmp_path / "p.toml").write_text(FORGET_GATE, "utf-8")
    doc = json.loads(run("solve", "p.toml", "--json").output)
    assert doc["values"]["Wz_f[1]"]["full"] == 0.6000000000000001
    assert doc["values"]["a_f[1]"]["full"] == 0.6000000000000001 + 0.5
    assert doc["values"]["Wz_f[1]"]["rounded"] == 0.6


def _dec(limit: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-Decimal(limit), max_value=Decimal(limit), places=places)


@st.composite
def forget_gates(draw: st.DrawFn) -> dict:
    """The givens of a forget-gate problem as a worksheet draws them: weights and biases of
    2 places in [-1, 1], h_{t-1} and x_t of 3 places in [-1.5, 1.5]."""
    hidden, inputs = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    w, v = _dec("1", 2), _dec("1.5", 3)
    row = st.lists(w, min_size=hidden + inputs, max_size=hidden + inputs)
    return {
        "h_prev": draw(st.lists(v, min_size=hidden, max_size=hidden)),
        "x": draw(st.lists(v, min_size=inputs, max_size=inputs)),
        "W_f": draw(st.lists(row, min_size=hidden, max_size=hidden)),
        "b_f": draw(st.lists(w, min_size=hidden, max_size=hidden)),
    }


def _products(givens: dict) -> list[list[float]]:
    z = [float(d) for d in givens["h_prev"] + givens["x"]]
    return [[float(w) * v for w, v in zip(row, z, strict=True)] for row in givens["W_f"]]


@LIGHT
@given(forget_gates())
@example(
    {
        "h_prev": [Decimal("0.1")],
        "x": [Decimal("0.2"), Decimal("0.3")],
        "W_f": [[Decimal(1)] * 3],
        "b_f": [Decimal("0.5")],
    }
)
def test_every_dot_product_is_the_left_to_right_sum_where_compensation_differs(givens):
    """Wz_f of the full chain, and of the batch chain on arrays, is the left-to-right sum
    of w * z, on problems where Python 3.12's compensated sum gives other bits."""
    rows = _products(givens)
    assume(any(left_to_right(p, 0.0) != compensated(p, 0.0) for p in rows))
    full = evaluate(Kind.FORGET_GATE, givens, FULL)
    batch = evaluate_prepared(Kind.FORGET_GATE, stack([givens, givens]), BATCH)
    for r, products in enumerate(rows, start=1):
        want = left_to_right(products, 0.0)
        assert full[f"Wz_f[{r}]"] == want
        assert batch[f"Wz_f[{r}]"].tolist() == [want, want]


def test_the_softmax_total_is_the_left_to_right_sum():
    """Each probability is e^(l - max) over the total of those from left to right, the full
    chain's and the batch chain's alike, on draws where a compensated total differs."""
    spec = load_spec(ROOT / "examples" / "classification.toml")
    (ps,) = spec.problems
    draws = [
        draw_problem(ps, spec.decimals, Stream("bits-seed", "softmax", str(k))) for k in range(300)
    ]
    batch = evaluate_prepared(ps.kind, stack([p.givens for p in draws]), BATCH)
    differs = 0
    for k, p in enumerate(draws):
        full = evaluate(p.kind, p.givens, FULL)
        logits = [full[f"logit[{c}]"] for c in range(1, ps.classes + 1)]
        exps = [math.exp(v - max(logits)) for v in logits]
        total = left_to_right(exps[1:], exps[0])
        differs += total != compensated(exps[1:], exps[0])
        for c, e in enumerate(exps, start=1):
            assert full[f"prob[{c}]"] == e / total
            assert float(batch[f"prob[{c}]"][k]) == e / total
    assert differs > 0


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12), st.floats(-1e3, 1e3))
def test_added_is_a_left_fold_of_every_chains_numbers(terms, start):
    """Floats (the full chain), decimals (the rounded chain) and arrays (the batch chains,
    each entry alone) are added one term at a time from the start."""
    assert added(terms, start) == left_to_right(terms, start)
    decimals = [Decimal(t) for t in terms]
    assert added(decimals, Decimal(start)) == left_to_right(decimals, Decimal(start))
    arrays = [np.array([t, -t]) for t in terms]
    negated = [-t for t in terms]
    want = [left_to_right(terms, start), left_to_right(negated, start)]
    assert added(arrays, start).tolist() == want


def test_the_core_never_calls_a_sum_whose_bits_depend_on_the_interpreter():
    """No module of generator/core calls ``sum``, ``math.fsum`` or ``math.sumprod`` (3.12's
    ``sum`` and ``sumprod`` compensate, and the two Pythons' ``sum`` differ): the chains
    add with :func:`added`."""
    calls = []
    for path in sorted((ROOT / "generator" / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
                if name in ("sum", "fsum", "sumprod"):
                    calls.append(f"{path.name}:{node.lineno}")
    assert calls == []


# --- one way to draw a class -------------------------------------------------------------


@given(st.integers(1, 20_000), st.integers(1, 64))
def test_a_batch_is_a_workers_share_within_the_bounds(students, shares):
    """The one batch rule: a worker's share of the class (ceil(n / shares)), but at least
    SEARCH_BATCH and at most SEARCH_BATCH_MAX; so no worker waits for a batch while a
    share fits in one."""
    size = search_batch(students, shares)
    assert defaults.SEARCH_BATCH <= size <= defaults.SEARCH_BATCH_MAX
    share = -(-students // shares)
    assert size == min(max(share, defaults.SEARCH_BATCH), defaults.SEARCH_BATCH_MAX)
    if share <= defaults.SEARCH_BATCH_MAX:
        assert -(-students // size) <= shares


def _small_batches(monkeypatch) -> None:
    monkeypatch.setattr(defaults, "SEARCH_BATCH", 2)
    monkeypatch.setattr(defaults, "SEARCH_BATCH_MAX", 4)


def test_generate_and_quiz_draw_in_the_same_batches(monkeypatch):
    """Both draw through draw_class, in batches of the one rule: 7 students or variants in
    this process are batches of 4 and 3 (a share of 7, within 2 and 4), where the quiz's
    own rule made batches of 2."""
    import lstm_exam.generator.generate as generate_module

    _small_batches(monkeypatch)
    batches: list[int] = []
    search = generate_module.make_variants

    def counted(ws, seed, students, tick=None):
        batches.append(len(students))
        return search(ws, seed, students, tick)

    monkeypatch.setattr(generate_module, "make_variants", counted)
    ws = load_spec(None)
    build_manifest(ws, numbered_roster(7), "bits-batch-seed")
    assert batches == [4, 3]
    batches.clear()
    draw_quiz(ws, 7, "moodle", "bits-batch-seed")
    assert batches == [4, 3]


def test_a_class_drawn_in_workers_is_the_class_drawn_here(monkeypatch):
    """draw_class in forked workers (from 4 students on), in batches of every size, gives
    each student the variant build_manifest draws in this process, in roster order; the
    quiz drawn in workers gets the same variants."""
    ws = load_spec(ROOT / "bench" / "with-network-kinds.toml")
    students = quiz_roster(7)
    here, _, _ = build_manifest(ws, students, "bits-draw-seed")
    want = [student_json(here, v) for v in here.variants]
    _small_batches(monkeypatch)
    monkeypatch.setattr(defaults, "QUIZ_PARALLEL_FROM", 4)
    for parallel_from in (None, 4):
        lines = list(
            draw_class(
                ws,
                here.seed,
                students,
                lambda vs: [student_json(here, v) for v in vs],
                parallel_from=parallel_from,
            )
        )
        assert lines == want
    quiz, _ = draw_quiz(ws, 7, "moodle", "bits-draw-seed", keep=True)
    assert [student_json(here, v) for v in quiz.variants] == want
