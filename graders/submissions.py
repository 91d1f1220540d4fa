"""Reading what students really send, and finding whose file it is.

Submissions come as a folder of CSV files or a zip of them, named by student id
(``s001.csv``) or laid out by an LMS bulk download:

* Moodle: one folder per student, ``Full Name_12345_assignsubmission_file_/answers.csv``;
* Canvas: ``lastfirst_12345_67890_answers.csv`` (``lastfirst_late_12345_...`` when late),
  where 12345 is the LMS user id.

LMS numbers are matched through a roster column (``lms_id``, ``canvas_id``,
``moodle_id`` or ``user_id``); a Moodle folder also matches by full name.
"""

from __future__ import annotations

import bisect
import csv
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lstm_exam.generator.core.defaults import (
    ANSWER_DIGITS,
    ANSWER_PLACES,
    MAX_FILE_BYTES,
    MAX_PDF_BYTES,
    MAX_ROWS,
    MAX_ZIP_BYTES,
    MAX_ZIP_MEMBERS,
)
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.numbers import out_of_bounds
from lstm_exam.generator.core.textfiles import (
    DELIMITER_NAMES,
    decode_text,
    name_fault,
    shown_name,
    sniff_delimiter,
)
from lstm_exam.generator.spec.validate import read_at_most
from lstm_exam.generator.store.csvfiles import KEY_HEADER, TEMPLATE_HEADER

#: Files an operating system adds to folders and zips; ignored, but counted.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)")


@dataclass(frozen=True, slots=True)
class RawFile:
    """A submitted file as found."""

    path: str
    """Its path inside the submissions folder or zip, with ``/``, as it can be written
    anywhere (:func:`shown_name`): what the gradebook and ``--map`` show."""
    data: bytes | None
    """Its bytes (at most one more than the limit), or None: read by :func:`file_data`
    from ``location`` when it is graded (a folder's files, in the workers)."""
    mtime: float
    """Last change (seconds since the epoch), to pick the latest of several."""
    location: Path | None = None
    """Where a folder's file is, or the zip a member is in."""
    member: str | None = None
    """The member of the zip at ``location``, read when it is graded."""
    fault: str | None = None
    """Why it cannot be read at all (a link, a FIFO, a folder no one may read)."""
    found_as: str = ""
    """The path as found, where :attr:`path` had to escape it (a name that is not UTF-8,
    its bytes held as lone surrogates, or one with control characters): what matching
    reads; else empty."""
    name_note: str = ""
    """What the gradebook says of the name (not UTF-8, read in code page 437); else
    empty."""

    @property
    def as_found(self) -> str:
        """The path matching reads (:attr:`found_as`, else :attr:`path`)."""
        return self.found_as or self.path


@dataclass(frozen=True, slots=True)
class Cell:
    """One answer row as the student wrote it."""

    label: str
    raw: str
    """The answer text, stripped; empty when unanswered."""
    line: int


@dataclass(frozen=True, slots=True)
class Sheet:
    """A readable submission: its rows and how it was read."""

    cells: tuple[Cell, ...]
    notes: tuple[str, ...]
    """How the file was read, e.g. ``semicolon-separated, decimal commas``."""
    decimal_comma: bool
    identity: tuple[str, str] | None = None
    """A filled PDF sheet's own student id and variant code (its read-only fields; empty
    when the form has none); None for a CSV."""
    key_columns: tuple[str, ...] = ()
    """The key's own columns (:data:`KEY_ONLY`) the file has: it is an answer key, or
    made from one, not a student's answers."""


#: The columns only a key CSV has (docs/formats.md): the answer template a student fills
#: has ``label,description,answer``; answering every row right adds none of these.
KEY_ONLY = tuple(c for c in KEY_HEADER if c not in TEMPLATE_HEADER)


class Unreadable(Exception):
    """A file that is no answer CSV: the reason, for the student and the gradebook."""


# --- collecting --------------------------------------------------------------------


def collect(source: Path) -> tuple[list[RawFile], list[str]]:
    """Every submitted file in a folder or zip; also the system files skipped."""
    if not source.exists():
        raise InputError(str(source), "", "no such folder or zip file")
    files: list[RawFile] = []
    skipped: list[str] = []
    if source.is_dir():
        for rel, path, fault in _walk(source):
            if _JUNK.search(rel):
                skipped.append(rel)
            elif fault is not None:
                files.append(_named(RawFile(rel, None, 0.0, None, fault=fault)))
            else:
                files.append(_named(RawFile(rel, None, path.lstat().st_mtime, path)))
        files.sort(key=lambda f: f.path)
        skipped.sort()
        return files, skipped
    if not zipfile.is_zipfile(source):
        raise InputError(str(source), "", "neither a folder nor a zip file of submissions")
    try:
        with _open_zip(source) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(str(source), "", f"more than {MAX_ZIP_MEMBERS} files in the zip")
            if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
                raise InputError(str(source), "", "unpacks to more than 2 GB: refused")
            for info in infos:
                name, note = _member_name(info, z.invalid)
                if _JUNK.search(name):
                    skipped.append(shown_name(name))
                    continue
                # read when graded, one at a time: a member's faults are that file's alone
                raw = RawFile(name, None, _zip_time(info), source, info.filename)
                files.append(_named(raw, note))
    except (zipfile.BadZipFile, OSError, struct.error, ValueError) as e:
        raise InputError(str(source), "", f"damaged zip file ({e})") from None
    return files, skipped


#: The zips open in this process (a forked worker opens its own: a shared file offset
#: would mix two processes' reads).
_OPEN_ZIPS: dict[tuple[int, Path], zipfile.ZipFile] = {}


def _zip_member(source: Path, member: str) -> bytes:
    """A zip member's bytes (at most one more than the limit).

    Raises:
        Unreadable: naming what is wrong with the member (encrypted, an unsupported
            compression, a bad checksum, sizes that do not match).
    """
    key = (os.getpid(), source)
    try:
        z = _OPEN_ZIPS.get(key)
        if z is None:
            z = _OPEN_ZIPS[key] = _open_zip(source)
        info = z.getinfo(member)
        if info.flag_bits & 0x1:
            raise Unreadable("the file is encrypted in the zip: send it without a password")
        with z.open(info) as f:  # the size the zip says, a chunk at a time past it
            return read_at_most(f, _READ_LIMIT, info.file_size)
    except Unreadable:
        raise
    except NotImplementedError:
        raise Unreadable(
            "the zip packs this file in a way lstm-exam cannot unpack (zip it with Deflate)"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError) as e:
        raise Unreadable(f"the file is damaged in the zip ({e})") from None


def _walk(source: Path) -> Iterator[tuple[str, Path, str | None]]:
    """Every entry of a submissions folder: (path with ``/``, where, why it cannot be read).

    Links are never followed (a link may point at the instructor's own key), and what is
    no regular file or cannot be listed is reported, never silently left out.
    """
    failed: list[OSError] = []
    for root, dirs, names in os.walk(source, onerror=failed.append):
        here = Path(root)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                yield _rel(source, here / name), here / name, "a link to a folder, not followed"
        for name in names:
            path = here / name
            try:
                mode = path.lstat().st_mode
            except OSError as e:
                yield _rel(source, path), path, f"it cannot be read ({e.strerror or e})"
                continue
            if stat.S_ISLNK(mode):
                yield _rel(source, path), path, "a link, not followed: send the file itself"
            elif not stat.S_ISREG(mode):
                yield _rel(source, path), path, "not a regular file (a FIFO or a device)"
            else:
                yield _rel(source, path), path, None
    for err in failed:
        where = Path(err.filename) if err.filename else source
        yield _rel(source, where), where, f"a folder that cannot be read ({err.strerror or err})"


def _rel(source: Path, path: Path) -> str:
    return path.relative_to(source).as_posix()


def _named(f: RawFile, note: str = "") -> RawFile:
    """``f`` with its path made writable (:func:`shown_name`) and what is wrong with its
    name noted, the path as found kept for matching."""
    fault = name_fault(f.path)
    if fault is None:
        return replace(f, name_note=note) if note else f
    return replace(f, path=shown_name(f.path), found_as=f.path, name_note=fault)


# --- names in zips ---------------------------------------------------------------------

#: General-purpose flag bit 11: the name is UTF-8 (APPNOTE 4.4.4).
_UTF8_FLAG = 0x800


def _member_name(info: zipfile.ZipInfo, invalid: frozenset[bytes]) -> tuple[str, str]:
    """A member's name as found (a byte that is not UTF-8 held as a lone surrogate) and
    a note when it is not UTF-8 text.

    A name flagged UTF-8 is UTF-8 (its bad bytes escaped); an unflagged one is UTF-8
    when its bytes are (as Linux's and macOS's zip tools write, without the flag), else
    code page 437, as the zip standard says (and Windows' own zip writes, in the local
    code page).
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename, ""
    raw = info.orig_filename.encode("cp437")  # zipfile read the bytes as cp437: undone
    if raw in invalid:  # flagged UTF-8, and it is not: its bytes escaped
        return raw.decode("utf-8", "surrogateescape"), ""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return info.filename, "its name is not UTF-8: read in code page 437, as zip says"


class _Zip(zipfile.ZipFile):
    """A zip opened by :func:`_open_zip`: the names flagged UTF-8 that are not, and the
    file it opened itself (closed with it)."""

    invalid: frozenset[bytes] = frozenset()
    owned: io.RawIOBase | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.owned is not None:
                self.owned.close()


def _open_zip(source: Path) -> _Zip:
    """A zip of submissions, opened even when a name flagged UTF-8 is not UTF-8 (which
    Python's zipfile refuses for the whole zip): such a name's flag is cleared as it is
    read (in memory, never in the file), so that it reads as bytes.

    Raises:
        zipfile.BadZipFile, OSError: for a damaged zip.
    """
    try:
        return _Zip(source)
    except UnicodeDecodeError:
        pass
    fh = open(source, "rb", buffering=0)  # noqa: SIM115 (closed with the zip)
    try:
        patches, invalid = _bad_names(fh)
        patched = _Patched(fh, patches)
        z = _Zip(patched)
    except BaseException:
        fh.close()
        raise
    z.invalid, z.owned = invalid, patched
    return z


_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def _bad_names(fh: io.RawIOBase) -> tuple[dict[int, int], frozenset[bytes]]:
    """Where the UTF-8 flags of the names flagged UTF-8 that are not UTF-8 are, in the
    central directory and in each local header: {offset of the flags' high byte: that
    byte without bit 11}; and those names' bytes (APPNOTE 4.3.12, 4.3.7, 4.3.16)."""

    def at(offset: int, size: int) -> bytes:
        fh.seek(offset)
        data = fh.read(size) or b""
        if len(data) != size:
            raise zipfile.BadZipFile("truncated zip")
        return data

    end = fh.seek(0, 2)
    tail_size = min(end, _EOCD.size + 0xFFFF)
    tail = at(end - tail_size, tail_size)
    found = tail.rfind(b"PK\x05\x06")
    if found < 0 or found + _EOCD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    eocd = end - tail_size + found
    *_, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, found)
    concat = eocd - cd_size - cd_offset
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        sig, _, z64, _ = _EOCD64_LOCATOR.unpack(at(eocd - _EOCD64_LOCATOR.size, 20))
        if sig != b"PK\x06\x07":
            raise zipfile.BadZipFile("no zip64 end of central directory")
        *_, cd_size, cd_offset = _EOCD64.unpack(at(z64, _EOCD64.size))
        concat = eocd - cd_size - cd_offset - _EOCD64.size - _EOCD64_LOCATOR.size
    if not 0 <= cd_size <= end:
        raise zipfile.BadZipFile("a central directory larger than the zip")
    start = cd_offset + concat
    cd = at(start, cd_size)
    patches: dict[int, int] = {}
    invalid: set[bytes] = set()
    pos = 0
    while pos + _CENTRAL.size <= len(cd) and cd.startswith(b"PK\x01\x02", pos):
        head = _CENTRAL.unpack_from(cd, pos)
        flags, n_name, n_extra, n_comment, local = head[5], head[12], head[13], head[14], head[18]
        name = cd[pos + _CENTRAL.size : pos + _CENTRAL.size + n_name]
        if flags & _UTF8_FLAG and not _is_utf8(name):
            invalid.add(name)
            patches[start + pos + 9] = (flags >> 8) & ~(_UTF8_FLAG >> 8)
            if local == 0xFFFFFFFF:
                extra = cd[pos + _CENTRAL.size + n_name : pos + _CENTRAL.size + n_name + n_extra]
                local = _zip64_offset(extra, head[10], head[11])
            if local is not None:
                (local_flags,) = struct.unpack("<H", at(local + concat + 6, 2))
                patches[local + concat + 7] = (local_flags >> 8) & ~(_UTF8_FLAG >> 8)
        pos += _CENTRAL.size + n_name + n_extra + n_comment
    return patches, frozenset(invalid)


def _is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _zip64_offset(extra: bytes, compressed: int, size: int) -> int | None:
    """The local header's offset in a central entry's zip64 extra field (APPNOTE 4.5.3)."""
    k = 0
    while k + 4 <= len(extra):
        kind, n = struct.unpack_from("<2H", extra, k)
        if kind == 1:
            skip = 8 * ((size == 0xFFFFFFFF) + (compressed == 0xFFFFFFFF))
            if skip + 8 <= n:
                (offset,) = struct.unpack_from("<Q", extra, k + 4 + skip)
                return int(offset)
            return None
        k += 4 + n
    return None


class _Patched(io.RawIOBase):
    """A file read with a few bytes replaced (:func:`_bad_names`)."""

    def __init__(self, fh: io.RawIOBase, patches: dict[int, int]) -> None:
        self._fh = fh
        self._patches = patches
        self._at = sorted(patches)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def readinto(self, buffer: Any) -> int:
        start = self._fh.tell()
        n = self._fh.readinto(buffer) or 0
        for k in range(bisect.bisect_left(self._at, start), len(self._at)):
            offset = self._at[k]
            if offset >= start + n:
                break
            buffer[offset - start] = self._patches[offset]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


#: The most bytes read of a submitted file: the larger of the CSV's and the PDF's limits.
_READ_LIMIT = max(MAX_FILE_BYTES, MAX_PDF_BYTES)


def file_data(f: RawFile) -> bytes:
    """A submitted file's bytes (at most one more than the larger limit, a PDF's, to tell it
    is too large).

    Raises:
        Unreadable: when the file cannot be read (gone, no permission).
    """
    if f.data is not None:
        return f.data
    if f.fault is not None:
        raise Unreadable(f.fault)
    if f.member is not None and f.location is not None:
        return _zip_member(f.location, f.member)
    if f.location is None:
        raise Unreadable("the file could not be found")
    try:
        with open(f.location, "rb", buffering=0) as fh:  # unbuffered: fewer system calls
            return read_at_most(fh, _READ_LIMIT, os.fstat(fh.fileno()).st_size)
    except OSError as e:
        raise Unreadable(f"the file could not be read ({e.strerror or e})") from None


def _zip_time(info: zipfile.ZipInfo) -> float:
    import datetime as dt

    try:
        return dt.datetime(*info.date_time).timestamp()
    except ValueError:
        return 0.0


# --- reading -----------------------------------------------------------------------


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
        cells.append(Cell(label, raw, first_line + k))
    key = tuple(c for c in KEY_ONLY if c in header)
    return Sheet(tuple(cells), tuple(notes), decimal_comma, key_columns=key)


def _limited(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for n, row in enumerate(reader):
        if n > MAX_ROWS:
            raise Unreadable(f"more than {MAX_ROWS} rows: this is not an answer sheet")
        yield row


_PLAIN = re.compile(r"-?[0-9]+\.[0-9]+")
_SPACES = dict.fromkeys(map(ord, " \u00a0\u2009\u202f\u2007"), None)


def parse_number(raw: str, decimal_comma: bool = False, whole: bool = False) -> Decimal:
    """A student's number: leading +, spaces, decimal comma, scientific notation, and
    thousands separators where they cannot be a decimal mark.

    A thousands separator is the character that is not the file's decimal mark, in
    groups of three: ``1,248.5`` (comma-separated file) and ``1.248,5`` (semicolons,
    decimal commas) always; ``1,248`` or ``1.248`` alone only for a ``whole`` quantity
    (a count, a class), which cannot be 1.248; for any other, the one mark is the
    decimal mark.

    Raises:
        ValueError: with words for the student (not a number, not finite, ...).

    >>> parse_number(" +0,495 ", True), parse_number("4.95e-1"), parse_number("−0.031")
    (Decimal('0.495'), Decimal('0.495'), Decimal('-0.031'))
    >>> parse_number("1,248", whole=True), parse_number("1,248"), parse_number("1,248.5")
    (Decimal('1248'), Decimal('1.248'), Decimal('1248.5'))
    >>> parse_number("1.248", True, whole=True), parse_number("1.248", True)
    (Decimal('1248'), Decimal('1.248'))
    """
    usual = len(raw) <= 24 and _PLAIN.fullmatch(raw) and raw.find(".") <= ANSWER_DIGITS
    if usual and not (whole and decimal_comma):
        return Decimal(raw)  # the usual answer, 0.495 or -1.25: few places, below 10**9
    text = raw.translate(_SPACES).replace("\u2212", "-")
    if text.startswith("+") and not text.startswith(("+-", "++")):
        text = text[1:]
    text = _without_thousands(text, decimal_comma, whole)
    if (
        text.count(",") == 1
        and "." not in text
        and (decimal_comma or re.fullmatch(r"-?\d*,\d+", text))
    ):
        text = text.replace(",", ".")
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        low = text.lower().lstrip("-")
        if low in ("nan", "inf", "infinity"):
            raise ValueError(f"'{raw}' is not a finite number")
        raise ValueError(f"'{raw}' is not a number")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number") from None
    return _gradable(d, raw)


_GROUPED = {
    # (decimal comma, a decimal part written): thousands in groups of three
    (False, True): re.compile(r"-?[1-9][0-9]{0,2}(,[0-9]{3})+\.[0-9]*"),
    (True, True): re.compile(r"-?[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]*"),
    (False, False): re.compile(r"-?[1-9][0-9]{0,2}(,[0-9]{3})+"),
    (True, False): re.compile(r"-?[1-9][0-9]{0,2}(\.[0-9]{3})+"),
}


def _without_thousands(text: str, decimal_comma: bool, whole: bool) -> str:
    """``text`` with its thousands separators taken out (see :func:`parse_number`),
    its decimal mark a point."""
    sep = "." if decimal_comma else ","
    if _GROUPED[decimal_comma, True].fullmatch(text) or (
        whole and _GROUPED[decimal_comma, False].fullmatch(text)
    ):
        return text.replace(sep, "").replace(",", ".")
    return text


def _gradable(d: Decimal, raw: str) -> Decimal:
    """``d``, if it is a number grading can compare and write back (else ValueError)."""
    why = out_of_bounds(d, ANSWER_DIGITS, ANSWER_PLACES)
    if why is None:
        return d
    shown = raw if len(raw) <= 24 else raw[:21] + "..."
    if why.startswith("out of range") or why.startswith("not a finite"):
        raise ValueError(f"'{shown}' is out of range")
    raise ValueError(f"'{shown}' has {why}: not a number we can grade")


def decimals_of(raw: str) -> int | None:
    """How many decimals the student wrote (None for scientific notation)."""
    text = raw.strip().replace(",", ".")
    if "e" in text or "E" in text:
        return None
    dot = text.find(".")
    return len(text) - dot - 1 if dot >= 0 else 0
