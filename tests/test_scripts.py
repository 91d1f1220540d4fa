"""Names, titles and courses in every script, printed by real pdflatex and read back.

Latin (every diacritic, Vietnamese's through T5), Greek (LGR), Cyrillic (T2A) and Chinese,
Japanese and Korean (CJKutf8) print as themselves; what no font has (Arabic, emoji, ...)
prints as its transliteration, with one warning naming the student, the field and what
was printed. A document of plain Latin names loads none of it.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from lstm_exam.cli import main
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.render.document import render_tex
from lstm_exam.generator.render.latex import escape_text
from lstm_exam.generator.render.scripts import (
    CJK_FONTS,
    HAN,
    HANGUL,
    KANA,
    cjk_font_has,
    fallback,
    needs,
    printed,
    runs,
)
from lstm_exam.generator.spec.roster import Student, numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec

NAMES = {
    "vn-1": "Nguyễn Thị Hương",
    "gr-2": "Ψυχάρης Αλέξανδρος",
    "ru-3": "Иван Петров",
    "zh-4": "王小明",
    "ja-5": "山田太郎",
    "ja-6": "さくら 田中",
    "ko-7": "김민준",
    "ie-8": "Siobhán Ó Briain",
    "ar-9": "محمد",
}
TITLE = "Tuần 5: LSTM — Неделя 5 — 第五周"
COURSE = "Βαθιά μάθηση · 딥러닝"


def pdf_text(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        encoding="utf-8",
    ).stdout
    # NFKC: pdftotext reads the CB fonts' Greek mu as the micro sign (U+00B5)
    return unicodedata.normalize("NFKC", out)


def squeezed(text: str) -> str:
    """Text with no white space: pdftotext spaces CJK glyphs of a large font apart."""
    return "".join(text.split())


# --- pure: which font prints what ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tex"),
    [
        ("Nguyễn Thị Hương", r"{\fontencoding{T5}\selectfont Nguyễn Thị Hương}"),
        ("Ψυχάρης Αλέξανδρος", r"{\fontencoding{LGR}\selectfont Ψυχάρης Αλέξανδρος}"),
        ("Иван Петров", r"{\fontencoding{T2A}\selectfont Иван Петров}"),
        ("王小明", r"\begin{CJK}{UTF8}{gbsn}王小明\end{CJK}"),
        ("さくら 田中", r"\begin{CJK}{UTF8}{min}さくら 田中\end{CJK}"),
        ("김민준", r"\begin{CJK}{UTF8}{nanummj}김민준\end{CJK}"),
        ("陳大文", r"\begin{CJK}{UTF8}{min}陳大文\end{CJK}"),  # GB 2312 lacks 陳: one font
        ("Siobhán Ó Briain", "Siobhán Ó Briain"),
        ("محمد", "mhmd"),
        ("Zoë · 5 °C", "Zoë · 5 °C"),
    ],
)
def test_each_script_is_printed_in_its_encoding_or_cjk_font(name, tex):
    assert escape_text(name) == tex


def test_user_text_in_another_script_stays_escaped():
    hostile = r"Иван \input{/etc/passwd} 王 & $x$ Ψ_#1 % ~ 김 {"
    tex = escape_text(hostile)
    assert r"\input" not in tex and "$x$" not in tex
    # only the program's switches are commands; everything else escape_latex made
    commands = set(re.findall(r"\\[A-Za-z]+", tex))
    switches = {r"\fontencoding", r"\selectfont", r"\begin", r"\end"}
    assert commands <= switches | {r"\textbackslash", r"\textasciitilde"}, commands


def test_what_no_font_has_is_transliterated_and_named():
    assert fallback("Zoë محمد") == "محد"
    assert printed("Zoë محمد") == "Zoë mhmd"
    assert fallback("Иван 王小明 Nguyễn") == ""
    assert printed("😀") == ":grinning:"
    assert printed("\ue000") == "U+E000"  # no transliteration: the code point, never '?'
    assert all(r.script == "T1" for r in runs("שלום देवनागरी"))


def test_only_the_encodings_a_document_prints_are_loaded():
    assert needs(["Zoë O'Brien", "Łukasz Żółć", "LSTM"]).fontenc == "T1"
    n = needs(NAMES.values())
    assert n.fontenc == "T2A,LGR,T5,T1" and n.cjk


def test_a_latin_document_loads_no_other_script():
    m, _, _ = build_manifest(load_spec(None), numbered_roster(2), "scripts-seed-0001")
    for tex in render_tex(m, None).tex.values():
        assert r"\usepackage[T1]{fontenc}" in tex
        assert "CJK" not in tex and "T2A" not in tex and "LGR" not in tex


def test_a_name_no_font_has_warns_once_naming_the_student_and_what_printed():
    m, _, _ = build_manifest(
        load_spec(None),
        (Student("ar-9", "محمد"), Student("zh-4", "王小明")),
        "scripts-seed-0002",
    )
    warnings = render_tex(m, None).warnings
    assert warnings == (
        "student ar-9: no PDF font has 'محد' of the name 'محمد'; printed as 'mhmd'",
    )


# --- the fonts themselves -------------------------------------------------------------------


@cache
def _tfm_chars(name: str) -> frozenset[int]:
    """The characters a TFM file has (width index not 0), or none if there is no file."""
    found = subprocess.run(["kpsewhich", f"{name}.tfm"], capture_output=True, text=True)
    if not found.stdout.strip():
        return frozenset()
    data = Path(found.stdout.strip()).read_bytes()
    _, lh, bc, ec = struct.unpack(">4H", data[:8])
    base = 24 + 4 * lh
    return frozenset(c for c in range(bc, ec + 1) if data[base + 4 * (c - bc)])


@pytest.mark.tex
@pytest.mark.parametrize(
    ("font", "tfm"), [("gbsn", "gbsnu"), ("min", "udmj"), ("nanummj", "nanummjm")]
)
def test_every_character_given_to_a_cjk_font_is_in_its_tfm_files(font, tfm):
    """A character of a CJK subfont that has no TFM file stops pdflatex: cjk_font_has must
    never claim one the installed fonts lack."""
    if shutil.which("kpsewhich") is None:
        pytest.fail("TeX is not installed: run `make setup`", pytrace=False)
    blocks = {
        cp >> 8 for ranges in (HAN, KANA, HANGUL) for lo, hi in ranges for cp in range(lo, hi + 1)
    }
    claimed = [
        chr(cp)
        for b in sorted(blocks)
        for cp in range(b << 8, (b << 8) + 256)
        if cjk_font_has(font, chr(cp))
    ]
    assert len(claimed) > 2000
    lacking = [ch for ch in claimed if ord(ch) & 0xFF not in _tfm_chars(f"{tfm}{ord(ch) >> 8:02x}")]
    assert not lacking, "".join(lacking[:40])
    assert font in {f for fonts in CJK_FONTS.values() for f in fonts}


# --- real PDFs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`", pytrace=False)
    tmp = tmp_path_factory.mktemp("scripts")
    roster = tmp / "roster.csv"
    roster.write_text(
        "student_id,name\n" + "".join(f"{k},{v}\n" for k, v in NAMES.items()), encoding="utf-8"
    )
    spec = tmp / "spec.toml"
    spec.write_text(
        tomli_w.dumps(
            {"title": TITLE, "course": COURSE, "problems": [{"kind": "cell_state", "hidden": 1}]}
        ),
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        main,
        ["generate", str(spec), "--roster", str(roster), "--out", str(tmp / "wk")],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    return tmp / "wk", res


@pytest.mark.tex
@pytest.mark.parametrize("kind", ["sheets", "keys"])
@pytest.mark.parametrize("sid", [k for k in NAMES if k != "ar-9"])
def test_every_script_prints_as_itself(world, kind, sid):
    folder, _ = world
    text = pdf_text(folder / kind / f"{sid}.pdf")
    name_line = next(ln for ln in text.splitlines() if "Name" in ln)
    assert squeezed(NAMES[sid]) in squeezed(name_line), name_line
    assert "?" not in text
    for part in (TITLE, COURSE):  # header and footer
        assert squeezed(text).count(squeezed(part)) >= 2, part


@pytest.mark.tex
def test_a_name_no_font_has_prints_transliterated_with_one_warning(world):
    folder, res = world
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        "warning: student ar-9: no PDF font has 'محد' of the name 'محمد'; printed as 'mhmd'"
    ], res.stderr
    for kind in ("sheets", "keys"):
        text = pdf_text(folder / kind / "ar-9.pdf")
        assert "mhmd" in text and "?" not in text


@pytest.mark.tex
def test_every_script_is_set_in_outline_fonts(world):
    folder, _ = world
    out = subprocess.run(
        ["pdffonts", str(folder / "class-sheets.pdf")], capture_output=True, check=True, text=True
    ).stdout
    assert "Type 3" not in out  # no Metafont bitmaps
    for font in ("LMRoman", "gsx", "NimbusRomanCYR", "gbsnu", "dmj", "nanummj"):
        assert font in out, (font, out)


def test_setup_tex_installs_the_packages_the_missing_tex_note_names():
    """scripts/setup-tex.sh and the note of a run without TeX name the same packages."""
    from lstm_exam.generator.render.typeset import TEX_PACKAGES

    script = (Path(__file__).parents[1] / "scripts" / "setup-tex.sh").read_text("utf-8")
    listed = re.search(r"^packages=\((.*?)\)", script, re.S | re.M)
    assert listed, "setup-tex.sh lists its packages"
    assert set(listed.group(1).split()) == {*TEX_PACKAGES.split(), "poppler-utils"}
