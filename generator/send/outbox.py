"""What goes out to each student: their own files, and nobody else's.

The seam every way of handing files out shares (e-mail here; an LMS's feedback-files
zip next): :func:`open_outbox` checks the worksheet (and grades) folder once, and
:func:`parcels` yields, student by student in roster order, the student and exactly
their own files, read once with their digests, or why they cannot go out.

A student's files are found by the student id of the manifest alone (``sheets/<id>.pdf``),
never by a name a file gives itself. A link (to another student's key, say) is refused,
and so is a folder that is a link (``sheets`` pointing at ``keys``). The manifest, which
holds the seed and every answer, is never among the files.

Feedback comes from a grades folder, which the command line may name: it is used only
when its results.json names this worksheet (:func:`~lstm_exam.generator.store.manifest.worksheet_id`
of its manifest) and each student's variant, and each student's feedback page names that
student and their variant. Another class's grades never reach this class.
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.validate import read_at_most, read_capped
from lstm_exam.generator.spec.worksheet import slugify
from lstm_exam.generator.store.lines import item_spans
from lstm_exam.generator.store.manifest import MANIFEST, RESULTS, Manifest
from lstm_exam.generator.store.manifest_read import ManifestStudent, read_manifest_students

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
    variants: Mapping[str, str] = field(default_factory=dict)
    """Each student's variant code, by student id: a feedback page must name it."""


def default_grades(folder: Path) -> Path:
    """Where the feedback lies without ``--grades``: WORKSHEET/grades/, as `grade` writes."""
    return folder / "grades"


def open_outbox(folder: Path, what: str, grades: Path | None = None) -> Outbox:
    """The worksheet's students and the folder their files of ``what`` lie in, checked.

    Raises:
        InputError: an unknown ``what``; a damaged manifest; no folder of the files (a
            worksheet made without PDFs, a worksheet not graded yet); a folder of them
            that is a link; ``grades`` given for anything but feedback, or grades that
            are not this worksheet's (:func:`check_grades`).
    """
    if what not in KINDS:
        raise InputError("--what", "", f"{what!r} is none of {', '.join(WHATS)}")
    w: What = what
    if grades is not None and w != "feedback":
        raise InputError(
            "--grades", "", "only with --what feedback (sheets and keys lie in the worksheet)"
        )
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
    if w == "feedback":
        check_grades(source, settings, entries)
    variants = {e.student.student_id: e.variant for e in entries}
    return Outbox(w, folder, source, settings, tuple(e.student for e in entries), variants)


def check_grades(source: Path, settings: Manifest, entries: Iterable[ManifestStudent]) -> None:
    """That the grades folder ``source`` is this worksheet's: its results.json (as `grade`
    writes it) names the worksheet's identity, and every student of the manifest with
    their own variant.

    Raises:
        InputError: one line naming results.json and what does not fit.
    """
    path = source / RESULTS
    file = str(path)
    if not path.exists() and not path.is_symlink():
        raise InputError(
            file, "", "no such file: this is no grades folder of `lstm-exam grade` (grade again)"
        )
    data = read_capped(path, defaults.MAX_RESULTS_BYTES, "results.json of `lstm-exam grade`")
    spans = item_spans(data, "students")
    head = (
        _json_object(file, "line 1", data[: data.find(b"\n")] + b"]}")
        if spans is not None
        else None
    )
    if spans is None or head is None:
        raise InputError(file, "", "not a results.json as `lstm-exam grade` writes it")
    named = head.get("worksheet_id")
    if not isinstance(named, str) or not named:
        raise InputError(
            file,
            "worksheet_id",
            "the grades name no worksheet (graded by an older lstm-exam): grade the "
            "worksheet again to send its feedback",
        )
    if named != settings.identity:
        title = head.get("worksheet")
        if title == settings.title:  # the same title: an earlier manifest, or a namesake
            shown = " of the same title (made again since, or another copy)"
        else:
            shown = f" ({title[:80]!r})" if isinstance(title, str) else ""
        raise InputError(
            file,
            "worksheet_id",
            f"these are the grades of another worksheet{shown}, not of {settings.title[:80]!r} "
            "as its manifest is now: give this worksheet's grades (or grade it again)",
        )
    graded: dict[str, object] = {}
    for line, (start, stop) in spans:
        # a row begins with its id, name and variant (result_entry in graders/outputs.py): the
        # answers after them are not parsed
        end = data.find(b',"status":"', start, stop)
        text = data[start:end] + b"}" if end > 0 else data[start:stop]
        row = _json_object(file, f"line {line}", text)
        sid = row.get("student_id") if row is not None else None
        if row is None or not isinstance(sid, str):
            raise InputError(file, f"line {line}", "damaged results.json")
        if sid:  # a file that matched nobody has no id
            graded[sid] = row.get("variant")
    for e in entries:
        sid = e.student.student_id
        if sid not in graded:
            raise InputError(file, "", f"names no student {sid}: not this worksheet's grades")
        if graded[sid] != e.variant:
            raise InputError(
                file, "", f"gives {sid} another variant than the manifest: not this worksheet's"
            )


def _json_object(file: str, place: str, text: bytes) -> dict | None:
    """A JSON object of results.json, or None when the text is none."""
    try:
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(file, place, "damaged results.json") from None
    return doc if isinstance(doc, dict) else None


def feedback_fault(data: bytes, title: str, student: Student, variant: str) -> str | None:
    """Why a feedback page is not this student's own, or None when it is: the page
    `grade` writes names the worksheet, the student and their variant at its top
    (``<h1>TITLE: feedback for NAME (ID)</h1>`` then ``<p>Variant CODE ·``, escaped as
    feedback_html in graders/outputs.py escapes them). Any other page (another student's,
    another worksheet's, one put there by hand) is kept back."""
    e = html.escape
    name = student.name or student.student_id
    mark = (
        f"<h1>{e(title)}: feedback for {e(name)} ({e(student.student_id)})</h1>\n"
        f"<p>Variant {e(variant)} \u00b7 "
    )
    if not variant or mark.encode() not in data:
        return "is not the feedback page `grade` wrote for this student and variant"
    return None


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
        if box.what == "feedback":
            code = box.variants.get(student.student_id, "")
            why = feedback_fault(data, box.settings.title, student, code)
            if why is not None:
                return Parcel(student, (), f"{shown} {why}")
        # the slug slugified again: a manifest's slug reaches a MIME header (the file's
        # name), where an encoded word in it would be decoded into a line break
        slug = slugify(box.settings.slug)
        filename = f"{slug}-{kind.label}-{student.student_id}{kind.suffix}"
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
