"""What every quiz format asks (pure): each variant's problems as blanks with windows.

A blank is one asked value: its accepted window, exactly the key's (``Manifest.bounds``),
and the windows of the usual mistakes (the registry's misconceptions, each made as
diagnosis tries them: at a step, in one gate or in all), each with its feedback sentence.
A mistake's window is the acceptance rule applied to the mistaken value in both chains
(the slip computed at full precision, and by a student who makes it and rounds every
step); it never overlaps the correct window: well-posedness keeps the mistakes that must
show farther than ``MISCONCEPTION_MARGIN`` tolerances from it (asserted here), and a
mistake's window is trimmed to end one unit of the key's last place short of the correct
one (or left out where the mistake does not move the value that far).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.evaluate import prepare, redo_twisted
from lstm_exam.generator.core.misconceptions import applicable_slips, explain
from lstm_exam.generator.core.notation import HEAD, KINDS, label_name
from lstm_exam.generator.core.solution import Value
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant, VariantProblem
from lstm_exam.generator.variants.wellposed import twist_checks


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


def items(m: Manifest, v: Variant) -> tuple[Item, ...]:
    """Every problem of a variant as blanks (pure)."""
    return tuple(Item(v.student.student_id, v.code, vp, blanks(m, vp)) for vp in v.problems)


def blanks(m: Manifest, vp: VariantProblem) -> tuple[Blank, ...]:
    """The asked values of one problem, their windows and the mistakes' windows."""
    p, sol = vp.problem, vp.solution
    correct = {lab: m.bounds(lab, sol.values[lab]) for lab in sol.asked}
    found: dict[str, list[Mistake]] = {lab: [] for lab in sol.asked}
    must_show = {c.key: set(c.labels) for c in twist_checks(p) if c.every}
    step = Decimal(1).scaleb(-(m.decimals + defaults.BOUND_EXTRA_DIGITS))
    ch = Rounded(p.decimals)
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        g_full, g_rounded = prepare(p.givens), prepare(p.givens, ch)
    base_full = {lab: v.full for lab, v in sol.values.items()}
    base_rounded = {lab: v.rounded for lab, v in sol.values.items()}
    stepped = KINDS[p.kind].stepped
    for tw, t, gate in applicable_slips(p):
        # the chain redone from the slip on (the output layer alone for its own slips)
        start = p.steps + 1 if stepped and HEAD.issuperset(tw.alters) else t
        full = redo_twisted(
            p.kind,
            g_full,
            FULL,
            base_full,
            twist=tw,
            twist_step=t,
            start=start,
            until=None,
            twist_gate=gate,
        )
        rounded = redo_twisted(
            p.kind,
            g_rounded,
            ch,
            base_rounded,
            twist=tw,
            twist_step=t,
            start=start,
            until=None,
            twist_gate=gate,
        )
        shows = must_show.get((tw, t, gate), set())
        for lab in sol.asked:
            x = full.get(lab)
            if x is None or (x == base_full[lab] and rounded[lab] == base_rounded[lab]):
                continue  # the slip does not reach it
            c_lo, c_hi = correct[lab]
            slip = Value(float(full[lab]), rounded[lab])
            if lab in shows:  # well-posedness' promise, checked again
                v = sol.values[lab]
                lo2, hi2 = m.tolerance.window(
                    v.full, v.rounded, times=defaults.MISCONCEPTION_MARGIN
                )
                for x in (Decimal(repr(slip.full)), slip.rounded):
                    assert not lo2 <= x <= hi2, f"{lab}: {tw.name} hides in a well-posed problem"
            window = _beside(m.bounds(lab, slip), (c_lo, c_hi), step)
            if window is None or any(_overlap(window, (k.lo, k.hi)) for k in found[lab]):
                continue  # it does not move this value clear, or an earlier one explains it
            words = explain(tw, label_name(lab), gate)
            found[lab].append(Mistake(window[0], window[1], tw.name, words))
    out = []
    for lab in sol.asked:
        c_lo, c_hi = correct[lab]
        for k in found[lab]:
            assert not _overlap((k.lo, k.hi), (c_lo, c_hi)), f"{lab}: {k.mistake} overlaps"
        out.append(Blank(vp.label(lab), c_lo, c_hi, tuple(found[lab])))
    return tuple(out)


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
