"""The practice pages (generator/quiz/practice.py) in a real headless browser.

Each page checks answers with practice.js; these tests type the same answers into the
page and into ``graders.grade.grade_sheet`` and require the same verdict, credit,
misconception and words for every answer, and the same score for every problem. The
answer sets: all correct (written with decimal commas, Unicode minus signs and spaces),
one wrong upstream answer with the downstream ones worked from it (carried forward),
each misconception's and each rounding slip's values (named), garbage (invalid), and
random answers near the key. The page's evaluator is also run beside the Python one on
every misconception of every problem, in both chains, with a student's own answers as
overrides; and its reading of numbers beside ``parse_number``.

Chromium and its driver come from Debian (scripts/setup-browser.sh, run by ``make
setup-test``), selenium from the test extras; without them these tests fail, saying so.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lstm_exam.generator.core.chains import FULL, Rounded, round_half_away
from lstm_exam.generator.core.evaluate import evaluate_prepared, prepare
from lstm_exam.generator.core.misconceptions import (
    ROUNDING_SLIPS,
    STRUCTURAL,
    Misconception,
    applicable_slips,
)
from lstm_exam.generator.core.numbers import plain, plain_tree
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.quiz import practice
from lstm_exam.generator.quiz.practice import practice_files
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant, VariantProblem
from lstm_exam.graders.answer_numbers import parse_number
from lstm_exam.graders.grade import grade_sheet
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.reading import Cell, Sheet

ROOT = Path(__file__).resolve().parent.parent
#: The default spec and every example that is a worksheet (not a problem file).
SPECS = [
    None,
    *(
        p
        for p in sorted((ROOT / "examples").glob("*.toml"))
        if "[[problems]]" in p.read_text("utf-8")
    ),
]
NO_BROWSER = (
    "no headless browser: the practice pages are checked in Debian's chromium with "
    "chromium-driver and selenium (run scripts/setup-browser.sh, or make setup-test)"
)


def _spec_id(path: Path | None) -> str:
    return "default" if path is None else path.stem


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, tuple[Manifest, Path]]:
    """Every example spec and the default one, two students each, written out as sites."""
    out = {}
    for spec in SPECS:
        m, _, _ = build_manifest(load_spec(spec), numbered_roster(2), f"practice-{_spec_id(spec)}")
        folder = tmp_path_factory.mktemp(_spec_id(spec))
        for name, data in practice_files(m, m.variants).items():
            (folder / name).write_bytes(data)
        out[_spec_id(spec)] = (m, folder)
    return out


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by its chromedriver."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(NO_BROWSER, pytrace=False)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail(NO_BROWSER, pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(driver), options=options)
    d.set_script_timeout(600)
    yield d
    d.quit()


def _open(browser, folder: Path, k: int) -> None:
    browser.get((folder / practice.page_names(k)[-1]).as_uri())
    assert browser.execute_script("return typeof window.lstmPractice") == "object"


# --- the answers typed -----------------------------------------------------------------


def key_answers(v: Variant) -> dict[str, str]:
    """Every asked answer as the key has it."""
    return {
        vp.label(lab): plain(vp.solution.values[lab].rounded)
        for vp in v.problems
        for lab in vp.solution.asked
    }


def _chain_answers(vp: VariantProblem, ch: Any, **kw: Any) -> dict[str, str]:
    """The asked answers of ``vp`` as a chain (a slip, overrides) gives them, rounded as a
    student writes them."""
    p = vp.problem
    out = evaluate_prepared(p.kind, prepare(p.givens, ch), ch, **kw)
    decimals = getattr(ch, "decimals", vp.solution.decimals)
    return {
        vp.label(lab): plain(
            round_half_away(
                Decimal(repr(out[lab])) if isinstance(out[lab], float) else out[lab], decimals
            )
        )
        for lab in vp.solution.asked
    }


def carried_answers(vp: VariantProblem) -> dict[str, str] | None:
    """One wrong upstream answer, the rest worked on from it: carried forward."""
    asked = list(vp.solution.asked)
    feeding = [lab for lab in asked if any(lab in vp.problem.upstream(o) for o in asked)]
    if not feeding:
        return None
    lab = feeding[0]
    whole = lab.split("[")[0] in ("P_gate", "P_dense")
    wrong = vp.solution.values[lab].rounded + (Decimal(7) if whole else Decimal("0.2"))
    ch = Rounded(vp.solution.decimals)
    answers = _chain_answers(vp, ch, overrides={lab: wrong})
    answers[vp.label(lab)] = plain(wrong)
    return answers


def slip_answers(vp: VariantProblem) -> list[tuple[str, dict[str, str]]]:
    """Each misconception's values (full chain, rounded as a student rounds), and each
    rounding slip's (its chain, at its places)."""
    out = [
        (f"{tw.name}@{t}/{gate}", _chain_answers(vp, FULL, misconception=tw, step=t, gate=gate))
        for tw, t, gate in applicable_slips(vp.problem)
    ]
    for slip in ROUNDING_SLIPS:
        ch = Rounded(slip.decimals or vp.solution.decimals, truncate=slip.truncate)
        out.append((slip.id, _chain_answers(vp, ch)))
    return out


GARBAGE = ["abc", "1,00.5", "0.5.1", "nan", "-inf", "1e999", "1e-40", "", "  ", "+-1", "½", "0x10"]
SPELLINGS = [
    lambda s: s.replace(".", ","),
    lambda s: s.replace("-", "\u2212"),
    lambda s: f"  {s} ",
    lambda s: "+" + s if not s.startswith("-") else s,
    lambda s: s.replace("0.", "0.", 1) + "0",
    lambda s: s[: s.find(".") + 2] if "." in s else s,  # fewer decimals than asked
]


def spelled(answers: dict[str, str], rng: random.Random) -> dict[str, str]:
    """The same numbers written the ways students write them."""
    return {q: rng.choice(SPELLINGS)(a) for q, a in answers.items()}


def answer_sets(v: Variant, seed: int) -> list[tuple[str, dict[str, str]]]:
    """Every kind of answer set, for the whole sheet of variant ``v``."""
    rng = random.Random(seed)
    key = key_answers(v)
    sets: list[tuple[str, dict[str, str]]] = [
        ("correct", key),
        ("spelled", spelled(key, rng)),
        ("blank", {}),
    ]
    for vp in v.problems:
        carried = carried_answers(vp)
        if carried is not None:
            sets.append((f"q{vp.number} carried", key | carried))
        for name, answers in slip_answers(vp):
            sets.append((f"q{vp.number} {name}", key | answers))
    garbage = {q: rng.choice(GARBAGE) if rng.random() < 0.5 else a for q, a in key.items()}
    sets.append(("garbage", garbage))
    for k in range(3):  # near the key: inside, at and outside the windows
        noisy = {}
        for q, a in key.items():
            if rng.random() < 0.15:
                continue
            d = Decimal(a) + Decimal(rng.choice([-3, -2, -1, 0, 0, 1, 2, 3])) * Decimal(
                "0.0005"
            ) * (k + 1)
            noisy[q] = plain(d)
        sets.append((f"noisy {k}", noisy))
    return sets


# --- grading both ways ---------------------------------------------------------------


def python_grades(m: Manifest, v: Variant, typed: dict[str, str]) -> dict[str, Any]:
    """What ``lstm-exam grade`` makes of the typed answers (a comma-separated file)."""
    cells = tuple(
        Cell(label=q, raw=raw.strip(), line=k + 2) for k, (q, raw) in enumerate(typed.items())
    )
    graded = grade_sheet(m, GradePolicy.of(m), v, Sheet(cells=cells, notes=(), decimal_comma=False))
    return {
        "findings": [
            [f.label, str(f.verdict), f.credit, f.mistake or "", f.reason] for f in graded.findings
        ],
        "scores": list(graded.problem_scores),
    }


JS_GRADE = """
const out = [];
for (const typed of arguments[0]) {
  try {
    const r = window.lstmPractice.gradeAnswers(typed);
    out.push({findings: r.findings.map(f => [f.label, f.verdict, f.credit, f.mistake || "", f.reason]),
              scores: r.scores.map(s => s.m.toString() + "e" + s.e)});
  } catch (e) { out.push({error: String(e && e.stack || e)}); }
}
return out;
"""


def _same(py: dict[str, Any], js: dict[str, Any], what: str) -> list[str]:
    """The differences between the two gradings, in words."""
    if "error" in js:
        return [f"{what}: the page failed: {js['error']}"]
    diffs = []
    for p, j in zip(py["findings"], js["findings"], strict=True):
        label, verdict, credit, mistake, reason = p
        if [label, verdict, mistake, reason] != [j[0], j[1], j[3], j[4]] or Decimal(j[2]) != credit:
            diffs.append(f"{what}: {label}: grade {p[1:]} page {j[1:]}")
    py_scores = py["scores"]
    js_scores = [Decimal(s) for s in js["scores"]]
    if py_scores != js_scores:
        diffs.append(f"{what}: scores: grade {py_scores} page {js_scores}")
    return diffs


@pytest.mark.parametrize("spec", [_spec_id(s) for s in SPECS])
def test_the_page_grades_as_grade_does(browser, sites, spec):
    m, folder = sites[spec]
    seen: dict[str, int] = {}
    mistakes: set[str] = set()
    diffs: list[str] = []
    for k, v in enumerate(m.variants, start=1):
        _open(browser, folder, k)
        sets = answer_sets(v, k)
        js = browser.execute_script(JS_GRADE, [typed for _, typed in sets])
        for (name, typed), j in zip(sets, js, strict=True):
            py = python_grades(m, v, typed)
            diffs += _same(py, j, f"{spec} v{k} {name}")
            for f in py["findings"]:
                seen[f[1]] = seen.get(f[1], 0) + 1
                if f[3]:
                    mistakes.add(f[3])
    assert diffs == []
    # the matrix reaches every verdict and names misconceptions
    assert {"correct", "wrong", "unanswered", "invalid"} <= set(seen)
    assert "carried forward" in seen, seen
    assert mistakes


def test_every_forward_kind_is_covered(sites):
    kinds = {
        str(vp.problem.kind) for m, _ in sites.values() for v in m.variants for vp in v.problems
    }
    assert kinds >= {
        "forget_gate",
        "input_gate",
        "cell_state",
        "output_gate",
        "cell_step",
        "sequence",
        "classification",
        "regression",
        "backward_step",
        "parameters",
    }


READ_PAGE = """
const rows = [...document.querySelectorAll("tr[data-label]")];
return {
  findings: rows.map(r => [r.dataset.label, r.dataset.verdict, r.dataset.credit, r.dataset.mistake,
                           r.querySelector(".reason").textContent]),
  scores: [...document.querySelectorAll(".score[data-problem]")].map(e => e.dataset.score),
  status: document.getElementById("status").textContent,
  typed: [...document.querySelectorAll("input[data-label]")].map(b => b.value),
};
"""


def _type_and_check(browser, folder: Path, typed: dict[str, str]) -> dict[str, Any]:
    """Type the answers into the boxes of a fresh page, press Check, read the verdicts
    off the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, folder, 1)
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[data-label]")
    labels = browser.execute_script(
        "return [...document.querySelectorAll('input[data-label]')].map(b => b.dataset.label)"
    )
    # one stream of keys, as a student types: each answer, then Tab to the next box
    boxes[0].send_keys(Keys.TAB.join(typed.get(q, "") for q in labels))
    browser.find_element(By.ID, "check").click()
    assert browser.execute_script("return document.body.dataset.checked") == "1"
    shown = browser.execute_script(READ_PAGE)
    assert shown.pop("status") == ""
    assert shown.pop("typed") == [typed.get(q, "") for q in labels]
    return shown


@pytest.mark.parametrize("spec", ["all-kinds", "default"])
def test_typed_into_the_page(browser, sites, spec, tmp_path):
    """The real thing: keys typed into the boxes, the button pressed, the DOM read."""
    m, folder = sites[spec]
    v = m.variants[0]
    every = answer_sets(v, 7)
    sets = [s for s in every if s[0] in ("spelled", "garbage")]
    key = key_answers(v)
    # each problem's set of a kind touches that problem alone: one page load types them all
    for kind, ends in (
        ("carried", (" carried",)),
        ("named", ("@1/None", "@1/f")),
        ("rounding", (" ROUNDED_2",)),
    ):
        merged, done = dict(key), set()
        for name, typed in every:
            problem = name.split(" ")[0]
            if problem not in done and name.endswith(ends):
                done.add(problem)
                merged |= {q: a for q, a in typed.items() if q.startswith(problem + ".")}
        sets.append((kind, merged))
    diffs: list[str] = []
    verdicts: set[str] = set()
    for name, typed in sets:
        py = python_grades(m, v, typed)
        js = _type_and_check(browser, folder, typed)
        diffs += _same(py, js, f"{spec} {name}")
        verdicts |= {f[1] for f in js["findings"]}
    assert diffs == []
    assert {"correct", "carried forward", "wrong", "invalid"} <= verdicts
    browser.save_screenshot(str(tmp_path / "practice.png"))
    assert (tmp_path / "practice.png").stat().st_size > 10_000


# --- the page's evaluator beside the Python one ------------------------------------------

JS_EVALUATE = """
const out = [];
for (const c of arguments[0]) {
  try { out.push(window.lstmPractice.evaluate(...c)); }
  catch (e) { out.push({error: String(e && e.stack || e)}); }
}
return out;
"""

CHAINS = ("full", "rounded", "rounded2", "truncated")


def _py_chain(name: str, decimals: int) -> Any:
    return {
        "full": FULL,
        "rounded": Rounded(decimals),
        "rounded2": Rounded(2),
        "truncated": Rounded(decimals, truncate=True),
    }[name]


def _js_chain(name: str, decimals: int) -> tuple[str, int]:
    return ("rounded", 2) if name == "rounded2" else (name, decimals)


@pytest.mark.parametrize("spec", ["all-kinds", "default", "classification", "backward-step"])
def test_the_page_evaluator_is_the_evaluator(browser, sites, spec):
    """Every misconception at every step and gate, no misconception, in every chain,
    with and without a student's own answers as overrides: the same values, and the same
    values "computed" (what carry forward compares with). The rounded chains agree to
    the last digit; the float chain to the last bits of exp and tanh (the browser's
    libm and Python's may differ by an ulp)."""
    m, folder = sites[spec]
    rng = random.Random(spec)
    _open(browser, folder, 1)
    cases, expected = [], []
    for vp in m.variants[0].problems:
        p = vp.problem
        givens = plain_tree_all(p.givens)
        asked = list(vp.solution.asked)
        for tw, t, gate in [(None, 1, None), *applicable_slips(p)]:
            for chain in CHAINS:
                own = {}
                if rng.random() < 0.6:
                    for lab in rng.sample(asked, k=max(1, len(asked) // 3)):
                        key = vp.solution.values[lab].rounded
                        own[lab] = (
                            key + Decimal(rng.randint(-300, 300)) / 1000
                            if key % 1 or not lab.startswith("P_")
                            else key + rng.randint(-5, 5)
                        )
                name, decimals = _js_chain(chain, p.decimals)
                cases.append(
                    [
                        str(p.kind),
                        givens,
                        name,
                        decimals,
                        tw.name if tw else None,
                        t,
                        gate,
                        {k: plain(d) for k, d in own.items()},
                    ]
                )
                ch = _py_chain(chain, p.decimals)
                computed: dict = {}
                out = evaluate_prepared(
                    p.kind,
                    prepare(p.givens, ch),
                    ch,
                    misconception=tw,
                    step=t,
                    gate=gate,
                    overrides=own,
                    computed=computed,
                )
                expected.append(
                    (f"q{vp.number} {chain} {tw and tw.name}@{t}/{gate}", chain, out, computed)
                )
    got = browser.execute_script(JS_EVALUATE, cases)
    bad, ulps = [], 0
    for (what, chain, out, computed), js in zip(expected, got, strict=True):
        if "error" in js:
            bad.append(f"{what}: {js['error']}")
            continue
        if set(js) != set(out):
            bad.append(f"{what}: labels {sorted(set(js) ^ set(out))}")
            continue
        for lab, (value, comp) in js.items():
            for mine, theirs in ((value, out[lab]), (comp, computed[lab])):
                if chain == "full":
                    if float(mine) != theirs:
                        ulps += 1
                        if abs(float(mine) - theirs) > 1e-12 * max(1.0, abs(theirs)):
                            bad.append(f"{what}: {lab} page {mine} python {theirs!r}")
                elif Decimal(mine) != theirs:
                    bad.append(f"{what}: {lab} page {mine} python {theirs}")
    assert bad == []
    total = sum(len(out) for _, _, out, _ in expected)
    assert ulps <= total // 100, f"{ulps} of {total} float values differ in their last bits"


def plain_tree_all(givens: dict[str, Any]) -> dict[str, Any]:
    return {k: plain_tree(g) for k, g in givens.items()}


# --- reading numbers -----------------------------------------------------------------------

# fmt: off
NUMBERS = [
    "0.495", "-0.031", " +0,495 ", "0,495", "4.95e-1", "4.95E+2", "\u22120.031", "1,248", "1,248.5", "1.248",
    "1 248,5", "1\u00a0248.5", "12,345,678.25", "1.234.567", "0.5.1", "1,00.5", ",5", ".5", "5.", "-.5",
    "+-1", "++1", "+.5", "nan", "NaN", "-inf", "Infinity", "1e999", "1e-999", "0e-999", "0e99999999999999",
    "1e-31", "1e-30", "999999999", "1000000000", "999999999.9", "-0.000", "0.1234567890123456789012345",
    "12345678901234567890", "\u0661\u066b5", "\u0661.\u0665", "\u0967.\u096b", "1_000", "0x10", "½", "",
    "1,2,3", "1,", "-1,5", "- 1.5", "1 . 5", "1e5", "1E-5", "3e", "e3", "٣", "１.５", "𝟏.𝟓",
    # the mathematical digits: five runs of ten side by side (bold, double-struck, sans,
    # sans bold, monospace); the page read all but the bold ones' 0 to 8 as 9
    "𝟘.𝟝", "𝟙.𝟛", "𝟢.𝟧", "𝟭.𝟰", "𝟶.𝟻", "𝟷𝟸𝟹.𝟾", "-𝟬.𝟵",
]
# fmt: on


def test_the_page_reads_numbers_as_grade_does(browser, sites):
    """parse_number and its mirror: the same number or the same words, for every way of
    writing one, for a quantity and for a whole number (a count)."""
    _m, folder = sites["default"]
    _open(browser, folder, 1)
    rng = random.Random(5)
    alphabet = "0123456789.,-+e \u2212\u00a0"
    texts = NUMBERS + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(800)
    ]
    cases = [(t, w) for t in texts for w in (False, True)]
    got = browser.execute_script(
        "return arguments[0].map(([t, w]) => { try { return window.lstmPractice.parseNumber(t, false, w); }"
        " catch (e) { return 'error: ' + e.message; } });",
        cases,
    )
    bad = []
    for (text, whole), js in zip(cases, got, strict=True):
        try:
            py = plain(parse_number(text, False, whole))
        except ValueError as e:
            py = f"error: {e}"
        if py != js:
            bad.append(f"{text!r} whole={whole}: grade {py!r} page {js!r}")
    assert bad == []


# --- the site without a browser -----------------------------------------------------------


def _data_of(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="practice-data">(.*?)</script>', page, re.S
    )
    assert found is not None
    return json.loads(found[1])


def test_the_site_is_offline_and_complete(sites):
    m, folder = sites["all-kinds"]
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["index.html", "practice.css", "practice.js", "v001.html", "v002.html"]
    index = (folder / "index.html").read_text("utf-8")
    assert all(v.code in index for v in m.variants) and 'href="v002.html"' in index
    for name in names:
        text = (folder / name).read_text("utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "fetch(" not in text and "XMLHttpRequest" not in text and "import(" not in text
    data = _data_of((folder / "v001.html").read_text("utf-8"))
    assert data["variant"] == m.variants[0].code
    assert [p["kind"] for p in data["problems"]] == [
        str(vp.problem.kind) for vp in m.variants[0].problems
    ]


def test_the_page_names_the_structural_misconceptions_and_interprets_the_rest():
    """practice.js (as the site ships it, joined from its parts) names the three structural
    misconceptions and no other: every other one reaches the page as its formula, in the
    page's data (docs/practice.md)."""
    js = practice.page_script().decode("utf-8")
    assert {tw for tw in Misconception if f'"{tw.name}"' in js} == STRUCTURAL
    table = practice.formula_table([tw.name for tw in Misconception if tw not in STRUCTURAL])
    assert all(table.values()) and len(table) == len(Misconception) - len(STRUCTURAL)


def test_every_text_is_escaped(sites):
    m, _ = sites["default"]
    evil = "<script>alert(1)</script> & </script><!--"
    m = replace(m, title=evil, course=evil)
    page = practice_files(m, m.variants[:1])["v001.html"].decode()
    assert "<script>alert" not in page and "</script><!--" not in page
    assert page.count("<script") == 2  # the data block and practice.js
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    # the JSON block holds no markup at all
    block = re.search(r'id="practice-data">(.*?)</script>', page, re.S)
    assert block is not None and "<" not in block[1] and "&" not in block[1]


def test_many_variants_get_wider_names():
    assert practice.page_names(2) == ["v001.html", "v002.html"]
    assert practice.page_names(1000)[-1] == "v1000.html"


def test_a_manifest_read_back_makes_the_same_pages(demo):
    """The quiz command writes the site from a worksheet folder: the manifest read back
    (stored ranges, givens as text) gives every page the data of the generated one."""
    from lstm_exam.generator.core import defaults
    from lstm_exam.generator.spec.roster import read_roster
    from lstm_exam.generator.spec.worksheet import builtin_path
    from lstm_exam.generator.store.manifest_read import load_manifest

    loaded = load_manifest(demo)
    made, _, _ = build_manifest(
        load_spec(None), read_roster(builtin_path("sample-roster.csv")), defaults.DEMO_SEED
    )
    assert all(vp.accept for v in loaded.variants for vp in v.problems)  # the stored ranges
    assert [practice.page_data(loaded, v) for v in loaded.variants] == [
        practice.page_data(made, v) for v in made.variants
    ]
