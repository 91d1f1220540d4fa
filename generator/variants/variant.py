"""A student's variant: their problems, drawn until well-posed, and solved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.solution import Solution
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import ProblemSpec, Worksheet
from lstm_exam.generator.variants.draw import draw_problem
from lstm_exam.generator.variants.stream import Stream, variant_code
from lstm_exam.generator.variants.wellposed import check_problem, no_well_posed


@dataclass(frozen=True, slots=True)
class VariantProblem:
    """One problem of a student's variant, solved."""

    number: int
    """1-based position on the worksheet (the ``q`` of labels)."""
    points: Decimal
    problem: Problem
    solution: Solution
    draws: int
    """How many draws it took to get a well-posed problem (1 for a fixed one)."""
    accept: Mapping[str, tuple[Decimal, Decimal]] | None = None
    """Accepted ranges by label, as read back from a manifest (None: derive them)."""
    formulas: bool = True
    """Whether the sheet prints the problem's formulas (the spec's ``formulas``)."""

    def label(self, label: str) -> str:
        """The worksheet label of a solution label: ``f_t[1]`` -> ``q2.f_t[1]``."""
        return f"q{self.number}.{label}"


@dataclass(frozen=True, slots=True)
class Variant:
    """A student's worksheet: their numbers and both answer chains."""

    student: Student
    code: str
    problems: tuple[VariantProblem, ...]
    rejected: Counter = field(default_factory=Counter, compare=False)
    """Why draws were rejected, for the benchmark's report."""


def make_variant(worksheet: Worksheet, seed: str, student: Student) -> Variant:
    """Draw and solve a student's variant; redraw each problem until well-posed, within
    ``MAX_DRAWS`` draws of a problem and ``MAX_SHEET_DRAWS`` of the sheet.

    The definition of a student's variant; :func:`search.make_variants` finds the
    same for a whole class, faster.
    """
    problems = []
    rejected: Counter = Counter()
    used = 0  # draws of the problems before: the sheet's budget is MAX_SHEET_DRAWS
    for number, spec in enumerate(worksheet.problems, start=1):
        if spec.given is not None:
            problems.append(
                VariantProblem(
                    number,
                    spec.points,
                    spec.given,
                    spec.given.solve(),
                    1,
                    formulas=spec.formulas,
                )
            )
            continue

        def drawn(draw: int, spec: ProblemSpec = spec, number: int = number) -> Problem:
            s = Stream(seed, worksheet.slug, student.student_id, f"q{number}", f"draw{draw}")
            return draw_problem(spec, worksheet.decimals, s)

        limit = min(defaults.MAX_DRAWS, defaults.MAX_SHEET_DRAWS - used)
        here: Counter = Counter()  # this problem's refusals
        for draw in range(1, limit + 1):
            problem = drawn(draw)
            solution, why = check_problem(problem, worksheet.tolerance)
            if solution is not None and why is None:
                problems.append(
                    VariantProblem(
                        number, spec.points, problem, solution, draw, formulas=spec.formulas
                    )
                )
                used += draw
                break
            here[why] += 1
        else:
            sheet = limit < defaults.MAX_DRAWS
            raise no_well_posed(worksheet.source, number, spec.kind, here, max(0, limit), sheet)
        rejected.update(here)
    return Variant(
        student, variant_code(seed, worksheet.slug, student.student_id), tuple(problems), rejected
    )
