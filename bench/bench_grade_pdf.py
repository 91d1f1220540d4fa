"""Benchmark: grading filled PDF sheets beside the same answers as CSV files.

Run on demand:  .venv/bin/python bench/bench_grade_pdf.py [--students N] [--spec FILE]

The class (default 1,000 students, the built-in spec) is generated with its PDFs (not
timed); the answers of bench_grade.py are written twice, as CSV files and typed into
each student's own sheet (its form's values saved by pikepdf, as a viewer saves them).
Timed, each folder in turn: reading every file alone (in this process: the CSV reader,
the PDF form reader) and `grade` end to end with its outputs. Target: reading a filled
PDF costs at most a few milliseconds.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_grade import _cpu, write_submissions  # noqa: E402
from pdffill import fill  # noqa: E402

from lstm_exam.generator.generate import generate  # noqa: E402
from lstm_exam.generator.render.writers import pdf_writers  # noqa: E402
from lstm_exam.generator.spec.roster import numbered_roster  # noqa: E402
from lstm_exam.generator.spec.worksheet import load_spec  # noqa: E402
from lstm_exam.generator.store.manifest_read import load_manifest  # noqa: E402
from lstm_exam.graders.pdfform import read_submission  # noqa: E402
from lstm_exam.graders.run import grade  # noqa: E402

TARGET_MS = 5.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=1_000)
    ap.add_argument("--spec", type=Path, default=None, help="default: the built-in spec")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        made = generate(
            load_spec(args.spec),
            numbered_roster(args.students),
            root / "wk",
            seed="bench-grade-seed",
            writers=pdf_writers(),
        )
        write_submissions(load_manifest(made.out), root / "csv")
        (root / "pdf").mkdir()
        for f in sorted((root / "csv").iterdir()):
            with f.open(newline="") as fh:
                rows = {r["label"]: r["answer"] for r in csv.DictReader(fh)}
            sheet = root / "wk" / "sheets" / f"{f.stem}.pdf"
            (root / "pdf" / f"{f.stem}.pdf").write_bytes(fill(sheet, rows))
        os.sync()
        print(
            f"setup (generate with PDFs, write and fill, not timed): {time.perf_counter() - t0:.1f} s"
        )
        results = {}
        for kind in ("csv", "pdf"):
            files = sorted((root / kind).iterdir())
            data = [f.read_bytes() for f in files]
            t0 = time.perf_counter()
            for d in data:
                read_submission(d)
            read = time.perf_counter() - t0
            cpu0, t0 = _cpu(), time.perf_counter()
            run = grade(root / "wk", root / kind, root / f"grades-{kind}")
            elapsed, cpu = time.perf_counter() - t0, _cpu() - cpu0
            graded = sum(1 for r in run.results if r.status == "graded")
            size = sum(len(d) for d in data) / len(data) / 1000
            results[kind] = read / len(data) * 1000
            print(
                f"{kind}: {len(data)} files of {size:.0f} KB: reading {1000 * read / len(data):.2f} ms "
                f"a file; grade end to end {elapsed:.2f} s ({1000 * elapsed / len(data):.2f} ms "
                f"a file, {cpu:.2f} s CPU on {os.cpu_count()} cores), {graded} graded"
            )
        extra = results["pdf"] - results["csv"]
        print(f"a filled PDF costs {extra:.2f} ms more to read than its CSV")
        print(
            f"target <= {TARGET_MS:g} ms a PDF:", "met" if results["pdf"] <= TARGET_MS else "MISSED"
        )


if __name__ == "__main__":
    main()
