"""The chains of arithmetic the one evaluator runs in: float64, or exact decimals rounded
at every named quantity as a student with a calculator does.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, Overflow, getcontext, localcontext
from typing import Any, Protocol

Number = Any  # float in the full chain, Decimal in a rounded chain


Vector = tuple[Decimal, ...]


Matrix = tuple[Vector, ...]


class Chain(Protocol):
    """What the evaluator asks of a chain: its numbers, its rounding, its functions."""

    @property
    def name(self) -> str: ...

    def num(self, value: Any) -> Number:
        """A given (a Decimal, a float or an int) as one of the chain's numbers."""
        ...

    def rnd(self, value: Number) -> Number:
        """A named quantity as the chain keeps it (rounded, or as it is)."""
        ...

    def sigmoid(self, value: Number) -> Number: ...

    def tanh(self, value: Number) -> Number: ...

    def exp(self, value: Number) -> Number: ...

    def largest(self, values: list[Number]) -> Number: ...

    def first_max(self, values: list[Number]) -> Any:
        """The index of the largest value, the first of equals."""
        ...


class Full:
    """float64 all the way; nothing rounded."""

    name = "full"

    def num(self, value: Decimal | float) -> float:
        return float(value)

    def rnd(self, value: float) -> float:
        return value

    def sigmoid(self, value: float) -> float:
        # the two forms avoid overflow of exp for large |v|
        if value >= 0:
            return 1.0 / (1.0 + math.exp(-value))
        e = math.exp(value)
        return e / (1.0 + e)

    def tanh(self, value: float) -> float:
        return math.tanh(value)

    def exp(self, value: float) -> float:
        try:
            return math.exp(value)
        except OverflowError:  # a student's own huge logit (1248.5): as float64 has it
            return math.inf

    def largest(self, values: list[float]) -> float:
        return max(values)

    def first_max(self, values: list[float]) -> int:
        """The index of the largest value, the first of equals."""
        return max(range(len(values)), key=values.__getitem__)


@dataclass(frozen=True, slots=True)
class Rounded:
    """Exact decimals, each named quantity rounded to ``decimals`` places.

    ``truncate`` cuts digits instead of rounding (misconception 7).
    """

    decimals: int
    truncate: bool = False
    name: str = field(default="rounded", init=False)

    def num(self, value: Decimal | float) -> Decimal:
        return value if isinstance(value, Decimal) else Decimal(repr(value))

    def rnd(self, value: Decimal) -> Decimal:
        mode = ROUND_DOWN if self.truncate else ROUND_HALF_UP
        return value.quantize(_unit(self.decimals), rounding=mode)

    def sigmoid(self, value: Decimal) -> Decimal:
        return _exact(_SIGMOID, str(value), getcontext().prec)

    def tanh(self, value: Decimal) -> Decimal:
        return _exact(_TANH, str(value), getcontext().prec)

    def exp(self, value: Decimal) -> Decimal:
        return _exact(_EXP, str(value), getcontext().prec)

    largest = Full.largest
    first_max = Full.first_max


FULL = Full()


_SIGMOID, _TANH, _EXP = "sigmoid", "tanh", "exp"


@functools.lru_cache(maxsize=1 << 17)
def _exact(function: str, text: str, prec: int) -> Decimal:
    """A function of the rounded chain on the decimal ``text``, to ``prec`` digits.

    Kept: its arguments are numbers of a few decimals (a rounded pre-activation, a
    difference of logits), which repeat across a class, and the value depends on
    nothing else (``exp`` always rounds half even), so a class computes each once.
    """
    with localcontext(prec=prec):
        v = Decimal(text)
        if function == _EXP:
            return v.exp()
        if function == _SIGMOID:
            try:
                return 1 / (1 + (-v).exp())
            except Overflow:  # a student's own a = -10^9: e^(-a) beyond any decimal
                return Decimal(0)  # sigmoid(a) < 10^-999999: 0 at any places
        if v < 0:  # tanh is odd
            return -_exact(_TANH, str(-v), prec)
        e = (-2 * v).exp()
        return (1 - e) / (1 + e)


@functools.lru_cache(maxsize=32)
def _unit(decimals: int) -> Decimal:
    """One unit in the last place: 0.001 for 3."""
    return Decimal(1).scaleb(-decimals)


def round_half_away(value: Decimal | float, decimals: int) -> Decimal:
    """Round half away from zero on the exact decimal value.

    >>> round_half_away(Decimal("0.0125"), 3), round_half_away(Decimal("-0.0125"), 3)
    (Decimal('0.013'), Decimal('-0.013'))
    """
    return Rounded(decimals).rnd(Rounded(decimals).num(value))
