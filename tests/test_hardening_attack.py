"""Issue 21 attacked again from outside, after the merge: new cases of each class.

Each test here failed on the merged main before the fix committed with it."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import builtin_path
from lstm_exam.graders.matching import Matcher
from lstm_exam.graders.run import grade

SAMPLES = builtin_path("sample-submissions")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
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


# --- names in any bytes: a worksheet, a templates folder, a problem file ------------------

BAD = os.fsdecode(b"\xff\xfe")  # a folder name that is not UTF-8 (a zip unpacked by unzip)


class _Ran:
    def __init__(self, done: subprocess.CompletedProcess) -> None:
        self.exit_code = done.returncode
        self.output = done.stdout + done.stderr


@pytest.fixture
def cli(tmp_path):
    """The real CLI in a process of its own (its stdout writes such names as a terminal)."""

    def invoke(*args: object) -> _Ran:
        argv = [sys.executable, "-m", "lstm_exam", *(os.fsencode(str(a)) for a in args)]
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=600)
        return _Ran(
            subprocess.CompletedProcess(
                argv,
                done.returncode,
                done.stdout.decode(errors="replace"),
                done.stderr.decode(errors="replace"),
            )
        )

    return invoke


def test_a_worksheet_with_pdfs_in_a_folder_whose_name_is_not_utf8_is_made_and_rendered(
    cli, tmp_path
):
    """pikepdf.open(path) handed qpdf the path's str: a traceback, no worksheet."""
    out = tmp_path / f"week{BAD}"
    res = cli("generate", "--count", "2", "--out", out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "sheets").iterdir()) == ["s001.pdf", "s002.pdf"]
    res = cli("render", out)
    assert res.exit_code == 0, res.output
    assert (out / "class-sheets.pdf").stat().st_size > 0


def test_templates_from_a_folder_whose_name_is_not_utf8_are_used_and_recorded(cli, tmp_path):
    """The manifest's templates path was encoded as UTF-8: a traceback, no worksheet."""
    tpl = tmp_path / f"tpl{BAD}"
    assert cli("templates", tpl).exit_code == 0
    res = cli("generate", "--count", "1", "--no-pdf", "--templates", tpl, "--out", tmp_path / "w")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "w" / "manifest.json").read_text("utf-8")
    assert '"templates":' in text and "\\\\xff\\\\xfe" in text


def test_a_problem_file_whose_name_is_not_utf8_is_exported(cli, tmp_path):
    """The script names the .npz by the file's stem: encoding it was a traceback."""
    res = cli("generate", EXAMPLES / "all-kinds.toml", "--count", "1", "--no-pdf", "--out", "w")
    assert res.exit_code == 0, res.output
    problem = tmp_path / f"p{BAD}.toml"
    problem.write_bytes((tmp_path / "w" / "problems" / "s001.toml").read_bytes())
    res = cli("export", problem, "--to", "pytorch", "--out", tmp_path / "e")
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "e").iterdir())
    assert names == ["p\\xff\\xfe-pytorch-q3.npz", "p\\xff\\xfe-pytorch-q3.py"]
    assert "p\\xff\\xfe-pytorch-q3.npz" in (tmp_path / "e" / names[1]).read_text("utf-8")


# --- huge rosters: a wide header within the file cap --------------------------------------


def test_a_roster_with_a_hundred_thousand_columns_is_read_in_linear_time(tmp_path):
    """A 1.3 MB roster (one student, 100,000 columns) took 165 s: the duplicate-column
    check counted each column over the whole header."""
    import time

    from lstm_exam.generator.spec.roster import read_roster

    n = 100_000
    roster = tmp_path / "wide.csv"
    roster.write_text(
        "student_id,name," + ",".join(f"c{i}" for i in range(n)) + "\n"
        "s1,Ada," + ",".join("v" for _ in range(n)) + "\n",
        "utf-8",
    )
    start = time.process_time()
    students = read_roster(roster)
    assert time.process_time() - start < 10
    assert [s.student_id for s in students] == ["s1"]


# --- a held student and what they are sent -------------------------------------------------


def test_a_held_students_feedback_shows_no_score(demo, tmp_path):
    """A student held (two senders, or the answer key handed in) read "score 0 / N (0%)" or
    the key's full marks in the feedback that `send --what feedback` mails them, while
    every LMS file leaves the score blank."""
    key = (demo / "keys" / "s001.csv").read_bytes()
    dl = tmp_path / "dl"
    _put(dl / "s001.csv", key, 1_700_000_000)  # the answer key handed in: held
    _put(dl / "Grace Hopper_1004_assignsubmission_file_" / "a.csv", OTHER, 1_700_000_000)
    _put(dl / "s004.csv", OTHER, 1_700_000_000)  # two senders for s004: held
    grade(demo, dl, tmp_path / "g")
    book = {r["student_id"]: r for r in _book(tmp_path / "g") if r["student_id"]}
    for sid in ("s001", "s004"):
        assert book[sid]["score"] == "", book[sid]
        for ext in ("md", "html"):
            page = (tmp_path / "g" / "feedback" / f"{sid}.{ext}").read_text("utf-8")
            assert "score held for your instructor" in page
            assert "/ 14" not in page and "%)" not in page and " points" not in page


def test_a_folder_named_after_one_student_never_gives_its_file_to_the_id_it_is_named(
    demo, tmp_path
):
    """Mail sorted into a folder per sender: "Grace Hopper/s001.csv" went to s001 and,
    being later, superseded Ada's own s001.csv (only "2 files; graded the latest")."""
    own = (SAMPLES / "s001.csv").read_bytes()
    dl = tmp_path / "dl"
    _put(dl / "s001.csv", own, 1_700_000_000)
    _put(dl / "Grace Hopper" / "s001.csv", OTHER, 1_800_000_000)
    _put(dl / "Grace Hopper" / "s004.csv", OTHER, 1_700_000_000)  # her own: still hers
    grade(demo, dl, tmp_path / "g")
    book = _book(tmp_path / "g")
    ada = next(r for r in book if r["student_id"] == "s001")
    assert ada["file"] == "s001.csv" and ada["percent"] == "100", ada
    row = next(r for r in book if r["file"] == "Grace Hopper/s001.csv")
    assert row["status"] == "unmatched-file" and "s001 and s004" in row["flags"]
    grace = next(r for r in book if r["student_id"] == "s004")
    assert grace["file"] == "Grace Hopper/s004.csv"


# --- short seeds: spaces are no secret -------------------------------------------------------


@pytest.mark.parametrize("seed", ["        ", "abc     ", "   abcd   "])
def test_a_seed_of_spaces_or_padded_short_is_refused_as_too_short(run, tmp_path, seed):
    """quiz --seed and a spec's seed took eight spaces: every key regenerable."""
    res = run("quiz", "--to", "html", "--count", "1", "--seed", seed, "--out", tmp_path / "q")
    assert res.exit_code == 2 and "too short to be secret" in res.output, res.output
    assert not (tmp_path / "q").exists()
    spec = tmp_path / "s.toml"
    spec.write_text(f'seed = "{seed}"\n[[problems]]\nkind = "forget_gate"\n', "utf-8")
    res = run("generate", spec, "--count", "1", "--no-pdf", "--out", tmp_path / "w")
    assert res.exit_code == 2 and "too short to be secret" in res.output, res.output
