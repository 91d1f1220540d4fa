"""The lecture's formulas, defined once in sympy and typeset from there."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from lstm_exam.generator.core.notation import Kind


class _Dot(sp.Function):
    """W · z, kept in order."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        a, b = (printer._print(x) for x in self.args)
        return rf"{a} \cdot {b}"


class _Times(sp.Function):
    """Element-wise product, written ``*`` as in the lecture."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        a, b = (
            rf"\left({printer._print(x)}\right)" if isinstance(x, sp.Add) else printer._print(x)
            for x in self.args
        )
        return rf"{a} \ast {b}"


class _SumGates(sp.Function):
    """A sum over the four gates f, i, C~, o."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        return rf"\sum_{{g \in \{{f, i, C, o\}}}} {printer._print(self.args[0])}"


class _Concat(sp.Function):
    """[h_{t-1}, x_t]."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        a, b = (printer._print(x) for x in self.args)
        return rf"[{a},\, {b}]"


_S = {
    n: sp.Symbol(t)
    for n, t in [
        ("h_prev", "h_{t-1}"),
        ("x", "x_t"),
        ("z", "z"),
        ("C_prev", "C_{t-1}"),
        ("C_t", "C_t"),
        ("h_t", "h_t"),
        ("f_t", "f_t"),
        ("i_t", "i_t"),
        ("o_t", "o_t"),
        ("C_tilde", r"\tilde{C}_t"),
        ("a", "a"),
    ]
}
sigma = sp.Function(r"\sigma")
argmax = sp.Function(r"\operatorname{argmax}_k")
_d = {
    n: sp.Symbol(rf"\partial {t}")
    for n, t in [
        ("h_t", "h_t"),
        ("C_next", r"C_t^{\,\mathrm{next}}"),
        ("o_t", "o_t"),
        ("C_t", "C_t"),
        ("f_t", "f_t"),
        ("i_t", "i_t"),
        ("C_tilde", r"\tilde{C}_t"),
        ("g", "g"),
        ("a_g", "a_g"),
        ("a_C", "a_C"),
        ("h_prev", "h_{t-1}"),
        ("C_prev", "C_{t-1}"),
    ]
}
_Y = {
    n: sp.Symbol(t)
    for n, t in [
        ("l_k", r"\ell_k"),
        ("l_j", r"\ell_j"),
        ("p_k", "p_k"),
        ("k_hat", r"\hat{k}"),
        ("y_hat", r"\hat{y}"),
        ("y", "y"),
        ("W_y", "W_y"),
        ("b_y", "b_y"),
        ("h_T", "h_T"),
        ("g", "g"),
        ("W_gh", r"W_g^{h\top}"),
    ]
}
_P = {n: sp.Symbol(n) for n in ("D", "H", "K", "F")}


def _gate(act: Any, gate: str) -> Any:
    z = _Concat(_S["h_prev"], _S["x"])
    return act(sp.Add(_Dot(sp.Symbol(f"W_{gate}"), z), sp.Symbol(f"b_{gate}"), evaluate=False))


FORMULAS: dict[str, Any] = {
    "f_t": sp.Eq(_S["f_t"], _gate(sigma, "f")),
    "i_t": sp.Eq(_S["i_t"], _gate(sigma, "i")),
    "C_tilde": sp.Eq(_S["C_tilde"], _gate(sp.tanh, "C")),
    "C_t": sp.Eq(
        _S["C_t"],
        sp.Add(_Times(_S["f_t"], _S["C_prev"]), _Times(_S["i_t"], _S["C_tilde"]), evaluate=False),
    ),
    "o_t": sp.Eq(_S["o_t"], _gate(sigma, "o")),
    "h_t": sp.Eq(_S["h_t"], _Times(_S["o_t"], sp.tanh(_S["C_t"]))),
    "P_lstm": sp.Eq(
        sp.Symbol(r"P_{\text{LSTM}}"),
        sp.Mul(
            4,
            sp.Add(
                sp.Mul(_P["H"], sp.Add(_P["H"], _P["D"], evaluate=False), evaluate=False),
                _P["H"],
                evaluate=False,
            ),
            evaluate=False,
        ),
        evaluate=False,
    ),
    "P_dense": sp.Eq(
        sp.Symbol(r"P_{\text{dense}}"),
        sp.Add(sp.Mul(_P["K"], _P["H"], evaluate=False), _P["K"], evaluate=False),
        evaluate=False,
    ),
    "logit": sp.Eq(
        _Y["l_k"],
        sp.Add(_Dot(sp.Symbol("W_{y,k}"), _Y["h_T"]), sp.Symbol("b_{y,k}"), evaluate=False),
    ),
    "prob": sp.Eq(
        _Y["p_k"],
        sp.exp(_Y["l_k"]) / sp.Sum(sp.exp(_Y["l_j"]), (sp.Symbol("j"), 1, _P["K"])),
        evaluate=False,
    ),
    "class": sp.Eq(_Y["k_hat"], argmax(_Y["p_k"]), evaluate=False),
    "y_hat": sp.Eq(_Y["y_hat"], sp.Add(_Dot(_Y["W_y"], _Y["h_T"]), _Y["b_y"], evaluate=False)),
    "sq_error": sp.Eq(
        sp.Symbol("E"), sp.Pow(sp.Add(_Y["y_hat"], -_Y["y"], evaluate=False), 2), evaluate=False
    ),
    "do_t": sp.Eq(_d["o_t"], _Times(_d["h_t"], sp.tanh(_S["C_t"]))),
    "dC_t": sp.Eq(
        _d["C_t"],
        sp.Add(
            _d["C_next"],
            _Times(
                _Times(_d["h_t"], _S["o_t"]),
                sp.Add(1, -sp.Pow(sp.tanh(_S["C_t"]), 2), evaluate=False),
            ),
            evaluate=False,
        ),
    ),
    "df_t": sp.Eq(_d["f_t"], _Times(_d["C_t"], _S["C_prev"])),
    "di_t": sp.Eq(_d["i_t"], _Times(_d["C_t"], _S["C_tilde"])),
    "dC_tilde": sp.Eq(_d["C_tilde"], _Times(_d["C_t"], _S["i_t"])),
    "da_g": sp.Eq(
        _d["a_g"],
        _Times(_Times(_d["g"], _Y["g"]), sp.Add(1, -_Y["g"], evaluate=False)),
        evaluate=False,
    ),
    "da_C": sp.Eq(
        _d["a_C"],
        _Times(_d["C_tilde"], sp.Add(1, -sp.Pow(_S["C_tilde"], 2), evaluate=False)),
        evaluate=False,
    ),
    "dh_prev": sp.Eq(
        _d["h_prev"],
        _SumGates(_Dot(_Y["W_gh"], _d["a_g"])),
        evaluate=False,
    ),
    "dC_prev": sp.Eq(_d["C_prev"], _Times(_d["C_t"], _S["f_t"])),
    "sigma": sp.Eq(sigma(_S["a"]), 1 / (1 + sp.exp(-_S["a"]))),
    "tanh": sp.Eq(
        sp.tanh(_S["a"]),
        sp.Mul(
            sp.Add(sp.exp(_S["a"]), -sp.exp(-_S["a"]), evaluate=False),
            sp.Pow(sp.Add(sp.exp(_S["a"]), sp.exp(-_S["a"]), evaluate=False), -1),
            evaluate=False,
        ),
    ),
}

#: Which formulas a problem of each kind shows.
KIND_FORMULAS: dict[Kind, tuple[str, ...]] = {
    Kind.FORGET_GATE: ("f_t", "sigma"),
    Kind.INPUT_GATE: ("i_t", "C_tilde", "sigma", "tanh"),
    Kind.CELL_STATE: ("C_t",),
    Kind.OUTPUT_GATE: ("o_t", "h_t", "sigma", "tanh"),
    Kind.CELL_STEP: ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t", "sigma"),
    Kind.SEQUENCE: ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t", "sigma"),
    Kind.CLASSIFICATION: ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t", "logit", "prob"),
    Kind.REGRESSION: ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t", "y_hat", "sq_error"),
    Kind.BACKWARD_STEP: (
        "do_t",
        "dC_t",
        "df_t",
        "di_t",
        "dC_tilde",
        "da_g",
        "da_C",
        "dh_prev",
        "dC_prev",
    ),
    Kind.PARAMETERS: ("P_lstm", "P_dense"),
}


@functools.cache
def formula_tex(name: str) -> str:
    r"""LaTeX (math mode) of one formula.

    >>> print(formula_tex("C_t"))
    C_{t} = f_{t} \ast C_{t-1} + i_{t} \ast \tilde{C}_t
    """
    return sp.latex(FORMULAS[name], order="none")
