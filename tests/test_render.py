"""The render stage for real: sheets and keys typeset by pdflatex, read back as a reader sees them.

The PDFs are built with the real pdflatex and checked with poppler (``pdftotext``,
``pdffonts``) and pypdf. Without pdflatex every test here fails, never skips:
``make setup`` installs TeX Live.

One class worksheet (every problem kind, the lecture's forget-gate example as problem 1,
a title and course full of LaTeX specials, and a roster of awkward names) is generated
once for the module; the other tests build small worksheets of one or two students.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner, Result
from pypdf import PdfReader

from lstm_exam.cli import main
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.render import latex as latex_mod
from lstm_exam.generator.render import pdfs as render_mod
from lstm_exam.generator.render import typeset as typeset_mod
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec

pytestmark = pytest.mark.tex

NO_TEX = "pdflatex is not installed: run `make setup`"
ROSTER = Path(__file__).parent / "data" / "render-roster.csv"
LECTURE = builtin_path("lecture-forget-gate.toml")

TITLE = r"Gates & 100% {x} #1 $y$ _u ^v ~w a--b"
COURSE = r"Deep \textbf{Learning} \write18{id}"
# What the roster's names look like on paper where it is not the name itself.
SHOWN: dict[str, str] = {}
# The lecture's forget-gate table (W_f.z, + b_f, f_t for cells 1..3).
LECTURE_ROWS = [
    ("-0.031", "-0.021", "0.495"),
    ("-0.131", "-0.081", "0.480"),
    ("2.963", "2.973", "0.951"),
]
# Every problem kind; sizes kept small so that the module stays quick.
CLASS_PROBLEMS: list[dict[str, Any]] = [
    {"given": str(LECTURE)},
    {"kind": "input_gate", "hidden": 2, "inputs": 2},
    {"kind": "cell_state", "hidden": 2},
    {"kind": "output_gate", "hidden": 2, "inputs": 1},
    {"kind": "cell_step", "hidden": 2, "inputs": 1},
    {"kind": "sequence", "hidden": 2, "inputs": 1, "steps": 2},
]
SMALL_PROBLEMS: list[dict[str, Any]] = [{"kind": "cell_state", "hidden": 1}]


# --- helpers ------------------------------------------------------------------------


def need_tex() -> None:
    """Fail (never skip) when TeX is missing."""
    if shutil.which("pdflatex") is None:
        pytest.fail(NO_TEX, pytrace=False)


def cli(*args: object) -> Result:
    """`lstm-exam ARGS...` in this process (absolute paths: no chdir needed)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_spec(path: Path, problems: list[dict[str, Any]], **top: Any) -> Path:
    path.write_text(tomli_w.dumps({**top, "problems": problems}), encoding="utf-8")
    return path


_GLYPHS = str.maketrans({"\u2212": "-", "\u2019": "'", "\u02c6": "^"})


def norm(text: str) -> str:
    """Text as a reader reads it: NFC; the true minus, the typographic apostrophe and the
    circumflex accent as their ASCII look-alikes; all white space as one blank."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_GLYPHS).split())


_TEXT: dict[tuple[Path, bool], str] = {}


def pdf_text(path: Path, layout: bool = False) -> str:
    """pdftotext's text of a PDF (pages separated by form feeds); cached."""
    key = (path.resolve(), layout)
    if key not in _TEXT:
        cmd = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
        _TEXT[key] = subprocess.run(cmd, capture_output=True, check=True, encoding="utf-8").stdout
    return _TEXT[key]


def numbers(text: str) -> Counter[str]:
    """Every decimal number of a text, as written (``-0.031``, ``0.50``)."""
    return Counter(re.findall(r"-?\d+\.\d+", norm(text)))


def flat(value: Any) -> list[Any]:
    """The entries of a vector or matrix (nested lists), in order."""
    return [x for v in value for x in flat(v)] if isinstance(value, list) else [value]


def page_count(path: Path) -> int:
    return len(PdfReader(path).pages)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Worksheet:
    """A generated worksheet folder and what the command printed."""

    def __init__(self, folder: Path, result: Result) -> None:
        self.folder = folder
        self.result = result
        assert result.exit_code == 0, result.output
        self.doc = json.loads((folder / "manifest.json").read_text("utf-8"))
        self.students: list[dict[str, Any]] = self.doc["students"]

    def pdf(self, kind: str, sid: str) -> Path:
        return self.folder / kind / f"{sid}.pdf"

    def givens(self, student: dict[str, Any]) -> Counter[str]:
        return Counter(
            x for p in student["problems"] for g in p["givens"].values() for x in flat(g)
        )


class Once:
    """A build shared by the module, made inside the first test that needs it (so that a
    missing pdflatex fails that test instead of erroring in a fixture)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._value: Any = None
        self._error: Exception | None = None

    def __call__(self) -> Any:
        need_tex()
        if self._error is not None:
            raise self._error  # a failed build fails every test that needs it, once built
        if self._value is None:
            try:
                self._value = self._make()
            except Exception as e:
                self._error = e
                raise
        return self._value


def shown(student: dict[str, Any]) -> str:
    return SHOWN.get(student["student_id"], student["name"])


# --- the class worksheet, built once ---------------------------------------------------


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Once:
    def make() -> Worksheet:
        tmp = tmp_path_factory.mktemp("class")
        spec = write_spec(tmp / "spec.toml", CLASS_PROBLEMS, title=TITLE, course=COURSE)
        res = cli("generate", spec, "--roster", ROSTER, "--out", tmp / "wk")
        return Worksheet(tmp / "wk", res)

    return Once(make)


def test_generate_writes_every_pdf(klass):
    ws = klass()
    ids = [s["student_id"] for s in ws.students]
    assert ids == ["zoe-1", "amp-2", "inp-3", "math-4", "jose-5", "lukasz-6", "li-7"]
    for kind in ("sheets", "keys"):
        assert sorted(p.name for p in (ws.folder / kind).glob("*.pdf")) == sorted(
            f"{i}.pdf" for i in ids
        )
    for name in ("class-sheets.pdf", "class-key.pdf", "tex/class-sheets.tex", "tex/class-key.tex"):
        assert (ws.folder / name).is_file(), name
    # nothing but the .tex sources is left in tex/ (no .log, .aux, .pages)
    assert sorted(p.name for p in (ws.folder / "tex").iterdir()) == [
        "class-key.tex",
        "class-sheets.tex",
    ]


@pytest.mark.parametrize("kind", ["sheets", "keys"])
def test_each_pdf_names_its_student_and_no_other(klass, kind):
    ws = klass()
    for s in ws.students:
        text = norm(pdf_text(ws.pdf(kind, s["student_id"]), layout=True))
        assert f"Name {shown(s)}" in text, s["student_id"]
        assert f"Student id {s['student_id']}" in text
        assert f"Variant {s['variant']}" in text
        for other in ws.students:
            if other is s:
                continue
            for word in (shown(other), other["student_id"], other["variant"]):
                assert word not in text, (s["student_id"], word)


@pytest.mark.parametrize("kind", ["sheets", "keys"])
def test_each_pdf_shows_its_students_given_numbers_and_not_another(klass, kind):
    ws = klass()
    seen = {s["student_id"]: numbers(pdf_text(ws.pdf(kind, s["student_id"]))) for s in ws.students}
    for s in ws.students:
        have = seen[s["student_id"]]
        missing = ws.givens(s) - have
        assert not missing, (s["student_id"], missing)
        for other in ws.students:
            if other is not s:
                # the lecture's numbers are shared; the drawn ones differ
                assert not ws.givens(other) <= have, (s["student_id"], other["student_id"])


def test_given_numbers_agree_with_the_problem_files(klass):
    """problems/<id>.toml and the manifest (which the PDFs show) hold the same numbers."""
    ws = klass()
    for s in ws.students:
        doc = tomllib.loads((ws.folder / "problems" / f"{s['student_id']}.toml").read_text())
        for in_file, in_manifest in zip(doc["problems"], s["problems"], strict=True):
            for name, value in in_manifest["givens"].items():
                as_float = [float(x) for x in flat(value)]
                assert as_float == [float(x) for x in flat(in_file[name])], (s["student_id"], name)


@pytest.mark.parametrize(("kind", "document"), [("sheets", "class-sheets"), ("keys", "class-key")])
def test_student_pdfs_are_the_class_pdf_split_at_student_boundaries(klass, kind, document):
    ws = klass()
    total = 0
    for s in ws.students:
        sid = s["student_id"]
        path = ws.pdf(kind, sid)
        n = page_count(path)
        total += n
        pages = pdf_text(path).split("\f")[:n]
        assert len(pages) == n
        for k, page in enumerate(pages, start=1):
            # every page carries this student's footer, numbered from 1
            assert f"{sid} · page {k}" in norm(page), (sid, k)
    # the class PDF is padded for printing on both sides: every student starts on a
    # right-hand (odd) page, a blank page after a student of an odd number of pages
    whole = pdf_text(ws.folder / f"{document}.pdf").split("\f")
    at = 1
    for k, s in enumerate(ws.students):
        n = page_count(ws.pdf(kind, s["student_id"]))
        assert at % 2 == 1 and f"{s['student_id']} · page 1" in norm(whole[at - 1])
        at += n
        if n % 2 and k + 1 < len(ws.students):
            assert not whole[at - 1].strip()  # the blank page
            at += 1
    assert at - 1 == page_count(ws.folder / f"{document}.pdf") >= total


def test_no_duplex_leaves_the_class_pdfs_unpadded(klass, tmp_path):
    ws = klass()
    copy = tmp_path / "wk"
    shutil.copytree(ws.folder, copy)
    res = cli("render", copy, "--no-duplex")
    assert res.exit_code == 0, res.output
    for kind, document in (("sheets", "class-sheets"), ("keys", "class-key")):
        total = sum(page_count(copy / kind / f"{s['student_id']}.pdf") for s in ws.students)
        assert page_count(copy / f"{document}.pdf") == total


def test_each_key_shows_its_rounded_chain_answers(klass):
    ws = klass()
    keys = {
        s["student_id"]: numbers(pdf_text(ws.pdf("keys", s["student_id"]))) for s in ws.students
    }
    for s in ws.students:
        sid = s["student_id"]
        rows = read_csv(ws.folder / "keys" / f"{sid}.csv")
        assert len(rows) > 50
        answers = Counter(r["answer"] for r in rows)
        missing = answers - keys[sid]
        assert not missing, (sid, missing)
        for other in ws.students:
            if other is not s:
                theirs = Counter(
                    r["answer"] for r in read_csv(ws.folder / "keys" / f"{other['student_id']}.csv")
                )
                assert not theirs <= keys[sid], (sid, other["student_id"])


def test_key_shows_the_lectures_forget_gate_table(klass):
    ws = klass()
    for path in [ws.pdf("keys", "zoe-1"), ws.folder / "class-key.pdf"]:
        text = norm(pdf_text(path, layout=True))
        for cell, (wz, a, f) in enumerate(LECTURE_ROWS, start=1):
            assert text.count(f"Cell {cell} {wz} {a} {f}") == (
                1 if path.name == "zoe-1.pdf" else len(ws.students)
            ), (path.name, cell)
        # the first row written out, and the accepted answers of every asked value
        assert "= -0.031400 ≈ -0.031" in text
        for value in [v for row in LECTURE_ROWS for v in row]:
            assert f" {value} [" in text, value


def test_title_and_course_print_literally(klass):
    ws = klass()
    for kind in ("sheets", "keys"):
        for s in ws.students:
            text = norm(pdf_text(ws.pdf(kind, s["student_id"]), layout=True))
            # the footer holds both on one line; the header holds them too
            assert f"{COURSE} · {TITLE}" in text, s["student_id"]
            assert text.count(COURSE) >= 2 and "–" not in text  # a--b stays two hyphens


@pytest.mark.parametrize(
    ("sid", "name"),
    [
        ("zoe-1", "Zoë O'Brien"),
        ("amp-2", "A & B_#1 {x} %"),
        ("inp-3", r"\input{/etc/passwd}"),
        ("math-4", r"$x^2$ ~ \def\x{1}"),
        ("jose-5", "José Núñez"),
        ("lukasz-6", "Łukasz Żółć"),
    ],
)
def test_names_print_literally_with_their_accents(klass, sid, name):
    ws = klass()
    for kind in ("sheets", "keys"):
        raw = pdf_text(ws.pdf(kind, sid), layout=True)
        assert f"Name {name}" in norm(raw)
        # the accented letters are real letters, not a base letter plus a loose accent
        for ch in {c for c in unicodedata.normalize("NFC", name) if ord(c) > 0x7F}:
            assert ch in unicodedata.normalize("NFC", raw), (sid, ch)


def test_nothing_in_a_name_ran(klass):
    ws = klass()
    for document in ("class-sheets.pdf", "class-key.pdf"):
        text = pdf_text(ws.folder / document)
        assert "root:" not in text  # /etc/passwd was not read in
        assert r"\input{/etc/passwd}" in norm(text)
        assert r"\def\x{1}" in norm(text)
    sheets = (ws.folder / "tex" / "class-sheets.tex").read_text("utf-8")
    assert r"\input{" not in sheets and r"\def\x" not in sheets


def test_a_chinese_name_prints_in_a_cjk_font_without_a_warning(klass):
    ws = klass()
    assert "warning:" not in ws.result.stderr, ws.result.stderr
    for kind in ("sheets", "keys"):
        text = norm(pdf_text(ws.pdf(kind, "li-7"), layout=True))
        assert "Name 李雷" in text
        assert "?" not in text  # the fonts lacked Chinese once: it printed as '??'


@pytest.mark.parametrize("document", ["class-sheets.pdf", "class-key.pdf"])
def test_fonts_are_outlines_never_type3_bitmaps(klass, document):
    ws = klass()
    out = subprocess.run(
        ["pdffonts", str(ws.folder / document)], capture_output=True, check=True, text=True
    ).stdout
    lines = out.splitlines()
    start, end = lines[0].index("type"), lines[0].index("encoding")
    types = {ln[start:end].strip() for ln in lines[2:] if ln.strip()}
    assert types, out
    assert "Type 3" not in out
    assert types <= {"Type 1", "Type 1C", "TrueType"}, types


def test_render_rebuilds_the_same_pdfs_from_the_manifest(klass, tmp_path):
    ws = klass()
    copy = tmp_path / "wk"
    shutil.copytree(ws.folder, copy)
    before = {p.relative_to(copy): pdf_text(p) for p in copy.rglob("*.pdf")}
    tex_before = {p.name: p.read_bytes() for p in (copy / "tex").iterdir()}
    for p in [*copy.rglob("*.pdf"), *(copy / "tex").iterdir()]:
        p.unlink()
    res = cli("render", copy)
    assert res.exit_code == 0, res.output
    after = {p.relative_to(copy): pdf_text(p) for p in copy.rglob("*.pdf")}
    assert sorted(after) == sorted(before)
    for rel, text in before.items():
        assert after[rel] == text, rel
    assert {p.name: p.read_bytes() for p in (copy / "tex").iterdir()} == tex_before
    assert not [p for p in copy.iterdir() if p.name.startswith(".")], "staging left behind"


def test_the_seed_is_in_no_pdf_and_no_tex_source(klass):
    ws = klass()
    seed = ws.doc["seed"]
    assert len(seed) >= 16
    pdfs = list(ws.folder.rglob("*.pdf"))
    assert len(pdfs) == 2 + 2 * len(ws.students)
    for path in pdfs:
        text = pdf_text(path)
        assert seed not in text and seed[:12] not in text, path
        assert seed.encode() not in path.read_bytes(), path
    for path in (ws.folder / "tex").glob("*.tex"):
        assert seed[:12] not in path.read_text("utf-8"), path


def test_tex_sources_never_ask_for_shell_escape(klass):
    ws = klass()
    for path in (ws.folder / "tex").glob("*.tex"):
        text = path.read_text("utf-8")
        assert r"\write18" not in text, path
        # the course's \write18 is printed, not executed
        assert r"\textbackslash{}write18" in text, path


def test_pdflatex_is_always_called_with_no_shell_escape(monkeypatch, tmp_path):
    need_tex()
    calls: list[tuple[list[str], dict[str, str] | None]] = []
    real_popen = subprocess.Popen

    def spy(cmd, *args, **kwargs):
        calls.append(([str(c) for c in cmd], kwargs.get("env")))
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(typeset_mod.subprocess, "Popen", spy)
    m, _, _ = build_manifest(load_spec(None), numbered_roster(1), seed="render-spy-seed-01")
    render_mod.render_pdfs(m, tmp_path)
    tex_calls = [(cmd, env) for cmd, env in calls if Path(cmd[0]).name == "pdflatex"]
    assert len(tex_calls) == 2, calls
    for cmd, env in tex_calls:
        assert "-no-shell-escape" in cmd
        assert not {
            "-shell-escape",
            "--shell-escape",
            "-shell-restricted",
            "-enable-write18",
        } & set(cmd)
        assert (env or os.environ).get("shell_escape", "f") == "f"
    assert (tmp_path / "sheets" / "s001.pdf").is_file()


# --- custom templates -----------------------------------------------------------------


def sheet_template() -> str:
    return (latex_mod.template_folder() / "sheet.tex.j2").read_text("utf-8")


@pytest.fixture(scope="module")
def custom(tmp_path_factory) -> Once:
    """A template folder that overrides only sheet.tex.j2: German, and a shell command."""

    def make() -> tuple[Worksheet, Path, Path]:
        tmp = tmp_path_factory.mktemp("custom")
        marker = tmp / "shell-escape-ran"
        tpl = tmp / "tpl"
        tpl.mkdir()
        text = sheet_template()
        assert text.count("Instructions") == 1
        text = text.replace(
            r"\textbf{Instructions.}",
            "\\textbf{Anleitung.}\n\\immediate\\write18{touch " + str(marker) + "}",
        )
        (tpl / "sheet.tex.j2").write_text(text, encoding="utf-8")
        spec = write_spec(tmp / "spec.toml", SMALL_PROBLEMS)
        res = cli("generate", spec, "--count", "2", "--out", tmp / "wk", "--templates", tpl)
        return Worksheet(tmp / "wk", res), tpl, marker

    return Once(make)


def test_a_template_folder_may_override_only_the_sheet(custom):
    ws, tpl, _ = custom()
    assert [p.name for p in tpl.iterdir()] == ["sheet.tex.j2"]
    for s in ws.students:
        sheet = norm(pdf_text(ws.pdf("sheets", s["student_id"])))
        assert "Anleitung." in sheet and "Instructions" not in sheet
        key = norm(pdf_text(ws.pdf("keys", s["student_id"])))
        assert "Answer key" in key and "Anleitung" not in key


def test_a_template_cannot_run_shell_commands(custom):
    ws, _, marker = custom()
    assert ws.result.exit_code == 0
    assert not marker.exists()


def test_render_takes_the_templates_generate_used_only_when_given_again(custom, tmp_path):
    """render never follows the manifest's templates (issue 21): without --templates it
    asks for them in one line and changes nothing; given again, they are used."""
    ws, tpl, _ = custom()
    copy = tmp_path / "wk"
    shutil.copytree(ws.folder, copy)
    before = (copy / "sheets" / "s001.pdf").read_bytes()
    res = cli("render", copy)
    assert res.exit_code == 2 and "pass --templates DIR" in res.output
    assert (copy / "sheets" / "s001.pdf").read_bytes() == before
    res = cli("render", copy, "--templates", tpl)
    assert res.exit_code == 0, res.output
    assert "Anleitung." in norm(pdf_text(copy / "sheets" / "s001.pdf"))


def test_templates_named_in_the_spec_are_used_by_generate_and_render(custom, tmp_path):
    _, tpl, _ = custom()
    spec = write_spec(tmp_path / "spec.toml", SMALL_PROBLEMS, templates=str(tpl))
    res = cli("generate", spec, "--count", "1", "--out", tmp_path / "wk")
    ws = Worksheet(tmp_path / "wk", res)
    assert "Anleitung." in norm(pdf_text(ws.pdf("sheets", "s001")))
    (ws.folder / "sheets" / "s001.pdf").unlink()
    res = cli("render", ws.folder, "--templates", tpl)  # render: the command line only
    assert res.exit_code == 0, res.output
    assert "Anleitung." in norm(pdf_text(ws.pdf("sheets", "s001")))


def full_template_copy(tmp_path: Path) -> Path:
    tpl = tmp_path / "tpl"
    shutil.copytree(
        latex_mod.template_folder(), tpl, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    return tpl


def error_lines(res: Result) -> list[str]:
    assert "Traceback" not in res.output
    return [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]


def test_a_latex_error_in_a_template_names_the_template_line(run, tmp_path):
    need_tex()
    tpl = full_template_copy(tmp_path)
    lines = sheet_template().splitlines()
    at = lines.index(r"\textbf{Instructions.}") + 1
    lines.insert(at, r"\undefinedmacroxyz")
    (tpl / "sheet.tex.j2").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run("generate", "--count", "2", "--out", "bad", "--templates", tpl)
    assert res.exit_code == 2
    (err,) = error_lines(res)
    assert f"sheet.tex.j2: line {at + 1}: LaTeX error:" in err
    assert "Undefined control sequence" in err and r"\undefinedmacroxyz" in err
    assert 2 <= err.count(" | ") + 1 <= 6 and len(err) < 700, err  # a few log lines, short
    # the failed LaTeX and its log outlive the run (whose folder is never written)
    kept = Path(re.search(r"\(the LaTeX and its log are in (\S+)/\)$", err).group(1))
    assert sorted(p.suffix for p in kept.iterdir()) == [".log", ".tex"]
    assert r"\undefinedmacroxyz" in next(kept.glob("*.tex")).read_text("utf-8")
    shutil.rmtree(kept)
    assert not Path("bad").exists()
    assert not [p for p in Path().iterdir() if p.name.startswith(".")], "staging left behind"


def test_a_jinja_syntax_error_in_a_template_names_the_template_line(run, tmp_path):
    need_tex()
    tpl = full_template_copy(tmp_path)
    lines = sheet_template().splitlines()
    at = lines.index(r"\textbf{Instructions.}")
    lines[at] += " ((* if *))"
    (tpl / "sheet.tex.j2").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run("generate", "--count", "2", "--out", "bad", "--templates", tpl)
    assert res.exit_code == 2
    (err,) = error_lines(res)
    assert f"sheet.tex.j2: line {at + 1}: " in err, err
    assert not Path("bad").exists()


# --- without TeX ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def without_tex(tmp_path_factory) -> Once:
    """`lstm-exam generate` run with a PATH that holds no pdflatex."""

    def make() -> tuple[subprocess.CompletedProcess[str], Path]:
        tmp = tmp_path_factory.mktemp("notex")
        (tmp / "bin").mkdir()
        exe = Path(sys.executable).with_name("lstm-exam")
        assert exe.is_file(), exe
        proc = subprocess.run(
            [str(exe), "generate", "--count", "2", "--out", str(tmp / "wk")],
            env={**os.environ, "PATH": str(tmp / "bin")},
            capture_output=True,
            text=True,
            check=False,
        )
        return proc, tmp / "wk"

    return Once(make)


def test_without_pdflatex_everything_but_the_pdfs_is_written(without_tex):
    proc, out = without_tex()
    assert proc.returncode == 0, proc.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "answer-templates/s001.csv",
        "answer-templates/s002.csv",
        "keys/s001.csv",
        "keys/s002.csv",
        "manifest.json",
        "problems/s001.toml",
        "problems/s002.toml",
        "tex/class-key.tex",
        "tex/class-sheets.tex",
    ]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    install = [ln for ln in proc.stderr.splitlines() if "apt-get install" in ln]
    assert len(install) == 1, proc.stderr
    assert "pdflatex" in install[0]
    for package in (
        "texlive-latex-base",
        "texlive-latex-recommended",
        "texlive-pictures",
        "lmodern",
    ):
        assert package in install[0].split(), package


def test_without_pdflatex_the_summary_promises_no_pdfs(without_tex):
    proc, _ = without_tex()
    assert proc.returncode == 0
    assert "PDF" not in proc.stdout, proc.stdout


# --- layout -----------------------------------------------------------------------------


def test_a_long_name_stays_on_the_page(tmp_path):
    need_tex()
    name = "María de los Ángeles Fernández-Castillo García"
    roster = tmp_path / "roster.csv"
    roster.write_text(f"student_id,name\nm1,{name}\n", encoding="utf-8")
    spec = write_spec(tmp_path / "spec.toml", SMALL_PROBLEMS)
    res = cli("generate", spec, "--roster", roster, "--out", tmp_path / "wk")
    assert res.exit_code == 0, res.output
    # pdftotext drops glyphs outside the page: only what is printed is read back; the
    # name box wraps a long name onto a second line
    text = norm(pdf_text(tmp_path / "wk" / "sheets" / "m1.pdf", layout=True))
    assert all(word in text.split() for word in name.split()), text[:300]


def test_templates_command_copies_the_built_in_templates(run, tmp_path):
    res = run("templates", tmp_path / "mine")
    assert res.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "mine").iterdir())
    assert names == sorted(p.name for p in latex_mod.template_folder().glob("*.j2"))
    again = run("templates", tmp_path / "mine")
    assert again.exit_code == 2 and "already holds" in again.stderr


def test_the_keys_asked_values_are_bold_in_math():
    """The key says "Bold values are asked": \\textbf does not reach math mode, so the
    asked values of its tables are set with \\boldmath, one for each asked table cell."""
    from lstm_exam.generator.render.document import render_tex

    m, _, _ = build_manifest(load_spec(None), numbered_roster(1), "bold-seed-0001")
    key = render_tex(m, None).tex["class-key"]
    assert "Bold values are asked" in key
    assert r"\textbf{$" not in key
    tables = [vp for vp in m.variants[0].problems if vp.problem.show_steps]
    assert tables and key.count(r"{\boldmath$") >= sum(len(vp.solution.asked) for vp in tables)


def test_no_key_page_ends_with_a_caption(tmp_path):
    """A table's caption, a step's heading and "Accepted answers" stay with what they
    introduce: no page of a key ends with one (on every kind, whose keys run to pages)."""
    need_tex()
    spec = Path(__file__).parents[1] / "examples" / "all-kinds.toml"
    shutil.copy(spec, tmp_path / "s.toml")
    shutil.copy(spec.parent / "lecture-output-gate.toml", tmp_path)
    res = cli("generate", tmp_path / "s.toml", "--count", "2", "--out", tmp_path / "wk")
    assert res.exit_code == 0, res.output
    pages = pdf_text(tmp_path / "wk" / "class-key.pdf", layout=True).split("\f")
    for k, page in enumerate(pages, start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip() and " · page " not in ln]
        if lines:  # a blank page pads a student for printing on both sides
            last = lines[-1]
            assert re.search(r"[0-9−]", last), f"page {k} ends with {last!r}"
