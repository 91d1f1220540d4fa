"""How quickly this machine creates files now: run it before a benchmark.

Creating a file takes ~30 µs on a quiet file system here, but up to ~550 µs in the
minutes after many files were deleted (ext4 skips recently deleted inodes one by one),
which slows every benchmark that writes a class's files. Creates and removes 3,000
small files in a temporary folder and prints the CPU time it took (the kernel's checks
are this process's system time; a loaded machine does not stretch it), wall time beside.

Run on demand:  python3 bench/fs_check.py
"""

from __future__ import annotations

import os
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = b"x" * 8000
        c0, t0 = os.times(), time.perf_counter()
        for k in range(3000):
            with open(os.path.join(tmp, f"f{k:05d}.csv"), "wb", buffering=0) as f:
                f.write(data)
        c1, wall = os.times(), time.perf_counter() - t0
    spent = c1.user + c1.system - c0.user - c0.system
    print(
        f"3,000 files created in {spent:.2f} s of CPU ({spent / 3 * 1000:.0f} µs a file; "
        f"{wall:.2f} s wall):"
    )
    print("quiet" if spent < 0.3 else "slow: wait a few minutes before a benchmark")


if __name__ == "__main__":
    main()
