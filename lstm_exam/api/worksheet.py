"""The commands of a worksheet folder: solve, spec, templates, generate, render, export.

Each imports the modules it needs when it is called, so that a command that renders no
PDF never loads the render stack (sympy, jinja2, pylatex, pikepdf).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_exam.api.options import (
    ExportOptions,
    GenerateOptions,
    RenderOptions,
    SolveOptions,
)
from lstm_exam.api.progress import QUIET, Notice, Progress
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError

if TYPE_CHECKING:
    from lstm_exam.generator.generate import Generated
    from lstm_exam.generator.spec.roster import Student
    from lstm_exam.generator.spec.worksheet import Worksheet
    from lstm_exam.generator.store.guard import Layout


# --- solve, spec, templates ----------------------------------------------------------------


def solve_text(options: SolveOptions) -> str:
    """What `solve` prints after its header: the solution of every problem of a problem
    file (tables, or the JSON of docs/formats.md); without a file, of the lecture's
    forget-gate example."""
    from lstm_exam.generator.report import solution_json, solution_table
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.problems import read_problem_file

    path = options.problem_file
    problems = read_problem_file(
        spec_mod.builtin_path(spec_mod.LECTURE_EXAMPLE) if path is None else path
    )
    solutions = [p.solve() for p in problems]
    if options.as_json:
        return solution_json(problems, solutions) + "\n"
    parts = []
    for number, (problem, solution) in enumerate(zip(problems, solutions, strict=True), 1):
        if len(problems) > 1:
            parts.append(f"Problem {number}\n")
        parts.append(solution_table(problem, solution, options.full) + "\n\n")
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


def finished_outputs() -> tuple[Path, ...]:
    """The outputs this process has written in full so far (each all at once: what a
    run stopped by Ctrl-C leaves changed), each once."""
    from lstm_exam.generator.store.files import placed

    return tuple(dict.fromkeys(placed()))


# --- generate and render -------------------------------------------------------------------


def tex_missing(notes: Sequence[str]) -> bool:
    """Whether the notes of a PDF stage say that TeX is missing (no PDFs were made)."""
    if not notes:  # no note at all: nothing to import
        return False
    from lstm_exam.generator.render.typeset import TEX_MISSING

    return any(n.startswith(TEX_MISSING) for n in notes)


def choose_students(
    roster: Path | None, count: int | None, progress: Progress = QUIET
) -> tuple[Student, ...]:
    """The class: a roster CSV, or ``count`` numbered students, or (neither given) the
    bundled sample roster, of which ``progress`` hears."""
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.roster import numbered_roster, read_roster

    if count is not None:
        return numbered_roster(count)
    if roster is None:
        progress.notice(Notice.SAMPLE_ROSTER, "")
    return read_roster(
        roster or spec_mod.builtin_path("sample-roster.csv"),
        lambda text: progress.notice(Notice.INPUT_NOTE, text),
    )


def output_folder(worksheet: Worksheet, out: Path | None) -> Path:
    """Where `generate` writes: ``out``, or output/<worksheet-slug>/."""
    return out or Path(defaults.OUTPUT_ROOT) / worksheet.slug


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


def generate_worksheet(options: GenerateOptions, progress: Progress = QUIET) -> Generated:
    """`generate`: a worksheet for every student of the class, into ``options.out`` (by
    default output/<worksheet-slug>/); without a spec file, the built-in weekly sheet.

    ``progress`` hears the stage ``"Generating"`` once the class is known (the units: a
    student and problem each, and the PDFs' own), then ``"Typesetting"`` when the PDFs
    begin; the PDF stage (and with it the render stack) is loaded only without ``no_pdf``.
    """
    from lstm_exam.generator.spec import worksheet as spec_mod
    from lstm_exam.generator.spec.validate import check_seed
    from lstm_exam.generator.store.guard import WORKSHEET, check_folder

    if options.roster is not None and options.count is not None:
        raise InputError("--roster/--count", "", "give one of them, not both")
    seed = options.seed
    if seed is not None:
        check_seed(seed, "seed", "")
    worksheet = spec_mod.load_spec(options.spec_file)
    templates = options.templates
    if templates is not None:  # kept in the manifest, so `render` uses it again
        worksheet = dataclasses.replace(worksheet, templates=str(templates.resolve()))
    elif worksheet.templates is not None:
        templates = Path(worksheet.templates)
        progress.notice(Notice.SPEC_TEMPLATES, str(templates))
    students = choose_students(options.roster, options.count, progress)
    target = output_folder(worksheet, options.out)
    inputs = {
        "the spec": options.spec_file,
        "the roster": options.roster,
        "the templates": templates,
    }
    named = {what: path for what, path in inputs.items() if path is not None}
    check_folder(target, WORKSHEET, named, options.force)
    if worksheet.seed == defaults.DEMO_SEED:
        progress.notice(Notice.DEMO_SEED, "")
    if options.force:
        fresh = options.new_seed or seed is not None or worksheet.seed is not None
        kept = replaced_seed(target, fresh)
        if kept is not None:
            progress.notice(Notice.KEPT_SEED, "")
        seed = seed or kept
    return generate_class(
        worksheet,
        students,
        target,
        options=dataclasses.replace(options, templates=templates, seed=seed),
        progress=progress,
    )


def generate_class(
    worksheet: Worksheet,
    students: Sequence[Student],
    out: Path,
    *,
    options: GenerateOptions,
    progress: Progress,
    layout: Layout | None = None,
) -> Generated:
    """Generate into ``out`` with ``options``'s force, seed and PDF stage (their other
    fields are read already); ``layout``: what the folder may hold to be replaced (a
    worksheet, by default)."""
    from lstm_exam.generator.generate import generate, search_ticks
    from lstm_exam.generator.render.writers import pdf_writers
    from lstm_exam.generator.store.guard import WORKSHEET

    writers = (
        ()
        if options.no_pdf
        else pdf_writers(options.templates, options.tex_timeout, options.duplex)
    )
    total = search_ticks(worksheet, len(students)) + sum(w.ticks(len(students)) for w in writers)
    progress.stage("Generating", total)
    return generate(
        worksheet,
        students,
        out,
        force=options.force,
        seed=options.seed,
        tick=progress.tick,
        writers=writers,
        on_writer=lambda writer: progress.stage(writer.name, total),
        layout=layout or WORKSHEET,
    )


def render_folder(options: RenderOptions, progress: Progress = QUIET) -> tuple[int, list[str]]:
    """`render`: rebuild the PDFs of a worksheet folder from its manifest; the number of
    students and the notes for the user. ``progress`` hears the stage ``"Typesetting"``
    (two units per student: their sheet and their key).

    Templates come from ``options.templates`` (the command line) only, never from the
    manifest, which is data that may have been edited or passed on: a worksheet made
    with custom templates is rendered again only with templates given (else one line
    says so).
    """
    from lstm_exam.generator.render.pdfs import check_renderable, rerender
    from lstm_exam.generator.store.manifest import MANIFEST
    from lstm_exam.generator.store.manifest_read import load_manifest

    folder = options.folder
    manifest = load_manifest(folder)
    if options.templates is None and manifest.templates is not None:
        raise InputError(
            str(folder / MANIFEST),
            "templates",
            "the worksheet was made with custom templates, which render takes only from "
            "its command line: pass --templates DIR (lstm-exam templates DIR copies the "
            "built-in ones)",
        )
    check_renderable(folder, manifest)  # before the progress bar: one line
    progress.stage("Typesetting", 2 * len(manifest.variants))
    notes = rerender(
        folder, manifest, options.templates, progress.tick, options.tex_timeout, options.duplex
    )
    return len(manifest.variants), notes


# --- export --------------------------------------------------------------------------------


def export_problem(options: ExportOptions) -> tuple[Path, Path]:
    """`export`: write a problem's weights for ``options.framework`` ("pytorch" or
    "keras") as an .npz and a script that prints h_t, into ``options.out``; their paths.
    ``options.number`` picks the problem of the file (default: the first that holds all
    four gates)."""
    from lstm_exam.generator.export import export_files, made_by_export
    from lstm_exam.generator.runtime import interrupts_held
    from lstm_exam.generator.spec.problems import read_problem_file
    from lstm_exam.generator.store.files import note_placed
    from lstm_exam.generator.store.guard import check_file, check_into, write_file

    problem_file, out = options.problem_file, options.out
    made = export_files(
        read_problem_file(problem_file), problem_file, options.framework, options.number
    )
    check_into(out)
    files = {out / name: data for name, data in made.items()}
    inputs = {"the problem file": problem_file}
    for replace in (True, options.force):  # first whose both files are, then whether to replace
        for path in files:
            check_file(path, "export", made_by_export, inputs, replace)
    with interrupts_held():  # two small files: both written before Ctrl-C acts
        for path, data in files.items():
            write_file(path, data)
            note_placed(path)
    npz, script = files
    return npz, script
