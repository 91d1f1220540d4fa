"""The tolerance and the accepted range of an answer: the one acceptance rule.

Two forms of the same rule: exact, in decimals (:meth:`Tolerance.window`,
:func:`accept_window`, :func:`accept_bounds`), which decides; and in float arrays
(:func:`array_window`), which screens many values at once and says, with its slack,
where floats cannot tell and the exact form must decide.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.numbers import normal
from lstm_exam.generator.core.solution import Value

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Tolerance:
    """The acceptance tolerance: absolute, or relative to the value."""

    mode: str
    """``absolute`` or ``relative``."""
    amount: Decimal

    def of(self, value: Decimal) -> Decimal:
        """The tolerance around ``value``."""
        return self.amount if self.mode == "absolute" else self.amount * abs(value)

    def window(
        self, a: Decimal | float, b: Decimal | float, times: int = 1, extra: Decimal = Decimal(0)
    ) -> tuple[Decimal, Decimal]:
        """The one acceptance rule: [min(a, b) − t, max(a, b) + t].

        ``t`` is ``times`` tolerances (a relative one taken of the larger magnitude)
        plus ``extra``; a and b are the two chains' values (floats taken exactly).

        >>> Tolerance("absolute", Decimal("0.001")).window(0.5, Decimal("0.501"), times=2)
        (Decimal('0.498'), Decimal('0.503'))
        """
        da = Decimal(repr(a)) if isinstance(a, float) else a
        db = Decimal(repr(b)) if isinstance(b, float) else b
        # min(da, db), max(da, db), in comparisons (the quiz asks this of every mistake)
        lo = db if db < da else da
        hi = db if db > da else da
        t = self.amount if self.mode == "absolute" else self.amount * max(abs(lo), abs(hi))
        # times * t + extra, without the operations that change nothing (the quiz asks this
        # of every mistaken value)
        if times != 1:
            t = times * t
        if extra:
            t = t + extra
        return lo - t, hi + t

    def words(self) -> str:
        """The rule in words a student understands."""
        if self.mode == "absolute":
            return f"within {normal(self.amount)} of the correct value"
        return f"within {normal(self.amount * 100)}% of the correct value"


def accept_window(
    full: Decimal | float, rounded: Decimal, tol: Tolerance, decimals: int
) -> tuple[Decimal, Decimal]:
    """The accepted range of an answer whose two chains give ``full`` and ``rounded``:
    [min − tol, max + tol] (:meth:`Tolerance.window`), widened outward.

    The bounds are kept to ``decimals + BOUND_EXTRA_DIGITS`` places, rounded
    outward, so the key CSV never states a narrower window than the rule.

    >>> accept_window(0.4946502, Decimal("0.495"), Tolerance("absolute", Decimal("0.001")), 3)
    (Decimal('0.49365'), Decimal('0.49600'))
    """
    lo, hi = tol.window(full, rounded)
    q = _bound_unit(decimals)
    return lo.quantize(q, rounding=ROUND_FLOOR), hi.quantize(q, rounding=ROUND_CEILING)


@functools.lru_cache(maxsize=64)
def _bound_unit(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-(decimals + defaults.BOUND_EXTRA_DIGITS))


@functools.lru_cache(maxsize=1 << 20)
def accept_bounds(value: Value, tol: Tolerance, decimals: int) -> tuple[Decimal, Decimal]:
    """:func:`accept_window` of a solved value (cached: a key's values are asked often).

    >>> accept_bounds(Value(0.4946502, Decimal("0.495")), Tolerance("absolute", Decimal("0.001")), 3)
    (Decimal('0.49365'), Decimal('0.49600'))
    """
    return accept_window(value.full, value.rounded, tol, decimals)


def array_window(
    tol: Tolerance, a: np.ndarray, b: np.ndarray | None = None, times: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`Tolerance.window` ``(a, b, times)`` of many values at once, in floats (``b``
    defaults to ``a``: one chain alone): the low bounds, the high bounds, and the slack
    ``SCREEN_UNSURE × max(1, |a|, |b|)``.

    The float bounds lie within the slack of the exact ones (tests prove it for every
    value up to 1e6 and tolerances up to 1000, far beyond what a chain holds): a value
    more than the slack inside a float bound is inside the exact window, one more than
    the slack outside is outside, and one within the slack of a bound is for the exact
    form to decide (:func:`array_verdict`).
    """
    import numpy as np

    if b is None:
        lo = hi = a
        size = np.abs(a)
    else:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        size = np.maximum(np.abs(lo), np.abs(hi))
    amount = float(tol.amount) * times
    t = amount if tol.mode == "absolute" else amount * size
    return lo - t, hi + t, defaults.SCREEN_UNSURE * np.maximum(1.0, size)


def array_verdict(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, slack: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each ``x`` lies against float bounds of :func:`array_window`: surely inside,
    and near the low or the high bound (within the slack: the exact form decides).
    Returns (inside, near_lo, near_hi, near)."""
    import numpy as np

    inside = (low + slack <= x) & (x <= high - slack)
    near_lo, near_hi = np.abs(x - low) <= slack, np.abs(x - high) <= slack
    return inside, near_lo, near_hi, near_lo | near_hi
