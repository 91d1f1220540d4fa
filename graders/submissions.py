"""Collecting what students really send: the files of a folder or a zip, and their bytes
when they are graded (:mod:`reading` reads them; :mod:`matching` finds whose they are).

Submissions come as a folder of CSV files or a zip of them, named by student id
(``s001.csv``) or laid out by an LMS bulk download:

* Moodle: one folder per student, ``Full Name_12345_assignsubmission_file_/answers.csv``;
* Canvas: ``lastfirst_12345_67890_answers.csv`` (``lastfirst_late_12345_...`` when late),
  where 12345 is the LMS user id.

LMS numbers are matched through a roster column (``lms_id``, ``canvas_id``,
``moodle_id`` or ``user_id``); a Moodle folder also matches by full name.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from lstm_exam.generator.core.defaults import (
    MAX_FILE_BYTES,
    MAX_PDF_BYTES,
    MAX_ZIP_BYTES,
    MAX_ZIP_MEMBERS,
)
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.textfiles import name_fault, shown_name
from lstm_exam.generator.spec.validate import read_at_most

from .reading.sheet import Unreadable
from .zipnames import member_name, open_zip

#: Files an operating system adds to folders and zips; ignored, but counted.
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)")


@dataclass(frozen=True, slots=True, kw_only=True)
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
                files.append(_named(RawFile(path=rel, data=None, mtime=0.0, fault=fault)))
            else:
                files.append(
                    _named(RawFile(path=rel, data=None, mtime=path.lstat().st_mtime, location=path))
                )
        files.sort(key=lambda f: f.path)
        skipped.sort()
        return files, skipped
    if not zipfile.is_zipfile(source):
        raise InputError(str(source), "", "neither a folder nor a zip file of submissions")
    try:
        with open_zip(source) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(str(source), "", f"more than {MAX_ZIP_MEMBERS} files in the zip")
            if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
                raise InputError(str(source), "", "unpacks to more than 2 GB: refused")
            for info in infos:
                name, note = member_name(info, z.invalid)
                if _JUNK.search(name):
                    skipped.append(shown_name(name))
                    continue
                # read when graded, one at a time: a member's faults are that file's alone
                raw = RawFile(
                    path=name,
                    data=None,
                    mtime=_zip_time(info),
                    location=source,
                    member=info.filename,
                )
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
            z = _OPEN_ZIPS[key] = open_zip(source)
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


def _named(raw_file: RawFile, note: str = "") -> RawFile:
    """``raw_file`` with its path made writable (:func:`shown_name`) and what is wrong with its
    name noted, the path as found kept for matching."""
    fault = name_fault(raw_file.path)
    if fault is None:
        return replace(raw_file, name_note=note) if note else raw_file
    return replace(
        raw_file, path=shown_name(raw_file.path), found_as=raw_file.path, name_note=fault
    )


#: The most bytes read of a submitted file: the larger of the CSV's and the PDF's limits.
_READ_LIMIT = max(MAX_FILE_BYTES, MAX_PDF_BYTES)


def file_data(raw_file: RawFile) -> bytes:
    """A submitted file's bytes (at most one more than the larger limit, a PDF's, to tell it
    is too large).

    Raises:
        Unreadable: when the file cannot be read (gone, no permission).
    """
    if raw_file.data is not None:
        return raw_file.data
    if raw_file.fault is not None:
        raise Unreadable(raw_file.fault)
    if raw_file.member is not None and raw_file.location is not None:
        return _zip_member(raw_file.location, raw_file.member)
    if raw_file.location is None:
        raise Unreadable("the file could not be found")
    try:
        with open(raw_file.location, "rb", buffering=0) as fh:  # unbuffered: fewer system calls
            return read_at_most(fh, _READ_LIMIT, os.fstat(fh.fileno()).st_size)
    except OSError as e:
        raise Unreadable(f"the file could not be read ({e.strerror or e})") from None


def _zip_time(info: zipfile.ZipInfo) -> float:
    import datetime as dt

    try:
        return dt.datetime(*info.date_time).timestamp()
    except ValueError:
        return 0.0
