"""Moodle's rules as re-implemented (tests/lms/moodle.py, moodle_grades.py) checked against
facts from Moodle's own sources and unit tests, and the fixtures of tests/data/lms/ checked
against them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import lms
import pytest

ROOT = Path(__file__).resolve().parent.parent
LMS = lms.FIXTURES
EXPECTED = lms.EXPECTED
_zip = lms.zip_of


def _roster() -> dict[str, dict[str, str]]:
    import csv

    with (LMS / "roster.csv").open(encoding="utf-8", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def _participants() -> dict[int, lms.MoodleUser]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_lms_data

    return {p.participant: make_lms_data.moodle_user(p) for p in make_lms_data.CLASS}


# --- Moodle PARAM_FILE / PARAM_PATH: lib/tests/moodlelib_test.php ---------------------------

# test_clean_param_file (moodle/moodle lib/tests/moodlelib_test.php, Moodle 3.x/4.x version)
CLEAN_FILE = [
    ("correctfile.txt", "correctfile.txt"),
    ("b'a<d`\\/fi:l>e.t\"x|t", "badfile.txt"),
    ("../parentdirfile.txt", "..parentdirfile.txt"),
    ("../../grandparentdirfile.txt", "....grandparentdirfile.txt"),
    ("..\\winparentdirfile.txt", "..winparentdirfile.txt"),
    ("..\\..\\wingrandparentdir.txt", "....wingrandparentdir.txt"),
    ("myfile.a.b.txt", "myfile.a.b.txt"),
    ("myfile..a..b.txt", "myfile..a..b.txt"),
    ("myfile.a..b...txt", "myfile.a..b...txt"),
    ("myfile.a.txt", "myfile.a.txt"),
    ("myfile...txt", "myfile...txt"),
    (" . .dontltrim.me", " . .dontltrim.me"),
    ("here is a tab\t.txt", "here is a tab.txt"),
    ("here is a line\r\nbreak.txt", "here is a linebreak.txt"),
    ("funny:thing", "funnything"),
    ("./currentdirfile.txt", ".currentdirfile.txt"),
    ("c:\\temp\\windowsfile.txt", "ctempwindowsfile.txt"),
    ("/home/user/linuxfile.txt", "homeuserlinuxfile.txt"),
    ("~/myfile.txt", "~myfile.txt"),
    (".", ""),
    ("..", ""),
]


@pytest.mark.parametrize(("raw", "clean"), CLEAN_FILE)
def test_clean_param_file_as_moodles_unit_test(raw, clean):
    assert lms.moodle_clean_param_file(raw) == clean
    assert lms.moodle_clean_filename(raw) == clean


# test_clean_param_path (same file)
CLEAN_PATH = [
    ("correctfile.txt", "correctfile.txt"),
    ("b'a<d`\\/fi:l>e.t\"x|t", "bad/file.txt"),
    ("../parentdirfile.txt", "/parentdirfile.txt"),
    ("../../grandparentdirfile.txt", "/grandparentdirfile.txt"),
    ("..\\winparentdirfile.txt", "/winparentdirfile.txt"),
    ("..\\..\\wingrandparentdir.txt", "/wingrandparentdir.txt"),
    ("funny:thing", "funnything"),
    ("./././here", "./here"),
    ("./currentdirfile.txt", "./currentdirfile.txt"),
    ("c:\\temp\\windowsfile.txt", "c/temp/windowsfile.txt"),
    ("/home/user/linuxfile.txt", "/home/user/linuxfile.txt"),
    ("/home../user ./.linuxfile.txt", "/home../user ./.linuxfile.txt"),
    ("~/myfile.txt", "~/myfile.txt"),
    ("~/../myfile.txt", "~/myfile.txt"),
    ("/..b../.../myfile.txt", "/..b../.../myfile.txt"),
    ("..b../.../myfile.txt", "..b../.../myfile.txt"),
    ("/super//slashes///", "/super/slashes/"),
]


@pytest.mark.parametrize(("raw", "clean"), CLEAN_PATH)
def test_clean_param_path_as_moodles_unit_test(raw, clean):
    assert lms.moodle_clean_param_path(raw) == clean


def test_clean_filename_keeps_unicode_and_strips_ascii_apostrophe_only():
    # [[:cntrl:]] under /u is \p{Cc}: U+0085 goes, the typographic apostrophe U+2019 stays
    assert lms.moodle_clean_filename("O'Brien O’Neil\x85 王小明 & Co") == "OBrien O’Neil 王小明  Co"
    # no trimming, no collapsing, no length cap
    assert lms.moodle_clean_filename("  a" + "b" * 300 + "  ") == "  a" + "b" * 300 + "  "


# --- Moodle download naming -----------------------------------------------------------------

OBRIEN = lms.MoodleUser(201, "Seán", "O'Brien", "s@example.edu", 73015)


def test_download_member_names_per_version_and_layout():
    f = "answers.csv"
    assert (
        lms.moodle_submission_member(OBRIEN, f)
        == "Seán OBrien_73015_assignsubmission_file/answers.csv"
    )
    assert (
        lms.moodle_submission_member(OBRIEN, f, version=(4, 0))
        == "Seán OBrien_73015_assignsubmission_file_/answers.csv"
    )
    assert (
        lms.moodle_submission_member(OBRIEN, f, layout="flat")
        == "Seán OBrien_73015_assignsubmission_file_answers.csv"
    )
    assert (
        lms.moodle_submission_member(OBRIEN, f, blind=True)
        == "Participant_73015_assignsubmission_file/answers.csv"
    )
    # a student's own subfolder is kept (file plugin: filepath + filename)
    assert (
        lms.moodle_submission_member(OBRIEN, f, filepath="/week5/")
        == "Seán OBrien_73015_assignsubmission_file/week5/answers.csv"
    )
    # online text: folder + plugin's file name
    assert (
        lms.moodle_submission_member(OBRIEN, "onlinetext.html", plugintype="onlinetext")
        == "Seán OBrien_73015_assignsubmission_onlinetext/onlinetext.html"
    )


def test_underscores_in_names_become_spaces_so_the_id_is_always_piece_one():
    u = lms.MoodleUser(1, "Anna_Lena", "Schmidt", "", 42)
    assert lms.moodle_submission_prefix(u) == "Anna Lena Schmidt_42"
    assert lms.moodle_submission_prefix(u, template="{lastname} {firstname}") == (
        "Schmidt Anna Lena_42"
    )


def test_the_number_is_the_participant_id_not_the_user_id():
    path = lms.moodle_submission_member(OBRIEN, "a.csv")
    assert "_73015_" in path and "201" not in path


@pytest.mark.parametrize(
    "name",
    ["moodle-folders.zip", "moodle-folders-pre41.zip", "moodle-flat.zip", "moodle-blind.zip"],
)
def test_fixture_zips_have_exactly_the_expected_members(name):
    with zipfile.ZipFile(LMS / name) as zf:
        names = zf.namelist()
        assert not any(i.is_dir() for i in zf.infolist())  # no directory entries
    assert sorted(names) == sorted(EXPECTED[name])
    assert len(set(EXPECTED[name].values())) == 24  # s025 submitted nothing


# --- Moodle feedback-zip import: importziplib_test.php ----------------------------------------


def test_importziplib_unit_test_cases():
    # mod/assign/feedback/file/tests/importziplib_test.php test_is_valid_filename_for_import
    sid = 73015
    parts = {sid: OBRIEN}
    bad = [
        ".hiddenfile",
        "~hiddenfile",
        "some_path_here/RandomFile.txt",
        "Student Name_StringID_assignsubmission_file_My_cool_filename.txt",
        f"Student Name_{sid + 100}_assignsubmission_file_My_cool_filename.txt",
        f"Student Name_{sid}_assignsubmission_noplugin_My_cool_filename.txt",
    ]
    assert lms.moodle_feedback_zip_check(_zip(bad), parts) == {}
    good = f"Student Name_{sid}_assignsubmission_file_"
    got = lms.moodle_feedback_zip_check(_zip([good + "My_cool_filename.txt"]), parts)
    assert got[good + "My_cool_filename.txt"] == (
        OBRIEN,
        "assignsubmission_file",
        "My_cool_filename.txt",
    )
    member = f"some_path_here/{good}/some_path/My File.txt"
    got = lms.moodle_feedback_zip_check(_zip([member]), parts)
    assert got[member][2] == "/some_path/My File.txt"


def test_feedback_zip_accepts_the_41_folder_without_trailing_underscore():
    member = "Seán OBrien_73015_assignsubmission_file/answers.csv"
    got = lms.moodle_feedback_zip_check(_zip([member]), {73015: OBRIEN})
    assert got[member] == (OBRIEN, "assignsubmission_file", "/answers.csv")


@pytest.mark.parametrize(
    "name",
    ["moodle-folders.zip", "moodle-folders-pre41.zip", "moodle-flat.zip", "moodle-blind.zip"],
)
def test_every_download_layout_goes_back_to_the_right_participant(name):
    participants = _participants()
    got = lms.moodle_feedback_zip_check((LMS / name).read_bytes(), participants)
    assert set(got) == set(EXPECTED[name])
    for member, (user, _plugin, _filename) in got.items():
        assert user.username == EXPECTED[name][member]


def test_moodle_names_two_students_share_are_told_apart_only_by_the_number():
    folders = [m.split("/")[0] for m in EXPECTED["moodle-folders.zip"]]
    garcia = sorted(f for f in folders if f.startswith("Maria Garcia_"))
    assert garcia == [
        "Maria Garcia_73009_assignsubmission_file",
        "Maria Garcia_73021_assignsubmission_file",
    ]


# --- Moodle offline grading worksheet -----------------------------------------------------------


def test_worksheet_header_and_encoding():
    data = (LMS / "moodle-grading-worksheet.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    first = data[3:].split(b"\n", 1)[0].decode()
    assert first == (
        'Identifier,"Full name","Email address",Status,Grade,"Maximum Grade",'
        '"Grade can be changed","Last modified (submission)","Last modified (grade)",'
        '"Feedback comments"'
    )
    assert b"\r" not in data  # fputcsv: LF line ends
    blind = (LMS / "moodle-grading-worksheet-blind.csv").read_bytes()[3:].split(b"\n", 1)[0]
    assert blind.decode().startswith("Identifier,Status,Grade,")


def test_worksheet_fixture_reads_back_every_participant():
    rows = lms.moodle_worksheet_import_check(
        (LMS / "moodle-grading-worksheet.csv").read_bytes(), _participants()
    )
    assert len(rows) == 25
    expected = EXPECTED["moodle-grading-worksheet.csv"]
    for r in rows:
        assert expected[lms.MOODLE_HIDDENUSER + str(r.participant.participantid)] == (
            r.participant.username
        )
    graded = [r for r in rows if r.grade_update]
    assert graded and all(r.grade is not None and 0 <= r.grade <= 10 for r in graded)
    assert all(r.skip_reason == "grade has no value" for r in rows if not r.grade_update)


def _sheet(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


HEAD = "Identifier,Grade,Last modified (grade),Feedback comments"


def test_worksheet_needs_identifier_grade_and_modified_columns():
    for head in ("Identifier,Grade", "Grade,Last modified (grade)", "identifier,grade,x"):
        with pytest.raises(lms.Refused, match="invalidgradeimport"):
            lms.moodle_worksheet_import_check(
                _sheet([head, ",".join(["1"] * (head.count(",") + 1))])
            )


def test_worksheet_identifier_rules():
    text = _sheet(
        [
            HEAD,
            "Participant 73015,7,-,ok",
            "Participant 99,7,-,unknown participant",
            "73015,7,-,no prefix: first 12 characters dropped",
            "Teilnehmer/in 73015,7,-,German export read by an English importer",
        ]
    )
    rows = lms.moodle_worksheet_import_check(text, {73015: OBRIEN})
    assert [r.feedback["Feedback comments"] for r in rows] == ["ok"]


def test_worksheet_grade_rules():
    now = 1_772_446_500
    cur = {
        1: lms.CurrentGrade(None, 0),
        2: lms.CurrentGrade(5.0, now),
        3: lms.CurrentGrade(None, now + 3600),  # graded in Moodle after the download
        4: lms.CurrentGrade(None, 0),
        5: lms.CurrentGrade(None, 0),
        6: lms.CurrentGrade(None, 0, locked=True),
        7: lms.CurrentGrade(None, 0),
    }
    date = '"' + lms.moodle_userdate(now) + '"'
    users = {i: lms.MoodleUser(i, "", "", "", i) for i in range(1, 9)}
    text = _sheet(
        [
            HEAD,
            f"Participant 1,,{date},",
            f"Participant 2,5.00,{date},",
            f"Participant 3,8,{date},late feedback",
            f"Participant 4,11,{date},",
            f"Participant 5,abc,{date},",
            f"Participant 6,4,{date},",
            f"Participant 7,-1,{date},",
            "Participant 8,7.5,-,",
        ]
    )
    rows = {
        r.participant.participantid: r
        for r in lms.moodle_worksheet_import_check(text, users, current=cur)
    }
    assert rows[1].skip_reason == "grade has no value"
    assert rows[2].skip_reason == "grade not modified"
    assert rows[3].skip_reason.startswith("grade modified") and not rows[3].feedback_update
    assert rows[4].skip_reason == "grade out of range"
    # not strict: unformat_float('abc') is (float)'abc' = 0.0, a real grade of 0
    assert rows[5].grade == 0.0 and rows[5].grade_update
    assert rows[6].skip_reason == "grade is locked"
    assert rows[7].skip_reason == "grade has no value"
    # '-' parses to no date; without a current grade nothing is stale
    assert rows[8].grade == 7.5 and rows[8].grade_update and rows[8].modified is None
    forced = lms.moodle_worksheet_import_check(text, users, current=cur, ignoremodified=True)
    assert next(r for r in forced if r.participant.participantid == 3).grade_update


def test_worksheet_feedback_in_first_column_is_ignored():
    text = _sheet(
        ["Feedback comments,Identifier,Grade,Last modified (grade)", "hi,Participant 1,3,-"]
    )
    (row,) = lms.moodle_worksheet_import_check(text, {1: OBRIEN})
    assert row.feedback == {}


def test_worksheet_scale_and_decimal_comma():
    text = _sheet([HEAD, "Participant 1,Good,-,", "Participant 2,Great,-,"])
    users = {1: OBRIEN, 2: OBRIEN}
    rows = lms.moodle_worksheet_import_check(text, users, scale=["Poor", "Good"])
    assert rows[0].grade == 2.0 and rows[1].grade == "" and not rows[1].grade_update
    text = "Identifier;Grade;Last modified (grade)\nParticipant 1;7,5;-\n"
    (row,) = lms.moodle_worksheet_import_check(text, users, separator="semicolon", decsep=",")
    assert row.grade == 7.5


def test_csv_reader_refuses_ragged_rows_and_empty_files():
    with pytest.raises(lms.Refused, match="csvweirdcolumns"):
        lms.moodle_worksheet_import_check(_sheet([HEAD, "Participant 1,3"]))
    with pytest.raises(lms.Refused, match="csvemptyfile"):
        lms.moodle_worksheet_import_check("\ufeff \n\n")


def test_userdate_round_trips_through_the_strtotime_subset():
    ts = 1_772_446_500
    assert lms.moodle_userdate(ts) == "Monday, 2 March 2026, 10:15 AM"
    assert lms.php_strtotime_userdate(lms.moodle_userdate(ts)) == ts
    assert lms.php_strtotime_userdate("-") is None


def test_php_fputcsv_quoting():
    assert lms.php_fputcsv_line(["a", "b c", 'q"', "", "x,y"]) == 'a,"b c","q""",,"x,y"\n'


# --- Moodle gradebook CSV import ----------------------------------------------------------------

USERS = [
    lms.MoodleUser(201, "Seán", "O'Brien", "sean@example.edu", 1, username="s001", idnumber="S1"),
    lms.MoodleUser(202, "Ivan", "Petrov", "ivan@example.edu", 2, username="s002", idnumber="S2"),
]
ITEMS = {"Week 5": "item", "Feedback": "feedback:Week 5"}


def test_gradebook_import_maps_by_email():
    text = "Email address,Week 5,Feedback\nsean@example.edu,7.5,good\nivan@example.edu,-,\n"
    rows = lms.moodle_gradebook_import_check(text, "email", USERS, items=ITEMS)
    assert [(r.userid, r.grades["Week 5"], r.feedback["Week 5"]) for r in rows] == [
        (201, 7.5, "good"),
        (202, None, ""),
    ]


def test_gradebook_import_other_user_fields_and_refusals():
    text = "ID number,Week 5\nS2,4\n"
    (row,) = lms.moodle_gradebook_import_check(text, "idnumber", USERS, items=ITEMS)
    assert row.userid == 202
    with pytest.raises(lms.Refused, match="usermappingerror"):
        lms.moodle_gradebook_import_check(
            "Email address,Week 5\nnobody@x,4\n", "email", USERS, items=ITEMS
        )
    with pytest.raises(lms.Refused, match="badgrade"):
        lms.moodle_gradebook_import_check(
            "Email address,Week 5\nsean@example.edu,abc\n", "email", USERS, items=ITEMS
        )
    with pytest.raises(lms.Refused, match="gradevaluetoobig"):
        lms.moodle_gradebook_import_check(
            "Email address,Week 5\nsean@example.edu,101\n", "email", USERS, items=ITEMS
        )
    with pytest.raises(lms.Refused, match="usermappingerrorusernotfound"):
        lms.moodle_gradebook_import_check("Email address,Week 5\n,4\n", "email", USERS, items=ITEMS)
    with pytest.raises(lms.Refused, match="cannotmapfield"):
        lms.moodle_gradebook_import_check(
            "Email address,A,B\nsean@example.edu,1,2\n",
            "email",
            USERS,
            items={"A": "item", "B": "item"},
        )


def test_gradebook_import_blank_user_cell_keeps_the_previous_rows_user():
    text = "Email address,Week 5\nsean@example.edu,1\n,2\n"
    rows = lms.moodle_gradebook_import_check(text, "email", USERS, items=ITEMS)
    assert [r.userid for r in rows] == [201, 201]


# --- the fixtures themselves -------------------------------------------------------------------


def test_fixtures_are_regenerated_deterministically():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_lms_data.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_fixtures_are_small_and_roster_is_hard():
    assert sum(p.stat().st_size for p in LMS.iterdir()) < 200_000
    roster = _roster()
    assert len(roster) == 25
    names = [r["name"] for r in roster.values()]
    assert names.count("Maria Garcia") == 2 and "Müller, Hans-Peter" in names
