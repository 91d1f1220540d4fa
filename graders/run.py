"""The grade stage's driver: a worksheet folder and submissions in, results out."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from lstm_exam.generator.manifest import Manifest, load_manifest
from lstm_exam.generator.variants import Variant

from .grade import Finding, fit, grade_sheet
from .submissions import Matcher, RawFile, Unreadable, collect, read_sheet

#: Copy detection: another variant fits at least this share of the answers ...
COPY_FIT = 0.6
#: ... and this much better than the student's own variant.
COPY_MARGIN = 0.4


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
    notes: tuple[str, ...] = ()
    """How the file was read and row-level findings."""
    flags: tuple[str, ...] = ()
    """What the instructor should look at (unreadable, copying, extra files)."""

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
    results: tuple[StudentResult, ...]
    skipped: tuple[str, ...] = ()
    """System files skipped (.DS_Store, __MACOSX/...)."""
    source: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)


def _pick(files: list[RawFile]) -> tuple[RawFile, list[RawFile]]:
    """The latest of several files of one student, and the others."""
    ordered = sorted(files, key=lambda f: (f.mtime, f.path))
    return ordered[-1], ordered[:-1]


def _unmatched(path: str, why: str) -> StudentResult:
    return StudentResult("", "", "", Status.UNMATCHED, (), (), path, flags=(why,))


def grade_submissions(
    folder: Path, source: Path, tick: Callable[[int], None] | None = None
) -> GradeRun:
    """Grade every submission in ``source`` against the worksheet in ``folder``.

    Every roster student appears (graded, missing or unreadable) and every
    submitted file appears (graded for its student, or unmatched).
    """
    m = load_manifest(folder)
    files, skipped = collect(source)
    matcher = Matcher([v.student for v in m.variants])
    by_student: dict[str, list[RawFile]] = defaultdict(list)
    unmatched: list[StudentResult] = []
    for f in files:
        st, _how = matcher.match(f.path)
        if st is None:
            unmatched.append(_unmatched(f.path, f"file {f.path} matches no student on the roster"))
        else:
            by_student[st.student_id].append(f)
    jobs = [(k, by_student.get(v.student.student_id, [])) for k, v in enumerate(m.variants)]
    results: list[StudentResult] = []
    for result, extra in _map(m, jobs, tick):
        results.append(result)
        unmatched += extra
    results = detect_copies(m, results, by_student)
    return GradeRun(m, tuple(results + unmatched), tuple(skipped), str(source))


#: Below this many submissions one process is faster than starting workers.
PARALLEL_FROM = 600
_SHARED: dict[str, Manifest] = {}


def _map(m: Manifest, jobs: list, tick: Callable[[int], None] | None):
    """Grade the jobs, in worker processes (fork) on a large class."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2 or "fork" not in mp.get_all_start_methods():
        for job in jobs:
            yield _grade_student(m, *job)
            if tick:
                tick(1)
        return
    _SHARED["m"] = m  # inherited by the forked workers, never pickled
    size = 100
    chunks = [jobs[k : k + size] for k in range(0, len(jobs), size)]
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            for done in pool.map(_grade_chunk, chunks):
                yield from done
                if tick:
                    tick(len(done))
    finally:
        _SHARED.clear()


def _grade_chunk(chunk: list) -> list:
    m = _SHARED["m"]
    return [_grade_student(m, *job) for job in chunk]


def _grade_student(m: Manifest, k: int, files: list[RawFile]) -> tuple[StudentResult, list]:
    v = m.variants[k]
    maxes = tuple(vp.points for vp in v.problems)
    base = StudentResult(
        v.student.student_id,
        v.student.name,
        v.code,
        Status.MISSING,
        tuple(Decimal(0) for _ in maxes),
        maxes,
    )
    if not files:
        return base, []
    chosen, others = _pick(files)
    extra = [
        _unmatched(o.path, f"another file of {base.student_id} was graded: {chosen.path}")
        for o in others
    ]
    return _grade_one(m, v, base, chosen, others), extra


def _grade_one(
    m: Manifest, v: Variant, base: StudentResult, chosen: RawFile, others: list[RawFile]
) -> StudentResult:
    flags = [f"{len(others) + 1} files; graded the latest, {chosen.path}"] if others else []
    try:
        sheet = read_sheet(chosen.data)
    except Unreadable as e:
        return StudentResult(
            base.student_id,
            base.name,
            base.variant,
            Status.UNREADABLE,
            base.problem_scores,
            base.max_scores,
            chosen.path,
            notes=(str(e),),
            flags=(f"unreadable: {e}", *flags),
        )
    g = grade_sheet(m, v, sheet)
    return StudentResult(
        base.student_id,
        base.name,
        base.variant,
        Status.GRADED,
        g.problem_scores,
        base.max_scores,
        chosen.path,
        g.findings,
        (*sheet.notes, *g.notes),
        tuple(flags),
    )


# --- copy detection ------------------------------------------------------------------


def _index(m: Manifest) -> dict[tuple[str, str], list[int]]:
    """(label, rounded answer) -> the variants whose key holds it; common values dropped."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, v in enumerate(m.variants):
        for vp in v.problems:
            for lab in vp.solution.asked:
                index[(vp.label(lab), format(vp.solution.values[lab].rounded, "f"))].append(k)
    return {key: ks for key, ks in index.items() if len(ks) <= 3}


def detect_copies(
    m: Manifest, results: list[StudentResult], files: Mapping[str, list[RawFile]]
) -> list[StudentResult]:
    """Flag a submission whose answers fit another student's variant far better than its own."""
    if len(m.variants) < 2:
        return results
    index = _index(m)
    position = {v.student.student_id: k for k, v in enumerate(m.variants)}
    q = Decimal(1).scaleb(-m.decimals)
    out = []
    for r in results:
        if r.status is not Status.GRADED:
            out.append(r)
            continue
        numbers = {f.label: f.value for f in r.findings if f.value is not None}
        me = position[r.student_id]
        votes: Counter = Counter()
        for label, value in numbers.items():
            for k in index.get((label, format(value.quantize(q), "f")), ()):
                if k != me:
                    votes[k] += 1
        if not votes:
            out.append(r)
            continue
        k, n_votes = votes.most_common(1)[0]
        if n_votes < COPY_FIT * len(r.findings):
            out.append(r)
            continue
        other = fit(m, m.variants[k], numbers)
        own = fit(m, m.variants[me], numbers)
        if other >= COPY_FIT and other - own >= COPY_MARGIN:
            sid = m.variants[k].student.student_id
            flag = (
                f"answers fit the variant of student {sid} ({other:.0%}) far better than "
                f"their own ({own:.0%})"
            )
            out.append(
                StudentResult(
                    r.student_id,
                    r.name,
                    r.variant,
                    r.status,
                    r.problem_scores,
                    r.max_scores,
                    r.file,
                    r.findings,
                    r.notes,
                    (*r.flags, flag),
                )
            )
        else:
            out.append(r)
    return out


def grade(
    folder: Path,
    source: Path,
    out: Path,
    *,
    force: bool = False,
    tick: Callable[[int], None] | None = None,
) -> GradeRun:
    """Grade and write gradebook.csv, feedback/ and results.json into ``out``, all or nothing."""
    from lstm_exam.generator.files import check_target, staged_folder

    from .outputs import write_results

    check_target(out, force)
    run = grade_submissions(folder, source, tick)
    with staged_folder(out, force) as stage:
        write_results(run, stage)
    return run
