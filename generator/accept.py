"""Acceptance windows: design.md's rule, in exact decimals."""

from __future__ import annotations

import functools
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from . import defaults
from .solve import Value
from .spec import Tolerance


@functools.lru_cache(maxsize=1 << 20)
def accept_bounds(value: Value, tol: Tolerance, decimals: int) -> tuple[Decimal, Decimal]:
    """[min(full, rounded) − tol, max(full, rounded) + tol], widened outward.

    The bounds are kept to ``decimals + BOUND_EXTRA_DIGITS`` places, rounded
    outward, so the key CSV never states a narrower window than the rule.

    >>> from lstm_exam.generator.spec import Tolerance
    >>> accept_bounds(Value(0.4946502, Decimal("0.495")), Tolerance("absolute", Decimal("0.001")), 3)
    (Decimal('0.49365'), Decimal('0.49600'))
    """
    lo, hi = tol.window(value.full, value.rounded)
    q = Decimal(1).scaleb(-(decimals + defaults.BOUND_EXTRA_DIGITS))
    return lo.quantize(q, rounding=ROUND_FLOOR), hi.quantize(q, rounding=ROUND_CEILING)
