"""Reading an answer CSV: the answer template as a student filled it, in whatever a
spreadsheet saved (an encoding, a delimiter, a decimal comma, no header row)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from lstm_exam.generator.core.defaults import MAX_FILE_BYTES, MAX_ROWS
from lstm_exam.generator.core.textfiles import DELIMITER_NAMES, decode_text, sniff_delimiter

from .sheet import KEY_ONLY, Cell, Sheet, Unreadable

#: Control characters no text file holds (a binary file's first 4 KB).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return decode_text(data)
    except UnicodeDecodeError:
        raise Unreadable("the file claims UTF-16 but is damaged") from None


def read_sheet(data: bytes) -> Sheet:
    """Parse a submission; raise Unreadable with a reason a student understands."""
    if not data:
        raise Unreadable("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    if data.startswith(b"PK\x03\x04"):
        raise Unreadable("this is an Excel (.xlsx) or zip file, not CSV: use 'Save as CSV'")
    if data.startswith(b"%PDF"):
        raise Unreadable("this is a PDF, not CSV: fill in the answer template (CSV)")  # CSV only
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("this is an old Excel (.xls) file, not CSV: use 'Save as CSV'")
    text, encoding = _decode(data)
    if _CONTROL.search(text, 0, 4096):
        raise Unreadable("the file is binary, not CSV text")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(_limited(reader))
    except csv.Error as e:
        raise Unreadable(f"not valid CSV ({e})") from None
    header_at = next((k for k, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_at is None:
        raise Unreadable("the file holds no rows")
    header = [c.strip().lower().lstrip("\ufeff") for c in rows[header_at]]
    notes = [f"{encoding} text"]
    if "label" in header and "answer" in header:
        li, ai = header.index("label"), header.index("answer")
        body = rows[header_at + 1 :]
        first_line = header_at + 2
    elif len(header) >= 2 and re.match(r"^q\d+\.", header[0]):
        li, ai = 0, len(rows[header_at]) - 1
        body = rows[header_at:]
        first_line = header_at + 1
        notes.append("no header row: read as label,answer")
    else:
        raise Unreadable(
            "no 'label' and 'answer' columns in the first row: use the answer template"
        )
    decimal_comma = delimiter in (";", "\t")
    if delimiter != ",":
        notes.append(DELIMITER_NAMES[delimiter])
    cells = []
    for k, row in enumerate(body):
        if not "".join(row).strip():  # no cell holds anything but spaces
            continue
        label = row[li].strip() if li < len(row) else ""
        raw = row[ai].strip() if ai < len(row) else ""
        cells.append(Cell(label=label, raw=raw, line=first_line + k))
    key = tuple(c for c in KEY_ONLY if c in header)
    return Sheet(
        cells=tuple(cells), notes=tuple(notes), decimal_comma=decimal_comma, key_columns=key
    )


def _limited(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for n, row in enumerate(reader):
        if n > MAX_ROWS:
            raise Unreadable(f"more than {MAX_ROWS} rows: this is not an answer sheet")
        yield row
