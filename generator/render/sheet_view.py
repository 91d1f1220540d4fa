"""The sheet's view of a problem: givens, formulas, what is asked, answer tables (pure)."""

from __future__ import annotations

import re
from typing import Any

from lstm_exam.generator.core.notation import (
    HEAD,
    KINDS,
    QUANTITIES,
    Kind,
    label_name,
    make_label,
)
from lstm_exam.generator.core.numbers import normal, plain
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.render.formulas import KIND_FORMULAS, formula_tex
from lstm_exam.generator.render.latex import (
    Tex,
    column_head,
    column_tex,
    escape_text,
    matrix_tex,
    unsupported,
    vector_tex,
)
from lstm_exam.generator.render.scripts import printed
from lstm_exam.generator.variants.variant import Variant, VariantProblem


def _givens_view(variant_problem: VariantProblem) -> list[Tex]:
    """The givens as display lines: the vectors together, each W beside its b."""
    p = variant_problem.problem
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
            vectors.append(rf"{sym} = {plain(value[0])}")
        elif not name.startswith("b_"):
            vectors.append(rf"{sym} = {vector_tex(value)}")
    rows = [vectors[k : k + 3] for k in range(0, len(vectors), 3)]  # 3 vectors fit a line
    return [*(Tex(r"\qquad ".join(row)) for row in rows), *lines]


def _asked_names(variant_problem: VariantProblem) -> list[str]:
    seen: dict[str, None] = {}
    for lab in variant_problem.solution.asked:
        seen.setdefault(label_name(lab), None)
    return list(seen)


_FIELD_NAME = re.compile(r"[A-Za-z0-9_.\[\]]+")


class AnswerBox(Tex):
    """One answer box: printed, its label as LaTeX (as a template written before the forms
    prints it, ``((( lab )))``); ``label`` the same, ``field`` the name of its form field."""

    __slots__ = ("field", "label")
    field: Tex
    label: Tex

    def __new__(cls, label: str) -> AnswerBox:
        if not _FIELD_NAME.fullmatch(label):
            raise ValueError(f"not an answer label: {label!r}")
        shown = escape_text(label)
        box = super().__new__(cls, shown)
        box.label = Tex(shown)
        # the field is named by the label itself (``q1.f_t[2]``), written as the hex
        # digits of a PDF string: no character of it reaches TeX
        box.field = Tex(label.encode().hex())
        return box


def _answer_tables(variant_problem: VariantProblem, width: int = 6) -> list[dict[str, Any]]:
    p = variant_problem.problem
    tables = []
    for t, names in p.blocks(_asked_names(variant_problem)):
        for k in range(0, len(names), width):
            chunk = names[k : k + width]
            rows = [
                [AnswerBox(variant_problem.label(make_label(n, c, p.step_of(n, t)))) for n in chunk]
                for c in range(1, p.cells(chunk[0]) + 1)
            ]
            tables.append(
                {
                    "caption": f"Step {t}" if t else "Output layer" if chunk[0] in HEAD else "",
                    "headers": [column_head(n) for n in chunk],
                    "rows": rows,
                    "row_names": p.row_names(chunk[0]),
                }
            )
    return tables


def _asked_words(problem: Problem, names: list[str]) -> str:
    def words(names: list[str]) -> str:
        return ", ".join(f"${QUANTITIES[n].tex}$" for n in names)

    per_cell = [n for n in names if n not in HEAD]
    head = [n for n in names if n in HEAD]
    if problem.kind is Kind.PARAMETERS:
        return words(names) + " (whole numbers)."
    text = words(per_cell) + " for every cell"
    if KINDS[problem.kind].stepped:
        text += f" at each of the {problem.steps} steps"
    if head:
        text += "; then " + words(head) + " of the output layer"
    return text + "."


def problem_view(variant_problem: VariantProblem) -> dict[str, Any]:
    """What the sheet template shows of one problem."""
    p = variant_problem.problem
    return {
        "number": variant_problem.number,
        "title": KINDS[p.kind].title,
        "points": normal(variant_problem.points),
        "formulas": [Tex(formula_tex(f)) for f in KIND_FORMULAS[p.kind]]
        if variant_problem.formulas
        else [],
        "diagram": Tex(diagram_box(p.kind)),
        "network": p.kind in NETWORK_KINDS,
        "givens": _givens_view(variant_problem),
        "asked_words": Tex(_asked_words(p, _asked_names(variant_problem))),
        "intro": _INTRO.get(p.kind, ""),
        "answer_tables": _answer_tables(variant_problem),
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


def diagram_box(kind: Kind) -> str:
    """The LaTeX command that draws the diagram of a problem kind."""
    return "\\diag" + "".join(w.capitalize() for w in str(kind).split("_"))


def student_view(variant: Variant) -> tuple[dict[str, Any], list[str]]:
    """The student part of the view, and a warning if no font has part of the name."""
    warnings = []
    bad = unsupported(variant.student.name)
    if bad:
        warnings.append(
            f"student {variant.student.student_id}: no PDF font has {bad!r} of the name "
            f"{variant.student.name!r}; printed as {printed(variant.student.name)!r}"
        )
    return {
        "id_raw": Tex(variant.student.student_id),
        "id": variant.student.student_id,
        "name": variant.student.name,
        "code": variant.code,
        # the hidden fields' values, as PDF hex strings (nothing in them is TeX's)
        "id_hex": Tex(variant.student.student_id.encode().hex()),
        "code_hex": Tex(variant.code.encode().hex()),
    }, warnings
