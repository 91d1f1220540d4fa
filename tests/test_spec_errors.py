"""Bad input: one line naming file, place and fault; exit code 2; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_exam.generator.core.errors import InputError

GOOD_PROBLEM = """
[[problems]]
kind = "forget_gate"
hidden = 2
inputs = 2
"""

SPEC_CASES = [
    (
        "unknown kind",
        '[[problems]]\nkind = "forget"\n',
        "problems[1].kind",
        "unknown kind 'forget'",
    ),
    (
        "H = 0",
        '[[problems]]\nkind = "forget_gate"\nhidden = 0\n',
        "problems[1].hidden",
        "must be an integer from 1 to 8",
    ),
    (
        "H = 50",
        '[[problems]]\nkind = "cell_step"\nhidden = 50\n',
        "problems[1].hidden",
        "must be an integer from 1 to 8",
    ),
    ("TOML syntax", 'title = "Week 5\n' + GOOD_PROBLEM, "line 1", "TOML syntax error"),
    ("unknown key", 'titel = "x"\n' + GOOD_PROBLEM, "titel", "unknown key"),
    (
        "non-numeric range",
        '[[problems]]\nkind = "forget_gate"\nweights = { low = "abc" }\n',
        "problems[1].weights.low",
        "'abc' is not a number",
    ),
    (
        "bad tolerance",
        "tolerance = { absolute = -1 }\n" + GOOD_PROBLEM,
        "tolerance.absolute",
        "must be above 0",
    ),
    ("no problems", 'title = "x"\n', "problems", "one or more [[problems]]"),
    (
        "formulas not a boolean",
        '[[problems]]\nkind = "parameters"\nformulas = "no"\n',
        "problems[1].formulas",
        "'no' must be true or false",
    ),
    (
        "worksheet-wide formulas not a boolean",
        "formulas = 0\n" + GOOD_PROBLEM,
        "spec.toml: formulas:",
        "0 must be true or false",
    ),
    (
        "given file missing",
        '[[problems]]\ngiven = "nope.toml"\n',
        "problems[1].given",
        "no such problem file",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "place", "fault"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES]
)
def test_bad_spec_is_one_clear_line_and_writes_nothing(run, tmp_path, case, text, place, fault):
    Path("spec.toml").write_text(text, encoding="utf-8")
    res = run("generate", "spec.toml", "--count", "2", "--no-pdf", "--out", "out")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: spec.toml: ")
    assert place in lines[0] and fault in lines[0]
    assert "Traceback" not in res.output
    assert not Path("out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["spec.toml"]


PROBLEM_CASES = [
    (
        "wrong matrix shape",
        "W_f = [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]",
        "W_f[1]",
        "has 3 entries, expected 4 (H + D columns)",
    ),
    (
        "wrong row count",
        "W_f = [[0.1, 0.2, 0.3, 0.4]]",
        "W_f",
        "has 1 rows, expected H = 2 (one per cell)",
    ),
    (
        "non-numeric entry",
        'W_f = [[0.1, 0.2, 0.3, 0.4], [0.1, "x", 0.3, 0.4]]',
        "W_f[2][2]",
        "'x' is not a number",
    ),
]


@pytest.mark.parametrize(
    ("case", "wline", "place", "fault"), PROBLEM_CASES, ids=[c[0] for c in PROBLEM_CASES]
)
def test_bad_problem_file_named_in_the_error(run, case, wline, place, fault):
    Path("p.toml").write_text(
        f'kind = "forget_gate"\nh_prev = [0.1, 0.2]\nx = [0.3, 0.4]\n{wline}\nb_f = [0.1, 0.2]\n',
        encoding="utf-8",
    )
    res = run("solve", "p.toml")
    assert res.exit_code == 2
    assert res.stderr.strip() == f"error: p.toml: {place}: {fault}"
    # the same file given in a spec: the spec names it and nothing is written
    Path("spec.toml").write_text('[[problems]]\ngiven = "p.toml"\n', encoding="utf-8")
    res = run("generate", "spec.toml", "--count", "1", "--no-pdf", "--out", "out")
    assert res.exit_code == 2 and f"p.toml: {place}: {fault}" in res.stderr
    assert not Path("out").exists()


ROSTER_CASES = [
    ("duplicate id", "student_id,name\ns1,A\ns2,B\nS1,C\n", "line 4", "repeats line 2"),
    ("empty id", "student_id,name\ns1,A\n,B\n", "line 3", "empty student id"),
    ("escaping id", "student_id,name\n../x,Eve\n", "line 2", "may hold only letters"),
    ("slash id", "student_id,name\na/b,Eve\n", "line 2", "may hold only letters"),
    ("control char", 'student_id,name\n"a\x07b",Eve\n', "line 2", "may hold only letters"),
    ("reserved name", "student_id,name\nCON,Eve\n", "line 2", "reserved file name"),
    (
        "no id column",
        "id,name\ns1,A\n",
        "line 1",
        "student_id column (and name); it has 'id', 'name'",
    ),
    ("no id, by ;", "id;nm\ns1;A\n", "line 1", "it has 'id', 'nm' (semicolon-separated)"),
    ("a column twice", "student_id,name,student_id\ns1,A,s9\n", "line 1", "two student_id"),
    ("a long name", "student_id,name\ns1," + "A" * 300 + "\n", "line 2", "longer than 200"),
    ("a huge field", 'student_id,name\ns1,"' + "A" * 200_000 + '"\n', "line 2", "CSV row"),
]


@pytest.mark.parametrize(
    ("case", "text", "place", "fault"), ROSTER_CASES, ids=[c[0] for c in ROSTER_CASES]
)
def test_bad_roster_is_refused_before_any_file_is_written(run, tmp_path, case, text, place, fault):
    Path("roster.csv").write_text(text, encoding="utf-8")
    res = run("generate", "--roster", "roster.csv", "--no-pdf", "--out", "out")
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: roster.csv: {place}: ")
    assert fault in res.stderr
    assert not Path("out").exists() and not Path("output").exists()


@pytest.mark.parametrize(
    ("data", "how"),
    [
        ("student_id,name,email\ns1,Zoë,z@x\ns2,Ann,\n".encode("utf-8-sig"), "UTF-8, BOM"),
        ("student_id;name;email\r\ns1;Zoë;z@x\r\ns2;Ann;\r\n".encode("utf-8-sig"), "Excel ;"),
        ("student_id\tname\temail\r\ns1\tZoë\tz@x\r\ns2\tAnn\t\r\n".encode("utf-16"), "Unicode"),
        ("student_id,name,email\ns1,Zoë,z@x\ns2,Ann,\n".encode("latin-1"), "Latin-1"),
    ],
    ids=["utf-8-sig", "semicolons", "utf-16-tabs", "latin-1"],
)
def test_a_roster_as_spreadsheets_save_it_is_read(tmp_path, data, how):
    """Excel's "CSV UTF-8", its ';' CSV of countries with a decimal comma, its "Unicode
    text" (UTF-16, tabs) and an old Latin-1 file give the same students."""
    from lstm_exam.generator.spec.roster import read_roster

    (tmp_path / "r.csv").write_bytes(data)
    students = read_roster(tmp_path / "r.csv")
    assert [(s.student_id, s.name, dict(s.extra)) for s in students] == [
        ("s1", "Zoë", {"email": "z@x"}),
        ("s2", "Ann", {"email": ""}),
    ], how


def test_a_damaged_utf16_roster_is_one_line(run):
    Path("roster.csv").write_bytes(b"\xff\xfes\x00\x00\xd8")
    res = run("generate", "--roster", "roster.csv", "--no-pdf", "--out", "out")
    assert res.exit_code == 2
    assert "error: roster.csv: it starts as UTF-16 text but is damaged" in res.stderr


def test_a_whole_number_may_be_quoted_like_every_number(tmp_path):
    from lstm_exam.generator.spec.worksheet import load_spec

    text = 'decimals = {}\n[[problems]]\nkind = "forget_gate"\npoints = {}\n'
    (tmp_path / "a.toml").write_text(text.format(3, 2), "utf-8")
    (tmp_path / "b.toml").write_text(text.format('"3"', '"2"'), "utf-8")
    a, b = load_spec(tmp_path / "a.toml"), load_spec(tmp_path / "b.toml")
    assert (a.decimals, a.problems) == (b.decimals, b.problems) and b.decimals == 3
    (tmp_path / "c.toml").write_text(text.format('"3.5"', 2), "utf-8")
    with pytest.raises(InputError, match=r"decimals: '3.5' must be an integer from 1 to 6"):
        load_spec(tmp_path / "c.toml")


def test_a_control_character_in_the_title_is_refused(run):
    Path("spec.toml").write_text('title = "Week\\u0001 5"\n' + GOOD_PROBLEM, encoding="utf-8")
    res = run("generate", "spec.toml", "--count", "1", "--no-pdf", "--out", "out")
    assert res.exit_code == 2 and "title: holds a control character" in res.stderr
    assert not Path("out").exists()


@pytest.mark.parametrize("field", ["title", "course"])
@pytest.mark.parametrize("char", ["\\uFFFE", "\\uFFFF"])
def test_a_non_character_in_the_title_is_refused_not_written_into_xml(run, field, char):
    """U+FFFE and U+FFFF are no XML characters: the quiz's Moodle XML and Canvas
    package held them, and no XML parser (Moodle's, Canvas's) could read the file."""
    Path("spec.toml").write_text(f'{field} = "Week{char} 5"\n' + GOOD_PROBLEM, encoding="utf-8")
    for to in ("moodle", "canvas"):
        res = run("quiz", "spec.toml", "--to", to, "--count", "1", "--out", "out")
        assert res.exit_code == 2, res.output
        assert res.stderr.strip().splitlines() == [
            f"error: spec.toml: {field}: holds U+{char[2:]}, which is no character of text"
        ]
        assert not Path("out").exists()


def test_count_zero_is_an_error_not_the_sample_roster(run):
    res = run("generate", "--count", "0", "--no-pdf", "--out", "out")
    assert res.exit_code == 2 and "--count" in res.stderr
    assert not Path("out").exists()


def test_generate_into_the_current_folder(run, tmp_path):
    res = run("generate", "--count", "1", "--no-pdf", "--out", ".", "--force")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "manifest.json").is_file()
    assert not [p for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}.")]
