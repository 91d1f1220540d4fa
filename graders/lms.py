"""The LMS's own exports read as identity: which roster student is which Moodle
participant or Canvas user, and the instructor's ``--map`` of files to students.

* Moodle's offline grading worksheet (Assignment > View all submissions > Download
  grading worksheet): a CSV whose ``Identifier`` column reads ``Participant 1830455``,
  with ``Full name``, ``Email address`` and the site's identity fields (``ID number``);
  its columns are found by their header text, as Moodle's own importer finds them
  (mod/assign/feedback/offline/importgradeslib.php).
* Canvas's gradebook export: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then the assignments, the second row ``Points Possible``
  (lib/gradebook_importer.rb).

Each export row is joined to one roster student: by e-mail, then by the LMS's or SIS's
id, then by name (:func:`matching.name_key`), never to two; what joins nobody is said.
What the upload files need of an export is checked when it is read, before anything is
graded: its columns, and the maximum the grades are scaled to, read as the LMS writes it
(:mod:`lmsnumbers`); a fault is one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.csvfiles import safe_cell, to_csv

from .lmsnumbers import ambiguous, points, read_number
from .lmstables import Joined, Table, join_rows, read_table, unjoined
from .matching import CANVAS_COLUMNS, PARTICIPANT_COLUMNS, LmsIds

MOODLE_PARTICIPANT = "participant "


def moodle_worksheet_ids(table: Table, students: Sequence[Student]) -> Joined:
    """Each roster student's participant id, from Moodle's grading worksheet.

    Raises:
        InputError: when the file has no ``Identifier`` column of ``Participant N``.
    """
    ident = table.column("Identifier")
    if ident is None:
        raise InputError(
            table.file, "line 1", "no 'Identifier' column: is this Moodle's grading worksheet?"
        )
    email, idnum, name = (
        table.column("Email address", "Email"),
        table.column("ID number", "Identity number"),
        table.column("Full name"),
    )

    def number(row: Sequence[str]) -> str:
        text = table.cell(row, ident)
        tail = (
            text[len(MOODLE_PARTICIPANT) :]
            if text.casefold().startswith(MOODLE_PARTICIPANT)
            else ""
        )
        return tail if tail.isdigit() else ""

    for k, row in enumerate(table.rows):
        if not number(row):
            raise InputError(
                table.file,
                f"line {table.lines[k]}",
                f"the Identifier {table.cell(row, ident)[:40]!r} is not 'Participant N'",
            )
    joined, notices = join_rows(
        table,
        students,
        lambda r: (number(r), table.cell(r, email), table.cell(r, idnum), table.cell(r, name)),
        lambda r: " ".join(
            (table.cell(r, ident), f"({table.cell(r, name)[:60]})" if table.cell(r, name) else "")
        ).strip(),
        PARTICIPANT_COLUMNS,
    )
    ids = {sid: number(table.rows[k]) for sid, k in joined.items()}
    # a team assignment's worksheet has a Team column: the evidence that lets a group
    # prefix be taken off a folder's name (matching.Matcher)
    team = table.column("Team", "Group")
    groups = {sid: g for sid, k in joined.items() if (g := table.cell(table.rows[k], team))}
    notices += unjoined(students, joined, table.file)
    return Joined(
        ids=LmsIds(participant=MappingProxyType(ids), group=MappingProxyType(groups)),
        rows=MappingProxyType(joined),
        notices=tuple(notices),
    )


#: The worksheet's columns that `grade` fills or needs to fill them: Moodle's importer
#: refuses a file without the first three (importgradeslib.php ``init``,
#: "invalidgradeimport"); the grades are scaled to the fourth.
MOODLE_NEEDED = ("Identifier", "Grade", "Last modified (grade)", "Maximum Grade")


def moodle_points(table: Table) -> tuple[Decimal, ...]:
    """Each row's ``Maximum Grade``, as Moodle writes it (:mod:`lmsnumbers`): ``1,000``
    is one point at three places only where the worksheet's grades show three places
    after that mark, as Moodle writes them; else it reads two ways, and is refused.

    Raises:
        InputError: naming the file and the missing column, or the row and the number.
    """
    if table.column("Maximum Grade") is None and table.column("Scale") is not None:
        raise InputError(
            table.file,
            "line 1",
            "the assignment is graded on a scale (a 'Scale' column): give it points in "
            "Moodle, lstm-exam writes points",
        )
    missing = [c for c in MOODLE_NEEDED if table.column(c) is None]
    if missing:
        names = " and ".join(repr(c) for c in missing)
        raise InputError(
            table.file,
            "line 1",
            f"no {names} column: download the grading worksheet again, with Moodle in "
            "English (its importer needs Identifier, Grade and Last modified (grade); "
            "the grades are scaled to Maximum Grade)",
        )
    max_at, grade_at = table.column("Maximum Grade"), table.column("Grade")
    marks = set()
    for row in table.rows:
        try:
            r = read_number(table.cell(row, grade_at))
        except ValueError:
            if table.cell(row, grade_at):
                marks.add("")
            continue
        marks.add(r.mark if r.places == 3 else "")
    three = marks.pop() if len(marks) == 1 else ""
    out = []
    for row, line in zip(table.rows, table.lines, strict=True):
        text = table.cell(row, max_at)
        try:
            r = read_number(text)
            if r.grouped is not None and r.mark != three:
                raise ValueError(ambiguous(r, text))
            out.append(points(r, text))
        except ValueError as e:
            raise InputError(table.file, f"line {line}, column 'Maximum Grade'", str(e)) from None
    return tuple(out)


def _is_points_row(row: Sequence[str]) -> bool:
    return bool(row) and row[0].strip().casefold() in ("points possible", "student post policy")


def canvas_gradebook_ids(table: Table, students: Sequence[Student]) -> Joined:
    """Each roster student's Canvas user id, from Canvas's gradebook export.

    Raises:
        InputError: when the file does not start with Canvas's ``Student`` and ``ID`` columns.
    """
    if [h.casefold() for h in table.header[:2]] != ["student", "id"]:
        raise InputError(
            table.file,
            "line 1",
            "no 'Student' and 'ID' columns first: is this Canvas's gradebook export?",
        )
    if table.column("Section") is None:
        raise InputError(
            table.file,
            "line 1",
            "no 'Section' column: Canvas's importer needs it to end the student columns "
            "(export the gradebook again)",
        )
    sis_id, login = table.column("SIS User ID"), table.column("SIS Login ID")
    people = Table(
        file=table.file,
        header=table.header,
        rows=tuple(r for r in table.rows if not _is_points_row(r)),
        lines=tuple(
            n for r, n in zip(table.rows, table.lines, strict=True) if not _is_points_row(r)
        ),
        delimiter=table.delimiter,
        encoding=table.encoding,
    )
    joined, notices = join_rows(
        people,
        students,
        lambda r: (
            table.cell(r, 1),
            table.cell(r, login),
            table.cell(r, sis_id),
            table.cell(r, 0),
        ),
        lambda r: f"{table.cell(r, 0)[:60]} (Canvas ID {table.cell(r, 1)[:20]})",
        CANVAS_COLUMNS,
    )
    ids = {}
    for sid, k in joined.items():
        uid = people.cell(people.rows[k], 1)
        if uid.isdigit():
            ids[sid] = uid
    notices += unjoined(students, joined, table.file)
    rows = {sid: table.rows.index(people.rows[k]) for sid, k in joined.items()}
    return Joined(
        ids=LmsIds(canvas=MappingProxyType(ids)),
        rows=MappingProxyType(rows),
        notices=tuple(notices),
    )


def canvas_first_assignment(table: Table) -> int:
    """Where the columns after the student columns begin (they end with ``Section``,
    checked when the export was read)."""
    section = table.column("Section")
    return 5 if section is None else section + 1


def canvas_column(table: Table, title: str) -> int | None:
    """The assignment column titled ``title`` (``Title (id)`` or the title alone, case
    aside), after the student columns (which end with ``Section``), or None."""
    want = title.strip().casefold()
    first = canvas_first_assignment(table)
    for k, h in enumerate(table.header):
        name = h.rsplit(" (", 1)[0] if h.rstrip().endswith(")") else h
        if k >= first and (h.strip().casefold() == want or name.strip().casefold() == want):
            return k
    return None


def canvas_points(table: Table, column: int) -> Decimal:
    """The ``Points Possible`` of the assignment in ``column``, as Canvas writes it (two
    places, never three: ``1,000`` is no number Canvas writes, and is refused).

    Raises:
        InputError: naming the file, the row and the column.
    """
    at = next(
        (k for k, r in enumerate(table.rows) if r[0].strip().casefold() == "points possible"),
        None,
    )
    if at is None:
        raise InputError(
            table.file, "", "no 'Points Possible' row: is this Canvas's gradebook export?"
        )
    text = table.cell(table.rows[at], column)
    place = f"line {table.lines[at]}, column {table.header[column][:60]!r}"
    try:
        r = read_number(text)
        if r.grouped is not None:
            raise ValueError(ambiguous(r, text))
        return points(r, text)
    except ValueError as e:
        raise InputError(table.file, place, f"points possible {e}") from None


#: The file the instructor's ``--map`` is kept as in the grades folder.
MAP_FILE = "map.csv"


def read_map(path: Path, students: Sequence[Student]) -> dict[str, str]:
    """The instructor's map of files to students: a CSV ``file,student_id``; ``file`` is
    the path as the gradebook's ``file`` column shows it.

    Raises:
        InputError: naming the line of a row with no such student or a file twice.
    """
    table = read_table(path, "map of files to students")
    fi, si = table.column("file"), table.column("student_id")
    if fi is None or si is None:
        raise InputError(str(path), "line 1", "the header needs 'file' and 'student_id' columns")
    ids = {s.student_id.casefold(): s.student_id for s in students}
    out: dict[str, str] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        file, sid = _unsafe(table.cell(row, fi)), table.cell(row, si)
        if not file:
            raise InputError(str(path), f"line {line}", "no file named")
        if sid.casefold() not in ids:
            raise InputError(
                str(path), f"line {line}", f"student id {sid[:40]!r} is not on the roster"
            )
        if file in out:
            raise InputError(str(path), f"line {line}", f"the file {file[:80]!r} is mapped twice")
        out[file] = ids[sid.casefold()]
    return out


def _unsafe(cell: str) -> str:
    """A file name as it was before :func:`safe_cell` (the gradebook's ``file`` column
    and the kept map are written so that no spreadsheet runs them).

    >>> _unsafe(safe_cell("=x.csv")), _unsafe("'s1.csv")
    ('=x.csv', "'s1.csv")
    """
    return cell[1:] if cell[:1] == "'" and safe_cell(cell[1:]) != cell[1:] else cell


def map_text(manual: Mapping[str, str]) -> str:
    """The map as it is kept in the grades folder (read back by :func:`read_map`)."""
    return to_csv(
        ["file", "student_id"], [[safe_cell(f), sid] for f, sid in sorted(manual.items())]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LmsInputs:
    """What `grade` is told besides the submissions: the LMS's exports, the map."""

    moodle_worksheet: Path | None = None
    canvas_gradebook: Path | None = None
    map_file: Path | None = None
    missing_zero: bool = False
    """A student who sent nothing scores 0 in the gradebook and the upload files (by
    default the score is left blank, so that an LMS import records no grade)."""
    canvas_assignment: str | None = None
    """The Canvas gradebook's column to fill (default: the one titled as the worksheet)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is who, for matching: the LMS numbers, the map, what was noticed."""

    ids: LmsIds
    manual: Mapping[str, str]
    notices: tuple[str, ...]
    moodle: tuple[Table, Joined] | None = None
    canvas: tuple[Table, Joined] | None = None
    missing_zero: bool = False
    moodle_points: tuple[Decimal, ...] = ()
    """Each worksheet row's ``Maximum Grade`` (:func:`moodle_points`)."""
    canvas_column: int | None = None
    """The Canvas export's column to fill (None: it has no assignment of that title)."""
    canvas_points: Decimal | None = None
    """That column's ``Points Possible``."""


def identity(
    lms: LmsInputs, students: Sequence[Student], kept_map: Path | None, title: str = ""
) -> Identity:
    """Read the exports and the map (``kept_map``: the map a previous `grade` kept in
    its grades folder, applied again when no ``--map`` is given); ``title``: the
    worksheet's, the Canvas column to fill unless ``lms`` names one.

    Raises:
        InputError: on an export or map that cannot be read, an export without the
            columns the upload files need or with a number of points no LMS writes.
    """
    ids = LmsIds()
    notices: list[str] = []
    moodle = canvas = None
    moodle_out_of: tuple[Decimal, ...] = ()
    column = out_of = None
    if lms.moodle_worksheet is not None:
        table = read_table(lms.moodle_worksheet, "Moodle grading worksheet")
        joined = moodle_worksheet_ids(table, students)
        moodle_out_of = moodle_points(table)
        ids, moodle = ids.merged(joined.ids), (table, joined)
        notices += joined.notices
    if lms.canvas_gradebook is not None:
        table = read_table(lms.canvas_gradebook, "Canvas gradebook export")
        joined = canvas_gradebook_ids(table, students)
        column = canvas_column(table, lms.canvas_assignment or title)
        out_of = None if column is None else canvas_points(table, column)
        ids, canvas = ids.merged(joined.ids), (table, joined)
        notices += joined.notices
    manual: dict[str, str] = {}
    if lms.map_file is not None:
        manual = read_map(lms.map_file, students)
    elif kept_map is not None and kept_map.is_file():
        manual = read_map(kept_map, students)
        notices.append(f"applied the map kept from the last grading, {kept_map}")
    return Identity(
        ids=ids,
        manual=MappingProxyType(manual),
        notices=tuple(notices),
        moodle=moodle,
        canvas=canvas,
        missing_zero=lms.missing_zero,
        moodle_points=moodle_out_of,
        canvas_column=column,
        canvas_points=out_of,
    )
