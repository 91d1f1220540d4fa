"""The clock every benchmark judges by: CPU seconds of this process and its children.

A loaded machine (other jobs on the same cores) stretches wall time but not the CPU time
a run uses, so the targets are judged on CPU time: this process's user and system time
plus that of every child it has waited for (worker processes, pdflatex, confined
children). Wall time is printed beside it, never judged.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def cpu() -> float:
    """CPU seconds (user and system) of this process and its waited-for children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)  # microseconds, where os.times counts ticks
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass(frozen=True)
class Spent:
    """What a piece of work cost: CPU seconds (this process and its children), wall seconds."""

    cpu: float
    wall: float

    def __str__(self) -> str:
        return f"{self.cpu:7.2f} s CPU ({self.wall:.2f} s wall)"


def timed(fn: Callable[[], T]) -> tuple[T, Spent]:
    """``fn()`` and its cost."""
    c0, t0 = cpu(), time.perf_counter()
    out = fn()
    return out, Spent(cpu() - c0, time.perf_counter() - t0)


def verdict(value: float, target: float) -> str:
    """``met`` or ``MISSED`` for a value that must stay at or under its target."""
    return "met" if value <= target else "MISSED"
