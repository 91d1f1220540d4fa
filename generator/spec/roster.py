"""Rosters and student ids: the strict check before an id becomes a file name."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
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


def read_roster(path: Path) -> tuple[Student, ...]:
    """Read a roster CSV (``student_id,name``, further columns kept).

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
    if "student_id" not in header:
        shown = ", ".join(repr(h[:30]) for h in header[:4]) or "nothing"
        raise InputError(
            file,
            "line 1",
            f"the header needs a student_id column (and name); it has {shown}"
            + ("" if delimiter == "," else f" ({DELIMITER_NAMES[delimiter]})"),
        )
    twice = next((h for h in header if h and header.count(h) > 1), None)
    if twice is not None:
        raise InputError(file, "line 1", f"the header has two {twice} columns")
    reader.fieldnames = header
    students: list[Student] = []
    seen: dict[str, int] = {}
    for row in _rows(reader, file):
        line = reader.line_num
        sid = (row.get("student_id") or "").strip()
        fault = id_fault(sid)
        if fault:
            raise InputError(file, f"line {line}", fault)
        if sid.lower() in seen:
            raise InputError(
                file, f"line {line}", f"student id '{sid}' repeats line {seen[sid.lower()]}"
            )
        seen[sid.lower()] = line
        name = (row.get("name") or "").strip()
        if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
            raise InputError(file, f"line {line}", "the name holds a control character")
        if len(name) > defaults.MAX_NAME_CHARS:
            raise InputError(
                file,
                f"line {line}",
                f"the name is longer than {defaults.MAX_NAME_CHARS} characters",
            )
        extra = {
            k: (v or "").strip()
            for k, v in row.items()
            if k not in ("student_id", "name") and k is not None
        }
        students.append(Student(sid, name, MappingProxyType(extra)))
    if not students:
        raise InputError(file, "", "the roster lists no students")
    return tuple(students)


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
    if not 1 <= count <= 100_000:
        raise InputError("--count", "", f"{count} must be from 1 to 100000")
    width = max(3, len(str(count)))
    return tuple(Student(f"s{k:0{width}d}", f"Student {k}") for k in range(1, count + 1))
