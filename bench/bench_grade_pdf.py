"""Benchmark: grading filled PDF sheets beside the same answers as CSV files.

Run on demand:  .venv/bin/python bench/bench_grade_pdf.py [--students N] [--spec FILE]

The class (default 1,000 students, the built-in spec) is generated with its PDFs (not
timed); the answers of bench_grade.py are written twice, as CSV files and typed into
each student's own sheet (its form's values saved by pikepdf, as a viewer saves them).
Timed, each folder in turn: reading every file alone (the CSV reader in this process,
the PDF form reader with its bounded child) and `grade` end to end with its outputs.
Judged in CPU time, every process's: this one's, its workers' and the children that
read PDFs (this process adopts them as a subreaper, so that their time is counted when
they end). Target: grading a folder of filled PDFs costs at most 1.3 times the CPU of
the same answers as CSV files.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_grade import write_submissions  # noqa: E402
from cputime import cpu as _cpu  # noqa: E402
from pdffill import fill  # noqa: E402

from lstm_exam.generator.generate import generate  # noqa: E402
from lstm_exam.generator.render.writers import pdf_writers  # noqa: E402
from lstm_exam.generator.spec.roster import numbered_roster  # noqa: E402
from lstm_exam.generator.spec.worksheet import load_spec  # noqa: E402
from lstm_exam.generator.store.manifest_read import load_manifest  # noqa: E402
from lstm_exam.graders.reading import read_submission  # noqa: E402
from lstm_exam.graders.reading.pdfform import READER  # noqa: E402
from lstm_exam.graders.run import grade  # noqa: E402

TARGET_RATIO = 1.3
_PR_SET_CHILD_SUBREAPER = 36


def _adopt_descendants() -> None:
    """Become the subreaper of every process started below this one (Linux): a child
    that outlives its parent (a worker's PDF reader) is then reaped here, its CPU time
    counted in RUSAGE_CHILDREN."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap() -> None:
    """End this process's PDF reader and reap every child that ended (waiting at most a
    few seconds for the readers of the workers, killed as their worker ends)."""
    READER.close()
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.01)
        except ChildProcessError:
            return
    print("some child processes still run: their CPU time is not counted", file=sys.stderr)


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
        _adopt_descendants()
        results = {}
        for kind in ("csv", "pdf"):
            files = sorted((root / kind).iterdir())
            data = [f.read_bytes() for f in files]
            _reap()
            cpu0, t0 = _cpu(), time.perf_counter()
            for d in data:
                read_submission(d)
            _reap()
            read, read_cpu = time.perf_counter() - t0, _cpu() - cpu0
            cpu0, t0 = _cpu(), time.perf_counter()
            run = grade(root / "wk", root / kind, root / f"grades-{kind}")
            _reap()
            elapsed, cpu = time.perf_counter() - t0, _cpu() - cpu0
            graded = sum(1 for r in run.results if r.status == "graded")
            size = sum(len(d) for d in data) / len(data) / 1000
            results[kind] = (read_cpu, cpu)
            print(
                f"{kind}: {len(data)} files of {size:.0f} KB: reading {1000 * read_cpu / len(data):.2f} ms "
                f"CPU a file ({1000 * read / len(data):.2f} ms wall); grade end to end {cpu:.2f} s "
                f"CPU ({1000 * cpu / len(data):.2f} ms a file; {elapsed:.2f} s wall on "
                f"{os.cpu_count()} cores), {graded} graded"
            )
        read_ratio = results["pdf"][0] / results["csv"][0]
        ratio = results["pdf"][1] / results["csv"][1]
        print(
            f"CPU, filled PDFs / CSV files: reading {read_ratio:.2f}x, grade end to end {ratio:.2f}x"
        )
        print(f"target grade <= {TARGET_RATIO:g}x:", "met" if ratio <= TARGET_RATIO else "MISSED")


if __name__ == "__main__":
    main()
