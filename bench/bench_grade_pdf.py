"""Benchmark: grading filled PDF sheets beside the same answers as CSV files.

Run on demand:  .venv/bin/python bench/bench_grade_pdf.py [--students N] [--spec FILE]

The class (default 1,000 students, the built-in spec) is generated with its PDFs (not
timed); the answers of bench_grade.py are written twice, as CSV files and typed into
each student's own sheet (its form's values saved by pikepdf, as a viewer saves them).
Timed in CPU seconds of this process and its children (bench/cputime.py; the PDF reader's
bounded child is ended after the reads, so that its time counts), each folder in turn:
reading every file alone (the CSV reader, the PDF form reader) and `grade` end to end with
its outputs. Targets: reading a filled PDF <= 5 ms of CPU; grading the PDFs <= 1.3 x the
CPU of grading the same answers as CSV (issue 22).
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

from bench_grade import write_submissions  # noqa: E402
from cputime import timed, verdict  # noqa: E402
from pdffill import fill  # noqa: E402

from lstm_exam.generator.generate import generate  # noqa: E402
from lstm_exam.generator.render.writers import pdf_writers  # noqa: E402
from lstm_exam.generator.spec.roster import numbered_roster  # noqa: E402
from lstm_exam.generator.spec.worksheet import load_spec  # noqa: E402
from lstm_exam.generator.store.manifest_read import load_manifest  # noqa: E402
from lstm_exam.graders.pdfform import READER, read_submission  # noqa: E402
from lstm_exam.graders.run import grade  # noqa: E402

TARGET_MS = 5.0
TARGET_RATIO = 1.3


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
        results: dict[str, float] = {}
        grading: dict[str, float] = {}
        for kind in ("csv", "pdf"):
            files = sorted((root / kind).iterdir())
            data = [f.read_bytes() for f in files]

            def read_all(data: list[bytes] = data) -> None:
                for d in data:
                    read_submission(d)
                READER.close()  # the child's CPU time counts once it is waited for

            read = timed(read_all)[1].cpu
            run, spent = timed(
                lambda kind=kind: grade(root / "wk", root / kind, root / f"g-{kind}")
            )
            graded = sum(1 for r in run.results if r.status == "graded")
            size = sum(len(d) for d in data) / len(data) / 1000
            results[kind] = read / len(data) * 1000
            grading[kind] = spent.cpu
            print(
                f"{kind}: {len(data)} files of {size:.0f} KB: reading {results[kind]:.2f} ms of "
                f"CPU a file; grade end to end {spent} ({1000 * spent.cpu / len(data):.2f} ms "
                f"of CPU a file, {os.cpu_count()} cores), {graded} graded"
            )
        extra = results["pdf"] - results["csv"]
        ratio = grading["pdf"] / grading["csv"]
        print(f"a filled PDF costs {extra:.2f} ms of CPU more to read than its CSV")
        print(f"grading the PDFs / grading the CSVs (CPU, side by side): {ratio:.3f}")
        print(
            f"target <= {TARGET_MS:g} ms of CPU a PDF: {results['pdf']:.2f} ms, "
            f"{verdict(results['pdf'], TARGET_MS)}"
        )
        print(f"target PDF / CSV <= {TARGET_RATIO:g}: {ratio:.3f}, {verdict(ratio, TARGET_RATIO)}")


if __name__ == "__main__":
    main()
