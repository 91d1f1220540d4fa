"""The `lstm-exam` command: thin wrappers that parse, call one library function, print.

The work is in :mod:`lstm_exam.api`, which loads the heavy modules (sympy and the render
stack) only in the commands that render: `--help`, `solve` or `grade` never import them.
"""

from __future__ import annotations

import os
import signal
import sys


def _quit_at_once(signum: int, frame: object) -> None:
    """Ctrl-C before a command has begun (while Python loads it): nothing to undo."""
    os.write(2, f"{_NOTHING_CHANGED}\n".encode())
    os._exit(_INTERRUPTED)


#: The exit code of an interrupted run (128 + SIGINT, as a shell reports it).
_INTERRUPTED = 130
_NOTHING_CHANGED = "interrupted: nothing was changed"
#: The exit code of a run whose output was closed (128 + SIGPIPE, as a shell reports it).
_PIPE_CLOSED = 141


def _the_program() -> bool:
    """Whether this process is `lstm-exam` (the console script or ``python -m lstm_exam``),
    not a program that imports the module (a test, a notebook)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return os.path.basename(sys.argv[0] if sys.argv else "") == "lstm-exam" or (
        spec is not None and spec.name == "lstm_exam.__main__"
    )


if _the_program():  # from the first line on: the imports below take a while
    signal.signal(signal.SIGINT, _quit_at_once)

import contextlib  # noqa: E402
import functools  # noqa: E402
import select  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from lstm_exam import __version__, api  # noqa: E402
from lstm_exam.generator.core.errors import InputError  # noqa: E402
from lstm_exam.generator.runtime import stop_at_first_interrupt  # noqa: E402

#: An input file: checked (and reported in one line) when it is read.
_FILE = click.Path(path_type=Path, dir_okay=False)
#: An output (a folder, or a file): checked by the guard of every output (one line).
_OUT = click.Path(path_type=Path)
_TEMPLATES = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of custom templates (copies of the built-in ones, changed).",
)
_NO_DUPLEX = click.option(
    "--no-duplex",
    is_flag=True,
    help="Class PDFs without the blank pages that start each student on a right-hand page.",
)
_TEX_TIMEOUT = click.option(
    "--tex-timeout",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="CPU time the templates and pdflatex may each take (default: 60 s and 1 s a student).",
)


def _reports_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input: one line on stderr, exit code 2, no traceback. Ctrl-C: one line saying
    what the run left (nothing, or what it had finished), exit code 130. A closed output
    (``| head``): one line, exit code 141."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = stop_at_first_interrupt()
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            _say(api.interrupted_line(sending=_sending()))
            _exit_interrupted()
        except InputError as e:
            _say(f"error: {e.line()}")
            sys.exit(2)
        except BrokenPipeError as e:
            if not _output_closed():
                _say(f"error: {e.filename or 'lstm-exam'}: {e.strerror or e}")
                sys.exit(2)
            _say("error: stdout: closed before everything was printed (broken pipe)")
            sys.exit(_PIPE_CLOSED)
        except OSError as e:  # no permission, a read-only folder, a full disk
            where = e.filename or "lstm-exam"
            _say(f"error: {where}: {e.strerror or e}")
            sys.exit(2)
        finally:  # the command is done: a late Ctrl-C has nothing left to stop
            signal.signal(signal.SIGINT, signal.SIG_IGN if before is _quit_at_once else before)

    return wrapper


def _exit_interrupted() -> None:
    """Exit 130. The program ends at once (its cleanup is done by now), so that no thread
    a stopped library left behind can keep it waiting; a caller of the module gets
    SystemExit."""
    if _the_program():
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(_INTERRUPTED)
    sys.exit(_INTERRUPTED)


def _say(line: str) -> None:
    """One line on stderr, if stderr can still take it."""
    with contextlib.suppress(OSError):
        click.echo(line, err=True)


def _sending() -> bool:
    """Whether this run is a `send` that delivers (its log is written as it goes)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "send":
        return False
    return not ctx.params.get("dry_run") and ctx.params.get("moodle_zip") is None


def _output_closed() -> bool:
    """Whether stdout or stderr is a pipe nobody reads any more (then everything later
    written to it is dropped, so Python's exit does not complain about it again)."""
    closed = False
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            if any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0)):
                closed = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, fd)
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no file behind it (a test's)
            continue
    return closed


def _warn(notes: Sequence[str]) -> None:
    for note in notes:
        click.echo(f"warning: {note}", err=True)


class _Progress:
    """A progress bar on stderr that appears only once the work (and its length) is
    known, so that bad input stays one line; its label follows the work's stages."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.bar: Any = None

    def start(self, n: int) -> None:
        self.bar = click.progressbar(length=n, label=self.label, file=sys.stderr)
        self.bar.__enter__()

    def stage(self, label: str, n: int) -> None:
        """A stage begins: the bar appears with its label, or takes the new label."""
        if self.bar is None:
            self.label = label
            self.start(n)
        else:
            self.bar.label = label

    def tick(self, k: int) -> None:
        if self.bar is not None:
            self.bar.update(k)

    def close(self) -> None:
        """The bar ends (once, however often it is closed)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _notice(text: str) -> None:
    click.echo(text, err=True)


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
@_reports_errors
def solve(file: Path | None, as_json: bool, full: bool) -> None:
    """Solve a problem file; without FILE, the lecture's forget-gate example."""
    click.echo(api.solve_file(file, as_json, full), nl=False)


@main.command()
@_reports_errors
def spec() -> None:
    """Print the built-in default spec, to copy and edit."""
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
    type=_OUT,
    help="Output folder. Default: output/<worksheet-slug>/.",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option(
    "--new-seed",
    is_flag=True,
    help="With --force over a worksheet: draw new numbers (default: keep its seed).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs (sheets and keys).")
@_TEMPLATES
@_TEX_TIMEOUT
@_NO_DUPLEX
@_reports_errors
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
    progress = _Progress()
    try:
        result = api.generate_worksheet(
            spec_file,
            roster,
            count,
            out,
            force,
            no_pdf,
            templates,
            tick=progress.tick,
            on_stage=progress.stage,
            on_notice=_notice,
            tex_timeout=tex_timeout,
            new_seed=new_seed,
            duplex=not no_duplex,
        )
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
    _warn(result.notes)


@main.command()
@click.argument("folder", type=_OUT)
@_TEMPLATES
@_TEX_TIMEOUT
@_NO_DUPLEX
@_reports_errors
def render(
    folder: Path, templates: Path | None, tex_timeout: float | None, no_duplex: bool
) -> None:
    """Rebuild the PDFs of a worksheet FOLDER from its manifest."""
    progress = _Progress("Typesetting")
    try:
        students, notes = api.render_folder(
            folder, templates, progress.tick, progress.start, tex_timeout, _notice, not no_duplex
        )
    finally:
        progress.close()
    _warn(notes)
    if not api.tex_missing(notes):
        click.echo(f"Wrote the sheets and keys of {students} students to {folder}/")


@main.command()
@click.argument("worksheet", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("submissions", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--out",
    type=_OUT,
    help="Results folder. Default: WORKSHEET/grades/.",
)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option(
    "--moodle-worksheet",
    type=_FILE,
    help="Moodle's grading worksheet of the assignment: matches folders by participant id.",
)
@click.option(
    "--canvas-gradebook",
    type=_FILE,
    help="Canvas's gradebook export: matches files by Canvas user id.",
)
@click.option(
    "--map",
    "map_file",
    type=_FILE,
    help="CSV file,student_id: files matched by hand (kept in the results folder).",
)
@click.option(
    "--canvas-assignment",
    metavar="TITLE",
    help="The Canvas gradebook's column to fill (default: titled as the worksheet).",
)
@click.option(
    "--missing",
    type=click.Choice(["blank", "zero"]),
    default="blank",
    show_default=True,
    help="The score of a student who sent nothing (blank: an LMS records no grade).",
)
@_reports_errors
def grade(
    worksheet: Path,
    submissions: Path,
    out: Path | None,
    force: bool,
    moodle_worksheet: Path | None,
    canvas_gradebook: Path | None,
    map_file: Path | None,
    missing: str,
    canvas_assignment: str | None,
) -> None:
    """Grade the filled PDF sheets and CSVs in SUBMISSIONS (a folder or a zip) against
    WORKSHEET's manifest."""
    progress = _Progress("Grading")
    try:
        graded = api.grade_folder(
            worksheet,
            submissions,
            out,
            force,
            tick=progress.tick,
            on_start=progress.start,
            moodle_worksheet=moodle_worksheet,
            canvas_gradebook=canvas_gradebook,
            map_file=map_file,
            missing_zero=missing == "zero",
            canvas_assignment=canvas_assignment,
        )
    finally:
        progress.close()
    click.echo(graded.summary)
    click.echo(f"Wrote gradebook.csv, feedback/, results.json and lms/ to {graded.out}/")


@main.command()
@click.argument("worksheet", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--what",
    type=click.Choice(["sheets", "keys", "feedback"]),
    required=True,
    help="sheets: sheet PDF and answer template; keys: key PDF; feedback: feedback HTML.",
)
@click.option("--smtp", metavar="HOST:PORT", help="The SMTP server, e.g. smtp.uni.edu:587.")
@click.option("--from", "sender", metavar="ADDRESS", help="The sender: 'Name <addr>'.")
@click.option(
    "--moodle-zip",
    type=_OUT,
    help="Send nothing: write one zip of every student's files for Moodle's "
    "'Upload multiple feedback files in a zip'.",
)
@click.option(
    "--moodle-worksheet",
    type=_FILE,
    help="With --moodle-zip: the grading worksheet, for the participant ids.",
)
@click.option(
    "--starttls/--no-starttls",
    default=None,
    help="Require STARTTLS, or never use it. Default: required unless the server is "
    "localhost. The login comes from LSTM_EXAM_SMTP_USER and LSTM_EXAM_SMTP_PASSWORD.",
)
@click.option(
    "--grades",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="With --what feedback: the grades folder. Default: WORKSHEET/grades/.",
)
@click.option("--dry-run", is_flag=True, help="Send nothing: write each message to --out.")
@click.option(
    "--out",
    type=_OUT,
    help="With --dry-run: the folder for the <id>.eml files.",
)
@click.option(
    "--force", is_flag=True, help="With --dry-run: replace a non-empty --out; a --moodle-zip."
)
@click.option("--resend", is_flag=True, help="Send again what the send log says was sent already.")
@click.option(
    "--student",
    "only",
    metavar="ID",
    multiple=True,
    help="Only this student (repeatable). Default: the whole roster.",
)
@_reports_errors
def send(
    worksheet: Path,
    what: str,
    smtp: str | None,
    sender: str | None,
    moodle_zip: Path | None,
    moodle_worksheet: Path | None,
    starttls: bool | None,
    grades: Path | None,
    dry_run: bool,
    out: Path | None,
    force: bool,
    resend: bool,
    only: tuple[str, ...],
) -> None:
    """E-mail each student of WORKSHEET their own sheet, key or feedback, or put them in
    one zip for a Moodle assignment (see docs/send.md)."""
    if moodle_zip is not None:
        if smtp or dry_run or sender or only or resend:
            raise InputError(
                "--moodle-zip",
                "",
                "sends nothing: no --smtp, --from, --dry-run, --student or --resend",
            )
        made = api.send_moodle_zip(
            worksheet,
            what,
            moodle_zip,
            moodle_worksheet=moodle_worksheet,
            grades=grades,
            force=force,
        )
        click.echo(f"Wrote the files of {len(made.students)} students to {moodle_zip}")
        for sid, why in made.left_out:
            click.echo(f"  left out {sid}: {why}")
        if made.left_out:
            sys.exit(1)
        return
    if moodle_worksheet is not None:
        raise InputError("--moodle-worksheet", "", "only with --moodle-zip")
    if sender is None:
        raise InputError("--from", "", "is needed to send e-mail (or write a --moodle-zip)")
    if dry_run and out is None:
        raise InputError("--dry-run", "", "needs --out DIR for the .eml files")
    if (out is not None or force) and not dry_run:
        option = "--out" if out is not None else "--force"
        raise InputError(option, "", "only with --dry-run (a real send writes no files)")
    progress = _Progress("Sending" if not dry_run else "Writing")
    try:
        report = api.send_files(
            worksheet,
            what,
            sender,
            smtp,
            grades=grades,
            dry_run=out if dry_run else None,
            force=force,
            resend=resend,
            only=only,
            starttls=starttls,
            tick=progress.tick,
            on_start=progress.start,
        )
    finally:
        progress.close()
    for line in api.send_summary(report):
        click.echo(line)
    if not report.complete:
        sys.exit(1)


@main.command()
@click.option(
    "--out",
    type=_OUT,
    default=api.DEMO_FOLDER,
    show_default=True,
    help="Where to write the demo worksheet (replaced if present).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDFs.")
@_reports_errors
def demo(out: Path, no_pdf: bool) -> None:
    """The whole routine on built-in data: generate the default worksheet for the sample
    roster (public demo seed), then grade the bundled sample submissions."""
    progress = _Progress()

    def generated(step: api.DemoGenerated) -> None:
        progress.close()
        _warn(step.notes)
        click.echo(f"1. Generated '{step.title}' for {step.students} students in {step.out}/")
        if step.pdfs:
            click.echo(f"   sheets: {step.out}/class-sheets.pdf   keys: {step.out}/class-key.pdf")
        click.echo(f"2. Grading the bundled sample submissions ({step.samples}):")

    try:
        result = api.demo(out, no_pdf, progress.tick, progress.stage, on_generated=generated)
    finally:
        progress.close()
    grades = result.graded.out
    click.echo(result.graded.summary)
    click.echo(f"   gradebook: {grades}/gradebook.csv   feedback: {grades}/feedback/")


@main.command()
@click.argument(
    "spec_file", metavar="[SPEC]", required=False, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--to",
    "to",
    type=click.Choice(["moodle", "canvas", "html"]),
    required=True,
    help="Moodle XML (Cloze), a Canvas QTI 1.2 zip, or the self-check web page.",
)
@click.option("--count", type=int, required=True, help="How many variants: v001, v002, ...")
@click.option(
    "--out",
    type=_OUT,
    help="Output folder. Default: output/<worksheet-slug>-<format>/.",
)
@click.option("--seed", help="The seed the variants are drawn from (default: the spec's, or new).")
@click.option("--key", is_flag=True, help="Also the key PDF of the variants (<slug>-key.pdf).")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@_TEX_TIMEOUT
@_reports_errors
def quiz(
    spec_file: Path | None,
    to: str,
    count: int,
    out: Path | None,
    seed: str | None,
    key: bool,
    force: bool,
    tex_timeout: float | None,
) -> None:
    """N variants of a worksheet as an LMS quiz; without SPEC, the built-in weekly sheet."""
    progress = _Progress()
    try:
        result = api.make_quiz(
            spec_file,
            to,
            count,
            out,
            seed,
            key,
            force,
            tick=progress.tick,
            on_stage=progress.stage,
            on_notice=_notice,
            tex_timeout=tex_timeout,
        )
    finally:
        progress.close()
    for line in api.quiz_summary(result, to, seed_chosen=seed is None):
        click.echo(line)
    _warn(result.notes)


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
    type=_OUT,
    default=Path("."),
    show_default=True,
    help="Folder for the .npz and the script.",
)
@click.option("--force", is_flag=True, help="Replace the files of an earlier export.")
@_reports_errors
def export(problem_file: Path, framework: str, number: int | None, out: Path, force: bool) -> None:
    """Write a problem's weights for Keras or PyTorch (.npz) and a script that prints h_t."""
    npz, script = api.export_problem(problem_file, framework, number, out, force)
    click.echo(f"Wrote {npz} and {script}")
    run = f"KERAS_BACKEND=torch python {script}" if framework == "keras" else f"python {script}"
    click.echo(f"Check a hand calculation: {run}")


@main.command()
@click.argument("folder", type=_OUT)
@_reports_errors
def templates(folder: Path) -> None:
    """Copy the built-in templates into FOLDER, to change the look of sheets and keys."""
    copied = api.copy_templates(folder)
    click.echo(
        f"Copied {len(copied)} templates to {folder}/; edit them, then pass "
        f'--templates {folder} to generate or render (or set templates = "{folder}" '
        "in the spec)."
    )
