"""The batch screen: the full chain of many draws at once, on numpy arrays.

An accelerator of the class search, outside the solver's API: each entry equals the
scalar full chain bit for bit, so what it refuses the scalar check refuses.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
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
from lstm_exam.generator.variants.wellposed import Screened, SlipCheck, slip_checks


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

    def refuse(at: np.ndarray, bad: np.ndarray, unsure: np.ndarray | None, reason: str) -> None:
        """Refuse the draws ``at[bad]`` still open (``at``: the draws the arrays
        hold), and leave ``at[unsure]`` to check_problem."""
        bad_at = at[bad]
        for k in bad_at[open_[bad_at]]:
            why[k] = reason
        open_[bad_at] = False
        if unsure is not None:
            open_[at[unsure]] = False

    everyone = np.arange(n)
    # the same order as check_problem: saturation, knife-edges, then misconceptions
    saturated = np.zeros(n, dtype=bool)
    for label, v in full.items():
        name = label_name(label)
        if name.startswith("a_") or name == "C_t":
            saturated |= np.abs(v) > defaults.MAX_PREACTIVATION
    refuse(everyone, saturated, None, "saturated")
    scale = 10**first.decimals
    knife = np.zeros(n, dtype=bool)
    for label in asked_labels(first.kind, list(full), first.show_steps):
        knife |= np.abs((np.abs(full[label]) * scale) % 1 - 0.5) < defaults.KNIFE_EDGE
    refuse(everyone, knife, None, "knife-edge")
    # each misconception on the draws still open alone: an entry is computed from its
    # own draw's numbers only, so taking the open ones out changes no value
    slip_values: dict[Any, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    part = _Part(everyone, g, full)
    for check in slip_checks(first):
        if not open_.any():
            break
        part = part.narrowed(open_)
        values = check.evaluate(first.kind, part.g, part.full, BATCH)
        slip_values[check.key] = (part.at, {label: values[label] for label in check.labels})
        hidden, unsure = _judge(check, values, lambda label, f=part.full: _bounds(tol, f[label]))
        refuse(part.at, hidden, unsure, check.why)
    # the rounded chain in arrays pays for itself only on many draws (its Python overhead
    # a check is that of a few draws in exact decimals): fewer are left to check_problem
    rounded_too = open_.sum() >= defaults.SCREEN_ROUNDED_FROM
    rounded = None
    if rounded_too:
        part = part.narrowed(open_, always=True)
        rounded = (
            part.at,
            _screen_rounded(
                [problems[k] for k in part.at],
                part,
                _taken(slip_values, part.at),
                tol,
                open_,
                refuse,
            ),
        )
    # still open: every check passed, clear of every bound, in both chains
    if not open_.any():
        return [Verdict(why=why[k]) if why[k] else UNSURE for k in range(n)]
    # a draw that passed the rounded chain's screen too needs only its full chain
    passed = _Unstacked(
        np.flatnonzero(open_), full, {} if rounded_too else slip_values, rounded, first.decimals
    )
    return [
        Verdict(why=why[k]) if why[k] else Verdict(screened=passed.draw(k)) if open_[k] else UNSURE
        for k in range(n)
    ]


@dataclass(frozen=True, slots=True)
class _Part:
    """The arrays of some of a screen's draws: ``at`` (ascending) says which."""

    at: np.ndarray
    g: Mapping[str, Any]
    full: Mapping[str, np.ndarray]

    def narrowed(self, open_: np.ndarray, always: bool = False) -> _Part:
        """The part of the draws still open, once they are at most half of those held
        (or ``always``): fewer entries, the same values."""
        keep = open_[self.at]
        count = int(keep.sum())
        if count == len(self.at) or (not always and 2 * count > len(self.at)):
            return self
        pos = np.flatnonzero(keep)
        return _Part(self.at[pos], _take(self.g, pos), _take(self.full, pos))


def _take(tree: Any, pos: np.ndarray) -> Any:
    """The entries ``pos`` of every array in a tree of dicts and lists of arrays."""
    if isinstance(tree, np.ndarray):
        return tree[pos]
    if isinstance(tree, Mapping):
        return {key: _take(v, pos) for key, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_take(v, pos) for v in tree]
    return tree  # a scalar, the same for every draw


def _taken(
    slip_values: Mapping[Any, tuple[np.ndarray, Mapping[str, np.ndarray]]], at: np.ndarray
) -> dict[Any, dict[str, np.ndarray]]:
    """Each misconception's values of the draws ``at`` (each held them all: a draw
    still open was open at every check)."""
    out = {}
    for key, (held, values) in slip_values.items():
        pos = np.searchsorted(held, at)
        out[key] = {label: v[pos] for label, v in values.items()}
    return out


def _judge(
    check: SlipCheck, values: Mapping[str, np.ndarray], bounds: Any, units: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, whether ``check``'s slip hides (:meth:`SlipCheck.hidden`) and whether
    that is too close to tell: each label's value clearly inside its margin, or near a
    bound (``bounds(label)``: the margin's low and high bounds and the slack).
    ``units(label, x, near_lo, near_hi)``, if given, decides some values near a bound
    exactly: which it decides, and which of those lie inside."""
    ins, near = [], []
    for label in check.labels:
        lo, hi, slack = bounds(label)
        x = values[label]
        inside = (lo + slack <= x) & (x <= hi - slack)
        near_lo, near_hi = np.abs(x - lo) <= slack, np.abs(x - hi) <= slack
        close = near_lo | near_hi
        if units is not None and close.any():
            decided, within = units(label, x, near_lo, near_hi)
            inside = inside | (decided & within)
            close = close & ~decided
        ins.append(inside)
        near.append(close)
    inside_, near_ = np.array(ins), np.array(near)
    if check.every:  # hidden if one label is inside
        return np.asarray(inside_.any(axis=0)), np.asarray(near_.any(axis=0))
    hidden = np.asarray(inside_.all(axis=0))  # hidden if every label is inside
    return hidden, np.asarray(~hidden & (inside_ | near_).all(axis=0))


def _screen_rounded(
    problems: Sequence[Problem],
    part: _Part,
    slip_values: Mapping[Any, Mapping[str, np.ndarray]],
    tol: Tolerance,
    open_: np.ndarray,
    refuse: Any,
) -> dict[str, np.ndarray]:
    """The rest of check_problem in the same order, on the rounded chain in floats
    (:class:`RoundedBatch`): the misconceptions against the window of both chains, the
    close call, the rounded chain's knife-edges, every slip in the rounded chain. A draw
    whose rounded chain came near a tie, or any value near a bound, is left to the
    exact check. ``problems``, ``part`` and ``slip_values`` hold the draws still open.
    Returns the rounded chain (of the draws in ``part``)."""
    first = problems[0]
    g, full, at = part.g, part.full, part.at
    # a product of two numbers of p places has 2p: within EXACT_PLACES of the unit, a
    # near-tie of sums and products is a tie
    places = max(given_places(problems), first.decimals)
    chain = RoundedBatch(first.decimals, 2 * places - first.decimals <= RoundedBatch.EXACT_PLACES)
    rounded = evaluate_prepared(first.kind, g, chain)
    open_[at[np.asarray(chain.ties, dtype=bool) & np.ones(len(at), dtype=bool)]] = False
    windows: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def window(label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if label not in windows:
            windows[label] = _bounds(tol, full[label], rounded[label])
        return windows[label]

    if "class[1]" in full:
        close, unsure = _close_calls(first, full, rounded, tol)
        refuse(at, close, unsure, "close call")
    checks = slip_checks(first)
    for check in checks:  # the full chain's slips against the window of both chains
        hidden, unsure = _judge(check, slip_values[check.key], window)
        refuse(at, hidden, unsure, check.why)
    # the rounded chain's knife-edges: each asked value from the rounded ones before it
    raw: dict[str, np.ndarray] = {}
    evaluate_prepared(first.kind, g, BATCH, overrides=rounded, computed=raw)
    scale = 10.0**first.decimals
    for label in asked_labels(first.kind, list(full), first.show_steps):
        off = np.abs((np.abs(raw[label]) * scale) % 1 - 0.5)
        edge = np.abs(off - defaults.KNIFE_EDGE) < RoundedBatch.TIE_GUARD
        refuse(at, (off < defaults.KNIFE_EDGE) & ~edge, edge, "knife-edge")
    units = _in_units(tol, first.decimals, full, rounded)
    for check in checks:  # every slip made by a student who rounds every step
        if not open_[at].any():
            break
        ch = chain.fresh()
        values = check.evaluate(first.kind, g, rounded, ch)
        hidden, unsure = _judge(check, values, window, units)
        ties = np.asarray(ch.ties, dtype=bool) & np.ones(len(at), dtype=bool)
        refuse(at, hidden & ~ties, unsure | ties, f"{check.why} in the rounded chain")
    return rounded


def _in_units(
    tol: Tolerance,
    decimals: int,
    full: Mapping[str, np.ndarray],
    rounded: Mapping[str, np.ndarray],
) -> Any:
    """For a slip in the rounded chain: its values near a bound of the margin that can
    be decided exactly, in whole units of the last place (None: none can).

    The value of a slip in the rounded chain is a rounded number, k units; so is the
    correct rounded value, r units; and so is the margin 2·tol when the tolerance is
    absolute and of no more places than the answers: T units. Where the rounded value
    is clearly the window's top (r above the full chain's value, beyond the slack), its
    high bound is exactly r + T units, and the value lies inside it exactly when
    k <= r + T; where it is clearly the bottom, inside the low bound when k >= r - T
    (the window is 2T wide, far more than the slack, so a value near one bound is well
    inside the other). Those equalities are common (a slip that moves an answer by
    exactly the margin), and the floats cannot tell them; whole numbers can. k and r
    are exact: the floats are those of a chain clear of every tie (a draw with a tie
    is left to the exact check), within 1e-12 of their decimal, so rounding
    ``x * 10**decimals`` to the nearest whole number gives k."""
    if tol.mode != "absolute":
        return None
    margin = (defaults.MISCONCEPTION_MARGIN * tol.amount).scaleb(decimals)
    if margin != margin.to_integral_value():
        return None
    T = float(margin)
    scale = 10.0**decimals

    def units(
        label: str, x: np.ndarray, near_lo: np.ndarray, near_hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        a, r = full[label], rounded[label]
        slack = defaults.SCREEN_UNSURE * np.maximum(1.0, np.abs(a))
        k, kr = np.rint(x * scale), np.rint(r * scale)
        top, bottom = r - a > slack, a - r > slack
        decided = (near_hi & top) | (near_lo & bottom)
        within = np.where(near_hi, k <= kr + T, k >= kr - T)
        return decided, within

    return units


def _close_calls(
    first: Problem,
    full: Mapping[str, np.ndarray],
    rounded: Mapping[str, np.ndarray],
    tol: Tolerance,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wellposed._close_call` on every draw: whether another class's window of
    twice the tolerance reaches the predicted class's, and whether it is too close to tell."""
    los, his = [], []
    for k in range(1, first.classes + 1):
        lo, hi, _ = _bounds(tol, full[f"prob[{k}]"], rounded[f"prob[{k}]"])
        los.append(lo)
        his.append(hi)
    best = rounded["class[1]"].astype(int) - 1
    n = len(best)
    best_lo = np.array(los)[best, np.arange(n)]
    close = np.zeros(n, dtype=bool)
    unsure = np.zeros(n, dtype=bool)
    for k in range(first.classes):
        other = best != k
        close |= other & (his[k] >= best_lo)
        unsure |= other & (np.abs(his[k] - best_lo) <= defaults.SCREEN_UNSURE)
    return close, unsure


def _bounds(
    tol: Tolerance, a: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float bounds of ``tol.window(a, b, times=MISCONCEPTION_MARGIN)`` (``b`` defaults
    to ``a``: the full chain alone), and the slack within which a value is too close
    to a bound to tell from floats."""
    lo, hi = (a, a) if b is None else (np.minimum(a, b), np.maximum(a, b))
    amount = float(tol.amount) * defaults.MISCONCEPTION_MARGIN
    t = amount if tol.mode == "absolute" else amount * np.maximum(np.abs(lo), np.abs(hi))
    return lo - t, hi + t, defaults.SCREEN_UNSURE * np.maximum(1.0, np.abs(a))


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


class _Unstacked:
    """The screen's arrays of the draws that passed as one matrix (a row a value, a
    column a draw), to take one draw's chains out as plain floats, as FULL gives them,
    at C speed; and, for draws that passed the rounded chain's screen, that chain as
    whole units of the last place."""

    def __init__(
        self,
        passed: np.ndarray,
        full: Mapping[str, np.ndarray],
        slip_values: Mapping[Any, tuple[np.ndarray, Mapping[str, np.ndarray]]],
        rounded: tuple[np.ndarray, Mapping[str, np.ndarray]] | None,
        decimals: int,
    ) -> None:
        self.rounded_clear = rounded is not None
        """Whether the draws also passed the rounded chain's screen."""
        self.column = {int(k): c for c, k in enumerate(passed)}
        self.parts: list[tuple[Any, list[str], slice]] = []
        rows: list[np.ndarray] = []
        values: Mapping[str, np.ndarray]
        mine = {label: v[passed] for label, v in full.items()}
        for key, values in (("full", mine), *_taken(slip_values, passed).items()):
            self.parts.append((key, list(values), slice(len(rows), len(rows) + len(values))))
            rows += values.values()
        self.matrix = np.stack(rows)
        self.decimals = decimals
        self.units: np.ndarray | None = None
        if rounded is not None:
            held, chain = rounded
            pos = np.searchsorted(held, passed)
            self.labels = list(full)
            self.whole = [label_name(label) == "class" for label in self.labels]
            scale = 10.0**decimals
            self.units = np.stack(
                [
                    np.rint(chain[label][pos] * (1.0 if whole else scale))
                    for label, whole in zip(self.labels, self.whole, strict=True)
                ]
            ).astype(np.int64)

    def draw(self, index: int) -> Screened:
        column = self.matrix[:, self.column[index]].tolist()
        full, *slip_values = (
            (key, dict(zip(labels, column[rows], strict=True))) for key, labels, rows in self.parts
        )
        return Screened(full[1], dict(slip_values), self.rounded_clear, self._rounded(index))

    def _rounded(self, index: int) -> dict[str, Decimal] | None:
        """The rounded chain of draw ``index`` in exact decimals, as :class:`Rounded` gives
        it: k units are ``k × 10**-decimals`` (a class, a whole number). None when a
        value rounds to zero: its sign (-0.000) is the exact value's, which the floats
        need not keep."""
        if self.units is None:
            return None
        units = self.units[:, self.column[index]].tolist()
        if 0 in units:
            return None
        d = self.decimals
        return {
            label: Decimal(u) if whole else _in_decimals(u, d)
            for label, whole, u in zip(self.labels, self.whole, units, strict=True)
        }


@functools.lru_cache(maxsize=1 << 16)
def _in_decimals(units: int, decimals: int) -> Decimal:
    """``units`` units of the last place, as Rounded's quantize gives them (the
    exponent -decimals)."""
    return Decimal(units).scaleb(-decimals)
