"""The commands that take a worksheet to the students and back: quiz, grade, send, demo.

Each imports the modules it needs when it is called (see :mod:`lstm_exam.api`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_exam.api.options import (
    DemoOptions,
    GenerateOptions,
    GradeOptions,
    MoodleZipOptions,
    QuizOptions,
    SendOptions,
)
from lstm_exam.api.progress import QUIET, Notice, Progress
from lstm_exam.api.worksheet import choose_students, generate_class, tex_missing
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError

if TYPE_CHECKING:
    from lstm_exam.generator.quiz.run import Quizzed
    from lstm_exam.generator.send.moodle import MoodleZip
    from lstm_exam.generator.send.run import SendReport
    from lstm_exam.generator.spec.worksheet import Worksheet
    from lstm_exam.generator.store.guard import Layout
    from lstm_exam.graders.run import GradeRun


# --- quiz ----------------------------------------------------------------------------------


def quiz_folder(worksheet: Worksheet, to: str, out: Path | None) -> Path:
    """Where `quiz` writes: ``out``, or output/<worksheet-slug>-<format>/."""
    return out or Path(defaults.OUTPUT_ROOT) / f"{worksheet.slug}-{to}"


def make_quiz(options: QuizOptions, progress: Progress = QUIET) -> Quizzed:
    """`quiz`: ``options.count`` variants of the worksheet (ids v001...; without a spec
    file the built-in one) as a quiz for ``options.to`` ("moodle", "canvas" or "html"),
    into ``options.out`` (by default output/<worksheet-slug>-<to>/); with ``key``, the
    key PDF of the variants. ``progress`` hears the stage ``"Drawing"`` (the units:
    variants × problems) once the work is known."""
    from lstm_exam.generator.generate import search_ticks
    from lstm_exam.generator.quiz.run import check_format, quiz_layout, quiz_roster, write_quiz
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.validate import check_seed
    from lstm_exam.generator.store.guard import check_folder

    check_format(options.to)
    quiz_roster(options.count)  # the count and the seed checked before the spec is read
    if options.seed is not None:
        check_seed(options.seed, "--seed", "")
    worksheet = spec_mod.load_spec(options.spec_file)
    target = quiz_folder(worksheet, options.to, options.out)
    templates = Path(worksheet.templates) if worksheet.templates else None
    inputs = {"the spec": options.spec_file, "the templates": templates}
    named = {what: path for what, path in inputs.items() if path is not None}
    check_folder(target, quiz_layout(worksheet.slug), named, options.force)
    if worksheet.seed == defaults.DEMO_SEED:
        progress.notice(Notice.DEMO_SEED, "")
    progress.stage("Drawing", search_ticks(worksheet, options.count))
    return write_quiz(
        worksheet,
        options.count,
        options.to,
        target,
        seed=options.seed,
        key=options.key,
        force=options.force,
        tick=progress.tick,
        templates=templates,
        tex_timeout=options.tex_timeout,
    )


def quiz_summary(result: Quizzed, to: str, seed_chosen: bool) -> list[str]:
    """What `quiz` prints at the end (:func:`quiz.run.summary_lines`)."""
    from lstm_exam.generator.quiz.run import summary_lines

    return summary_lines(result, to, seed_chosen)


# --- grade ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Graded:
    """What `grade` made."""

    run: GradeRun
    out: Path
    """The results folder."""
    summary: str
    """The summary for the user (several lines, no final newline)."""


def grades_folder(worksheet: Path, out: Path | None) -> Path:
    """Where `grade` writes: ``out``, or WORKSHEET/grades/."""
    return out or worksheet / "grades"


def grade_folder(options: GradeOptions, progress: Progress = QUIET) -> Graded:
    """`grade`: the filled PDF sheets and CSVs of ``options.submissions`` (a folder or a
    zip) against the worksheet's manifest; gradebook.csv, feedback/ and results.json
    written into ``options.out`` (by default WORKSHEET/grades/), matching files to
    students also through the LMS's exports and the instructor's map of files to
    students (:mod:`lstm_exam.graders.lms`). ``progress`` hears the stage ``"Grading"``."""
    from lstm_exam.graders.lms import LmsInputs
    from lstm_exam.graders.run import grade
    from lstm_exam.graders.summary import summary_text

    lms = LmsInputs(
        moodle_worksheet=options.moodle_worksheet,
        canvas_gradebook=options.canvas_gradebook,
        map_file=options.map_file,
        missing_zero=options.missing_zero,
        canvas_assignment=options.canvas_assignment,
    )
    target = grades_folder(options.worksheet, options.out)
    run = grade(
        options.worksheet,
        options.submissions,
        target,
        force=options.force,
        tick=progress.tick,
        on_start=lambda total: progress.stage("Grading", total),
        lms=lms,
    )
    return Graded(run=run, out=target, summary=summary_text(run))


# --- send ----------------------------------------------------------------------------------


def send_files(options: SendOptions, progress: Progress = QUIET) -> SendReport:
    """`send`: each student of the worksheet their own ``what`` ("sheets", "keys",
    "feedback": the latter from ``grades``, by default WORKSHEET/grades/) by e-mail
    through ``smtp`` ("HOST:PORT"), from ``sender``; or with ``dry_run`` (a folder), each
    message written there as ``<id>.eml`` and nothing sent (:class:`SendOptions`).
    ``progress`` hears the stage ``"Sending"`` (with ``dry_run``: ``"Writing"``)."""
    from lstm_exam.generator.send.mail import TLS, parse_address, parse_server, smtp_login
    from lstm_exam.generator.send.run import send

    if options.dry_run is not None and options.smtp is not None:
        raise InputError("--dry-run", "", "sends nothing: give --smtp or --dry-run, not both")
    server = parse_server(options.smtp) if options.smtp is not None else None
    address = parse_address(options.sender, "--from")
    environ = os.environ if options.environ is None else options.environ
    login = smtp_login(environ) if server else None
    starttls = options.starttls
    tls: TLS = "auto" if starttls is None else ("require" if starttls else "never")
    label = "Sending" if options.dry_run is None else "Writing"
    return send(
        options.worksheet,
        options.what,
        address,
        server,
        grades=options.grades,
        dry_run=options.dry_run,
        force=options.force,
        resend=options.resend,
        only=options.only,
        tls=tls,
        login=login,
        tick=progress.tick,
        on_start=lambda total: progress.stage(label, total),
    )


def send_moodle_zip(options: MoodleZipOptions) -> MoodleZip:
    """`send --moodle-zip`: each student's own ``what`` in one zip for Moodle's "Upload
    multiple feedback files in a zip", named by participant id (from the Moodle grading
    worksheet or the roster's ``participant_id``); written all or nothing, nothing sent."""
    from lstm_exam.generator.runtime import interrupts_held
    from lstm_exam.generator.send.moodle import made_moodle_zip, moodle_zip
    from lstm_exam.generator.send.outbox import open_outbox, parcels
    from lstm_exam.generator.store.files import locked, note_placed
    from lstm_exam.generator.store.guard import check_file, write_file
    from lstm_exam.graders.lms import moodle_worksheet_ids, read_table
    from lstm_exam.graders.matching import LmsIds

    worksheet, out = options.worksheet, options.out
    box = open_outbox(worksheet, options.what, options.grades)
    ids = LmsIds.from_roster(box.students)
    if options.moodle_worksheet is not None:
        table = read_table(options.moodle_worksheet, "Moodle grading worksheet")
        ids = ids.merged(moodle_worksheet_ids(table, box.students).ids)
    inputs = {
        "the worksheet folder": worksheet,
        "the grades folder": box.source if box.what == "feedback" else None,
        "the Moodle grading worksheet": options.moodle_worksheet,
    }
    named = {what: path for what, path in inputs.items() if path is not None}
    command = "send --moodle-zip"
    check_file(out, command, made_moodle_zip, named, options.force, host=worksheet)
    made = moodle_zip(parcels(box), ids.participant)
    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(out.absolute()):  # checked again: nothing changed it meanwhile
        check_file(out, command, made_moodle_zip, named, options.force, host=worksheet)
        with interrupts_held():  # the zip is whole or not there before Ctrl-C acts
            write_file(out, made.data)
            note_placed(out)
    return made


def send_summary(report: SendReport) -> list[str]:
    """What `send` prints at the end: the counts, then each student not sent and why."""
    from lstm_exam.generator.send.run import summary_lines

    return summary_lines(report)


# --- demo ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoGenerated:
    """The demo's first step: the worksheet made."""

    title: str
    students: int
    out: Path
    notes: tuple[str, ...]
    pdfs: bool
    """Whether the PDFs were made."""
    samples: Path
    """The bundled sample submissions, graded next (:func:`demo_grade`)."""


def demo_layout() -> Layout:
    """What `demo` makes: a worksheet, its results in grades/ (:mod:`store.guard`)."""
    from lstm_exam.generator.store.guard import WORKSHEET, Layout
    from lstm_exam.graders.run import RESULTS

    paths = (*WORKSHEET.paths, *(f"grades/{p}" for p in RESULTS.paths))
    return Layout("demo", "an earlier demo", paths, required=WORKSHEET.required)


def check_demo_folder(out: Path) -> None:
    """The demo replaces its folder: refuse one that holds anything but an earlier demo
    (a worksheet of the public demo seed and its grades), or lies where no output may."""
    from lstm_exam.generator.store.guard import check_place, check_target
    from lstm_exam.generator.store.manifest_read import read_settings

    check_place(out, {})
    try:
        check_target(out, demo_layout(), force=True)
        fresh = not out.is_dir() or not any(out.iterdir())
        earlier = fresh or read_settings(out).seed == defaults.DEMO_SEED
    except InputError:
        earlier = False
    if not earlier:
        raise InputError(
            str(out),
            "",
            "holds something other than an earlier demo: "
            "choose another --out (the demo replaces its folder)",
        )


def demo_generate(options: DemoOptions, progress: Progress = QUIET) -> DemoGenerated:
    """`demo`'s first step: the default worksheet for the sample roster (public demo
    seed) into ``options.out``, replacing an earlier demo there."""
    from lstm_exam.generator.spec import worksheet as spec_mod

    check_demo_folder(options.out)
    worksheet = spec_mod.load_spec(None)
    students = choose_students(None, None)
    generate = GenerateOptions(force=True, no_pdf=options.no_pdf, seed=defaults.DEMO_SEED)
    result = generate_class(
        worksheet, students, options.out, options=generate, progress=progress, layout=demo_layout()
    )
    return DemoGenerated(
        title=worksheet.title,
        students=len(students),
        out=options.out,
        notes=tuple(result.notes),
        pdfs=not options.no_pdf and not tex_missing(result.notes),
        samples=spec_mod.builtin_path("sample-submissions"),
    )


def demo_grade(step: DemoGenerated) -> Graded:
    """`demo`'s second step: the bundled sample submissions graded into ``out``/grades/."""
    options = GradeOptions(
        worksheet=step.out, submissions=step.samples, out=step.out / "grades", force=True
    )
    return grade_folder(options)
