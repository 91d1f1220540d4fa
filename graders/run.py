"""The grade stage's driver: a worksheet folder and submissions in, results out.

read the manifest -> collect the files -> match each to a student -> grade each
student (grade.py) -> detect copies -> write gradebook, feedback, results.

On a large class the students are graded in worker processes (fork), which
also render and write each student's feedback and results entry, so only small
records travel back to the parent.
"""

from __future__ import annotations

import functools
import gc
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from lstm_exam.generator import defaults
from lstm_exam.generator.files import check_target, staged_folder, write_text
from lstm_exam.generator.manifest import (
    Manifest,
    read_manifest,
    student_from_json,
    variant_from_json,
)
from lstm_exam.generator.notation import KINDS, Kind, label_name
from lstm_exam.generator.parallel import fork_map

from .grade import Finding, Verdict, grade_sheet
from .submissions import Matcher, RawFile, Unreadable, collect, read_sheet

UNEXPLAINED = "unexplained wrong answer"


class Status(StrEnum):
    """A gradebook row's status (design.md)."""

    GRADED = "graded"
    MISSING = "missing"
    UNREADABLE = "unreadable"
    UNMATCHED = "unmatched-file"


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


def _unmatched(path: str, why: str) -> StudentResult:
    return StudentResult("", "", "", Status.UNMATCHED, (), (), path, flags=(why,))


def _titles(students: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    if not students:
        return ()
    return tuple(KINDS[Kind(p["kind"])].title for p in students[0]["problems"])


def _assign(
    students: Sequence[Mapping[str, Any]], files: list[RawFile]
) -> tuple[dict[str, list[RawFile]], list[StudentResult]]:
    """Match every file to a student; the files that match nobody."""
    matcher = Matcher([student_from_json(s) for s in students])
    by_student: dict[str, list[RawFile]] = defaultdict(list)
    unmatched = []
    for f in files:
        st, _how = matcher.match(f.path)
        if st is None:
            unmatched.append(_unmatched(f.path, f"file {f.path} matches no student on the roster"))
        else:
            by_student[st.student_id].append(f)
    return by_student, unmatched


# --- grading one student ----------------------------------------------------------------


def grade_student(
    m: Manifest, s: Mapping[str, Any], files: Sequence[RawFile]
) -> tuple[StudentResult, list[StudentResult]]:
    """Grade one student's file(s): their row and rows for extra files."""
    v = variant_from_json(s, asked_only=True)
    maxes = tuple(vp.points for vp in v.problems)
    zeros = tuple(Decimal(0) for _ in maxes)
    base = StudentResult(v.student.student_id, v.student.name, v.code, Status.MISSING, zeros, maxes)
    if not files:
        return base, []
    ordered = sorted(files, key=lambda f: (f.mtime, f.path))
    chosen, others = ordered[-1], ordered[:-1]
    extra = [
        _unmatched(o.path, f"another file of {base.student_id} was graded: {chosen.path}")
        for o in others
    ]
    flags = (f"{len(files)} files; graded the latest, {chosen.path}",) if others else ()
    try:
        sheet = read_sheet(chosen.data)
    except Unreadable as e:
        return replace(
            base,
            status=Status.UNREADABLE,
            file=chosen.path,
            notes=(str(e),),
            flags=(f"unreadable: {e}", *flags),
        ), extra
    g = grade_sheet(m, v, sheet)
    mistakes = tuple(
        (int(f.label.split(".")[0][1:]), f.mistake or UNEXPLAINED)
        for f in g.findings
        if f.verdict is Verdict.WRONG
    )
    return replace(
        base,
        status=Status.GRADED,
        problem_scores=g.problem_scores,
        file=chosen.path,
        findings=g.findings,
        notes=(*sheet.notes, *g.notes),
        flags=flags,
        mistakes=mistakes,
    ), extra


def _answers_at(r: StudentResult, decimals: int) -> dict[str, str]:
    """The student's numbers at the worksheet's places, for copy detection."""
    q = Decimal(1).scaleb(-decimals)
    return {
        f.label: format(f.value.quantize(q), "f")
        for f in r.findings
        if f.value is not None and abs(f.value) < 10**6
    }


# --- copy detection -----------------------------------------------------------------


class CopyIndex:
    """Which students' keys hold an answer, to spot a submission made for another variant.

    Only the final quantities of each problem (f_t, C_t, h_t, ...) are compared: they
    tell variants apart as well as every step does, at a third of the cost.
    """

    def __init__(self, students: Sequence[Mapping[str, Any]]) -> None:
        index: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.bounds: list[dict[str, tuple[str, str]]] = []
        # every variant has the same labels: pick the final ones from the first
        wanted = [
            [
                (lab, f"q{p['number']}.{lab}")
                for lab, e in p["values"].items()
                if e.get("asked") and label_name(lab) in KINDS[Kind(p["kind"])].asked
            ]
            for p in (students[0]["problems"] if students else [])
        ]
        for k, s in enumerate(students):
            ranges = {}
            for p, labels in zip(s["problems"], wanted, strict=True):
                values = p["values"]
                for lab, label in labels:
                    e = values[lab]
                    index[(label, e["rounded"])].append(k)
                    ranges[label] = (e["accept_min"], e["accept_max"])
            self.bounds.append(ranges)
        # values many keys share (fixed problems, round numbers) say nothing
        self.index = {key: ks for key, ks in index.items() if len(ks) <= 3}
        self.ids = [s["student_id"] for s in students]

    def fit(self, k: int, numbers: Mapping[str, Decimal]) -> float:
        """Share of student k's asked answers that these numbers hit."""
        ranges = self.bounds[k]
        hit = sum(
            1
            for label, (lo, hi) in ranges.items()
            if label in numbers and Decimal(lo) <= numbers[label] <= Decimal(hi)
        )
        return hit / len(ranges) if ranges else 0.0

    def flag(self, me: int, answers: Mapping[str, str]) -> str | None:
        """The copy flag for student ``me``'s answers, or None."""
        votes: Counter = Counter()
        mine = self.bounds[me]
        answers = {label: text for label, text in answers.items() if label in mine}
        for label, text in answers.items():
            for k in self.index.get((label, text), ()):
                if k != me:
                    votes[k] += 1
        if not votes:
            return None
        k, n = votes.most_common(1)[0]
        if n < defaults.COPY_FIT * len(self.bounds[me]):
            return None
        numbers = {label: Decimal(text) for label, text in answers.items()}
        other, own = self.fit(k, numbers), self.fit(me, numbers)
        if other >= defaults.COPY_FIT and other - own >= defaults.COPY_MARGIN:
            return (
                f"answers fit the variant of student {self.ids[k]} ({other:.0%}) far better "
                f"than their own ({own:.0%})"
            )
        return None


# --- the library entry points ---------------------------------------------------------


def grade_submissions(folder: Path, source: Path) -> GradeRun:
    """Grade every submission (no files written); results keep every finding.

    Every roster student appears (graded, missing or unreadable) and every
    submitted file appears (graded for its student, or unmatched).
    """
    m, students = read_manifest(folder)
    files, skipped = collect(source)
    by_student, unmatched = _assign(students, files)
    index = CopyIndex(students)
    results = []
    for k, s in enumerate(students):
        r, extra = grade_student(m, s, by_student.get(s["student_id"], []))
        flag = index.flag(k, _answers_at(r, m.decimals)) if r.status is Status.GRADED else None
        results.append(replace(r, flags=(*r.flags, flag)) if flag else r)
        unmatched += extra
    return GradeRun(m, _titles(students), tuple(results + unmatched), tuple(skipped), str(source))


def grade(
    folder: Path,
    source: Path,
    out: Path,
    *,
    force: bool = False,
    tick: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> GradeRun:
    """Grade and write gradebook.csv, feedback/ and results.json into ``out``, all or nothing.

    ``on_start`` learns how many students there are, ``tick`` of each one done. The
    returned results carry no findings (they are in the files written).
    """
    check_target(out, force)
    m, students = read_manifest(folder)
    if on_start:
        on_start(len(students))
    # millions of parsed JSON objects live for the whole run: keep the cyclic garbage
    # collector from scanning them again and again, here and in the forked workers
    gc.freeze()
    try:
        return _grade(m, students, source, out, force, tick)
    finally:
        gc.unfreeze()


def _grade(
    m: Manifest,
    students: list[dict[str, Any]],
    source: Path,
    out: Path,
    force: bool,
    tick: Callable[[int], None] | None,
) -> GradeRun:
    from .outputs import gradebook_csv, results_json, student_json

    files, skipped = collect(source)
    by_student, unmatched = _assign(students, files)
    titles = _titles(students)
    results: list[StudentResult] = []
    entries: list[str] = []
    with staged_folder(out, force) as stage:
        (stage / "feedback").mkdir()
        # the index before the workers fork: touching every student after the fork
        # would copy the whole shared heap page by page
        index = CopyIndex(students)
        stream = _start(_Job(m, titles, students, by_student, stage), tick)
        for k, (r, entry, answers, extra) in enumerate(stream):
            flag = index.flag(k, answers) if r.status is Status.GRADED else None
            if flag:
                r = replace(r, flags=(*r.flags, flag))
            results.append(r)
            entries.append(student_json(entry, r.flags))
            unmatched += extra
        entries += [student_json(json.dumps(_row_json(u)), u.flags) for u in unmatched]
        run = GradeRun(m, titles, tuple(results + unmatched), tuple(skipped), str(source))
        write_text(stage / "gradebook.csv", gradebook_csv(run))
        write_text(stage / "results.json", results_json(run, entries))
    return run


# --- the work, in this process or in workers ---------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    m: Manifest
    titles: tuple[str, ...]
    students: list[dict[str, Any]]
    files: Mapping[str, list[RawFile]]
    stage: Path


def _one(job: _Job, k: int) -> tuple[StudentResult, str, dict[str, str], list[StudentResult]]:
    """Grade student k, write their feedback; a light record for the parent."""
    from .outputs import feedback_html, feedback_md, feedback_view, result_entry

    s = job.students[k]
    r, extra = grade_student(job.m, s, job.files.get(s["student_id"], []))
    view = feedback_view(job.m, job.titles, r)
    folder = job.stage / "feedback"  # made once by grade(): no mkdir per file
    write_text(folder / f"{r.student_id}.md", feedback_md(view), mkdir=False)
    write_text(folder / f"{r.student_id}.html", feedback_html(view), mkdir=False)
    answers = _answers_at(r, job.m.decimals) if r.status is Status.GRADED else {}
    return replace(r, findings=()), result_entry(r), answers, extra


def _start(job: _Job, tick: Callable[[int], None] | None) -> Iterator[tuple]:
    """Start grading; the results in roster order (see :func:`fork_map`)."""
    return fork_map(functools.partial(_one, job), len(job.students), tick)


def _row_json(r: StudentResult) -> dict[str, Any]:
    return {"student_id": r.student_id, "status": str(r.status), "file": r.file}
