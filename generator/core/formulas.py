"""The small expression form a misconception's formula is written in.

A misconception that changes one quantity's formula is written as ``quantity :=
expression``, in the lecture's operators: ``+ - * /``, ``sigma(a)``, ``tanh(a)``,
``exp(a)``, ``1 - x``, and over vectors ``dot(W, v)`` (row k of the matrix ``W`` times
the vector ``v``) and ``argmax(v)`` (the index of the largest entry, counted from 0);
``rounded(e)`` is ``e`` written down as an intermediate (rounded to the sheet's places in
a rounded chain). A name is a quantity of the notation (:data:`QUANTITIES`), read cell by
cell: ``a_f := Wz_f`` is ``a_f[k] = Wz_f[k]`` for every cell k. Everything else (``*``
included) is element-wise.

The text is read with Python's own expression parser and turned into frozen records at
import; anything outside this form is refused there. The evaluator
(:mod:`~lstm_exam.generator.core.evaluate`) computes a formula's value in its chain, and
the practice pages (``practice.js``) interpret the same records, sent as JSON
(:func:`as_json`).

>>> parse("h_t := o_t * rounded(tanh(C_prev))").expr
Op(op='*', left=Name(name='o_t'), right=Call(fn='rounded', args=(Call(fn='tanh', args=(Name(name='C_prev'),)),)))
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lstm_exam.generator.core.notation import GATE_GRADIENTS, GATES, QUANTITIES


@dataclass(frozen=True, slots=True)
class Name:
    """A quantity of the notation, cell by cell."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """A whole number (``1`` of ``1 - x``, the ``4`` gates of a count)."""

    value: int


@dataclass(frozen=True, slots=True)
class Op:
    """``left op right``, element-wise; ``op`` is one of ``+ - * /``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A function of :data:`FUNCTIONS` on its arguments."""

    fn: str
    args: tuple[Expr, ...]


Expr = Name | Const | Op | Call

#: The functions of the form and how many arguments each takes.
FUNCTIONS = {"sigma": 1, "tanh": 1, "exp": 1, "rounded": 1, "dot": 2, "argmax": 1}
#: The functions whose arguments are whole vectors (or a matrix), not one cell.
VECTOR_FUNCTIONS = frozenset({"dot", "argmax"})
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True, slots=True)
class Formula:
    """``quantity := expr``: the formula a misconception puts in place of the right one."""

    quantity: str
    expr: Expr
    text: str
    """As written in the registry."""
    reads: frozenset[str]
    """The quantities it reads: where one is missing (a problem that does not know
    C_{t-1}), the formula does not apply and the right one stands."""

    @property
    def counted(self) -> bool:
        """Whether its value is a count (``argmax``): a whole number taken as it is,
        never rounded as a named quantity is."""
        return isinstance(self.expr, Call) and self.expr.fn == "argmax"


def parse(text: str) -> Formula:
    """``"quantity := expression"`` as a :class:`Formula`; ValueError for anything else."""
    quantity, sep, body = text.partition(":=")
    quantity = quantity.strip()
    if not sep or quantity not in QUANTITIES:
        raise ValueError(f"{text!r}: not 'quantity := expression' of a known quantity")
    try:
        tree = ast.parse(body.strip(), mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"{text!r}: {e.msg}") from None
    expr = _expr(tree, text)
    return Formula(quantity, expr, text, frozenset(_names(expr)))


def _expr(node: ast.expr, text: str) -> Expr:
    if isinstance(node, ast.Name):
        if node.id not in QUANTITIES:
            raise ValueError(f"{text!r}: {node.id!r} is no quantity of the notation")
        return Name(node.id)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Const(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return Op(_OPS[type(node.op)], _expr(node.left, text), _expr(node.right, text))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and FUNCTIONS.get(node.func.id) == len(node.args)
        and not node.keywords
    ):
        args = tuple(_expr(a, text) for a in node.args)
        if node.func.id in VECTOR_FUNCTIONS and not all(isinstance(a, Name) for a in args):
            raise ValueError(f"{text!r}: {node.func.id} takes quantities by name")
        return Call(node.func.id, args)
    raise ValueError(f"{text!r}: {ast.unparse(node)!r} is not in the formulas' form")


def _names(expr: Expr) -> set[str]:
    if isinstance(expr, Name):
        return {expr.name}
    if isinstance(expr, Op):
        return _names(expr.left) | _names(expr.right)
    if isinstance(expr, Call):
        return set().union(*map(_names, expr.args))
    return set()


def each_gate(gates: str, template: str) -> tuple[str, ...]:
    """One formula a gate of ``gates``: ``{g}`` is the gate's letter, ``{act}`` its
    value's name (``f_t``, ``C_tilde``), ``{grad}`` the gradient of that value (``df_t``).

    >>> each_gate("fC", "{act} := tanh(a_{g})")
    ('f_t := tanh(a_f)', 'C_tilde := tanh(a_C)')
    """
    grads = {g: grad for g, grad, _ in GATE_GRADIENTS}
    return tuple(
        template.replace("{g}", g).replace("{act}", act).replace("{grad}", grads[g])
        for g, act, _ in GATES
        if g in gates
    )


def as_json(expr: Expr) -> Any:
    """The expression for the practice pages: a name as its string, a whole number as
    itself, an operation or function as ``[op, *arguments]``.

    >>> as_json(parse("f_t := 1 - sigma(a_f)").expr)
    ['-', 1, ['sigma', 'a_f']]
    """
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Op):
        return [expr.op, as_json(expr.left), as_json(expr.right)]
    return [expr.fn, *map(as_json, expr.args)]


#: The chain's function of each function of one number.
_CHAIN_FUNCTION = {"sigma": "sigmoid", "tanh": "tanh", "exp": "exp", "rounded": "rnd"}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def formula_values(
    chain: Any, formula: Formula, env: Mapping[str, Any], cells: int, dot: Callable[..., Any]
) -> list | None:
    """A misconception's formula for ``formula.quantity``, cell by cell, in the chain ``chain``
    (the evaluator's, with its ``dot(ch, row, vector)``), as the chain keeps a named
    quantity (rounded, but for a count); None where it reads a quantity the problem
    lacks (the right formula stands)."""
    if not env.keys() >= formula.reads:
        return None
    values = _values(chain, formula.expr, env, cells, dot)
    return values if formula.counted else [chain.rnd(v) for v in values]


def _values(
    chain: Any, expr: Expr, env: Mapping[str, Any], cells: int, dot: Callable[..., Any]
) -> list:
    """An expression's value in each of ``cells`` cells."""
    if isinstance(expr, Name):
        return env[expr.name]
    if isinstance(expr, Const):
        return [chain.num(expr.value)] * cells
    if isinstance(expr, Op):
        op = _ARITHMETIC[expr.op]
        left, right = (
            _values(chain, expr.left, env, cells, dot),
            _values(chain, expr.right, env, cells, dot),
        )
        return [op(a, b) for a, b in zip(left, right, strict=True)]
    assert isinstance(expr, Call)
    if expr.fn == "dot":
        matrix, vector = (env[a.name] for a in expr.args if isinstance(a, Name))
        return [dot(chain, row, vector) for row in matrix]
    if expr.fn == "argmax":
        (vector,) = (env[a.name] for a in expr.args if isinstance(a, Name))
        return [chain.num(chain.first_max(vector))]
    fn = getattr(chain, _CHAIN_FUNCTION[expr.fn])
    return list(map(fn, _values(chain, expr.args[0], env, cells, dot)))


class _Whole:
    """The arithmetic of counts: whole numbers, exact (a misconception's formula of a
    count, P_gate := H * (H + D), is computed in it)."""

    num = int

    @staticmethod
    def rnd(value: int) -> int:
        return value


WHOLE = _Whole()
