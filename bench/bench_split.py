"""Benchmark: splitting a typeset class into each student's PDF, in one process as before
issue 22 and in worker processes as `generate` does now, side by side.

Run on demand:  .venv/bin/python bench/bench_split.py [--students N] [--runs R] [--spec FILE]

The class (default 1,000 students, the built-in spec) is generated without PDFs and its
two documents typeset once by bare pdflatex (its CPU time printed). Then, alternating R
times (default 2), each in a fresh process: the split in one process (`page_ranges` +
`padded_pdf` + `split_pdf`, each opening the class PDF) and `split_class` (jobs of
`SPLIT_CHUNK` students in workers from `PARALLEL_FROM` students on). Printed: the CPU
time of the process and of its workers, and the growth of the process's own peak RSS
(VmHWM). Targets: the workers' split costs at most 1.1 x the CPU of the split in one
process, and its parent's peak grows by at most 20 MiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench_render import bare_pdflatex
from cputime import verdict

from lstm_exam.generator.generate import generate
from lstm_exam.generator.render.document import render_tex
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest_read import load_manifest

CPU_TARGET = 1.1
PEAK_TARGET = 20.0

#: One split in a fresh process: its CPU (own, workers') and its peak's growth, as JSON.
_SPLIT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from lstm_exam.generator.render import split

    def peak():
        with open("/proc/self/status") as status:
            return next(int(x.split()[1]) for x in status if x.startswith("VmHWM:")) / 1024

    work, out, how, title = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    ids = (work / "ids").read_text().split()
    before, t0 = peak(), os.times()
    for kind, name in (("sheets", "class-sheets"), ("keys", "class-key")):
        pdf = work / f"{name}.pdf"
        if how == "one process":
            ranges = split.page_ranges(pdf.with_suffix(".pages"), split.page_count(pdf), ids)
            split.padded_pdf(pdf, ranges, out / f"{name}.pdf")
            split.split_pdf(pdf, ranges, out / kind, None, title)
        else:
            split.split_class(pdf, ids, out / kind, out / f"{name}.pdf", True, None, title)
    t1 = os.times()
    print(json.dumps({
        "self": t1.user + t1.system - t0.user - t0.system,
        "workers": t1.children_user + t1.children_system - t0.children_user - t0.children_system,
        "peak": peak() - before,
    }))
    """
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--spec", type=Path, default=None)
    args = ap.parse_args()
    ws = load_spec(args.spec)
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp_name:
        tmp = Path(tmp_name)
        made = generate(ws, numbered_roster(args.students), tmp / "wk", seed="bench-split")
        m = load_manifest(made.out)
        (tmp / "src").mkdir()
        tex = []
        for name, text in render_tex(m).tex.items():
            tex.append(tmp / "src" / f"{name}.tex")
            tex[-1].write_text(text, "utf-8")
        work = tmp / "work"
        typeset = bare_pdflatex(tex, work)
        (work / "ids").write_text("\n".join(v.student.student_id for v in m.variants))
        print(f"{args.students} students ({args.spec or 'default spec'}): bare pdflatex {typeset}")
        spent: dict[str, list[dict[str, float]]] = {"one process": [], "workers": []}
        for run in range(args.runs):
            for how, runs in spent.items():
                out = tmp / f"out-{run}-{how.replace(' ', '-')}"
                out.mkdir()
                res = subprocess.run(
                    [sys.executable, "-c", _SPLIT, str(work), str(out), how, ws.title],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(res.stdout.splitlines()[-1]))
                r = runs[-1]
                print(
                    f"  {how:11s} run {run + 1}: {r['self']:7.2f} s CPU in the process, "
                    f"{r['workers']:7.2f} s in its workers; its peak grew {r['peak']:6.1f} MiB"
                )
    one = min(r["self"] + r["workers"] for r in spent["one process"])
    forked = min(r["self"] + r["workers"] for r in spent["workers"])
    grew = max(r["peak"] for r in spent["workers"])
    print(
        f"target workers / one process (least CPU of each) <= {CPU_TARGET:g}: "
        f"{forked / one:.3f}, {verdict(forked / one, CPU_TARGET)}"
    )
    print(
        f"target the parent's peak grows <= {PEAK_TARGET:g} MiB: {grew:.1f}, "
        f"{verdict(grew, PEAK_TARGET)}"
    )


if __name__ == "__main__":
    main()
