"""Rosters and student ids: the strict check before an id becomes a file name."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.textfiles import DELIMITER_NAMES, decode_text, sniff_delimiter
from lstm_exam.generator.spec.validate import read_capped

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: File names Windows reserves (with any extension).
WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


@dataclass(frozen=True, slots=True)
class Student:
    """One student of the roster."""

    student_id: str
    """Checked: safe as a file name on every system."""
    name: str
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Further roster columns, kept (email, LMS id, ...)."""


def id_fault(student_id: str) -> str | None:
    """Why a student id cannot be a file name, or None when it can.

    >>> id_fault("s001") is None, id_fault("../x")
    (True, "'../x' may hold only letters, digits, '.', '_' and '-', starting with a letter or digit")
    """
    if not student_id:
        return "empty student id"
    if not _ID_RE.fullmatch(student_id):
        shown = student_id.encode("unicode_escape").decode("ascii")[:40]
        return (
            f"'{shown}' may hold only letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    if student_id.split(".")[0].lower() in WINDOWS_RESERVED:
        return f"'{student_id}' is a reserved file name on Windows"
    return None


def read_roster(path: Path, on_notice: Callable[[str], None] | None = None) -> tuple[Student, ...]:
    """Read a roster CSV (``student_id,name``, further columns kept), or an LMS's export
    of the class (:func:`_from_lms`): Moodle's grading worksheet or participants table,
    Canvas's gradebook; ``on_notice`` hears of the rows such an export has besides the
    students.

    Raises:
        InputError: on a missing column, an empty, unsafe or duplicate id.
    """
    file = str(path)
    raw = read_capped(path, defaults.MAX_ROSTER_BYTES, "roster")
    try:
        text, _ = decode_text(raw)
    except UnicodeDecodeError as e:
        raise InputError(
            file, "", f"it starts as UTF-16 text but is damaged ({e.reason})"
        ) from None
    delimiter = sniff_delimiter(text)  # Excel saves ';' where the decimal mark is ','
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as e:
        raise InputError(file, "line 1", f"not a CSV file ({e})") from None
    if "student_id" not in header and (kind := _lms_kind(header)):
        reader.fieldnames = header
        return _from_lms(kind, reader, file, on_notice)
    if "student_id" not in header:
        shown = ", ".join(repr(h[:30]) for h in header[:4]) or "nothing"
        raise InputError(
            file,
            "line 1",
            f"the header needs a student_id column (and name); it has {shown}"
            + ("" if delimiter == "," else f" ({DELIMITER_NAMES[delimiter]})"),
        )
    counts = Counter(header)  # header.count(h) for each h was quadratic: a wide header hung
    twice = next((h for h in header if h and counts[h] > 1), None)
    if twice is not None:
        raise InputError(file, "line 1", f"the header has two {twice} columns")
    reader.fieldnames = header
    checked = _Checked(file)
    for row in _rows(reader, file):
        extra = {
            k: (v or "").strip()
            for k, v in row.items()
            if k not in ("student_id", "name") and k is not None
        }
        checked.add(reader.line_num, row.get("student_id") or "", row.get("name") or "", extra)
    return checked.students()


class _Checked:
    """The roster's students, each checked as it is added (id, uniqueness, name)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.seen: dict[str, int] = {}
        self.list: list[Student] = []

    def add(self, line: int, sid: str, name: str, extra: Mapping[str, str]) -> None:
        file, sid, name = self.file, sid.strip(), name.strip()
        fault = id_fault(sid)
        if fault:
            raise InputError(file, f"line {line}", fault)
        if sid.lower() in self.seen:
            raise InputError(
                file, f"line {line}", f"student id '{sid}' repeats line {self.seen[sid.lower()]}"
            )
        if len(self.list) >= defaults.MAX_STUDENTS:  # as --count: the search is per student
            raise InputError(
                file,
                f"line {line}",
                f"more than {defaults.MAX_STUDENTS} students, the most a class may have",
            )
        self.seen[sid.lower()] = line
        if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
            raise InputError(file, f"line {line}", "the name holds a control character")
        if len(name) > defaults.MAX_NAME_CHARS:
            raise InputError(
                file,
                f"line {line}",
                f"the name is longer than {defaults.MAX_NAME_CHARS} characters",
            )
        self.list.append(Student(sid, name, MappingProxyType(dict(extra))))

    def students(self) -> tuple[Student, ...]:
        if not self.list:
            raise InputError(self.file, "", "the roster lists no students")
        return tuple(self.list)


# --- an LMS's export as the roster --------------------------------------------------------

_MOODLE_WORKSHEET = "Moodle grading worksheet"
_MOODLE_PARTICIPANTS = "Moodle participants export"
_CANVAS_GRADEBOOK = "Canvas gradebook export"


def _lms_kind(header: Sequence[str]) -> str | None:
    """Which LMS export a header (lower case) is, or None."""
    if {"identifier", "full name"} <= set(header):
        return _MOODLE_WORKSHEET
    if {"first name", "last name", "email address"} <= set(header):
        return _MOODLE_PARTICIPANTS
    if list(header[:2]) == ["student", "id"]:
        return _CANVAS_GRADEBOOK
    return None


def _id_from(*candidates: str) -> str:
    """The first candidate that is a safe student id (an e-mail address by its local
    part, ``+`` as ``-``), or empty."""
    for c in candidates:
        c = c.strip()
        if "@" in c:
            c = c.split("@", 1)[0].replace("+", "-")
        if c and id_fault(c) is None:
            return c
    return ""


def _from_lms(
    kind: str, reader: csv.DictReader, file: str, on_notice: Callable[[str], None] | None
) -> tuple[Student, ...]:
    """The students of an LMS's export, with the ids the LMS knows them by kept as
    columns (``participant_id``, ``canvas_id``, ``email``, ...) for matching their files:

    * Moodle's grading worksheet: ``Participant N`` as ``participant_id``; the id is the
      ``ID number`` column, else the e-mail's local part;
    * Moodle's participants export: students only (``Roles``), named "First Last"; ids as
      above;
    * Canvas's gradebook: the ``SIS User ID``, else the ``SIS Login ID``, else ``c`` and
      the Canvas ID; the ``Points Possible`` row and the test student left out.
    """
    checked = _Checked(file)
    left: list[str] = []
    for row in _rows(reader, file):
        line = reader.line_num
        cell = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if kind == _CANVAS_GRADEBOOK:
            name = cell.get("student", "")
            if name.casefold() in (
                "points possible",
                "student post policy",
                "test student",
                "student, test",
            ):
                left.append(f"line {line} ({name})")
                continue
            sid = _id_from(
                cell.get("sis user id", ""), cell.get("sis login id", ""), f"c{cell.get('id', '')}"
            )
            if name.count(",") == 1:  # Canvas's sortable "Last, First"
                last, first = name.split(",")
                name = f"{first.strip()} {last.strip()}"
            extra = {
                "canvas_id": cell.get("id", ""),
                "sis_login_id": cell.get("sis login id", ""),
                "section": cell.get("section", ""),
            }
        else:
            if kind == _MOODLE_PARTICIPANTS:
                roles = cell.get("roles", "Student")
                if "student" not in roles.casefold():
                    left.append(f"line {line} ({roles})")
                    continue
                name = f"{cell.get('first name', '')} {cell.get('last name', '')}"
                extra = {}
            else:
                name = cell.get("full name", "")
                ident = cell.get("identifier", "")
                number = ident.split(" ")[-1] if ident else ""
                if not number.isdigit():
                    raise InputError(
                        file,
                        f"line {line}",
                        f"the Identifier {ident[:40]!r} is not 'Participant N'",
                    )
                extra = {"participant_id": number}
            email = cell.get("email address", "")
            extra |= {"email": email}
            sid = _id_from(cell.get("id number", ""), email)
        if not sid:
            raise InputError(
                file,
                f"line {line}",
                f"no usable student id in this {kind} row (add an ID number, or use a student_id,name roster)",
            )
        checked.add(line, sid, name, {k: v for k, v in extra.items() if v})
    if left and on_notice is not None:
        on_notice(
            f"{file}: read as a {kind}; left out {len(left)} rows that are no students: "
            + ", ".join(left[:3])
            + (" ..." if len(left) > 3 else "")
        )
    elif on_notice is not None:
        on_notice(f"{file}: read as a {kind}")
    return checked.students()


def _rows(reader: csv.DictReader, file: str) -> Iterator[dict[str, str]]:
    """The roster's rows; a field too long for CSV (or broken quoting) is one line."""
    try:
        yield from reader
    except csv.Error as e:
        # the row that failed begins after the last one read
        raise InputError(
            file, f"line {reader.line_num + 1}", f"not a readable CSV row ({e})"
        ) from None


def numbered_roster(count: int) -> tuple[Student, ...]:
    """``count`` anonymous students s001, s002, ..."""
    if not 1 <= count <= defaults.MAX_STUDENTS:
        raise InputError("--count", "", f"{count} must be from 1 to {defaults.MAX_STUDENTS}")
    width = max(3, len(str(count)))
    return tuple(Student(f"s{k:0{width}d}", f"Student {k}") for k in range(1, count + 1))
