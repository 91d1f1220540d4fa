"""The grade stage's driver: a worksheet folder and submissions in, results out.

One orchestration for the library, the tests and the command line:

read the manifest -> collect the files -> match each to a student -> grade each
student (:mod:`grade`'s steps) -> detect copies (:mod:`copies`) -> write gradebook,
feedback and results (:mod:`outputs`).

On a large class the students are graded in worker processes (:mod:`runtime`), which
also write each student's feedback and results entry, so only small records
(:class:`StudentRecord`) travel back to the parent.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from lstm_exam.generator.core.notation import KINDS, Kind
from lstm_exam.generator.core.textfiles import shown_name
from lstm_exam.generator.runtime import fork_map, no_gc
from lstm_exam.generator.store.files import staged_folder, write_parts, write_text
from lstm_exam.generator.store.guard import Layout, check_folder
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.store.manifest_read import (
    ManifestStudent,
    read_manifest_students,
    reading,
    student_doc,
    variant_from_json,
)
from lstm_exam.generator.variants.variant import Variant

from . import outputs
from .claims import Claim, assign
from .copies import CopyIndex, Labels, answers_at, both_sides, copy_keys, copy_labels, flagged
from .grade import asked_labels, grade_sheet
from .lms import MAP_FILE, Identity, LmsInputs, identity, map_text
from .matching import Matcher
from .policy import GradePolicy
from .reading import Unreadable, read_submission
from .results import (
    GradeRun,
    Status,
    StudentRecord,
    StudentResult,
)
from .submissions import RawFile, collect, file_data
from .uploads import uploads

Tick = Callable[[int], None]

#: What `grade` makes in its results folder: what ``--force`` may replace (:mod:`guard`).
RESULTS = Layout(
    "grade",
    "the results",
    ("gradebook.csv", "results.json", MAP_FILE, "feedback/*", "lms/*"),
    required=("results.json",),
)


def _inputs(folder: Path, source: Path, lms: LmsInputs | None) -> dict[str, Path]:
    """What a grading reads, by what to call it: its results may replace none of it."""
    inputs = {"the worksheet folder": folder, "the submissions": source}
    if lms is not None:
        named = {
            "the Moodle grading worksheet": lms.moodle_worksheet,
            "the Canvas gradebook": lms.canvas_gradebook,
            "the map": lms.map_file,
        }
        inputs |= {what: path for what, path in named.items() if path is not None}
    return inputs


def grade(
    folder: Path,
    source: Path,
    out: Path | None = None,
    *,
    force: bool = False,
    policy: GradePolicy | None = None,
    tick: Tick | None = None,
    on_start: Callable[[int], None] | None = None,
    lms: LmsInputs | None = None,
) -> GradeRun:
    """Grade every submission in ``source`` (a folder or a zip) against ``folder``'s manifest.

    Every roster student appears (graded, missing or unreadable) and every submitted
    file appears (graded for its student, or unmatched).

    With ``out``, gradebook.csv, feedback/ and results.json are written there, all or
    nothing, and the returned results carry no findings (they are in the files).
    Without it nothing is written and the results keep every finding.

    Args:
        policy: the shares and thresholds (default: the worksheet's, :class:`GradePolicy`).
        tick: learns of each student done; ``on_start``, how many there are.
        lms: the LMS's exports and the instructor's map of files to students
            (:mod:`lms`); a map kept in ``out`` by the last grading is applied again.
    """
    if out is not None:
        check_folder(out, RESULTS, _inputs(folder, source, lms), force, host=folder)
    m, students = read_manifest_students(folder)
    who = identity(
        lms or LmsInputs(),
        [s.student for s in students],
        None if out is None else out / MAP_FILE,
        m.title,
    )
    if on_start:
        on_start(len(students))
    # one matcher for the files and, after, for the Canvas names of the upload files
    matcher = Matcher([s.student for s in students], who.ids, who.manual)
    work = functools.partial(
        _grade_class, m, policy or GradePolicy.of(m), students, source, who, matcher
    )
    with no_gc():
        if out is None:
            return work(None, tick)[0]
        with staged_folder(out, force, RESULTS, host=folder) as stage:
            (stage / "feedback").mkdir()
            run, entries = work(stage, tick)
            write_text(stage / "gradebook.csv", outputs.gradebook_csv(run))
            write_parts(stage / "results.json", outputs.results_json(run, entries))
            if who.manual:  # kept, so that the next grading applies it again
                write_text(stage / MAP_FILE, map_text(who.manual))
            run = _write_uploads(run, who, matcher, folder, stage, lms)
        return run


def _grade_class(
    manifest: Manifest,
    policy: GradePolicy,
    students: list[ManifestStudent],
    source: Path,
    who: Identity,
    matcher: Matcher,
    stage: Path | None,
    tick: Tick | None,
) -> tuple[GradeRun, list[tuple[bytes, tuple[str, ...]]]]:
    """Every student graded (their feedback written into ``stage``), copies flagged."""
    files, skipped = collect(source)  # a folder's files are only listed: workers read them
    claims, unmatched, notices = assign(matcher, files, who.manual)
    first = student_doc(students[0]) if students else None
    with reading(students[0]) if students else contextlib.nullcontext():
        titles, labels, asked = _titles(first), copy_labels(first), _labels(first)
    index = CopyIndex(labels, policy)
    job = _Job(
        m=manifest,
        policy=policy,
        titles=titles,
        labels=labels,
        compared=frozenset(index.labels),
        students=students,
        claims=claims,
        stage=stage,
    )
    records = []
    # each worker parses its own students' lines of the manifest and reads their files
    for st, rec in zip(students, _start(job, tick), strict=True):
        index.add(st.student.student_id, rec.keys)
        records.append(rec)
        unmatched += rec.extra
    # copy detection needs every student's key: the flags come after the last one
    results = both_sides(
        [flagged(index, k, rec.result, rec.answers) for k, rec in enumerate(records)]
    )
    # a suspected copy is graded again (here: they are few), without the credit and the
    # diagnoses of numbers that are not the student's, and their feedback rewritten
    for k, r in enumerate(results):
        if r.copy_of:
            records[k] = _one(job, k, copy_of=r.copy_of)
            results[k] = replace(records[k].result, flags=r.flags)
    run = GradeRun(
        manifest=manifest,
        titles=titles,
        results=tuple(results + unmatched),
        skipped=tuple(skipped),
        source=shown_name(str(source)),
        labels=asked,
        notices=(*who.notices, *notices),
        extra={s.student.student_id: s.student.extra for s in students if s.student.extra},
        missing_zero=who.missing_zero,
    )
    if stage is None:
        return run, []
    entries = [(rec.entry, r.flags) for r, rec in zip(results, records, strict=True)]
    entries += [(json.dumps(_row_json(u)).encode(), u.flags) for u in unmatched]
    return run, entries


def _write_uploads(
    run: GradeRun,
    who: Identity,
    matcher: Matcher,
    folder: Path,
    stage: Path,
    lms: LmsInputs | None,
) -> GradeRun:
    """The LMS's upload files under ``lms/`` (:mod:`uploads`); the run with what was left
    out added to its notices."""

    def files(student_id: str) -> list[tuple[str, bytes]]:
        out = [("feedback.html", (stage / "feedback" / f"{student_id}.html").read_bytes())]
        key = folder / "keys" / f"{student_id}.pdf"
        if key.is_file():
            out.append(("key.pdf", key.read_bytes()))
        return out

    made, notices = uploads(run, who, matcher, files, lms.canvas_assignment if lms else None)
    (stage / "lms").mkdir()
    for u in made:
        write_parts(stage / "lms" / u.name, [u.data])
    return replace(run, notices=(*run.notices, *notices)) if notices else run


def _labels(first: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Every asked label, from the first student (every variant has the same)."""
    if first is None:
        return ()
    return tuple(asked_labels(variant_from_json(first, asked_only=True)))


def _titles(first: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The problems' titles, from the first student (every variant has the same problems)."""
    if first is None:
        return ()
    return tuple(KINDS[Kind(p["kind"])].title for p in first["problems"])


def _same_student(identity: tuple[str, str], variant: Variant) -> None:
    """A filled PDF sheet must be the sheet of the student its file was matched to.

    Raises:
        Unreadable: naming whose sheet it is (another student's, or an older variant).
    """
    sid, code = identity
    if sid != variant.student.student_id:
        raise Unreadable(
            f"this is the sheet of {sid[:64] or 'nobody'}, not yours ({variant.student.student_id}): "
            "fill in your own sheet and hand it in"
        )
    if code != variant.code:
        raise Unreadable(
            f"this sheet is of variant {code[:64] or '(none)'}, not of yours ({variant.code}): "
            "fill in the sheet you were given last and hand it in"
        )


def grade_student(
    manifest: Manifest,
    policy: GradePolicy,
    variant: Variant,
    files: Sequence[RawFile],
    copy_of: str = "",
    claim: Claim | None = None,
) -> tuple[StudentResult, list[StudentResult]]:
    """Grade one student's file(s): their row and rows for extra files.

    ``copy_of``: the student whose variant the answers fit far better (:mod:`copies`);
    then no credit is carried forward and no mistake named (:func:`grade_sheet`).
    ``claim``: what matching found of the files (:func:`claims.assign`): a held student is not
    graded, and its flags go on the student's row.
    """
    maxes = tuple(vp.points for vp in variant.problems)
    zeros = tuple(Decimal(0) for _ in maxes)
    base = StudentResult(
        student_id=variant.student.student_id,
        name=variant.student.name,
        variant=variant.code,
        status=Status.MISSING,
        problem_scores=zeros,
        max_scores=maxes,
    )
    if claim is not None and claim.held:
        return replace(base, status=Status.HELD, flags=(claim.held,), held=claim.held), []
    if not files:
        return base, []
    ordered = sorted(files, key=lambda f: (f.mtime, f.path))
    chosen, others = ordered[-1], ordered[:-1]
    extra = [
        StudentResult.of_file(
            Status.SUPERSEDED,
            o.path,
            (
                f"an older file of {base.student_id}: the later {chosen.path} was graded",
                *((f"{o.path}: {o.name_note}",) if o.name_note else ()),
            ),
        )
        for o in others
    ]
    flags = (f"{len(files)} files; graded the latest, {chosen.path}",) if others else ()
    flags = (*(claim.flags if claim else ()), *flags)
    if chosen.name_note:
        flags = (*flags, f"{chosen.path}: {chosen.name_note}")
    try:
        sheet = read_submission(file_data(chosen))
        if sheet.identity == ("", ""):  # a PDF form, but not as generate made it
            flags = (
                f"the PDF form carries no student id or variant: check that it is "
                f"{variant.student.student_id}'s own sheet",
                *flags,
            )
        elif sheet.identity is not None:
            _same_student(sheet.identity, variant)
    except Unreadable as e:
        return replace(
            base,
            status=Status.UNREADABLE,
            file=chosen.path,
            notes=(str(e),),
            flags=(f"unreadable: {e}", *flags),
        ), extra
    g = grade_sheet(manifest, policy, variant, sheet, fits_other=bool(copy_of))
    held = ""
    if sheet.key_columns:
        held = (
            f"this is the answer key (it has the key's columns {', '.join(sheet.key_columns)}), "
            "not the student's answers: the score is held for the instructor"
        )
    return base.graded(
        g,
        file=chosen.path,
        notes=(*sheet.notes, *g.notes),
        flags=(*((held,) if held else ()), *flags, *g.flags),
        held=held,
        copy_of=copy_of,
    ), extra


# --- the work, in this process or in workers ---------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    m: Manifest
    policy: GradePolicy
    titles: tuple[str, ...]
    labels: Labels
    compared: frozenset[str]
    """The labels copy detection compares, with their ``q`` prefix."""
    students: list[ManifestStudent]
    claims: Mapping[str, Claim]
    """Each student's files, as matching found them (:func:`claims.assign`)."""
    stage: Path | None
    """Where the feedback goes (None: nowhere, and the findings stay in the results)."""


def _one(job: _Job, index: int, copy_of: str = "") -> StudentRecord:
    """Grade student k and write their feedback: a light record for the parent.

    ``copy_of``: see :func:`grade_student`.
    """
    st = job.students[index]
    s = student_doc(st)
    with reading(st):
        v = variant_from_json(s, asked_only=True)
    claim = job.claims.get(st.student.student_id)
    files = claim.files if claim else []
    r, extra = grade_student(job.m, job.policy, v, files, copy_of, claim)
    answers = answers_at(r, job.m.decimals, job.compared)
    keys = copy_keys(s, job.labels)
    if job.stage is None:
        return StudentRecord(result=r, entry=b"", answers=answers, keys=keys, extra=tuple(extra))
    view = outputs.feedback_view(job.m, job.titles, r)
    folder = job.stage / "feedback"  # made once by grade(): no mkdir per file
    write_text(folder / f"{r.student_id}.md", outputs.feedback_md(view), mkdir=False)
    write_text(folder / f"{r.student_id}.html", outputs.feedback_html(view), mkdir=False)
    entry = outputs.result_entry(r).encode()  # UTF-8 here, in parallel: the parent only joins
    return StudentRecord(
        result=replace(r, findings=()), entry=entry, answers=answers, keys=keys, extra=tuple(extra)
    )


def _start(job: _Job, tick: Tick | None) -> Iterator[StudentRecord]:
    """Start grading; the records in roster order (see :func:`fork_map`)."""
    # small chunks: the two workers finish close together
    return fork_map(functools.partial(_one, job), len(job.students), tick, size=100)


def _row_json(result: StudentResult) -> dict[str, Any]:
    return {"student_id": result.student_id, "status": str(result.status), "file": result.file}
