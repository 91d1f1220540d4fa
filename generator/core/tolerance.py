"""The tolerance and the accepted range of an answer, in exact decimals."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.numbers import normal
from lstm_exam.generator.core.solution import Value


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
        lo, hi = min(da, db), max(da, db)
        t = times * self.of(max(abs(lo), abs(hi))) + extra
        return lo - t, hi + t

    def words(self) -> str:
        """The rule in words a student understands."""
        if self.mode == "absolute":
            return f"within {normal(self.amount)} of the correct value"
        return f"within {normal(self.amount * 100)}% of the correct value"


@functools.lru_cache(maxsize=1 << 20)
def accept_bounds(value: Value, tol: Tolerance, decimals: int) -> tuple[Decimal, Decimal]:
    """[min(full, rounded) − tol, max(full, rounded) + tol], widened outward.

    The bounds are kept to ``decimals + BOUND_EXTRA_DIGITS`` places, rounded
    outward, so the key CSV never states a narrower window than the rule.

    >>> accept_bounds(Value(0.4946502, Decimal("0.495")), Tolerance("absolute", Decimal("0.001")), 3)
    (Decimal('0.49365'), Decimal('0.49600'))
    """
    lo, hi = tol.window(value.full, value.rounded)
    q = Decimal(1).scaleb(-(decimals + defaults.BOUND_EXTRA_DIGITS))
    return lo.quantize(q, rounding=ROUND_FLOOR), hi.quantize(q, rounding=ROUND_CEILING)
