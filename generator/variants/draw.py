"""Drawing one problem's givens from its spec, on the grid of its decimals."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.notation import KINDS, Kind
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.spec.worksheet import Distribution, ProblemSpec
from lstm_exam.generator.variants.stream import Stream


@functools.lru_cache(maxsize=65536)
def _on_grid(index: int, decimals: int) -> Decimal:
    """k units of the last place: the same (immutable) Decimal every time."""
    return Decimal(index).scaleb(-decimals)


@functools.lru_cache(maxsize=256)
def _threshold(p: Decimal) -> int:
    return int(p * (1 << 30))


@functools.lru_cache(maxsize=256)
def _grid_values(low: Decimal, high: Decimal, decimals: int) -> tuple[tuple[Decimal, ...], int]:
    """The grid of ``decimals`` places in [low, high], and where 0 is in it (-1: nowhere)."""
    lo = int(low.scaleb(decimals).to_integral_value(rounding="ROUND_CEILING"))
    hi = int(high.scaleb(decimals).to_integral_value(rounding="ROUND_FLOOR"))
    return tuple(_on_grid(k, decimals) for k in range(lo, hi + 1)), (-lo if lo <= 0 <= hi else -1)


@dataclass(frozen=True, slots=True)
class Call:
    """One ``Stream.pick`` of a draw: ``n`` entries of ``grid`` (``chance``/2**30 of
    ``zero`` instead; the entry at ``avoid`` drawn again)."""

    n: int
    grid: tuple[Decimal, ...]
    chance: int
    zero: Decimal
    avoid: int


@dataclass(frozen=True, slots=True)
class Given:
    """One given of a draw: a vector (one call) or a matrix (one call a row)."""

    name: str
    matrix: bool
    rows: tuple[Call, ...]


def _call(
    count: int, distribution: Distribution, zeros: bool = False, nonzero: bool = False
) -> Call:
    grid, zero_at = _grid_values(distribution.low, distribution.high, distribution.decimals)
    chance = _threshold(distribution.zeros) if zeros and distribution.zeros else 0
    return Call(count, grid, chance, _on_grid(0, distribution.decimals), zero_at if nonzero else -1)


def draw_plan(spec: ProblemSpec) -> tuple[Given, ...]:
    """The picks a draw of ``spec`` makes, in the order it makes them (not for
    ``Kind.PARAMETERS``, whose sizes are ``Stream.below`` calls)."""
    info = KINDS[spec.kind]
    H, D, T = spec.hidden, spec.inputs, spec.steps
    K = spec.classes if spec.kind is Kind.CLASSIFICATION else 1
    plan = []
    for name, shape in info.givens:
        if shape == "HxZ":
            plan.append(Given(name, True, (_call(H + D, spec.weights, zeros=True),) * H))
        elif shape == "TxD":
            plan.append(Given(name, True, (_call(D, spec.values),) * T))
        elif shape in ("KxH", "1xH"):
            plan.append(Given(name, True, (_call(H, spec.weights, zeros=True),) * K))
        else:
            plan.append(Given(name, False, (_vector_call(name, shape, spec, H, D, K),)))
    return tuple(plan)


def _vector_call(name: str, shape: str, spec: ProblemSpec, H: int, D: int, K: int) -> Call:
    vals = spec.values
    if name == "b_y":
        return _call(K, spec.weights, nonzero=True)
    if name == "y":
        return _call(1, vals)
    if name in ("dh_t", "dC_next"):
        return _call(H, Distribution(*defaults.GRADIENT_RANGE, vals.decimals), nonzero=True)
    if shape == "D":
        return _call(D, vals)
    if name.startswith("b_"):
        return _call(H, spec.weights, nonzero=True)
    if name in ("f_t", "i_t"):
        return _call(H, Distribution(*defaults.GATE_RANGE, vals.decimals))
    if name == "C_tilde":
        return _call(H, Distribution(*defaults.CANDIDATE_RANGE, vals.decimals))
    return _call(H, vals)


def draw_problem(spec: ProblemSpec, decimals: int, stream: Stream) -> Problem:
    """Draw one problem's givens from its spec."""
    givens: dict[str, object] = {}
    if spec.kind is Kind.PARAMETERS:  # sizes of a network, answered as whole numbers
        for name, _ in KINDS[spec.kind].givens:
            lo, hi = defaults.PARAMETER_RANGES[name]
            givens[name] = (Decimal(lo + stream.below(hi - lo + 1)),)
        return Problem(spec.kind, MappingProxyType(givens), 0, spec.show_steps)
    for given in draw_plan(spec):
        rows = [tuple(stream.pick(c.n, c.grid, c.chance, c.zero, c.avoid)) for c in given.rows]
        givens[given.name] = tuple(rows) if given.matrix else rows[0]
    return Problem(spec.kind, MappingProxyType(givens), decimals, spec.show_steps)
