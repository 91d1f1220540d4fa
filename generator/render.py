"""The render stage: sheets and keys as LaTeX from Jinja2 templates, compiled by pdflatex.

The class is typeset in one pdflatex run per document (sheets and keys, in
parallel) and split into per-student PDFs with pikepdf, using the first page of
each student that the document itself logs (``<job>.pages``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pikepdf
from pylatex.utils import escape_latex

from .errors import InputError
from .formulas import KIND_FORMULAS, formula_tex
from .manifest import Manifest
from .notation import GATE_GRADIENTS, GATES, HEAD, KINDS, QUANTITIES, Kind, label_name, make_label
from .problem import Problem
from .variants import Variant, VariantProblem

#: The start of the note render_pdfs returns when TeX is missing.
TEX_MISSING = "pdflatex not found"
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures lmodern"
DOCUMENTS = {"sheets": "class-sheets", "keys": "class-key"}
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


def make_env(custom: Path | None = None) -> jinja2.Environment:
    """Jinja2 with LaTeX-safe delimiters, StrictUndefined and escape by default.

    Every printed value is escaped unless it is :class:`Tex`; the ``tex`` filter
    marks the output of a template macro as LaTeX (forgetting it shows escaped
    LaTeX on the page: it fails safe).

    A custom folder is searched first, so a copy may override any single template.
    """
    folders = [str(custom)] if custom else []
    folders.append(str(template_folder()))
    env = jinja2.Environment(
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


# --- numbers as LaTeX ------------------------------------------------------------


def num(d: Decimal | float, places: int | None = None) -> Tex:
    """A number in math mode with a true minus sign."""
    text = format(d, "f") if places is None else f"{Decimal(d):.{places}f}"
    return Tex(f"${text}$")


def _plain(d: Decimal) -> str:
    return format(d, "f")


def vector_tex(v: Sequence[Decimal]) -> Tex:
    """A row vector."""
    return Tex(r"\begin{bmatrix}" + " & ".join(_plain(e) for e in v) + r"\end{bmatrix}")


def column_tex(v: Sequence[Decimal]) -> Tex:
    """A column vector."""
    return Tex(r"\begin{bmatrix}" + r" \\ ".join(_plain(e) for e in v) + r"\end{bmatrix}")


def matrix_tex(m: Sequence[Sequence[Decimal]], split: int | None = None) -> Tex:
    """A matrix; ``split`` draws a bar after that column (between h and x)."""
    n = len(m[0])
    cols = "r" * n if not split else "r" * split + "|" + "r" * (n - split)
    body = r" \\ ".join(" & ".join(_plain(e) for e in row) for row in m)
    return Tex(rf"\left[\begin{{array}}{{{cols}}}{body}\end{{array}}\right]")


def _head(name: str) -> Tex:
    """A column heading: the symbol, or "bias added" as the lecture's tables say."""
    if name.startswith("a_"):
        return Tex(rf"bias added $+\,b_{{{name[2:]}}}$")
    return Tex(f"${QUANTITIES[name].tex}$")


# --- view models (pure) -------------------------------------------------------------


def _givens_view(vp: VariantProblem) -> list[Tex]:
    """The givens as display lines: the vectors together, each W beside its b."""
    p = vp.problem
    vectors, lines = [], []
    for name, shape in KINDS[p.kind].givens:
        value, sym = p.givens[name], QUANTITIES[name].tex
        if shape in ("HxZ", "KxH", "1xH"):  # a weight matrix beside its bias
            b = f"b_{name[2:]}"
            split = p.hidden if shape == "HxZ" else None  # the bar between h and x
            lines.append(
                Tex(
                    rf"{sym} = {matrix_tex(value, split)} \qquad "
                    rf"{QUANTITIES[b].tex} = {column_tex(p.givens[b])}"
                )
            )
        elif shape == "TxD":
            lines.append(
                Tex(
                    r",\quad ".join(
                        rf"x_{{{t}}} = {vector_tex(v)}" for t, v in enumerate(value, start=1)
                    )
                )
            )
        elif shape == "N":
            vectors.append(rf"{sym} = {int(value[0])}")
        elif shape == "1" and not name.startswith("b_"):
            vectors.append(rf"{sym} = {_plain(value[0])}")
        elif not name.startswith("b_"):
            vectors.append(rf"{sym} = {vector_tex(value)}")
    rows = [vectors[k : k + 3] for k in range(0, len(vectors), 3)]  # 3 vectors fit a line
    return [*(Tex(r"\qquad ".join(row)) for row in rows), *lines]


def _asked_names(vp: VariantProblem) -> list[str]:
    seen: dict[str, None] = {}
    for lab in vp.solution.asked:
        seen.setdefault(label_name(lab), None)
    return list(seen)


def _answer_tables(vp: VariantProblem, width: int = 6) -> list[dict[str, Any]]:
    p = vp.problem
    tables = []
    for t, names in p.blocks(_asked_names(vp)):
        for k in range(0, len(names), width):
            chunk = names[k : k + width]
            rows = [
                [escape_text(vp.label(make_label(n, c, p.step_of(n, t)))) for n in chunk]
                for c in range(1, p.cells(chunk[0]) + 1)
            ]
            tables.append(
                {
                    "caption": f"Step {t}" if t else "Output layer" if chunk[0] in HEAD else "",
                    "headers": [_head(n) for n in chunk],
                    "rows": rows,
                    "row_names": p.row_names(chunk[0]),
                }
            )
    return tables


def _asked_words(p: Problem, names: list[str]) -> str:
    def words(ns: list[str]) -> str:
        return ", ".join(f"${QUANTITIES[n].tex}$" for n in ns)

    per_cell = [n for n in names if n not in HEAD]
    head = [n for n in names if n in HEAD]
    if p.kind is Kind.PARAMETERS:
        return words(names) + " (whole numbers)."
    text = words(per_cell) + " for every cell"
    if KINDS[p.kind].stepped:
        text += f" at each of the {p.steps} steps"
    if head:
        text += "; then " + words(head) + " of the output layer"
    return text + "."


def _problem_view(vp: VariantProblem) -> dict[str, Any]:
    p = vp.problem
    return {
        "number": vp.number,
        "title": KINDS[p.kind].title,
        "points": _plain(vp.points.normalize()),
        "formulas": [Tex(formula_tex(f)) for f in KIND_FORMULAS[p.kind]],
        "diagram": Tex(_diagram_box(p.kind)),
        "network": p.kind in NETWORK_KINDS,
        "givens": _givens_view(vp),
        "asked_words": Tex(_asked_words(p, _asked_names(vp))),
        "intro": _INTRO.get(p.kind, ""),
        "answer_tables": _answer_tables(vp),
    }


#: Kinds drawn as a network rather than as the cell.
NETWORK_KINDS = (Kind.PARAMETERS, Kind.CLASSIFICATION, Kind.REGRESSION)

_INTRO = {
    Kind.PARAMETERS: (
        "A Keras model reads sequences of T steps of D features: an LSTM layer with H units, "
        "then a Dense layer with K outputs and softmax (sequence classification). A video "
        "classifier feeds the F features a CNN computes from each frame into the same kind of "
        "LSTM(H) and Dense(K). Count the trainable parameters as Keras does (one bias per "
        "gate), and give the output shapes without the batch dimension."
    ),
    Kind.CLASSIFICATION: Tex(
        r"The sequence $x_1, \dots, x_T$ runs through the LSTM cell from $h_0$ and $C_0$. "
        r"A dense layer reads the last hidden state $h_T$ and gives one logit $\ell_k$ per "
        r"class; softmax turns the logits into probabilities $p_k$, and the predicted class "
        r"$\hat{k}$ is the likeliest one, numbered from 1. Round the logits before softmax."
    ),
    Kind.REGRESSION: Tex(
        r"The sequence $x_1, \dots, x_T$ runs through the LSTM cell from $h_0$ and $C_0$. "
        r"A dense layer with one linear output reads the last hidden state $h_T$ and predicts "
        r"$\hat{y}$; the loss is the squared error $(\hat{y} - y)^2$ against the target $y$."
    ),
    Kind.BACKWARD_STEP: Tex(
        r"First run the step forwards with the lecture's formulas, "
        r"$f_t = \sigma(W_f \cdot z + b_f)$ and so on, $z = [h_{t-1}, x_t]$. Then send the "
        r"gradients back through it with the chain rule. $\partial q$ stands for "
        r"$\partial L / \partial q$; $\partial h_t$ comes from the layer above and "
        r"$\partial C_t^{\,\mathrm{next}}$ from step $t+1$. $W_g^{h}$ are the first $H$ "
        r"columns of $W_g$ (the ones that multiply $h_{t-1}$)."
    ),
}


def _diagram_box(kind: Kind) -> str:
    return "\\diag" + "".join(w.capitalize() for w in str(kind).split("_"))


#: The key's tables: title, columns, and what the first row's written-out sum is.
_KEY_TABLES: dict[str, tuple[str | Tex, tuple[str, ...], str | None]] = {
    **{
        letter: (
            Tex(f"{QUANTITIES[act].words.rsplit(' ', 1)[0].capitalize()} ${QUANTITIES[act].tex}$"),
            (f"Wz_{letter}", f"a_{letter}", act),
            letter,
        )
        for letter, act, _ in GATES
    },
    "cell": ("Cell state", ("f_t", "C_prev", "fC", "i_t", "C_tilde", "iC", "C_t"), None),
    "out": ("Hidden state", ("o_t", "C_t", "tanh_C", "h_t"), None),
    "params": ("Counts and shapes", KINDS[Kind.PARAMETERS].order, None),
    "softmax": ("Dense layer and softmax", ("logit", "prob"), "head"),
    "class": ("Predicted class", ("class",), None),
    "linear": ("Dense layer and squared error", ("y_hat", "y", "sq_error"), "head"),
    "through_h": (
        Tex("Through $h_t$ into $C_t$"),
        ("dh_t", "tanh_C", "do_t", "o_t", "dC_next", "dC_t"),
        "through_h",
    ),
    "gates": ("Gates", ("dC_t", "C_prev", "df_t", "C_tilde", "di_t", "i_t", "dC_tilde"), "gates"),
    "pre": (
        "Pre-activations",
        ("f_t", "da_f", "i_t", "da_i", "C_tilde", "da_C", "o_t", "da_o"),
        "pre",
    ),
    "back": ("To the previous step", ("dC_t", "f_t", "dC_prev", "dh_prev"), "back"),
}
_CELL_TABLES = ("f", "i", "C", "cell", "o", "out")
#: Per kind: the tables of each step, then those of the output layer or of the way back.
_KIND_TABLES: dict[Kind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Kind.FORGET_GATE: (("f",), ()),
    Kind.INPUT_GATE: (("i", "C"), ()),
    Kind.CELL_STATE: (("cell",), ()),
    Kind.OUTPUT_GATE: (("o", "out"), ()),
    Kind.CELL_STEP: (_CELL_TABLES, ()),
    Kind.SEQUENCE: (_CELL_TABLES, ()),
    Kind.CLASSIFICATION: (_CELL_TABLES, ("softmax", "class")),
    Kind.REGRESSION: (_CELL_TABLES, ("linear",)),
    Kind.BACKWARD_STEP: (_CELL_TABLES, ("through_h", "gates", "pre", "back")),
    Kind.PARAMETERS: (("params",), ()),
}


def _line(lhs: str, parts: Sequence[str], exact: Decimal, key: Decimal) -> Tex:
    """``lhs = the rule = the numbers = exact ≈ the key``: one worked line of the key."""
    return Tex(" = ".join([lhs, *parts, _plain(exact)]) + rf" \approx {_plain(key)}")


def _n(d: Decimal) -> str:
    return f"({_plain(d)})"


def _products(pairs: Sequence[tuple[Decimal, Decimal]], start: Decimal) -> tuple[str, Decimal]:
    """Σ w·x written term by term, and its exact value (from ``start``)."""
    text = " + ".join(f"{_n(w)}{_n(x)}" for w, x in pairs)
    return text, sum((w * x for w, x in pairs), start)


def _written_out(
    what: str | None, p: Problem, value: Callable[[str, int], Decimal], z: list[Decimal] | None
) -> list[Tex]:
    """The first row worked out with its numbers, as the lecture does."""
    one = Decimal(1)

    def v(name: str) -> Decimal:
        return value(name, 1)

    def product(lhs: str, rule: str, names: tuple[str, ...], key: str) -> Tex:
        factors = [v(n) for n in names]
        exact = one
        for f in factors:
            exact *= f
        return _line(lhs, [rule, "".join(_n(f) for f in factors)], exact, v(key))

    if what == "head":
        b = p.givens["b_y"][0]
        h = [value("h_t", c) for c in range(1, p.hidden + 1)]
        terms, exact = _products(list(zip(p.givens["W_y"][0], h, strict=True)), b)
        first = "logit" if "logit" in KINDS[p.kind].order else "y_hat"
        rule = r"W_y[1] \cdot h_T + b_y[1]"
        return [_line(f"{QUANTITIES[first].tex}[1]", [rule, f"{terms} + {_n(b)}"], exact, v(first))]
    if what == "through_h":
        dh, o, tC, nxt = v("dh_t"), v("o_t"), v("tanh_C"), v("dC_next")
        rule = r"\partial C_t^{\,\mathrm{next}} + \partial h_t \ast o_t \ast (1 - \tanh^2(C_t))"
        return [
            product(
                r"\partial o_t[1]", r"\partial h_t \ast \tanh(C_t)", ("dh_t", "tanh_C"), "do_t"
            ),
            _line(
                r"\partial C_t[1]",
                [rule, rf"{_n(nxt)} + {_n(dh)}{_n(o)}(1 - {_n(tC)}^2)"],
                nxt + dh * o * (one - tC * tC),
                v("dC_t"),
            ),
        ]
    if what == "gates":
        return [
            product(r"\partial f_t[1]", r"\partial C_t \ast C_{t-1}", ("dC_t", "C_prev"), "df_t"),
            product(
                r"\partial i_t[1]", r"\partial C_t \ast \tilde{C}_t", ("dC_t", "C_tilde"), "di_t"
            ),
            product(
                r"\partial \tilde{C}_t[1]", r"\partial C_t \ast i_t", ("dC_t", "i_t"), "dC_tilde"
            ),
        ]
    if what == "pre":
        lines = []
        for g, grad, act in GATE_GRADIENTS:
            d, a, gate = v(grad), v(act), QUANTITIES[act].tex
            if act == "C_tilde":  # tanh' = 1 - tanh²
                slope, filled, exact = rf"(1 - {gate}^2)", f"(1 - {_n(a)}^2)", d * (one - a * a)
            else:  # σ' = σ(1 - σ)
                slope, filled, exact = (
                    rf"{gate} \ast (1 - {gate})",
                    f"{_n(a)}(1 - {_n(a)})",
                    d * a * (one - a),
                )
            rule = rf"{QUANTITIES[grad].tex} \ast {slope}"
            lines.append(_line(rf"\partial a_{g}[1]", [rule, _n(d) + filled], exact, v(f"da_{g}")))
        return lines
    if what == "back":
        pairs = [
            (p.givens[f"W_{g}"][c - 1][0], value(f"da_{g}", c))
            for g in "fiCo"
            for c in range(1, p.hidden + 1)
        ]
        terms, exact = _products(pairs, Decimal(0))
        rule = r"\sum_g \sum_c W_g[c][1]\, \partial a_g[c]"
        return [
            _line(r"\partial h_{t-1}[1]", [rule, terms], exact, v("dh_prev")),
            product(r"\partial C_{t-1}[1]", r"\partial C_t \ast f_t", ("dC_t", "f_t"), "dC_prev"),
        ]
    if what and z is not None:  # a gate's W·z
        terms, exact = _products(list(zip(p.givens[f"W_{what}"][0], z, strict=True)), Decimal(0))
        return [_line(rf"W_{{{what}}}[1] \cdot z", [terms], exact, v(f"Wz_{what}"))]
    return []


def _key_steps(vp: VariantProblem) -> list[dict[str, Any]]:
    p, sol = vp.problem, vp.solution
    asked = set(sol.asked)
    step_tables, after = _KIND_TABLES[p.kind]
    last = p.step_numbers[-1]
    blocks = [(t, step_tables, f"Step {t}" if t else "") for t in p.step_numbers]
    if after:
        title = "Backwards through the step" if p.kind is Kind.BACKWARD_STEP else "Output layer"
        blocks.append((last, after, title))
    steps = []
    for t, keys, heading in blocks:

        def value(name: str, cell: int, t: int | None = t) -> Decimal:
            label = make_label(name, cell, p.step_of(name, t))
            if label in sol.values:
                return sol.values[label].rounded
            if t and t > 1 and name in ("h_prev", "C_prev"):
                return sol.values[f"t{t - 1}.{name[0]}_t[{cell}]"].rounded
            given = {"h_prev": "h_0", "C_prev": "C_0"}.get(name, name) if t else name
            if name == "x" and t:
                return p.givens["xs"][t - 1][cell - 1]
            return p.givens[given][cell - 1]

        z = None
        if keys is step_tables and ("x" in p.givens or "xs" in p.givens):
            D = p.inputs or 0
            z = [value("h_prev", c) for c in range(1, p.hidden + 1)] + [
                value("x", c) for c in range(1, D + 1)
            ]
        tables = []
        for key in keys:
            title, cols, what = _KEY_TABLES[key]
            rows = []
            for c in range(1, p.cells(cols[-1]) + 1):
                row = []
                for n in cols:
                    cell_tex = num(value(n, c))
                    if make_label(n, c, p.step_of(n, t)) in asked:
                        cell_tex = Tex(r"\textbf{" + cell_tex + "}")
                    row.append(cell_tex)
                rows.append(row)
            tables.append(
                {
                    "title": title,
                    "headers": [_head(n) for n in cols],
                    "rows": rows,
                    "row_names": p.row_names(cols[-1]),
                    "dots": _written_out(what, p, value, z),
                }
            )
        steps.append(
            {
                "heading": heading,
                "z": vector_tex(z) if z else None,
                "tables": tables,
            }
        )
    return steps


def _accept_view(m: Manifest, vp: VariantProblem) -> list[tuple[dict, dict | None]]:
    items = []
    for lab in vp.solution.asked:
        val = vp.solution.values[lab]
        lo, hi = m.bounds(val)
        items.append(
            {
                "label": escape_text(vp.label(lab)),
                "key": num(val.rounded),
                "range": Tex(f"$[{_plain(lo)},\\ {_plain(hi)}]$"),
            }
        )
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:]
    return [(a, right[k] if k < len(right) else None) for k, a in enumerate(left)]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The LaTeX of the class documents and what to warn about."""

    tex: Mapping[str, str]
    """Document name (``class-sheets``, ``class-key``) to LaTeX."""
    warnings: tuple[str, ...]


def student_view(v: Variant) -> tuple[dict[str, Any], list[str]]:
    """The student part of the view, and warnings about unprintable names."""
    warnings = []
    bad = unsupported(v.student.name)
    if bad:
        warnings.append(
            f"student {v.student.student_id}: the PDF fonts lack {bad!r} in the name "
            f"{v.student.name!r}; printed as '?'"
        )
    return {
        "id_raw": Tex(v.student.student_id),
        "id": v.student.student_id,
        "name": v.student.name,
        "code": v.code,
    }, warnings


def render_tex(m: Manifest, templates: Path | None = None) -> Rendered:
    """The class sheets and class key as LaTeX (pure: no files)."""
    env = make_env(templates)
    kinds = sorted({vp.problem.kind for v in m.variants for vp in v.problems})
    common = {
        "course": m.course,
        "title": m.title,
        "decimals": m.decimals,
        "tolerance_words": m.tolerance.words(),
        "counts_only": kinds == [Kind.PARAMETERS],
        "diagrams": {str(k): Tex(_diagram_box(k)) for k in kinds},
        "network_kinds": [str(k) for k in NETWORK_KINDS],
    }
    sheets, keys, warnings = [], [], []
    for v in m.variants:
        s, warn = student_view(v)
        warnings += warn
        views = [_problem_view(vp) for vp in v.problems]
        sheets.append((s, views))
        keys.append(
            (
                s,
                [
                    {**view, "steps": _key_steps(vp), "accept_pairs": _accept_view(m, vp)}
                    for view, vp in zip(views, v.problems, strict=True)
                ],
            )
        )
    try:
        tex = {
            DOCUMENTS["sheets"]: env.get_template("sheets.tex.j2").render(common, students=sheets),
            DOCUMENTS["keys"]: env.get_template("keys.tex.j2").render(common, students=keys),
        }
    except jinja2.TemplateSyntaxError as e:
        raise InputError(
            e.filename or e.name or "template", f"line {e.lineno}", e.message or "syntax error"
        ) from None
    except jinja2.TemplateNotFound as e:
        raise InputError(
            str(templates or template_folder()), "", f"template {e.name} not found"
        ) from None
    except jinja2.UndefinedError as e:
        raise InputError(
            str(templates or template_folder()), "", f"template error: {e.message}"
        ) from None
    return Rendered(tex, tuple(warnings))


# --- compiling ---------------------------------------------------------------------


class TexError(InputError):
    """pdflatex failed: names the template, the line and the relevant log lines."""


def pdflatex() -> str | None:
    """The pdflatex program, or None when TeX is not installed."""
    return shutil.which("pdflatex")


def _start_pdflatex(tex_file: Path) -> subprocess.Popen:
    """Start pdflatex once on a file (no shell escape), in its folder."""
    exe = pdflatex()
    if exe is None:
        raise FileNotFoundError("pdflatex")
    env = {**os.environ, "openout_any": "p", "shell_escape": "f"}
    cmd = [
        exe,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        "-file-line-error",
        tex_file.name,
    ]
    # the log file holds everything: a pipe nobody reads would fill and stall TeX
    return subprocess.Popen(
        cmd,
        cwd=tex_file.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _finish_pdflatex(proc: subprocess.Popen, tex_file: Path, templates: Path | None) -> Path:
    proc.wait()
    pdf = tex_file.with_suffix(".pdf")
    if proc.returncode != 0 or not pdf.exists():
        log = tex_file.with_suffix(".log")
        text = log.read_text("utf-8", errors="replace") if log.exists() else "no log written"
        raise _tex_error(tex_file, text, templates)
    return pdf


def _tex_error(tex_file: Path, log: str, templates: Path | None) -> TexError:
    lines = log.splitlines()
    idx = next(
        (k for k, ln in enumerate(lines) if ln.startswith("!") or re.match(r"^\S+:\d+: ", ln)), None
    )
    excerpt = lines[idx : idx + 4] if idx is not None else lines[-5:]
    m = re.search(r"^(\S+?):(\d+): |^l\.(\d+)", "\n".join(lines[idx or 0 :]), re.M)
    where = ""
    if m and m.group(1) and Path(m.group(1)).name != tex_file.name:
        where = f"{m.group(1)}: line {m.group(2)}"  # in a file a template read, not ours
    elif m:
        n = int(m.group(2) or m.group(3))
        src = tex_file.read_text("utf-8").splitlines()
        bad_line = src[n - 1] if 0 < n <= len(src) else ""
        where = _find_template_line(bad_line, templates)
    detail = " | ".join(s.strip() for s in excerpt if s.strip())
    return TexError(where or str(tex_file), "", f"LaTeX error: {detail}")


def _find_template_line(tex_line: str, templates: Path | None) -> str:
    """The template line that most probably produced ``tex_line``."""
    tokens = set(re.findall(r"\\[A-Za-z]+|[A-Za-z]{4,}", tex_line))
    if not tokens:
        return ""
    best, best_score = "", 0
    folders = ([templates] if templates else []) + [template_folder()]
    for folder in folders:
        for path in sorted(folder.glob("*.j2")):
            for k, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                score = sum(1 for t in tokens if t in line)
                if score > best_score:
                    best, best_score = f"{path}: line {k}", score
    return best


def _page_starts(log: Path) -> list[tuple[str, int]]:
    out = []
    for line in log.read_text("utf-8").splitlines():
        sid, _, page = line.strip().rpartition(" ")
        if sid:
            out.append((sid, int(page)))
    return out


def page_ranges(pages_log: Path, total: int) -> list[tuple[str, int, int]]:
    """(student id, first page, last page), 1-based, from the document's own log."""
    starts = _page_starts(pages_log)
    return [
        (sid, first, starts[k + 1][1] - 1 if k + 1 < len(starts) else total)
        for k, (sid, first) in enumerate(starts)
    ]


def split_pdf(
    pdf: Path,
    ranges: Sequence[tuple[str, int, int]],
    folder: Path,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Write ``folder/<student_id>.pdf`` for each page range of a class PDF.

    pikepdf (qpdf) copies the pages with their fonts; it is several times faster
    than a pure-Python split on a class of hundreds of pages.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with pikepdf.open(pdf) as whole:
        for sid, first, last in ranges:
            with pikepdf.new() as part:
                part.pages.extend(whole.pages[first - 1 : last])
                part.save(folder / f"{sid}.pdf")
            if tick:
                tick(1)
    return len(ranges)


def page_count(pdf: Path) -> int:
    """The number of pages of a PDF."""
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def render_pdfs(
    m: Manifest,
    folder: Path,
    templates: Path | None = None,
    tick: Callable[[int], None] | None = None,
) -> list[str]:
    """Write tex/, the class PDFs and per-student PDFs into ``folder``.

    Both documents are typeset at once; each is split into per-student PDFs
    as soon as it is done, while the other may still be typesetting. Returns notes for the user (unprintable names; TeX missing).
    Without TeX the LaTeX sources are still written and one note names the packages.
    """
    templates = templates or (Path(m.templates) if m.templates else None)
    rendered = render_tex(m, templates)
    notes = list(rendered.warnings)
    texdir = folder / "tex"
    texdir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.tex.items():
        (texdir / f"{name}.tex").write_text(text, encoding="utf-8")
    if pdflatex() is None:
        notes.append(
            f"{TEX_MISSING}: PDFs skipped (everything else is written). "
            f"Install TeX Live: sudo apt-get install {TEX_PACKAGES}"
        )
        return notes
    kinds = {name: kind for kind, name in DOCUMENTS.items()}
    running = {name: _start_pdflatex(texdir / f"{name}.tex") for name in rendered.tex}
    try:
        while running:  # split each document as soon as it is typeset
            name = _wait_any(running)
            pdf = _finish_pdflatex(running.pop(name), texdir / f"{name}.tex", templates)
            shutil.copyfile(pdf, folder / f"{name}.pdf")
            ranges = page_ranges(pdf.with_suffix(".pages"), page_count(pdf))
            split_pdf(pdf, ranges, folder / kinds[name], tick)
    finally:
        for p in running.values():
            p.kill()
    for leftover in texdir.iterdir():
        if leftover.suffix != ".tex":
            leftover.unlink()
    return notes


def _wait_any(running: Mapping[str, subprocess.Popen]) -> str:
    """Block until one of the running processes ends; its name."""
    while True:
        for name, p in running.items():
            try:
                p.wait(timeout=0.05)
                return name
            except subprocess.TimeoutExpired:
                continue


def rerender(
    folder: Path,
    m: Manifest,
    templates: Path | None = None,
    tick: Callable[[int], None] | None = None,
) -> list[str]:
    """Rebuild the PDFs of a worksheet folder from its (loaded) manifest, all or nothing."""
    stage = Path(tempfile.mkdtemp(prefix=".render-", dir=folder))
    try:
        notes = render_pdfs(m, stage, templates, tick)
        for name in ("tex", "sheets", "keys"):
            src = stage / name
            if not src.exists():
                continue
            dst = folder / name
            dst.mkdir(exist_ok=True)
            for f in src.iterdir():
                os.replace(f, dst / f.name)
        for name in DOCUMENTS.values():
            if (stage / f"{name}.pdf").exists():
                os.replace(stage / f"{name}.pdf", folder / f"{name}.pdf")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return notes
