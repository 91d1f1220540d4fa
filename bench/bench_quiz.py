"""Benchmark: `lstm-exam quiz --to moodle` for 50 variants of the default spec: drawn,
solved, checked for well-posedness, every usual mistake's window computed, the Moodle XML
written. Target: at least 10x faster a variant than R/exams' exams2moodle, which takes
0.045 to 0.073 s a student (so <= 4.5 ms a variant).

Run on demand:  .venv/bin/python bench/bench_quiz.py [--variants N] [--spec FILE] [--to FORMAT]

Three figures: the library call's time and CPU time (on a busy machine the CPU time is
what the call costs; the load average is printed), and the whole command as a user runs it
(a new Python process: start-up and imports included). The command is run once first
with bytecode writing allowed, so that its modules start from their cached bytecode as
an installed tool's do (pip compiles them on install); a shell with
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variants", "--students", type=int, default=50)
    ap.add_argument("--spec", type=Path, default=None)
    ap.add_argument("--to", default="moodle", choices=["moodle", "canvas"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.variants
    spec = [str(args.spec)] if args.spec else []
    calls, cpus, commands = [], [], []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        warm = [sys.executable, "-m", "lstm_exam", "quiz", *spec, "--to", args.to, "--count", "1"]
        warm += ["--seed", SEED, "--out", str(Path(tmp) / "warm")]
        subprocess.run(warm, check=True, capture_output=True, env=env)
        for k in range(args.repeat):
            out = Path(tmp) / f"call{k}"
            t0, c0 = time.perf_counter(), time.process_time()
            api.make_quiz(args.spec, args.to, n, out, seed=SEED)
            calls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            out = Path(tmp) / f"cmd{k}"
            cmd = [sys.executable, "-m", "lstm_exam", "quiz", *spec, "--to", args.to]
            cmd += ["--count", str(n), "--seed", SEED, "--out", str(out)]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            commands.append(time.perf_counter() - t0)
        size = sum(f.stat().st_size for f in (Path(tmp) / "cmd0").iterdir())
    call, cpu, command = min(calls), min(cpus), min(commands)
    load = os.getloadavg()[0]
    print(f"quiz --to {args.to}, {n} variants, {os.cpu_count()} cores, best of {args.repeat}:")
    print(
        f"  library call {call:.3f} s: {1000 * call / n:.2f} ms a variant "
        f"(CPU {1000 * cpu / n:.2f} ms a variant; load average {load:.1f})"
    )
    print(
        f"  whole command {command:.3f} s: {1000 * command / n:.2f} ms a variant (start-up included)"
    )
    print(f"  {size / 1e6:.2f} MB written")
    lo, hi = R_EXAMS
    print(
        f"  R/exams {1000 * lo:.0f} to {1000 * hi:.0f} ms a student: "
        f"{lo * n / call:.0f}x to {hi * n / call:.0f}x faster (call), "
        f"{lo * n / command:.0f}x to {hi * n / command:.0f}x (command)"
    )
    print("target >= 10x faster a variant (call):", "met" if lo * n / call >= 10 else "MISSED")


if __name__ == "__main__":
    main()
