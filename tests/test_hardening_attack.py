"""Issue 21 attacked again from outside, after the merge: new cases of each class.

Each test here failed on the merged main before the fix committed with it."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import builtin_path
from lstm_exam.graders.matching import Matcher
from lstm_exam.graders.run import grade

SAMPLES = builtin_path("sample-submissions")
OTHER = (SAMPLES / "s004.csv").read_bytes()  # Grace's (s004) answers


def _book(folder: Path) -> list[dict[str, str]]:
    text = (folder / "gradebook.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _put(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


# --- a student's file given to another: a Moodle name holding "_" -------------------------


def test_a_moodle_folder_whose_name_holds_an_underscore_is_still_the_lms_s(demo, tmp_path):
    """Moodle's clean_filename keeps "_" of a full name ("Rob_Stone"): such a folder was
    not read as Moodle's, so the file's own name s001.csv gave it to s001."""
    dl = tmp_path / "dl"
    _put(dl / "Rob_Stone_2002_assignsubmission_file_" / "s001.csv", OTHER, 1_800_000_000)
    grade(demo, dl, tmp_path / "g")
    book = _book(tmp_path / "g")
    s001 = next(r for r in book if r["student_id"] == "s001")
    assert s001["status"] == "missing" and s001["file"] == ""
    row = next(r for r in book if r["file"].startswith("Rob_Stone"))
    assert row["status"] == "unmatched-file" and "participant 2002" in row["flags"]


def test_a_moodle_name_with_underscores_and_digits_is_matched_by_its_participant_id():
    roster = [Student("s001", "Ada Lovelace", {"participant_id": "2002"})]
    m = Matcher(roster)
    for folder in (
        "Rob_Stone_2002_assignsubmission_file_/x.csv",
        "Rob_2003_2002_assignsubmission_file_/s002.csv",
        "Rob__Stone_2002_assignsubmission_file_/answers.csv",
    ):
        found = m.match(folder)
        assert found.student is not None and found.student.student_id == "s001", folder
    # a Canvas name whose student-chosen part is laid out as Moodle's is still Canvas's
    assert m.match("stonerob_9999_123_Ada_2002_assignsubmission_file_x.csv").student is None
    other = Matcher([Student("s002", "Bo Li")])
    assert other.match("Rob_Stone_2002_assignsubmission_file_/s002.csv").student is None
