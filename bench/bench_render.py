"""Benchmark: the PDFs of a class of 200 students on the default spec (sheets and keys).

Times the whole `generate` with PDFs, the PDF stage alone (`render_pdfs` on a worksheet
generated without PDFs), and the bare typesetting cost: pdflatex on the same two .tex files,
both at once, as `render_pdfs` runs them. Targets: total <= 20 s; render_pdfs <= 1.5 x bare.

Run on demand:  .venv/bin/python bench/bench_render.py [--students N] [--no-fields]
(``--no-fields``: the sheets without form fields, as ``fillable = false`` makes them)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lstm_exam.generator.generate import generate
from lstm_exam.generator.render.document import DOCUMENTS, render_tex
from lstm_exam.generator.render.pdfs import render_pdfs
from lstm_exam.generator.render.split import page_count, page_ranges, split_pdf
from lstm_exam.generator.render.writers import pdf_writers
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest_read import load_manifest

SEED = "bench-render-seed-0001"
TOTAL_TARGET = 20.0
RATIO_TARGET = 1.5


def bare_pdflatex(tex_files: list[Path], work: Path) -> float:
    """Seconds for pdflatex on copies of ``tex_files``, all run at once."""
    work.mkdir()
    for f in tex_files:
        shutil.copy(f, work / f.name)
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            ["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", f.name],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for f in tex_files
    ]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - t0
    if any(codes):
        sys.exit(f"pdflatex failed on the copied sources in {work} (exit codes {codes})")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--spec", type=Path, default=None, help="default: the built-in spec")
    ap.add_argument(
        "--no-fields", action="store_true", help="sheets without form fields (fillable = false)"
    )
    args = ap.parse_args()
    if shutil.which("pdflatex") is None:
        sys.exit("pdflatex is not installed: run `make setup`")
    ws = load_spec(args.spec)
    if args.no_fields:
        ws = dataclasses.replace(ws, fillable=False)
    students = numbered_roster(args.students)
    n = args.students

    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp_name:
        tmp = Path(tmp_name)

        # 1. everything: draw, solve, write the files and typeset the PDFs
        t0 = time.perf_counter()
        full = generate(ws, students, tmp / "full", seed=SEED, writers=pdf_writers())
        total = time.perf_counter() - t0
        for note in full.notes:
            print(f"note: {note}")

        # 2. the PDF stage alone, on a worksheet generated without PDFs
        t0 = time.perf_counter()
        plain = generate(ws, students, tmp / "plain", seed=SEED)
        no_pdf = time.perf_counter() - t0
        m = load_manifest(plain.out)  # every variant, as the PDF stage of `generate` has them
        t0 = time.perf_counter()
        render_pdfs(m, plain.out)
        pdf_part = time.perf_counter() - t0

        # 3. bare pdflatex on the same sources, both documents at once
        tex_files = [plain.out / "tex" / f"{name}.tex" for name in DOCUMENTS.values()]
        bare = bare_pdflatex(tex_files, tmp / "bare")
        sheets_alone = bare_pdflatex(tex_files[:1], tmp / "bare-sheets")

        # where render_pdfs spends the rest: the LaTeX from the templates, and the split
        # (measured here one process, one document after the other)
        t0 = time.perf_counter()
        render_tex(m)
        templating = time.perf_counter() - t0
        t0 = time.perf_counter()
        for kind, name in DOCUMENTS.items():
            pdf = tmp / "bare" / f"{name}.pdf"
            ids = [v.student.student_id for v in m.variants]
            ranges = page_ranges(pdf.with_suffix(".pages"), page_count(pdf), ids)
            split_pdf(pdf, ranges, tmp / "split" / kind)
        splitting = time.perf_counter() - t0

        pages = {name: page_count(plain.out / f"{name}.pdf") for name in DOCUMENTS.values()}

    ratio = pdf_part / bare
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{n} students, {len(ws.problems)} problems each ({args.spec or 'default spec'}), "
        f"{cores} cores, sheets {'with' if ws.fillable else 'without'} form fields"
    )
    print(f"  total (generate with PDFs)      {total:7.2f} s   {1000 * total / n:7.1f} ms/student")
    print(
        f"  generate without PDFs           {no_pdf:7.2f} s   {1000 * no_pdf / n:7.1f} ms/student"
    )
    print(
        f"  render_pdfs alone               {pdf_part:7.2f} s   {1000 * pdf_part / n:7.1f} ms/student"
    )
    print(f"  bare pdflatex, both in parallel {bare:7.2f} s   {1000 * bare / n:7.1f} ms/student")
    print(f"  render_pdfs / bare pdflatex     {ratio:7.2f}")
    print(f"  bare pdflatex, the sheets alone {sheets_alone:7.2f} s")
    print(f"    of which: LaTeX from the templates (render_tex) {templating:6.2f} s")
    print(f"              splitting into student PDFs (pikepdf)   {splitting:6.2f} s")
    for name, count in pages.items():
        print(f"  {name + '.pdf':31s} {count:7d} pages  {count / n:7.2f} pages/student")
    print(f"target total <= {TOTAL_TARGET:g} s:", "met" if total <= TOTAL_TARGET else "MISSED")
    print(f"target ratio <= {RATIO_TARGET:g}:", "met" if ratio <= RATIO_TARGET else "MISSED")


if __name__ == "__main__":
    main()
