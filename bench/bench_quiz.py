"""Benchmark: `lstm-exam quiz --to moodle` for 50 variants: drawn, solved, checked for
well-posedness, every usual mistake's window computed, the Moodle XML written.

Target: at least 10x faster a student than R/exams' exams2moodle, which takes 0.045 to
0.073 s a student for one forget-gate exercise (the issue's figures). Two specs are
timed by default:

* the built-in weekly sheet, four problems a variant (forget gate, input gate, cell
  state, output gate): the goal read strictly, a whole variant against R/exams' one
  exercise (so <= 4.5 ms a variant);
* ``bench/forget-gate.toml``, the sheet's first problem alone: what R/exams measured,
  like for like.

Run on demand:  .venv/bin/python bench/bench_quiz.py [--variants N] [--spec FILE] [--to FORMAT]

Three figures each: the library call's time and CPU time (on a busy machine the CPU time
is what the call costs; the load average is printed), and the whole command as a user
runs it (a new Python process: start-up and imports included). The command is run once
first with bytecode writing allowed, so that its modules start from their cached bytecode
as an installed tool's do (pip compiles them on install); a shell with
PYTHONDONTWRITEBYTECODE set would otherwise compile every module at every start.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lstm_exam import api

#: R/exams' exams2moodle, seconds a student (the issue's figures).
R_EXAMS = (0.045, 0.073)
SEED = "bench-seed-0001"
#: The specs timed by default: (what it is, its file; None is the built-in sheet).
SPECS = (
    ("built-in weekly sheet, 4 problems a variant", None),
    ("one forget-gate exercise, as R/exams measured", Path(__file__).with_name("forget-gate.toml")),
)


def measure(spec: Path | None, to: str, n: int, repeat: int) -> tuple[float, float, float, int]:
    """The fastest library call, its CPU time, the fastest command, and the bytes written."""
    args = [str(spec)] if spec else []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    calls, cpus, commands = [], [], []
    with tempfile.TemporaryDirectory() as tmp:

        def command(out: Path, count: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "lstm_exam",
                "quiz",
                *args,
                "--to",
                to,
                "--count",
                str(count),
                "--seed",
                SEED,
                "--out",
                str(out),
            ]

        subprocess.run(command(Path(tmp) / "warm", 1), check=True, capture_output=True, env=env)
        for k in range(repeat):
            out = Path(tmp) / f"call{k}"
            t0, c0 = time.perf_counter(), time.process_time()
            api.make_quiz(api.QuizOptions(spec_file=spec, to=to, count=n, out=out, seed=SEED))
            calls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            t0 = time.perf_counter()
            subprocess.run(
                command(Path(tmp) / f"cmd{k}", n), check=True, capture_output=True, env=env
            )
            commands.append(time.perf_counter() - t0)
        size = sum(f.stat().st_size for f in (Path(tmp) / "cmd0").iterdir())
    return min(calls), min(cpus), min(commands), size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variants", "--students", type=int, default=50)
    ap.add_argument("--spec", type=Path, default=None, help="time this spec alone")
    ap.add_argument("--to", default="moodle", choices=["moodle", "canvas"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, lo, hi = args.variants, *R_EXAMS
    specs = [(str(args.spec), args.spec)] if args.spec else list(SPECS)
    print(f"quiz --to {args.to}, {n} variants, {os.cpu_count()} cores, best of {args.repeat}:")
    met = []
    for what, spec in specs:
        call, cpu, command, size = measure(spec, args.to, n, args.repeat)
        load = os.getloadavg()[0]
        print(f"{what} ({size / 1e6:.2f} MB written):")
        print(
            f"  library call {call:.3f} s: {1000 * call / n:.2f} ms a variant "
            f"(CPU {1000 * cpu / n:.2f} ms a variant; load average {load:.1f})"
        )
        print(
            f"  whole command {command:.3f} s: {1000 * command / n:.2f} ms a variant"
            " (start-up included)"
        )
        print(
            f"  R/exams {1000 * lo:.0f} to {1000 * hi:.0f} ms a student: "
            f"{lo * n / call:.0f}x to {hi * n / call:.0f}x faster (call), "
            f"{lo * n / command:.0f}x to {hi * n / command:.0f}x (command)"
        )
        met.append(lo * n / call >= 10)
    print("target >= 10x faster a variant (call):", "met" if all(met) else "MISSED")


if __name__ == "__main__":
    main()
