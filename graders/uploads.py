"""Grades and feedback back into the LMS, in the LMS's own upload formats (``lms/`` in
the grades folder; docs/lms.md has the steps to upload each):

* ``moodle-grading-worksheet.csv``: the downloaded grading worksheet, every row and
  column kept, ``Grade`` and ``Feedback comments`` filled (mod/assign/feedback/offline/
  importgradeslib.php reads it);
* ``moodle-feedback.zip``: each student's feedback page and key PDF in the folders
  "Upload multiple feedback files in a zip" reads (mod/assign/feedback/file/
  importziplib.php: ``Full Name_<participant>_assignfeedback_file_<file>``);
* ``moodle-grades.csv``: the gradebook import (grade/import/csv), a user column (email,
  and ID number where the roster has it), the total, one column per problem, a feedback
  column;
* ``canvas-gradebook.csv``: the downloaded gradebook export with the assignment's column
  filled, everything else as downloaded (lib/gradebook_importer.rb);
* ``canvas-feedback.zip``: each student's feedback page named with the user id and the
  attachment id of their own submission, for "Re-upload submissions"
  (``Assignment#generate_comments_from_files``).

A student who sent nothing is left blank (no grade) unless the run says missing is zero;
a grade held for the instructor (the answer key handed in) is left blank too.

What the instructor opens in a spreadsheet runs nothing: a text cell copied from the
export that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a tab or a
carriage return first, or behind spaces) is prefixed with ``'`` (:func:`safe_cell`), in every column the
LMS's importer does not read; the columns it reads (identifiers, grades, dates, feedback,
Canvas's notes) go back as downloaded, since a prefix would change what it imports, and
such a cell in them is said (docs/lms.md).

Pure functions: the tables and pages in, the files' bytes out.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from lstm_exam.generator.core.numbers import score_text
from lstm_exam.generator.store.csvfiles import safe_cell
from lstm_exam.generator.store.lmsnames import moodle_feedback_zip

from .lms import Identity, canvas_first_assignment
from .lmstables import EMAIL_COLUMNS, SIS_COLUMNS, Joined, Table
from .matching import Matcher, column_value, splits_for_canvas
from .results import GradeRun, Status, StudentResult


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """One file under ``lms/``."""

    name: str
    data: bytes


def _score_of(run: GradeRun, result: StudentResult) -> Decimal | None:
    """The share of the points (0 to 1) to record, or None for no grade."""
    if (result.status is Status.MISSING and not run.missing_zero) or result.held:
        return None
    if not result.max_score:
        return None
    return result.score / result.max_score


def _scaled(share: Decimal, out_of: Decimal) -> str:
    """``share`` of ``out_of`` points, to 2 places (as Moodle and Canvas show points)."""
    value = (share * out_of).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return score_text(value)


def _comment(run: GradeRun, result: StudentResult) -> str:
    """The feedback comment: the score and each problem's points (no text of the student's)."""
    if result.status is Status.MISSING:
        return "No submission was found." if run.missing_zero else ""
    if result.held:
        return ""
    parts = [
        f"{run.manifest.title}: {score_text(result.score)} / {score_text(result.max_score)} "
        f"({score_text(result.percent)}%)."
    ]
    parts += [
        f"Problem {k}: {score_text(s)} / {score_text(mx)}."
        for k, (s, mx) in enumerate(
            zip(result.problem_scores, result.max_scores, strict=True), start=1
        )
    ]
    if result.status is Status.UNREADABLE:
        parts.append("Your file could not be read: see your feedback page.")
    else:
        parts.append("Every answer is in your feedback page.")
    return " ".join(parts)


#: A cell no spreadsheet runs though it starts like a formula: a number, or ``-`` alone
#: (Moodle's "no date").
_INERT = re.compile(r"[+-]?[0-9][0-9.,]*|-")


def _inert(cell: str) -> str:
    """A text cell a spreadsheet will not run as a formula (:func:`safe_cell`)."""
    return cell if _INERT.fullmatch(cell) else safe_cell(cell)


def _neutralized(
    name: str, table: Table, rows: list[list[str]], kept: Callable[[int], bool]
) -> tuple[list[list[str]], list[str]]:
    """The rows with every formula-like cell made inert, except in the columns the LMS's
    importer reads (``kept``): those are left and said, with the header's."""
    said = [
        f"{table.header[k][:40]!r} (line 1)" for k, h in enumerate(table.header) if _inert(h) != h
    ]
    out = []
    for row, line in zip(rows, table.lines, strict=True):
        cells = []
        for k, cell in enumerate(row):
            if not kept(k):
                cells.append(_inert(cell))
                continue
            if _inert(cell) != cell:
                title = table.header[k][:40] if k < len(table.header) else f"column {k + 1}"
                said.append(f"{title!r} (line {line})")
            cells.append(cell)
        out.append(cells)
    if not said:
        return out, []
    where = ", ".join(said[:3]) + (" ..." if len(said) > 3 else "")
    return out, [
        f"{name}: {len(said)} cell(s) the LMS imports start like a spreadsheet formula, "
        f"left so that it imports them as they are: {where}; open the file with care"
    ]


def _write_table(table: Table, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """A table written back in the export's own delimiter and encoding."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=table.delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    if table.encoding == "UTF-16":
        return text.encode("utf-16")
    if table.encoding == "Latin-1":  # a character Latin-1 lacks (in a title) becomes "?"
        return text.encode("latin-1", errors="replace")
    bom = "\ufeff" if table.encoding == "UTF-8 with BOM" else ""
    return (bom + text).encode("utf-8")


MOODLE_WORKSHEET = "moodle-grading-worksheet.csv"


def moodle_worksheet(
    run: GradeRun, table: Table, joined: Joined, out_of: Sequence[Decimal]
) -> tuple[bytes, list[str]]:
    """The grading worksheet as downloaded, ``Grade`` (scaled to the row's ``Maximum
    Grade``, ``out_of``: :func:`lms.moodle_points`) and ``Feedback comments`` filled for
    each roster student it joined; ``Last modified (grade)`` kept as downloaded, since
    Moodle's importer compares it with the grade's own time to skip grades changed in
    Moodle after the download. Formula-like text made inert where the importer does not
    read it (it reads ``Identifier``, ``Grade``, ``Last modified (grade)`` and, after that,
    the feedback columns); what it reads is said."""
    grade_at, ident_at = table.column("Grade"), table.column("Identifier")
    modified_at = table.column("Last modified (grade)")
    comment_at = table.column("Feedback comments")
    assert grade_at is not None and modified_at is not None  # checked when it was read
    by_row = {k: sid for sid, k in joined.rows.items()}
    results = {r.student_id: r for r in run.results if r.on_roster}
    rows = []
    for k, row in enumerate(table.rows):
        cells = list(row) + [""] * (len(table.header) - len(row))
        r = results.get(by_row.get(k, ""))
        if r is not None:
            share = _score_of(run, r)
            if share is not None:
                cells[grade_at] = _scaled(share, out_of[k])
            if comment_at is not None and not r.held:  # held: the feedback as it was
                cells[comment_at] = _comment(run, r)
        rows.append(cells)
    rows, notices = _neutralized(
        MOODLE_WORKSHEET, table, rows, lambda c: c in (ident_at, grade_at) or c >= modified_at
    )
    return _write_table(table, table.header, rows), notices


def moodle_feedback(
    run: GradeRun,
    participant: Mapping[str, str],
    names: Mapping[str, str],
    files: Callable[[str], Sequence[tuple[str, bytes]]],
) -> bytes:
    """Each roster student's files (``files(student_id)``: (name, bytes)) in the zip
    Moodle's feedback-zip importer gives to their participant id
    (:func:`moodle_feedback_zip`); a student without one is left out."""

    def members() -> Iterator[tuple[str, str, str, bytes]]:
        for r in run.results:
            pid = participant.get(r.student_id) if r.on_roster else None
            if not pid:
                continue
            for file, data in files(r.student_id):
                yield names.get(r.student_id, ""), pid, file, data

    return moodle_feedback_zip(members())


def moodle_grades(run: GradeRun, item: str) -> tuple[bytes, list[str]]:
    """The gradebook import file: ``Email address`` (and ``ID number`` where the roster
    has one), the total, each problem, a feedback column; a student with no e-mail is left
    out (Moodle's importer gives a row without a user to the row before it) and said."""
    extra = run.extra
    has_id = any(column_value(extra.get(r.student_id, {}), SIS_COLUMNS) for r in run.results)
    header = ["Email address", *(["ID number"] if has_id else []), item]
    header += [f"{item}: problem {k}" for k in range(1, len(run.titles) + 1)]
    header.append(f"{item}: feedback")
    rows, notices = [], []
    for r in run.results:
        if not r.on_roster:
            continue
        mine = extra.get(r.student_id, {})
        email = column_value(mine, EMAIL_COLUMNS)
        if not email:
            notices.append(
                f"moodle-grades.csv: {r.student_id} has no e-mail on the roster: left out"
            )
            continue
        share = _score_of(run, r)
        total = "" if share is None else score_text(r.score)
        problems = (
            [""] * len(run.titles) if share is None else [score_text(s) for s in r.problem_scores]
        )
        row = [email, *([column_value(mine, SIS_COLUMNS)] if has_id else []), total, *problems]
        row.append(_comment(run, r))
        rows.append([safe_cell(c) for c in row])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8"), notices


CANVAS_GRADEBOOK = "canvas-gradebook.csv"


def canvas_gradebook(
    run: GradeRun, table: Table, joined: Joined, column: int, out_of: Decimal
) -> tuple[bytes, list[str]]:
    """The export with the assignment's column filled for each student it joined, scaled
    to its ``Points Possible`` (``out_of``: :func:`lms.canvas_points`); everything else
    (identity columns, other assignments, the read-only totals, the rows of students not
    on the roster) as downloaded. A student who sent nothing keeps the cell as downloaded
    (Canvas reads a blank as "no score", which would erase a grade given by hand), or 0
    when missing is zero. Formula-like text made inert in the names and sections (Canvas
    finds a student by the ``ID`` column first and imports neither); every other column
    it may import (ids, notes, grades) is kept and said."""
    by_row = {k: sid for sid, k in joined.rows.items()}
    results = {r.student_id: r for r in run.results if r.on_roster}
    rows = []
    for k, row in enumerate(table.rows):
        cells = list(row) + [""] * (len(table.header) - len(row))
        r = results.get(by_row.get(k, ""))
        if r is not None:
            share = _score_of(run, r)
            if share is not None:
                cells[column] = _scaled(share, out_of)
        rows.append(cells)
    names = {k for k, h in enumerate(table.header) if h.strip().casefold() in _CANVAS_TEXT}
    rows, notices = _neutralized(CANVAS_GRADEBOOK, table, rows, lambda c: c not in names)
    return _write_table(table, table.header, rows), notices


#: The Canvas export's columns its importer reads for nothing but a fallback match by
#: name (after the ``ID`` and SIS ids), or not at all.
_CANVAS_TEXT = ("student", "lastname", "firstname", "section")


def canvas_names(run: GradeRun, matcher: Matcher) -> dict[str, tuple[str, str, str]]:
    """Each student whose graded (or unreadable) file has a Canvas name of theirs: its
    (lastfirst, user id, attachment id), in roster order."""
    out = {}
    for r in run.results:
        if r.status is Status.GRADED or r.status is Status.UNREADABLE:
            ids = splits_for_canvas(matcher, r.file.rsplit("/", 1)[-1], r.student_id)
            if ids is not None:
                out[r.student_id] = ids
    return out


def canvas_feedback_zip(
    names: Mapping[str, tuple[str, str, str]],
    files: Callable[[str], Sequence[tuple[str, bytes]]],
) -> bytes:
    """Each student's files (``names``: :func:`canvas_names`) named
    ``<lastfirst>_<userid>_<attachmentid>_<file>`` from their own submission's Canvas name,
    so that Canvas's re-upload (which takes the first two all-digit parts of a name as the
    user and the attachment) files them as comments on that submission; ``lastfirst``
    loses its all-digit parts ("doejohn_3")."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for sid, (login, uid, att) in names.items():
            # as Canvas sanitizes it (letters, digits, '_'): a submitted name holds no path
            login = re.sub(r"[^\w]", "", login)
            login = "_".join(p for p in login.split("_") if p and not p.isdigit()) or "student"
            for file, data in files(sid):
                name = f"{login}_{uid}_{att}_{file}"
                z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def uploads(
    run: GradeRun,
    who: Identity,
    matcher: Matcher,
    files: Callable[[str], Sequence[tuple[str, bytes]]],
    canvas_assignment: str | None = None,
) -> tuple[list[Upload], list[str]]:
    """Every upload file the run's inputs allow, and what was left out and why."""
    out: list[Upload] = []
    notices: list[str] = []
    names = {r.student_id: r.name for r in run.results if r.on_roster}
    if who.moodle is not None:
        table, joined = who.moodle
        data, said = moodle_worksheet(run, table, joined, who.moodle_points)
        out.append(Upload(name=MOODLE_WORKSHEET, data=data))
        notices += said
    if who.ids.participant:
        out.append(
            Upload(
                name="moodle-feedback.zip",
                data=moodle_feedback(run, who.ids.participant, names, files),
            )
        )
    data, left = moodle_grades(run, run.manifest.title)
    out.append(Upload(name="moodle-grades.csv", data=data))
    notices += left
    if who.canvas is not None:
        table, joined = who.canvas
        title = canvas_assignment or run.manifest.title
        if who.canvas_column is None or who.canvas_points is None:
            first = canvas_first_assignment(table)
            titles = ", ".join(repr(h) for h in table.header[first : first + 4])
            notices.append(
                f"{CANVAS_GRADEBOOK} not written: the export has no assignment titled "
                f"{title!r}; name one with --canvas-assignment (it has {titles} ...)"
            )
        else:
            data, said = canvas_gradebook(run, table, joined, who.canvas_column, who.canvas_points)
            out.append(Upload(name=CANVAS_GRADEBOOK, data=data))
            notices += said
    canvas = canvas_names(run, matcher)
    if canvas:
        out.append(Upload(name="canvas-feedback.zip", data=canvas_feedback_zip(canvas, files)))
    return out, notices
