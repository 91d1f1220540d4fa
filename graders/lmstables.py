"""An LMS export as a table, and its rows joined to the roster: by e-mail, then by the
LMS's or SIS's id, then by name (:func:`matching.name_key`), never to two; what joins
nobody is said. :mod:`lms` reads Moodle's and Canvas's exports through these."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.textfiles import decode_text, sniff_delimiter
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.validate import read_capped

from .matching import LmsIds, column_value, name_key

#: Roster columns that may hold a student's e-mail address.
EMAIL_COLUMNS = ("email", "e-mail", "email address", "mail")
#: Roster columns that may hold the id an LMS or SIS knows the student by.
SIS_COLUMNS = ("idnumber", "id_number", "id number", "sis_id", "sis_user_id", "student_number")


@dataclass(frozen=True, slots=True, kw_only=True)
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
    return Table(
        file=str(path),
        header=header,
        rows=tuple(rows[1:]),
        lines=tuple(lines[1:]),
        delimiter=delimiter,
        encoding=encoding,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined:
    """An export's rows joined to the roster."""

    ids: LmsIds
    rows: Mapping[str, int]
    """Student id -> the export row (index into :attr:`Table.rows`) that is theirs."""
    notices: tuple[str, ...]
    """Rows that joined nobody or were ambiguous, students no row joined."""


def _other_email(student: Student, email: str) -> bool:
    mine = column_value(student.extra, EMAIL_COLUMNS)
    return bool(mine) and mine.casefold() != email.casefold()


def join_rows(
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


def unjoined(students: Sequence[Student], joined: Mapping[str, int], file: str) -> list[str]:
    missing = [s.student_id for s in students if s.student_id not in joined]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
    many = "students" if len(missing) > 1 else "student"
    return [f"{file}: no row for {len(missing)} roster {many} ({shown})"]
