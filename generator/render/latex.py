"""The LaTeX security boundary: escaping user text, the template environment, numbers."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import (
    QUANTITIES,
)
from lstm_exam.generator.core.numbers import at_places, plain
from lstm_exam.generator.render.sandbox import BoundedSandbox
from lstm_exam.generator.render.scripts import ENCODINGS, fallback, runs


class Tex(str):
    """LaTeX made by the program: trusted, inserted as it is."""

    __slots__ = ()


def unsupported(text: str) -> str:
    """The characters of ``text`` no PDF font has (printed as their transliteration)."""
    return fallback(text)


def escape_text(text: str) -> Tex:
    r"""User text as LaTeX that prints literally and never runs.

    Runs of white space become one space. Text outside the page's T1 font is printed in
    the font encoding or CJK font that has it (:mod:`scripts`); what no font has, as its
    transliteration. Every run is escaped by ``escape_latex``; only the program's own
    font switches wrap it.

    >>> escape_text(r"A & B_#1 {x} % \input{/etc/passwd}")
    'A \\& B\\_\\#1 \\{x\\} \\% \\textbackslash{}input\\{/etc/passwd\\}'
    >>> escape_text("Иван & 王")
    '{\\fontencoding{T2A}\\selectfont Иван} \\& \\begin{CJK}{UTF8}{gbsn}王\\end{CJK}'
    """
    parts = []
    for run in runs(text):
        body = escape_latex(run.text)
        if run.script == "T1":
            parts.append(body)
        elif run.script in ENCODINGS:
            parts.append(f"{{\\fontencoding{{{run.script}}}\\selectfont {body}}}")
        else:
            parts.append(f"\\begin{{CJK}}{{UTF8}}{{{run.font}}}{body}\\end{{CJK}}")
    return Tex("".join(parts))


def _finalize(value: Any) -> Any:
    """Everything a template prints is escaped unless the program marked it as Tex."""
    if isinstance(value, Tex):
        return value
    if isinstance(value, str):
        return escape_text(value)
    return value


def template_folder() -> Path:
    """The built-in templates (package data)."""
    return Path(str(resources.files("lstm_exam.templates")))


def copy_templates(folder: Path) -> list[Path]:
    """Copy the built-in templates into ``folder`` (which must not hold them yet)."""
    sources = sorted(template_folder().glob("*.j2"))
    clashes = [p.name for p in sources if (folder / p.name).exists()]
    if clashes:
        raise InputError(str(folder), "", f"already holds {clashes[0]}: copy into an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in sources]


def make_env(custom: Path | None = None) -> BoundedSandbox:
    """Jinja2 with LaTeX-safe delimiters, StrictUndefined and escape by default, in the
    bounded sandbox (:mod:`sandbox`).

    Every printed value is escaped unless it is :class:`Tex`; the ``tex`` filter
    marks the output of a template macro as LaTeX (forgetting it shows escaped
    LaTeX on the page: it fails safe).

    A custom folder is searched first, so a copy may override any single template.
    """
    folders = [str(custom)] if custom else []
    folders.append(str(template_folder()))
    env = BoundedSandbox(
        loader=jinja2.FileSystemLoader(folders),
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=False,
    )
    # A macro's output is LaTeX the templates made: `((( macro(...) | tex )))` prints it as it is.
    env.filters["tex"] = Tex
    return env


def num(value: Decimal | float, places: int | None = None) -> Tex:
    """A number in math mode with a true minus sign."""
    return Tex(f"${at_places(value, places)}$")


def vector_tex(value: Sequence[Decimal]) -> Tex:
    """A row vector."""
    return Tex(r"\begin{bmatrix}" + " & ".join(plain(e) for e in value) + r"\end{bmatrix}")


def column_tex(value: Sequence[Decimal]) -> Tex:
    """A column vector."""
    return Tex(r"\begin{bmatrix}" + r" \\ ".join(plain(e) for e in value) + r"\end{bmatrix}")


def matrix_tex(matrix: Sequence[Sequence[Decimal]], split: int | None = None) -> Tex:
    """A matrix; ``split`` draws a bar after that column (between h and x)."""
    n = len(matrix[0])
    cols = "r" * n if not split else "r" * split + "|" + "r" * (n - split)
    body = r" \\ ".join(" & ".join(plain(e) for e in row) for row in matrix)
    return Tex(rf"\left[\begin{{array}}{{{cols}}}{body}\end{{array}}\right]")


def column_head(name: str) -> Tex:
    """A column heading: the symbol, or "bias added" as the lecture's tables say."""
    if name.startswith("a_"):
        return Tex(rf"bias added $+\,b_{{{name[2:]}}}$")
    return Tex(f"${QUANTITIES[name].tex}$")
