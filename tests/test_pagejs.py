"""The practice pages' script, joined from its parts (generator/quiz/page/*.js).

``practice.py`` joins the parts, in the order of ``SCRIPT_PARTS``, into the one
``practice.js`` that every site ships and every page loads: these tests check that the
order is fixed, that each part is used exactly once, that the shipped file is the join,
and that no part grows past the size of a module. The browser tests of
tests/test_practice.py run the joined script itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from lstm_exam.generator.core.misconceptions import STRUCTURAL, Misconception
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.quiz import practice
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec

ROOT = Path(__file__).resolve().parent.parent
PARTS = ROOT / "generator" / "quiz" / "page"
#: A module's size, as for the Python modules (issue 22).
MAX_LINES = 450


def test_every_part_is_joined_exactly_once_in_a_fixed_order():
    on_disk = sorted(p.name for p in PARTS.glob("*.js"))
    assert sorted(practice.SCRIPT_PARTS) == on_disk
    assert len(set(practice.SCRIPT_PARTS)) == len(practice.SCRIPT_PARTS)
    # the scope opens first and closes last
    assert practice.SCRIPT_PARTS[0] == "head.js" and practice.SCRIPT_PARTS[-1] == "main.js"
    assert not (ROOT / "generator" / "quiz" / "practice.js").exists()  # one source: the parts


def test_the_script_is_its_parts_in_order():
    script = practice.page_script()
    offset = 0
    for name in practice.SCRIPT_PARTS:
        part = (PARTS / name).read_bytes()
        assert script[offset : offset + len(part)] == part, name
        offset += len(part)
    assert offset == len(script)


def test_the_shipped_file_is_the_join():
    m, _, _ = build_manifest(load_spec(None), numbered_roster(1), "pagejs-join")
    files = practice.practice_files(m, m.variants)
    assert files["practice.js"] == practice.page_script()
    assert all(
        '<script src="practice.js"></script>' in files[name].decode()
        for name in practice.page_names(len(m.variants))
    )


def test_one_function_scope_around_every_part():
    """Every part but the first and the last is indented inside the one function scope
    that ``head.js`` opens and ``main.js`` closes: nothing leaks into the page's globals."""
    script = practice.page_script().decode("utf-8")
    assert script.count("(function () {") == 1 and script.endswith("})();\n")
    assert script.index('"use strict";') < script.index("(function () {")
    for name in practice.SCRIPT_PARTS[1:-1]:
        text = (PARTS / name).read_text("utf-8")
        assert text.endswith("\n"), name
        assert all(line == "" or line.startswith("  ") for line in text.splitlines()), name


def test_each_part_is_a_module_of_modest_size():
    sizes = {
        name: len((PARTS / name).read_text("utf-8").splitlines()) for name in practice.SCRIPT_PARTS
    }
    assert max(sizes.values()) <= MAX_LINES, sizes


def test_the_structural_misconceptions_are_named_where_the_evaluator_runs():
    """Only the evaluator's part names misconceptions, and only the structural ones."""
    named = {
        name: {
            tw
            for tw in Misconception
            if re.search(rf'"{tw.name}"', (PARTS / name).read_text("utf-8"))
        }
        for name in practice.SCRIPT_PARTS
    }
    assert named.pop("evaluate.js") == STRUCTURAL
    assert not any(named.values()), named
