"""The search for well-posed draws, for many students at once.

A class's variants are searched problem by problem: every student still
without a well-posed draw of the problem draws their next one, and a *screen*
runs the cheap checks of :func:`variants.check_problem` (saturation,
knife-edges, every misconception against the full chain) on all these draws at
once, with the one evaluator on arrays (:class:`solve.Batch`, equal to the
full chain bit for bit). A draw the screen refuses is refused as
``check_problem`` would refuse it; every other draw goes through
``check_problem`` itself, so the variants are exactly those of
:func:`variants.make_variant`, student by student (tests check this).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import defaults
from .errors import InputError
from .notation import Kind, label_name
from .problem import Problem
from .roster import Student
from .solve import Batch, Solution, asked_labels, evaluate_prepared
from .spec import ProblemSpec, Tolerance, Worksheet
from .variants import (
    Screened,
    Stream,
    Variant,
    VariantProblem,
    check_problem,
    draw_problem,
    twist_checks,
    variant_code,
)

BATCH = Batch()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The screen's word on one draw."""

    why: str | None = None
    """Refused, and why (as check_problem words it)."""
    screened: Screened | None = None
    """Passed the cheap checks: the chains check_problem goes on with."""


UNSURE = Verdict()
"""Too close to a bound to tell from floats: check_problem decides."""


def make_variants(ws: Worksheet, seed: str, students: Sequence[Student]) -> list[Variant]:
    """:func:`variants.make_variant` for every student: the same variants, searched together."""
    per_student: list[list[VariantProblem]] = [[] for _ in students]
    rejected = [Counter() for _ in students]
    for number, spec in enumerate(ws.problems, start=1):
        if spec.given is not None:
            vp = VariantProblem(number, spec.points, spec.given, spec.given.solve(), 1)
            for mine in per_student:
                mine.append(vp)
            continue
        for k, vp in _search(ws, seed, students, number, spec, rejected):
            per_student[k].append(vp)
    return [
        Variant(st, variant_code(seed, ws.slug, st.student_id), tuple(mine), refused)
        for st, mine, refused in zip(students, per_student, rejected, strict=True)
    ]


def _search(
    ws: Worksheet,
    seed: str,
    students: Sequence[Student],
    number: int,
    spec: ProblemSpec,
    rejected: list[Counter],
) -> list[tuple[int, VariantProblem]]:
    """Each student's first well-posed draw of one problem.

    Each round screens the next draws of every student still searching; as fewer
    students are left, each draws more at once (the draws past the one taken are
    dropped unseen), so a round stays large and the rounds few.
    """
    found = []
    pending = list(range(len(students)))
    slug = ws.slug
    draw = 1
    while pending and draw <= defaults.MAX_DRAWS:
        ahead = min(
            defaults.SEARCH_AHEAD, len(students) // len(pending), defaults.MAX_DRAWS + 1 - draw
        )
        draws = range(draw, draw + max(1, ahead))
        problems = [
            draw_problem(
                spec,
                ws.decimals,
                Stream(seed, slug, students[k].student_id, f"q{number}", f"draw{d}"),
            )
            for k in pending
            for d in draws
        ]
        verdicts = iter(zip(problems, screen(problems, ws.tolerance), strict=True))
        still = []
        for k in pending:
            mine = [next(verdicts) for _ in draws]
            taken = _first_well_posed(mine, draws, ws.tolerance, rejected[k])
            if taken is None:
                still.append(k)
            else:
                problem, solution, d = taken
                found.append((k, VariantProblem(number, spec.points, problem, solution, d)))
        pending = still
        draw += len(draws)
    if not pending:
        return found
    raise InputError(
        ws.source,
        f"problems[{number}]",
        f"no well-posed {spec.kind} variant in {defaults.MAX_DRAWS} draws; "
        "widen the ranges of weights and values",
    )


def _first_well_posed(
    screened: list[tuple[Problem, Verdict]], draws: range, tol: Tolerance, rejected: Counter
) -> tuple[Problem, Solution, int] | None:
    """The first well-posed of a student's draws, counting why each before it was refused."""
    for (problem, verdict), d in zip(screened, draws, strict=True):
        why = verdict.why
        if why is None:
            solution, why = check_problem(problem, tol, verdict.screened)
            if solution is not None and why is None:
                return problem, solution, d
        rejected[why] += 1
    return None


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

    def refuse(bad: np.ndarray, unsure: np.ndarray | None, reason: str) -> None:
        for k in np.flatnonzero(open_ & bad):
            why[k] = reason
        open_[bad] = False
        if unsure is not None:
            open_[unsure] = False

    # the same order as check_problem: saturation, knife-edges, then misconceptions
    saturated = np.zeros(n, dtype=bool)
    for label, v in full.items():
        name = label_name(label)
        if name.startswith("a_") or name == "C_t":
            saturated |= np.abs(v) > defaults.MAX_PREACTIVATION
    refuse(saturated, None, "saturated")
    scale = 10**first.decimals
    knife = np.zeros(n, dtype=bool)
    for label in asked_labels(first.kind, list(full), first.show_steps):
        knife |= np.abs((np.abs(full[label]) * scale) % 1 - 0.5) < defaults.KNIFE_EDGE
    refuse(knife, None, "knife-edge")
    twisted = {}
    for check in twist_checks(first):
        if not open_.any():
            break
        values = check.evaluate(first.kind, g, full, BATCH)
        twisted[check.key] = {label: values[label] for label in check.labels}
        inside = np.zeros(n, dtype=bool)
        unsure = np.zeros(n, dtype=bool)
        for label in check.labels:
            v, x = full[label], values[label]
            lo, hi = _window(tol, v)
            slack = defaults.SCREEN_UNSURE * np.maximum(1.0, np.abs(v))
            inside |= (lo + slack <= x) & (x <= hi - slack)
            unsure |= (np.abs(x - lo) <= slack) | (np.abs(x - hi) <= slack)
        refuse(inside, unsure, check.why)
    # still open: every check passed, clear of every bound
    passed = _Unstacked(full, twisted) if open_.any() else None
    return [
        Verdict(why=why[k]) if why[k] else Verdict(screened=passed.draw(k)) if open_[k] else UNSURE
        for k in range(n)
    ]


def _window(tol: Tolerance, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float bounds of ``tol.window(v, v, times=MISCONCEPTION_MARGIN)``."""
    amount = float(tol.amount) * defaults.MISCONCEPTION_MARGIN
    t = amount if tol.mode == "absolute" else amount * np.abs(v)
    return v - t, v + t


def stack(gs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The givens of many draws, prepared for :data:`BATCH`: every number an array
    over the draws, each entry ``float(d)`` as :func:`solve.prepare` makes it."""
    return {name: _stack([g[name] for g in gs]) for name in gs[0]}


def _stack(items: list[Any]) -> Any:
    if isinstance(items[0][0], (list, tuple)):
        return [_stack(list(parts)) for parts in zip(*items, strict=True)]
    return list(np.array(items, dtype=float).T)  # one array per entry of a vector


class _Unstacked:
    """The screen's arrays as one matrix (a row a value, a column a draw), to take
    one draw's chains out as plain floats, as FULL gives them, at C speed."""

    def __init__(self, full: Mapping[str, np.ndarray], twisted: Mapping) -> None:
        self.parts: list[tuple[Any, list[str], slice]] = []
        rows: list[np.ndarray] = []
        for key, values in (("full", full), *twisted.items()):
            self.parts.append((key, list(values), slice(len(rows), len(rows) + len(values))))
            rows += values.values()
        self.matrix = np.stack(rows)

    def draw(self, k: int) -> Screened:
        column = self.matrix[:, k].tolist()
        full, *twisted = (
            (key, dict(zip(labels, column[rows], strict=True))) for key, labels, rows in self.parts
        )
        return Screened(full[1], dict(twisted))
