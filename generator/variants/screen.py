"""The batch screen: well-posedness' cheap checks of many draws at once, on numpy arrays.

An accelerator of the class search, outside the solver's API: its chains
(:mod:`batch`) equal the scalar ones, and its windows are the acceptance rule's array
form (:func:`tolerance.array_window`), so what it refuses the scalar check refuses; what
floats cannot tell it leaves to the scalar check.
"""

from __future__ import annotations

import functools
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
from lstm_exam.generator.core.tolerance import Tolerance, array_verdict, array_window
from lstm_exam.generator.variants.batch import BATCH, RoundedBatch, stack
from lstm_exam.generator.variants.wellposed import Screened, SlipCheck, slip_checks


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
        hidden, unsure = _judge(
            check,
            values,
            lambda label, f=part.full: array_window(
                tol, f[label], times=defaults.MISCONCEPTION_MARGIN
            ),
        )
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
        x = values[label]
        inside, near_lo, near_hi, close = array_verdict(x, *bounds(label))
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
    chain = RoundedBatch.for_draws(problems)
    rounded = evaluate_prepared(first.kind, g, chain)
    open_[at[np.asarray(chain.ties, dtype=bool) & np.ones(len(at), dtype=bool)]] = False
    windows: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def window(label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if label not in windows:
            windows[label] = array_window(
                tol, full[label], rounded[label], defaults.MISCONCEPTION_MARGIN
            )
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
        lo, hi, _ = array_window(
            tol, full[f"prob[{k}]"], rounded[f"prob[{k}]"], defaults.MISCONCEPTION_MARGIN
        )
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
