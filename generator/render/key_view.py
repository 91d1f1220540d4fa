"""The key's view of a problem: the lecture's tables, the first row worked out (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lstm_exam.generator.core.notation import (
    GATE_GRADIENTS,
    GATES,
    KINDS,
    QUANTITIES,
    STATE,
    Kind,
    make_label,
    state_source,
)
from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.render.latex import Tex, column_head, escape_text, num, vector_tex
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import VariantProblem


def _line(lhs: str, parts: Sequence[str], exact: Decimal, key: Decimal) -> Tex:
    """``lhs = the rule = the numbers = exact ≈ the key``: one worked line of the key."""
    return Tex(" = ".join([lhs, *parts, plain(exact)]) + rf" \approx {plain(key)}")


def _n(value: Decimal) -> str:
    return f"({plain(value)})"


def _products(pairs: Sequence[tuple[Decimal, Decimal]], start: Decimal) -> tuple[str, Decimal]:
    """Σ w·x written term by term, and its exact value (from ``start``)."""
    text = " + ".join(f"{_n(w)}{_n(x)}" for w, x in pairs)
    return text, sum((w * x for w, x in pairs), start)


@dataclass(frozen=True, slots=True)
class _FirstRow:
    """What a worked line of the key reads: the problem, its values at the step, z."""

    p: Problem
    value: Callable[[str, int], Decimal]
    """A quantity's rounded value at the step, by name and cell."""
    z: list[Decimal] | None
    """The step's z = [h_{t-1}, x_t], where the step has one."""

    def v(self, name: str) -> Decimal:
        return self.value(name, 1)

    def product(self, lhs: str, rule: str, names: tuple[str, ...], key: str) -> Tex:
        """``lhs = rule = (a)(b)... = exact ≈ key``."""
        factors = [self.v(n) for n in names]
        exact = Decimal(1)
        for f in factors:
            exact *= f
        return _line(lhs, [rule, "".join(_n(f) for f in factors)], exact, self.v(key))


#: Works a table's first row out with its numbers, as the lecture does.
Worked = Callable[[_FirstRow], list[Tex]]


def _worked_wz(letter: str) -> Worked:
    """A gate's W·z, term by term."""

    def lines(r: _FirstRow) -> list[Tex]:
        if r.z is None:
            return []
        row = r.p.givens[f"W_{letter}"][0]
        terms, exact = _products(list(zip(row, r.z, strict=True)), Decimal(0))
        return [_line(rf"W_{{{letter}}}[1] \cdot z", [terms], exact, r.v(f"Wz_{letter}"))]

    return lines


def _worked_head(row: _FirstRow) -> list[Tex]:
    """The dense layer's first output."""
    p = row.p
    b = p.givens["b_y"][0]
    h = [row.value("h_t", c) for c in range(1, p.hidden + 1)]
    terms, exact = _products(list(zip(p.givens["W_y"][0], h, strict=True)), b)
    first = "logit" if "logit" in KINDS[p.kind].order else "y_hat"
    rule = r"W_y[1] \cdot h_T + b_y[1]"
    return [_line(f"{QUANTITIES[first].tex}[1]", [rule, f"{terms} + {_n(b)}"], exact, row.v(first))]


def _worked_through_h(row: _FirstRow) -> list[Tex]:
    """dL/do_t and the total dL/dC_t."""
    one = Decimal(1)
    dh, o, tC, nxt = row.v("dh_t"), row.v("o_t"), row.v("tanh_C"), row.v("dC_next")
    rule = r"\partial C_t^{\,\mathrm{next}} + \partial h_t \ast o_t \ast (1 - \tanh^2(C_t))"
    return [
        row.product(
            r"\partial o_t[1]", r"\partial h_t \ast \tanh(C_t)", ("dh_t", "tanh_C"), "do_t"
        ),
        _line(
            r"\partial C_t[1]",
            [rule, rf"{_n(nxt)} + {_n(dh)}{_n(o)}(1 - {_n(tC)}^2)"],
            nxt + dh * o * (one - tC * tC),
            row.v("dC_t"),
        ),
    ]


def _worked_gates(row: _FirstRow) -> list[Tex]:
    """dL/df_t, dL/di_t and dL/dC~_t."""
    return [
        row.product(r"\partial f_t[1]", r"\partial C_t \ast C_{t-1}", ("dC_t", "C_prev"), "df_t"),
        row.product(
            r"\partial i_t[1]", r"\partial C_t \ast \tilde{C}_t", ("dC_t", "C_tilde"), "di_t"
        ),
        row.product(
            r"\partial \tilde{C}_t[1]", r"\partial C_t \ast i_t", ("dC_t", "i_t"), "dC_tilde"
        ),
    ]


def _worked_pre(row: _FirstRow) -> list[Tex]:
    """The four pre-activation gradients, through each activation's derivative."""
    one = Decimal(1)
    lines = []
    for g, grad, act in GATE_GRADIENTS:
        d, a, gate = row.v(grad), row.v(act), QUANTITIES[act].tex
        if act == "C_tilde":  # tanh' = 1 - tanh²
            slope, filled, exact = rf"(1 - {gate}^2)", f"(1 - {_n(a)}^2)", d * (one - a * a)
        else:  # σ' = σ(1 - σ)
            slope, filled, exact = (
                rf"{gate} \ast (1 - {gate})",
                f"{_n(a)}(1 - {_n(a)})",
                d * a * (one - a),
            )
        rule = rf"{QUANTITIES[grad].tex} \ast {slope}"
        lines.append(_line(rf"\partial a_{g}[1]", [rule, _n(d) + filled], exact, row.v(f"da_{g}")))
    return lines


def _worked_back(row: _FirstRow) -> list[Tex]:
    """dL/dh_{t-1} over every gate and cell, and dL/dC_{t-1}."""
    p = row.p
    pairs = [
        (p.givens[f"W_{g}"][c - 1][0], row.value(f"da_{g}", c))
        for g in "fiCo"
        for c in range(1, p.hidden + 1)
    ]
    terms, exact = _products(pairs, Decimal(0))
    rule = r"\sum_g \sum_c W_g[c][1]\, \partial a_g[c]"
    return [
        _line(r"\partial h_{t-1}[1]", [rule, terms], exact, row.v("dh_prev")),
        row.product(r"\partial C_{t-1}[1]", r"\partial C_t \ast f_t", ("dC_t", "f_t"), "dC_prev"),
    ]


def _worked_params(row: _FirstRow) -> list[Tex]:
    """Every count term by term, with the problem's sizes (Keras: one bias per gate)."""
    D, H, K, F, T = (int(row.p.givens[n][0]) for n in ("D", "H", "K", "F", "T"))
    P = {n: int(row.v(n)) for n in ("P_gate", "P_lstm", "P_dense", "P_video")}
    sym = {n: QUANTITIES[n].tex for n in (*P, "seq_steps", "seq_units", "last_units")}

    def gate(inputs: int, name: str) -> list[str]:
        return [
            rf"H \cdot (H + {name}) + H",
            rf"{H} \cdot ({H} + {inputs}) + {H}",
            rf"{H} \cdot {H + inputs} + {H}",
        ]

    video_gate = H * (H + F) + H
    return [
        Tex(" = ".join([sym["P_gate"], *gate(D, "D"), str(P["P_gate"])])),
        Tex(
            " = ".join(
                [
                    sym["P_lstm"],
                    rf"4 \cdot {sym['P_gate']}",
                    r"4 \cdot (H \cdot (H + D) + H)",
                    rf"4 \cdot ({H} \cdot ({H} + {D}) + {H})",
                    rf"4 \cdot {P['P_gate']}",
                    str(P["P_lstm"]),
                ]
            )
        ),
        Tex(
            " = ".join(
                [
                    sym["P_dense"],
                    r"K \cdot H + K",
                    rf"{K} \cdot {H} + {K}",
                    rf"{K * H} + {K}",
                    str(P["P_dense"]),
                ]
            )
        ),
        Tex(
            " = ".join(
                [
                    sym["P_video"],
                    rf"4 \cdot (H \cdot (H + F) + H) + {sym['P_dense']}",
                    rf"4 \cdot ({H} \cdot ({H} + {F}) + {H}) + {P['P_dense']}",
                    rf"4 \cdot {video_gate} + {P['P_dense']}",
                    str(P["P_video"]),
                ]
            )
        ),
        Tex(
            rf"({sym['seq_steps']}, {sym['seq_units']}) = (T, H) = ({T}, {H}), \quad "
            rf"{sym['last_units']} = H = {H}"
        ),
    ]


#: The key's tables: title, columns, and how its first row is worked out.
_KEY_TABLES: dict[str, tuple[str | Tex, tuple[str, ...], Worked | None]] = {
    **{
        letter: (
            Tex(f"{QUANTITIES[act].words.rsplit(' ', 1)[0].capitalize()} ${QUANTITIES[act].tex}$"),
            (f"Wz_{letter}", f"a_{letter}", act),
            _worked_wz(letter),
        )
        for letter, act, _ in GATES
    },
    "cell": ("Cell state", ("f_t", "C_prev", "fC", "i_t", "C_tilde", "iC", "C_t"), None),
    "out": ("Hidden state", ("o_t", "C_t", "tanh_C", "h_t"), None),
    "params": ("Counts and shapes", KINDS[Kind.PARAMETERS].order, _worked_params),
    "softmax": ("Dense layer and softmax", ("logit", "prob"), _worked_head),
    "class": ("Predicted class", ("class",), None),
    "linear": ("Dense layer and squared error", ("y_hat", "y", "sq_error"), _worked_head),
    "through_h": (
        Tex("Through $h_t$ into $C_t$"),
        ("dh_t", "tanh_C", "do_t", "o_t", "dC_next", "dC_t"),
        _worked_through_h,
    ),
    "gates": (
        "Gates",
        ("dC_t", "C_prev", "df_t", "C_tilde", "di_t", "i_t", "dC_tilde"),
        _worked_gates,
    ),
    "pre": (
        "Pre-activations",
        ("f_t", "da_f", "i_t", "da_i", "C_tilde", "da_C", "o_t", "da_o"),
        _worked_pre,
    ),
    "back": ("To the previous step", ("dC_t", "f_t", "dC_prev", "dh_prev"), _worked_back),
}


#: What a table's worked lines are, where they are not its first row written out.
_DOTS_WORDS = {"params": "each count worked out"}


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


def key_steps(variant_problem: VariantProblem) -> list[dict[str, Any]]:
    """The key's worked steps of one problem, for the key template."""
    p, sol = variant_problem.problem, variant_problem.solution
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
            if t and name in STATE:  # a sequence's state: the step before, or h_0 and C_0
                src, at = state_source(name, t)
                if at is None:
                    return p.givens[src][cell - 1]
                return sol.values[make_label(src, cell, at)].rounded
            if name == "x" and t:
                return p.givens["xs"][t - 1][cell - 1]
            return p.givens[name][cell - 1]

        z = None
        if keys is step_tables and ("x" in p.givens or "xs" in p.givens):
            D = p.inputs or 0
            z = [value("h_prev", c) for c in range(1, p.hidden + 1)] + [
                value("x", c) for c in range(1, D + 1)
            ]
        tables = []
        for key in keys:
            title, cols, worked = _KEY_TABLES[key]
            rows = []
            for c in range(1, p.cells(cols[-1]) + 1):
                row = []
                for n in cols:
                    cell_tex = num(value(n, c))
                    if make_label(n, c, p.step_of(n, t)) in asked:
                        cell_tex = Tex(r"{\boldmath" + cell_tex + "}")  # math: \textbf misses it
                    row.append(cell_tex)
                rows.append(row)
            tables.append(
                {
                    "title": title,
                    "headers": [column_head(n) for n in cols],
                    "rows": rows,
                    "row_names": p.row_names(cols[-1]),
                    "dots": worked(_FirstRow(p, value, z)) if worked else [],
                    "dots_words": _DOTS_WORDS.get(key, "first row written out"),
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


def accept_view(
    manifest: Manifest, variant_problem: VariantProblem
) -> list[tuple[dict, dict | None]]:
    """The key's acceptance windows of one problem, each answer beside its pair."""
    items = []
    for lab in variant_problem.solution.asked:
        val = variant_problem.solution.values[lab]
        lo, hi = manifest.bounds(lab, val)
        exact = lo == hi  # a whole number: nothing but itself
        items.append(
            {
                "label": escape_text(variant_problem.label(lab)),
                "key": num(val.rounded),
                "range": Tex(
                    f"exactly ${plain(lo)}$" if exact else f"$[{plain(lo)},\\ {plain(hi)}]$"
                ),
            }
        )
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:]
    return [(a, right[k] if k < len(right) else None) for k, a in enumerate(left)]
