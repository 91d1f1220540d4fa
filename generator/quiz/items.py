"""What every quiz format asks (pure): each variant's problems as blanks with windows.

A blank is one asked value: its accepted window, exactly the key's (``Manifest.bounds``),
and the windows of the usual mistakes (the registry's misconceptions, each made as
diagnosis tries them: at a step, in one gate or in all), each with its feedback sentence.
A mistake's window is the acceptance rule applied to the mistaken value in both chains
(the slip computed at full precision, and by a student who makes it and rounds every
step); it never overlaps the correct window: well-posedness keeps the mistakes that must
show farther than ``MISCONCEPTION_MARGIN`` tolerances from it in a drawn problem, and in
every problem (a ``given`` one too, whose hidden mistakes `generate` and `quiz` warn of) a
mistake's window is trimmed to end one unit of the key's last place short of the correct
one, or left out where the mistaken value lies inside the correct window (it cannot be
told apart: no feedback can name it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import Rounded
from lstm_exam.generator.core.diagnosis import Redo, redo_from, run_mistake
from lstm_exam.generator.core.evaluate import prepare
from lstm_exam.generator.core.misconceptions import Slip, applicable_slips, explain
from lstm_exam.generator.core.notation import Kind, is_whole, label_name
from lstm_exam.generator.core.tolerance import Tolerance, accept_window
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.batch import BATCH, RoundedBatch, stack
from lstm_exam.generator.variants.variant import Variant, VariantProblem
from lstm_exam.generator.variants.wellposed import slip_checks


@dataclass(frozen=True, slots=True)
class Mistake:
    """A usual mistake's answers to one blank: its window and what to tell the student."""

    lo: Decimal
    hi: Decimal
    mistake: str
    """The registry's id (``NO_BIAS``)."""
    feedback: str
    """The registry's sentence for it (:func:`misconceptions.explain`), plain text."""


@dataclass(frozen=True, slots=True)
class Blank:
    """One asked value of one variant's problem."""

    label: str
    """The worksheet label, ``q1.f_t[2]``."""
    lo: Decimal
    hi: Decimal
    """The key's accepted window (``Manifest.bounds``), both ends included."""
    mistakes: tuple[Mistake, ...]

    @property
    def centre(self) -> Decimal:
        """(lo + hi) / 2, exact."""
        return (self.lo + self.hi) / 2

    @property
    def halfwidth(self) -> Decimal:
        """(hi − lo) / 2, exact."""
        return (self.hi - self.lo) / 2


@dataclass(frozen=True, slots=True)
class Item:
    """One problem of one variant: a Moodle Cloze question, a Canvas group of questions."""

    variant: str
    """The variant's id, ``v001``."""
    code: str
    """Its variant code (as the key shows it)."""
    vp: VariantProblem
    blanks: tuple[Blank, ...]


def items(manifest: Manifest, variant: Variant) -> tuple[Item, ...]:
    """Every problem of a variant as blanks (pure)."""
    return class_items(manifest, [variant])[0]


def class_items(manifest: Manifest, variants: Sequence[Variant]) -> list[tuple[Item, ...]]:
    """Every variant's problems as blanks; each problem's mistakes computed for all the
    variants at once (:func:`blanks`)."""
    if not variants:
        return []
    columns = [
        blanks(manifest, [v.problems[k] for v in variants])
        for k in range(len(variants[0].problems))
    ]
    return [
        tuple(
            Item(v.student.student_id, v.code, vp, column[j])
            for vp, column in zip(v.problems, columns, strict=True)
        )
        for j, v in enumerate(variants)
    ]


def blanks(manifest: Manifest, vps: Sequence[VariantProblem]) -> list[tuple[Blank, ...]]:
    """The asked values of one problem in many variants (the same spec: one kind, one
    shape), with the key's windows and the mistakes' windows.

    Each mistake's chain is run (:func:`diagnosis.run_mistake`) once for all the
    variants, in the batch chains of :mod:`variants.batch` (``BATCH`` is the full chain
    bit for bit; ``RoundedBatch`` the rounded chain in floats, the variants it finds near
    a tie redone in exact decimals, as well-posedness computes them); the windows are then
    made exact (:func:`tolerance.accept_window`), per variant, only where a mistake moves
    a value clear of the correct window.
    """
    first = vps[0].problem
    asked = vps[0].solution.asked
    step = Decimal(1).scaleb(-(manifest.decimals + defaults.BOUND_EXTRA_DIGITS))
    correct = [{lab: manifest.bounds(lab, vp.solution.values[lab]) for lab in asked} for vp in vps]
    found: list[dict[str, list[Mistake]]] = [{lab: [] for lab in asked} for _ in vps]
    tried: list[set[tuple[str, float, float]]] = [set() for _ in vps]
    g = stack([vp.problem.givens for vp in vps]) if first.kind is not Kind.PARAMETERS else {}
    labels = list(vps[0].solution.values)
    values = [vp.solution.values for vp in vps]
    fulls = np.array([[v[lab].full for lab in labels] for v in values]).T
    roundeds = np.array([[float(v[lab].rounded) for lab in labels] for v in values]).T
    base_full = dict(zip(labels, fulls, strict=True))
    base_rounded = dict(zip(labels, roundeds, strict=True))
    bounds = np.array([[float(c[lab][j]) for lab in asked for j in (0, 1)] for c in correct]).T
    lows = dict(zip(asked, bounds[0::2], strict=True))
    highs = dict(zip(asked, bounds[1::2], strict=True))
    must_show = {c.key: set(c.labels) for c in slip_checks(first) if c.every}
    window_of = _window_rule(manifest.tolerance, first.decimals)
    rounded_batch = (
        RoundedBatch.for_draws([vp.problem for vp in vps])
        if first.kind is not Kind.PARAMETERS
        else None
    )
    for mistake in applicable_slips(first):
        tw, t, gate = mistake
        if rounded_batch is None:  # whole numbers, nothing rounded: no batch
            full = _each_variant(vps, mistake)
            rounded = full
        else:
            # the chain redone from the mistake on (the output layer alone for its own)
            start = redo_from(first.kind, first.steps, mistake)
            full = run_mistake(first.kind, g, mistake, BATCH, redo=Redo(base_full, start))
            ch = rounded_batch.fresh()
            rounded = run_mistake(first.kind, g, mistake, ch, redo=Redo(base_rounded, start))
            ties = np.asarray(ch.ties, dtype=bool) & np.ones(len(vps), dtype=bool)
            if ties.any():  # floats cannot tell how these round: the exact chain does
                rounded = _exact_rounded(vps, np.flatnonzero(ties), rounded, mistake, start)
        shows = must_show.get((tw, t, gate), set())
        name = tw.name
        for lab in asked:
            if lab not in full:
                continue
            x, r = np.asarray(full[lab], dtype=float), np.asarray(rounded[lab], dtype=float)
            moved = (x != base_full[lab]) | (r != base_rounded[lab])
            if lab not in shows and not moved.any():
                continue  # the slip does not reach this value
            # in floats, the variants whose mistaken value leaves the correct window (those
            # near its bounds too: the exact window decides)
            mid = (x + r) / 2
            near = 1e-9 * np.maximum(1.0, np.abs(mid))
            clear = moved & ((mid > highs[lab] - near) | (mid < lows[lab] + near))
            if not clear.any():
                continue
            words = explain(tw, label_name(lab), gate)
            whole = is_whole(lab)
            xs, rs = x.tolist(), r.tolist()
            for k in np.flatnonzero(clear).tolist():
                key = (lab, xs[k], rs[k])
                if key in tried[k]:
                    continue  # the same values as an earlier mistake's (one gate and all)
                tried[k].add(key)
                window = _beside(window_of(xs[k], rs[k], whole), correct[k][lab], step)
                if window is None:
                    continue  # it does not move this value clear
                lo, hi = window
                mine = found[k][lab]
                if any(lo <= e.hi and e.lo <= hi for e in mine):
                    continue  # an earlier mistake explains it
                mine.append(Mistake(lo, hi, name, words))
    out = []
    for vp, theirs, right in zip(vps, found, correct, strict=True):
        row = []
        for lab in asked:
            c_lo, c_hi = right[lab]
            for e in theirs[lab]:
                assert not _overlap((e.lo, e.hi), (c_lo, c_hi)), f"{lab}: {e.mistake} overlaps"
            row.append(Blank(vp.label(lab), c_lo, c_hi, tuple(theirs[lab])))
        out.append(tuple(row))
    return out


def _exact_rounded(
    vps: Sequence[VariantProblem],
    at: np.ndarray,
    rounded: dict[str, Any],
    mistake: Slip,
    start: int,
) -> dict[str, np.ndarray]:
    """A mistake's rounded chain (``rounded``, from :class:`RoundedBatch`) with the
    variants ``at`` redone in exact decimals, as well-posedness computes it: their
    float chain came near a tie (``RoundedBatch.ties``), which floats cannot round."""
    n = len(vps)
    out = {lab: np.array(np.broadcast_to(v, (n,)), dtype=float) for lab, v in rounded.items()}
    for k in at.tolist():
        p = vps[k].problem
        ch = Rounded(p.decimals)
        base = {lab: v.rounded for lab, v in vps[k].solution.values.items()}
        exact = run_mistake(p.kind, prepare(p.givens, ch), mistake, ch, redo=Redo(base, start))
        for lab in out:
            out[lab][k] = float(exact[lab])
    return out


def _each_variant(vps: Sequence[VariantProblem], mistake: Slip) -> dict[str, np.ndarray]:
    """A mistake's full chain variant by variant, as arrays over the variants."""
    runs = [run_mistake(vp.problem.kind, prepare(vp.problem.givens), mistake) for vp in vps]
    return {lab: np.array([float(r[lab]) for r in runs]) for lab in runs[0]}


def _window_rule(
    tol: Tolerance, decimals: int
) -> Callable[[float, float, bool], tuple[Decimal, Decimal]]:
    """``Manifest.bounds`` of a mistaken value, from its full-chain float and its
    rounded-chain float (a decimal of ``decimals`` places): the acceptance rule
    (:func:`tolerance.accept_window`; uncached: a mistake's value is seldom seen twice)."""
    places = Decimal(1).scaleb(-decimals)

    def window(full: float, rounded: float, whole: bool) -> tuple[Decimal, Decimal]:
        b = Decimal(repr(rounded)).quantize(places)
        if whole:
            return b, b
        return accept_window(full, b, tol, decimals)

    return window


def _overlap(a: tuple[Decimal, Decimal], b: tuple[Decimal, Decimal]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _beside(
    w: tuple[Decimal, Decimal], correct: tuple[Decimal, Decimal], step: Decimal
) -> tuple[Decimal, Decimal] | None:
    """A mistake's window ``w`` trimmed to end one ``step`` short of the correct window;
    None when the mistaken value itself lies in the correct window (it moved too little)."""
    lo, hi = w
    c_lo, c_hi = correct
    if not _overlap(w, correct):
        return w
    mid = (lo + hi) / 2
    if c_lo <= mid <= c_hi:
        return None
    if mid > c_hi:
        lo = c_hi + step
    else:
        hi = c_lo - step
    return (lo, hi) if lo <= hi else None


def weights(vps: Sequence[VariantProblem]) -> tuple[int, dict[int, int]]:
    """Integer weights of one blank, per problem number, in proportion to the points.

    Every blank of a problem weighs the same, and a problem's weights add up to its points
    times the returned scale (the smallest that makes every weight whole: 1 when every
    problem's points divide by its number of blanks).

    >>> from types import SimpleNamespace as S
    >>> vp = lambda n, pts, k: S(number=n, points=Decimal(pts), solution=S(asked=range(k)))
    >>> weights([vp(1, "3", 9), vp(2, "4", 4)])
    (3, {1: 1, 2: 3})
    """
    per = {vp.number: Fraction(vp.points) / max(1, len(vp.solution.asked)) for vp in vps}
    scale = 1
    for f in per.values():
        scale = scale * f.denominator // _gcd(scale, f.denominator)
    return scale, {n: int(f * scale) for n, f in per.items()}


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
