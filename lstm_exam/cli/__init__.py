"""The `lstm-exam` command: thin wrappers that parse, call one library function, print.

The work is in :mod:`lstm_exam.api`, imported when a command runs (so `--help` loads
click alone), which loads the heavy modules (sympy and the render stack) only in the
commands that render: `--help`, `solve` or `grade` never import them. Errors, notices
and the progress bar are :mod:`lstm_exam.cli.terminal`'s.
"""

from __future__ import annotations

import signal

from lstm_exam.cli.exits import quit_at_once, the_program

if the_program():  # from the first line on: the imports below take a while
    signal.signal(signal.SIGINT, quit_at_once)

from pathlib import Path

import click

from lstm_exam import __version__
from lstm_exam.cli.deliver import grade, quiz, send
from lstm_exam.cli.params import NO_DUPLEX, OUT, TEMPLATES, TEX_TIMEOUT
from lstm_exam.cli.terminal import Bar, reports_errors, warn
from lstm_exam.generator.core.defaults import OUTPUT_ROOT

#: Where `demo` writes by default (:data:`lstm_exam.api.DEMO_FOLDER`).
_DEMO_FOLDER = Path(OUTPUT_ROOT) / "demo"
#: What `solve` without a file says first.
_SOLVE_EXAMPLE = "The lecture's forget-gate example (pass a problem file to solve your own):\n\n"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstm-exam")
def main() -> None:
    """LSTM hand-calculation worksheets: generate, solve, render, grade."""


@main.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print every intermediate as JSON (docs/formats.md) instead of tables.",
)
@click.option("--full", is_flag=True, help="Show the full-precision chain beside the rounded one.")
@reports_errors
def solve(file: Path | None, as_json: bool, full: bool) -> None:
    """Solve a problem file; without FILE, the lecture's forget-gate example."""
    from lstm_exam import api

    text = api.solve_text(api.SolveOptions(problem_file=file, as_json=as_json, full=full))
    click.echo((_SOLVE_EXAMPLE if file is None and not as_json else "") + text, nl=False)


@main.command()
@reports_errors
def spec() -> None:
    """Print the built-in default spec, to copy and edit."""
    from lstm_exam import api

    click.echo(api.builtin_spec_text(), nl=False)


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
    type=OUT,
    help="Output folder. Default: output/<worksheet-slug>/.",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option(
    "--new-seed",
    is_flag=True,
    help="With --force over a worksheet: draw new numbers (default: keep its seed).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs (sheets and keys).")
@TEMPLATES
@TEX_TIMEOUT
@NO_DUPLEX
@reports_errors
def generate(
    spec_file: Path | None,
    roster: Path | None,
    count: int | None,
    out: Path | None,
    force: bool,
    no_pdf: bool,
    templates: Path | None,
    tex_timeout: float | None,
    new_seed: bool,
    no_duplex: bool,
) -> None:
    """Generate a worksheet for every student; without SPEC, the built-in weekly sheet."""
    from lstm_exam import api

    options = api.GenerateOptions(
        spec_file=spec_file,
        roster=roster,
        count=count,
        out=out,
        force=force,
        new_seed=new_seed,
        no_pdf=no_pdf,
        templates=templates,
        tex_timeout=tex_timeout,
        duplex=not no_duplex,
    )
    progress = Bar()
    try:
        result = api.generate_worksheet(options, progress)
    finally:
        progress.close()
    click.echo(f"Wrote {result.students} variants of '{result.settings.title}' to {result.out}/")
    click.echo("  manifest.json        private: the seed and every answer (keep it to yourself)")
    click.echo("                       (--force here again keeps the seed; --new-seed draws anew)")
    click.echo("  problems/            each student's numbers (problem files)")
    click.echo("  answer-templates/    the CSV each student fills in")
    pdfs = not no_pdf and not api.tex_missing(result.notes)
    click.echo(
        "  keys/                worked answer keys (CSV" + (" and PDF" if pdfs else "") + ")"
    )
    if pdfs:
        click.echo("  sheets/              each student's problem sheet (PDF)")
        click.echo("  class-sheets.pdf     every sheet, for printing; class-key.pdf: every key")
    warn(result.notes)


@main.command()
@click.argument("folder", type=OUT)
@TEMPLATES
@TEX_TIMEOUT
@NO_DUPLEX
@reports_errors
def render(
    folder: Path, templates: Path | None, tex_timeout: float | None, no_duplex: bool
) -> None:
    """Rebuild the PDFs of a worksheet FOLDER from its manifest."""
    from lstm_exam import api

    options = api.RenderOptions(
        folder=folder, templates=templates, tex_timeout=tex_timeout, duplex=not no_duplex
    )
    progress = Bar()
    try:
        students, notes = api.render_folder(options, progress)
    finally:
        progress.close()
    warn(notes)
    if not api.tex_missing(notes):
        click.echo(f"Wrote the sheets and keys of {students} students to {folder}/")


@main.command()
@click.option(
    "--out",
    type=OUT,
    default=_DEMO_FOLDER,
    show_default=True,
    help="Where to write the demo worksheet (replaced if present).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs.")
@reports_errors
def demo(out: Path, no_pdf: bool) -> None:
    """The whole routine on built-in data: generate the default worksheet for the sample
    roster (public demo seed), then grade the bundled sample submissions."""
    from lstm_exam import api

    progress = Bar()
    try:
        step = api.demo_generate(api.DemoOptions(out=out, no_pdf=no_pdf), progress)
    finally:
        progress.close()
    warn(step.notes)
    click.echo(f"1. Generated '{step.title}' for {step.students} students in {step.out}/")
    if step.pdfs:
        click.echo(f"   sheets: {step.out}/class-sheets.pdf   keys: {step.out}/class-key.pdf")
    click.echo(f"2. Grading the bundled sample submissions ({step.samples}):")
    graded = api.demo_grade(step)
    grades = graded.out
    click.echo(graded.summary)
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
    type=OUT,
    default=Path("."),
    show_default=True,
    help="Folder for the .npz and the script.",
)
@click.option("--force", is_flag=True, help="Replace the files of an earlier export.")
@reports_errors
def export(problem_file: Path, framework: str, number: int | None, out: Path, force: bool) -> None:
    """Write a problem's weights for Keras or PyTorch (.npz) and a script that prints h_t."""
    from lstm_exam import api

    options = api.ExportOptions(
        problem_file=problem_file, framework=framework, number=number, out=out, force=force
    )
    npz, script = api.export_problem(options)
    click.echo(f"Wrote {npz} and {script}")
    run = f"KERAS_BACKEND=torch python {script}" if framework == "keras" else f"python {script}"
    click.echo(f"Check a hand calculation: {run}")


@main.command()
@click.argument("folder", type=OUT)
@reports_errors
def templates(folder: Path) -> None:
    """Copy the built-in templates into FOLDER, to change the look of sheets and keys."""
    from lstm_exam import api

    copied = api.copy_templates(folder)
    click.echo(
        f"Copied {len(copied)} templates to {folder}/; edit them, then pass "
        f'--templates {folder} to generate or render (or set templates = "{folder}" '
        "in the spec)."
    )


for command in (grade, send, quiz):
    main.add_command(command)
