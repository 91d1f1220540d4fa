"""Well-posedness: whether a drawn problem is fit to be asked."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.diagnosis import Redo, redo_from, run_mistake
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.evaluate import evaluate_prepared, prepare
from lstm_exam.generator.core.misconceptions import (
    GATE_NAMES,
    LIKELY_HIDDEN,
    Misconception,
    Slip,
    slip_targets,
    slips_of,
)
from lstm_exam.generator.core.notation import HEAD, KINDS, Kind, label_name, make_label
from lstm_exam.generator.core.problem import Problem, cell_count
from lstm_exam.generator.core.solution import Solution, Value, asked_labels, combine
from lstm_exam.generator.core.tolerance import Tolerance


def check_problem(
    problem: Problem, tol: Tolerance, screened: Screened | None = None
) -> tuple[Solution | None, str | None]:
    """Solve a drawn problem and say why it is not well-posed (None when it is).

    The rules (thresholds in :mod:`defaults`):

    * no pre-activation (``a_*``) nor cell state beyond ``MAX_PREACTIVATION``:
      no gate saturated;
    * no asked value within ``KNIFE_EDGE`` of a unit in the last place of a
      rounding boundary, in the full chain and in the rounded chain (computed from the
      rounded values before it, as a student's calculator does);
    * every misconception of the registry that can show in this problem, made in every
      gate at once and in each gate alone, moves the first asked values downstream of
      it farther than ``MISCONCEPTION_MARGIN`` tolerances from both chains' correct
      values: computed in the full chain, and in the rounded chain of a student who
      makes the slip and rounds every step.

    The cheap checks on the full chain come first; the exact-decimal chain is
    computed only for a draw that passes them. ``screened`` holds the full chain
    and every misconception's chain of a draw that already passed those checks
    (see :mod:`search`); they are then not done again.
    """
    if screened is None:
        g = prepare(problem.givens)
        full = evaluate_prepared(problem.kind, g)
        why = _saturated_or_knife_edge(problem, full)
        if why:
            return None, why
        # misconceptions: first against the full chain alone (its window lies inside the
        # exact one, so what it refuses is refused), then the exact-decimal chain
        slip_values: dict[Slip, dict] = {}
        why = _hidden_misconception(problem, full, None, g, tol, slip_values)
        if why:
            return None, why
    else:  # every misconception's chain is at hand: nothing is evaluated from the givens
        full = dict(screened.full)
        if screened.rounded_clear:  # the screen judged the rest too, in the same order
            return combine(
                problem.kind,
                full,
                problem.givens,
                problem.decimals,
                problem.show_steps,
                screened.rounded,
            ), None
        g = {}
        slip_values = {key: dict(values) for key, values in screened.slip_values.items()}
    solution = combine(problem.kind, full, problem.givens, problem.decimals, problem.show_steps)
    if "class[1]" in full and _close_call(problem, solution, tol):
        return None, "close call"
    why = _hidden_misconception(problem, full, solution.values, g, tol, slip_values)
    if why is None:
        why = _in_the_rounded_chain(problem, solution, tol)
    return solution, why


def _in_the_rounded_chain(problem: Problem, solution: Solution, tol: Tolerance) -> str | None:
    """Why the rounded chain a student follows makes the draw ill-posed, or None: an
    asked value on a knife-edge when computed from the rounded values before it, or a
    slip that lands inside the margin when the student rounds every step."""
    if problem.kind is Kind.PARAMETERS:
        return None  # whole numbers: nothing is rounded
    rounded = {lab: v.rounded for lab, v in solution.values.items()}
    g = prepare(problem.givens, Rounded(problem.decimals))
    # each asked value as the formula gives it from the rounded values before it
    raw: dict = {}
    finer = Rounded(problem.decimals + 12)  # all but unrounded (the screen's floats agree)
    evaluate_prepared(problem.kind, g, finer, overrides=rounded, computed=raw)
    scale = Decimal(10) ** problem.decimals
    for label in solution.asked:
        frac = (abs(raw[label]) * scale) % 1
        if abs(frac - Decimal("0.5")) < Decimal(repr(defaults.KNIFE_EDGE)):
            return "knife-edge"
    ch = Rounded(problem.decimals)

    def window(label: str) -> tuple[Decimal, Decimal]:
        v = solution.values[label]
        return tol.window(v.full, v.rounded, times=defaults.MISCONCEPTION_MARGIN)

    hidden = _first_hidden(problem, lambda c: c.evaluate(problem.kind, g, rounded, ch), window)
    return None if hidden is None else f"{hidden.why} in the rounded chain"


def _first_hidden(
    problem: Problem,
    values_of: Callable[[SlipCheck], Mapping[str, Any]],
    window: Callable[[str], tuple[Any, Any]],
) -> SlipCheck | None:
    """The first misconception check (:func:`slip_checks`) whose values
    (``values_of(check)``) lie inside the margin (``window(label)``, asked once a label)
    where the check says a slip hides, or None. One loop for both chains."""
    windows: dict[str, tuple[Any, Any]] = {}
    for check in slip_checks(problem):
        values = values_of(check)
        inside = []
        for label in check.labels:
            if label not in windows:
                windows[label] = window(label)
            lo, hi = windows[label]
            inside.append(lo <= values[label] <= hi)
        if check.hidden(inside):
            return check
    return None


@dataclass(frozen=True, slots=True)
class Screened:
    """A draw's full chain and each misconception's, from a screen it passed."""

    full: Mapping[str, float]
    slip_values: Mapping[Slip, Mapping[str, float]]
    rounded_clear: bool = False
    """The screen also judged the rest of :func:`check_problem` (the close call, the
    misconceptions against the window of both chains and :func:`_in_the_rounded_chain`,
    in that order, in floats clear of every tie and bound, so exactly as they would):
    it passed, and only its solution is left to compute."""
    rounded: Mapping[str, Decimal] | None = None
    """The rounded chain, from the screen's floats (clear of every tie, so each value
    is exactly the decimal :class:`Rounded` gives), if it has it."""


def _saturated_or_knife_edge(problem: Problem, full: Mapping[str, float]) -> str | None:
    for label, v in full.items():
        name = label_name(label)
        if (name.startswith("a_") or name == "C_t") and abs(v) > defaults.MAX_PREACTIVATION:
            return "saturated"
    scale = 10**problem.decimals
    for label in asked_labels(problem.kind, list(full), problem.show_steps):
        frac = (abs(full[label]) * scale) % 1
        if abs(frac - 0.5) < defaults.KNIFE_EDGE:
            return "knife-edge"
    return None


def _close_call(problem: Problem, solution: Solution, tol: Tolerance) -> bool:
    """Whether the two likeliest classes lie so close that a tolerated slip could swap them."""
    windows = []
    for k in range(1, problem.classes + 1):
        v = solution.values[f"prob[{k}]"]
        windows.append(tol.window(v.full, v.rounded, times=defaults.MISCONCEPTION_MARGIN))
    best = int(solution.values["class[1]"].rounded) - 1
    return any(windows[k][1] >= windows[best][0] for k in range(len(windows)) if k != best)


@functools.lru_cache(maxsize=256)
def _likely_first(kind: Kind, steps: int, old_cell: bool, hidden: int) -> tuple[Slip, ...]:
    def rank(item: Slip) -> tuple[int, int, int]:
        tw, t, gate = item
        hides = LIKELY_HIDDEN.index(tw) if tw in LIKELY_HIDDEN else len(LIKELY_HIDDEN)
        return hides, -t, gate is not None  # the slip in all gates, then in each

    return tuple(sorted(slips_of(kind, steps, old_cell, hidden), key=rank))


def _hidden_misconception(
    problem: Problem,
    full: Mapping[str, float],
    rounded: Mapping[str, Value] | None,
    givens: dict,
    tol: Tolerance,
    slip_values: dict[Slip, dict],
) -> str | None:
    """The first misconception whose answer lands inside the margin, or None.

    Without ``rounded`` the window is the full chain's alone (a part of the exact
    window); ``slip_values`` caches each misconception's chain between the two passes.
    """

    def values_of(check: SlipCheck) -> Mapping[str, Any]:
        values = slip_values.get(check.key)
        if values is None:
            values = slip_values[check.key] = check.evaluate(problem.kind, givens, full)
        return values

    def window(label: str) -> tuple[float, float]:
        v = full[label]
        r: Decimal | float = rounded[label].rounded if rounded is not None else v
        exact_lo, exact_hi = tol.window(v, r, times=defaults.MISCONCEPTION_MARGIN)
        # float bounds of the exact window: off by 1e-16, far inside the margin
        return float(exact_lo), float(exact_hi)

    hidden = _first_hidden(problem, values_of, window)
    return None if hidden is None else hidden.why


@dataclass(frozen=True, slots=True)
class SlipCheck:
    """One misconception at one step, as well-posedness checks it."""

    misconception: Misconception
    step: int
    gate: str | None
    """The one gate it is made in (None: every gate it can be made in)."""
    every: bool
    """Whether it must show in every first value after it (the slip as a whole: in every
    gate, or in the problem's one gate), or in one at least (in one gate of several)."""
    until: int | None
    """The last step to redo (None: through the output layer)."""
    start: int
    """The first step to redo (T + 1: the output layer alone)."""
    labels: tuple[str, ...]
    """The asked values it shows in first: each must land outside the margin."""

    def hidden(self, inside: list[bool]) -> bool:
        """Whether the slip hides, from whether each of ``labels`` lands inside the margin.

        A slip in every gate at once must show in every first value after it (every
        cell, every path); a slip in one gate, in one of them at least (its own gate's
        cells move by its own numbers, the other gates' not at all)."""
        return any(inside) if self.every else all(inside)

    @property
    def key(self) -> Slip:
        return self.misconception, self.step, self.gate

    @property
    def why(self) -> str:
        where = f" in {GATE_NAMES[self.gate][1]}" if self.gate and not self.every else ""
        return f"misconception {self.misconception.name}{where} invisible"

    def evaluate(self, kind: Kind, givens: Mapping, full: Mapping, chain: Any = FULL) -> dict:
        """The chain with the misconception, redone only where it changes (from ``full``,
        the chain without it in ``chain``)."""
        return run_mistake(kind, givens, self.key, chain, redo=Redo(full, self.start, self.until))


def slip_checks(problem: Problem) -> tuple[SlipCheck, ...]:
    """The misconceptions to check in a draw, the likeliest to hide first."""
    return _slip_checks(
        problem.kind,
        problem.steps,
        "C_prev" in problem.givens,
        problem.show_steps,
        problem.hidden,
        problem.classes,
    )


@functools.lru_cache(maxsize=256)
def _slip_checks(
    kind: Kind, steps: int, old_cell: bool, show_steps: bool, hidden: int, classes: int
) -> tuple[SlipCheck, ...]:
    stepped = KINDS[kind].stepped
    out = []
    slips = _likely_first(kind, steps, old_cell, hidden)
    for tw, t, gate in slips:
        every = gate is None or sum(1 for s in slips if s[:2] == (tw, t)) == 1
        targets = slip_targets(kind, show_steps, tw, gate)
        if not every and targets <= _own_quantities(gate or ""):
            continue  # it shows in its gate's own values, as the slip in every gate does
        labels = tuple(
            make_label(name, cell, None if name in HEAD or not stepped else t)
            for name in sorted(targets)
            for cell in range(1, cell_count(hidden, classes, name) + 1)
        )
        # redo from step t (the output layer alone for its own slips) to where it shows
        until = None if targets & HEAD else t
        start = redo_from(kind, steps, (tw, t, gate))
        out.append(SlipCheck(tw, t, gate, every, until, start, labels))
    return tuple(out)


def _own_quantities(gate: str) -> set[str]:
    """A gate's own values, which no other gate's slip changes."""
    return {f"Wz_{gate}", f"a_{gate}", GATE_NAMES[gate][1], f"da_{gate}"}


def no_well_posed(
    source: str,
    number: int,
    kind: str,
    rejected: Counter,
    draws: int = defaults.MAX_DRAWS,
    sheet: bool = False,
) -> InputError:
    """The error of a problem no draw of which was well-posed within a student's budget:
    ``draws`` draws of it (``sheet``: cut short by the sheet's ``MAX_SHEET_DRAWS``, else
    ``MAX_DRAWS``), refused for the reasons ``rejected`` counts (as :func:`check_problem`
    words them); with the advice the refusals call for.

    >>> no_well_posed("s.toml", 2, "forget_gate", Counter({"saturated": 5})).line()
    's.toml: problems[2]: cannot draw a well-posed variant of problem 2: none of 3000 draws of this forget_gate was well-posed (the most one problem may take), 5 refused as saturated; narrow the ranges of weights and values: the gates saturate'
    """
    why = max(rejected, key=lambda w: rejected[w], default=None) or ""
    if kind == "parameters":  # its sizes come from fixed ranges: no spec can widen them
        advice = (
            f"its sizes are drawn from fixed ranges (the refusals: {why or 'none'}), "
            "so this is a fault of lstm-exam: please report it"
        )
    elif why == "saturated":
        advice = "narrow the ranges of weights and values: the gates saturate"
    elif why == "knife-edge":
        advice = (
            "give the values more decimals, or ask fewer values (fewer steps or cells, "
            "show_steps = false): answers fall on rounding boundaries"
        )
    elif why.startswith("misconception") or why == "close call":
        advice = (
            "the tolerance is too wide for the usual mistakes to show: narrow it, "
            "or widen the ranges of weights and values"
        )
    else:
        advice = "widen the ranges of weights and values"
    if sheet:
        budget = (
            f"a student's sheet may take {defaults.MAX_SHEET_DRAWS} draws in all, and the "
            f"problems before it left {draws} for this {kind}, none well-posed"
        )
        advice += "; or put fewer hard problems on one sheet"
    else:
        budget = (
            f"none of {draws} draws of this {kind} was well-posed (the most one problem may take)"
        )
    if why:
        budget += f", {rejected[why]} refused as {why}"
    return InputError(
        source,
        f"problems[{number}]",
        f"cannot draw a well-posed variant of problem {number}: {budget}; {advice}",
    )


def hidden_mistakes(problem: Problem, tol: Tolerance) -> list[tuple[SlipCheck, str, bool]]:
    """The usual mistakes that hide in a problem no draw chose (a ``given`` one): each
    check of :func:`slip_checks` that hides, the first value it hides in and whether that
    value lands inside the accepted window itself (else: within ``MISCONCEPTION_MARGIN``
    tolerances of it), the mistake computed in both chains as :func:`check_problem` does."""
    solution = problem.solve()
    full = {lab: v.full for lab, v in solution.values.items()}
    g = prepare(problem.givens)
    rounded = {lab: v.rounded for lab, v in solution.values.items()}
    ch = Rounded(problem.decimals)
    g_rounded = prepare(problem.givens, ch) if problem.kind is not Kind.PARAMETERS else None
    out = []
    for check in slip_checks(problem):
        chains = [check.evaluate(problem.kind, g, full)]
        if g_rounded is not None:
            chains.append(check.evaluate(problem.kind, g_rounded, rounded, ch))
        where: list[tuple[str, bool]] = []  # each label it lands in the margin of
        for label in check.labels:
            v = solution.values[label]
            lo, hi = tol.window(v.full, v.rounded)
            lo2, hi2 = tol.window(v.full, v.rounded, times=defaults.MISCONCEPTION_MARGIN)
            got = [
                Decimal(repr(x)) if isinstance(x, float) else x for x in (c[label] for c in chains)
            ]
            if any(lo2 <= x <= hi2 for x in got):
                where.append((label, any(lo <= x <= hi for x in got)))
        if where and check.hidden([lab in dict(where) for lab in check.labels]):
            label, accepted = max(where, key=lambda w: w[1])
            out.append((check, label, accepted))
    return out


def given_notes(number: int, problem: Problem, tol: Tolerance, most: int = 6) -> list[str]:
    """What `generate` and `quiz` say of a ``given`` problem whose usual mistakes hide:
    one line a mistake (and gate), naming it and the first value it cannot be told apart
    in; past ``most`` lines, one more naming the rest."""
    seen: dict[tuple[Misconception, str | None], list[tuple[str, bool]]] = {}
    for check, label, accepted in hidden_mistakes(problem, tol):
        seen.setdefault((check.misconception, check.gate), []).append((label, accepted))
    notes = []
    for (misconception, gate), where in list(seen.items())[:most]:
        label, accepted = max(where, key=lambda w: w[1])  # inside the window first
        lands = (
            "within the accepted window: it cannot be told apart (full credit)"
            if accepted
            else f"within {defaults.MISCONCEPTION_MARGIN} tolerances of the right answer: "
            "it is hard to tell apart"
        )
        n = len(where) - 1
        more = f" (and at {n} more step{'s' if n > 1 else ''})" if n else ""
        in_gate = f" in the {GATE_NAMES[gate][0]}" if gate else ""
        notes.append(
            f"problem {number} (given): the mistake '{misconception.value.summary}' ({misconception.name})"
            f"{in_gate} lands on {label}{more} {lands}"
        )
    rest = sorted({tw.name for tw, _ in list(seen)[most:]})
    if rest:
        notes.append(
            f"problem {number} (given): more usual mistakes hide too (in all gates or "
            f"one): " + ", ".join(rest)
        )
    return notes
