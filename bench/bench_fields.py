"""Benchmark: what the sheets' form fields cost to typeset and split, with and without.

Run on demand:  .venv/bin/python bench/bench_fields.py [--students N] [--runs R]

One class (default 200 students, the built-in spec) is made twice without PDFs, with
fillable sheets and with ``fillable = false``; then, alternating R times (default 3),
pdflatex typesets each class-sheets.tex alone and the sheets are split into per-student
PDFs and the padded class PDF (where the forms are made), in this process. Times are
CPU seconds of this process and its children (bench/cputime.py); the least of the R runs
of each is printed (a noisy machine only adds time). Target: fields cost <= 10% more.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

from bench_render import bare_pdflatex
from cputime import timed, verdict

from lstm_exam.generator.generate import generate
from lstm_exam.generator.render.document import render_tex
from lstm_exam.generator.render.split import padded_pdf, page_count, page_ranges, split_pdf
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest_read import load_manifest

TARGET = 1.10


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("pdflatex") is None:
        sys.exit("pdflatex is not installed: run `make setup`")
    ws = load_spec(None)
    students = numbered_roster(args.students)
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fields-") as tmp_name:
        tmp = Path(tmp_name)
        tex = {}
        for name, fillable in (("fields", True), ("plain", False)):
            made = generate(
                dataclasses.replace(ws, fillable=fillable), students, tmp / name, seed="b-fields"
            )
            m = load_manifest(made.out)
            tex[name] = (tmp / f"{name}.tex", [v.student.student_id for v in m.variants])
            tex[name][0].write_text(render_tex(m).tex["class-sheets"], "utf-8")
        for run in range(args.runs):
            for name, (source, ids) in tex.items():
                work = tmp / f"{name}-{run}"
                typeset = bare_pdflatex([source], work).cpu
                pdf = work / source.with_suffix(".pdf").name
                ranges = page_ranges(pdf.with_suffix(".pages"), page_count(pdf), ids)

                def split_both(pdf: Path = pdf, ranges: list = ranges, work: Path = work) -> None:
                    split_pdf(pdf, ranges, work / "sheets", title=ws.title)
                    padded_pdf(pdf, ranges, work / "class-sheets.pdf")

                split = timed(split_both)[1].cpu
                for what, seconds in (("typeset", typeset), ("split", split)):
                    key = (name, what)
                    best[key] = min(best.get(key, seconds), seconds)
    n = args.students
    print(f"{n} students, default spec, least CPU time of {args.runs} runs each")
    for what in ("typeset", "split"):
        f, p = best["fields", what], best["plain", what]
        print(f"  {what:8s} with fields {f:6.2f} s CPU   without {p:6.2f} s CPU   x {f / p:5.3f}")
    f = best["fields", "typeset"] + best["fields", "split"]
    p = best["plain", "typeset"] + best["plain", "split"]
    print(f"  both     with fields {f:6.2f} s CPU   without {p:6.2f} s CPU   x {f / p:5.3f}")
    print(f"target <= {TARGET:g} x: {f / p:.3f}, {verdict(f / p, TARGET)}")


if __name__ == "__main__":
    main()
