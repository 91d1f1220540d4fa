"""Grading: real submission files in tests/data and the bundled samples, graded end to end."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.numbers import score_text
from lstm_exam.generator.generate import build_manifest, generate
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec, parse_spec
from lstm_exam.generator.store.manifest_read import (
    read_manifest_students,
    reading,
    student_doc,
    variant_from_json,
)
from lstm_exam.graders.answer_numbers import parse_number
from lstm_exam.graders.grade import grade_sheet
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.reading import Cell, Sheet, Unreadable, read_sheet
from lstm_exam.graders.results import Status, Verdict
from lstm_exam.graders.run import grade
from lstm_exam.graders.submissions import RawFile, file_data
from lstm_exam.graders.summary import summary_text

SAMPLES = builtin_path("sample-submissions")
EXAMPLES = Path(__file__).parent.parent / "examples"


def seeds(longest: int) -> st.SearchStrategy[str]:
    """Any seed the one seed rule takes (check_seed): 8 or more characters of text, no
    control character and nothing XML cannot hold."""
    chars = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
    return st.text(chars, min_size=8, max_size=longest)


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def by_id(run):
    return {r.student_id: r for r in run.results if r.student_id}


def finding(result, label):
    return next(f for f in result.findings if f.label == label)


@pytest.fixture(scope="module")
def samples(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("grades") / "g"
    grade(demo, SAMPLES, out)  # the files, as the command writes them
    return grade(demo, SAMPLES), out  # the findings, from the library


def test_every_roster_student_appears_with_the_right_status(samples):
    _, out = samples
    book = rows(out / "gradebook.csv")
    assert [r["student_id"] for r in book] == ["s001", "s002", "s003", "s004", "s005", "s006"]
    assert [r["status"] for r in book] == [
        "graded",
        "graded",
        "graded",
        "graded",
        "unreadable",
        "missing",
    ]
    assert list(book[0]) == [
        "student_id",
        "name",
        "email",  # the roster's own columns, kept for the LMS
        "lms_id",
        "variant",
        "status",
        "file",
        "score",
        "max_score",
        "percent",
        "q1",
        "q2",
        "q3",
        "q4",
        "flags",
    ]
    assert book[0]["percent"] == "100" and book[0]["score"] == book[0]["max_score"] == "14"
    assert "Excel" in book[4]["flags"] and book[4]["score"] == "0"
    assert book[0]["email"] == "ada@example.edu" and book[0]["file"] == "s001.csv"
    # a student who sent nothing has no score (an LMS import would record a real 0)
    assert book[5]["score"] == book[5]["percent"] == book[5]["q1"] == ""
    assert book[5]["max_score"] == "14"
    assert (out / "gradebook.csv").read_bytes().startswith(b"\xef\xbb\xbfstudent_id,")
    for sid in ("s001", "s005", "s006"):
        assert (out / "feedback" / f"{sid}.md").is_file() and (
            out / "feedback" / f"{sid}.html"
        ).is_file()
    doc = json.loads((out / "results.json").read_text())
    assert {s["student_id"] for s in doc["students"]} == {f"s00{k}" for k in range(1, 7)}


def test_rounded_early_is_diagnosed(samples):
    r = by_id(samples[0])["s002"]
    wrong = [f for f in r.findings if f.verdict is Verdict.WRONG]
    assert wrong and all(f.mistake == "ROUNDED_2" for f in wrong)
    accepted = [f for f in r.findings if f.verdict is Verdict.CORRECT]
    assert all("you gave 2 decimals" in f.reason for f in accepted)


def test_error_carried_forward_earns_credit_and_names_its_source(samples):
    r = by_id(samples[0])["s003"]
    slip = finding(r, "q1.a_f[2]")
    assert slip.verdict is Verdict.WRONG and slip.credit == 0
    carried = finding(r, "q1.f_t[2]")
    assert carried.verdict is Verdict.CARRIED and carried.credit == 1
    assert "q1.a_f[2]" in carried.reason
    assert [f.label for f in r.findings if f.verdict is not Verdict.CORRECT] == [
        "q1.a_f[2]",
        "q1.f_t[2]",
    ]


def test_semicolon_decimal_comma_bom_file_and_misconceptions(samples):
    r = by_id(samples[0])["s004"]
    assert any("semicolon" in n for n in r.notes)
    for c in (1, 2, 3):
        a = finding(r, f"q1.a_f[{c}]")
        assert a.mistake == "NO_BIAS"
        assert a.reason == "in the forget gate f_t you left out the bias b_f: a_f = W_f·z"
        assert finding(r, f"q1.f_t[{c}]").verdict is Verdict.CARRIED
        h = finding(r, f"q4.h_t[{c}]")
        assert (
            h.mistake == "H_NO_TANH" and h.reason == "your h_t is o_t * C_t: tanh(C_t) is missing"
        )


def test_messy_file_gives_findings_not_crashes(demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "messy-s001.csv", subs / "s001.csv")
    r = by_id(grade(demo, subs))["s001"]
    verdicts = {f.label: f for f in r.findings}
    assert verdicts["q1.Wz_f[1]"].verdict is Verdict.CORRECT  # spaces, unicode minus or +
    assert verdicts["q1.Wz_f[2]"].verdict is Verdict.CORRECT  # scientific notation
    assert verdicts["q1.Wz_f[3]"].verdict is Verdict.INVALID
    assert "not a number" in verdicts["q1.Wz_f[3]"].reason
    assert (
        verdicts["q1.a_f[1]"].verdict is Verdict.INVALID
        and "finite" in verdicts["q1.a_f[1]"].reason
    )
    assert verdicts["q1.a_f[2]"].verdict is Verdict.INVALID
    assert verdicts["q1.a_f[3]"].verdict is Verdict.UNANSWERED
    assert verdicts["q1.f_t[1]"].verdict is Verdict.CORRECT  # the first of the repeated rows
    assert any("q9.f_t[1]" in n and "not on your worksheet" in n for n in r.notes)
    assert any("repeats line" in n for n in r.notes)


@pytest.mark.parametrize("name", ["latin1-s001.csv", "utf16-s001.csv"])
def test_other_encodings_read(demo, tmp_path, name):
    (tmp_path / "s").mkdir()
    shutil.copy(Path(__file__).parent / "data" / name, tmp_path / "s" / "s001.csv")
    r = by_id(grade(demo, tmp_path / "s"))["s001"]
    assert r.status is Status.GRADED and r.percent == 100


def test_canvas_zip(demo):
    run = grade(demo, Path(__file__).parent / "data" / "canvas.zip")
    r = by_id(run)
    assert r["s001"].percent == 100 and r["s001"].file == "lovelaceada_1001_77001_answers.csv"
    assert r["s004"].status is Status.GRADED  # a late submission
    assert r["s005"].status is Status.UNREADABLE
    unmatched = [x for x in run.results if x.status is Status.UNMATCHED]
    assert [x.file for x in unmatched] == ["someoneelse_4242_77100_answers.csv"]
    assert run.skipped == (".DS_Store",)


def test_moodle_folders_match_by_lms_id_or_name(demo):
    run = grade(demo, Path(__file__).parent / "data" / "moodle")
    r = by_id(run)
    assert r["s001"].percent == 100  # Ada Lovelace_1001: the lms_id column
    assert r["s003"].status is Status.GRADED  # José Núñez_999: by name
    assert all(x.status is not Status.UNMATCHED for x in run.results)
    assert len(run.skipped) == 1


UNREADABLE = [
    ("empty", b"", "empty"),
    ("pdf", b"%PDF-1.5\n%\xe2\xe3\n1 0 obj", "PDF"),
    ("binary", bytes(range(256)) * 4, "binary"),
    ("no header", b"hello,world\n1,2\n", "no 'label' and 'answer'"),
    ("too large", b"label,answer\n" + b"q1.f_t[1],0.5\n" * 80_000, "larger than"),
]


@pytest.mark.parametrize(("case", "data", "reason"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_files_are_reported_and_the_rest_graded(demo, tmp_path, case, data, reason):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "s002.csv").write_bytes(data)
    shutil.copy(SAMPLES / "s001.csv", subs / "s001.csv")
    r = by_id(grade(demo, subs))
    assert r["s002"].status is Status.UNREADABLE and reason in r["s002"].notes[0]
    assert r["s001"].percent == 100


def test_lecture_output_gate_misprint_is_exactly_one_wrong_cell(tmp_path):
    spec = parse_spec(
        {
            "title": "Lecture check",
            "problems": [{"given": "lecture-output-gate.toml", "points": 5}],
        },
        "spec",
        EXAMPLES,
    )
    out = tmp_path / "wk"
    generate(spec, [Student("s1", "A")], out, seed="lecture-check-seed")
    slide = {
        "Wz_o": ("0.200", "0.400", "0.500"),
        "a_o": ("0.241", "0.408", "0.533"),
        "o_t": ("0.560", "0.601", "0.630"),
        "tanh_C": ("0.393", "0.388", "0.679"),
        "h_t": ("0.220", "0.223", "0.428"),
    }
    subs = tmp_path / "subs"
    subs.mkdir()
    lines = ["label,answer"] + [
        f"q1.{n}[{c}],{v}" for n, vs in slide.items() for c, v in enumerate(vs, start=1)
    ]
    (subs / "s1.csv").write_text("\n".join(lines) + "\n")
    r = by_id(grade(out, subs))["s1"]
    wrong = [f for f in r.findings if f.verdict is not Verdict.CORRECT]
    assert [(f.label, f.verdict) for f in wrong] == [("q1.h_t[2]", Verdict.WRONG)]
    assert wrong[0].key == Decimal("0.233")


def test_copy_is_flagged(demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "s001.csv", subs / "s001.csv")
    shutil.copy(SAMPLES / "s001.csv", subs / "s003.csv")  # s003 hands in s001's answers
    run = grade(demo, subs)
    r = by_id(run)
    assert any("fit the variant of student s001" in f for f in r["s003"].flags)
    assert r["s003"].copy_of == "s001"
    # both sides are flagged, each with the other's id; who copied is for the instructor
    assert r["s001"].flags == ("the answers of s003 fit this variant",)
    # the copy's mistakes are another variant's numbers: the summary counts no mistake
    from lstm_exam.graders.summary import summary_data

    assert summary_data(run)["common_mistakes"] == {}


def test_a_copy_earns_no_credit_and_no_diagnosis_from_numbers_that_are_not_its_own(demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "s004.csv", subs / "s004.csv")
    shutil.copy(SAMPLES / "s004.csv", subs / "s003.csv")  # s004's slips, on s003's row
    run = grade(demo, subs, tmp_path / "g")
    own = by_id(grade(demo, subs))
    copier, source = own["s003"], own["s004"]
    assert copier.copy_of == "s004"
    # graded as if it were s003's own work, the same file earns carried-forward credit
    # and names misconceptions: the numbers of s004's variant
    m, students = read_manifest_students(demo)
    with reading(students[2]):
        v = variant_from_json(student_doc(students[2]), asked_only=True)
    alone = grade_sheet(
        m,
        GradePolicy.of(m),
        v,
        read_sheet(
            file_data(RawFile(path="s003.csv", data=(subs / "s003.csv").read_bytes(), mtime=0.0))
        ),
    )
    assert any(f.verdict is Verdict.CARRIED for f in alone.findings)
    assert any(f.mistake for f in alone.findings)
    # as a suspected copy: no carried-forward credit, no misconception, one neutral reason
    assert not any(f.verdict is Verdict.CARRIED or f.mistake for f in copier.findings)
    wrong = [f for f in copier.findings if f.verdict is Verdict.WRONG]
    assert wrong and {f.reason for f in wrong} == {"outside the accepted range of your variant"}
    assert copier.score < sum(alone.problem_scores, Decimal(0))
    page = (tmp_path / "g" / "feedback" / "s003.md").read_text("utf-8")
    assert f"Check that you worked on your own sheet, variant {copier.variant}." in page
    assert "s004" not in page and source.variant not in page  # nobody else is named
    assert "carried forward from" not in page and "no usual mistake" not in page
    # the gradebook agrees with the feedback, and the other side keeps its own grade
    book = {r["student_id"]: r for r in rows(tmp_path / "g" / "gradebook.csv")}
    assert book["s003"]["score"] == score_text(copier.score)
    assert book["s004"]["score"] == score_text(source.score)
    assert any(f.verdict is Verdict.CARRIED for f in source.findings)
    assert "the answers of s003 fit this variant" in book["s004"]["flags"]
    assert run.results[2].copy_of == "s004"


def test_the_item_analysis_counts_each_answer_of_the_graded_students(tmp_path):
    ws = parse_spec({"problems": [{"kind": "cell_state"}]}, "spec")
    students = [Student(f"s{k}", "") for k in range(1, 5)]
    out = tmp_path / "wk"
    generate(ws, students, out, seed="item-seed-0001")
    _, found = read_manifest_students(out)
    subs = tmp_path / "subs"
    subs.mkdir()
    for k, st_ in enumerate(found):
        with reading(st_):
            vp = variant_from_json(student_doc(st_), asked_only=True).problems[0]
        key = {
            vp.label(lab): format(vp.solution.values[lab].rounded, "f") for lab in vp.solution.asked
        }
        first, second = list(key)[:2]
        if k < 3:
            key[first] = "7.5"  # three students, one wrong number
        if k == 0:
            key[second] = ""
        body = "".join(f"{lab},{val}\n" for lab, val in key.items())
        (subs / f"{st_.student.student_id}.csv").write_text("label,answer\n" + body)
    run = grade(out, subs, tmp_path / "g")
    items = json.loads((tmp_path / "g" / "results.json").read_text("utf-8"))["summary"]["items"]
    assert list(items) == list(run.labels) and first in items
    assert items[first] == {
        "correct": 1,
        "carried_forward": 0,
        "wrong": 3,
        "invalid": 0,
        "unanswered": 0,
        "share_correct": 0.25,
        "most_common_wrong": ["7.5", 3],
        "most_common_mistake": ["unexplained wrong answer", 3],
    }
    assert items[second]["unanswered"] == 1 and items[second]["share_correct"] == 0.75
    text = summary_text(run)
    assert f"  {first}: 25% correct; most common wrong answer 7.5 (3 students)" in text


def test_formula_injection_is_neutralized_and_feedback_escaped(tmp_path):
    ws = load_spec(None)
    out = tmp_path / "wk"
    students = [Student("s1", '=HYPERLINK("http://x")'), Student("s2", "@SUM(A1)")]
    generate(ws, students, out, seed="formula-seed-1")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "s1.csv").write_text("label,answer\nq1.f_t[1],<script>alert(1)</script>\n")
    grade(out, subs, tmp_path / "g")
    book = rows(tmp_path / "g" / "gradebook.csv")
    assert book[0]["name"].startswith("'=") and book[1]["name"].startswith("'@")
    page = (tmp_path / "g" / "feedback" / "s1.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "✘ invalid" in page


def test_results_are_never_overwritten_without_force(demo, tmp_path, run):
    out = tmp_path / "g"
    r1 = run("grade", demo, SAMPLES, "--out", out)
    assert r1.exit_code == 0 and "6 students" in r1.output
    before = (out / "gradebook.csv").read_text()
    r2 = run("grade", demo, SAMPLES, "--out", out)
    assert r2.exit_code == 2 and "use --force" in r2.stderr
    assert (out / "gradebook.csv").read_text() == before
    assert run("grade", demo, SAMPLES, "--out", out, "--force").exit_code == 0


def test_grading_a_folder_that_is_no_worksheet_is_one_line(run, tmp_path):
    (tmp_path / "empty").mkdir()
    res = run("grade", tmp_path / "empty", SAMPLES)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "manifest.json" in res.stderr


def test_carry_forward_share_comes_from_the_spec(tmp_path):
    ws = parse_spec({"carry_forward": 0.5, "problems": [{"kind": "cell_state"}]}, "spec")
    m, _, _ = build_manifest(ws, [Student("s1", "A")], "cf-seed-123")
    vp = m.variants[0].problems[0]
    key = {vp.label(lab): vp.solution.values[lab].rounded for lab in vp.solution.asked}
    key["q1.fC[1]"] += Decimal("0.2")
    key["q1.C_t[1]"] += Decimal("0.2")  # consistent with the wrong fC
    g = grade_sheet(m, GradePolicy.of(m), m.variants[0], sheet_of(key))
    carried = next(f for f in g.findings if f.label == "q1.C_t[1]")
    assert carried.verdict is Verdict.CARRIED and carried.credit == Decimal("0.5")


def sheet_of(values: dict[str, Decimal]) -> Sheet:
    return Sheet(
        cells=tuple(
            Cell(label=k, raw=format(v, "f"), line=n) for n, (k, v) in enumerate(values.items(), 2)
        ),
        notes=(),
        decimal_comma=False,
    )


ALL_KINDS = load_spec(EXAMPLES / "all-kinds.toml")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sid=st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), seed=seeds(16))
def test_key_graded_against_its_own_variant_scores_full_marks(sid, seed):
    m, _, _ = build_manifest(ALL_KINDS, [Student(sid, "")], seed)
    v = m.variants[0]
    key = {
        vp.label(lab): vp.solution.values[lab].rounded
        for vp in v.problems
        for lab in vp.solution.asked
    }
    g = grade_sheet(m, GradePolicy.of(m), v, sheet_of(key))
    assert all(f.verdict is Verdict.CORRECT for f in g.findings)
    assert sum(g.problem_scores) == sum(vp.points for vp in v.problems)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=seeds(16),
    pick=st.integers(0, 10_000),
    push=st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("2"), places=5),
    up=st.booleans(),
)
def test_an_answer_moved_outside_its_range_is_never_accepted(seed, pick, push, up):
    m, _, _ = build_manifest(ALL_KINDS, [Student("s1", "")], seed)
    v = m.variants[0]
    key = {vp.label(lab): vp.solution.values[lab] for vp in v.problems for lab in vp.solution.asked}
    label = list(key)[pick % len(key)]
    lo, hi = m.bounds(label, key[label])
    moved = hi + push if up else lo - push
    answers = {k: val.rounded for k, val in key.items()} | {label: moved}
    g = grade_sheet(m, GradePolicy.of(m), v, sheet_of(answers))
    f = next(f for f in g.findings if f.label == label)
    # nothing upstream of it changed, so it cannot be consistent with the student's own answers
    assert f.verdict is Verdict.WRONG and f.credit == 0


def test_parse_number_rejects_what_is_not_a_plain_number():
    for bad in ("1,00.5", "0.5.1", "=0.5", "1/2", "0x10", "", "--1", "1,000,0.5", "01,000.5"):
        with pytest.raises(ValueError):
            parse_number(bad)
    assert parse_number("1,5", decimal_comma=True) == Decimal("1.5")
    # thousands in groups of three, where the decimal mark is the other character
    assert (
        parse_number("1,000.5") == parse_number("1.000,5", decimal_comma=True) == Decimal("1000.5")
    )


def test_read_sheet_rejects_an_xlsx_even_when_renamed():
    with pytest.raises(Unreadable, match="Excel"):
        read_sheet((SAMPLES / "s005.csv").read_bytes())


def test_worker_processes_write_exactly_what_one_process_writes(demo, tmp_path, monkeypatch):
    grade(demo, Path(__file__).parent / "data" / "canvas.zip", tmp_path / "one")
    monkeypatch.setattr(defaults, "PARALLEL_FROM", 1)
    grade(demo, Path(__file__).parent / "data" / "canvas.zip", tmp_path / "many")
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    many = sorted(p.relative_to(tmp_path / "many") for p in (tmp_path / "many").rglob("*"))
    assert one == many and len(one) > 10
    for rel in one:
        if (tmp_path / "one" / rel).is_file():
            assert (tmp_path / "one" / rel).read_bytes() == (
                tmp_path / "many" / rel
            ).read_bytes(), rel
    doc = json.loads((tmp_path / "many" / "results.json").read_text())
    assert doc["answer_columns"][:4] == ["label", "answer", "value", "verdict"]
    assert {s["status"] for s in doc["students"]} == {
        "graded",
        "missing",
        "unreadable",
        "unmatched-file",
    }


def test_the_moodle_folder_not_the_file_name_says_whose_file_it_is(demo, tmp_path):
    folder = tmp_path / "dl" / "Ada Lovelace_1001_assignsubmission_file_"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLES / "s001.csv", folder / "s002.csv")  # Ada named her file after Zoë
    r = by_id(grade(demo, tmp_path / "dl"))
    assert r["s001"].status is Status.GRADED and r["s001"].percent == 100
    assert r["s002"].status is Status.MISSING


def test_demo_never_replaces_a_real_worksheet(run, tmp_path):
    assert run("generate", "--count", "1", "--no-pdf", "--out", "real").exit_code == 0
    before = (tmp_path / "real" / "manifest.json").read_text()
    res = run("demo", "--out", "real", "--no-pdf")
    assert res.exit_code == 2 and "other than an earlier demo" in res.stderr
    assert (tmp_path / "real" / "manifest.json").read_text() == before
    assert run("demo", "--out", "d", "--no-pdf").exit_code == 0
    assert run("demo", "--out", "d", "--no-pdf").exit_code == 0  # an earlier demo: replaced


_EXTREME = st.sampled_from(
    ["0", "-0", "1e-12", "999999999", "-999999999", "1248.5", "-1248.5", "709.79", "1e8"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds(12), data=st.data())
def test_any_numbers_a_student_writes_are_graded_never_a_crash(seed, data):
    """Every kind, any answers at the edges of what is read (huge logits overflow e^v in
    float64, tiny ones underflow): each answer gets a verdict, the scores stay in range."""
    m, _, _ = build_manifest(ALL_KINDS, [Student("s1", "")], seed)
    v = m.variants[0]
    key = {
        vp.label(lab): vp.solution.values[lab].rounded
        for vp in v.problems
        for lab in vp.solution.asked
    }
    answers = {
        label: Decimal(data.draw(_EXTREME)) if data.draw(st.booleans()) else value
        for label, value in key.items()
    }
    g = grade_sheet(m, GradePolicy.of(m), v, sheet_of(answers))
    assert len(g.findings) == len(key)
    for vp, s in zip(v.problems, g.problem_scores, strict=True):
        assert 0 <= s <= vp.points
