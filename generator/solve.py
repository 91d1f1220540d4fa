"""The reference LSTM solver: every intermediate, in two chains.

One evaluator serves the whole product. It computes a problem's quantities
in a *chain* of arithmetic:

* :data:`FULL` -- float64 all the way (design.md's full-precision chain);
* :class:`Rounded` -- exact decimals, every named quantity rounded half away
  from zero before it is used, as a student with a calculator does.

It also takes *overrides* (a student's own earlier answers, for error carried
forward) and a *twist* (one misconception of design.md applied at one step),
so grading and well-posedness reuse the very code that makes the key.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, getcontext, localcontext
from enum import Enum
from types import MappingProxyType
from typing import Any

import numpy as np

from . import defaults
from .notation import GATE_GRADIENTS, GATES, HEAD, KINDS, Kind, label_name, make_label

Number = Any  # float in the full chain, Decimal in a rounded chain
Vector = tuple[Decimal, ...]
Matrix = tuple[Vector, ...]


# --- chains --------------------------------------------------------------------


class Full:
    """float64 all the way; nothing rounded."""

    name = "full"

    def num(self, d: Decimal | float) -> float:
        return float(d)

    def rnd(self, v: float) -> float:
        return v

    def sigmoid(self, v: float) -> float:
        # the two forms avoid overflow of exp for large |v|
        if v >= 0:
            return 1.0 / (1.0 + math.exp(-v))
        e = math.exp(v)
        return e / (1.0 + e)

    def tanh(self, v: float) -> float:
        return math.tanh(v)

    def exp(self, v: float) -> float:
        return math.exp(v)

    def largest(self, vs: list[float]) -> float:
        return max(vs)

    def first_max(self, vs: list[float]) -> int:
        """The index of the largest value, the first of equals."""
        return max(range(len(vs)), key=vs.__getitem__)


class Batch(Full):
    """The full chain of many draws at once: every number an array, one entry a draw.

    Each entry is computed with exactly the floating-point operations, in the same
    order, and the same ``math`` functions as :data:`FULL` computes it alone, so an
    entry equals FULL's value bit for bit (tests check this); the array only saves
    Python's per-operation overhead. Well-posedness screens many draws with it.
    """

    name = "batch"

    def num(self, d: Any) -> Any:
        return d.astype(float) if isinstance(d, np.ndarray) else float(d)

    def sigmoid(self, v: np.ndarray) -> np.ndarray:
        # FULL.sigmoid's two forms, entry by entry: e = exp(-|v|), then the form's division
        neg = v < 0
        e = _each(math.exp, np.where(neg, v, -v))
        return np.where(neg, e / (1.0 + e), 1.0 / (1.0 + e))

    def tanh(self, v: np.ndarray) -> np.ndarray:
        return _each(math.tanh, v)

    def exp(self, v: np.ndarray) -> np.ndarray:
        return _each(math.exp, v)

    def largest(self, vs: list[np.ndarray]) -> np.ndarray:
        return functools.reduce(np.maximum, vs)

    def first_max(self, vs: list[np.ndarray]) -> np.ndarray:
        return np.argmax(np.stack(vs), axis=0)  # the first of equals, as FULL


def _each(fn: Any, v: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function, not numpy's own) on every entry."""
    return np.fromiter(map(fn, v.tolist()), dtype=float, count=len(v))


@dataclass(frozen=True, slots=True)
class Rounded:
    """Exact decimals, each named quantity rounded to ``decimals`` places.

    ``truncate`` cuts digits instead of rounding (misconception 7).
    """

    decimals: int
    truncate: bool = False
    name: str = field(default="rounded", init=False)

    def num(self, d: Decimal | float) -> Decimal:
        return d if isinstance(d, Decimal) else Decimal(repr(d))

    def rnd(self, v: Decimal) -> Decimal:
        mode = ROUND_DOWN if self.truncate else ROUND_HALF_UP
        return v.quantize(_unit(self.decimals), rounding=mode)

    def sigmoid(self, v: Decimal) -> Decimal:
        return _exact(_SIGMOID, str(v), getcontext().prec)

    def tanh(self, v: Decimal) -> Decimal:
        return _exact(_TANH, str(v), getcontext().prec)

    def exp(self, v: Decimal) -> Decimal:
        return _exact(_EXP, str(v), getcontext().prec)

    largest = Full.largest
    first_max = Full.first_max


FULL = Full()

_SIGMOID, _TANH, _EXP = "sigmoid", "tanh", "exp"


@functools.lru_cache(maxsize=1 << 17)
def _exact(fn: str, text: str, prec: int) -> Decimal:
    """A function of the rounded chain on the decimal ``text``, to ``prec`` digits.

    Kept: its arguments are numbers of a few decimals (a rounded pre-activation, a
    difference of logits), which repeat across a class, and the value depends on
    nothing else (``exp`` always rounds half even), so a class computes each once.
    """
    with localcontext(prec=prec):
        v = Decimal(text)
        if fn == _EXP:
            return v.exp()
        if fn == _SIGMOID:
            return 1 / (1 + (-v).exp())
        if v < 0:  # tanh is odd
            return -_exact(_TANH, str(-v), prec)
        e = (-2 * v).exp()
        return (1 - e) / (1 + e)


@functools.lru_cache(maxsize=32)
def _unit(decimals: int) -> Decimal:
    """One unit in the last place: 0.001 for 3."""
    return Decimal(1).scaleb(-decimals)


def round_half_away(v: Decimal | float, decimals: int) -> Decimal:
    """Round half away from zero on the exact decimal value.

    >>> round_half_away(Decimal("0.0125"), 3), round_half_away(Decimal("-0.0125"), 3)
    (Decimal('0.013'), Decimal('-0.013'))
    """
    return Rounded(decimals).rnd(Rounded(decimals).num(v))


# --- misconceptions as twists --------------------------------------------------


class Twist(Enum):
    """A misconception of design.md, as a change to one formula.

    Each value is (number in design.md, the names it alters directly, words); the
    words also keep two misconceptions that alter the same names apart.
    """

    NO_BIAS = (
        1,
        ("a_f", "a_i", "a_C", "a_o"),
        "left out the bias: {act} = act(W·z), not act(W·z + b)",
    )
    TANH_GATE = (2, ("f_t", "i_t", "o_t"), "used tanh for a gate instead of the sigmoid")
    SIGMOID_CANDIDATE = (2, ("C_tilde",), "used the sigmoid for C~_t instead of tanh")
    NO_ACTIVATION = (
        2,
        ("f_t", "i_t", "o_t", "C_tilde"),
        "reported the bias-added value without the activation",
    )
    SIGN_SLIP = (3, ("f_t", "i_t", "o_t"), "sign slip in the sigmoid: 1/(1 + e^{+a}) = 1 − σ(a)")
    SWAPPED_CONCAT = (
        4,
        ("Wz_f", "Wz_i", "Wz_C", "Wz_o"),
        "concatenated the wrong way round: z = [x_t, h_{t-1}]",
    )
    CELL_PLUS = (5, ("fC",), "added f_t + C_{t-1} instead of multiplying f_t * C_{t-1}")
    CELL_DROP_I = (5, ("C_t",), "dropped i_t: C_t = f_t * C_{t-1} + C~_t")
    CELL_DROP_F = (5, ("C_t",), "dropped f_t: C_t = C_{t-1} + i_t * C~_t")
    H_NO_TANH = (6, ("h_t",), "left out tanh: h_t = o_t * C_t")
    H_OLD_C = (6, ("h_t",), "used the old cell state: h_t = o_t * tanh(C_{t-1})")
    H_TANH_OUTSIDE = (6, ("h_t",), "took tanh of the product: h_t = tanh(o_t * C_t)")
    P_NO_BIAS = (
        9,
        ("P_gate", "P_lstm", "P_video"),
        "counted no biases: 4·H·(H + D) instead of 4·(H·(H + D) + H)",
    )
    P_ONE_GATE = (9, ("P_lstm", "P_video"), "counted one gate instead of four")
    P_H_TIMES_D = (
        9,
        ("P_gate", "P_lstm", "P_video"),
        "used H·D weights per gate instead of H·(H + D): forgot the recurrent weights",
    )
    P_DENSE_NO_BIAS = (9, ("P_dense", "P_video"), "counted the dense layer without its biases")
    SEQ_REUSE = (
        8,
        ("h_prev", "C_prev"),
        "reused h_0 and C_0 at this step instead of the previous step's h_t and C_t",
    )
    HEAD_ON_C = (10, ("logit", "y_hat"), "applied the dense layer to C_T instead of h_T")
    HEAD_NO_BIAS = (10, ("logit", "y_hat"), "left out the dense layer's bias b_y")
    SOFTMAX_NO_NORM = (
        10,
        ("prob",),
        "softmax without normalizing: e^logit, not divided by the sum",
    )
    CLASS_FROM_ZERO = (10, ("class",), "counted the classes from 0 (as argmax does), not from 1")
    ERROR_NOT_SQUARED = (10, ("sq_error",), "did not square the error: y_hat - y")
    SIGMA_AS_DERIVATIVE = (
        11,
        ("da_f", "da_i", "da_o"),
        "wrote the sigmoid's derivative σ'(a) as σ(a), not σ(a)(1 − σ(a))",
    )
    TANH_DERIVATIVE = (
        11,
        ("dC_t", "da_C"),
        "wrote tanh's derivative as 1 − tanh(a), not 1 − tanh²(a)",
    )
    NO_NEXT_GRADIENT = (11, ("dC_t",), "left out dL/dC_t arriving from the next step")
    NO_H_PATH = (11, ("dC_t",), "left out the path from h_t through tanh(C_t) into dL/dC_t")
    DC_PREV_NO_F = (11, ("dC_prev",), "dL/dC_{t-1} = dL/dC_t: forgot the factor f_t")
    NO_TRANSPOSE = (11, ("dh_prev",), "multiplied by W instead of its transpose W^T")

    @property
    def alters(self) -> tuple[str, ...]:
        return self.value[1]


# --- the evaluator -------------------------------------------------------------


def evaluate(
    kind: Kind,
    givens: Mapping[str, Any],
    ch: Any = FULL,
    *,
    twist: Twist | None = None,
    twist_step: int = 1,
    overrides: Mapping[str, Decimal | float] | None = None,
    computed: dict[str, Number] | None = None,
) -> dict[str, Number]:
    """Compute every intermediate of a problem; return ``{label: value}``.

    Args:
        kind: the problem kind.
        givens: the given numbers by name (vectors, matrices, ``xs``).
        ch: the chain (:data:`FULL` or a :class:`Rounded`).
        twist: a misconception applied at step ``twist_step`` only (steps count
            from 1; problems that are not sequences have the one step 1).
        overrides: values to use instead of the computed ones, by label
            without the ``q`` prefix (a student's earlier answers).
        computed: if given, receives each label's value as the formula gives it
            from the (overridden) values before it: error carried forward.

    Labels have no ``q<problem>.`` prefix: ``Wz_f[1]``, ``t2.h_t[3]``.
    """
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        g = prepare(givens, ch)
    return evaluate_prepared(
        kind, g, ch, twist=twist, twist_step=twist_step, overrides=overrides, computed=computed
    )


def prepare(givens: Mapping[str, Any], ch: Any = FULL) -> dict[str, Any]:
    """The givens converted to the chain's numbers, for repeated evaluation."""
    return {k: _convert(ch, v) for k, v in givens.items()}


def evaluate_prepared(
    kind: Kind,
    g: Mapping[str, Any],
    ch: Any = FULL,
    *,
    twist: Twist | None = None,
    twist_step: int = 1,
    overrides: Mapping[str, Decimal | float] | None = None,
    computed: dict[str, Number] | None = None,
    until: int | None = None,
    resume: tuple[int, Mapping[str, Number]] | None = None,
) -> dict[str, Number]:
    """:func:`evaluate` on givens already :func:`prepare`-d for ``ch``.

    For a sequence, ``until`` stops after that step (no later steps, no output
    layer), and ``resume=(t, values)`` starts at step t from the h_t and C_t that
    ``values`` (an earlier evaluation in ``ch``) holds for step t - 1; the result
    then holds step t onwards only. Well-posedness uses both to redo only what a
    misconception changes.
    """
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        return _evaluate(kind, g, ch, twist, twist_step, overrides or {}, computed, until, resume)


def _evaluate(
    kind: Kind,
    g: Mapping[str, Any],
    ch: Any,
    twist: Twist | None,
    twist_step: int,
    ov: Mapping[str, Decimal | float],
    computed: dict[str, Number] | None,
    until: int | None = None,
    resume: tuple[int, Mapping[str, Number]] | None = None,
) -> dict[str, Number]:
    out: dict[str, Number] = {}
    if kind is Kind.PARAMETERS:
        _parameters(ch, g, out, ov, twist, computed)
        return out
    names = KINDS[kind].order
    if KINDS[kind].stepped:
        h, C = g["h_0"], g["C_0"]
        first = 1
        if resume is not None and resume[0] > 1:
            first, base = resume
            h, C = (
                [base[make_label(n, c, first - 1)] for c in range(1, len(h) + 1)]
                for n in ("h_t", "C_t")
            )
        for t, x in enumerate(g["xs"][first - 1 :], start=first):
            env = {**g, "x": x, "h_prev": h, "C_prev": C}
            tw = twist if twist_step == t else None
            if tw is Twist.SEQ_REUSE and t > 1:
                env["h_prev"], env["C_prev"] = g["h_0"], g["C_0"]
            _cell(names, ch, env, _Put(ch, env, out, ov, computed, t), tw)
            h, C = env["h_t"], env["C_t"]
            if t == until:
                return out
        if names[-1] in HEAD:
            head = {**g, "h_t": h, "C_t": C}
            _head(names, ch, head, _Put(ch, head, out, ov, computed, None), twist)
    else:
        env = dict(g)
        put = _Put(ch, env, out, ov, computed, None)
        _cell(names, ch, env, put, twist if twist_step == 1 else None)
        if "dh_prev" in names:
            _backward(ch, env, put, twist)
    return out


def _convert(ch: Any, v: Any) -> Any:
    if not isinstance(v, (list, tuple)):
        return ch.num(v)
    if v and isinstance(v[0], (list, tuple)):
        return [_convert(ch, e) for e in v]
    return list(map(ch.num, v))


@dataclass(frozen=True, slots=True)
class _Put:
    """Stores one quantity's values: in ``out`` by label and in ``env`` by name.

    A student's own value (an override) replaces the formula's, and ``computed``
    receives what the formula gave.
    """

    ch: Any
    env: dict
    out: dict
    ov: Mapping
    computed: dict | None
    step: int | None

    def __call__(self, name: str, values: list[Number]) -> list[Number]:
        labels = _labels(name, len(values), self.step)
        if self.computed is None and not self.ov:  # the common case, kept quick
            self.out.update(zip(labels, values, strict=True))
            self.env[name] = values
            return values
        vals = []
        for label, v in zip(labels, values, strict=True):
            if self.computed is not None:
                self.computed[label] = v
            if label in self.ov:
                v = self.ch.num(self.ov[label])
            self.out[label] = v
            vals.append(v)
        self.env[name] = vals
        return vals


@functools.lru_cache(maxsize=4096)
def _labels(name: str, cells: int, step: int | None) -> tuple[str, ...]:
    return tuple(make_label(name, c, step) for c in range(1, cells + 1))


def _dot(ch: Any, row: list[Number], z: list[Number]) -> Number:
    """Σ w·z from left to right, as a calculator adds the terms."""
    if len(row) != len(z):
        raise ValueError(f"a row of {len(row)} weights against {len(z)} values")
    return sum(map(operator.mul, row, z), ch.num(0))


def _cell(names: tuple[str, ...], ch: Any, env: dict, put: _Put, tw: Twist | None) -> None:
    """One step of the cell: the quantities among ``names`` into ``env`` and the output."""
    for letter, act_name, act_fn in GATES:
        if act_name not in names:
            continue
        z = env["h_prev"] + env["x"]
        if tw is Twist.SWAPPED_CONCAT:
            z = env["x"] + env["h_prev"]
        Wz = put(f"Wz_{letter}", [ch.rnd(_dot(ch, row, z)) for row in env[f"W_{letter}"]])
        if tw is Twist.NO_BIAS:
            a = put(f"a_{letter}", list(Wz))
        else:
            a = put(
                f"a_{letter}", [ch.rnd(w + b) for w, b in zip(Wz, env[f"b_{letter}"], strict=True)]
            )
        fn = ch.sigmoid if act_fn == "sigmoid" else ch.tanh
        if tw is Twist.TANH_GATE and act_fn == "sigmoid":
            fn = ch.tanh
        elif tw is Twist.SIGMOID_CANDIDATE and act_fn == "tanh":
            fn = ch.sigmoid
        elif tw is Twist.NO_ACTIVATION:
            fn = None
        elif tw is Twist.SIGN_SLIP and act_fn == "sigmoid":
            put(act_name, [ch.rnd(1 - ch.sigmoid(v)) for v in a])
            continue
        put(act_name, [ch.rnd(fn(v)) if fn else v for v in a])
        if letter == "C" and "fC" in names:
            _cell_state(ch, env, put, tw)

    if "fC" in names and "f_t" not in names:  # a cell_state problem: gates are given
        _cell_state(ch, env, put, tw)
    if "h_t" in names:
        o, C = env["o_t"], env["C_t"]
        tC = put("tanh_C", [ch.rnd(ch.tanh(c)) for c in C])
        if tw is Twist.H_NO_TANH:
            h = [oo * c for oo, c in zip(o, C, strict=True)]
        elif tw is Twist.H_OLD_C and "C_prev" in env:
            h = [oo * ch.rnd(ch.tanh(c)) for oo, c in zip(o, env["C_prev"], strict=True)]
        elif tw is Twist.H_TANH_OUTSIDE:
            h = [ch.tanh(oo * c) for oo, c in zip(o, C, strict=True)]
        else:
            h = [oo * t for oo, t in zip(o, tC, strict=True)]
        put("h_t", [ch.rnd(v) for v in h])


def _head(names: tuple[str, ...], ch: Any, env: dict, put: _Put, tw: Twist | None) -> None:
    """The dense layer on h_T: logits, softmax and class, or a prediction and its error."""
    h = env["C_t"] if tw is Twist.HEAD_ON_C else env["h_t"]
    bias = [ch.num(0)] * len(env["b_y"]) if tw is Twist.HEAD_NO_BIAS else env["b_y"]
    out = [ch.rnd(_dot(ch, row, h) + b) for row, b in zip(env["W_y"], bias, strict=True)]
    if "y_hat" in names:
        (y_hat,) = put("y_hat", out)
        err = y_hat - env["y"][0]
        put("sq_error", [ch.rnd(err if tw is Twist.ERROR_NOT_SQUARED else err * err)])
        return
    logits = put("logit", out)
    top = ch.largest(logits)  # e^(l - max) / sum: the same softmax, no overflow
    exps = [ch.exp(v - top) for v in logits]
    if tw is Twist.SOFTMAX_NO_NORM:
        probs = put("prob", [ch.rnd(ch.exp(v)) for v in logits])
    else:
        total = sum(exps[1:], exps[0])
        probs = put("prob", [ch.rnd(e / total) for e in exps])
    k = ch.first_max(probs)
    put("class", [ch.num(k if tw is Twist.CLASS_FROM_ZERO else k + 1)])


def _backward(ch: Any, env: dict, put: _Put, tw: Twist | None) -> None:
    """Backpropagation through the step just computed: the chain rule, one quantity at a time."""
    one = ch.num(1)
    dh, tC, o = env["dh_t"], env["tanh_C"], env["o_t"]
    f, i, Ct, Cp = env["f_t"], env["i_t"], env["C_tilde"], env["C_prev"]
    put("do_t", [ch.rnd(d * t) for d, t in zip(dh, tC, strict=True)])
    tanh_slope = (lambda t: one - t) if tw is Twist.TANH_DERIVATIVE else (lambda t: one - t * t)
    via_h = [d * oo * tanh_slope(t) for d, oo, t in zip(dh, o, tC, strict=True)]
    nxt = env["dC_next"]
    if tw is Twist.NO_NEXT_GRADIENT:
        dC_raw = via_h
    elif tw is Twist.NO_H_PATH:
        dC_raw = list(nxt)
    else:
        dC_raw = [a + b for a, b in zip(nxt, via_h, strict=True)]
    dC = put("dC_t", [ch.rnd(v) for v in dC_raw])
    put("df_t", [ch.rnd(d * c) for d, c in zip(dC, Cp, strict=True)])
    put("di_t", [ch.rnd(d * c) for d, c in zip(dC, Ct, strict=True)])
    put("dC_tilde", [ch.rnd(d * g) for d, g in zip(dC, i, strict=True)])

    def sigma_slope(g: Number) -> Number:
        return g if tw is Twist.SIGMA_AS_DERIVATIVE else g * (one - g)

    for letter, grad, act in GATE_GRADIENTS:
        slope = tanh_slope if act == "C_tilde" else sigma_slope
        put(
            f"da_{letter}", [ch.rnd(d * slope(a)) for d, a in zip(env[grad], env[act], strict=True)]
        )
    H = len(dh)
    dh_prev = []
    for j in range(H):  # dL/dh_{t-1}[j] = sum over gates and cells of W_g[c][j] * da_g[c]
        total = ch.num(0)
        for letter in "fiCo":
            W, da = env[f"W_{letter}"], env[f"da_{letter}"]
            for c in range(H):
                total += (W[j][c] if tw is Twist.NO_TRANSPOSE else W[c][j]) * da[c]
        dh_prev.append(ch.rnd(total))
    put("dh_prev", dh_prev)
    dC_prev = dC if tw is Twist.DC_PREV_NO_F else [d * g for d, g in zip(dC, f, strict=True)]
    put("dC_prev", [ch.rnd(v) for v in dC_prev])


def _parameters(
    ch: Any, g: Mapping[str, Any], out: dict, ov: Mapping, tw: Twist | None, computed: dict | None
) -> None:
    """Counts of an LSTM network (Keras' layout: one bias per gate), as whole numbers."""
    D, H, K, F, T = (int(g[n][0]) for n in ("D", "H", "K", "F", "T"))

    def put(name: str, value: int) -> Number:
        label = make_label(name, 1)
        v = ch.num(value)
        if computed is not None:
            computed[label] = v
        if label in ov:
            v = ch.num(ov[label])
        out[label] = v
        return v

    def gate(inputs: int) -> int:
        if tw is Twist.P_NO_BIAS:
            return H * (H + inputs)
        if tw is Twist.P_H_TIMES_D:
            return H * inputs + H
        return H * (H + inputs) + H

    gates = 1 if tw is Twist.P_ONE_GATE else 4
    p_gate = put("P_gate", gate(D))
    put("P_lstm", gates * int(p_gate))
    dense = put("P_dense", H * K if tw is Twist.P_DENSE_NO_BIAS else H * K + K)
    put("P_video", gates * gate(F) + int(dense))
    put("seq_steps", T)
    put("seq_units", H)
    put("last_units", H)


def _cell_state(ch: Any, env: dict, put: Any, tw: Twist | None) -> None:
    f, i, Ct, Cp = env["f_t"], env["i_t"], env["C_tilde"], env["C_prev"]
    if tw is Twist.CELL_PLUS:
        fC = put("fC", [ch.rnd(a + b) for a, b in zip(f, Cp, strict=True)])
    else:
        fC = put("fC", [ch.rnd(a * b) for a, b in zip(f, Cp, strict=True)])
    iC = put("iC", [ch.rnd(a * b) for a, b in zip(i, Ct, strict=True)])
    if tw is Twist.CELL_DROP_I:
        C = [a + b for a, b in zip(fC, Ct, strict=True)]
    elif tw is Twist.CELL_DROP_F:
        C = [a + b for a, b in zip(Cp, iC, strict=True)]
    else:
        C = [a + b for a, b in zip(fC, iC, strict=True)]
    put("C_t", [ch.rnd(v) for v in C])


# --- solutions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """One quantity in both chains."""

    full: float
    """The float64 full-precision value."""
    rounded: Decimal
    """The rounded-chain value, exact, at ``decimals`` places."""


@dataclass(frozen=True, slots=True)
class Solution:
    """Every intermediate of one problem, in both chains."""

    kind: Kind
    decimals: int
    values: Mapping[str, Value]
    """By label without the ``q`` prefix, in the order a student computes them."""
    asked: tuple[str, ...]
    """The asked labels, in the same order."""


def asked_labels(kind: Kind, computed: Sequence[str], show_steps: bool) -> tuple[str, ...]:
    """Which of the computed labels a problem asks."""
    info = KINDS[kind]
    wanted = set(info.asked) | (set(info.steps) if show_steps else set())
    return tuple(lab for lab in computed if label_name(lab) in wanted)


def solve(
    kind: Kind,
    givens: Mapping[str, Any],
    decimals: int = defaults.DECIMALS,
    show_steps: bool = True,
) -> Solution:
    """Solve a problem in both chains.

    >>> from decimal import Decimal as D
    >>> s = solve(Kind.CELL_STATE, {"f_t": [D("0.5")], "i_t": [D("0.5")],
    ...           "C_tilde": [D("0.25")], "C_prev": [D("1")]})
    >>> s.values["C_t[1]"].rounded
    Decimal('0.625')
    """
    return combine(kind, evaluate(kind, givens, FULL), givens, decimals, show_steps)


def combine(
    kind: Kind,
    full: Mapping[str, float],
    givens: Mapping[str, Any],
    decimals: int,
    show_steps: bool,
) -> Solution:
    """The Solution from an already computed full chain (adds the rounded chain)."""
    rounded = evaluate(kind, givens, Rounded(decimals))
    values = {lab: Value(full[lab], rounded[lab]) for lab in full}
    return Solution(
        kind, decimals, MappingProxyType(values), asked_labels(kind, list(full), show_steps)
    )
