"""Drawing one problem's givens from its spec, on the grid of its decimals."""

from __future__ import annotations

import functools
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


def _draw_vector(
    stream: Stream,
    count: int,
    distribution: Distribution,
    zeros: bool = False,
    nonzero: bool = False,
) -> tuple[Decimal, ...]:
    grid, zero_at = _grid_values(distribution.low, distribution.high, distribution.decimals)
    chance = _threshold(distribution.zeros) if zeros and distribution.zeros else 0
    zero = _on_grid(0, distribution.decimals)
    return tuple(stream.pick(count, grid, chance, zero, zero_at if nonzero else -1))


def draw_problem(spec: ProblemSpec, decimals: int, stream: Stream) -> Problem:
    """Draw one problem's givens from its spec."""
    info = KINDS[spec.kind]
    H, D, T = spec.hidden, spec.inputs, spec.steps
    vals = spec.values
    gate = Distribution(*defaults.GATE_RANGE, vals.decimals)
    cand = Distribution(*defaults.CANDIDATE_RANGE, vals.decimals)
    grad = Distribution(*defaults.GRADIENT_RANGE, vals.decimals)
    K = spec.classes if spec.kind is Kind.CLASSIFICATION else 1
    givens: dict[str, object] = {}
    if spec.kind is Kind.PARAMETERS:  # sizes of a network, answered as whole numbers
        for name, _ in info.givens:
            lo, hi = defaults.PARAMETER_RANGES[name]
            givens[name] = (Decimal(lo + stream.below(hi - lo + 1)),)
        return Problem(spec.kind, MappingProxyType(givens), 0, spec.show_steps)
    for name, shape in info.givens:
        if shape == "HxZ":
            givens[name] = tuple(
                _draw_vector(stream, H + D, spec.weights, zeros=True) for _ in range(H)
            )
        elif shape == "TxD":
            givens[name] = tuple(_draw_vector(stream, D, vals) for _ in range(T))
        elif shape in ("KxH", "1xH"):
            givens[name] = tuple(
                _draw_vector(stream, H, spec.weights, zeros=True) for _ in range(K)
            )
        elif name == "b_y":
            givens[name] = _draw_vector(stream, K, spec.weights, nonzero=True)
        elif name == "y":
            givens[name] = _draw_vector(stream, 1, vals)
        elif name in ("dh_t", "dC_next"):
            givens[name] = _draw_vector(stream, H, grad, nonzero=True)
        elif shape == "D":
            givens[name] = _draw_vector(stream, D, vals)
        elif name.startswith("b_"):
            givens[name] = _draw_vector(stream, H, spec.weights, nonzero=True)
        elif name in ("f_t", "i_t"):
            givens[name] = _draw_vector(stream, H, gate)
        elif name == "C_tilde":
            givens[name] = _draw_vector(stream, H, cand)
        else:
            givens[name] = _draw_vector(stream, H, vals)
    return Problem(spec.kind, MappingProxyType(givens), decimals, spec.show_steps)
