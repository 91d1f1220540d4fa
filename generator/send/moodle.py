"""Sheets, keys or feedback handed out through a Moodle assignment: one zip of every
student's own files, named so that "Upload multiple feedback files in a zip" gives each
file to its student (the one writer, :func:`moodle_feedback_zip`)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lstm_exam.generator.store.lmsnames import moodle_feedback_zip

from .outbox import Parcel

#: A member :func:`moodle_feedback_member` names: name, participant id, the plugin, a file.
_MEMBER = re.compile(r"[^_/]*_[^_/]+_assignfeedback_file_[^/]+")


@dataclass(frozen=True, slots=True)
class MoodleZip:
    """The zip, and who is in it and who is not (and why)."""

    data: bytes
    students: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]
    """(student id, why): no participant id, or their files cannot go out."""


def moodle_zip(parcels: Iterable[Parcel], participant: Mapping[str, str]) -> MoodleZip:
    """Each parcel's files named for the student's participant id (``participant``, by
    student id: from Moodle's grading worksheet or the roster's ``participant_id``)."""
    inside, left = [], []

    def files() -> Iterator[tuple[str, str, str, bytes]]:
        for p in parcels:
            sid = p.student.student_id
            pid = participant.get(sid, "")
            if p.fault is not None:
                left.append((sid, p.fault))
                continue
            if not pid:
                left.append((sid, "no Moodle participant id (pass --moodle-worksheet)"))
                continue
            for a in p.files:
                yield p.student.name, pid, a.filename, a.data
            inside.append(sid)

    data = moodle_feedback_zip(files())
    return MoodleZip(data, tuple(inside), tuple(left))


def made_moodle_zip(path: Path) -> bool:
    """Whether the file ``path`` is a zip :func:`moodle_zip` makes (every member a feedback
    file in Moodle's flat layout), which ``send --moodle-zip --force`` may replace; a zip
    Moodle gives (the submissions: ``_assignsubmission_file_/``) or any other file is not."""
    try:
        with zipfile.ZipFile(path) as z:
            return all(_MEMBER.fullmatch(n) for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
