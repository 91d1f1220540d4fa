"""A problem solved: every intermediate in both chains, and which of them are asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.notation import (
    KINDS,
    Kind,
    label_name,
)


@dataclass(frozen=True, slots=True)
class Value:
    """One quantity in both chains."""

    full: float
    """The float64 full-precision value."""
    rounded: Decimal
    """The rounded-chain value, exact, at ``decimals`` places."""


@dataclass(frozen=True, slots=True)
class Solution:
    """Every intermediate of one problem, in both chains."""

    kind: Kind
    decimals: int
    values: Mapping[str, Value]
    """By label without the ``q`` prefix, in the order a student computes them."""
    asked: tuple[str, ...]
    """The asked labels, in the same order."""


def asked_labels(kind: Kind, computed: Sequence[str], show_steps: bool) -> tuple[str, ...]:
    """Which of the computed labels a problem asks."""
    info = KINDS[kind]
    wanted = set(info.asked) | (set(info.steps) if show_steps else set())
    return tuple(lab for lab in computed if label_name(lab) in wanted)


def solve(
    kind: Kind,
    givens: Mapping[str, Any],
    decimals: int = defaults.DECIMALS,
    show_steps: bool = True,
) -> Solution:
    """Solve a problem in both chains.

    >>> from decimal import Decimal as D
    >>> s = solve(Kind.CELL_STATE, {"f_t": [D("0.5")], "i_t": [D("0.5")],
    ...           "C_tilde": [D("0.25")], "C_prev": [D("1")]})
    >>> s.values["C_t[1]"].rounded
    Decimal('0.625')
    """
    return combine(kind, evaluate(kind, givens, FULL), givens, decimals, show_steps)


def combine(
    kind: Kind,
    full: Mapping[str, float],
    givens: Mapping[str, Any],
    decimals: int,
    show_steps: bool,
    rounded: Mapping[str, Decimal] | None = None,
) -> Solution:
    """The Solution from an already computed full chain (adds the rounded chain, unless
    it is given too)."""
    if rounded is None:
        rounded = evaluate(kind, givens, Rounded(decimals))
    values = {lab: Value(full[lab], rounded[lab]) for lab in full}
    return Solution(
        kind, decimals, MappingProxyType(values), asked_labels(kind, list(full), show_steps)
    )
