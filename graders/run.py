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
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.notation import KINDS, Kind, label_name
from lstm_exam.generator.runtime import fork_map, gc_paused
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.files import check_target, staged_folder, write_parts, write_text
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.store.manifest_read import (
    ManifestStudent,
    read_manifest_students,
    student_doc,
    variant_from_json,
)

from .grade import Finding, Verdict, grade_sheet, plain
from .submissions import Matcher, RawFile, Unreadable, collect, file_data, read_sheet

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


def _titles(first: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The problems' titles, from the first student (every variant has the same problems)."""
    if first is None:
        return ()
    return tuple(KINDS[Kind(p["kind"])].title for p in first["problems"])


def _assign(
    students: Sequence[Student], files: list[RawFile]
) -> tuple[dict[str, list[RawFile]], list[StudentResult]]:
    """Match every file to a student; the files that match nobody."""
    matcher = Matcher(students)
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
        sheet = read_sheet(file_data(chosen))
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


def _answers_at(r: StudentResult, decimals: int, labels: Collection[str]) -> dict[str, str]:
    """The student's numbers at the worksheet's places, at the labels copy detection compares."""
    if r.status is not Status.GRADED:
        return {}
    q = Decimal(1).scaleb(-decimals)
    return {
        f.label: plain(f.value.quantize(q))
        for f in r.findings
        if f.label in labels and f.value is not None and abs(f.value) < 10**6
    }


# --- copy detection -----------------------------------------------------------------


Labels = tuple[tuple[tuple[str, str], ...], ...]


def copy_labels(first: Mapping[str, Any] | None) -> Labels:
    """Per problem, the labels copy detection compares, (``f_t[1]``, ``q1.f_t[1]``): the
    final asked quantities. Every variant has the same: they are the first student's.
    """
    if first is None:
        return ()
    return tuple(
        tuple(
            (lab, f"q{p['number']}.{lab}")
            for lab, e in p["values"].items()
            if e.get("asked") and label_name(lab) in KINDS[Kind(p["kind"])].asked
        )
        for p in first["problems"]
    )


def copy_keys(s: Mapping[str, Any], labels: Labels) -> tuple[tuple[str, str, str], ...]:
    """A student's key at the labels of :func:`copy_labels`: (rounded, accept_min, accept_max)."""
    out = []
    for p, labs in zip(s["problems"], labels, strict=True):
        values = p["values"]
        for lab, _label in labs:
            e = values[lab]
            out.append((e["rounded"], e["accept_min"], e["accept_max"]))
    return tuple(out)


class CopyIndex:
    """Which students' keys hold an answer, to spot a submission made for another variant.

    Only the final quantities of each problem (f_t, C_t, h_t, ...) are compared: they
    tell variants apart as well as every step does, at a third of the cost. Students
    are added in roster order (:meth:`add`), each with their :func:`copy_keys`.
    """

    def __init__(self, labels: Labels) -> None:
        self.labels = [label for labs in labels for _lab, label in labs]
        self.position = {label: i for i, label in enumerate(self.labels)}
        self.ids: list[str] = []
        self.keys: list[Sequence[tuple[str, str, str]]] = []
        """Per student, at each label: (rounded answer, accept_min, accept_max)."""
        self._all: list[dict[str, list[int]]] = [{} for _ in self.labels]
        self._index: list[dict[str, list[int]]] | None = None

    def add(self, student_id: str, keys: Sequence[tuple[str, str, str]]) -> None:
        """The next student of the roster, with their key's final values and bounds."""
        k = len(self.ids)
        self.ids.append(student_id)
        self.keys.append(keys)
        for at, (rounded, _lo, _hi) in zip(self._all, keys, strict=True):
            ks = at.get(rounded)
            if ks is None:
                at[rounded] = [k]
            else:
                ks.append(k)
        self._index = None

    @property
    def index(self) -> list[dict[str, list[int]]]:
        """Per label, rounded answer -> the students whose key holds it."""
        if self._index is None:
            # values many keys share (fixed problems, round numbers) say nothing
            self._index = [
                {text: ks for text, ks in at.items() if len(ks) <= 3} for at in self._all
            ]
        return self._index

    def fit(self, k: int, numbers: Mapping[str, Decimal]) -> float:
        """Share of student k's asked answers that these numbers hit."""
        keys = self.keys[k]
        hit = sum(
            1
            for label, (_, lo, hi) in zip(self.labels, keys, strict=True)
            if label in numbers and Decimal(lo) <= numbers[label] <= Decimal(hi)
        )
        return hit / len(keys) if keys else 0.0

    def flag(self, me: int, answers: Mapping[str, str]) -> str | None:
        """The copy flag for student ``me``'s answers, or None."""
        votes: Counter = Counter()
        index, position = self.index, self.position
        answers = {label: text for label, text in answers.items() if label in position}
        for label, text in answers.items():
            ks = index[position[label]].get(text)
            if ks is not None and (len(ks) > 1 or ks[0] != me):  # not only their own key
                for k in ks:
                    if k != me:
                        votes[k] += 1
        if not votes:
            return None
        k, n = votes.most_common(1)[0]
        if n < defaults.COPY_FIT * len(self.keys[me]):
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
    m, students = read_manifest_students(folder)
    files, skipped = collect(source)
    by_student, unmatched = _assign([s.student for s in students], files)
    first = student_doc(students[0]) if students else None
    labels = copy_labels(first)
    index = CopyIndex(labels)
    graded: list[tuple[StudentResult, dict[str, str]]] = []
    for st in students:
        s = student_doc(st)
        r, extra = grade_student(m, s, by_student.get(st.student.student_id, []))
        index.add(st.student.student_id, copy_keys(s, labels))
        graded.append((r, _answers_at(r, m.decimals, index.labels)))
        unmatched += extra
    results = [_flagged(index, k, r, answers) for k, (r, answers) in enumerate(graded)]
    return GradeRun(m, _titles(first), tuple(results + unmatched), tuple(skipped), str(source))


def _flagged(
    index: CopyIndex, k: int, r: StudentResult, answers: Mapping[str, str]
) -> StudentResult:
    """The row with its copy flag, if any."""
    flag = index.flag(k, answers) if r.status is Status.GRADED else None
    return replace(r, flags=(*r.flags, flag)) if flag else r


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
    m, students = read_manifest_students(folder)
    if on_start:
        on_start(len(students))
    # grading makes no reference cycles (each student's objects go as soon as they are
    # done with) and the results pile up for the whole run: the cyclic garbage collector
    # would only scan them again and again, here and in the workers forked from here
    gc.freeze()
    try:
        with gc_paused():
            return _grade(m, students, source, out, force, tick)
    finally:
        gc.unfreeze()


def _grade(
    m: Manifest,
    students: list[ManifestStudent],
    source: Path,
    out: Path,
    force: bool,
    tick: Callable[[int], None] | None,
) -> GradeRun:
    from .outputs import gradebook_csv, results_json

    files, skipped = collect(source)  # a folder's files are only listed: workers read them
    by_student, unmatched = _assign([s.student for s in students], files)
    first = student_doc(students[0]) if students else None
    titles, labels = _titles(first), copy_labels(first)
    index = CopyIndex(labels)
    graded: list[tuple[StudentResult, bytes, dict[str, str]]] = []
    with staged_folder(out, force) as stage:
        (stage / "feedback").mkdir()
        # each worker parses its own students' lines of the manifest and reads their files
        stream = _start(
            _Job(m, titles, labels, frozenset(index.labels), students, by_student, stage), tick
        )
        for st, (r, entry, answers, keys, extra) in zip(students, stream, strict=True):
            index.add(st.student.student_id, keys)
            graded.append((r, entry, answers))
            unmatched += extra
        # copy detection needs every student's key: the flags come after the last one
        results = [_flagged(index, k, r, a) for k, (r, _, a) in enumerate(graded)]
        entries = [(e, r.flags) for r, (_, e, _) in zip(results, graded, strict=True)]
        entries += [(json.dumps(_row_json(u)).encode(), u.flags) for u in unmatched]
        run = GradeRun(m, titles, tuple(results + unmatched), tuple(skipped), str(source))
        write_text(stage / "gradebook.csv", gradebook_csv(run))
        write_parts(stage / "results.json", results_json(run, entries))
    return run


# --- the work, in this process or in workers ---------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    m: Manifest
    titles: tuple[str, ...]
    labels: Labels
    compared: frozenset[str]
    """The labels copy detection compares, with their ``q`` prefix."""
    students: list[ManifestStudent]
    files: Mapping[str, list[RawFile]]
    stage: Path


def _one(
    job: _Job, k: int
) -> tuple[
    StudentResult, bytes, dict[str, str], tuple[tuple[str, str, str], ...], list[StudentResult]
]:
    """Grade student k, write their feedback; a light record for the parent."""
    from .outputs import feedback_html, feedback_md, feedback_view, result_entry

    st = job.students[k]
    s = student_doc(st)
    r, extra = grade_student(job.m, s, job.files.get(st.student.student_id, []))
    view = feedback_view(job.m, job.titles, r)
    folder = job.stage / "feedback"  # made once by grade(): no mkdir per file
    write_text(folder / f"{r.student_id}.md", feedback_md(view), mkdir=False)
    write_text(folder / f"{r.student_id}.html", feedback_html(view), mkdir=False)
    answers = _answers_at(r, job.m.decimals, job.compared)
    entry = result_entry(r).encode()  # UTF-8 here, in parallel: the parent only joins
    return replace(r, findings=()), entry, answers, copy_keys(s, job.labels), extra


def _start(job: _Job, tick: Callable[[int], None] | None) -> Iterator[tuple]:
    """Start grading; the results in roster order (see :func:`fork_map`)."""
    # small chunks: the two workers finish close together
    return fork_map(functools.partial(_one, job), len(job.students), tick, size=100)


def _row_json(r: StudentResult) -> dict[str, Any]:
    return {"student_id": r.student_id, "status": str(r.status), "file": r.file}
