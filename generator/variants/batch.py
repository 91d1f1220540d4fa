"""The batch chains: the chains of many draws at once, on numpy arrays.

Accelerators of the class search and the quiz, outside the solver's API: ``BATCH`` gives
each entry the scalar full chain's value bit for bit, ``RoundedBatch`` the rounded
chain's where floats can tell it (and marks the rest for the exact chain).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstm_exam.generator.core.problem import Problem


class Batch:
    """The full chain of many draws at once: every number an array, one entry a draw.

    Each entry is computed with exactly the floating-point operations, in the same
    order, and the same ``math`` functions as :data:`FULL` computes it alone, so an
    entry equals FULL's value bit for bit (tests check this); the array only saves
    Python's per-operation overhead. Well-posedness screens many draws with it.
    """

    name = "batch"

    def num(self, value: Any) -> Any:
        return value.astype(float) if isinstance(value, np.ndarray) else float(value)

    def rnd(self, value: np.ndarray) -> np.ndarray:
        return value  # nothing rounded, as FULL

    def sigmoid(self, value: np.ndarray) -> np.ndarray:
        # FULL.sigmoid's two forms, entry by entry: e = exp(-|v|), then the form's division
        neg = value < 0
        e = _each(math.exp, np.where(neg, value, -value))
        return np.where(neg, e / (1.0 + e), 1.0 / (1.0 + e))

    def tanh(self, value: np.ndarray) -> np.ndarray:
        return _each(math.tanh, value)

    def exp(self, value: np.ndarray) -> np.ndarray:
        return _each(math.exp, value)

    def largest(self, values: list[np.ndarray]) -> np.ndarray:
        return functools.reduce(np.maximum, values)

    def first_max(self, values: list[np.ndarray]) -> np.ndarray:
        return np.argmax(np.stack(values), axis=0)  # the first of equals, as FULL


def _each(function: Any, value: np.ndarray) -> np.ndarray:
    """``function`` (a ``math`` function, not numpy's own) on every entry."""
    return np.fromiter(map(function, value.tolist()), dtype=float, count=len(value))


BATCH = Batch()


class _Inexact(np.ndarray):
    """Values that passed through exp, σ or tanh: never exact decimals, so a near-tie
    among them cannot be told from a tie (every operation on them keeps the mark)."""


class RoundedBatch(Batch):
    """The rounded chain of many draws at once, in floats: each quantity rounded half
    away from zero to ``decimals`` places, as :class:`~lstm_exam.generator.core.chains.Rounded`
    rounds its exact decimals.

    Away from a tie the two agree (a float carries the exact value to 1e-16, far inside
    the ``TIE_GUARD`` that decides the rounding). At a tie: a value made by sums and
    products of decimals of few places (``exact_ties``: at most ``EXACT_PLACES`` places
    in the rounded unit) that comes within the guard of a tie is exactly a tie, and is
    rounded away from zero as the exact chain does; any other (a value of exp, σ or
    tanh, or of decimals of many places) is marked in ``ties`` and left to the exact
    chain.
    """

    name = "batch-rounded"
    TIE_GUARD = 1e-9
    EXACT_PLACES = 8

    def __init__(self, decimals: int, exact_ties: bool = False) -> None:
        self.decimals = decimals
        self.exact_ties = exact_ties
        self.scale = 10.0**decimals
        self.ties: np.ndarray | bool = False

    def rnd(self, value: np.ndarray) -> np.ndarray:
        scaled = np.abs(np.asarray(value)) * self.scale
        near = np.abs(scaled % 1.0 - 0.5) < self.TIE_GUARD
        if self.exact_ties and not isinstance(value, _Inexact):
            scaled = scaled + np.where(near, self.TIE_GUARD, 0.0)  # a tie: away from zero
        else:
            self.ties = self.ties | near
        return np.sign(np.asarray(value)) * np.floor(scaled + 0.5) / self.scale

    def sigmoid(self, value: np.ndarray) -> np.ndarray:
        return super().sigmoid(np.asarray(value)).view(_Inexact)

    def tanh(self, value: np.ndarray) -> np.ndarray:
        return super().tanh(np.asarray(value)).view(_Inexact)

    def exp(self, value: np.ndarray) -> np.ndarray:
        return super().exp(np.asarray(value)).view(_Inexact)

    @classmethod
    def for_draws(cls, problems: Sequence[Problem]) -> RoundedBatch:
        """The rounded chain of these draws (of one spec): ties decided in floats where a
        product of two givens' places stays within ``EXACT_PLACES`` of the unit (a
        near-tie of sums and products is then a tie)."""
        decimals = problems[0].decimals
        places = max(given_places(problems), decimals)
        return cls(decimals, 2 * places - decimals <= cls.EXACT_PLACES)

    def fresh(self) -> RoundedBatch:
        """The same chain with no ties seen yet."""
        return RoundedBatch(self.decimals, self.exact_ties)


def given_places(problems: Sequence[Problem]) -> int:
    """The most decimal places of any given of these draws."""
    unique: dict[int, Any] = {}  # the numbers of a grid are a few objects, all alive here
    for p in problems:
        for value in p.givens.values():
            stack = [value]
            while stack:
                x = stack.pop()
                if x and isinstance(x[0], (list, tuple)):
                    stack.extend(x)
                else:
                    unique.update(zip(map(id, x), x, strict=True))
    return max(0, *(-int(x.as_tuple().exponent) for x in unique.values()))


def stack(draws: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The givens of many draws, prepared for :data:`BATCH`: every number an array
    over the draws, each entry ``float(d)`` as :func:`solve.prepare` makes it."""
    return {name: _stack([g[name] for g in draws]) for name in draws[0]}


def _stack(items: list[Any]) -> Any:
    if isinstance(items[0][0], (list, tuple)):
        return [_stack(list(parts)) for parts in zip(*items, strict=True)]
    flat = list(itertools.chain.from_iterable(items))
    if len(flat) != len(items) * len(items[0]):
        raise ValueError("draws of different sizes")
    # float(Decimal) goes through the decimal's text: each of the few numbers a grid
    # holds (the same objects, all alive here, so their ids tell them apart) once
    floats = {key: float(d) for key, d in dict(zip(map(id, flat), flat, strict=True)).items()}
    values = np.fromiter(map(floats.__getitem__, map(id, flat)), dtype=float, count=len(flat))
    return list(values.reshape(len(items), len(items[0])).T)  # one array per entry of a vector
