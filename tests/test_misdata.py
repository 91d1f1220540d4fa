"""Misconceptions as data: one registry entry is a whole new misconception.

A usual mistake that changes one quantity's formula is its registry entry (its formula
in the expression form of core/formulas.py, and its words) and nothing else: grade's
diagnosis names it, the quiz's blanks carry it, well-posedness keeps it visible and the
practice page (in a real headless Chromium) names it, as grade does. The new entry is
added in a fresh Python process (the registry is read once, and the test process keeps
the lecture's own), through the registry's one extension point, ``register``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core.formulas import (
    Call,
    Const,
    Expr,
    Name,
    Op,
    as_json,
    parse,
)
from lstm_exam.generator.core.misconceptions import (
    STRUCTURAL,
    Misconception,
    MisconceptionInfo,
    register,
)
from tests.test_practice import browser  # noqa: F401  (the fixture: Debian's chromium)

NEW = "IC_PLUS"
ADD_ONE = f"""
from lstm_exam.generator.core.misconceptions import MisconceptionInfo, register

NEW = register(
    "{NEW}",
    MisconceptionInfo(
        lecture=5,
        formula=("iC := i_t + C_tilde",),
        did="added i_t + C~_t instead of multiplying i_t * C~_t",
        feedback="you added i_t + C~_t; it is the product i_t * C~_t",
        summary="i_t + C~_t",
    ),
)
"""

#: After the one entry, the product as it is: nothing below knows of the new mistake.
USE_IT = """
import json, sys
from decimal import Decimal
from pathlib import Path

from lstm_exam.generator.core.chains import FULL, round_half_away
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.quiz.items import class_items
from lstm_exam.generator.quiz.practice import practice_files
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.variants.wellposed import slip_checks
from lstm_exam.graders.grade import grade_sheet
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.reading.sheet import Cell, Sheet

spec, out = map(Path, sys.argv[1:])
m, _, _ = build_manifest(load_spec(spec), numbered_roster(3), "misdata-one-entry")
v = m.variants[0]
typed = {}
for vp in v.problems:  # the new mistake made in every problem, the rest right
    values = evaluate(vp.problem.kind, vp.problem.givens, FULL, misconception=NEW)
    for lab in vp.solution.asked:
        exact = Decimal(repr(values[lab]))
        typed[vp.label(lab)] = plain(round_half_away(exact, vp.solution.decimals))
cells = tuple(Cell(label=q, raw=raw, line=k + 2) for k, (q, raw) in enumerate(typed.items()))
graded = grade_sheet(m, GradePolicy.of(m), v, Sheet(cells=cells, notes=(), decimal_comma=False))
quiz = {
    b.label: [mk.mistake, mk.feedback]
    for item in class_items(m, [v])[0]
    for b in item.blanks
    for mk in b.mistakes
    if mk.mistake == NEW.name
}
for name, data in practice_files(m, m.variants).items():
    (out / name).write_bytes(data)
print(json.dumps({
    "typed": typed,
    "grade": {f.label: [f.mistake or "", f.reason] for f in graded.findings},
    "screened": sorted({c.misconception.name for vp in v.problems for c in slip_checks(vp.problem)}),
    "quiz": quiz,
}))
"""

SPEC = """title = "One new misconception"
course = "Introduction to Deep Learning"
decimals = 3
tolerance = { absolute = 0.001 }

[[problems]]
kind = "cell_state"
hidden = 3
points = 3
show_steps = true

[[problems]]
kind = "cell_state"
hidden = 2
points = 2
show_steps = false
"""


@pytest.fixture(scope="module")
def one_entry(tmp_path_factory) -> tuple[dict, Path]:
    """A class made, graded, quizzed and put on practice pages after one registry entry."""
    folder = tmp_path_factory.mktemp("one-entry")
    spec = folder / "spec.toml"
    spec.write_text(SPEC, "utf-8")
    site = folder / "site"
    site.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", ADD_ONE + USE_IT, str(spec), str(site)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), site


def test_the_test_process_keeps_the_lectures_own_registry():
    assert NEW not in Misconception.__members__


def test_grade_names_a_misconception_added_by_one_entry(one_entry):
    found, _ = one_entry
    named = {q: why for q, (mistake, why) in found["grade"].items() if mistake == NEW}
    assert named, found["grade"]
    # iC is asked in the first problem (its steps); the second asks C_t alone: it shows there
    assert any(".iC[" in q for q in named) and any(".C_t[" in q for q in named)
    assert all(
        why.startswith("you added i_t + C~_t; it is the product i_t * C~_t")
        for why in named.values()
    )
    assert any(why.endswith("which carries into C_t") for why in named.values())


def test_wellposedness_and_the_quiz_see_it(one_entry):
    found, _ = one_entry
    assert NEW in found["screened"]
    assert found["quiz"], "the quiz's blanks carry no answer of the new misconception"
    assert all(mistake == NEW for mistake, _ in found["quiz"].values())
    assert any(".iC[" in q for q in found["quiz"])


JS_GRADE = """
const r = window.lstmPractice.gradeAnswers(arguments[0]);
return {table: window.lstmPractice.data.misconceptions,
        findings: r.findings.map(f => [f.label, f.mistake || "", f.reason])};
"""


def test_the_practice_page_names_it_as_grade_does(one_entry, browser):  # noqa: F811
    found, site = one_entry
    browser.get((site / "v001.html").as_uri())
    page = browser.execute_script(JS_GRADE, found["typed"])
    assert page["table"][NEW] == [["iC", None, ["+", "i_t", "C_tilde"]]]
    assert {q: [m, why] for q, m, why in page["findings"]} == found["grade"]


# --- the expression form ----------------------------------------------------------------


def test_every_misconception_has_a_formula_or_is_structural():
    assert {tw for tw in Misconception if not tw.value.formulas} == STRUCTURAL
    for tw in Misconception:
        assert {f.quantity for f in tw.value.formulas} <= set(tw.alters)


def test_the_docs_table_shows_each_formula_as_the_registry_writes_it():
    text = (Path(__file__).resolve().parent.parent / "docs" / "grading.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_0-9]+)` \| (.*) \|", text, re.M))
    missing = [
        tw.name
        for tw in Misconception
        if tw.value.formulas and f"`{tw.value.formula[0]}`" not in rows[tw.name]
    ]
    assert missing == []


@pytest.mark.parametrize(
    "text",
    [
        "iC := i_t ** C_tilde",  # no power
        "iC := max(i_t, C_tilde)",  # no function of that name
        "iC := i_t + spam",  # no quantity of that name
        "eggs := i_t",  # no quantity of that name
        "iC = i_t",  # not :=
        "iC := dot(W_f, h_prev + x)",  # dot of quantities by name
        "iC := 0.5 * i_t",  # whole numbers only
        "iC := tanh(i_t, C_tilde)",  # one argument
    ],
)
def test_a_formula_outside_the_form_is_refused_at_import(text):
    with pytest.raises(ValueError):
        parse(text)


def test_register_refuses_a_formula_less_or_known_name():
    words = {"lecture": 5, "did": "x", "feedback": "x", "summary": "x"}
    with pytest.raises(ValueError, match="needs its formula"):
        register("NO_FORMULA_YET", MisconceptionInfo(**words))
    with pytest.raises(ValueError, match="new misconception's name"):
        register("NO_BIAS", MisconceptionInfo(formula=("iC := i_t",), **words))
    assert "NO_FORMULA_YET" not in Misconception.__members__


NAMES = st.sampled_from(["a_f", "Wz_f", "f_t", "C_prev", "C_tilde", "i_t", "h_t", "o_t"])


def _exprs() -> st.SearchStrategy[Expr]:
    leaves = st.one_of(NAMES.map(Name), st.integers(0, 9).map(Const))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from("+-*/"), inner, inner).map(lambda t: Op(*t)),
            st.tuples(st.sampled_from(["sigma", "tanh", "exp", "rounded"]), inner).map(
                lambda t: Call(t[0], (t[1],))
            ),
        ),
        max_leaves=8,
    )


def _text(e: Expr) -> str:
    if isinstance(e, Name):
        return e.name
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Op):
        return f"({_text(e.left)} {e.op} {_text(e.right)})"
    return f"{e.fn}({', '.join(map(_text, e.args))})"


@settings(max_examples=150, deadline=None)
@given(_exprs())
def test_every_expression_of_the_form_reads_back_as_itself(e):
    """Written out (fully bracketed) and read again: the same records, and the page's
    JSON names the same operations on the same quantities."""
    f = parse(f"h_t := {_text(e)}")
    assert f.expr == e
    text = json.dumps(as_json(e))
    assert all(f'"{n}"' in text for n in f.reads)
