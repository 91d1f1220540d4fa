"""The practice site: one static page per variant that checks answers as ``grade`` does.

:func:`practice_files` returns the site as ``{relative path: bytes}``: ``index.html``
listing the variants, ``v001.html`` ... (one a variant), and the shared ``practice.js``
and ``practice.css``. Each page holds its data as JSON in a
``<script type="application/json">`` block: the givens, the accepted range of every
asked answer, which answer feeds which (for error carried forward), every misconception
that applies (its step, gate, the quantities it shows in first, its sentence for each
quantity) and the rounding slips, all taken from the registry and the manifest that
``grade`` reads, with the misconceptions' formulas (``misconceptions``: the registry's
expression form as JSON, :func:`formula_table`). ``practice.js`` holds the evaluator's
right formulas (both chains), one interpreter of those formulas beside the three
structural misconceptions, and ``grade``'s compare, carry-forward, diagnose and score,
written in parts under ``page/`` that :func:`page_script` joins into the one file;
nothing is fetched, so the site works from ``file://``. See docs/practice.md.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from lstm_exam.generator.core.defaults import ANSWER_DIGITS, ANSWER_PLACES, DECIMAL_PRECISION
from lstm_exam.generator.core.formulas import as_json
from lstm_exam.generator.core.misconceptions import (
    ROUNDING_SLIPS,
    Misconception,
    applicable_slips,
    explain,
    gate_of,
    slip_targets,
)
from lstm_exam.generator.core.notation import (
    GATE_GRADIENTS,
    GATES,
    HEAD,
    KINDS,
    QUANTITIES,
    describe_label,
    is_whole,
    label_name,
)
from lstm_exam.generator.core.numbers import normal, plain, plain_tree
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant, VariantProblem

#: The shared files of the site: ``practice.css`` is shipped beside this module,
#: ``practice.js`` is joined from :data:`SCRIPT_PARTS` (:func:`page_script`).
ASSETS = ("practice.js", "practice.css")
#: The parts of ``practice.js`` under ``page/``, in the order they are joined: one
#: function scope, opened in ``head.js`` and closed at the end of ``main.js``.
SCRIPT_PARTS = (
    "head.js",
    "decimal.js",
    "chains.js",
    "evaluate.js",
    "reading.js",
    "grade.js",
    "main.js",
)


def page_script() -> bytes:
    """The site's ``practice.js``: the parts of ``page/``, joined in :data:`SCRIPT_PARTS`' order."""
    folder = resources.files(__package__).joinpath("page")
    return b"".join(folder.joinpath(name).read_bytes() for name in SCRIPT_PARTS)


def practice_files(manifest: Manifest, variants: Sequence[Variant]) -> dict[str, bytes]:
    """The practice site of ``variants``: ``{relative path: bytes}``."""
    here = resources.files(__package__)
    files = {
        name: page_script() if name == "practice.js" else here.joinpath(name).read_bytes()
        for name in ASSETS
    }
    names = page_names(len(variants))
    for name, v in zip(names, variants, strict=True):
        files[name] = page(manifest, v).encode()
    files["index.html"] = index(manifest, variants, names).encode()
    return files


def page_names(count: int) -> list[str]:
    """The pages' file names: ``v001.html`` ..., wider for a class of 1000 or more."""
    width = max(3, len(str(count)))
    return [f"v{k:0{width}d}.html" for k in range(1, count + 1)]


# --- the data a page checks with ------------------------------------------------------


def formula_table(names: Sequence[str]) -> dict[str, list[list[Any]]]:
    """The formulas of the misconceptions ``names``, for the page's interpreter:
    ``{name: [[quantity, its gate or None, expression], ...]}`` (the structural ones have
    none: practice.js names them)."""
    return {
        name: [
            [f.quantity, gate_of(f.quantity), as_json(f.expr)]
            for f in Misconception[name].value.formulas
        ]
        for name in names
    }


def notation() -> dict[str, Any]:
    """What the page's evaluator reads of core/notation.py."""
    return {
        "gates": [list(g) for g in GATES],
        "gate_gradients": [list(g) for g in GATE_GRADIENTS],
        "head": sorted(HEAD),
        "kinds": {
            str(k): {"order": list(info.order), "stepped": info.stepped}
            for k, info in KINDS.items()
        },
    }


def problem_data(manifest: Manifest, variant_problem: VariantProblem) -> dict[str, Any]:
    """One problem as its page checks it: as ``compare``, ``carry_forward`` and
    ``diagnose`` of graders/grade.py see it."""
    p, sol = variant_problem.problem, variant_problem.solution
    asked = list(sol.asked)
    stored = variant_problem.accept or {}
    accept = {}
    for lab in asked:
        lo, hi = stored.get(lab) or manifest.bounds(lab, sol.values[lab])
        accept[lab] = [plain(lo), plain(hi)]
    asked_set = set(asked)
    names = sorted({label_name(lab) for lab in asked})
    sentences: list[str] = []
    index_of: dict[str, int] = {}

    def sentence(text: str) -> int:
        if text not in index_of:
            index_of[text] = len(sentences)
            sentences.append(text)
        return index_of[text]

    slips = [
        {
            "twist": tw.name,
            "step": t,
            "gate": gate,
            "targets": sorted(slip_targets(p.kind, p.show_steps, tw, gate)),
            "explain": {n: sentence(explain(tw, n, gate)) for n in names},
        }
        for tw, t, gate in applicable_slips(p)
    ]
    return {
        "number": variant_problem.number,
        "kind": str(p.kind),
        "points": plain(variant_problem.points),
        "decimals": sol.decimals,
        "givens": {k: plain_tree(g) for k, g in p.givens.items()},
        "asked": asked,
        "whole": {lab: is_whole(lab) for lab in asked},
        "accept": accept,
        "upstream": {lab: [u for u in p.upstream(lab) if u in asked_set] for lab in asked},
        "slips": slips,
        "sentences": sentences,
        "rounding": [
            {
                "id": r.id,
                "truncate": r.truncate,
                "decimals": r.decimals or sol.decimals,
                "feedback": r.feedback.format(d=sol.decimals),
            }
            for r in ROUNDING_SLIPS
        ],
    }


def page_data(manifest: Manifest, variant: Variant) -> dict[str, Any]:
    """Everything the page of variant ``variant`` checks with."""
    problems = [problem_data(manifest, vp) for vp in variant.problems]
    return {
        "variant": variant.code,
        "tolerance": {"mode": manifest.tolerance.mode, "amount": plain(manifest.tolerance.amount)},
        "carry_forward": plain(manifest.carry_forward),
        "limits": {
            "precision": DECIMAL_PRECISION,
            "answer_digits": ANSWER_DIGITS,
            "answer_places": ANSWER_PLACES,
        },
        "notation": notation(),
        "problems": problems,
        "misconceptions": formula_table(sorted({s["twist"] for p in problems for s in p["slips"]})),
    }


def script_json(doc: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` at all."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the pages ---------------------------------------------------------------------------

_e = html.escape


def symbol(text: str) -> str:
    """A name or words of the notation as HTML: escaped, ``_x``/``_{t-1}`` as subscripts,
    ``-`` as a minus sign, ``C~`` as C̃.

    >>> symbol("h_{t-1}"), symbol("W_f·z + b_f"), symbol("<b>")
    ('h<sub>t−1</sub>', 'W<sub>f</sub>·z + b<sub>f</sub>', '&lt;b&gt;')
    """
    out = _e(text).replace("C~", "C\u0303")
    out = re.sub(r"_\{([^}<]*)\}", lambda g: f"<sub>{g[1].replace('-', '−')}</sub>", out)
    return re.sub(r"_([A-Za-z0-9]+)", r"<sub>\1</sub>", out)


def _given_html(name: str, value: Any) -> str:
    words = QUANTITIES[name].words if name in QUANTITIES else name
    caption = f"<caption>{symbol(words)}</caption>"
    if value and isinstance(value[0], (list, tuple)):
        rows = "".join(
            "<tr>" + "".join(f"<td>{_num(c)}</td>" for c in row) + "</tr>" for row in value
        )
        cls = "matrix"
    else:
        rows = "<tr>" + "".join(f"<td>{_num(c)}</td>" for c in value) + "</tr>"
        cls = "vector"
    return f'<table class="given {cls}" data-given="{_e(name)}">{caption}{rows}</table>'


def _num(value: Decimal) -> str:
    return _e(plain(value).replace("-", "−"))


def _problem_html(variant_problem: VariantProblem) -> str:
    p = variant_problem.problem
    info = KINDS[p.kind]
    points = normal(variant_problem.points)
    parts = [
        f'<section class="problem" id="q{variant_problem.number}">',
        f"<h2>Problem {variant_problem.number}: {_e(info.title)} "
        f'<span class="points">({_e(points)} point{"" if points == "1" else "s"}; '
        f"{_e(_places(variant_problem.solution.decimals))})</span></h2>",
        '<div class="givens">',
        *(_given_html(name, p.givens[name]) for name, _ in info.givens if name in p.givens),
        "</div>",
        '<table class="answers"><thead><tr><th>label</th><th>quantity</th><th>your answer</th>'
        "<th>verdict</th><th>why</th></tr></thead><tbody>",
    ]
    for lab in variant_problem.solution.asked:
        q = variant_problem.label(lab)
        parts.append(
            f'<tr data-label="{_e(q)}"><td><code>{_e(q)}</code></td>'
            f"<td>{symbol(describe_label(q))}</td>"
            f'<td><input type="text" inputmode="decimal" data-label="{_e(q)}" '
            f'aria-label="{_e(q)}" maxlength="60" spellcheck="false"></td>'
            '<td class="verdict"></td><td class="reason"></td></tr>'
        )
    parts += [
        "</tbody></table>",
        f'<p class="score" data-problem="{variant_problem.number}"></p>',
        "</section>",
    ]
    return "\n".join(parts)


def _places(decimals: int) -> str:
    if decimals == 0:
        return "whole numbers"
    return f"answers to {decimals} decimal place{'' if decimals == 1 else 's'}"


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n"
        '<link rel="stylesheet" href="practice.css">\n</head>\n'
    )


def page(manifest: Manifest, variant: Variant) -> str:
    """The practice page of one variant."""
    return (
        _head(f"{manifest.title}: practice, variant {variant.code}")
        + "<body>\n<main>\n"
        + f"<h1>{_e(manifest.title)}</h1>\n"
        + f'<p class="course">{_e(manifest.course)} · practice · variant <strong>{_e(variant.code)}</strong></p>\n'
        + '<p class="rule">Round each answer to the places its problem asks, with a decimal '
        + "point or a decimal comma. An answer counts as correct when it lies "
        + f"{_e(manifest.tolerance.words())} (a whole number only exactly). <em>Check</em> marks "
        + "each answer as <code>lstm-exam grade</code> would: an answer that follows from "
        + "your own earlier wrong answers is carried forward, and a usual mistake is "
        + "named.</p>\n"
        + '<form id="practice" autocomplete="off">\n'
        + "\n".join(_problem_html(vp) for vp in variant.problems)
        + '\n<p class="actions"><button type="submit" id="check">Check</button> '
        + '<span id="total"></span> <span id="status" role="status"></span></p>\n'
        + "</form>\n"
        + '<p class="note">This page holds the accepted ranges of its answers: it is for '
        + "practice, not for an exam.</p>\n"
        + "</main>\n"
        + f'<script type="application/json" id="practice-data">{script_json(page_data(manifest, variant))}</script>\n'
        + '<script src="practice.js"></script>\n</body>\n</html>\n'
    )


def index(manifest: Manifest, variants: Sequence[Variant], names: Sequence[str]) -> str:
    """The site's first page: every variant, by its code."""
    items = "\n".join(
        f'<li><a href="{_e(name)}">Variant {k}: <strong>{_e(v.code)}</strong></a></li>'
        for k, (name, v) in enumerate(zip(names, variants, strict=True), start=1)
    )
    return (
        _head(f"{manifest.title}: practice")
        + "<body>\n<main>\n"
        + f'<h1>{_e(manifest.title)}</h1>\n<p class="course">{_e(manifest.course)} · practice</p>\n'
        + "<p>Open the page of your variant (its code is on your sheet), type your answers "
        + "and press <em>Check</em>.</p>\n"
        + f'<ol class="variants">\n{items}\n</ol>\n</main>\n</body>\n</html>\n'
    )
