"""Benchmark: the PDFs of a class (default 200 students, default spec: sheets and keys).

Times, in CPU seconds of this process and its children (bench/cputime.py; wall time is
printed beside, never judged): the whole `generate` with PDFs, and bare pdflatex on the
class's own two .tex files (those `generate` left in tex/), both at once, as `generate`
runs them. Prints the parent's peak memory (this process's peak RSS: `generate` runs in
it; its workers and pdflatex are children). With ``--stages``, also the PDF stage alone
(`render_pdfs` on a worksheet generated without PDFs), filling the templates and the
split in this process, one document after the other.

Targets: `generate` with PDFs <= 1.2 x bare pdflatex; the PDF stage <= 1.5 x (--stages).

Run on demand:  .venv/bin/python bench/bench_render.py [--students N] [--spec FILE]
                [--no-fields] [--stages]
(``--no-fields``: the sheets without form fields, as ``fillable = false`` makes them)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cputime import Spent, timed, verdict

from lstm_exam.generator.generate import generate
from lstm_exam.generator.render.document import DOCUMENTS, render_tex
from lstm_exam.generator.render.pdfs import render_pdfs
from lstm_exam.generator.render.split import page_count, page_ranges, split_pdf
from lstm_exam.generator.render.writers import pdf_writers
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest_read import load_manifest

SEED = "bench-render-seed-0001"
GENERATE_TARGET = 1.2
STAGE_TARGET = 1.5


def bare_pdflatex(tex_files: list[Path], work: Path) -> Spent:
    """pdflatex on copies of ``tex_files``, all run at once: its CPU (the children's)."""
    work.mkdir()
    for f in tex_files:
        shutil.copy(f, work / f.name)

    def run() -> list[int]:
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
        return [p.wait() for p in procs]

    codes, spent = timed(run)
    if any(codes):
        sys.exit(f"pdflatex failed on the copied sources in {work} (exit codes {codes})")
    return spent


def peak_mib() -> float:
    """This process's peak RSS so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--spec", type=Path, default=None, help="default: the built-in spec")
    ap.add_argument(
        "--no-fields", action="store_true", help="sheets without form fields (fillable = false)"
    )
    ap.add_argument("--stages", action="store_true", help="also time the PDF stage alone")
    args = ap.parse_args()
    if shutil.which("pdflatex") is None:
        sys.exit("pdflatex is not installed: run `make setup`")
    ws = load_spec(args.spec)
    if args.no_fields:
        ws = dataclasses.replace(ws, fillable=False)
    students = numbered_roster(args.students)
    n = args.students
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{n} students, {len(ws.problems)} problems each ({args.spec or 'default spec'}), "
        f"{cores} cores, sheets {'with' if ws.fillable else 'without'} form fields; "
        "CPU = this process and its children"
    )
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp_name:
        tmp = Path(tmp_name)
        before = peak_mib()
        full, total = timed(
            lambda: generate(ws, students, tmp / "full", seed=SEED, writers=pdf_writers())
        )
        after = peak_mib()
        for note in full.notes:
            print(f"note: {note}")
        tex_files = [full.out / "tex" / f"{name}.tex" for name in DOCUMENTS.values()]
        bare = bare_pdflatex(tex_files, tmp / "bare")
        ratio = total.cpu / bare.cpu
        ratios.append(("generate with PDFs / bare pdflatex", ratio, GENERATE_TARGET))
        print(f"  generate with PDFs              {total}  {1000 * total.cpu / n:7.1f} ms/student")
        print(f"  bare pdflatex, both at once     {bare}  {1000 * bare.cpu / n:7.1f} ms/student")
        print(f"  generate / bare pdflatex (CPU)  {ratio:7.3f}")
        print(f"  parent's peak RSS               {after:7.0f} MiB (before generate {before:.0f})")
        for name in DOCUMENTS.values():
            count = page_count(full.out / f"{name}.pdf")
            print(f"  {name + '.pdf':31s} {count:7d} pages  {count / n:7.2f} pages/student")
        if args.stages:
            ratios.append(
                ("PDF stage / bare pdflatex", stages(ws, students, tmp, bare), STAGE_TARGET)
            )
    for what, value, target in ratios:
        print(f"target {what} <= {target:g}: {value:.3f}, {verdict(value, target)}")


def stages(ws, students, tmp: Path, bare: Spent) -> float:
    """The PDF stage alone, the templates and the split: the PDF stage's ratio to ``bare``."""
    n = len(students)
    plain, no_pdf = timed(lambda: generate(ws, students, tmp / "plain", seed=SEED))
    m = load_manifest(plain.out)  # every variant, as the PDF stage of `generate` has them
    _, pdf_part = timed(lambda: render_pdfs(m, plain.out))
    _, templating = timed(lambda: render_tex(m))

    def split_all() -> None:
        for kind, name in DOCUMENTS.items():
            pdf = tmp / "bare" / f"{name}.pdf"
            ids = [v.student.student_id for v in m.variants]
            ranges = page_ranges(pdf.with_suffix(".pages"), page_count(pdf), ids)
            split_pdf(pdf, ranges, tmp / "split" / kind)

    _, splitting = timed(split_all)
    ratio = pdf_part.cpu / bare.cpu
    print(f"  generate without PDFs           {no_pdf}  {1000 * no_pdf.cpu / n:7.1f} ms/student")
    print(
        f"  render_pdfs alone               {pdf_part}  {1000 * pdf_part.cpu / n:7.1f} ms/student"
    )
    print(f"  render_pdfs / bare pdflatex     {ratio:7.3f}")
    print(f"    of which: LaTeX from the templates (render_tex) {templating}")
    print(f"              splitting in this process (pikepdf)   {splitting}")
    return ratio


if __name__ == "__main__":
    main()
