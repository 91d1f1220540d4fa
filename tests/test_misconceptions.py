"""The misconception registry: one entry each, read by every part, listed in the docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import (
    GATE_NAMES,
    LIKELY_HIDDEN,
    ROUNDING_SLIPS,
    SUMMARY_NAMES,
    Misconception,
    applicable_misconceptions,
    explain,
    gates_of,
)
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import load_spec

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("generator", "graders", "lstm_exam") for p in (ROOT / d).rglob("*.py")]


def _string_constants(path: Path) -> set[str]:
    return {
        n.value
        for n in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _registry_words() -> list[str]:
    words = []
    for tw in Misconception:
        m = tw.value
        words += [m.feedback, m.summary] + ([m.feedback_one] if m.feedback_one else [])
    for slip in ROUNDING_SLIPS:
        words += [slip.feedback, slip.summary]
    return words


def test_every_sentence_and_summary_name_is_written_in_one_source_file():
    constants = {p: _string_constants(p) for p in SOURCES}
    for words in _registry_words():
        holders = [p.relative_to(ROOT).as_posix() for p, cs in constants.items() if words in cs]
        assert holders == ["generator/core/misconception_registry.py"], (words, holders)


def test_the_docs_table_lists_every_misconception_with_its_summary_name():
    text = (ROOT / "docs" / "grading.md").read_text("utf-8")
    rows = re.findall(r"^\| `([A-Z_0-9]+)` \|.*\| ([^|]+?) \|$", text, re.M)
    assert [(i, SUMMARY_NAMES[i]) for i in SUMMARY_NAMES] == rows


def test_every_misconception_reads_for_each_quantity_it_alters():
    for tw in Misconception:
        assert tw.summary.strip() and tw.value.did.strip(), tw
        for gate in (None, *gates_of(tw)):
            for name in (*tw.alters, "h_t"):
                if name in ("h_prev", "C_prev"):  # SEQ_REUSE shows in the step's own values
                    continue
                words = explain(tw, name, gate)
                assert words.strip() and "{" not in words.replace("{t-1}", ""), (tw, name, words)
                if gate is not None:  # the gate it was made in is named
                    assert GATE_NAMES[gate][0] in words or f"_{gate}" in words, (tw, gate, words)


def test_the_search_order_ranks_each_ranked_misconception_once():
    ranks = [tw.value.rank for tw in LIKELY_HIDDEN]
    assert ranks == list(range(1, len(ranks) + 1))


@pytest.fixture(scope="module")
def every_kind():
    ws = load_spec(ROOT / "examples" / "all-kinds.toml")
    m, _, _ = build_manifest(ws, [Student("s1", "A")], "registry-seed-1")
    return [vp.problem for vp in m.variants[0].problems]


def test_every_misconception_has_a_formula_that_changes_an_answer(every_kind):
    """An entry without its formula in the evaluator would change nothing anywhere."""
    changed = set()
    for p in every_kind:
        plain = evaluate(p.kind, p.givens)
        for tw, t in applicable_misconceptions(p):
            twisted = evaluate(p.kind, p.givens, misconception=tw, step=t)
            if any(twisted[lab] != v for lab, v in plain.items()):
                changed.add(tw)
    assert set(Misconception) - changed == set()
