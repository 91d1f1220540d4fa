"""The benchmarks still run (on a few students; their speed is measured on demand, never here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "students"),
    [
        ("bench_generate.py", 3),
        ("bench_grade.py", 20),
        ("bench_render.py", 2),
        ("bench_quiz.py", 2),
        ("bench_fields.py", 2),
        ("bench_grade_pdf.py", 3),
    ],
)
def test_a_benchmark_runs_to_its_report(script, students):
    extra = ["--runs", "1"] if script == "bench_fields.py" else []
    res = subprocess.run(
        [sys.executable, str(BENCH / script), "--students", str(students), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "target" in res.stdout
