"""The grade stage's records: what each step hands the next, and what the writers read.

They live apart from the driver (:mod:`run`) so that the writers (:mod:`outputs`)
and the driver need not import each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lstm_exam.generator.core.numbers import normal
from lstm_exam.generator.store.manifest import Manifest


class Verdict(StrEnum):
    """What became of one asked answer."""

    CORRECT = "correct"
    CARRIED = "carried forward"
    WRONG = "wrong"
    UNANSWERED = "unanswered"
    INVALID = "invalid"


#: One letter per verdict: a row's answers in brief, for the item analysis.
VERDICT_CODES = {
    Verdict.CORRECT: "c",
    Verdict.CARRIED: "f",
    Verdict.WRONG: "w",
    Verdict.UNANSWERED: "u",
    Verdict.INVALID: "i",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One asked answer, judged."""

    label: str
    """The worksheet label, ``q1.f_t[2]``."""
    answer: str
    """What the student wrote (empty when unanswered)."""
    value: Decimal | None
    """The number read from it (None when unanswered or not a number)."""
    verdict: Verdict
    credit: Decimal
    """Share of the answer's points earned: 1, the carry-forward share, or 0."""
    key: Decimal
    """The rounded-chain answer."""
    accept: tuple[Decimal, Decimal]
    """The accepted range."""
    reason: str = ""
    """Why, in a student's words."""
    mistake: str | None = None
    """The diagnosed misconception (a Misconception name, TRUNCATED, ROUNDED_1, ...)."""
    read_as: str = ""
    """The number read, when the text needed reading beyond the file's decimal mark (an
    exponent, a sign, a separator, a comma in a file of points); else empty."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Graded:
    """A submission graded against its variant."""

    findings: tuple[Finding, ...]
    problem_scores: tuple[Decimal, ...]
    notes: tuple[str, ...]
    """Row-level findings: unknown or repeated labels, how the file was read."""
    flags: tuple[str, ...] = ()
    """What the instructor should look at (labels read as the ones they are typos of)."""


UNEXPLAINED = "unexplained wrong answer"


class Status(StrEnum):
    """A gradebook row's status (docs/grading.md)."""

    GRADED = "graded"
    MISSING = "missing"
    UNREADABLE = "unreadable"
    UNMATCHED = "unmatched-file"
    SUPERSEDED = "superseded"
    """A student's older file, not graded because a later one was."""
    HELD = "held"
    """A student whom files of two LMS identities claim: none graded, no score, until the
    instructor says with ``--map`` which file is theirs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentResult:
    """One gradebook row: a roster student, or a file that matched nobody."""

    student_id: str
    name: str
    variant: str
    status: Status
    problem_scores: tuple[Decimal, ...]
    max_scores: tuple[Decimal, ...]
    file: str = ""
    findings: tuple[Finding, ...] = ()
    """Every asked answer judged (left out of the records a large class passes around)."""
    notes: tuple[str, ...] = ()
    """How the file was read and row-level findings."""
    flags: tuple[str, ...] = ()
    """What the instructor should look at (unreadable, copying, extra files)."""
    mistakes: tuple[tuple[int, str], ...] = ()
    """(problem, diagnosed mistake) of each wrong answer, for the class summary."""
    copy_of: str = ""
    """The student whose variant this submission's answers fit far better (a copy)."""
    marks: str = ""
    """Each asked answer's verdict (:data:`VERDICT_CODES`), in the template's order."""
    wrong_values: tuple[tuple[int, str, str], ...] = ()
    """Each wrong answer: (its place in :attr:`marks`, the number read, the mistake)."""
    held: str = ""
    """Why the score is held for the instructor, recorded nowhere an LMS imports until they
    decide (empty: not held): the answer key handed in (graded), or files of two senders
    that read as this student (:attr:`Status.HELD`, not graded)."""

    @classmethod
    def of_file(cls, status: Status, path: str, flags: tuple[str, ...]) -> StudentResult:
        """The row of a file graded as nobody's (unmatched, superseded): no id, so that an
        LMS importing the gradebook sees one row a student."""
        return cls(
            student_id="",
            name="",
            variant="",
            status=status,
            problem_scores=(),
            max_scores=(),
            file=path,
            flags=flags,
        )

    def graded(self, graded: Graded, **changes: Any) -> StudentResult:
        """This row graded: ``graded``'s scores and findings, and what the gradebook and
        the class summary derive from the findings (:attr:`marks`, :attr:`mistakes`,
        :attr:`wrong_values`), computed here alone; ``changes``: the row's other fields."""
        findings = graded.findings
        return replace(
            self,
            status=Status.GRADED,
            problem_scores=graded.problem_scores,
            findings=findings,
            marks="".join(VERDICT_CODES[f.verdict] for f in findings),
            mistakes=tuple(
                (int(f.label.split(".")[0][1:]), f.mistake or UNEXPLAINED)
                for f in findings
                if f.verdict is Verdict.WRONG
            ),
            wrong_values=tuple(
                (at, normal(f.value), f.mistake or UNEXPLAINED)
                for at, f in enumerate(findings)
                if f.verdict is Verdict.WRONG and f.value is not None
            ),
            **changes,
        )

    @property
    def on_roster(self) -> bool:
        """A roster student's row (not a file's: unmatched, superseded)."""
        return self.status not in (Status.UNMATCHED, Status.SUPERSEDED)

    @property
    def score(self) -> Decimal:
        return sum(self.problem_scores, Decimal(0))

    @property
    def max_score(self) -> Decimal:
        return sum(self.max_scores, Decimal(0))

    @property
    def percent(self) -> Decimal:
        if not self.max_score:
            return Decimal(0)
        return (100 * self.score / self.max_score).quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeRun:
    """Everything one `grade` produced."""

    manifest: Manifest
    """The worksheet's settings (its ``variants`` are not loaded)."""
    titles: tuple[str, ...]
    """The problems' titles."""
    results: tuple[StudentResult, ...]
    skipped: tuple[str, ...] = ()
    """System files skipped (.DS_Store, __MACOSX/...)."""
    source: str = ""
    labels: tuple[str, ...] = ()
    """Every asked label, in the template's order (the item analysis's items)."""
    notices: tuple[str, ...] = ()
    """What the instructor should know of the matching (export rows that joined nobody,
    map lines that name no file)."""
    extra: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Each roster student's further roster columns (email, LMS ids), by student id."""
    missing_zero: bool = False
    """A missing student's score is 0 (else left blank)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentRecord:
    """What grading one student gives the driver (from a worker process, on a large class)."""

    result: StudentResult
    """The gradebook row (without findings when they were written out already)."""
    entry: bytes
    """The student's results.json entry, UTF-8 (empty when nothing is written)."""
    answers: Mapping[str, str]
    """The numbers copy detection compares, by label."""
    keys: tuple[tuple[str, str, str], ...]
    """The student's key where copy detection compares: (rounded, accept_min, accept_max)."""
    extra: tuple[StudentResult, ...]
    """Rows for the student's other files (one was graded)."""
