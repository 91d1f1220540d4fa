"""Every verdict and every sentence true (issue 12): what a student reads is what happened.

Whole numbers are whole numbers, a zero has no minus sign, what was read from a file is
shown when the text needed reading, and a label typo is read as the label it was meant
for, said so in the feedback and flagged in the gradebook.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from lstm_exam.generator.core.notation import WHOLE, label_name
from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.graders.results import Status, Verdict
from lstm_exam.graders.run import grade

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(scope="module", params=[True, False], ids=["steps asked", "steps not asked"])
def every_kind(request, tmp_path_factory) -> Path:
    """Every kind once (examples/all-kinds.toml), with and without the steps asked."""
    text = (EXAMPLES / "all-kinds.toml").read_text("utf-8")
    text = re.sub(r"show_steps = \w+", f"show_steps = {str(request.param).lower()}", text)
    folder = tmp_path_factory.mktemp("kinds")
    (folder / "lecture-output-gate.toml").write_bytes(
        (EXAMPLES / "lecture-output-gate.toml").read_bytes()
    )
    (folder / "s.toml").write_text(text, "utf-8")
    out = folder / "wk"
    generate(load_spec(folder / "s.toml"), numbered_roster(4), out, seed="truth-seed-0001")
    return out


def _rows(worksheet: Path, sid: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((worksheet / "keys" / f"{sid}.csv").read_text())))


def _submit(folder: Path, sid: str, rows: list[dict[str, str]], sep: str = ",") -> None:
    folder.mkdir(exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")  # as Excel writes it
    w.writerow(["label", "answer"])
    w.writerows([r["label"], r["answer"]] for r in rows)
    (folder / f"{sid}.csv").write_text(buf.getvalue(), "utf-8")


def test_a_perfect_submission_on_every_kind_has_no_note(every_kind, tmp_path):
    subs = tmp_path / "subs"
    for sid in ("s001", "s002", "s003", "s004"):
        _submit(subs, sid, [{**r, "answer": r["answer"]} for r in _rows(every_kind, sid)])
    run = grade(every_kind, subs)
    for r in run.results:
        assert r.status is Status.GRADED and r.percent == 100, r.student_id
        assert not r.flags and r.notes == ("UTF-8 text",), (r.student_id, r.flags, r.notes)
        assert all(f.verdict is Verdict.CORRECT and f.reason == "" for f in r.findings), [
            (f.label, f.reason) for f in r.findings if f.reason
        ]


def test_whole_numbers_are_accepted_only_exactly_and_written_whole(every_kind):
    rows = [r for sid in ("s001", "s002") for r in _rows(every_kind, sid)]
    whole = [r for r in rows if label_name(r["label"]) in WHOLE]
    assert {label_name(r["label"]) for r in whole} >= {"class", "P_gate", "P_lstm", "P_video"}
    for r in whole:
        assert r["answer"] == r["accept_min"] == r["accept_max"] == r["full_precision"], r
        assert re.fullmatch(r"[0-9]+", r["answer"]), r


def test_no_number_written_anywhere_is_a_negative_zero(every_kind):
    texts = [p.read_text("utf-8") for p in every_kind.rglob("*") if p.suffix in (".csv", ".toml")]
    texts.append((every_kind / "manifest.json").read_text("utf-8"))
    for text in texts:
        assert not re.search(r"(?<![0-9.])-0(\.0+)?(?![0-9.])", text)


@pytest.mark.parametrize(
    ("sep", "write"),
    [(",", lambda n: f"{n:,}"), (";", lambda n: f"{n:,}".replace(",", "."))],
    ids=["comma file, 14,430", "semicolon file, 14.430"],
)
def test_a_count_with_thousands_separators_is_read_as_the_count(every_kind, tmp_path, sep, write):
    """Excel writes a count as "14,430" (or "14.430" where the decimal mark is a comma):
    it is the count, and the feedback shows what was read."""
    rows = _rows(every_kind, "s001")
    big = [r for r in rows if label_name(r["label"]) in WHOLE and int(r["answer"]) >= 1000]
    assert big, "the parameters problem asks counts of a thousand and more"
    for r in big:
        r["answer"] = write(int(r["answer"]))
    if sep == ";":
        for r in rows:
            if label_name(r["label"]) not in WHOLE:
                r["answer"] = r["answer"].replace(".", ",")
    _submit(tmp_path / "subs", "s001", rows, sep)
    run = grade(every_kind, tmp_path / "subs")
    (me,) = [r for r in run.results if r.student_id == "s001"]
    assert me.percent == 100, [(f.label, f.answer, f.value) for f in me.findings if f.credit < 1]
    from lstm_exam.graders.outputs import shown_answer

    shown = {f.label: shown_answer(f) for f in me.findings}
    for r in big:
        assert (
            shown[r["label"]]
            == f"{r['answer']} (read as {r['answer'].replace(',', '').replace('.', '')})"
        )


def test_a_gate_value_with_a_comma_is_read_as_a_decimal_and_shown(every_kind, tmp_path):
    rows = _rows(every_kind, "s001")
    first = next(r for r in rows if label_name(r["label"]) not in WHOLE)
    first["answer"] = first["answer"].replace(".", ",")
    _submit(tmp_path / "subs", "s001", rows)
    run = grade(every_kind, tmp_path / "subs")
    (me,) = [r for r in run.results if r.student_id == "s001"]
    from lstm_exam.graders.outputs import shown_answer

    f = next(f for f in me.findings if f.label == first["label"])
    assert f.verdict is Verdict.CORRECT
    assert shown_answer(f) == f"{first['answer']} (read as {first['answer'].replace(',', '.')})"


def test_a_label_typo_is_read_as_the_label_meant_and_said_so(every_kind, tmp_path):
    rows = _rows(every_kind, "s001")
    k, row = next((k, r) for k, r in enumerate(rows) if "a_f" in r["label"] or "f_t" in r["label"])
    meant = row["label"]
    typo = meant.replace("_", "", 1)  # q1.a_f[2] -> q1.af[2]
    row["label"] = typo
    rows[k + 1]["label"] = rows[k + 1]["label"] + "x"  # also a typo, at its own row
    other = rows[k + 1]["label"]
    _submit(tmp_path / "subs", "s001", rows)
    run = grade(every_kind, tmp_path / "subs")
    (me,) = [r for r in run.results if r.student_id == "s001"]
    assert me.percent == 100
    assert any(f"label '{typo}' is not on your worksheet; read as {meant}" in n for n in me.notes)
    assert any(other in n and "read as" in n for n in me.notes)
    assert any(f"{typo} as {meant}" in flag for flag in me.flags)


def test_a_label_is_never_read_as_another_cell():
    from lstm_exam.graders.grade import typo_of

    labels = ["q1.f_t[1]", "q1.f_t[2]", "q1.f_t[3]"]
    # a cell index the worksheet does not have is no typo of another cell's
    assert typo_of("q1.f_t[4]", 5, labels, set(labels)) is None
    # two labels as near: no guess
    assert typo_of("q1.f_t[]", 9, labels, set(labels)) is None
    # only unanswered labels are candidates
    assert typo_of("q1.ft[2]", 1, labels, {"q1.f_t[1]"}) is None
    assert typo_of("q1.ft[2]", 1, labels, {"q1.f_t[2]"}) == "q1.f_t[2]"


def test_an_older_file_of_a_student_is_superseded_not_unmatched(every_kind, tmp_path):
    import os

    rows = _rows(every_kind, "s001")
    subs = tmp_path / "subs"
    _submit(subs, "s001", rows)
    os.utime(subs / "s001.csv", (1_700_000_000, 1_700_000_000))
    (subs / "s001").mkdir()
    _submit(subs / "s001", "answers", rows)  # a later file of the same student
    run = grade(every_kind, subs)
    (old,) = [r for r in run.results if r.status is Status.SUPERSEDED]
    assert old.file == "s001.csv" and old.student_id == ""
    assert old.flags == ("an older file of s001: the later s001/answers.csv was graded",)
    assert not any(r.status is Status.UNMATCHED for r in run.results)


def test_the_summary_counts_students_per_mistake(every_kind, tmp_path):
    """Two students who forgot the bias in every cell are two students, not six answers."""
    from lstm_exam.graders.summary import summary_data, summary_text

    subs = tmp_path / "subs"
    for sid in ("s001", "s002"):
        rows = _rows(every_kind, sid)
        _submit(subs, sid, rows)
    run = grade(every_kind, subs)
    assert summary_data(run)["common_mistakes"] == {}  # all correct: no mistake
    # every answer of problem 1 (the forget gate) wrong in the same way for both students
    from lstm_exam.generator.core.evaluate import evaluate
    from lstm_exam.generator.core.misconceptions import Misconception
    from lstm_exam.generator.store.manifest_read import load_manifest

    m = load_manifest(every_kind)
    for v in m.variants[:2]:
        vp = v.problems[0]
        slipped = evaluate(vp.problem.kind, vp.problem.givens, misconception=Misconception.NO_BIAS)
        rows = _rows(every_kind, v.student.student_id)
        for r in rows:
            lab = r["label"].split(".", 1)[1]
            if r["label"].startswith("q1.") and lab in slipped:
                r["answer"] = f"{slipped[lab]:.3f}"
        _submit(subs, v.student.student_id, rows)
    run = grade(every_kind, subs)
    counts = dict(summary_data(run)["common_mistakes"]["q1"])
    assert counts == {"forgot the bias": 2}, counts
    assert "q1: forgot the bias: 2 students" in summary_text(run)
