"""The lecture's formulas, defined once in sympy and typeset from there."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from .notation import Kind


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
        a, b = (printer._print(x) for x in self.args)
        return rf"{a} \ast {b}"


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
_P = {n: sp.Symbol(n) for n in ("D", "H", "K", "F")}


def _gate(act: Any, g: str) -> Any:
    z = _Concat(_S["h_prev"], _S["x"])
    return act(sp.Add(_Dot(sp.Symbol(f"W_{g}"), z), sp.Symbol(f"b_{g}"), evaluate=False))


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
    Kind.PARAMETERS: ("P_lstm", "P_dense"),
}


@functools.cache
def formula_tex(name: str) -> str:
    r"""LaTeX (math mode) of one formula.

    >>> print(formula_tex("C_t"))
    C_{t} = f_{t} \ast C_{t-1} + i_{t} \ast \tilde{C}_t
    """
    return sp.latex(FORMULAS[name], order="none")
