"""classification, regression and backward_step: generate -> solve -> PDFs -> grading."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from lstm_exam.generator.core.chains import Rounded, round_half_away
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Misconception
from lstm_exam.generator.core.notation import Kind, describe_label
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.render.key_view import key_steps
from lstm_exam.generator.spec.problems import read_problem_file
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.graders.grade import grade_sheet
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.reading import Cell, Sheet
from lstm_exam.graders.results import Verdict

EXAMPLES = Path(__file__).parent.parent / "examples"
SPECS = {
    Kind.CLASSIFICATION: EXAMPLES / "classification.toml",
    Kind.REGRESSION: EXAMPLES / "regression.toml",
    Kind.BACKWARD_STEP: EXAMPLES / "backward-step.toml",
}


@pytest.fixture(scope="module", params=list(SPECS), ids=str)
def manifest(request):
    m, _, _ = build_manifest(
        load_spec(SPECS[request.param]), [Student("s1", "A"), Student("s2", "B")], "net-seed"
    )
    assert m.variants[0].problems[0].problem.kind is request.param
    return m


def sheet_of(values: dict[str, Decimal]) -> Sheet:
    return Sheet(
        cells=tuple(
            Cell(label=k, raw=format(v, "f"), line=n) for n, (k, v) in enumerate(values.items(), 2)
        ),
        notes=(),
        decimal_comma=False,
    )


def answers(vp, twist: Misconception | None = None, own: dict | None = None) -> dict[str, Decimal]:
    """What a student following the rounded chain writes: with a slip, from own values."""
    p = vp.problem
    out = evaluate(p.kind, p.givens, Rounded(p.decimals), misconception=twist, overrides=own)
    return {vp.label(lab): out[lab] for lab in vp.solution.asked}


def findings(m, answers_: dict[str, Decimal], k: int = 0) -> dict:
    return {
        f.label: f
        for f in grade_sheet(m, GradePolicy.of(m), m.variants[k], sheet_of(answers_)).findings
    }


def test_the_key_scores_full_marks(manifest):
    vp = manifest.variants[0].problems[0]
    g = grade_sheet(manifest, GradePolicy.of(manifest), manifest.variants[0], sheet_of(answers(vp)))
    assert [f.label for f in g.findings if f.verdict is not Verdict.CORRECT] == []
    assert g.problem_scores == (vp.points,)


# (kind, slip, the labels it shows in, the label to get wrong, what follows from it)
SLIPS = {
    Kind.CLASSIFICATION: (Misconception.SOFTMAX_NO_NORM, "prob", "logit[1]", "prob"),
    Kind.REGRESSION: (Misconception.ERROR_NOT_SQUARED, "sq_error", "y_hat[1]", "sq_error"),
    Kind.BACKWARD_STEP: (Misconception.SIGMA_AS_DERIVATIVE, "da_f", "dC_t[1]", "df_t"),
}


def test_a_misconception_is_named(manifest):
    vp = manifest.variants[0].problems[0]
    twist, shows_in, _, _ = SLIPS[vp.problem.kind]
    g = findings(manifest, answers(vp, twist))
    hit = [f for lab, f in g.items() if f".{shows_in}[" in lab]
    assert hit and all(f.verdict is Verdict.WRONG and f.mistake == twist.name for f in hit)
    # the rest is right, or follows from the slip with the right method
    rest = {f.verdict for f in g.values() if f.mistake is None}
    assert rest <= {Verdict.CORRECT, Verdict.CARRIED} and Verdict.CORRECT in rest


def test_an_error_is_carried_forward(manifest):
    vp = manifest.variants[0].problems[0]
    _, _, wrong, follows = SLIPS[vp.problem.kind]
    bad = vp.solution.values[wrong].rounded + Decimal("0.25")
    g = findings(manifest, answers(vp, own={wrong: bad}))
    assert g[vp.label(wrong)].verdict is Verdict.WRONG
    carried = [f for lab, f in g.items() if f".{follows}[" in lab and f.verdict is Verdict.CARRIED]
    assert carried, {lab: f.verdict for lab, f in g.items()}
    assert all(vp.label(wrong) in f.reason for f in carried)


def test_a_class_counted_from_zero_is_named():
    m, _, _ = build_manifest(
        load_spec(SPECS[Kind.CLASSIFICATION]), [Student("s1", "A")], "net-seed"
    )
    vp = m.variants[0].problems[0]
    g = findings(m, answers(vp, Misconception.CLASS_FROM_ZERO))
    assert g["q1.class[1]"].mistake == "CLASS_FROM_ZERO" and "from 0" in g["q1.class[1]"].reason


def test_the_predicted_class_is_never_a_close_call():
    students = [Student(f"s{k}", "A") for k in range(20)]
    m, _, _ = build_manifest(load_spec(SPECS[Kind.CLASSIFICATION]), students, "close-seed")
    for v in m.variants:
        sol = v.problems[0].solution
        probs = sorted((sol.values[lab].full for lab in sol.values if "prob[" in lab), reverse=True)
        assert probs[0] - probs[1] > 4 * 0.001
        best = int(sol.values["class[1]"].rounded)
        assert sol.values[f"prob[{best}]"].full == probs[0]


def test_labels_describe_classes_and_single_answers():
    assert describe_label("q1.prob[2]") == "softmax probability, class 2"
    assert describe_label("q1.class[1]") == "predicted class (1..K)"
    assert describe_label("q2.dh_prev[1]") == "dL/dh_{t-1}, cell 1"


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("kind", list(SPECS), ids=str)
def test_through_the_command_line(run, tmp_path, kind):
    res = run("generate", SPECS[kind], "--count", "2", "--out", "wk")
    assert res.exit_code == 0, res.output
    wk = tmp_path / "wk"
    key = list(csv.DictReader(io.StringIO((wk / "keys" / "s001.csv").read_text())))
    (problem,) = read_problem_file(wk / "problems" / "s001.toml")
    assert problem.kind is kind
    sheet, key_pdf = pdf_text(wk / "sheets" / "s001.pdf"), pdf_text(wk / "keys" / "s001.pdf")
    assert "q1." in sheet and "Student 1" in sheet
    for row in key:  # every asked answer is in the key PDF
        assert row["answer"].replace("-", "\N{MINUS SIGN}") in key_pdf
    heading = {
        Kind.CLASSIFICATION: "Output layer",
        Kind.REGRESSION: "Output layer",
        Kind.BACKWARD_STEP: "Backwards through the step",
    }[kind]
    assert heading in key_pdf and "Accepted answers" not in sheet
    # the key itself, as a student's submission, scores full marks; a wrong answer does not
    subs = tmp_path / "subs"
    subs.mkdir()
    rows = ["label,answer"] + [f"{r['label']},{r['answer']}" for r in key]
    (subs / "s001.csv").write_text("\n".join(rows) + "\n")
    rows[1] = f"{key[0]['label']},9.999"
    (subs / "s002.csv").write_text("\n".join(rows) + "\n")
    res = run("grade", "wk", subs, "--out", "g")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "g" / "gradebook.csv").read_text("utf-8-sig")
    book = {r["student_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert book["s001"]["percent"] == "100" and book["s001"]["status"] == "graded"
    assert float(book["s002"]["percent"]) < 100


def test_a_classification_file_checks_its_shapes(run):
    Path("c.toml").write_text(
        'kind = "classification"\nh_0 = [0.1]\nC_0 = [0.2]\nxs = [[1.0], [0.5]]\n'
        + "".join(f"W_{g} = [[0.1, 0.2]]\nb_{g} = [0.1]\n" for g in "fiCo")
        + "W_y = [[0.5], [0.2, 0.1]]\nb_y = [0.1, 0.2]\n"
    )
    res = run("solve", "c.toml")
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: c.toml: W_y[2]: has 2 entries, expected 1 (H columns)"


def test_classes_belong_to_classification_only(run):
    Path("s.toml").write_text('[[problems]]\nkind = "regression"\nclasses = 4\n')
    res = run("generate", "s.toml", "--count", "1", "--out", "o")
    assert res.exit_code == 2 and "problems[1].classes" in res.stderr
    assert not Path("o").exists()


@pytest.mark.parametrize("kind", list(SPECS), ids=str)
def test_every_worked_line_of_the_key_rounds_to_the_key(kind):
    """Each 'first row written out' line ends '= exact ≈ key': exact must round to key."""
    m, _, _ = build_manifest(load_spec(SPECS[kind]), [Student("s1", "A")], "worked-seed")
    vp = m.variants[0].problems[0]
    lines = [d for step in key_steps(vp) for t in step["tables"] for d in t["dots"]]
    assert len(lines) >= {Kind.BACKWARD_STEP: 15}.get(kind, 9)
    for line in lines:
        exact, key = re.search(r"= (-?[\d.]+) \\approx (-?[\d.]+)$", str(line)).groups()
        assert round_half_away(Decimal(exact), vp.problem.decimals) == Decimal(key), line
