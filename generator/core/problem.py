"""A problem: its kind, its givens and the sizes read off them (pure data, no files)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.notation import BACKWARD, HEAD, KINDS, LABEL_RE, SIZES, Kind, upstream
from lstm_exam.generator.core.solution import Solution, solve


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: its kind and its given numbers."""

    kind: Kind
    givens: Mapping[str, Any]
    """Given numbers by name: tuples of Decimal (vectors), of vectors (matrices, xs)."""
    decimals: int = defaults.DECIMALS
    """Places every answer is rounded to."""
    show_steps: bool = defaults.SHOW_STEPS
    """Whether the intermediate steps are asked too."""

    @property
    def hidden(self) -> int:
        """H, the number of cells."""
        info = KINDS[self.kind]
        first_h = next((n for n, shape in info.givens if shape == "H"), None)
        return len(self.givens[first_h]) if first_h else 1  # counts have one "cell"

    @property
    def inputs(self) -> int | None:
        """D, the input size (None for a cell_state problem)."""
        if "x" in self.givens:
            return len(self.givens["x"])
        if "xs" in self.givens:
            return len(self.givens["xs"][0])
        return None

    @property
    def steps(self) -> int:
        """T for a sequence, else 1."""
        return len(self.givens["xs"]) if "xs" in self.givens else 1

    @property
    def step_numbers(self) -> list[int | None]:
        """The steps of a sequence (1..T); ``[None]`` for a problem without steps."""
        return list(range(1, self.steps + 1)) if KINDS[self.kind].stepped else [None]

    @property
    def classes(self) -> int:
        """K, the outputs of the dense layer (1 for regression, 0 without one)."""
        return len(self.givens["b_y"]) if "b_y" in self.givens else 0

    def cells(self, name: str) -> int:
        """How many values (rows) a quantity has: H per cell, K classes, or one."""
        return cell_count(self.hidden, self.classes, name)

    def row_names(self, name: str) -> list[str]:
        """The rows of a quantity's table: one per cell, per class, or the one answer."""
        size = SIZES.get(name)
        if size == "1":
            return ["Answer"]
        word = "Class" if size == "K" else "Cell"
        return [f"{word} {r}" for r in range(1, self.cells(name) + 1)]

    def step_of(self, name: str, step: int | None) -> int | None:
        """The step a quantity's label carries: none for the output layer after the steps."""
        return None if name in HEAD else step

    def blocks(self, names: Sequence[str]) -> list[tuple[int | None, list[str]]]:
        """Names grouped into tables of equal rows: per step, then the output layer's."""
        forward = [n for n in names if n not in HEAD and n not in BACKWARD]
        backward = [n for n in names if n in BACKWARD]  # a backward step's way back
        out = [(t, ns) for ns in (forward, backward) if ns for t in self.step_numbers]
        for size in ("K", "1"):
            head = [n for n in names if n in HEAD and SIZES[n] == size]
            if head:
                out.append((None, head))
        return out

    def upstream(self, label: str) -> list[str]:
        """Every label of this problem whose value flows into ``label`` (no ``q`` prefix)."""
        return list(_upstream(self.kind, self.hidden, self.classes, self.steps, label))

    def solve(self) -> Solution:
        """Both chains of this problem."""
        return solve(self.kind, self.givens, self.decimals, self.show_steps)


@functools.lru_cache(maxsize=65536)
def _upstream(kind: Kind, hidden: int, classes: int, steps: int, label: str) -> tuple[str, ...]:
    """:meth:`Problem.upstream`, computed once per shape of problem and label."""
    m = LABEL_RE.match(label)
    if m is None:
        raise ValueError(f"not an answer label: {label!r}")
    step = int(m["t"]) if m["t"] else None
    last = steps if KINDS[kind].stepped else None
    cells = functools.partial(cell_count, hidden, classes)
    return tuple(upstream(m["name"], int(m["cell"]), step, cells, last))


def cell_count(hidden: int, classes: int, name: str) -> int:
    size = SIZES.get(name)
    return classes if size == "K" else 1 if size == "1" else hidden
