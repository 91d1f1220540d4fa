"""What keeps `quiz --to moodle` quick without changing a byte of it (issue 22, part 7):
a Moodle quiz starts without the modules only other formats need, and the number text
of every writer is ``format(d, "f")`` whatever the shortcuts taken. The speed itself is
measured on demand, beside R/exams (bench/bench_quiz.py), never here."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.quiz.run import quiz_layout

SPEC = Path(__file__).resolve().parent.parent / "bench" / "forget-gate.toml"

#: Runs the command as a user does, then names the modules it imported.
PROBE = """
import runpy, sys
sys.argv = ["lstm-exam", *sys.argv[1:]]
try:
    runpy.run_module("lstm_exam", run_name="__main__")
except SystemExit as stop:
    assert not stop.code, stop.code
print("\\n".join(sorted(sys.modules)))
"""


def test_a_moodle_quiz_loads_no_module_of_other_formats(tmp_path):
    out = tmp_path / "quiz"
    args = ["quiz", str(SPEC), "--to", "moodle", "--count", "3", "--seed", "speed-seed-0001"]
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    modules = set(res.stdout.split())
    assert "lstm_exam.generator.quiz.moodle" in modules
    for other in (
        "lstm_exam.generator.quiz.practice",  # --to html
        "lstm_exam.generator.quiz.canvas",  # --to canvas
        "lstm_exam.generator.render.document",  # --key
        "xml.etree.ElementTree",
        "zipfile",
    ):
        assert other not in modules, other
    assert [p.name for p in out.iterdir()] == ["week-5-the-forget-gate-moodle.xml"]


def test_the_quiz_layout_is_made_once_a_slug_and_keeps_its_patterns():
    layout = quiz_layout("w")
    assert quiz_layout("w") is layout
    assert layout.makes("w-moodle.xml", False)
    assert layout.makes("w-practice/v001.html", False)
    assert not layout.makes("x-moodle.xml", False)


@settings(max_examples=300)
@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.decimals(min_value=-10, max_value=10, places=6)
)
def test_plain_is_format_f_without_a_signed_zero(d):
    text = format(d, "f")
    if d.is_zero():
        text = text.lstrip("-")
    assert plain(d) == text


def test_plain_of_a_negative_zero_has_no_sign():
    assert plain(Decimal("-0.000")) == "0.000"
    assert plain(Decimal("-0E-5")) == "0.00000"
