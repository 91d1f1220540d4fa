"""Canvas's rules as re-implemented (tests/lms/canvas.py) checked against facts from
Canvas's own sources, and the fixtures of tests/data/lms/ checked against them."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import lms
import pytest

ROOT = Path(__file__).resolve().parent.parent
LMS = lms.FIXTURES
EXPECTED = lms.EXPECTED
_zip = lms.zip_of


# --- Canvas gradebook ----------------------------------------------------------------------------


def test_canvas_export_header_and_points_row():
    lines = (LMS / "canvas-gradebook.csv").read_text("utf-8").split("\n")
    assert lines[0].startswith(
        "Student,ID,SIS User ID,SIS Login ID,Section,Week 4: RNNs (88000),Week 5: LSTM gates (88001),"
    )
    assert lines[1].startswith("    Points Possible,,,,,5,10,(read only)")
    assert lines[2].startswith('"Brontë, Zoë",5013,SIS013,s013,')


def test_canvas_title_and_id():
    assert lms.canvas_title_and_id("Week 5: LSTM gates (88001)") == ("Week 5: LSTM gates", "88001")
    assert lms.canvas_title_and_id("Quiz (draft)") == ("Quiz (draft)", None)
    assert lms.canvas_title_and_id("No space(12)") == ("No space(12)", None)


def _canvas_students():
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_lms_data

    return [make_lms_data.canvas_student(p) for p in make_lms_data.CLASS]


def test_canvas_import_of_its_own_export():
    imp = lms.canvas_gradebook_import_check(
        (LMS / "canvas-gradebook.csv").read_bytes(), _canvas_students()
    )
    assert [a[1] for a in imp.assignments] == [88000, 88001]  # totals dropped
    assert imp.points_possible["Week 5: LSTM gates (88001)"] == "10"
    assert len(imp.students) == 25 and all(how == "id" for _s, how, _g in imp.students)
    garcias = [s.id for s, _h, _g in imp.students if s and s.name == "Maria Garcia"]
    assert sorted(garcias) == [5009, 5010]


def test_canvas_import_identifies_students_by_id_sis_login_then_name():
    students = _canvas_students()[:4]
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Section,Week 5 (88001)\n"
        "    Points Possible,,,,,10\n"
        "Anyone,5001,,,A,1\n"
        "Anyone,,SIS002,,A,2\n"
        "Anyone,,,s003,A,3\n"
        '"Петров, Иван",,,,A,0\n'
        "Stranger,,,,A,\n"
    )
    imp = lms.canvas_gradebook_import_check(text, students)
    assert [(s.id if s else None, how) for s, how, _g in imp.students] == [
        (5001, "id"),
        (5002, "sis_user_id"),
        (5003, "sis_login_id"),
        (5004, "name"),
        (None, "new"),
    ]
    grades = [g["Week 5 (88001)"] for _s, _h, g in imp.students]
    assert grades == ["1", "2", "3", "0", ""]  # blank stays blank, 0 is a score


def test_canvas_import_header_rules():
    with pytest.raises(lms.Refused, match="Invalid header row"):
        lms.canvas_gradebook_import_check("Name,ID,Section,A\n")
    with pytest.raises(lms.Refused, match="Invalid header row"):
        lms.canvas_gradebook_import_check("Student,ID,Group,A (1)\n")
    imp = lms.canvas_gradebook_import_check("Student,ID,SIS Login ID,Section,A (1)\nx,1,,s,2\n")
    assert [a[2] for a in imp.assignments] == ["A (1)"]


def test_canvas_import_semicolon_decimal_comma_muted_and_read_only():
    text = (
        "Student;ID;Section;A (1);B (2);Current Score\n"
        ";;;Muted;;\n"
        "    Points Possible;;;10;(read only);(read only)\n"
        "x;7;S;7,5;3;75\n"
    )
    imp = lms.canvas_gradebook_import_check(text)
    assert [a[2] for a in imp.assignments] == ["A (1)"]
    assert imp.readonly == ["B (2)"]
    assert imp.students[0][2] == {"A (1)": "7.5"}


def test_canvas_no_change_rules():
    assert lms.canvas_no_change("", "-") and lms.canvas_no_change("7.499", "7.5")
    assert not lms.canvas_no_change("", "5") and not lms.canvas_no_change("0", "")
    assert not lms.canvas_no_change("EX", "5")


# --- Canvas submissions zip and re-upload ----------------------------------------------------


def test_canvas_member_names():
    s = lms.CanvasStudent(5001, "Seán O'Brien", "O'Brien, Seán")
    f = lms.CanvasFile(910001, "My Answers.csv", b"")
    assert lms.canvas_submission_member(lms.CanvasSubmission(s, (f,)), f) == (
        "obrienseán_5001_910001_My Answers.csv"
    )
    assert lms.canvas_submission_member(lms.CanvasSubmission(s, (f,), late=True), f) == (
        "obrienseán_late_5001_910001_My Answers.csv"
    )
    assert lms.canvas_submission_member(lms.CanvasSubmission(s, (f,)), f, anonymous=True) == (
        "5001_910001_My Answers.csv"
    )
    # sanitize_user_name joins digits fenced by underscores, so they cannot pose as ids
    assert lms.canvas_sanitize_user_name("Smith_42_, Al") == "Smith42, Al"


def test_canvas_fixture_zip_and_late_file():
    with zipfile.ZipFile(LMS / "canvas-submissions.zip") as zf:
        names = zf.namelist()
    assert sorted(names) == sorted(EXPECTED["canvas-submissions.zip"])
    late = sorted(n for n in names if "_late_" in n)
    assert late == [
        "oconnorsiobhán_late_5002_910002_answers.csv",
        "picardjeanluc_late_5017_910018_answers.csv",
    ]


def test_canvas_reupload_matches_by_the_first_two_numbers():
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_lms_data

    subs = make_lms_data.canvas_submissions()
    data = (LMS / "canvas-submissions.zip").read_bytes()
    res = lms.canvas_reupload_check(data, subs)
    # "Doe, John_3" -> doejohn_3_5024_...: Canvas reads user 3, attachment 5024: ignored
    assert res.ignored == ["doejohn_3_5024_910025_answers.csv"]
    for member, (sub, _f) in res.comments.items():
        assert sub.student.login_id == EXPECTED["canvas-submissions.zip"][member]


def test_canvas_reupload_skips_mac_resource_forks_and_links():
    s = lms.CanvasSubmission(lms.CanvasStudent(7, "A", "A"), (lms.CanvasFile(9, "a.csv", b""),))
    res = lms.canvas_reupload_check(
        _zip(["._a_7_9_a.csv", "a_7_9_link.html", "x/a_7_9_a.csv"]), [s]
    )
    assert sorted(res.ignored) == ["._a_7_9_a.csv", "a_7_9_link.html"]
    assert list(res.comments) == ["x/a_7_9_a.csv"]
