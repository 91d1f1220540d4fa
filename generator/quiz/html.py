"""A problem's text as HTML for an LMS (pure): its givens as tables, math as TeX between
``\\(`` and ``\\)``, which MathJax (Moodle's filter, Canvas's renderer) typesets.

Every text is escaped for HTML here (:func:`html.escape`); the TeX symbols come from the
notation (:data:`notation.QUANTITIES`), never from the user.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from decimal import Decimal

from lstm_exam.generator.core.notation import KINDS, QUANTITIES, describe_label, label_name
from lstm_exam.generator.core.numbers import normal, plain
from lstm_exam.generator.variants.variant import VariantProblem


def esc(text: str) -> str:
    """Text as HTML (quotes too: it may land in an attribute)."""
    return html.escape(text, quote=True)


def xml_text(text: str) -> str:
    """Text as XML character data: ``& < >`` escaped, as ``xml.sax.saxutils.escape``
    does (that module imports urllib's HTTP client: 20 ms of every start).

    >>> xml_text('<p>"a" & b</p>')
    '&lt;p&gt;"a" &amp; b&lt;/p&gt;'
    """
    return html.escape(text, quote=False)


@functools.lru_cache(maxsize=4096)
def tex(symbol: str) -> str:
    """Inline math for MathJax (the notation's few symbols, escaped once each)."""
    return esc(rf"\({symbol}\)")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], first: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in (first, *headers) if first or h != first)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="lstm-exam" border="1" cellpadding="4"><tr>{head}</tr>{body}</table>'


def _column(values: Sequence[Decimal]) -> list[str]:
    return [plain(v) for v in values]


def givens_html(variant_problem: VariantProblem) -> str:
    """The givens: the vectors side by side, each weight matrix beside its bias, the
    inputs of a sequence one row a step, the counts in a line."""
    p = variant_problem.problem
    vectors: list[tuple[str, list[str]]] = []
    parts: list[str] = []
    scalars: list[str] = []
    for name, shape in KINDS[p.kind].givens:
        value, sym = p.givens[name], QUANTITIES[name].tex
        if shape in ("HxZ", "KxH", "1xH"):
            b = f"b_{name[2:]}"
            cols = len(value[0])
            heads = [tex(sym + rf"[\cdot,{j}]") for j in range(1, cols + 1)]
            rows = [
                [str(r), *_column(row), plain(p.givens[b][r - 1])]
                for r, row in enumerate(value, start=1)
            ]
            parts.append(
                f"<p>{tex(sym)} and {tex(QUANTITIES[b].tex)}"
                + (
                    f" (the first {p.hidden} columns multiply {tex('h_{t-1}')}, the others"
                    f" {tex('x_t')})"
                    if shape == "HxZ"
                    else ""
                )
                + ":</p>"
                + _table([*heads, tex(QUANTITIES[b].tex)], rows, "row")
            )
        elif shape == "TxD":
            heads = [f"feature {j}" for j in range(1, len(value[0]) + 1)]
            rows = [[tex(f"x_{{{t}}}"), *_column(x)] for t, x in enumerate(value, start=1)]
            inputs = tex(r"x_1, \dots, x_T")
            parts.append(f"<p>The inputs {inputs}:</p>" + _table(heads, rows, "step"))
        elif shape == "N":
            scalars.append(tex(f"{sym} = {int(value[0])}"))
        elif shape == "1" and not name.startswith("b_"):
            scalars.append(tex(f"{sym} = {plain(value[0])}"))
        elif not name.startswith("b_"):
            vectors.append((name, _column(value)))
    out = []
    if scalars:
        out.append("<p>" + ", ".join(scalars) + "</p>")
    if vectors:
        n = max(len(c) for _, c in vectors)
        rows = [
            [str(r), *(c[r - 1] if r <= len(c) else "" for _, c in vectors)]
            for r in range(1, n + 1)
        ]
        out.append(_table([tex(QUANTITIES[nm].tex) for nm, _ in vectors], rows, "cell"))
    return "".join(out + parts)


def heading_html(variant_problem: VariantProblem, variant: str) -> str:
    """The problem's heading: its number, title, points and the variant."""
    title = KINDS[variant_problem.problem.kind].title
    return (
        f"<h4>Problem {variant_problem.number}: {esc(title)} ({esc(normal(variant_problem.points))} points)</h4>"
        f"<p>Variant {esc(variant)}. Round every intermediate to {variant_problem.problem.decimals} "
        "decimals, as the lecture's tables do, and compute on from the rounded values.</p>"
    )


@functools.lru_cache(maxsize=4096)
def blank_words(label: str) -> str:
    """What a blank asks, as HTML: the quantity's symbol and the label's words."""
    name = label_name(label)
    return (
        f"{tex(QUANTITIES[name].tex)} <small>({esc(label)}: {esc(describe_label(label))})</small>"
    )
