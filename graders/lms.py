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

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.textfiles import decode_text, sniff_delimiter
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.validate import read_capped
from lstm_exam.generator.store.csvfiles import safe_cell, to_csv

from .lmsnumbers import ambiguous, points, read_number
from .matching import CANVAS_COLUMNS, PARTICIPANT_COLUMNS, LmsIds, column_value, name_key

#: Roster columns that may hold a student's e-mail address.
EMAIL_COLUMNS = ("email", "e-mail", "email address", "mail")
#: Roster columns that may hold the id an LMS or SIS knows the student by.
SIS_COLUMNS = ("idnumber", "id_number", "id number", "sis_id", "sis_user_id", "student_number")


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV export as read: its header, rows, and how it was written (kept, so that an
    upload file can be written back in the same encoding and delimiter)."""

    file: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    """Each row's line in the file."""
    delimiter: str
    encoding: str

    def column(self, *names: str) -> int | None:
        """The first column whose header is one of ``names`` (case and spaces aside)."""
        folded = [h.strip().casefold() for h in self.header]
        for n in names:
            if n.casefold() in folded:
                return folded.index(n.casefold())
        return None

    def cell(self, row: Sequence[str], at: int | None) -> str:
        return row[at].strip() if at is not None and at < len(row) else ""


def read_table(path: Path, what: str) -> Table:
    """A CSV export (UTF-8 with or without BOM, UTF-16, or Latin-1; comma, semicolon or
    tab), size-capped.

    Raises:
        InputError: naming the file (and line) when it cannot be read as CSV.
    """
    raw = read_capped(path, defaults.MAX_ROSTER_BYTES, what)
    try:
        text, encoding = decode_text(raw)
    except UnicodeDecodeError as e:
        raise InputError(str(path), "", f"damaged UTF-16 text ({e.reason})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "UTF-8 with BOM"  # as Moodle writes its worksheet: written back so
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append(tuple(row))
                lines.append(reader.line_num)
    except csv.Error as e:
        raise InputError(
            str(path), f"line {reader.line_num + 1}", f"not readable CSV ({e})"
        ) from None
    if not rows:
        raise InputError(str(path), "", f"empty: is this a {what}?")
    header = tuple(c.strip().lstrip("\ufeff") for c in rows[0])
    return Table(str(path), header, tuple(rows[1:]), tuple(lines[1:]), delimiter, encoding)


@dataclass(frozen=True, slots=True)
class Joined:
    """An export's rows joined to the roster."""

    ids: LmsIds
    rows: Mapping[str, int]
    """Student id -> the export row (index into :attr:`Table.rows`) that is theirs."""
    notices: tuple[str, ...]
    """Rows that joined nobody or were ambiguous, students no row joined."""


def _other_email(s: Student, email: str) -> bool:
    mine = column_value(s.extra, EMAIL_COLUMNS)
    return bool(mine) and mine.casefold() != email.casefold()


def _join(
    table: Table,
    students: Sequence[Student],
    keys: Callable[[Sequence[str]], tuple[str, str, str, str]],
    label: Callable[[Sequence[str]], str],
    lms_columns: Sequence[str],
) -> tuple[dict[str, int], list[str]]:
    """Each row to one roster student: the LMS's own number where the roster has it
    (``lms_columns``), then e-mail, then id, then name (see module doc). ``keys`` gives
    a row's (LMS number, e-mail, id, name)."""
    by_lms: dict[str, list[Student]] = {}
    by_email: dict[str, list[Student]] = {}
    by_sis: dict[str, list[Student]] = {}
    by_name: dict[str, list[Student]] = {}
    for s in students:
        if n := column_value(s.extra, lms_columns):
            by_lms.setdefault(n, []).append(s)
        if e := column_value(s.extra, EMAIL_COLUMNS).casefold():
            by_email.setdefault(e, []).append(s)
        for v in {s.student_id, column_value(s.extra, SIS_COLUMNS)} - {""}:
            by_sis.setdefault(v.casefold(), []).append(s)
        if s.name:
            by_name.setdefault(name_key(s.name), []).append(s)
    joined: dict[str, int] = {}
    notices = []
    for k, row in enumerate(table.rows):
        number, email, sis, name = keys(row)
        found: list[Student] = []
        by = ""
        for how, index, key in (
            ("number", by_lms, number),
            ("e-mail", by_email, email.casefold()),
            ("id", by_sis, sis.casefold()),
            ("name", by_name, name_key(name)),
        ):
            if key and index.get(key):
                found, by = index[key], how
                break
        where = f"{table.file}, line {table.lines[k]}"
        if by == "name" and "@" in email:
            # a namesake is no match where both sides know an e-mail address and they differ
            other = [s for s in found if _other_email(s, email)]
            if other and len(other) == len(found):
                shown = ", ".join(s.student_id for s in other)
                notices.append(
                    f"{where}: {label(row)} has the e-mail {email[:60]}, not that of "
                    f"{shown}: joined to nobody"
                )
                continue
            found = [s for s in found if s not in other]
        if len(found) > 1:
            both = " and ".join(s.student_id for s in found)
            notices.append(f"{where}: {label(row)} fits {both} equally: joined to neither")
        elif not found:
            notices.append(f"{where}: {label(row)} is on no roster line")
        elif found[0].student_id in joined:
            notices.append(
                f"{where}: {label(row)} is {found[0].student_id} again: the first row was kept"
            )
        else:
            joined[found[0].student_id] = k
    return joined, notices


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
    joined, notices = _join(
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
    notices += _unjoined(students, joined, table.file)
    return Joined(
        LmsIds(participant=MappingProxyType(ids), group=MappingProxyType(groups)),
        MappingProxyType(joined),
        tuple(notices),
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
        table.file,
        table.header,
        tuple(r for r in table.rows if not _is_points_row(r)),
        tuple(n for r, n in zip(table.rows, table.lines, strict=True) if not _is_points_row(r)),
        table.delimiter,
        table.encoding,
    )
    joined, notices = _join(
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
    notices += _unjoined(students, joined, table.file)
    rows = {sid: table.rows.index(people.rows[k]) for sid, k in joined.items()}
    return Joined(LmsIds(canvas=MappingProxyType(ids)), MappingProxyType(rows), tuple(notices))


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


def _unjoined(students: Sequence[Student], joined: Mapping[str, int], file: str) -> list[str]:
    missing = [s.student_id for s in students if s.student_id not in joined]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
    many = "students" if len(missing) > 1 else "student"
    return [f"{file}: no row for {len(missing)} roster {many} ({shown})"]


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


@dataclass(frozen=True, slots=True)
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
