"""What goes out to each student: their own files, and nobody else's.

The seam every way of handing files out shares (e-mail here; an LMS's feedback-files
zip next): :func:`open_outbox` checks the worksheet (and grades) folder once, and
:func:`parcels` yields, student by student in roster order, the student and exactly
their own files, read once with their digests, or why they cannot go out.

A student's files are found by the student id of the manifest alone (``sheets/<id>.pdf``),
never by a name a file gives itself. A link (to another student's key, say) is refused,
and so is a folder that is a link (``sheets`` pointing at ``keys``). The manifest, which
holds the seed and every answer, is never among the files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.validate import read_at_most
from lstm_exam.generator.store.manifest import MANIFEST, Manifest
from lstm_exam.generator.store.manifest_read import read_manifest_students

What = Literal["sheets", "keys", "feedback"]
#: What can be sent, as `send --what` names it.
WHATS: tuple[What, ...] = ("sheets", "keys", "feedback")


@dataclass(frozen=True, slots=True)
class Kind:
    """One file of a student's parcel: where it lies and what the student sees."""

    folder: str
    """Its folder, in the worksheet folder (or, for feedback, the grades folder)."""
    suffix: str
    label: str
    """What the file is, in the name the student sees: ``<slug>-<label>-<id><suffix>``."""
    mime: tuple[str, str]


#: The files of each ``what``, in the order they are attached.
KINDS: dict[What, tuple[Kind, ...]] = {
    "sheets": (
        Kind("sheets", ".pdf", "sheet", ("application", "pdf")),
        Kind("answer-templates", ".csv", "answers", ("text", "csv")),
    ),
    "keys": (Kind("keys", ".pdf", "key", ("application", "pdf")),),
    "feedback": (Kind("feedback", ".html", "feedback", ("text", "html")),),
}

#: What each ``what`` is called in a message and a report.
NOUNS: dict[What, str] = {"sheets": "sheet", "keys": "answer key", "feedback": "feedback"}


@dataclass(frozen=True, slots=True)
class Attachment:
    """One of a student's files, read."""

    shown: str
    """Its place, as reports name it: ``sheets/s001.pdf``."""
    filename: str
    """The name the student sees: ``week-5-sheet-s001.pdf``."""
    mime: tuple[str, str]
    data: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class Parcel:
    """A student and their own files; or, with ``fault``, why they cannot go out."""

    student: Student
    files: tuple[Attachment, ...]
    fault: str | None = None

    def digests(self) -> dict[str, str]:
        """Each file's place and SHA-256: what a log compares to tell a change."""
        return {a.shown: a.sha256 for a in self.files}


@dataclass(frozen=True, slots=True)
class Outbox:
    """A worksheet's settings, its students and where their files of one ``what`` lie."""

    what: What
    folder: Path
    """The worksheet folder."""
    source: Path
    """Where the files lie: the worksheet folder, or the grades folder for feedback."""
    settings: Manifest
    """The manifest's settings (``variants`` empty). It holds the seed: never send it."""
    students: tuple[Student, ...]


def default_grades(folder: Path) -> Path:
    """Where the feedback lies without ``--grades``: WORKSHEET/grades/, as `grade` writes."""
    return folder / "grades"


def open_outbox(folder: Path, what: str, grades: Path | None = None) -> Outbox:
    """The worksheet's students and the folder their files of ``what`` lie in, checked.

    Raises:
        InputError: an unknown ``what``; a damaged manifest; no folder of the files (a
            worksheet made without PDFs, a worksheet not graded yet); a folder of them
            that is a link.
    """
    if what not in KINDS:
        raise InputError("--what", "", f"{what!r} is none of {', '.join(WHATS)}")
    w: What = what
    settings, entries = read_manifest_students(folder)
    if w == "feedback":
        source = grades if grades is not None else default_grades(folder)
        hint = f"grade the worksheet first (lstm-exam grade {folder} SUBMISSIONS)"
    else:
        source = folder
        hint = f"lstm-exam render {folder} makes the PDFs"
    for kind in KINDS[w]:
        _check_folder(source / kind.folder, hint)
        if kind.suffix == ".pdf" and next((source / kind.folder).glob("*.pdf"), None) is None:
            raise InputError(str(source / kind.folder), "", f"holds no PDFs: {hint}")
    return Outbox(w, folder, source, settings, tuple(e.student for e in entries))


def _check_folder(path: Path, hint: str) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise InputError(str(path), "", f"no such folder: {hint}") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(str(path), "", "is a link: the files sent must lie in the folder itself")
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(str(path), "", "is not a folder")


def parcels(box: Outbox, students: Iterable[Student] | None = None) -> Iterator[Parcel]:
    """Each student (of ``students``, by default the whole roster of the manifest) with
    exactly their own files of ``box.what``, read one student at a time."""
    for student in box.students if students is None else students:
        yield parcel(box, student)


def parcel(box: Outbox, student: Student) -> Parcel:
    """One student's own files, or the first reason they cannot go out."""
    files = []
    for kind in KINDS[box.what]:
        shown = f"{kind.folder}/{student.student_id}{kind.suffix}"
        path = box.source / kind.folder / f"{student.student_id}{kind.suffix}"
        data, fault = read_file(path, shown)
        if data is None:  # any file missing keeps the whole parcel back
            return Parcel(student, (), fault)
        filename = f"{box.settings.slug}-{kind.label}-{student.student_id}{kind.suffix}"
        files.append(Attachment(shown, filename, kind.mime, data, hashlib.sha256(data).hexdigest()))
    assert all(a.shown != MANIFEST for a in files)
    return Parcel(student, tuple(files))


def read_file(path: Path, shown: str) -> tuple[bytes | None, str | None]:
    """A file's bytes, or why not: missing, a link, no regular file, over the cap."""
    cap = defaults.MAX_ATTACHMENT_BYTES
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        return None, f"{shown} is missing"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None, f"{shown} is a link: refused (a student gets only their own file)"
        return None, f"{shown}: {e.strerror or e}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, f"{shown} is not a regular file"
        if st.st_size > cap:
            return None, f"{shown} is larger than {cap // 1_000_000} MB, too large to attach"
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as f:
            data = read_at_most(f, cap, st.st_size)
    except OSError as e:
        return None, f"{shown}: {e.strerror or e}"
    finally:
        os.close(fd)
    if len(data) > cap:  # it grew while read
        return None, f"{shown} is larger than {cap // 1_000_000} MB, too large to attach"
    return data, None
