"""The batch screen: the full chain of many draws at once, on numpy arrays.

An accelerator of the class search, outside the solver's API: each entry equals the
scalar full chain bit for bit, so what it refuses the scalar check refuses.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.evaluate import evaluate_prepared
from lstm_exam.generator.core.notation import (
    Kind,
    label_name,
)
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.solution import asked_labels
from lstm_exam.generator.core.tolerance import Tolerance
from lstm_exam.generator.variants.wellposed import Screened, twist_checks


class Batch:
    """The full chain of many draws at once: every number an array, one entry a draw.

    Each entry is computed with exactly the floating-point operations, in the same
    order, and the same ``math`` functions as :data:`FULL` computes it alone, so an
    entry equals FULL's value bit for bit (tests check this); the array only saves
    Python's per-operation overhead. Well-posedness screens many draws with it.
    """

    name = "batch"

    def num(self, d: Any) -> Any:
        return d.astype(float) if isinstance(d, np.ndarray) else float(d)

    def rnd(self, v: np.ndarray) -> np.ndarray:
        return v  # nothing rounded, as FULL

    def sigmoid(self, v: np.ndarray) -> np.ndarray:
        # FULL.sigmoid's two forms, entry by entry: e = exp(-|v|), then the form's division
        neg = v < 0
        e = _each(math.exp, np.where(neg, v, -v))
        return np.where(neg, e / (1.0 + e), 1.0 / (1.0 + e))

    def tanh(self, v: np.ndarray) -> np.ndarray:
        return _each(math.tanh, v)

    def exp(self, v: np.ndarray) -> np.ndarray:
        return _each(math.exp, v)

    def largest(self, vs: list[np.ndarray]) -> np.ndarray:
        return functools.reduce(np.maximum, vs)

    def first_max(self, vs: list[np.ndarray]) -> np.ndarray:
        return np.argmax(np.stack(vs), axis=0)  # the first of equals, as FULL


def _each(fn: Any, v: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function, not numpy's own) on every entry."""
    return np.fromiter(map(fn, v.tolist()), dtype=float, count=len(v))


BATCH = Batch()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The screen's word on one draw."""

    why: str | None = None
    """Refused, and why (as check_problem words it)."""
    screened: Screened | None = None
    """Passed the cheap checks: the chains check_problem goes on with."""


UNSURE = Verdict()
"""Too close to a bound to tell from floats: check_problem decides."""


def screen(problems: Sequence[Problem], tol: Tolerance) -> list[Verdict]:
    """The cheap checks of check_problem on draws of one problem spec, all at once."""
    if not problems or problems[0].kind is Kind.PARAMETERS:  # whole numbers: nothing to screen
        return [UNSURE] * len(problems)
    first = problems[0]
    g = stack([p.givens for p in problems])
    full = evaluate_prepared(first.kind, g, BATCH)
    n = len(problems)
    why: list[str | None] = [None] * n
    open_ = np.ones(n, dtype=bool)  # neither refused nor left to check_problem yet

    def refuse(bad: np.ndarray, unsure: np.ndarray | None, reason: str) -> None:
        for k in np.flatnonzero(open_ & bad):
            why[k] = reason
        open_[bad] = False
        if unsure is not None:
            open_[unsure] = False

    # the same order as check_problem: saturation, knife-edges, then misconceptions
    saturated = np.zeros(n, dtype=bool)
    for label, v in full.items():
        name = label_name(label)
        if name.startswith("a_") or name == "C_t":
            saturated |= np.abs(v) > defaults.MAX_PREACTIVATION
    refuse(saturated, None, "saturated")
    scale = 10**first.decimals
    knife = np.zeros(n, dtype=bool)
    for label in asked_labels(first.kind, list(full), first.show_steps):
        knife |= np.abs((np.abs(full[label]) * scale) % 1 - 0.5) < defaults.KNIFE_EDGE
    refuse(knife, None, "knife-edge")
    twisted = {}
    for check in twist_checks(first):
        if not open_.any():
            break
        values = check.evaluate(first.kind, g, full, BATCH)
        twisted[check.key] = {label: values[label] for label in check.labels}
        # per label: clearly inside the margin, or too close to its bound to tell
        ins, near = [], []
        for label in check.labels:
            v, x = full[label], values[label]
            lo, hi = _window(tol, v)
            slack = defaults.SCREEN_UNSURE * np.maximum(1.0, np.abs(v))
            ins.append((lo + slack <= x) & (x <= hi - slack))
            near.append((np.abs(x - lo) <= slack) | (np.abs(x - hi) <= slack))
        inside_, near_ = np.array(ins), np.array(near)
        if check.every:  # hidden if one label is inside (TwistCheck.hidden)
            hidden, unsure = np.asarray(inside_.any(axis=0)), np.asarray(near_.any(axis=0))
        else:  # hidden if every label is inside; unsure if none is clearly outside
            hidden = np.asarray(inside_.all(axis=0))
            unsure = np.asarray(~hidden & (inside_ | near_).all(axis=0))
        refuse(hidden, unsure, check.why)
    # still open: every check passed, clear of every bound
    if not open_.any():
        return [Verdict(why=why[k]) if why[k] else UNSURE for k in range(n)]
    passed = _Unstacked(full, twisted)
    return [
        Verdict(why=why[k]) if why[k] else Verdict(screened=passed.draw(k)) if open_[k] else UNSURE
        for k in range(n)
    ]


def _window(tol: Tolerance, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float bounds of ``tol.window(v, v, times=MISCONCEPTION_MARGIN)``."""
    amount = float(tol.amount) * defaults.MISCONCEPTION_MARGIN
    t = amount if tol.mode == "absolute" else amount * np.abs(v)
    return v - t, v + t


def stack(gs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The givens of many draws, prepared for :data:`BATCH`: every number an array
    over the draws, each entry ``float(d)`` as :func:`solve.prepare` makes it."""
    return {name: _stack([g[name] for g in gs]) for name in gs[0]}


def _stack(items: list[Any]) -> Any:
    if isinstance(items[0][0], (list, tuple)):
        return [_stack(list(parts)) for parts in zip(*items, strict=True)]
    return list(np.array(items, dtype=float).T)  # one array per entry of a vector


class _Unstacked:
    """The screen's arrays as one matrix (a row a value, a column a draw), to take
    one draw's chains out as plain floats, as FULL gives them, at C speed."""

    def __init__(self, full: Mapping[str, np.ndarray], twisted: Mapping) -> None:
        self.parts: list[tuple[Any, list[str], slice]] = []
        rows: list[np.ndarray] = []
        for key, values in (("full", full), *twisted.items()):
            self.parts.append((key, list(values), slice(len(rows), len(rows) + len(values))))
            rows += values.values()
        self.matrix = np.stack(rows)

    def draw(self, k: int) -> Screened:
        column = self.matrix[:, k].tolist()
        full, *twisted = (
            (key, dict(zip(labels, column[rows], strict=True))) for key, labels, rows in self.parts
        )
        return Screened(full[1], dict(twisted))
