"""Issue 21, faults 2 and 7 (first part): whose file it is comes from the LMS, never from
the name a student chose; and file or folder names in any bytes get their rows."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import builtin_path
from lstm_exam.graders.matching import LmsIds, Matcher, clean_filename, name_key, run_together
from lstm_exam.graders.results import Status
from lstm_exam.graders.run import grade

SAMPLES = builtin_path("sample-submissions")
OWN = (SAMPLES / "s001.csv").read_bytes()  # Ada's (s001) answers: 100%
OTHER = (SAMPLES / "s004.csv").read_bytes()  # Grace's (s004): far from Ada's numbers


def _book(folder: Path) -> list[dict[str, str]]:
    text = (folder / "gradebook.csv").read_bytes().decode("utf-8-sig")  # must be UTF-8
    return list(csv.DictReader(io.StringIO(text)))


def _row(book: list[dict[str, str]], key: str) -> dict[str, str]:
    return next(r for r in book if key in (r["student_id"], r["file"]))


def _put(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


# --- fault 2: the file's own name never overrides the LMS's identity ---------------------


def test_an_unknown_moodle_folder_never_gives_its_file_to_the_id_it_is_named_after(demo, tmp_path):
    dl = tmp_path / "dl"
    _put(dl / "Ada Lovelace_1001_assignsubmission_file_" / "answers.csv", OWN, 1_700_000_000)
    # a later file in another participant's folder, named after Ada's id
    _put(dl / "Robert Stone_2002_assignsubmission_file_" / "s001.csv", OTHER, 1_800_000_000)
    grade(demo, dl, tmp_path / "g")
    book = _book(tmp_path / "g")
    ada = _row(book, "s001")
    assert ada["status"] == "graded" and ada["percent"] == "100"
    assert ada["file"] == "Ada Lovelace_1001_assignsubmission_file_/answers.csv"
    assert "graded the latest" not in ada["flags"]
    robert = _row(book, "Robert Stone_2002_assignsubmission_file_/s001.csv")
    assert robert["status"] == "unmatched-file" and robert["student_id"] == ""
    assert "'Robert Stone' (participant 2002) matches no student" in robert["flags"]
    assert "reads s001" in robert["flags"]  # for the instructor's --map, never applied


@pytest.mark.parametrize(
    "name",
    [
        "stonerobert_2077_99_s003.csv",  # the file name inside a Canvas name
        "stonerobert_late_2077_99_s003.csv",
        "s003_2077_99_answers.csv",  # a Canvas login equal to a roster id
        "s003_late_2077_99_answers.csv",
    ],
)
def test_an_unknown_canvas_name_never_gives_its_file_to_a_roster_id(demo, tmp_path, name):
    dl = tmp_path / "dl"
    _put(dl / "nunezjose_1003_77003_answers.csv", OWN, 1_700_000_000)
    _put(dl / name, OTHER, 1_800_000_000)
    run = grade(demo, dl)
    jose = next(r for r in run.results if r.student_id == "s003")
    assert jose.file == "nunezjose_1003_77003_answers.csv"
    assert not any("graded the latest" in f for f in jose.flags)
    (row,) = [r for r in run.results if r.file == name]
    assert row.status is Status.UNMATCHED and "user 2077" in row.flags[0]


@pytest.mark.parametrize(
    ("lms_name", "roster_name"),
    [("Anne-Marie Smith", "Marie Smith"), ("Jean-Luc Besson", "Luc Besson")],
)
def test_no_group_prefix_is_taken_off_without_a_group_on_the_roster(lms_name, roster_name):
    own = Student("s1", roster_name)
    m = Matcher([own, Student("s2", "Ada Lovelace")])
    found = m.match(f"{lms_name}_3001_assignsubmission_file/answers.csv")
    assert found.student is None and "matches no student" in found.how
    # the student's own folder still matches
    assert m.match(f"{roster_name}_3002_assignsubmission_file/answers.csv").student == own


def test_a_group_prefix_is_taken_off_only_for_the_group_the_roster_or_worksheet_shows(
    tmp_path,
):
    marie = Student("s1", "Marie Smith", {"group": "Team 4"})
    m = Matcher([marie, Student("s2", "Ada Lovelace")])
    assert m.match("Team 4-Marie Smith_3001_assignsubmission_file/a.csv").student == marie
    assert m.match("Anne-Marie Smith_3001_assignsubmission_file/a.csv").student is None
    # the worksheet's Team column is evidence too
    from lstm_exam.graders.lms import moodle_worksheet_ids, read_table

    sheet = tmp_path / "ws.csv"
    sheet.write_text(
        "Identifier,Full name,Email address,Status,Team,Grade,Last modified (grade)\n"
        "Participant 11,Luc Besson,luc@uni.edu,Submitted,Jean,,-\n",
        "utf-8",
    )
    luc = Student("s3", "Luc Besson", {"email": "luc@uni.edu"})
    joined = moodle_worksheet_ids(read_table(sheet, "worksheet"), [luc])
    assert dict(joined.ids.group) == {"s3": "Jean"}
    ids = LmsIds(group=joined.ids.group)  # without the participant id: the name decides
    assert Matcher([luc], ids).match("Jean-Luc Besson_12_assignsubmission_file/a").student == luc
    assert Matcher([luc]).match("Jean-Luc Besson_12_assignsubmission_file/a").student is None


def test_a_name_never_matches_a_student_whose_lms_number_is_another():
    ada = Student("s1", "Ada Lovelace", {"participant_id": "1001", "canvas_id": "501"})
    m = Matcher([ada, Student("s2", "Bo Chen")])
    found = m.match("Ada Lovelace_2002_assignsubmission_file/a.csv")
    assert found.student is None and "participant 2002, not s1 (participant 1001)" in found.how
    found = m.match("lovelaceada_777_88_a.csv")
    assert found.student is None and "user 777, not s1 (user 501)" in found.how
    assert m.match("Ada Lovelace_1001_assignsubmission_file/a.csv").student == ada
    assert m.match("lovelaceada_501_88_a.csv").student == ada


def test_two_moodle_identities_that_read_as_one_student_hold_them_and_supersede_nothing(
    run, demo, tmp_path
):
    dl = tmp_path / "dl"
    first = "Ada Lovelace_1001_assignsubmission_file_/answers.csv"
    second = "ADA LOVELACE_2002_assignsubmission_file_/answers.csv"  # a namesake
    _put(dl / first, OWN, 1_700_000_000)
    _put(dl / second, OTHER, 1_800_000_000)
    res = run("grade", demo, dl, "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    book = _book(tmp_path / "g")
    ada = _row(book, "s001")
    assert ada["status"] == "held" and ada["score"] == "" and ada["percent"] == ""
    assert "Moodle participant 1001: " + first in ada["flags"]
    assert "Moodle participant 2002: " + second in ada["flags"]
    for path in (first, second):
        row = _row(book, path)
        assert row["status"] == "unmatched-file" and "held, not graded" in row["flags"]
    assert not any(r["status"] == "superseded" for r in book)
    page = (tmp_path / "g" / "feedback" / "s001.html").read_text("utf-8")
    assert "not graded yet" in page
    # the instructor's map decides; the other file is then not Ada's
    (tmp_path / "map.csv").write_text(f"file,student_id\n{first},s001\n", "utf-8")
    res = run("grade", demo, dl, "--out", tmp_path / "g", "--force", "--map", tmp_path / "map.csv")
    assert res.exit_code == 0, res.output
    book = _book(tmp_path / "g")
    assert _row(book, "s001")["status"] == "graded" and _row(book, "s001")["percent"] == "100"
    assert "not graded as theirs" in _row(book, second)["flags"]


def test_a_plain_file_beside_a_canvas_download_holds_the_student(demo, tmp_path):
    dl = tmp_path / "dl"
    _put(dl / "lovelaceada_1001_77001_answers.csv", OWN, 1_700_000_000)
    _put(dl / "s001.csv", OTHER, 1_800_000_000)  # a plain file in a Canvas download
    run = grade(demo, dl, tmp_path / "g")
    ada = next(r for r in run.results if r.student_id == "s001")
    assert ada.status is Status.HELD and "Canvas user 1001" in ada.flags[0]
    assert "a file name: s001.csv" in ada.flags[0]


def test_two_files_of_one_lms_identity_are_still_one_submission(demo, tmp_path):
    dl = tmp_path / "dl"
    folder = dl / "Ada Lovelace_1001_assignsubmission_file_"
    _put(folder / "old.csv", OTHER, 1_700_000_000)
    _put(folder / "new.csv", OWN, 1_800_000_000)
    run = grade(demo, dl)
    ada = next(r for r in run.results if r.student_id == "s001")
    assert ada.status is Status.GRADED and ada.file.endswith("new.csv") and ada.percent == 100


def test_plain_names_that_say_two_students_match_neither(demo, tmp_path):
    dl = tmp_path / "dl"
    _put(dl / "s002" / "s001.csv", OWN, 1_700_000_000)
    _put(dl / "s004" / "answers.csv", OTHER, 1_700_000_000)
    run = grade(demo, dl)
    (row,) = [r for r in run.results if r.file == "s002/s001.csv"]
    assert row.status is Status.UNMATCHED and "say s001 and s002" in row.flags[0]
    assert next(r for r in run.results if r.student_id == "s004").status is Status.GRADED


# --- the property: never credited to anyone but the one the LMS names ---------------------

_ALPHABETS = st.sampled_from(["abcdefgh", "àéîõüçñ", "абвгдеж", "王小明李华张", "αβγδεζ"])


@st.composite
def _names(draw) -> str:
    alphabet = draw(_ALPHABETS)
    words = draw(st.lists(st.text(alphabet, min_size=1, max_size=5), min_size=1, max_size=3))
    return draw(st.sampled_from([" ", "-", "'", "_"])).join(words)


def _keys(name: str) -> set[str]:
    clean = clean_filename(name)
    return {name_key(name), name_key(clean), *run_together(name), *run_together(clean)}


@st.composite
def _class(draw) -> tuple[list[Student], set[str]]:
    names = draw(st.lists(_names(), min_size=1, max_size=6))
    roster = []
    for k, name in enumerate(names):
        extra = {}
        if draw(st.booleans()):
            extra["participant_id"] = str(5000 + k)
        if draw(st.booleans()):
            extra["canvas_id"] = str(7000 + k)
        if draw(st.booleans()):
            extra["group"] = f"Team {k}"
        roster.append(Student(f"s{k:03d}", name, extra))
    return roster, {s.student_id for s in roster}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_class(), st.data())
def test_a_file_is_never_credited_to_anyone_but_the_student_the_lms_names(klass, data):
    roster, _ = klass
    m = Matcher(roster)
    insider = data.draw(st.booleans())
    if insider:
        owner = data.draw(st.sampled_from(roster))
        k = roster.index(owner)
        name = owner.name
        if "group" in owner.extra and data.draw(st.booleans()):
            name = f"{owner.extra['group']}-{name}"
        number = owner.extra.get("participant_id", str(9000 + k))
        uid = owner.extra.get("canvas_id", str(9500 + k))
    else:  # someone the roster does not know: often a prefix on a roster name
        owner = None
        name = data.draw(_names())
        if data.draw(st.booleans()):
            name = f"{data.draw(_names())}-{data.draw(st.sampled_from(roster)).name}"
        assume(not any(_keys(name) & _keys(s.name) for s in roster))
        number, uid = "8999", "9999"
    # whatever the student called the file: another's id or name, or anything
    inner = data.draw(
        st.one_of(
            st.sampled_from([s.student_id for s in roster]),
            st.sampled_from([s.name for s in roster]),
            st.text(min_size=1, max_size=12).filter(lambda t: "/" not in t),
            # another student's LMS numbers, laid out as the LMS lays them out
            st.sampled_from(
                [
                    f"{sorted(run_together(s.name))[0]}_{n}_5_x"
                    for s in roster
                    for n in s.extra.values()
                ]
                + [
                    f"{clean_filename(s.name)}_{n}_assignsubmission_file_x"
                    for s in roster
                    for n in s.extra.values()
                ]
                or ["z"]
            ),
        )
    )
    login = sorted(run_together(name))[0]  # Canvas's lastfirst: the words run together
    paths = [
        f"{clean_filename(name.replace('_', ' ') + '_' + number)}_assignsubmission_file/{inner}.csv",
        clean_filename(f"{name.replace('_', ' ')}_{number}_assignsubmission_file_{inner}.csv"),
        f"{login}_{uid}_123_{inner}.csv",
        f"{login}_late_{uid}_123_{inner}.csv",
    ]
    for path in paths:
        found = m.match(path)
        if found.student is not None:
            assert owner is not None and found.student == owner, (path, found)


# --- fault 7, first part: file and folder names in any bytes -----------------------------


def _fs_ok() -> bool:
    """Whether this file system takes names that are not UTF-8 (most Linux ones do)."""
    return os.name == "posix"


def test_folder_names_that_are_not_utf8_get_rows_and_the_lms_id_still_grades(run, demo, tmp_path):
    assert _fs_ok()
    dl = os.fsencode(tmp_path / "dl")
    os.makedirs(dl)
    # a Windows zip unpacked with `unzip`: the names' bytes in a Windows code page
    canvas = dl + b"/n\xfa\xf1ezjos\xe9_1003_77003_answers.csv"  # Canvas user 1003: s003
    moodle = dl + b"/Jos\xe9 N\xfa\xf1ez_999_assignsubmission_file_"  # no participant ids
    os.makedirs(moodle)
    plain = dl + b"/Gr\x82ce.csv"
    for path, data in ((canvas, OWN), (moodle + b"/answers.csv", OWN), (plain, OWN)):
        with open(path, "wb") as f:
            f.write(data)
    res = run("grade", demo, tmp_path / "dl", "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    book = _book(tmp_path / "g")
    jose = _row(book, "s003")
    assert (
        jose["status"] == "graded"
        and jose["file"] == "n\\xfa\\xf1ezjos\\xe9_1003_77003_answers.csv"
    )
    assert "not UTF-8" in jose["flags"]
    folder = _row(book, "Jos\\xe9 N\\xfa\\xf1ez_999_assignsubmission_file_/answers.csv")
    assert folder["status"] == "unmatched-file" and "not UTF-8" in folder["flags"]
    assert _row(book, "Gr\\x82ce.csv")["status"] == "unmatched-file"
    doc = json.loads((tmp_path / "g" / "results.json").read_text("utf-8"))
    assert len(doc["students"]) == len(book)
    (tmp_path / "g" / "feedback" / "s003.html").read_text("utf-8")
    (tmp_path / "g" / "feedback" / "s003.md").read_text("utf-8")
    # the escaped name is what --map takes
    (tmp_path / "map.csv").write_text("file,student_id\nGr\\x82ce.csv,s004\n", "utf-8")
    res = run(
        "grade", demo, tmp_path / "dl", "--out", tmp_path / "g", "--force", "--map", "map.csv"
    )
    assert res.exit_code == 0, res.output
    grace = _row(_book(tmp_path / "g"), "s004")
    assert grace["status"] == "graded" and grace["file"] == "Gr\\x82ce.csv"


def _zip(entries: list[tuple[bytes, bool, bytes]]) -> bytes:
    """A zip written byte by byte (stored, no compression): each entry's name as raw
    bytes, its general-purpose flag bit 11 (UTF-8) set or not."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, utf8, data in entries:
        flags = 0x800 if utf8 else 0
        crc = zlib.crc32(data)
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                flags,
                0,
                0,
                0x21,
                crc,
                len(data),
                len(data),
                len(name),
                0,
            )
        )
        out.write(name + data)
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                flags,
                0,
                0,
                0x21,
                crc,
                len(data),
                len(data),
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(name)
    cd = central.getvalue()
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), out.tell(), 0
    )
    return out.getvalue() + cd + end


def test_a_zip_name_flagged_utf8_with_bad_bytes_and_a_cp437_name_are_read(demo, tmp_path):
    source = tmp_path / "subs.zip"
    source.write_bytes(
        _zip(
            [
                (b"n\xfa\xf1ezjos\xe9_1003_77003_answers.csv", True, OWN),  # lies: flag set
                (b"Gr\x82ce Hopper.csv", False, OTHER),  # DOS code page: "Grâce"
                (b"s001.csv", False, OWN),
            ]
        )
    )
    with pytest.raises(UnicodeDecodeError):  # what Python's zipfile makes of it
        zipfile.ZipFile(source)
    grade(demo, source, tmp_path / "g")
    book = _book(tmp_path / "g")
    jose = _row(book, "s003")
    assert jose["status"] == "graded"  # by its Canvas user id, 1003
    assert jose["file"] == "n\\xfa\\xf1ezjos\\xe9_1003_77003_answers.csv"
    assert "not UTF-8" in jose["flags"]
    dos = _row(book, "Gr\u00e9ce Hopper.csv")
    assert "code page 437" in dos["flags"]
    assert _row(book, "s001")["percent"] == "100"


def test_a_zip_without_the_flag_but_utf8_names_reads_them_as_utf8(demo, tmp_path):
    source = tmp_path / "subs.zip"
    name = "José Núñez_999_assignsubmission_file/answers.csv".encode()
    source.write_bytes(_zip([(name, False, OWN)]))  # as Info-ZIP on Linux writes it
    run = grade(demo, source)
    jose = next(r for r in run.results if r.student_id == "s003")
    assert jose.status is Status.GRADED and jose.file == name.decode()


_RAW_NAME = st.binary(min_size=1, max_size=24).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            _RAW_NAME,
            st.sampled_from([b"", b"d\xff/", b"Ada Lovelace_1001_assignsubmission_file_/"]),
        ),
        min_size=1,
        max_size=6,
        unique=True,
    )
)
def test_any_bytes_as_names_in_a_folder_grade_with_a_row_for_every_file(
    demo, tmp_path_factory, names
):
    dl = os.fsencode(tmp_path_factory.mktemp("bytes"))
    made = set()
    for name, folder in names:
        path = dl + b"/" + folder + name
        try:  # a name may be taken by a folder of another entry, or hold one
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "xb") as f:
                f.write(OWN)
        except OSError:
            continue
        made.add(path)
    out = Path(os.fsdecode(dl)).with_name(Path(os.fsdecode(dl)).name + "-g")
    grade(demo, Path(os.fsdecode(dl)), out)
    book = _book(out)
    doc = json.loads((out / "results.json").read_text("utf-8"))
    files = [r["file"] for r in doc["students"] if r["file"]]  # as found (no formula guard)
    assert len(book) == len(doc["students"])
    assert len(files) + len(doc["skipped_system_files"]) == len(made)
    for path in made:
        name = os.fsdecode(path[len(dl) + 1 :])
        if name.isprintable():
            assert name in files or name in doc["skipped_system_files"], name


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1, max_size=24).filter(
                lambda b: b"\0" not in b and not b.endswith(b"/")
            ),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_any_bytes_as_names_in_a_zip_grade_with_a_row_for_every_file(
    demo, tmp_path_factory, entries
):
    tmp = tmp_path_factory.mktemp("zip")
    source = tmp / "subs.zip"
    source.write_bytes(_zip([(name, utf8, OWN) for name, utf8 in entries]))
    grade(demo, source, tmp / "g")
    book = _book(tmp / "g")
    doc = json.loads((tmp / "g" / "results.json").read_text("utf-8"))
    files = [r["file"] for r in doc["students"] if r["file"]]  # as found (no formula guard)
    assert len(book) == len(doc["students"])
    assert len(files) + len(doc["skipped_system_files"]) == len(entries)
    for name, _ in entries:
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.isprintable():
            assert text in files or text in doc["skipped_system_files"], text


def test_a_source_folder_whose_own_name_is_not_utf8_is_written_escaped(demo, tmp_path):
    dl = os.fsencode(tmp_path) + b"/subs-\xff"
    os.makedirs(dl)
    shutil.copy(SAMPLES / "s001.csv", os.fsdecode(dl + b"/s001.csv"))
    grade(demo, Path(os.fsdecode(dl)), tmp_path / "g")
    doc = json.loads((tmp_path / "g" / "results.json").read_text("utf-8"))
    assert doc["source"].endswith("subs-\\xff")


_DEMO = {
    "s001": "Ada Lovelace",
    "s002": "Zoë O'Brien",
    "s003": "José Núñez",
    "s004": "Grace Hopper",
}


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*_DEMO.values(), "Robert Stone", "Anne-Ada Lovelace", "Ada"]),
            st.integers(2000, 2006),  # participant ids: no worksheet, the names decide
            st.sampled_from([*_DEMO, "answers", "S001", "Ada Lovelace"]),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: (t[0], t[1], t[2]),
    )
)
def test_a_graded_file_always_comes_from_its_students_own_moodle_folder(
    demo, tmp_path_factory, folders
):
    dl = tmp_path_factory.mktemp("dl")
    for name, number, inner, age in folders:
        path = dl / f"{clean_filename(name)}_{number}_assignsubmission_file_" / f"{inner}.csv"
        if not path.exists():
            _put(path, OWN, 1_700_000_000 + age)
    run = grade(demo, dl)
    keys = {sid: name_key(clean_filename(n)) for sid, n in _DEMO.items()}
    for r in run.results:
        if r.status is Status.GRADED or r.status is Status.SUPERSEDED:
            sid = r.student_id or r.flags[0].split("an older file of ")[1].split(":")[0]
            folder = r.file.split("_", 1)[0]
            assert name_key(folder) == keys[sid], (r.file, sid)
        if r.status is Status.GRADED:  # one sender: every file of the student in one folder
            numbers = {f.split("_")[1] for f in [r.file]}
            older = [
                x.file
                for x in run.results
                if x.flags and f"older file of {r.student_id}:" in x.flags[0]
            ]
            assert {f.split("_")[1] for f in older} <= numbers, (r.file, older)


def test_a_zip_written_by_zipfile_with_a_name_made_invalid_is_graded(demo, tmp_path):
    """A real zip (Python's zipfile sets the UTF-8 flag for a non-ASCII name), its name's
    bytes then replaced by bytes that are not UTF-8, in the local header and the central
    directory alike, as a broken zip tool writes them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("é_QQ_1001_77001_answers.csv", OWN)  # Canvas user 1001: s001
        z.writestr("s004.csv", OTHER)
    data = buf.getvalue().replace(b"\xc3\xa9_QQ", b"\xe9\xff_QQ")
    assert data.count(b"\xe9\xff_QQ") == 2
    (tmp_path / "subs.zip").write_bytes(data)
    grade(demo, tmp_path / "subs.zip", tmp_path / "g")
    ada = _row(_book(tmp_path / "g"), "s001")
    assert ada["status"] == "graded" and ada["percent"] == "100"
    assert ada["file"] == "\\xe9\\xff_QQ_1001_77001_answers.csv" and "not UTF-8" in ada["flags"]


def test_a_canvas_user_id_in_the_students_own_file_name_is_not_the_lms_s():
    ada = Student("s1", "Ada Lovelace", {"canvas_id": "1001"})
    john = Student("s2", "Doe, John_3", {"canvas_id": "5024"})
    m = Matcher([ada, john])
    # Canvas wrote "stonerobert_2077_99_"; the student called the file "ada_1001_5_x.csv"
    found = m.match("stonerobert_2077_99_ada_1001_5_x.csv")
    assert found.student is None and "user 2077" in found.how
    found = m.match("stonerobert_late_2077_99_lovelaceada_1001_5_x.csv")
    assert found.student is None
    # a name with "_3" still reads as Canvas wrote it
    assert m.match("doejohn_3_5024_910025_a.csv").student == john
    assert m.match("lovelaceada_1001_77_ada_2_3_x.csv").student == ada
