"""Benchmark: `lstm-exam --help`, the CPU time of the whole process (start-up included).

Target: under 0.15 s CPU (issue 22). The figure is CPU time (user + system, from the
children's rusage), so that a loaded machine does not make it look slower; the bare
interpreter's start (``python -c pass``) is measured alongside, for scale. Each run is a
new process, as a user's is; the modules start from their cached bytecode (one run
first with bytecode writing allowed, as pip compiles them on install).

Run on demand:  .venv/bin/python bench/bench_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys

#: The issue's target, seconds of CPU.
TARGET = 0.15


def cpu_of(command: list[str]) -> float:
    """The CPU seconds (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    help_command = [sys.executable, "-m", "lstm_exam", "--help"]
    bare = [sys.executable, "-c", "pass"]
    subprocess.run(help_command, check=True, stdout=subprocess.DEVNULL)  # bytecode cached
    helps, bares = [], []
    for _ in range(args.runs):  # alternated, so that both see the same load
        helps.append(cpu_of(help_command))
        bares.append(cpu_of(bare))
    median = statistics.median(helps)
    print(f"lstm-exam --help: {args.runs} runs, load average {os.getloadavg()[0]:.2f}")
    print(f"  CPU median {median:.3f} s (min {min(helps):.3f}, max {max(helps):.3f})")
    print(f"  python -c pass: CPU median {statistics.median(bares):.3f} s")
    verdict = "met" if median < TARGET else "MISSED"
    print(f"  target < {TARGET:.2f} s CPU: {median / TARGET:.2f} of it, {verdict}")


if __name__ == "__main__":
    main()
