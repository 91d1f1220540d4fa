"""The library's face: one function per command of `lstm-exam`, doing its work without printing.

Importing this module is light (the standard library, the package's defaults and its error
type): each function imports the modules it needs when it is called, so that a command that
renders no PDF never loads the render stack (sympy, jinja2, pylatex, pikepdf).

Progress is reported through optional callbacks: ``tick(k)`` after k more units of work,
``on_start(n)`` once the length of the work is known, ``on_stage(label, n)`` when a stage
of it begins (``"Generating"``, ``"Typesetting"``), ``on_notice(text)`` for a note the user
should see before the work starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError

if TYPE_CHECKING:
    from lstm_exam.generator.generate import Generated
    from lstm_exam.generator.quiz.run import Quizzed
    from lstm_exam.generator.render.driver import ClassWriter
    from lstm_exam.generator.send.moodle import MoodleZip
    from lstm_exam.generator.send.run import SendReport
    from lstm_exam.generator.spec.roster import Student
    from lstm_exam.generator.spec.worksheet import Worksheet
    from lstm_exam.generator.store.guard import Layout
    from lstm_exam.graders.run import GradeRun

Tick = Callable[[int], None]
Start = Callable[[int], None]
Stage = Callable[[str, int], None]
Notice = Callable[[str], None]

#: Where `demo` writes by default.
DEMO_FOLDER = Path(defaults.OUTPUT_ROOT) / "demo"
#: The note `generate` gives when it falls back on the bundled sample roster.
SAMPLE_ROSTER_NOTICE = "No --roster given: using the bundled sample roster."


# --- solve, spec, templates ----------------------------------------------------------------


def solve_file(path: Path | None, as_json: bool = False, full: bool = False) -> str:
    """What `solve` prints: the solution of every problem of a problem file (tables, or
    the JSON of docs/formats.md); without a file, the lecture's forget-gate example."""
    from lstm_exam.generator.report import solution_json, solution_table
    from lstm_exam.generator.spec.problems import read_problem_file

    if path is None:
        from lstm_exam.generator.spec import worksheet as spec_mod

        problems = read_problem_file(spec_mod.builtin_path(spec_mod.LECTURE_EXAMPLE))
    else:
        problems = read_problem_file(path)
    sols = [p.solve() for p in problems]
    if as_json:
        return solution_json(problems, sols) + "\n"
    parts = []
    if path is None:
        parts.append(
            "The lecture's forget-gate example (pass a problem file to solve your own):\n\n"
        )
    for k, (p, s) in enumerate(zip(problems, sols, strict=True), start=1):
        if len(problems) > 1:
            parts.append(f"Problem {k}\n")
        parts.append(solution_table(p, s, full) + "\n\n")
    return "".join(parts)


def builtin_spec_text() -> str:
    """The built-in default spec, to copy and edit."""
    from lstm_exam.generator.spec import worksheet as spec_mod

    return spec_mod.builtin_path(spec_mod.DEFAULT_SPEC).read_text("utf-8")


def copy_templates(folder: Path) -> list[Path]:
    """Copy the built-in templates into ``folder`` (never into a worksheet folder, nor
    over a file); the files copied."""
    from lstm_exam.generator.render.latex import copy_templates as copy
    from lstm_exam.generator.runtime import interrupts_held
    from lstm_exam.generator.store.files import note_placed
    from lstm_exam.generator.store.guard import check_into

    check_into(folder)
    with interrupts_held():  # a few small files: all copied before Ctrl-C acts
        copied = copy(folder)
        note_placed(folder)
    return copied


# --- generate and render -------------------------------------------------------------------


def tex_missing(notes: Sequence[str]) -> bool:
    """Whether the notes of a PDF stage say that TeX is missing (no PDFs were made)."""
    if not notes:  # no note at all: nothing to import
        return False
    from lstm_exam.generator.render.typeset import TEX_MISSING

    return any(n.startswith(TEX_MISSING) for n in notes)


def choose_students(
    roster: Path | None, count: int | None, on_notice: Notice | None = None
) -> tuple[Student, ...]:
    """The class: a roster CSV, or ``count`` numbered students, or (neither given) the
    bundled sample roster, which ``on_notice`` is told of."""
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.roster import numbered_roster, read_roster

    if count is not None:
        return numbered_roster(count)
    if roster is None and on_notice is not None:
        on_notice(SAMPLE_ROSTER_NOTICE)
    return read_roster(roster or spec_mod.builtin_path("sample-roster.csv"), on_notice)


def output_folder(ws: Worksheet, out: Path | None) -> Path:
    """Where `generate` writes: ``out``, or output/<worksheet-slug>/."""
    return out or Path(defaults.OUTPUT_ROOT) / ws.slug


def replaced_seed(target: Path, new_seed: bool) -> str | None:
    """The seed of the worksheet ``generate --force`` would replace (so every student
    keeps their numbers), or None (no worksheet there, or ``new_seed``: a seed of its own).
    That the folder holds nothing but the worksheet is :mod:`store.guard`'s to check."""
    from lstm_exam.generator.store.manifest import MANIFEST
    from lstm_exam.generator.store.manifest_read import read_settings

    if new_seed or not (target / MANIFEST).is_file():
        return None
    from lstm_exam.generator.spec.validate import check_seed

    return check_seed(read_settings(target).seed, str(target / MANIFEST), "seed")


#: What `generate` says of a spec that gives the demo's public seed.
def templates_notice(folder: Path, named_by: str) -> str:
    """What a run says when it typesets with templates it was not given on its command line."""
    return (
        f"Typesetting with the custom templates in {folder}/ (named by {named_by}; "
        "--templates DIR chooses others)."
    )


DEMO_SEED_NOTICE = (
    "warning: the spec's seed is the public demo seed: anyone can work out every "
    "student's numbers; give the spec a secret seed of your own"
)

#: What `generate --force` says when it keeps the seed of the folder it replaces.
KEPT_SEED_NOTICE = (
    "Keeping the seed of the worksheet this replaces: every student keeps their numbers "
    "(--new-seed draws new ones)."
)


def generate_worksheet(
    spec_file: Path | None,
    roster: Path | None = None,
    count: int | None = None,
    out: Path | None = None,
    force: bool = False,
    no_pdf: bool = False,
    templates: Path | None = None,
    seed: str | None = None,
    tick: Tick | None = None,
    on_stage: Stage | None = None,
    on_notice: Notice | None = None,
    tex_timeout: float | None = None,
    new_seed: bool = False,
    duplex: bool = True,
) -> Generated:
    """`generate`: a worksheet for every student of the class, into ``out`` (by default
    output/<worksheet-slug>/); without ``spec_file``, the built-in weekly sheet.

    ``on_stage`` is called with ``("Generating", n)`` once the class is known (n units of
    work: a student and problem each, and the PDFs' own), then with ``("Typesetting", n)`` when the PDFs
    begin; the PDF stage (and with it the render stack) is loaded only without ``no_pdf``.
    """
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.validate import check_seed
    from lstm_exam.generator.store.guard import WORKSHEET, check_folder

    if roster is not None and count is not None:
        raise InputError("--roster/--count", "", "give one of them, not both")
    if seed is not None:
        check_seed(seed, "seed", "")
    ws = spec_mod.load_spec(spec_file)
    if templates is not None:  # kept in the manifest, so `render` uses it again
        ws = dataclasses.replace(ws, templates=str(templates.resolve()))
    elif ws.templates is not None:
        templates = Path(ws.templates)
        if on_notice is not None:
            on_notice(templates_notice(templates, "the spec"))
    students = choose_students(roster, count, on_notice)
    target = output_folder(ws, out)
    inputs = {"the spec": spec_file, "the roster": roster, "the templates": templates}
    named = {what: path for what, path in inputs.items() if path is not None}
    check_folder(target, WORKSHEET, named, force)
    if ws.seed == defaults.DEMO_SEED and on_notice is not None:
        on_notice(DEMO_SEED_NOTICE)
    if force:
        kept = replaced_seed(target, new_seed or seed is not None or ws.seed is not None)
        if kept is not None and on_notice is not None:
            on_notice(KEPT_SEED_NOTICE)
        seed = seed or kept
    return _generate(
        ws, students, target, force, no_pdf, templates, seed, tick, on_stage, tex_timeout, duplex
    )


def _generate(
    ws: Worksheet,
    students: Sequence[Student],
    out: Path,
    force: bool,
    no_pdf: bool,
    templates: Path | None,
    seed: str | None,
    tick: Tick | None,
    on_stage: Stage | None,
    tex_timeout: float | None = None,
    duplex: bool = True,
    layout: Layout | None = None,
) -> Generated:
    """Generate, with the PDF stage when asked for (see :func:`generate_worksheet`);
    ``layout``: what the folder may hold to be replaced (a worksheet, by default)."""
    from lstm_exam.generator.generate import generate, search_ticks
    from lstm_exam.generator.render.writers import pdf_writers

    writers = () if no_pdf else pdf_writers(templates, tex_timeout, duplex)
    total = search_ticks(ws, len(students)) + sum(w.ticks(len(students)) for w in writers)
    if on_stage is not None:
        on_stage("Generating", total)

    def starts(w: ClassWriter) -> None:
        if on_stage is not None:
            on_stage(w.name, total)

    from lstm_exam.generator.store.guard import WORKSHEET

    return generate(
        ws,
        students,
        out,
        force=force,
        seed=seed,
        tick=tick,
        writers=writers,
        on_writer=starts,
        layout=layout or WORKSHEET,
    )


def render_folder(
    folder: Path,
    templates: Path | None = None,
    tick: Tick | None = None,
    on_start: Start | None = None,
    tex_timeout: float | None = None,
    on_notice: Notice | None = None,
    duplex: bool = True,
) -> tuple[int, list[str]]:
    """`render`: rebuild the PDFs of a worksheet folder from its manifest; the number of
    students and the notes for the user. ``on_start`` learns the units of work (two per
    student: their sheet and their key).

    Templates come from ``templates`` (the command line) only, never from the manifest,
    which is data that may have been edited or passed on: a worksheet made with custom
    templates is rendered again only with ``templates`` given (else one line says so).
    ``on_notice`` is kept for callers: render has no notice of its own any more.
    """
    from lstm_exam.generator.render.pdfs import check_renderable, rerender
    from lstm_exam.generator.store.manifest import MANIFEST
    from lstm_exam.generator.store.manifest_read import load_manifest

    m = load_manifest(folder)
    if templates is None and m.templates is not None:
        raise InputError(
            str(folder / MANIFEST),
            "templates",
            "the worksheet was made with custom templates, which render takes only from "
            "its command line: pass --templates DIR (lstm-exam templates DIR copies the "
            "built-in ones)",
        )
    check_renderable(folder, m)  # before the progress bar: one line
    if on_start is not None:
        on_start(2 * len(m.variants))
    return len(m.variants), rerender(folder, m, templates, tick, tex_timeout, duplex)


# --- quiz ----------------------------------------------------------------------------------


def quiz_folder(ws: Worksheet, to: str, out: Path | None) -> Path:
    """Where `quiz` writes: ``out``, or output/<worksheet-slug>-<format>/."""
    return out or Path(defaults.OUTPUT_ROOT) / f"{ws.slug}-{to}"


def make_quiz(
    spec_file: Path | None,
    to: str,
    count: int,
    out: Path | None = None,
    seed: str | None = None,
    key: bool = False,
    force: bool = False,
    tick: Tick | None = None,
    on_stage: Stage | None = None,
    on_notice: Notice | None = None,
    tex_timeout: float | None = None,
) -> Quizzed:
    """`quiz`: ``count`` variants of the worksheet (ids v001...; without ``spec_file`` the
    built-in one) as a quiz for ``to`` ("moodle", "canvas" or "html"), into ``out`` (by
    default output/<worksheet-slug>-<to>/); with ``key``, the key PDF of the variants.
    ``on_stage`` hears ``("Drawing", units)`` (students × problems) once the work is known."""
    from lstm_exam.generator.quiz.run import check_format, quiz_layout, quiz_roster, write_quiz
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.validate import check_seed
    from lstm_exam.generator.store.guard import check_folder

    check_format(to)
    quiz_roster(count)  # the count and the seed checked before the spec is read
    if seed is not None:
        check_seed(seed, "--seed", "")
    ws = spec_mod.load_spec(spec_file)
    target = quiz_folder(ws, to, out)
    templates = Path(ws.templates) if ws.templates else None
    inputs = {"the spec": spec_file, "the templates": templates}
    named = {what: path for what, path in inputs.items() if path is not None}
    check_folder(target, quiz_layout(ws.slug), named, force)
    if ws.seed == defaults.DEMO_SEED and on_notice is not None:
        on_notice(DEMO_SEED_NOTICE)
    if on_stage is not None:
        from lstm_exam.generator.generate import search_ticks

        on_stage("Drawing", search_ticks(ws, count))
    return write_quiz(
        ws,
        count,
        to,
        target,
        seed=seed,
        key=key,
        force=force,
        tick=tick,
        templates=templates,
        tex_timeout=tex_timeout,
    )


# --- grade ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Graded:
    """What `grade` made."""

    run: GradeRun
    out: Path
    """The results folder."""
    summary: str
    """The summary for the user (several lines, no final newline)."""


def quiz_summary(result: Quizzed, to: str, seed_chosen: bool) -> list[str]:
    """What `quiz` prints at the end (:func:`quiz.run.summary_lines`)."""
    from lstm_exam.generator.quiz.run import summary_lines

    return summary_lines(result, to, seed_chosen)


def grades_folder(worksheet: Path, out: Path | None) -> Path:
    """Where `grade` writes: ``out``, or WORKSHEET/grades/."""
    return out or worksheet / "grades"


def grade_folder(
    worksheet: Path,
    submissions: Path,
    out: Path | None = None,
    force: bool = False,
    tick: Tick | None = None,
    on_start: Start | None = None,
    moodle_worksheet: Path | None = None,
    canvas_gradebook: Path | None = None,
    map_file: Path | None = None,
    missing_zero: bool = False,
    canvas_assignment: str | None = None,
) -> Graded:
    """`grade`: the filled PDF sheets and CSVs in ``submissions`` (a folder or a zip)
    against the worksheet's manifest; gradebook.csv, feedback/ and results.json written into ``out`` (by default
    WORKSHEET/grades/), matching files to students also through the LMS's exports and the
    instructor's map of files to students (:mod:`lstm_exam.graders.lms`)."""
    from lstm_exam.graders.lms import LmsInputs
    from lstm_exam.graders.run import grade
    from lstm_exam.graders.summary import summary_text

    lms = LmsInputs(moodle_worksheet, canvas_gradebook, map_file, missing_zero, canvas_assignment)
    target = grades_folder(worksheet, out)
    run = grade(worksheet, submissions, target, force=force, tick=tick, on_start=on_start, lms=lms)
    return Graded(run, target, summary_text(run))


# --- send ----------------------------------------------------------------------------------


def send_files(
    worksheet: Path,
    what: str,
    sender: str,
    smtp: str | None = None,
    *,
    grades: Path | None = None,
    dry_run: Path | None = None,
    force: bool = False,
    resend: bool = False,
    only: Sequence[str] = (),
    starttls: bool | None = None,
    environ: Mapping[str, str] | None = None,
    tick: Tick | None = None,
    on_start: Start | None = None,
) -> SendReport:
    """`send`: each student of the worksheet their own ``what`` ("sheets", "keys",
    "feedback": the latter from ``grades``, by default WORKSHEET/grades/) by e-mail
    through ``smtp`` ("HOST:PORT"), from ``sender``; or with ``dry_run`` (a folder), each
    message written there as ``<id>.eml`` and nothing sent.

    ``starttls``: True requires STARTTLS, False never uses it, None (the default) requires
    it unless the server is this machine. The login comes from ``environ`` (by default
    the process's environment): LSTM_EXAM_SMTP_USER and LSTM_EXAM_SMTP_PASSWORD.
    """
    import os

    from lstm_exam.generator.send.mail import TLS, parse_address, parse_server, smtp_login
    from lstm_exam.generator.send.run import send

    if dry_run is not None and smtp is not None:
        raise InputError("--dry-run", "", "sends nothing: give --smtp or --dry-run, not both")
    server = parse_server(smtp) if smtp is not None else None
    address = parse_address(sender, "--from")
    login = smtp_login(os.environ if environ is None else environ) if server else None
    tls: TLS = "auto" if starttls is None else ("require" if starttls else "never")
    return send(
        worksheet,
        what,
        address,
        server,
        grades=grades,
        dry_run=dry_run,
        force=force,
        resend=resend,
        only=only,
        tls=tls,
        login=login,
        tick=tick,
        on_start=on_start,
    )


def send_moodle_zip(
    worksheet: Path,
    what: str,
    out: Path,
    *,
    moodle_worksheet: Path | None = None,
    grades: Path | None = None,
    force: bool = False,
) -> MoodleZip:
    """`send --moodle-zip`: each student's own ``what`` in one zip for Moodle's "Upload
    multiple feedback files in a zip", named by participant id (from ``moodle_worksheet``
    or the roster's ``participant_id``); written all or nothing, nothing sent."""
    from lstm_exam.generator.runtime import interrupts_held
    from lstm_exam.generator.send.moodle import made_moodle_zip, moodle_zip
    from lstm_exam.generator.send.outbox import open_outbox, parcels
    from lstm_exam.generator.store.files import locked, note_placed
    from lstm_exam.generator.store.guard import check_file, write_file
    from lstm_exam.graders.lms import moodle_worksheet_ids, read_table
    from lstm_exam.graders.matching import LmsIds

    box = open_outbox(worksheet, what, grades)
    ids = LmsIds.from_roster(box.students)
    if moodle_worksheet is not None:
        table = read_table(moodle_worksheet, "Moodle grading worksheet")
        ids = ids.merged(moodle_worksheet_ids(table, box.students).ids)
    inputs = {
        "the worksheet folder": worksheet,
        "the grades folder": box.source if box.what == "feedback" else None,
        "the Moodle grading worksheet": moodle_worksheet,
    }
    named = {what: path for what, path in inputs.items() if path is not None}
    check_file(out, "send --moodle-zip", made_moodle_zip, named, force, host=worksheet)
    made = moodle_zip(parcels(box), ids.participant)
    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(out.absolute()):  # checked again: nothing changed it meanwhile
        check_file(out, "send --moodle-zip", made_moodle_zip, named, force, host=worksheet)
        with interrupts_held():  # the zip is whole or not there before Ctrl-C acts
            write_file(out, made.data)
            note_placed(out)
    return made


def send_summary(report: SendReport) -> list[str]:
    """What `send` prints at the end: the counts, then each student not sent and why."""
    from lstm_exam.generator.send.run import summary_lines

    return summary_lines(report)


# --- Ctrl-C --------------------------------------------------------------------------------


def interrupted_line(sending: bool = False) -> str:
    """What a run stopped by Ctrl-C says: that nothing was changed (every output is
    written all at once, so an interrupted one is as it was), or which outputs it had
    finished before; for a `send` that delivers (``sending``), that its log knows what
    went out."""
    from lstm_exam.generator.store.files import placed

    if sending:
        return (
            f"interrupted: {defaults.SEND_LOG} records every message sent so far; a rerun "
            "sends the rest (one cut off mid-delivery is held back: it may have arrived)"
        )
    done = placed()
    if not done:
        return "interrupted: nothing was changed"
    names = ", ".join(_shown_path(p) for p in dict.fromkeys(done))
    return f"interrupted: nothing was changed but {names}, written in full before"


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- demo ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoGenerated:
    """The demo's first step: the worksheet made."""

    title: str
    students: int
    out: Path
    notes: tuple[str, ...]
    pdfs: bool
    """Whether the PDFs were made."""
    samples: Path
    """The bundled sample submissions, graded next."""


@dataclass(frozen=True, slots=True)
class Demo:
    """What `demo` made."""

    generated: DemoGenerated
    graded: Graded


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


def demo(
    out: Path = DEMO_FOLDER,
    no_pdf: bool = False,
    tick: Tick | None = None,
    on_stage: Stage | None = None,
    on_generated: Callable[[DemoGenerated], None] | None = None,
) -> Demo:
    """`demo`: the whole routine on built-in data: generate the default worksheet for the
    sample roster (public demo seed) into ``out``, then grade the bundled sample
    submissions into ``out``/grades/. ``on_generated`` is told of the first step before
    the second begins."""
    from lstm_exam.generator.spec import worksheet as spec_mod

    check_demo_folder(out)
    ws = spec_mod.load_spec(None)
    students = choose_students(None, None)
    result = _generate(
        ws,
        students,
        out,
        True,
        no_pdf,
        None,
        defaults.DEMO_SEED,
        tick,
        on_stage,
        layout=demo_layout(),
    )
    step = DemoGenerated(
        ws.title,
        len(students),
        out,
        result.notes,
        not no_pdf and not tex_missing(result.notes),
        spec_mod.builtin_path("sample-submissions"),
    )
    if on_generated is not None:
        on_generated(step)
    return Demo(step, grade_folder(out, step.samples, out / "grades", force=True))


# --- export --------------------------------------------------------------------------------


def export_problem(
    problem_file: Path,
    framework: str,
    number: int | None = None,
    out: Path = Path("."),
    force: bool = False,
) -> tuple[Path, Path]:
    """`export`: write a problem's weights for ``framework`` ("pytorch" or "keras") as an
    .npz and a script that prints h_t, into ``out``; their paths. ``number`` picks the
    problem of the file (default: the first that holds all four gates)."""
    from lstm_exam.generator.export import export_files, made_by_export
    from lstm_exam.generator.runtime import interrupts_held
    from lstm_exam.generator.spec.problems import read_problem_file
    from lstm_exam.generator.store.files import note_placed
    from lstm_exam.generator.store.guard import check_file, check_into, write_file

    made = export_files(read_problem_file(problem_file), problem_file, framework, number)
    check_into(out)
    files = {out / name: data for name, data in made.items()}
    inputs = {"the problem file": problem_file}
    for replace in (True, force):  # first whose both files are, then whether to replace them
        for path in files:
            check_file(path, "export", made_by_export, inputs, replace)
    with interrupts_held():  # two small files: both written before Ctrl-C acts
        for path, data in files.items():
            write_file(path, data)
            note_placed(path)
    npz, script = files
    return npz, script
