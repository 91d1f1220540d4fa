"""The commands that take a worksheet to the students and back: grade, send, quiz.

They are commands of :func:`lstm_exam.cli.main`, which adds them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lstm_exam.cli.params import FILE, OUT, TEX_TIMEOUT
from lstm_exam.cli.terminal import Bar, reports_errors, warn
from lstm_exam.generator.core.defaults import QUIZ_FORMATS


@click.command()
@click.argument("worksheet", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("submissions", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--out",
    type=OUT,
    help="Results folder. Default: WORKSHEET/grades/.",
)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option(
    "--moodle-worksheet",
    type=FILE,
    help="Moodle's grading worksheet of the assignment: matches folders by participant id.",
)
@click.option(
    "--canvas-gradebook",
    type=FILE,
    help="Canvas's gradebook export: matches files by Canvas user id.",
)
@click.option(
    "--map",
    "map_file",
    type=FILE,
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
@reports_errors
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
    from lstm_exam import api

    options = api.GradeOptions(
        worksheet=worksheet,
        submissions=submissions,
        out=out,
        force=force,
        moodle_worksheet=moodle_worksheet,
        canvas_gradebook=canvas_gradebook,
        map_file=map_file,
        missing_zero=missing == "zero",
        canvas_assignment=canvas_assignment,
    )
    progress = Bar()
    try:
        graded = api.grade_folder(options, progress)
    finally:
        progress.close()
    click.echo(graded.summary)
    click.echo(f"Wrote gradebook.csv, feedback/, results.json and lms/ to {graded.out}/")


@click.command()
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
    type=OUT,
    help="Send nothing: write one zip of every student's files for Moodle's "
    "'Upload multiple feedback files in a zip'.",
)
@click.option(
    "--moodle-worksheet",
    type=FILE,
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
    type=OUT,
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
@reports_errors
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
    from lstm_exam import api
    from lstm_exam.generator.core.errors import InputError

    if moodle_zip is not None:
        if smtp or dry_run or sender or only or resend:
            raise InputError(
                "--moodle-zip",
                "",
                "sends nothing: no --smtp, --from, --dry-run, --student or --resend",
            )
        made = api.send_moodle_zip(
            api.MoodleZipOptions(
                worksheet=worksheet,
                what=what,
                out=moodle_zip,
                moodle_worksheet=moodle_worksheet,
                grades=grades,
                force=force,
            )
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
    options = api.SendOptions(
        worksheet=worksheet,
        what=what,
        sender=sender,
        smtp=smtp,
        grades=grades,
        dry_run=out if dry_run else None,
        force=force,
        resend=resend,
        only=only,
        starttls=starttls,
    )
    progress = Bar()
    try:
        report = api.send_files(options, progress)
    finally:
        progress.close()
    for line in api.send_summary(report):
        click.echo(line)
    if not report.complete:
        sys.exit(1)


@click.command()
@click.argument(
    "spec_file", metavar="[SPEC]", required=False, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--to",
    "to",
    type=click.Choice(QUIZ_FORMATS),
    required=True,
    help="Moodle XML (Cloze), a Canvas QTI 1.2 zip, or the self-check web page.",
)
@click.option("--count", type=int, required=True, help="How many variants: v001, v002, ...")
@click.option(
    "--out",
    type=OUT,
    help="Output folder. Default: output/<worksheet-slug>-<format>/.",
)
@click.option("--seed", help="The seed the variants are drawn from (default: the spec's, or new).")
@click.option("--key", is_flag=True, help="Also the key PDF of the variants (<slug>-key.pdf).")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@TEX_TIMEOUT
@reports_errors
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
    from lstm_exam import api

    options = api.QuizOptions(
        spec_file=spec_file,
        to=to,
        count=count,
        out=out,
        seed=seed,
        key=key,
        force=force,
        tex_timeout=tex_timeout,
    )
    progress = Bar()
    try:
        result = api.make_quiz(options, progress)
    finally:
        progress.close()
    for line in api.quiz_summary(result, to, seed_chosen=seed is None):
        click.echo(line)
    warn(result.notes)
