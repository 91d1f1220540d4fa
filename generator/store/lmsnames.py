"""Names as Moodle writes and reads them: one rule, for the grader's matching and for
every zip made for Moodle (the grades' feedback files, the sheets and keys handed out).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

#: What Moodle's ``clean_param(PARAM_FILE)`` strips: control characters (Unicode's, as
#: its ``[[:cntrl:]]`` under ``/u``) and these.
_MOODLE_STRIPPED = re.compile(r"[\x00-\x1f\x7f-\x9f&<>\"`|':\\/]")


def clean_filename(text: str) -> str:
    r"""Moodle's ``clean_filename`` (``clean_param($x, PARAM_FILE)``, lib/moodlelib.php):
    control characters and ``& < > " ` | ' : \ /`` removed, "." and ".." emptied.

    >>> clean_filename("Zoë O'Brien"), clean_filename("A&B <c>")
    ('Zoë OBrien', 'AB c')
    """
    text = _MOODLE_STRIPPED.sub("", text)
    return "" if text in (".", "..") else text


def moodle_feedback_member(full_name: str, participant: str, filename: str) -> str:
    """A zip member Moodle's "Upload multiple feedback files in a zip" gives to
    participant ``participant``, in its flat layout
    (mod/assign/feedback/file/importziplib.php splits the name on its first four ``_``:
    name, participant id, plugin type, plugin; the rest is the file's name, where a
    folder would give it a leading ``/``).

    >>> moodle_feedback_member("Ann_Lee O'Hara", "73015", "key.pdf")
    'Ann Lee OHara_73015_assignfeedback_file_key.pdf'
    """
    name = clean_filename(full_name.replace("_", " ")) or "Student"
    return f"{name}_{participant}_assignfeedback_file_{clean_filename(filename)}"


def moodle_feedback_zip(files: Iterable[tuple[str, str, str, bytes]]) -> bytes:
    """The one zip for Moodle's "Upload multiple feedback files in a zip": each of
    ``files`` (the student's full name, their participant id, the file's name, its bytes)
    a member :func:`moodle_feedback_member` names, in the given order, stored with the
    same date (1980-01-01), so that the same files give the same bytes. The grades'
    feedback (``lms/moodle-feedback.zip``) and ``send --moodle-zip`` both write it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for full_name, participant, filename, data in files:
            member = moodle_feedback_member(full_name, participant, filename)
            z.writestr(zipfile.ZipInfo(member, (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()
