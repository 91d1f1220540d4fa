"""The `parameters` kind: counts and shapes of the lecture's networks, whole-number answers."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.core.solution import solve
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.graders.grade import grade_sheet
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.reading import Cell, Sheet
from lstm_exam.graders.results import Verdict

SPEC = Path(__file__).parent.parent / "examples" / "parameters.toml"


def counts(**sizes: int) -> dict[str, tuple[Decimal, ...]]:
    return {k: (Decimal(v),) for k, v in sizes.items()}


def test_counts_follow_keras():
    # keras.layers.LSTM(32) on 8 features: 4 * (32 * (32 + 8) + 32) = 5248 parameters
    s = solve(Kind.PARAMETERS, counts(D=8, H=32, K=5, F=256, T=20), 0)
    got = {
        k: s.values[f"{k}[1]"].rounded
        for k in ("P_gate", "P_lstm", "P_dense", "P_video", "seq_steps", "seq_units", "last_units")
    }
    assert got == {
        "P_gate": 1312,
        "P_lstm": 5248,
        "P_dense": 165,
        "P_video": 4 * (32 * 288 + 32) + 165,
        "seq_steps": 20,
        "seq_units": 32,
        "last_units": 32,
    }


def sheet_of(values: dict[str, Decimal]) -> Sheet:
    return Sheet(
        cells=tuple(
            Cell(label=k, raw=format(v, "f"), line=n) for n, (k, v) in enumerate(values.items(), 2)
        ),
        notes=(),
        decimal_comma=False,
    )


@pytest.fixture(scope="module")
def manifest():
    m, _, _ = build_manifest(
        load_spec(SPEC), [Student("s1", "A"), Student("s2", "B")], "params-seed"
    )
    return m


def key_of(m, k=0) -> dict[str, Decimal]:
    v = m.variants[k]
    return {
        vp.label(lab): vp.solution.values[lab].rounded
        for vp in v.problems
        for lab in vp.solution.asked
    }


def test_correct_wrong_and_carried_forward(manifest):
    v = manifest.variants[0]
    g = grade_sheet(manifest, GradePolicy.of(manifest), v, sheet_of(key_of(manifest)))
    assert all(f.verdict is Verdict.CORRECT for f in g.findings)
    H = int(v.problems[0].problem.givens["H"][0])
    D = int(v.problems[0].problem.givens["D"][0])
    answers = key_of(manifest) | {"q1.P_gate[1]": Decimal(H * (H + D))}  # forgot the biases ...
    answers["q1.P_lstm[1]"] = 4 * answers["q1.P_gate[1]"]  # ... and carried that forward
    g = {
        f.label: f
        for f in grade_sheet(manifest, GradePolicy.of(manifest), v, sheet_of(answers)).findings
    }
    assert g["q1.P_gate[1]"].verdict is Verdict.WRONG and g["q1.P_gate[1]"].mistake == "P_NO_BIAS"
    assert g["q1.P_lstm[1]"].verdict is Verdict.CARRIED
    one_gate = key_of(manifest) | {"q1.P_lstm[1]": key_of(manifest)["q1.P_gate[1]"]}
    g = {
        f.label: f
        for f in grade_sheet(manifest, GradePolicy.of(manifest), v, sheet_of(one_gate)).findings
    }
    assert g["q1.P_lstm[1]"].mistake == "P_ONE_GATE" and "four" in g["q1.P_lstm[1]"].reason


def test_through_generate_render_and_grade(run, tmp_path):
    res = run("generate", SPEC, "--count", "2", "--out", "wk")
    assert res.exit_code == 0, res.output
    key = (tmp_path / "wk" / "keys" / "s001.csv").read_text()
    answer = next(line.split(",")[-4] for line in key.splitlines() if "P_lstm" in line)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "wk" / "keys" / "s001.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert answer in text and "Counts and shapes" in text
    problem = (tmp_path / "wk" / "problems" / "s001.toml").read_text()
    assert "H = " in problem and "decimals = 0" in problem
    subs = tmp_path / "subs"
    subs.mkdir()
    lines = ["label,answer"] + [
        ",".join(r.split(",")[:1] + r.split(",")[-4:-3]) for r in key.splitlines()[1:]
    ]
    (subs / "s001.csv").write_text("\n".join(lines) + "\n")
    res = run("grade", "wk", subs, "--out", "g")
    assert res.exit_code == 0
    assert "s001,Student 1," in (tmp_path / "g" / "gradebook.csv").read_text()
    assert ",graded,s001.csv,4,4,100," in (tmp_path / "g" / "gradebook.csv").read_text()


def test_a_count_must_be_a_whole_number(run, tmp_path):
    Path("p.toml").write_text('kind = "parameters"\nD = 8\nH = 2.5\nK = 3\nF = 16\nT = 5\n')
    res = run("solve", "p.toml")
    assert res.exit_code == 2 and res.stderr.strip() == (
        "error: p.toml: H: 2.5 must be a whole number from 1 to 100000"
    )


def _pdf_text(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.replace("\u2212", "-").split())


@pytest.mark.tex
def test_the_key_works_every_count_out_and_accepts_exactly_the_whole_number(run, tmp_path):
    """The key writes each count out term by term with the student's sizes, as the other
    kinds' keys write their first row out, and accepts a count as "exactly N", never as a
    range of decimals such as [14429.99800, 14430.00200]."""
    Path("p.toml").write_text('kind = "parameters"\nD = 32\nH = 64\nK = 10\nF = 128\nT = 20\n')
    Path("s.toml").write_text('title = "Counts"\n[[problems]]\ngiven = "p.toml"\n')
    res = run("generate", "s.toml", "--count", "1", "--out", "wk")
    assert res.exit_code == 0, res.output
    text = _pdf_text(tmp_path / "wk" / "keys" / "s001.pdf")
    # P_gate = 64 (64 + 32) + 64 = 6208; the LSTM layer four gates; the dense layer;
    # the video classifier's LSTM reads F = 128 features a frame
    for line in [
        "Pgate = H · (H + D) + H = 64 · (64 + 32) + 64 = 64 · 96 + 64 = 6208",
        "PLSTM = 4 · Pgate = 4 · (H · (H + D) + H) = 4 · (64 · (64 + 32) + 64) = 4 · 6208 = 24832",
        "Pdense = K · H + K = 10 · 64 + 10 = 640 + 10 = 650",
        "Pvideo = 4 · (H · (H + F ) + H) + Pdense = 4 · (64 · (64 + 128) + 64) + 650"
        " = 4 · 12352 + 650 = 50058",
        "(seq. steps, seq. units) = (T, H) = (20, 64), last units = H = 64",
    ]:
        assert line in text, line
    for count in ("6208", "24832", "650", "50058", "20", "64"):
        assert f"exactly {count}" in text, count
    assert not re.search(r"\[\d+\.\d+", text)  # no range of decimals


@pytest.mark.tex
def test_formulas_false_leaves_the_formulas_off_the_sheet(run, tmp_path):
    """The parameters sheet printed the very formulas it asks students to apply:
    ``formulas = false`` (per problem, or for the worksheet) leaves them off; the key and
    every number stay."""
    Path("p.toml").write_text('kind = "parameters"\nD = 32\nH = 64\nK = 10\nF = 128\nT = 20\n')
    formula = "PLSTM = 4 (H (H + D) + H)"  # as pdftotext reads the sheet's P_LSTM line
    texts = {}
    for name, spec in {
        "on": '[[problems]]\ngiven = "p.toml"\n',
        "off": '[[problems]]\ngiven = "p.toml"\nformulas = false\n',
        "off-for-all": 'formulas = false\n[[problems]]\ngiven = "p.toml"\n'
        '[[problems]]\nkind = "forget_gate"\nformulas = true\n',
    }.items():
        Path(f"{name}.toml").write_text('title = "Counts"\n' + spec)
        res = run("generate", f"{name}.toml", "--count", "1", "--out", name)
        assert res.exit_code == 0, res.output
        texts[name] = _pdf_text(tmp_path / name / "sheets" / "s001.pdf")
        assert "Pdense" in _pdf_text(tmp_path / name / "keys" / "s001.pdf")
    assert formula in texts["on"] and "Pdense = KH + K" in texts["on"]
    for name in ("off", "off-for-all"):
        assert "PLSTM =" not in texts[name] and "Pdense =" not in texts[name], name
        assert "D = 32" in texts[name] and "H = 64" in texts[name]  # the givens stay
    # the forget gate of the same sheet keeps its formula: formulas = true overrides
    assert "ft=σ(Wf" in texts["off-for-all"].replace(" ", "")
    assert '"formulas":false' in (tmp_path / "off" / "manifest.json").read_text()
    assert '"formulas"' not in (tmp_path / "on" / "manifest.json").read_text()
    # render rebuilds the sheet from the manifest: still without the formulas
    res = run("render", "off")
    assert res.exit_code == 0, res.output
    assert "PLSTM =" not in _pdf_text(tmp_path / "off" / "sheets" / "s001.pdf")
