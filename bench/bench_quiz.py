"""Benchmark: `lstm-exam quiz --to moodle` beside R/exams' `exams2moodle`, in one run.

The same exercise on both sides: ``bench/forget-gate.toml`` (the built-in sheet's forget
gate alone: 3 cells, 3 inputs, f_t = σ(W_f·[h_{t-1}, x_t] + b_f) asked step by step) and
``bench/forget_gate.Rmd``, its R/exams twin (a cloze of 9 num blanks drawn with the same
ranges; R/exams has no windows of usual mistakes to compute, lstm-exam does). Each
command is a whole run as a user starts it (a new process: start-up and imports
included), timed as CPU time, user + system, of the child and everything it waited for
(``resource.getrusage(RUSAGE_CHILDREN)``: R's pandoc too): on a machine shared with other
work the CPU time is what a run costs, its wall time is not. The two commands alternate
(each round the other goes first), for every count of variants, several rounds; the
figures are each side's median, and the ratio lstm-exam ÷ R/exams of those medians.

Target (issue 22): lstm-exam at most 0.10 of exams2moodle's CPU per variant, at every count.

Without Rscript or the exams package, the benchmark says so and times lstm-exam alone.

Run on demand:  .venv/bin/python bench/bench_quiz.py [--variants 50,200] [--rounds 3]
                [--spec FILE] [--to moodle|canvas] [--no-r] [--before DIR]

``--before DIR`` times another copy of lstm-exam too, in the same rounds (DIR is put first
on PYTHONPATH: a folder holding an ``lstm_exam`` package laid out as installed, e.g. the
code before a change), so that a change is judged against the code it replaces.

lstm-exam runs once first with bytecode writing allowed, so that its modules start from
their cached bytecode as an installed tool's do (pip compiles them on install); a shell
with PYTHONDONTWRITEBYTECODE set would otherwise compile every module at every start.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "forget-gate.toml"
#: The R/exams twin of SPEC (the comparison is made for SPEC alone).
RMD = HERE / "forget_gate.Rmd"
SEED = "bench-seed-0001"
TARGET = 0.10


def cpu_of(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """The command's CPU time (user + system, of it and its waited-for children) and its
    wall time, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall


def lstm_command(spec: Path, to: str, count: int, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lstm_exam",
        "quiz",
        str(spec),
        "--to",
        to,
        "--count",
        str(count),
        "--seed",
        SEED,
        "--out",
        str(out),
        "--force",
    ]


def r_command(count: int, out: Path, seed: int) -> list[str]:
    code = (
        f"library(exams); set.seed({seed}); "
        f'invisible(exams2moodle("{RMD.as_posix()}", n = {count}, dir = "{out.as_posix()}", '
        'name = "forget-gate", verbose = FALSE))'
    )
    return ["Rscript", "--vanilla", "-e", code]


def r_exams() -> str | None:
    """R's and the exams package's versions, or None (with why on stdout) if either is
    missing."""
    if shutil.which("Rscript") is None:
        print("R/exams: Rscript not found (apt-get install r-base-core): lstm-exam alone")
        return None
    probe = (
        'if (!requireNamespace("exams", quietly = TRUE)) quit(status = 3); '
        'cat(R.version$major, ".", R.version$minor, " exams ", '
        'format(packageVersion("exams")), sep = "")'
    )
    done = subprocess.run(["Rscript", "--vanilla", "-e", probe], capture_output=True, text=True)
    if done.returncode != 0:
        print("R/exams: R has no exams package (R CMD INSTALL exams_*.tar.gz): lstm-exam alone")
        return None
    pandoc = subprocess.run(["pandoc", "--version"], capture_output=True, text=True)
    if pandoc.returncode != 0:
        print("R/exams: pandoc not found (exams2moodle converts with it): lstm-exam alone")
        return None
    return f"R {done.stdout.strip()}, {pandoc.stdout.splitlines()[0]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", "--students", default="50,200", help="counts, comma-separated")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--to", default="moodle", choices=["moodle", "canvas"])
    ap.add_argument("--no-r", action="store_true", help="time lstm-exam alone")
    ap.add_argument("--before", type=Path, help="also time the lstm_exam package in DIR")
    args = ap.parse_args()
    counts = [int(c) for c in args.variants.split(",")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    r = None
    if args.no_r:
        print("R/exams: not timed (--no-r)")
    elif args.to != "moodle" or args.spec.resolve() != SPEC:
        print(f"R/exams: its twin is {SPEC.name} to Moodle alone: lstm-exam alone")
    else:
        r = r_exams()
    print(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
        + (f"; {r}" if r else "")
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} (CPU time is judged, not wall time)")
    mine: dict[int, list[float]] = {n: [] for n in counts}
    theirs: dict[int, list[float]] = {n: [] for n in counts}
    old: dict[int, list[float]] = {n: [] for n in counts}
    old_env = dict(env, PYTHONPATH=str(args.before)) if args.before else None
    walls: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cpu_of(lstm_command(args.spec, args.to, 1, out / "warm"), env)
        if old_env:
            cpu_of(lstm_command(args.spec, args.to, 1, out / "warm-before"), old_env)
        if r:
            cpu_of(r_command(1, out / "warm-r", 1))
        for k in range(args.rounds):
            for n in counts:

                def lstm(n: int = n, k: int = k) -> None:
                    cpu, wall = cpu_of(lstm_command(args.spec, args.to, n, out / f"l{n}-{k}"), env)
                    mine[n].append(cpu)
                    walls.setdefault(("lstm-exam", n), []).append(wall)

                def exams(n: int = n, k: int = k) -> None:
                    (out / f"r{n}-{k}").mkdir()
                    cpu, wall = cpu_of(r_command(n, out / f"r{n}-{k}", k + 1))
                    theirs[n].append(cpu)
                    walls.setdefault(("R/exams", n), []).append(wall)

                def before(n: int = n, k: int = k) -> None:
                    command = lstm_command(args.spec, args.to, n, out / f"b{n}-{k}")
                    cpu, wall = cpu_of(command, old_env)
                    old[n].append(cpu)
                    walls.setdefault(("before", n), []).append(wall)

                runs = [lstm, *([exams] if r else []), *([before] if old_env else [])]
                for run in runs if k % 2 == 0 else runs[::-1]:
                    run()
    print(f"load average after: {os.getloadavg()[0]:.2f}; {args.rounds} rounds, alternated")
    print(f"quiz --to {args.to} of {args.spec.name}, CPU seconds (median of the rounds):")
    met = True
    for n in counts:
        ours = statistics.median(mine[n])
        line = f"  {n:4d} variants: lstm-exam {ours:.3f} s ({1000 * ours / n:.2f} ms a variant)"
        if r:
            other = statistics.median(theirs[n])
            ratio = ours / other
            paired = [a / b for a, b in zip(mine[n], theirs[n], strict=True)]
            line += (
                f", R/exams {other:.3f} s ({1000 * other / n:.2f} ms a variant): "
                f"ratio {ratio:.3f} (paired rounds {min(paired):.3f} to {max(paired):.3f}), "
                f"R/exams / lstm-exam = {other / ours:.1f}x"
            )
            met = met and ratio <= TARGET
        if old_env:
            was = statistics.median(old[n])
            line += f"; before {was:.3f} s: now {ours / was:.3f} of before"
        print(line)
    if len(counts) > 1:
        lo, hi = min(counts), max(counts)
        ours = (statistics.median(mine[hi]) - statistics.median(mine[lo])) / (hi - lo)
        line = f"  each variant more ({lo} to {hi}): lstm-exam {1000 * ours:.2f} ms"
        if r:
            other = (statistics.median(theirs[hi]) - statistics.median(theirs[lo])) / (hi - lo)
            line += f", R/exams {1000 * other:.2f} ms: ratio {ours / other:.3f}"
        print(line)
    shown = ", ".join(f"{who} {n}: {statistics.median(ws):.2f} s" for (who, n), ws in walls.items())
    print(f"  (wall time, medians, for the record: {shown})")
    verdict = ("met" if met else "MISSED") if r else "not judged (R/exams not timed)"
    print(f"target lstm-exam <= {TARGET:.2f} of R/exams' CPU at every count: {verdict}")


if __name__ == "__main__":
    main()
