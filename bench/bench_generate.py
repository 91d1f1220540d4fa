"""Benchmark: a class of 1,000 students on the default spec, generated, solved,
checked for well-posedness and written (no PDFs). Target: <= 5 s of CPU time (this
process and its workers, bench/cputime.py; wall time is printed beside, never judged).

Run on demand:  .venv/bin/python bench/bench_generate.py [--students N] [--spec FILE]
(``--spec bench/with-network-kinds.toml``: the weekly sheet and every network kind)
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from pathlib import Path

from cputime import timed, verdict

from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--spec", type=Path, default=None)
    args = ap.parse_args()
    ws = load_spec(args.spec)
    students = numbered_roster(args.students)
    with tempfile.TemporaryDirectory() as tmp:
        r0 = _usage()
        result, spent = timed(
            lambda: generate(ws, students, Path(tmp) / "out", seed="bench-seed-0001")
        )
        r1 = _usage()
    n_problems = args.students * len(ws.problems)
    print(
        f"{args.students} students x {len(ws.problems)} problems: {spent} "
        f"({1000 * spent.cpu / args.students:.2f} ms of CPU per student), {os.cpu_count()} cores"
    )
    print(
        f"  CPU (this process and its workers): user {r1[0] - r0[0]:.2f} s, "
        f"system {r1[1] - r0[1]:.2f} s "
        "(the system share varies with the machine's file system from run to run)"
    )
    for kind, draws in result.draws.items():
        print(f"  {kind:12s} {draws / args.students:.2f} draws on average")
    print(f"  all problems {sum(result.draws.values()) / n_problems:.2f} draws on average")
    for why, n in result.rejected.most_common():
        print(f"    refused: {why}: {n}")
    print(f"target <= 5 s of CPU: {spent.cpu:.2f} s, {verdict(spent.cpu, 5)}")


def _usage() -> tuple[float, float]:
    """(user, system) CPU seconds of this process and its finished worker processes."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + kids.ru_utime, me.ru_stime + kids.ru_stime


if __name__ == "__main__":
    main()
