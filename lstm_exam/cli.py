"""The `lstm-exam` command: thin wrappers that parse, call one library function, print."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from lstm_exam import __version__
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.export import write_export
from lstm_exam.generator.generate import Generated
from lstm_exam.generator.generate import generate as generate_worksheet
from lstm_exam.generator.render.latex import copy_templates
from lstm_exam.generator.render.pdfs import render_pdfs, rerender
from lstm_exam.generator.render.typeset import TEX_MISSING
from lstm_exam.generator.report import solution_json, solution_table
from lstm_exam.generator.spec import worksheet as spec_mod
from lstm_exam.generator.spec.problems import read_problem_file
from lstm_exam.generator.spec.roster import Student, numbered_roster, read_roster
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.store.manifest_read import load_manifest, read_manifest
from lstm_exam.graders.outputs import summary_text
from lstm_exam.graders.run import grade as grade_submissions

_TEMPLATES = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of custom templates (copies of the built-in ones, changed).",
)


def _reports_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input: one line on stderr, exit code 2, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            click.echo(f"error: {e.line()}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstm-exam")
def main() -> None:
    """LSTM hand-calculation worksheets: generate, solve, render, grade."""


@main.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print design.md's JSON instead of tables.")
@click.option("--full", is_flag=True, help="Show the full-precision chain beside the rounded one.")
@_reports_errors
def solve(file: Path | None, as_json: bool, full: bool) -> None:
    """Solve a problem file; without FILE, the lecture's forget-gate example."""
    path = file or spec_mod.builtin_path(spec_mod.LECTURE_EXAMPLE)
    problems = read_problem_file(path)
    sols = [p.solve() for p in problems]
    if as_json:
        click.echo(solution_json(problems, sols))
        return
    if file is None:
        click.echo("The lecture's forget-gate example (pass a problem file to solve your own):\n")
    for k, (p, s) in enumerate(zip(problems, sols, strict=True), start=1):
        if len(problems) > 1:
            click.echo(f"Problem {k}")
        click.echo(solution_table(p, s, full) + "\n")


@main.command()
@_reports_errors
def spec() -> None:
    """Print the built-in default spec, to copy and edit."""
    click.echo(spec_mod.builtin_path(spec_mod.DEFAULT_SPEC).read_text("utf-8"), nl=False)


@main.command()
@click.argument(
    "spec_file", metavar="[SPEC]", required=False, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Roster CSV (student_id,name,...). Default: the bundled sample roster.",
)
@click.option("--count", type=int, help="Instead of a roster: N students s001, s002, ...")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder. Default: output/<worksheet-slug>/.",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs (sheets and keys).")
@_TEMPLATES
@_reports_errors
def generate(
    spec_file: Path | None,
    roster: Path | None,
    count: int | None,
    out: Path | None,
    force: bool,
    no_pdf: bool,
    templates: Path | None,
) -> None:
    """Generate a worksheet for every student; without SPEC, the built-in weekly sheet."""
    if roster is not None and count is not None:
        raise InputError("--roster/--count", "", "give one of them, not both")
    ws = spec_mod.load_spec(spec_file)
    if templates is not None:  # kept in the manifest, so `render` uses it again
        ws = dataclasses.replace(ws, templates=str(templates.resolve()))
    if count is not None:
        students = numbered_roster(count)
    else:
        path = roster or spec_mod.builtin_path("sample-roster.csv")
        if roster is None:
            click.echo("No --roster given: using the bundled sample roster.", err=True)
        students = read_roster(path)
    target = out or Path(defaults.OUTPUT_ROOT) / ws.slug
    result = _generate_with_progress(ws, students, target, force, no_pdf, templates)
    click.echo(f"Wrote {result.students} variants of '{ws.title}' to {result.out}/")
    click.echo("  manifest.json        private: the seed and every answer (keep it to yourself)")
    click.echo("  problems/            each student's numbers (problem files)")
    click.echo("  answer-templates/    the CSV each student fills in")
    pdfs = not no_pdf and not _missing_tex(result.notes)
    click.echo(
        "  keys/                worked answer keys (CSV" + (" and PDF" if pdfs else "") + ")"
    )
    if pdfs:
        click.echo("  sheets/              each student's problem sheet (PDF)")
        click.echo("  class-sheets.pdf     every sheet, for printing; class-key.pdf: every key")
    _warn(result.notes)


def _generate_with_progress(
    ws: spec_mod.Worksheet,
    students: Sequence[Student],
    out: Path,
    force: bool,
    no_pdf: bool,
    templates: Path | None,
    seed: str | None = None,
) -> Generated:
    """`generate` with one bar: drawing each student, then splitting their sheet and key."""
    total = len(students) * (1 if no_pdf else 3)
    with click.progressbar(length=total, label="Generating", file=sys.stderr) as bar:

        def typeset(m: Manifest, stage: Path) -> list[str]:
            bar.label = "Typesetting"
            return render_pdfs(m, stage, templates, bar.update)

        return generate_worksheet(
            ws,
            students,
            out,
            force=force,
            pdf=not no_pdf,
            seed=seed,
            tick=bar.update,
            render=typeset,
        )


def _warn(notes: Sequence[str]) -> None:
    for note in notes:
        click.echo(f"warning: {note}", err=True)


class _Progress:
    """A progress bar that appears only once the work (and its length) is known,
    so that bad input stays one line."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def start(self, n: int) -> None:
        self.bar = click.progressbar(length=n, label=self.label, file=sys.stderr)
        self.bar.__enter__()

    def tick(self, k: int) -> None:
        if self.bar is not None:
            self.bar.update(k)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _check_demo_folder(out: Path) -> None:
    """The demo replaces its folder: refuse one that holds anything but an earlier demo."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    try:
        header, _ = read_manifest(out)
    except InputError:
        header = None
    if header is None or header.seed != defaults.DEMO_SEED:
        raise InputError(
            str(out),
            "",
            "holds something other than an earlier demo: "
            "choose another --out (the demo replaces its folder)",
        )


def _missing_tex(notes: tuple[str, ...] | list[str]) -> bool:
    return any(n.startswith(TEX_MISSING) for n in notes)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@_TEMPLATES
@_reports_errors
def render(folder: Path, templates: Path | None) -> None:
    """Rebuild the PDFs of a worksheet FOLDER from its manifest."""
    m = load_manifest(folder)
    with click.progressbar(length=2 * len(m.variants), label="Typesetting", file=sys.stderr) as bar:
        notes = rerender(folder, m, templates, bar.update)
    _warn(notes)
    if not _missing_tex(notes):
        click.echo(f"Wrote the sheets and keys of {len(m.variants)} students to {folder}/")


@main.command()
@click.argument("worksheet", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("submissions", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Results folder. Default: WORKSHEET/grades/.",
)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@_reports_errors
def grade(worksheet: Path, submissions: Path, out: Path | None, force: bool) -> None:
    """Grade the CSVs in SUBMISSIONS (a folder or a zip) against WORKSHEET's manifest."""
    target = out or worksheet / "grades"
    progress = _Progress("Grading")
    try:
        run = grade_submissions(
            worksheet, submissions, target, force=force, tick=progress.tick, on_start=progress.start
        )
    finally:
        progress.close()
    click.echo(summary_text(run))
    click.echo(f"Wrote gradebook.csv, feedback/ and results.json to {target}/")


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(defaults.OUTPUT_ROOT) / "demo",
    show_default=True,
    help="Where to write the demo worksheet (replaced if present).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs.")
@_reports_errors
def demo(out: Path, no_pdf: bool) -> None:
    """The whole routine on built-in data: generate the default worksheet for the sample
    roster (public demo seed), then grade the bundled sample submissions."""
    _check_demo_folder(out)
    ws = spec_mod.load_spec(None)
    students = read_roster(spec_mod.builtin_path("sample-roster.csv"))
    result = _generate_with_progress(ws, students, out, True, no_pdf, None, defaults.DEMO_SEED)
    _warn(result.notes)
    click.echo(f"1. Generated '{ws.title}' for {len(students)} students in {out}/")
    if not no_pdf and not _missing_tex(result.notes):
        click.echo(f"   sheets: {out}/class-sheets.pdf   keys: {out}/class-key.pdf")
    samples = spec_mod.builtin_path("sample-submissions")
    grades = out / "grades"
    click.echo(f"2. Grading the bundled sample submissions ({samples}):")
    run = grade_submissions(out, samples, grades, force=True)
    click.echo(summary_text(run))
    click.echo(f"   gradebook: {grades}/gradebook.csv   feedback: {grades}/feedback/")


@main.command()
@click.argument("problem_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to",
    "framework",
    type=click.Choice(["pytorch", "keras"]),
    required=True,
    help="The framework whose layout to write.",
)
@click.option(
    "--problem",
    "number",
    type=int,
    help="Which problem of the file (default: the first that holds all four gates).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder for the .npz and the script.",
)
@_reports_errors
def export(problem_file: Path, framework: str, number: int | None, out: Path) -> None:
    """Write a problem's weights for Keras or PyTorch (.npz) and a script that prints h_t."""
    npz, script = write_export(
        read_problem_file(problem_file), problem_file, framework, out, number
    )
    click.echo(f"Wrote {npz} and {script}")
    run = f"KERAS_BACKEND=torch python {script}" if framework == "keras" else f"python {script}"
    click.echo(f"Check a hand calculation: {run}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@_reports_errors
def templates(folder: Path) -> None:
    """Copy the built-in templates into FOLDER, to change the look of sheets and keys."""
    copied = copy_templates(folder)
    click.echo(
        f"Copied {len(copied)} templates to {folder}/; edit them, then pass "
        f'--templates {folder} to generate or render (or set templates = "{folder}" '
        "in the spec)."
    )
