"""Benchmark: grading 10,000 submissions of the default worksheet.

Target: <= 20 s of CPU time (this process and its workers, bench/cputime.py: the 10 s of
wall time on 2 cores it was before, judged as CPU so that a loaded machine does not
count); wall time is printed beside, never judged.

Run on demand:  .venv/bin/python bench/bench_grade.py [--students N] [--spec FILE]
(``--spec bench/with-network-kinds.toml``: the weekly sheet and every network kind)

The class is generated first (not timed); its submissions are real CSV files
written to a folder: 60% all correct, 15% with one slip carried forward, 15%
with a misconception (no bias in the forget gate, and one in each network
problem), 5% rounded early, 5% empty templates. Timed: `grade` end to end (manifest read, every file read, graded,
copy detection, gradebook, feedback and results written).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from cputime import timed, verdict

from lstm_exam.generator.core.chains import Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Misconception
from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest_read import load_manifest
from lstm_exam.graders.run import grade

TARGET = 20.0


def _answers(vp, ch, misconception=None, overrides=None):
    p = vp.problem
    vals = evaluate(p.kind, p.givens, ch, misconception=misconception, overrides=overrides)
    return {vp.label(lab): ch.rnd(vals[lab]) for lab in vp.solution.asked}


#: The misconception a student of the 15% shows in each kind.
SLIPS = {
    Kind.FORGET_GATE: Misconception.NO_BIAS,
    Kind.CLASSIFICATION: Misconception.SOFTMAX_NO_NORM,
    Kind.REGRESSION: Misconception.ERROR_NOT_SQUARED,
    Kind.BACKWARD_STEP: Misconception.SIGMA_AS_DERIVATIVE,
}


def write_submissions(manifest, folder: Path) -> None:
    folder.mkdir()
    for k, v in enumerate(manifest.variants):
        kind = k % 20
        rows: dict[str, Decimal] = {}
        for vp in v.problems:
            ch = Rounded(2 if kind == 12 else vp.problem.decimals)
            if kind in (13,):
                rows |= {vp.label(lab): "" for lab in vp.solution.asked}
            elif kind in (14, 15, 16) and vp.problem.kind in SLIPS:
                rows |= _answers(vp, ch, misconception=SLIPS[vp.problem.kind])
            elif kind in (17, 18, 19) and vp.number == 1:
                slip = vp.solution.values["a_f[2]"].rounded + Decimal("0.05")
                rows |= _answers(vp, ch, overrides={"a_f[2]": slip})
            else:
                rows |= _answers(vp, ch)
        text = "label,answer\n" + "".join(f"{lab},{val}\n" for lab, val in rows.items())
        (folder / f"{v.student.student_id}.csv").write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=10_000)
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
        )
        write_submissions(load_manifest(made.out), root / "subs")
        # flush what setup wrote, as for submissions downloaded before grading: otherwise
        # the kernel's write-back of ~80 MB stalls the timed run's own writes
        os.sync()
        setup = time.perf_counter() - t0
        time.sleep(10)  # let the disk finish writing back what setup wrote
        sys0 = _sys()
        run, spent = timed(lambda: grade(root / "wk", root / "subs", root / "grades"))
        sys_time = _sys() - sys0
    graded = sum(1 for r in run.results if r.status == "graded")
    print(f"setup (generate + write submissions, not timed): {setup:.1f} s")
    print(
        f"grade {args.students} submissions: {spent} "
        f"({1000 * spent.cpu / args.students:.2f} ms of CPU each), {graded} graded, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"  CPU time (this process and its workers): {spent.cpu:.2f} s, of which system "
        f"{sys_time:.2f} s"
    )
    print(f"target <= {TARGET:g} s of CPU: {spent.cpu:.2f} s, {verdict(spent.cpu, TARGET)}")


def _sys() -> float:
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_stime + kids.ru_stime


if __name__ == "__main__":
    main()
