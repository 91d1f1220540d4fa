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
from collections.abc import Callable, Sequence

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.solution import Solution
from lstm_exam.generator.core.tolerance import Tolerance
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import ProblemSpec, Worksheet
from lstm_exam.generator.variants.draw_batch import draw_problems
from lstm_exam.generator.variants.screen import Verdict, screen
from lstm_exam.generator.variants.stream import variant_code
from lstm_exam.generator.variants.variant import Variant, VariantProblem
from lstm_exam.generator.variants.wellposed import check_problem, given_notes, no_well_posed

Tick = Callable[[int], None]


def make_variants(
    worksheet: Worksheet, seed: str, students: Sequence[Student], tick: Tick | None = None
) -> list[Variant]:
    """:func:`variants.make_variant` for every student: the same variants, searched together.

    Each problem is searched for the first student alone before the others: a problem no
    draw of which is well-posed fails after one student's draws, not the whole batch's.
    ``tick(len(students))`` follows each problem (the progress of a long search).

    Raises:
        InputError: "cannot draw a well-posed variant of problem N: ..." when a student's
            draws of a problem reach ``MAX_DRAWS`` or of the sheet ``MAX_SHEET_DRAWS``.
    """
    per_student: list[list[VariantProblem]] = [[] for _ in students]
    rejected: list[Counter[str | None]] = [Counter() for _ in students]
    used = [0] * len(students)  # each student's draws so far, of every problem
    for number, spec in enumerate(worksheet.problems, start=1):
        if spec.given is not None:
            vp = VariantProblem(
                number, spec.points, spec.given, spec.given.solve(), 1, formulas=spec.formulas
            )
            for mine in per_student:
                mine.append(vp)
        else:
            for part in (range(min(1, len(students))), range(1, len(students))):
                for k, vp in _search(worksheet, seed, students, part, number, spec, rejected, used):
                    per_student[k].append(vp)
        if tick is not None:
            tick(len(students))
    return [
        Variant(st, variant_code(seed, worksheet.slug, st.student_id), tuple(mine), refused)
        for st, mine, refused in zip(students, per_student, rejected, strict=True)
    ]


def given_problem_notes(worksheet: Worksheet) -> list[str]:
    """What to say of the worksheet's ``given`` problems: each usual mistake that hides
    in one (no draw chose its numbers, so well-posedness could not keep it away)."""
    return [
        note
        for number, spec in enumerate(worksheet.problems, start=1)
        if spec.given is not None
        for note in given_notes(number, spec.given, worksheet.tolerance)
    ]


def _search(
    worksheet: Worksheet,
    seed: str,
    students: Sequence[Student],
    part: range,
    number: int,
    spec: ProblemSpec,
    rejected: list[Counter],
    used: list[int],
) -> list[tuple[int, VariantProblem]]:
    """Each student's first well-posed draw of one problem (the students ``part`` of
    ``students``), each within their budget: ``MAX_DRAWS`` draws of the problem, and
    ``MAX_SHEET_DRAWS`` of the sheet (``used``: the draws of the problems before).

    Each round screens the next draws of every student still searching; as fewer
    students are left, each draws more at once (the draws past the one taken are
    dropped unseen), so a round stays large and the rounds few.
    """
    found: list[tuple[int, VariantProblem]] = []
    pending = list(part)
    if not pending:
        return found
    here = {k: Counter[str | None]() for k in pending}  # this problem's refusals
    limit = {k: min(defaults.MAX_DRAWS, defaults.MAX_SHEET_DRAWS - used[k]) for k in pending}
    slug = worksheet.slug
    draw = 1
    seen = 0  # draws looked at so far (up to each student's first well-posed one)
    while pending and draw <= min(limit[k] for k in pending):
        # half as many again as the draws a student still needs (from the share of
        # well-posed draws so far; twice as many as so far while none is), within a round
        # of about four times the batch (at least SEARCH_AHEAD): a round's cost is mostly
        # the Python overhead of its checks, a draw's is drawing
        want = -(-3 * seen // (2 * len(found))) if found else draw
        ahead = min(
            defaults.SEARCH_AHEAD,
            max(defaults.SEARCH_AHEAD, 4 * len(part)) // len(pending),
            want,
            min(limit[k] for k in pending) + 1 - draw,
        )
        draws = range(draw, draw + max(1, ahead))
        streams = [
            (slug, students[k].student_id, f"q{number}", f"draw{d}") for k in pending for d in draws
        ]
        problems = draw_problems(spec, worksheet.decimals, seed, streams)
        verdicts = iter(zip(problems, screen(problems, worksheet.tolerance), strict=True))
        still = []
        for k in pending:
            mine = [next(verdicts) for _ in draws]
            taken = _first_well_posed(mine, draws, worksheet.tolerance, here[k])
            if taken is None:
                still.append(k)
                seen += len(draws)
            else:
                problem, solution, d = taken
                vp = VariantProblem(
                    number, spec.points, problem, solution, d, formulas=spec.formulas
                )
                found.append((k, vp))
                seen += d + 1 - draw
                used[k] += d
        pending = still
        draw += len(draws)
    for k, refused in here.items():
        rejected[k].update(refused)
    if not pending:
        return found
    k = min(pending, key=lambda j: limit[j])
    raise no_well_posed(
        worksheet.source, number, spec.kind, here[k], draw - 1, sheet=limit[k] < defaults.MAX_DRAWS
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
