"""The LaTeX security boundary: escaping user text, the template environment, numbers."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pylatex.utils import escape_latex

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import (
    QUANTITIES,
)
from lstm_exam.generator.core.numbers import at_places, plain

_T1_RANGES = (
    (0x20, 0x7E),
    (0x00A0, 0x00A1),
    (0x00A3, 0x00A3),
    (0x00AB, 0x00AB),
    (0x00AD, 0x00AD),
    (0x00BB, 0x00BB),
    (0x00BF, 0x00D6),
    (0x00D8, 0x00F6),
    (0x00F8, 0x0125),
    (0x0128, 0x0137),
    (0x0139, 0x013E),
    (0x0141, 0x0148),
    (0x014A, 0x0165),
    (0x0168, 0x017E),
    (0x0218, 0x021B),
    (0x2013, 0x2014),
    (0x2018, 0x2019),
    (0x201C, 0x201D),
)


class Tex(str):
    """LaTeX made by the program: trusted, inserted as it is."""

    __slots__ = ()


def unsupported(text: str) -> str:
    """The characters of ``text`` the PDF fonts (T1, Latin Modern) cannot print."""
    return "".join(
        dict.fromkeys(
            ch
            for ch in unicodedata.normalize("NFC", text)
            if not any(lo <= ord(ch) <= hi for lo, hi in _T1_RANGES)
        )
    )


def escape_text(text: str) -> Tex:
    r"""User text as LaTeX that prints literally and never runs.

    Characters the fonts lack become ``?``; runs of white space one space.

    >>> escape_text(r"A & B_#1 {x} % \input{/etc/passwd}")
    'A \\& B\\_\\#1 \\{x\\} \\% \\textbackslash{}input\\{/etc/passwd\\}'
    """
    text = " ".join(unicodedata.normalize("NFC", text).split())  # newlines, tabs: one space
    bad = set(unsupported(text))
    if bad:
        text = "".join("?" if ch in bad else ch for ch in text)
    return Tex(escape_latex(text))


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


def make_env(custom: Path | None = None) -> SandboxedEnvironment:
    """Jinja2 with LaTeX-safe delimiters, StrictUndefined and escape by default.

    Every printed value is escaped unless it is :class:`Tex`; the ``tex`` filter
    marks the output of a template macro as LaTeX (forgetting it shows escaped
    LaTeX on the page: it fails safe).

    A custom folder is searched first, so a copy may override any single template.
    """
    folders = [str(custom)] if custom else []
    folders.append(str(template_folder()))
    env = SandboxedEnvironment(
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


def num(d: Decimal | float, places: int | None = None) -> Tex:
    """A number in math mode with a true minus sign."""
    return Tex(f"${at_places(d, places)}$")


def vector_tex(v: Sequence[Decimal]) -> Tex:
    """A row vector."""
    return Tex(r"\begin{bmatrix}" + " & ".join(plain(e) for e in v) + r"\end{bmatrix}")


def column_tex(v: Sequence[Decimal]) -> Tex:
    """A column vector."""
    return Tex(r"\begin{bmatrix}" + r" \\ ".join(plain(e) for e in v) + r"\end{bmatrix}")


def matrix_tex(m: Sequence[Sequence[Decimal]], split: int | None = None) -> Tex:
    """A matrix; ``split`` draws a bar after that column (between h and x)."""
    n = len(m[0])
    cols = "r" * n if not split else "r" * split + "|" + "r" * (n - split)
    body = r" \\ ".join(" & ".join(plain(e) for e in row) for row in m)
    return Tex(rf"\left[\begin{{array}}{{{cols}}}{body}\end{{array}}\right]")


def _head(name: str) -> Tex:
    """A column heading: the symbol, or "bias added" as the lecture's tables say."""
    if name.startswith("a_"):
        return Tex(rf"bias added $+\,b_{{{name[2:]}}}$")
    return Tex(f"${QUANTITIES[name].tex}$")
