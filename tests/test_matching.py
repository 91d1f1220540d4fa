"""Whose file is it: LMS layouts, names in every script, never a guess."""

from __future__ import annotations

import csv
import io
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import builtin_path
from lstm_exam.graders.matching import LmsIds, Matcher, clean_filename, name_key

SAMPLES = builtin_path("sample-submissions")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

IVAN = Student("s1", "Иван Петров")
WANG = Student("s2", "王小明")
ZOE = Student("s3", "Zoë O'Brien")
HANS = Student("s4", "Müller, Hans-Peter")
NIKOS = Student("s5", "Νίκος Παπαδόπουλος")
ROSTER = [IVAN, WANG, ZOE, HANS, NIKOS]


def moodle_folder(name: str, participant: int, trailing: str = "") -> str:
    """A submission folder as Moodle names it: clean_filename(fullname with '_' as ' ')."""
    return clean_filename(name.replace("_", " ") + f"_{participant}") + (
        f"_assignsubmission_file{trailing}"
    )


def test_names_in_every_script_match_their_own_student_and_nobody_else():
    m = Matcher(ROSTER)
    for k, s in enumerate(ROSTER):
        for trailing in ("", "_"):  # Moodle 4.x, and older versions' trailing '_'
            path = f"{moodle_folder(s.name, 500 + k, trailing)}/answers.csv"
            assert m.match(path).student == s, path


def test_moodle_s_clean_filename_and_either_order_of_the_names():
    m = Matcher(ROSTER)
    assert m.match("Zoë OBrien_77_assignsubmission_file/a.csv").student == ZOE
    assert m.match("Hans-Peter Müller_78_assignsubmission_file/a.csv").student == HANS
    assert m.match("MÜLLER Hans Peter_79_assignsubmission_file/a.csv").student == HANS
    # a team assignment puts the group's name first: taken off only where the roster (or
    # the worksheet's Team column) says the student is in that group
    assert m.match("Group A-Иван Петров_80_assignsubmission_file/a.csv").student is None
    ivan = Student("s1", "Иван Петров", {"group": "Group A"})
    m = Matcher([ivan, *ROSTER[1:]])
    assert m.match("Group A-Иван Петров_80_assignsubmission_file/a.csv").student == ivan
    assert m.match("Group B-Иван Петров_80_assignsubmission_file/a.csv").student is None


def test_moodle_s_flat_layout_names_the_file_after_the_folder():
    m = Matcher(ROSTER)
    assert m.match("王小明_81_assignsubmission_file_answers.csv").student == WANG


def test_two_students_who_fit_one_folder_get_neither_and_both_are_named():
    twins = [Student("a1", "Kim Lee"), Student("a2", "Lee Kim"), Student("a3", "Ann Bo")]
    found = Matcher(twins).match("Kim Lee_12_assignsubmission_file/x.csv")
    assert found.student is None and "a1 and a2" in found.how


def test_an_lms_number_is_matched_only_as_what_it_is():
    # the number in a Moodle folder is the participant id, never a Moodle user id
    ada = Student("s1", "Ada Lovelace", {"lms_id": "1001"})
    bo = Student("s2", "Bo Chen", {"lms_id": "77"})
    m = Matcher([ada, bo])
    assert m.match("Ada Lovelace_77_assignsubmission_file/a.csv").student == ada
    # through the worksheet's participant ids, the number wins over the name
    m = Matcher([ada, bo], LmsIds(participant={"s2": "1830455"}))
    assert m.match("Participant_1830455_assignsubmission_file/a.csv").student == bo


def test_blind_marking_without_the_worksheet_is_unmatched_and_says_what_to_pass():
    found = Matcher(ROSTER).match("Participant_1830455_assignsubmission_file/s1.csv")
    assert found.student is None and "--moodle-worksheet" in found.how


def test_a_roster_id_as_the_file_name_inside_an_unknown_moodle_folder_decides_nothing():
    # the LMS says "A Lovelace" sent it: who that is, the file's own name cannot say
    # (issue 21); the reason names the id, for a --map line
    m = Matcher([Student("u2310451", "Ada Lovelace")])
    found = m.match("A Lovelace_5_assignsubmission_file/u2310451.csv")
    assert found.student is None and "u2310451" in found.how and "--map" in found.how
    # the folder says whose it is: a name that matches wins over the file's name
    m = Matcher([Student("u1", "Ada Lovelace"), Student("u2", "Bo Chen")])
    assert m.match("Ada Lovelace_5_assignsubmission_file/u2.csv").student.student_id == "u1"


def test_canvas_names_by_user_id_then_by_lastfirst():
    ada = Student("s1", "Ada Lovelace", {"canvas_id": "1001"})
    m = Matcher([ada, Student("s2", "Bo Chen")])
    assert m.match("lovelaceada_1001_77001_answers.csv").student == ada
    assert m.match("chenbo_late_2002_77002_answers.csv").student.student_id == "s2"
    found = m.match("someoneelse_4242_77100_answers.csv")
    assert found.student is None and "someoneelse" in found.how


_LETTERS = st.sampled_from(
    [
        "abcdefghij",  # Latin
        "àéîõüçñøåß",  # Latin with diacritics
        "абвгдеёжзи",  # Cyrillic
        "αβγδεζηθικ",  # Greek
        "王小明李华张伟刘洋陈",  # CJK
        "あいうえおかきくけこ",  # kana
        "김민준서연지호하은",  # Hangul
        "محمدعليحسن",  # Arabic
        "אבגדהוזחטי",  # Hebrew
    ]
)


@st.composite
def names(draw) -> str:
    alphabet = draw(_LETTERS)
    words = draw(st.lists(st.text(alphabet, min_size=1, max_size=6), min_size=1, max_size=3))
    punct = draw(st.sampled_from([" ", " ", "-", "'", "_"]))
    return punct.join(words) if len(words) > 1 else words[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(names(), min_size=2, max_size=8), st.data())
def test_a_moodle_folder_is_never_given_to_another_student(roster_names, data):
    roster = [Student(f"s{k}", n) for k, n in enumerate(roster_names)]
    m = Matcher(roster)
    k = data.draw(st.integers(0, len(roster) - 1))
    owner = roster[k]
    found = m.match(f"{moodle_folder(owner.name, 9000 + k)}/answers.csv")
    assert found.student in (owner, None)
    if found.student is None:  # only when another student's name reads the same
        same = [s for s in roster if s is not owner]
        keys = {name_key(owner.name), name_key(clean_filename(owner.name))}
        assert any({name_key(s.name), name_key(clean_filename(s.name))} & keys for s in same), (
            found.how
        )


def test_a_map_matches_a_file_by_hand_and_is_kept_for_the_next_grading(run, demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "s001.csv", subs / "ada-final.csv")  # no id, no LMS layout
    res = run("grade", demo, subs, "--out", tmp_path / "g")
    book = _book(tmp_path / "g")
    assert res.exit_code == 0 and book["ada-final.csv"]["status"] == "unmatched-file"
    (tmp_path / "map.csv").write_text("file,student_id\nada-final.csv,s001\n")
    res = run(
        "grade", demo, subs, "--out", tmp_path / "g", "--force", "--map", tmp_path / "map.csv"
    )
    assert res.exit_code == 0
    book = _book(tmp_path / "g")
    assert book["s001"]["status"] == "graded" and book["s001"]["percent"] == "100"
    assert (tmp_path / "g" / "map.csv").is_file()
    # a regrade into the same folder applies the kept map again, and says so
    res = run("grade", demo, subs, "--out", tmp_path / "g", "--force")
    assert res.exit_code == 0 and "applied the map kept" in res.output
    assert _book(tmp_path / "g")["s001"]["percent"] == "100"


def test_a_map_line_naming_no_roster_student_is_one_line(run, demo, tmp_path):
    (tmp_path / "map.csv").write_text("file,student_id\nx.csv,s001\nada.csv,nobody\n")
    res = run("grade", demo, SAMPLES, "--map", tmp_path / "map.csv", "--out", tmp_path / "g")
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert "map.csv: line 3:" in res.stderr and "'nobody' is not on the roster" in res.stderr
    assert not (tmp_path / "g").exists()


def _book(folder: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text("utf-8-sig")))
    return {r["student_id"] or r["file"]: r for r in rows}


LMS = Path(__file__).parent / "data" / "lms"
EXPECTED = __import__("json").loads((LMS / "expected.json").read_text("utf-8"))
DOWNLOADS = [
    (name, ws)
    for name in sorted(n for n in EXPECTED if n.endswith(".zip"))
    for ws in ((None, "moodle-grading-worksheet.csv") if name.startswith("moodle") else (None,))
]


@pytest.fixture(scope="module")
def lms_class(tmp_path_factory) -> Path:
    from lstm_exam.generator.generate import generate
    from lstm_exam.generator.spec.roster import read_roster
    from lstm_exam.generator.spec.worksheet import load_spec

    out = tmp_path_factory.mktemp("lms") / "wk"
    generate(load_spec(None), read_roster(LMS / "roster.csv"), out, seed="lms-class-seed-1")
    return out


@pytest.mark.parametrize(("download", "worksheet"), DOWNLOADS)
def test_every_real_lms_download_is_matched_to_the_right_student_or_to_nobody(
    lms_class, tmp_path, download, worksheet
):
    from lstm_exam.graders.lms import LmsInputs
    from lstm_exam.graders.run import grade

    lms = LmsInputs(moodle_worksheet=LMS / worksheet if worksheet else None)
    grade(lms_class, LMS / download, tmp_path / "g", lms=lms)
    rows = list(
        csv.DictReader(io.StringIO((tmp_path / "g" / "gradebook.csv").read_text("utf-8-sig")))
    )
    by_file = {r["file"]: r for r in rows if r["file"]}
    wrong, unmatched = [], []
    for member, owner in EXPECTED[download].items():
        row = by_file[member]  # every file has a row
        if row["status"] == "unmatched-file":
            unmatched.append(member)
        elif row["status"] == "superseded":
            if f"an older file of {owner}:" not in row["flags"]:
                wrong.append((member, owner, row["flags"]))
        elif row["student_id"] != owner:
            wrong.append((member, owner, row["student_id"]))
    assert wrong == []  # never the wrong student
    if worksheet or download.startswith("canvas"):
        assert unmatched == []  # the LMS's own ids leave nobody out
    elif "blind" in download:
        assert len(unmatched) == len(EXPECTED[download])
        assert all("--moodle-worksheet" in by_file[m]["flags"] for m in unmatched)
    else:  # the two Maria Garcias: neither is given the other's file
        assert len(unmatched) == 2
        assert all("s009 and s010" in by_file[m]["flags"] for m in unmatched)


@pytest.mark.parametrize(
    ("export", "download", "ids"),
    [
        ("moodle-grading-worksheet.csv", "moodle-blind.zip", "participant_id"),
        ("canvas-gradebook.csv", "canvas-submissions.zip", "canvas_id"),
        ("moodle-participants.csv", "moodle-folders.zip", "email"),
    ],
)
def test_an_lms_export_is_a_roster_whose_ids_match_the_lms_s_downloads(
    run, tmp_path, export, download, ids
):
    res = run("generate", "--roster", LMS / export, "--no-pdf", "--out", "wk")
    assert res.exit_code == 0, res.output
    assert f"read as a {'Canvas' if 'canvas' in export else 'Moodle'}" in res.stderr
    from lstm_exam.generator.store.manifest_read import read_manifest_students

    _, roster = read_manifest_students(tmp_path / "wk")
    assert len(roster) == 25 and all(s.student.extra.get(ids) for s in roster)
    res = run("grade", "wk", LMS / download, "--out", "g")
    assert res.exit_code == 0, res.output
    book = list(
        csv.DictReader(io.StringIO((tmp_path / "g" / "gradebook.csv").read_text("utf-8-sig")))
    )
    truth = {p.student_id: p for p in __import__("make_lms_data").CLASS}
    unmatched = [r for r in book if r["status"] == "unmatched-file"]
    for member, owner in EXPECTED[download].items():
        row = next(r for r in book if r["file"] == member)
        if row["status"] in ("graded", "unreadable"):  # the right student, by the LMS's id
            attribute = {"participant_id": "participant", "canvas_id": "canvas_id"}.get(ids, ids)
            assert row[ids] == str(getattr(truth[owner], attribute)), (member, row)
    if ids == "email":  # no participant ids: the two Maria Garcias fit one name
        assert len(unmatched) == 2
    else:
        assert unmatched == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_clean_filename_is_moodle_s_for_any_text(text):
    import lms  # tests/lms/moodle.py: Moodle's clean_param(PARAM_FILE), from its source

    assert clean_filename(text) == lms.moodle_clean_filename(text)


def test_an_export_row_joins_a_namesake_only_when_no_e_mail_says_otherwise(tmp_path):
    from lstm_exam.graders.lms import moodle_worksheet_ids, read_table

    sheet = tmp_path / "worksheet.csv"
    sheet.write_text(
        "Identifier,Full name,Email address,Grade,Last modified (grade)\n"
        "Participant 11,Ada Lovelace,ada@uni.edu,,-\n"  # the roster's Ada: joined by e-mail
        "Participant 12,Bo Chen,bo.other@uni.edu,,-\n"  # another Bo Chen than the roster's
        "Participant 13,Cy Dee,,,-\n"  # no e-mail in the export: the name decides
    )
    roster = [
        Student("s1", "Ada Lovelace", {"email": "ada@uni.edu"}),
        Student("s2", "Bo Chen", {"email": "bo@uni.edu"}),
        Student("s3", "Cy Dee", {"email": "cy@uni.edu"}),
    ]
    joined = moodle_worksheet_ids(read_table(sheet, "worksheet"), roster)
    assert dict(joined.ids.participant) == {"s1": "11", "s3": "13"}
    assert any("bo.other@uni.edu, not that of s2" in n for n in joined.notices)
    assert any("no row for 1 roster student (s2)" in n for n in joined.notices)
