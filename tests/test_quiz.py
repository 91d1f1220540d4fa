"""lstm-exam quiz: every window Moodle and Canvas read back is the key's, exactly.

The Moodle file is parsed with a re-implementation of Moodle's own Cloze parser
(tests/moodle_cloze.py) and validated against the XML question format's structure
(tests/data/quiz/moodle-quiz.xsd); the Canvas zip against QTI 1.2's
(tests/data/quiz/qti12-subset.xsd) and read as Canvas's importer reads a numerical
question (``Qti::NumericInteraction``, re-implemented below).
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import moodle_cloze
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from lstm_exam.cli import main
from lstm_exam.generator.quiz.items import items
from lstm_exam.generator.quiz.moodle import category_path, cloze_feedback
from lstm_exam.generator.quiz.run import quiz_files, quiz_manifest, quiz_roster
from lstm_exam.generator.spec import worksheet as spec_mod

DATA = Path(__file__).parent / "data" / "quiz"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED = "quiz-test-seed-0001"


@pytest.fixture(scope="module")
def weekly():
    return quiz_manifest(spec_mod.load_spec(None), 6, SEED)


@pytest.fixture(scope="module")
def every_kind():
    return quiz_manifest(spec_mod.load_spec(EXAMPLES / "all-kinds.toml"), 2, SEED)


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / name)))


def _key(m):
    """Every variant's key window by (variant, label), as the manifest states it."""
    return {
        (v.student.student_id, vp.label(lab)): m.bounds(lab, vp.solution.values[lab])
        for v in m.variants
        for vp in v.problems
        for lab in vp.solution.asked
    }


# --- Moodle ---------------------------------------------------------------------------


def _moodle_questions(m):
    (data,) = quiz_files(m, "moodle").values()
    doc = etree.fromstring(data)
    _schema("moodle-quiz.xsd").assertValid(doc)
    return doc


@pytest.mark.parametrize("which", ["weekly", "every_kind"])
def test_every_cloze_window_is_the_keys(which, request):
    m = request.getfixturevalue(which)
    doc = _moodle_questions(m)
    key = _key(m)
    seen = set()
    for q in doc.iter("question"):
        if q.get("type") != "cloze":
            continue
        variant, _, rest = q.findtext("name/text").partition(" problem ")
        number = int(rest.split(":")[0])
        vp = next(v for v in m.variants if v.student.student_id == variant).problems[number - 1]
        subs, replaced = moodle_cloze.extract(q.findtext("questiontext/text"))
        assert [f"{{#{k}}}" in replaced for k in range(1, len(subs) + 1)] == [True] * len(subs)
        assert len(subs) == len(vp.solution.asked)
        for sub, lab in zip(subs, vp.solution.asked, strict=True):
            assert sub.numerical
            first, *mistakes = sub.alternatives
            assert first.fraction == 1.0 and first.feedback == ""
            lo, hi = first.interval()
            assert (lo, hi) == key[variant, vp.label(lab)]
            f_lo, f_hi = first.moodle_interval()
            eps = 1e-13 * max(1.0, abs(float(lo)), abs(float(hi)))  # Moodle's widening
            assert f_lo <= float(lo) and f_hi >= float(hi)
            assert float(lo) - f_lo < eps and f_hi - float(hi) < eps
            for k in mistakes:
                assert k.fraction == 0.0 and k.feedback
                m_lo, m_hi = k.interval()
                assert m_hi < lo or m_lo > hi, "a mistake overlaps the correct window"
            seen.add((variant, vp.label(lab)))
        assert int(q.findtext("defaultgrade")) == sum(s.weight for s in subs)
    assert seen == set(key)


def test_the_feedback_moodle_stores_is_the_registrys_sentence(weekly):
    doc = _moodle_questions(weekly)
    by_label = {
        (it.variant, b.label): b
        for v in weekly.variants
        for it in items(weekly, v)
        for b in it.blanks
    }
    mistakes = 0
    for q in doc.iter("question"):
        if q.get("type") != "cloze":
            continue
        variant = q.findtext("name/text").split(" ")[0]
        subs, _ = moodle_cloze.extract(q.findtext("questiontext/text"))
        labels = [lab for v, lab in by_label if v == variant]
        number = int(q.findtext("name/text").split(" problem ")[1].split(":")[0])
        labels = [lab for lab in labels if lab.startswith(f"q{number}.")]
        for sub, lab in zip(subs, labels, strict=True):
            b = by_label[variant, lab]
            got = [k.feedback for k in sub.alternatives[1:]]
            assert got == [html.escape(k.feedback, quote=True) for k in b.mistakes]
            mistakes += len(got)
    assert mistakes > 100  # the weekly sheet's usual mistakes are there


@pytest.mark.parametrize("variant", ["v0745", "v0934"])
def test_a_mistakes_rounded_chain_near_a_tie_is_computed_exactly(variant):
    """Variants 745 and 934 of `quiz examples/all-kinds.toml --count 1000 --seed 12345678`:
    a usual mistake's rounded chain comes within a float's error of a tie (NO_TRANSPOSE's
    dh_prev[2] is 0.0985 less a hair: 0.098 exactly, 0.099 in floats; H_TANH_OUTSIDE's
    t3.h_t[1]). The floats' rounding made the quiz fail an assertion (a traceback) on a
    well-posed draw; the exact chain decides, as well-posedness does."""
    from lstm_exam.generator.generate import build_manifest
    from lstm_exam.generator.spec.roster import Student
    from lstm_exam.generator.variants.search import make_variants

    ws = spec_mod.load_spec(EXAMPLES / "all-kinds.toml")
    m0, _, _ = build_manifest(ws, (), "12345678")
    vs = tuple(make_variants(ws, m0.seed, [Student(variant, "Variant")]))
    m = replace(m0, variants=vs)
    its = items(m, vs[0])
    assert [len(it.blanks) for it in its] == [len(vp.solution.asked) for vp in vs[0].problems]


def test_the_weights_follow_the_points(weekly):
    doc = _moodle_questions(weekly)
    totals = {}
    for q in doc.iter("question"):
        if q.get("type") == "cloze":
            number = int(q.findtext("name/text").split(" problem ")[1].split(":")[0])
            totals[number] = int(q.findtext("defaultgrade"))
    points = {vp.number: vp.points for vp in weekly.variants[0].problems}
    ratio = {n: Decimal(totals[n]) / points[n] for n in points}
    assert len(set(ratio.values())) == 1


def test_one_category_per_worksheet_and_a_subcategory_per_problem(weekly):
    doc = _moodle_questions(weekly)
    cats = [
        q.findtext("category/text") for q in doc.iter("question") if q.get("type") == "category"
    ]
    top = category_path(weekly.title)
    assert cats[0] == top
    assert all(c.startswith(top + "/Problem ") for c in cats[1:])
    assert len(cats) == 1 + len(weekly.variants[0].problems)


def _split_category_path(path):
    """Moodle's ``qformat_default::split_category_path`` (question/format.php): split at
    a '/' that is not part of '//', each name trimmed with its '//' made '/'."""
    return [n.replace("//", "/").strip() for n in re.split(r"(?<!/)/(?!/)", path)]


@pytest.mark.parametrize("title", ["Week 5/", "/Week 5", "/", "a//b/c/", "Week 5: A/B"])
def test_a_title_with_slashes_reads_back_as_one_category_holding_the_problems(title):
    """A title ending (or starting) in '/' wrote ``Week 5///Problem 1``, which Moodle's
    reader splits nowhere: the problems' categories became siblings of the sheet's,
    named ``Week 5//Problem 1: Forget gate``."""
    assert _split_category_path(category_path(title)) == ["$course$", "top", title]
    sub = category_path(title, "Problem 1: Forget gate")
    assert _split_category_path(sub) == ["$course$", "top", title, "Problem 1: Forget gate"]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
@example("\\}")  # Moodle unescapes a stored \} (found by hypothesis in a fresh clone)
@example("a\\\\#b\\}}")
def test_any_feedback_text_survives_moodles_cloze_parser(text):
    cloze = "{2:NUMERICAL:=0.5:0.001~%0%0.25:0.001#" + cloze_feedback(text) + "~%0%-1:0}tail"
    subs, rest = moodle_cloze.extract("x " + cloze)
    assert rest == "x {#1}tail"
    (sub,) = subs
    assert sub.weight == 2 and len(sub.alternatives) == 3
    assert sub.alternatives[1].feedback == html.escape(text, quote=True)
    assert sub.alternatives[1].interval() == (Decimal("0.249"), Decimal("0.251"))
    assert sub.alternatives[2].interval() == (Decimal("-1"), Decimal("-1"))


def test_titles_are_escaped_in_xml_and_category_paths(tmp_path):
    """A title of XML's, HTML's, CDATA's and the cloze's specials reads back as typed."""
    title = "A/B <&> ]]> {1:NM:=1~%0%2#x} 'x' \\"
    spec = tmp_path / "s.toml"
    text = (EXAMPLES.parent / "generator" / "data" / "default-spec.toml").read_text("utf-8")
    toml_title = title.replace("\\", "\\\\")
    spec.write_text(text.replace('"Week 5: LSTM gates by hand"', f'"{toml_title}"'), "utf-8")
    m = quiz_manifest(spec_mod.load_spec(spec), 1, SEED)
    assert m.title == title
    doc = _moodle_questions(m)
    top = doc.find("question")
    assert top.findtext("category/text") == "$course$/top/" + title.replace("/", "//")
    assert html.escape(title, quote=True) in top.findtext("info/text")
    clozes = [q for q in doc.iter("question") if q.get("type") == "cloze"]
    for q, vp in zip(clozes, m.variants[0].problems, strict=True):
        subs, _ = moodle_cloze.extract(q.findtext("questiontext/text"))
        assert len(subs) == len(vp.solution.asked)
    canvas = _canvas(m)
    assert canvas.find(f"{QTI}assessment").get("title") == title


# --- Canvas -----------------------------------------------------------------------------

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


def _canvas(m):
    (data,) = quiz_files(m, "canvas").values()
    z = zipfile.ZipFile(io.BytesIO(data))
    manifest = etree.fromstring(z.read("imsmanifest.xml"))
    ns = {"cp": "http://www.imsglobal.org/xsd/imscp_v1p1"}
    (res,) = manifest.findall("cp:resources/cp:resource", ns)
    assert res.get("type") == "imsqti_xmlv1p2"
    href = res.find("cp:file", ns).get("href")
    doc = etree.fromstring(z.read(href))
    _schema("qti12-subset.xsd").assertValid(doc)
    return doc


def canvas_answers(item) -> list[dict]:
    """``Qti::NumericInteraction#get_canvas_answers`` (instructure/canvas-lms,
    gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb, commit
    891bca30a891d527298b90df71c19956472a2a34) on the item as Canvas's QTI 1.2 converter
    hands it over (varequal as stringMatch, vargte/varlte/vargt as customOperator of
    that class): an ``or`` with an exact value is an exact answer with margin
    BigDecimal(upper) − BigDecimal(exact), unless the bounds look like a precision
    answer (a vargt lower bound ending in 5); every answer weighs 100."""
    out = []
    for cond in item.iter(f"{QTI}respcondition"):
        answer = {"weight": 100}
        or_node = cond.find(f".//{QTI}or")
        if or_node is not None:
            exact = or_node.find(f"{QTI}varequal")
            if exact is None:
                continue
            lower = or_node.find(f"{QTI}and/{QTI}vargt")  # the precision form only
            upper = or_node.find(f"{QTI}and/{QTI}varlte")
            assert lower is None, "would be read as a precision answer"
            answer["type"] = "exact_answer"
            answer["exact"] = float(exact.text)
            if upper is not None:
                answer["margin"] = float(Decimal(upper.text) - Decimal(exact.text))
                answer["margin_exact"] = Decimal(upper.text) - Decimal(exact.text)
            answer["exact_decimal"] = Decimal(exact.text)
            out.append(answer)
    return out


@pytest.mark.parametrize("which", ["weekly", "every_kind"])
def test_every_canvas_window_is_the_keys(which, request):
    m = request.getfixturevalue(which)
    doc = _canvas(m)
    key = _key(m)
    seen = set()
    root = doc.find(f"{QTI}assessment/{QTI}section")
    for variant in root.findall(f"{QTI}section"):
        for group in variant.findall(f"{QTI}section"):
            pick = int(
                group.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number")
            )
            its = group.findall(f"{QTI}item")
            assert pick == len(its)  # the group draws its whole set
            for it in its:
                meta = {
                    f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                    for f in it.iter(f"{QTI}qtimetadatafield")
                }
                assert meta["question_type"] == "numerical_question"
                (answer,) = canvas_answers(it)
                c, margin = answer["exact_decimal"], answer["margin_exact"]
                vid, label = it.get("title").split(" ")
                assert (c - margin, c + margin) == key[vid, label]
                # the grader (Quizzes::QuizQuestion::NumericalQuestion#correct_answer_parts):
                # BigDecimal of the stored floats' text, exact +- margin, both ends included
                exact, margin_f = answer["exact"], answer["margin"]
                e, g = Decimal(repr(exact)), Decimal(repr(margin_f))
                assert (e - g, e + g) == key[vid, label]
                assert answer["weight"] == 100
                seen.add((vid, label))
    assert seen == set(key)


def test_canvas_points_share_the_problems_points(weekly):
    doc = _canvas(weekly)
    root = doc.find(f"{QTI}assessment/{QTI}section")
    first = root.find(f"{QTI}section")
    total = Decimal(0)
    for group in first.findall(f"{QTI}section"):
        share = Decimal(group.findtext(f".//{QTI}points_per_item"))
        total += share * len(group.findall(f"{QTI}item"))
    assert abs(total - sum(vp.points for vp in weekly.variants[0].problems)) < Decimal("0.01")


# --- the command ---------------------------------------------------------------------


def test_the_variants_are_generates_for_ids_v001(weekly):
    from lstm_exam.generator.generate import build_manifest

    m, _, _ = build_manifest(spec_mod.load_spec(None), quiz_roster(6), SEED)
    assert [v.code for v in m.variants] == [v.code for v in weekly.variants]
    assert [v.student.student_id for v in weekly.variants] == [f"v{k:03d}" for k in range(1, 7)]


def test_the_same_seed_makes_the_same_files(weekly):
    again = quiz_manifest(spec_mod.load_spec(None), 6, SEED)
    for to in ("moodle", "canvas"):
        assert quiz_files(weekly, to) == quiz_files(again, to)


def test_quiz_command_writes_moodle_then_needs_force(tmp_path):
    out = tmp_path / "q"
    args = ["quiz", "--to", "moodle", "--count", "2", "--seed", SEED, "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["week-5-lstm-gates-by-hand-moodle.xml"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "--force" in r.output
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0


def test_html_writes_the_practice_pages_in_their_own_folder(tmp_path):
    out = tmp_path / "h"
    args = ["quiz", "--to", "html", "--count", "2", "--seed", SEED, "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    site = out / "week-5-lstm-gates-by-hand-practice"
    assert [p.name for p in out.iterdir()] == [site.name]
    assert {p.name for p in site.iterdir()} == {
        "index.html",
        "practice.js",
        "practice.css",
        "v001.html",
        "v002.html",
    }
    assert SEED not in "".join(p.read_text("utf-8") for p in site.iterdir())
    # the pages are told as their folder and count, not one line a page
    assert f"  {site.name}/index.html (and 2 variant pages, practice.css, practice.js)" in r.output
    assert "v001.html" not in r.output and "open index.html in a browser" in r.output


@pytest.mark.parametrize(
    ("to", "step"),
    [("moodle", "random question from each problem's category"), ("canvas", "QTI .zip file")],
)
def test_the_command_names_its_file_and_the_next_step(tmp_path, to, step):
    r = CliRunner().invoke(main, ["quiz", "--to", to, "--count", "2", "--out", str(tmp_path / "q")])
    assert r.exit_code == 0, r.output
    (written,) = (tmp_path / "q").iterdir()
    assert f"  {written.name}\n" in r.output and step in r.output
    seed = r.output.split("(seed ")[1].split(":")[0]  # no --seed: the one chosen is printed
    again = ["quiz", "--to", to, "--count", "2", "--seed", seed, "--out", str(tmp_path / "r")]
    assert CliRunner().invoke(main, again).exit_code == 0
    assert (tmp_path / "r" / written.name).read_bytes() == written.read_bytes()


@pytest.mark.parametrize("count", ["0", "1001"])
def test_a_count_out_of_range_is_one_line(tmp_path, count):
    r = CliRunner().invoke(main, ["quiz", "--to", "canvas", "--count", count])
    assert r.exit_code == 2 and r.output.startswith("error: --count")


@pytest.mark.tex
def test_key_writes_the_class_key_of_the_variants(tmp_path):
    import shutil

    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`", pytrace=False)
    from pypdf import PdfReader

    out = tmp_path / "k"
    r = CliRunner().invoke(
        main, ["quiz", "--to", "canvas", "--count", "2", "--seed", SEED, "--out", str(out), "--key"]
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "week-5-lstm-gates-by-hand-canvas-qti.zip",
        "week-5-lstm-gates-by-hand-key.pdf",
    ]
    text = "".join(
        p.extract_text() for p in PdfReader(out / "week-5-lstm-gates-by-hand-key.pdf").pages
    )
    assert "v001" in text and "v002" in text


def test_forked_workers_write_the_same_files(monkeypatch):
    """From QUIZ_PARALLEL_FROM variants on the variants are drawn and written in workers:
    the same bytes as in one process, and the key's variants read back whole."""
    from lstm_exam.generator.core import defaults
    from lstm_exam.generator.quiz.run import draw_quiz
    from lstm_exam.generator.runtime import workers

    if workers() < 2:
        pytest.skip("one core: nothing is forked")
    ws = spec_mod.load_spec(None)
    alone = {to: draw_quiz(ws, 6, to, SEED)[1] for to in ("moodle", "canvas")}
    monkeypatch.setattr(defaults, "QUIZ_PARALLEL_FROM", 4)
    for to, files in alone.items():
        m, forked = draw_quiz(ws, 6, to, SEED, keep=True)
        assert forked == files
        assert [v.student.student_id for v in m.variants] == [f"v{k:03d}" for k in range(1, 7)]
    assert alone["moodle"] == quiz_files(quiz_manifest(ws, 6, SEED), "moodle", ws)
