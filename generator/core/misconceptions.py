"""The misconceptions: where each applies, how it reads, and the formulas a slip changes.

The registry itself (:mod:`~lstm_exam.generator.core.misconception_registry`: one entry
a misconception, its formula and its words) is read through this module, which also
says at which steps and in which gates each can be made (:func:`applicable_slips`),
where it shows first (:func:`slip_targets`), its sentence for a quantity
(:func:`explain`) and the formulas a slip puts in place (:func:`slip_formulas`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from lstm_exam.generator.core.formulas import Formula
from lstm_exam.generator.core.misconception_registry import (
    ROUNDING_SLIPS,
    STRUCTURAL,
    SUMMARY_NAMES,
    Misconception,
    MisconceptionInfo,
    RoundingSlip,
    register,
)
from lstm_exam.generator.core.notation import FEEDS, HEAD, KINDS, Kind

if TYPE_CHECKING:
    from lstm_exam.generator.core.problem import Problem

__all__ = [
    "GATE_NAMES",
    "LIKELY_HIDDEN",
    "ROUNDING_SLIPS",
    "STRUCTURAL",
    "SUMMARY_NAMES",
    "Misconception",
    "MisconceptionInfo",
    "RoundingSlip",
    "Slip",
    "applicable_misconceptions",
    "applicable_slips",
    "can_show",
    "explain",
    "gate_of",
    "gates_of",
    "register",
    "slip_alters",
    "slip_formulas",
    "slip_targets",
]

#: Each gate's letter, its name in a sentence and its value's name.
GATE_NAMES = {
    "f": ("forget gate f_t", "f_t"),
    "i": ("input gate i_t", "i_t"),
    "C": ("candidate C~_t", "C_tilde"),
    "o": ("output gate o_t", "o_t"),
}


def gate_of(name: str) -> str | None:
    """The gate a quantity of one gate belongs to (``a_f``, ``f_t``, ``da_o``), or None."""
    for g, (_, act) in GATE_NAMES.items():
        if name in (act, f"Wz_{g}", f"a_{g}", f"da_{g}"):
            return g
    return None


@functools.lru_cache(maxsize=64)
def gates_of(misconception: Misconception) -> tuple[str, ...]:
    """The gates a misconception of the gates can be made in one at a time (it alters one
    quantity of each of several gates); () for any other.

    >>> gates_of(Misconception.NO_BIAS), gates_of(Misconception.SIGN_SLIP), gates_of(Misconception.H_NO_TANH)
    (('f', 'i', 'C', 'o'), ('f', 'i', 'o'), ())
    """
    gates = tuple(gate_of(n) for n in misconception.alters)
    if None in gates or len(set(gates)) < 2:
        return ()
    return tuple(g for g in GATE_NAMES if g in gates)


def slip_alters(misconception: Misconception, gate: str | None) -> tuple[str, ...]:
    """The quantities a slip alters: all the misconception's, or one gate's."""
    return (
        misconception.alters
        if gate is None
        else tuple(n for n in misconception.alters if gate_of(n) == gate)
    )


@functools.lru_cache(maxsize=256)
def slip_formulas(misconception: Misconception, gate: str | None = None) -> dict[str, Formula]:
    """The formulas a slip puts in place, by quantity: all the misconception's, or
    (``gate``) those of one gate's quantities.

    >>> sorted(slip_formulas(Misconception.NO_BIAS, "i").items())
    [('a_i', Formula(quantity='a_i', expr=Name(name='Wz_i'), text='a_i := Wz_i', reads=frozenset({'Wz_i'})))]
    """
    return {
        f.quantity: f
        for f in misconception.value.formulas
        if gate is None or gate_of(f.quantity) == gate
    }


@functools.lru_cache(maxsize=4096)
def explain(misconception: Misconception, name: str, gate: str | None = None) -> str:
    """A misconception in a student's words, for the quantity ``name`` it shows in: made
    in one ``gate`` alone or everywhere, and what it carries into.

    >>> explain(Misconception.NO_BIAS, "f_t", "f")
    'in the forget gate f_t you left out the bias b_f: a_f = W_f·z'
    >>> explain(Misconception.NO_BIAS, "h_t", "C")
    'in the candidate C~_t you left out the bias b_C: a_C = W_C·z, which carries into h_t'
    >>> explain(Misconception.SIGN_SLIP, "C_t")
    'your gates are 1 − σ(a): a sign slip in e^(−a), which carries into C_t'
    """
    m = misconception.value
    if gate is not None and m.feedback_one is not None:
        words, act = GATE_NAMES[gate]
        # replace, not format: the sentences hold braces of their own (h_{t-1})
        text = m.feedback_one.replace("{gate}", words).replace("{g}", gate)
        text = text.replace("{act}", act)
    else:
        text = m.feedback
    # what the slip alters, and in the gates it was made in, each quantity up to the gate
    gates = (gate,) if gate else gates_of(misconception)
    own = {
        *slip_alters(misconception, gate),
        *(n for g in gates for n in (f"Wz_{g}", f"a_{g}", GATE_NAMES[g][1])),
    }
    return text if name in own else f"{text}, which carries into {name}"


def _first_asked(name: str, asked: set[str], order: set[str]) -> set[str]:
    """The asked quantities first reached from ``name`` on each path downstream."""
    if name in asked:
        return {name}
    found: set[str] = set()
    for nxt in FEEDS.get(name, ()):
        if nxt in order:
            found |= _first_asked(nxt, asked, order)
    return found


def applicable_misconceptions(problem: Problem) -> tuple[tuple[Misconception, int], ...]:
    """The misconceptions (and steps) that can show in this problem's answers."""
    return _applicable(problem.kind, problem.steps, "C_prev" in problem.givens, problem.hidden)


def can_show(misconception: Misconception, hidden: int) -> bool:
    """Whether a misconception can change an answer at all in a problem of ``hidden``
    cells (the registry's ``min_hidden``): one that cannot gives the right answer there,
    so it is no mistake and no check looks for it.

    >>> can_show(Misconception.NO_TRANSPOSE, 1), can_show(Misconception.NO_TRANSPOSE, 2)
    (False, True)
    """
    return hidden >= misconception.value.min_hidden


@functools.lru_cache(maxsize=256)
def _applicable(
    kind: Kind, steps: int, old_cell: bool, hidden: int
) -> tuple[tuple[Misconception, int], ...]:
    order = set(KINDS[kind].order)
    out = []
    for tw in Misconception:
        m = tw.value
        if not can_show(tw, hidden):
            continue
        if m.from_step > 1:  # a slip in the state one step hands the next
            out += [(tw, t) for t in range(m.from_step, steps + 1)]
        elif m.needs_old_cell and not old_cell and not KINDS[kind].stepped:
            continue
        elif order & set(tw.alters) and HEAD.issuperset(tw.alters):
            out.append((tw, 1))  # the output layer comes once, after the steps
        elif order & set(tw.alters):
            out += [(tw, t) for t in range(1, steps + 1)]
    return tuple(out)


Slip = tuple[Misconception, int, str | None]
"""A misconception as a student makes it: at a step, in one gate or (None) in all."""


def applicable_slips(problem: Problem) -> tuple[Slip, ...]:
    """:func:`applicable_misconceptions`, each misconception of the gates also in each gate alone
    (first: one gate is the more common slip), where the problem has that gate; in a
    problem of one gate (forget_gate), in that gate alone."""
    return slips_of(problem.kind, problem.steps, "C_prev" in problem.givens, problem.hidden)


@functools.lru_cache(maxsize=256)
def slips_of(kind: Kind, steps: int, old_cell: bool, hidden: int) -> tuple[Slip, ...]:
    """:func:`applicable_slips` of a problem of this kind, steps, old cell and hidden size."""
    order = set(KINDS[kind].order)
    out: list[Slip] = []
    for tw, t in _applicable(kind, steps, old_cell, hidden):
        gates = [g for g in gates_of(tw) if order & set(slip_alters(tw, g))]
        out += [(tw, t, g) for g in gates]
        if len(gates) != 1:
            out.append((tw, t, None))
    return tuple(out)


#: The misconceptions that most often hide in a draw, in the order well-posedness checks them.
LIKELY_HIDDEN = tuple(
    sorted(
        (tw for tw in Misconception if tw.value.rank is not None), key=lambda tw: tw.value.rank or 0
    )
)


@functools.lru_cache(maxsize=1024)
def slip_targets(
    kind: Kind, show_steps: bool, misconception: Misconception, gate: str | None = None
) -> frozenset[str]:
    """The asked quantities a misconception (made in ``gate`` alone, or in all) shows in
    first, on each path downstream."""
    info = KINDS[kind]
    asked = set(info.asked) | (set(info.steps) if show_steps else set())
    order = set(info.order)
    return frozenset().union(
        *(_first_asked(n, asked, order) for n in slip_alters(misconception, gate))
    )
