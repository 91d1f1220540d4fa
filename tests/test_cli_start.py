"""A light start: the commands that render no PDF never import the render stack.

Each command runs for real, in a fresh interpreter (a subprocess), through the CLI's
``main``; afterwards the interpreter reports which of the heavy modules are in
``sys.modules``. `--help` imports nothing heavy; `solve`, `spec`, `grade` and
`generate --no-pdf` import none of sympy, jinja2, pylatex and pikepdf; `generate` with
PDFs still imports them and still makes its PDFs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: The render stack: what only the commands that make PDFs (or copy templates) need.
RENDER = ("sympy", "jinja2", "pylatex", "pikepdf")
#: Nothing of these for `--help`.
HEAVY = (*RENDER, "numpy")

#: Runs the CLI's main on argv, then writes which heavy modules it loaded to the file that
#: $LOADED names (stdout and stderr stay the command's own).
_WRAPPER = f"""
import json, os, sys
from lstm_exam.cli import main
try:
    code = main(sys.argv[1:], prog_name="lstm-exam", standalone_mode=False)
except SystemExit as e:
    code = e.code
finally:
    loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
    with open(os.environ["LOADED"], "w") as f:
        json.dump(loaded, f)
sys.exit(code or 0)
"""


def _run(cwd: Path, *args: str | Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `lstm-exam ARGS` in a fresh interpreter; its result and the heavy modules loaded."""
    report = cwd / ".loaded.json"
    p = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *map(str, args)],
        cwd=cwd,
        env={**os.environ, "LOADED": str(report)},
        capture_output=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    loaded = set(json.loads(report.read_text("utf-8")))
    report.unlink()
    return p, loaded


def test_help_imports_nothing_heavy(tmp_path):
    p, loaded = _run(tmp_path, "--help")
    assert p.returncode == 0, p.stderr
    assert "Usage: lstm-exam" in p.stdout
    assert loaded == set()


def test_python_m_help_imports_nothing_heavy(tmp_path):
    """The real entry point, `python -m lstm_exam --help`, read from -X importtime."""
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lstm_exam", "--help"],
        cwd=tmp_path,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    imported = {
        m.group(1).split(".")[0]
        for m in re.finditer(r"^import time:.*\| +([\w.]+)$", p.stderr, re.M)
    }
    assert "click" in imported  # the output is what it claims to be
    assert imported.isdisjoint(HEAVY)


@pytest.mark.parametrize(
    "args",
    [("solve",), ("solve", "--json"), ("solve", "--full"), ("spec",)],
    ids=["solve", "solve-json", "solve-full", "spec"],
)
def test_solve_and_spec_import_no_render_stack(tmp_path, args):
    p, loaded = _run(tmp_path, *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip()
    assert loaded.isdisjoint(RENDER)


def test_solve_of_a_problem_file_imports_no_render_stack(tmp_path, demo):
    p, loaded = _run(tmp_path, "solve", demo / "problems" / "s001.toml")
    assert p.returncode == 0, p.stderr
    assert "Problem 1" in p.stdout
    assert loaded.isdisjoint(RENDER)


def test_grade_imports_no_render_stack(tmp_path, demo):
    """A small class graded from its own keys: everyone correct."""
    p, loaded = _run(tmp_path, "grade", demo, demo / "keys", "--out", "grades")
    assert p.returncode == 0, p.stderr
    assert "Wrote gradebook.csv, feedback/, results.json and lms/ to grades/" in p.stdout
    assert (tmp_path / "grades" / "gradebook.csv").is_file()
    assert p.stderr.startswith("Grading\n")  # the bar, once the class is known
    assert loaded.isdisjoint(RENDER)


def test_grade_of_an_empty_folder_imports_no_render_stack(tmp_path, demo):
    (tmp_path / "empty").mkdir()
    p, loaded = _run(tmp_path, "grade", demo, "empty", "--out", "grades")
    assert p.returncode == 0, p.stderr
    assert loaded.isdisjoint(RENDER)


def test_bad_input_stays_one_line_and_light(tmp_path):
    (tmp_path / "empty").mkdir()
    p, loaded = _run(tmp_path, "grade", "empty", "empty")
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.startswith("error: ")
    assert p.stderr.count("\n") == 1
    assert loaded.isdisjoint(RENDER)


def test_generate_without_pdfs_imports_no_render_stack(tmp_path):
    p, loaded = _run(tmp_path, "generate", "--count", "3", "--no-pdf", "--out", "wk")
    assert p.returncode == 0, p.stderr
    assert "Wrote 3 variants of" in p.stdout
    assert (tmp_path / "wk" / "manifest.json").is_file()
    assert not (tmp_path / "wk" / "tex").exists()
    assert loaded.isdisjoint(RENDER)


@pytest.mark.tex
def test_generate_with_pdfs_still_renders(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`")
    p, loaded = _run(tmp_path, "generate", "--count", "2", "--out", "wk")
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith("Generating\nTypesetting\n")
    assert "  sheets/              each student's problem sheet (PDF)" in p.stdout
    wk = tmp_path / "wk"
    for name in ("class-sheets.pdf", "class-key.pdf", "sheets/s001.pdf", "keys/s002.pdf"):
        assert (wk / name).read_bytes().startswith(b"%PDF"), name
    assert set(RENDER) <= loaded
