"""The LMS upload files, each run through a re-implementation of the importer it targets
(tests/lms/, from Moodle's and Canvas's sources), on downloads built as the LMSs build
them (tests/data/lms)."""

from __future__ import annotations

import csv
import io
import shutil
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.graders.lms import LmsInputs
from lstm_exam.graders.run import grade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import lms  # noqa: E402
import make_lms_data as fixture  # noqa: E402

LMS = ROOT / "tests" / "data" / "lms"
BY_ID = {p.student_id: p for p in fixture.CLASS}


@pytest.fixture(scope="module")
def lms_class(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lms") / "wk"
    generate(load_spec(None), read_roster(LMS / "roster.csv"), out, seed="lms-class-seed-1")
    return out


def _book(folder: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text("utf-8-sig")))
    return {r["student_id"]: r for r in rows if r["student_id"]}


@pytest.fixture(scope="module")
def moodle(lms_class, tmp_path_factory):
    """Graded with the worksheet, the keys rendered first (real pdflatex)."""
    from click.testing import CliRunner

    from lstm_exam.cli import main

    folder = tmp_path_factory.mktemp("rendered") / "wk"
    shutil.copytree(lms_class, folder)
    res = CliRunner().invoke(main, ["render", str(folder)])
    assert res.exit_code == 0, res.output
    out = tmp_path_factory.mktemp("moodle") / "g"
    lms_in = LmsInputs(moodle_worksheet=LMS / "moodle-grading-worksheet.csv")
    grade(folder, LMS / "moodle-folders.zip", out, lms=lms_in)
    return out, folder


@pytest.fixture(scope="module")
def canvas(lms_class, tmp_path_factory):
    out = tmp_path_factory.mktemp("canvas") / "g"
    lms_in = LmsInputs(
        canvas_gradebook=LMS / "canvas-gradebook.csv", canvas_assignment="Week 5: LSTM gates"
    )
    grade(lms_class, LMS / "canvas-submissions.zip", out, lms=lms_in)
    return out


def _points(book_row: dict[str, str], out_of: Decimal) -> Decimal | None:
    if not book_row["score"]:
        return None
    share = Decimal(book_row["score"]) / Decimal(book_row["max_score"])
    return (share * out_of).quantize(Decimal("0.01"))


def test_moodle_s_worksheet_importer_takes_every_grade_and_keeps_every_row(moodle):
    moodle, _ = moodle
    data = (moodle / "lms" / "moodle-grading-worksheet.csv").read_bytes()
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    imported = lms.moodle_worksheet_import_check(data, participants, maxgrade=10.0)
    downloaded = (LMS / "moodle-grading-worksheet.csv").read_bytes()
    header, rows = lms.moodle_csv_import_reader(data)
    header0, rows0 = lms.moodle_csv_import_reader(downloaded)
    assert header == header0 and [r[0] for r in rows] == [r[0] for r in rows0]
    book = _book(moodle)
    by_pid = {p.participant: p.student_id for p in fixture.CLASS}
    seen = set()
    for row in imported:
        sid = by_pid[row.participant.participantid]
        expected = _points(book[sid], Decimal(10))
        if expected is None:  # sent nothing: no grade, never a 0
            assert row.grade_text == "" and not row.grade_update
        else:
            assert Decimal(row.grade_text) == expected and row.grade_update, row.skip_reason
            assert "Problem 1:" in row.feedback["Feedback comments"]
        seen.add(sid)
    assert seen == set(BY_ID)


def test_moodle_s_feedback_zip_importer_gives_each_student_their_own_files(moodle):
    moodle, folder = moodle
    data = (moodle / "lms" / "moodle-feedback.zip").read_bytes()
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    found = lms.moodle_feedback_zip_check(data, participants)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert set(found) == set(z.namelist())  # no member is passed over
    by_pid = {p.participant: p.student_id for p in fixture.CLASS}
    owners: dict[str, set[str]] = {}
    for member, (user, plugin, filename) in found.items():
        sid = by_pid[user.participantid]
        assert plugin == "assignfeedback_file"
        own = {
            "feedback.html": moodle / "feedback" / f"{sid}.html",
            "key.pdf": folder / "keys" / f"{sid}.pdf",
        }[filename]
        assert z.read(member) == own.read_bytes()  # their own page and key, no one else's
        owners.setdefault(sid, set()).add(filename)
    assert owners == {sid: {"feedback.html", "key.pdf"} for sid in BY_ID}


def test_moodle_s_gradebook_importer_takes_the_grades_file_by_email(moodle):
    moodle, _ = moodle
    data = (moodle / "lms" / "moodle-grades.csv").read_bytes()
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    item = header[1]
    items = {h: "new" for h in header[1:-1]} | {header[-1]: f"feedback:{item}"}
    users = [fixture.moodle_user(p) for p in fixture.CLASS]
    imported = lms.moodle_gradebook_import_check(data, "email", users, items=items)
    book = _book(moodle)
    by_user = {fixture.moodle_user(p).userid: p.student_id for p in fixture.CLASS}
    assert {by_user[r.userid] for r in imported} == set(BY_ID)
    for r in imported:
        row = book[by_user[r.userid]]
        total = r.grades[item]
        assert (total is None) == (row["score"] == "")
        if total is not None:
            assert Decimal(str(total)) == Decimal(row["score"])


def test_canvas_s_importer_takes_the_filled_column_and_nothing_else_changes(canvas):
    data = (canvas / "lms" / "canvas-gradebook.csv").read_bytes()
    students = [fixture.canvas_student(p) for p in fixture.CLASS]
    imported = lms.canvas_gradebook_import_check(data, students)
    before = lms.canvas_gradebook_import_check(
        (LMS / "canvas-gradebook.csv").read_bytes(), students
    )
    assert imported.points_possible == before.points_possible  # the Points Possible row
    assert imported.readonly == before.readonly
    column = "Week 5: LSTM gates (88001)"
    book = _book(canvas)
    old = {s.id: g for s, _how, g in before.students if s}
    for s, how, grades in imported.students:
        assert s is not None and how == "id"
        sid = s.sis_user_id.replace("SIS", "s")
        assert grades["Week 4: RNNs (88000)"] == old[s.id]["Week 4: RNNs (88000)"]
        expected = _points(book[sid], Decimal(10))
        if expected is None:  # sent nothing: the cell as downloaded
            assert grades[column] == old[s.id][column]
        else:
            assert Decimal(grades[column]) == expected


def test_canvas_s_reupload_files_each_feedback_on_the_student_s_own_submission(canvas):
    data = (canvas / "lms" / "canvas-feedback.zip").read_bytes()
    res = lms.canvas_reupload_check(data, fixture.canvas_submissions())
    assert res.ignored == []
    z = zipfile.ZipFile(io.BytesIO(data))
    owners = set()
    for member, (sub, _attachment) in res.comments.items():
        sid = sub.student.login_id
        assert z.read(member) == (canvas / "feedback" / f"{sid}.html").read_bytes()
        owners.add(sid)
    sent = {p.student_id for p in fixture.CLASS if p.files}
    assert owners == sent


def test_a_regrade_with_the_map_writes_the_same_upload_files(lms_class, tmp_path):
    (tmp_path / "map.csv").write_text(
        "file,student_id\nMaria Garcia_73009_assignsubmission_file/answers.csv,s009\n"
    )
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        lms_in = LmsInputs(map_file=tmp_path / "map.csv")
        grade(lms_class, LMS / "moodle-folders.zip", out, lms=lms_in)
    names = sorted(p.name for p in (first / "lms").iterdir())
    assert names == ["moodle-grades.csv"]  # no worksheet: no participant ids
    for name in names:
        assert (first / "lms" / name).read_bytes() == (second / "lms" / name).read_bytes()
    assert _book(first)["s009"]["file"] == "Maria Garcia_73009_assignsubmission_file/answers.csv"
    assert (first / "gradebook.csv").read_bytes() == (second / "gradebook.csv").read_bytes()


def test_the_worksheet_goes_back_in_its_own_encoding_and_delimiter(lms_class, tmp_path):
    text = (LMS / "moodle-grading-worksheet.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    sheet = tmp_path / "worksheet.csv"
    sheet.write_bytes(buf.getvalue().encode("utf-16"))  # as Excel saves "Unicode text"
    grade(
        lms_class, LMS / "moodle-folders.zip", tmp_path / "g", lms=LmsInputs(moodle_worksheet=sheet)
    )
    data = (tmp_path / "g" / "lms" / "moodle-grading-worksheet.csv").read_bytes()
    assert data.startswith(b"\xff\xfe")
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    imported = lms.moodle_worksheet_import_check(
        data, participants, encoding="utf-16", separator="semicolon", maxgrade=10.0
    )
    assert len(imported) == len(rows) - 1
    assert sum(r.grade_update for r in imported) == sum(1 for p in fixture.CLASS if p.files)
