"""Benchmark: the peak memory of `grade` of a class that holds a PDF bomb.

Run on demand:  .venv/bin/python bench/bench_pdf_bombs.py [--students N] [--quick]

For each bomb of tests/pdfbombs.py (the object-stream and cross-reference-stream bombs
of the attack at 255 KB, 1 MB, 4 MB and just under the 20 MB cap; the other kinds
inflating to 10 GB) a class of N students (default 10, no PDFs) is generated, the first
hands in the bomb, the others their key's answers as CSV, and `lstm-exam grade` runs in
a process of its own under a 4 GB address-space limit (a safety net for the machine:
an unbounded read would end there, not at the bound). Printed per bomb: the file's
size, what it inflates to, grade's peak RSS (the largest of it and the processes it
starts, from wait4), its wall time and the bomb's row. Target: every peak under 300 MB,
the bomb's row unreadable, every other student graded. --quick: one small bomb of each
of the two kinds of the attack (for the test suite).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from pdfbombs import FILE_SIZES, KINDS, bomb, grade_measured, make_class, sized  # noqa: E402

TARGET = 300_000_000
OTHERS = 10_000_000_000
SAFETY = 4_000_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="one small bomb of each kind")
    args = ap.parse_args()
    sizes = FILE_SIZES[:1] if args.quick else FILE_SIZES
    cases: list[tuple[str, bytes, str]] = [("none (CSV only)", b"", "")]
    for kind in ("objstm", "xref"):
        for size in sizes:
            cases.append((kind, sized(kind, size), f"{1030 * size / 1e9:.1f} GB"))
    if not args.quick:
        for kind in KINDS:
            if kind not in ("objstm", "xref"):
                many = 20 if kind == "many" else 1
                cases.append((kind, bomb(kind, OTHERS, count=many), f"{OTHERS / 1e9:.0f} GB"))
    print(f"{'bomb':16} {'file':>10} {'inflates':>9} {'peak RSS':>9} {'wall':>7}  row")
    worst = 0
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for k, (kind, data, inflates) in enumerate(cases):
            root = Path(tmp) / str(k)
            root.mkdir()
            bombs = {kind: data} if data else {}
            worksheet, subs = make_class(root, bombs, args.students - len(bombs))
            code, peak, wall, err = grade_measured(worksheet, subs, root / "grades", SAFETY)
            with (root / "grades" / "gradebook.csv").open(encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
            first = rows[0]["status"] if data else "-"
            graded = all(r["status"] == "graded" for r in rows[len(bombs) :])
            ok &= code == 0 and graded and (not data or first == "unreadable")
            worst = max(worst, peak)
            size = f"{len(data) / 1e6:.2f} MB" if data else "-"
            print(
                f"{kind:16} {size:>10} {inflates or '-':>9} {peak / 1e6:>6.0f} MB "
                f"{wall:>6.2f}s  {first}{'' if code == 0 else f' (exit {code}: {err[-200:]})'}"
            )
    print(
        f"worst peak {worst / 1e6:.0f} MB, target under {TARGET / 1e6:.0f} MB: "
        f"{'met' if worst < TARGET and ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
