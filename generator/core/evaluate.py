"""The one evaluator: every intermediate of a problem, in a chain of arithmetic.

One evaluator serves the whole product. It computes a problem's quantities in a
*chain* (:mod:`chains`):

* ``FULL`` -- float64 all the way (the full-precision chain);
* ``Rounded`` -- exact decimals, every named quantity rounded half away from zero
  before it is used, as a student with a calculator does.

It also takes *overrides* (a student's own earlier answers, for error carried
forward) and a *slip* (one misconception of the registry made at one step),
so grading and well-posedness reuse the very code that makes the key. A misconception
is its formulas (``a_f := Wz_f``, :mod:`formulas`): where a quantity is computed, its
formula for it (:func:`~formulas.formula_values`) stands in for the right one; the
three structural ones (``STRUCTURAL``) are named cases here.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Chain, Number
from lstm_exam.generator.core.formulas import WHOLE, Formula, formula_values
from lstm_exam.generator.core.misconceptions import Misconception, slip_formulas
from lstm_exam.generator.core.notation import (
    GATE_GRADIENTS,
    GATES,
    HEAD,
    KINDS,
    STATE,
    Kind,
    make_label,
    state_source,
)


def evaluate(
    kind: Kind,
    givens: Mapping[str, Any],
    chain: Chain = FULL,
    *,
    misconception: Misconception | None = None,
    step: int = 1,
    gate: str | None = None,
    overrides: Mapping[str, Decimal | float] | None = None,
    computed: dict[str, Number] | None = None,
) -> dict[str, Number]:
    """Compute every intermediate of a problem; return ``{label: value}``.

    Args:
        kind: the problem kind.
        givens: the given numbers by name (vectors, matrices, ``xs``).
        chain: the chain (:data:`FULL` or a :class:`Rounded`).
        misconception: a slip: this misconception made at step ``step`` only (steps
            count from 1; problems that are not sequences have the one step 1), and
            for a misconception of the gates in gate ``gate`` alone (None: in all).
        overrides: values to use instead of the computed ones, by label
            without the ``q`` prefix (a student's earlier answers).
        computed: if given, receives each label's value as the formula gives it
            from the (overridden) values before it: error carried forward.

    Labels have no ``q<problem>.`` prefix: ``Wz_f[1]``, ``t2.h_t[3]``.
    """
    g = prepare(givens, chain)
    return evaluate_prepared(
        kind,
        g,
        chain,
        misconception=misconception,
        step=step,
        gate=gate,
        overrides=overrides,
        computed=computed,
    )


def prepare(givens: Mapping[str, Any], chain: Chain = FULL) -> dict[str, Any]:
    """The givens converted to the chain's numbers, for repeated evaluation (in the
    project's decimal precision, as every evaluation is)."""
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        return {k: _convert(chain, v) for k, v in givens.items()}


def evaluate_prepared(
    kind: Kind,
    givens: Mapping[str, Any],
    chain: Chain = FULL,
    *,
    misconception: Misconception | None = None,
    step: int = 1,
    gate: str | None = None,
    overrides: Mapping[str, Decimal | float] | None = None,
    computed: dict[str, Number] | None = None,
) -> dict[str, Number]:
    """:func:`evaluate` on givens already :func:`prepare`-d for ``chain``."""
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        return _evaluate(
            kind, givens, chain, _Slip(misconception, step, gate), overrides or {}, computed
        )


def redo_with_slip(
    kind: Kind,
    givens: Mapping[str, Any],
    chain: Chain,
    base: Mapping[str, Number],
    *,
    misconception: Misconception,
    step: int,
    start: int,
    until: int | None,
    gate: str | None = None,
) -> dict[str, Number]:
    """The chain with a misconception, redone only where it changes (well-posedness).

    For a sequence, the evaluation starts at step ``start`` from the h_t and C_t that
    ``base`` (the evaluation without it, in ``chain``) holds for step ``start - 1``, and
    stops after step ``until`` (None: through the output layer); the result holds
    those steps only.
    """
    with localcontext(prec=defaults.DECIMAL_PRECISION):
        slip = _Slip(misconception, step, gate)
        return _evaluate(kind, givens, chain, slip, {}, None, until, (start, base))


@dataclass(frozen=True, slots=True)
class _Slip:
    """A misconception as the evaluator applies it: at a step, in one gate or all."""

    misconception: Misconception | None
    step: int = 1
    gate: str | None = None

    def at(self, step: int) -> Misconception | None:
        return self.misconception if self.step == step else None

    def in_gate(self, misconception: Misconception | None, letter: str) -> Misconception | None:
        """``misconception`` where it applies in gate ``letter``."""
        return misconception if self.gate is None or self.gate == letter else None

    def formulas(self, misconception: Misconception | None) -> Alter:
        """The formulas ``misconception`` (this slip's, or None) puts in place, by
        quantity; None for none (the evaluator's quick path)."""
        return None if misconception is None else slip_formulas(misconception, self.gate) or None


Alter = Mapping[str, Formula] | None


def _evaluate(
    kind: Kind,
    givens: Mapping[str, Any],
    chain: Chain,
    slip: _Slip,
    overrides: Mapping[str, Decimal | float],
    computed: dict[str, Number] | None,
    until: int | None = None,
    resume: tuple[int, Mapping[str, Number]] | None = None,
) -> dict[str, Number]:
    out: dict[str, Number] = {}
    misconception = slip.misconception
    if kind is Kind.PARAMETERS:
        _parameters(chain, givens, out, overrides, slip.formulas(misconception), computed)
        return out
    names = KINDS[kind].order
    # a slip in one gate, redone from the chain without it: at the slip's step the other
    # gates read the same numbers as in that chain, so they are taken from it
    same = resume[1] if resume is not None and slip.gate is not None else None
    if KINDS[kind].stepped:
        first, base = resume if resume is not None and resume[0] > 1 else (1, {})
        state = {}
        for name in STATE:  # what the first step computed reads: given, or from `resume`
            src, at = state_source(name, first)
            cells = range(1, len(givens[STATE[name][1]]) + 1)
            state[name] = (
                givens[src] if at is None else [base[make_label(src, c, at)] for c in cells]
            )
        h, C = state["h_prev"], state["C_prev"]
        for t, x in enumerate(givens["xs"][first - 1 :], start=first):
            env = {**givens, "x": x, "h_prev": h, "C_prev": C}
            tw = slip.at(t)
            if tw is Misconception.SEQ_REUSE and t > 1:  # as if it were the first step
                for name in STATE:
                    env[name] = givens[state_source(name, 1)[0]]
            put = _Put(chain, env, out, overrides, computed, t)
            _cell(names, chain, env, put, tw, slip, same if t == slip.step else None)
            h, C = env["h_t"], env["C_t"]
            if t == until:
                return out
        if names[-1] in HEAD:
            head = {**givens, "h_t": h, "C_t": C}
            _head(
                names,
                chain,
                head,
                _Put(chain, head, out, overrides, computed, None),
                slip.formulas(misconception),
            )
    else:
        env = dict(givens)
        put = _Put(chain, env, out, overrides, computed, None)
        _cell(names, chain, env, put, slip.at(1), slip, same)
        if "dh_prev" in names:
            _backward(chain, env, put, misconception, slip.formulas(misconception))
    return out


def _convert(chain: Chain, value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        return chain.num(value)
    if value and isinstance(value[0], (list, tuple)):
        return [_convert(chain, e) for e in value]
    return list(map(chain.num, value))


@dataclass(frozen=True, slots=True)
class _Put:
    """Stores one quantity's values: in ``out`` by label and in ``env`` by name.

    A student's own value (an override) replaces the formula's, and ``computed``
    receives what the formula gave.
    """

    ch: Chain
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


def _dot(chain: Chain, row: list[Number], z: list[Number]) -> Number:
    """Σ w·z from left to right, as a calculator adds the terms."""
    if len(row) != len(z):
        raise ValueError(f"a row of {len(row)} weights against {len(z)} values")
    return added(map(operator.mul, row, z), chain.num(0))


def added(terms: Iterable[Number], start: Number) -> Number:
    """``start + t1 + t2 + ...``, from left to right, one rounding an addition: the sum
    a calculator (and Python 3.11's ``sum``) makes. Never ``sum``: from Python 3.12 on it
    compensates a float sum (Neumaier), so the last bits would depend on the interpreter."""
    total = start
    for term in terms:
        total = total + term  # not +=: it would add into a numpy array in place
    return total


def _cell(
    names: tuple[str, ...],
    chain: Chain,
    env: dict,
    put: _Put,
    step_tw: Misconception | None,
    slip: _Slip,
    same: Mapping[str, Number] | None = None,
) -> None:
    """One step of the cell: the quantities among ``names`` into ``env`` and the output.

    ``step_tw`` is the misconception at this step; a misconception of the gates applies
    in ``slip.gate`` alone when it names one (:meth:`_Slip.formulas`). ``same``: the
    values of this step in the same chain without the slip, computed from the same
    h_{t-1}, x_t and weights; the gates the slip leaves alone are taken from it (the
    same operations on the same numbers give the same values)."""
    alter = slip.formulas(step_tw)
    for letter, act_name, act_fn in GATES:
        if act_name not in names:
            continue
        if same is not None and letter != slip.gate:
            for name in (f"Wz_{letter}", f"a_{letter}", act_name):
                cells = len(env[f"W_{letter}"])
                put(name, [same[label] for label in _labels(name, cells, put.step)])
            if letter == "C" and "fC" in names:
                _cell_state(chain, env, put, alter)
            continue
        z = env["h_prev"] + env["x"]
        if slip.in_gate(step_tw, letter) is Misconception.SWAPPED_CONCAT:
            z = env["x"] + env["h_prev"]
        W = env[f"W_{letter}"]
        Wz = put(f"Wz_{letter}", [chain.rnd(_dot(chain, row, z)) for row in W])
        name, b = f"a_{letter}", env[f"b_{letter}"]
        a = _altered(chain, alter, name, env, len(W)) if alter else None
        a = put(name, a or [chain.rnd(w + bb) for w, bb in zip(Wz, b, strict=True)])
        fn = chain.sigmoid if act_fn == "sigmoid" else chain.tanh
        act = _altered(chain, alter, act_name, env, len(W)) if alter else None
        put(act_name, act or [chain.rnd(fn(v)) for v in a])
        if letter == "C" and "fC" in names:
            _cell_state(chain, env, put, alter)

    if "fC" in names and "f_t" not in names:  # a cell_state problem: gates are given
        _cell_state(chain, env, put, alter)
    if "h_t" in names:
        o, C = env["o_t"], env["C_t"]
        tC = put("tanh_C", [chain.rnd(chain.tanh(c)) for c in C])
        h = _altered(chain, alter, "h_t", env, len(C)) if alter else None
        put("h_t", h or [chain.rnd(oo * t) for oo, t in zip(o, tC, strict=True)])


def _altered(chain: Chain, alter: Mapping[str, Formula], name: str, env: dict, cells: int) -> Any:
    """The values of ``name`` by the misconception's formula, or None: by the right one
    (callers skip the call where no misconception applies: ``alter`` is None)."""
    f = alter.get(name)
    return None if f is None else formula_values(chain, f, env, cells, _dot)


def _head(names: tuple[str, ...], chain: Chain, env: dict, put: _Put, alter: Alter) -> None:
    """The dense layer on h_T: logits, softmax and class, or a prediction and its error."""
    W, h = env["W_y"], env["h_t"]
    name = "y_hat" if "y_hat" in names else "logit"
    out = _altered(chain, alter, name, env, len(W)) if alter else None
    if out is None:
        out = [chain.rnd(_dot(chain, row, h) + b) for row, b in zip(W, env["b_y"], strict=True)]
    if name == "y_hat":
        (y_hat,) = put("y_hat", out)
        err = y_hat - env["y"][0]
        sq_error = _altered(chain, alter, "sq_error", env, 1) if alter else None
        put("sq_error", sq_error or [chain.rnd(err * err)])
        return
    logits = put("logit", out)
    probs = _altered(chain, alter, "prob", env, len(W)) if alter else None
    if probs is None:
        top = chain.largest(logits)  # e^(l - max) / sum: the same softmax, no overflow
        exps = [chain.exp(v - top) for v in logits]
        total = added(exps[1:], exps[0])
        probs = [chain.rnd(e / total) for e in exps]
    probs = put("prob", probs)
    k = _altered(chain, alter, "class", env, 1) if alter else None
    put("class", k or [chain.num(chain.first_max(probs) + 1)])


def _backward(
    chain: Chain, env: dict, put: _Put, misconception: Misconception | None, alter: Alter
) -> None:
    """Backpropagation through the step just computed: the chain rule, one quantity at a time."""
    one = chain.num(1)
    dh, tC, o = env["dh_t"], env["tanh_C"], env["o_t"]
    f, i, Ct, Cp = env["f_t"], env["i_t"], env["C_tilde"], env["C_prev"]
    H = len(dh)
    put("do_t", [chain.rnd(d * t) for d, t in zip(dh, tC, strict=True)])
    dC = _altered(chain, alter, "dC_t", env, H) if alter else None
    if dC is None:
        via_h = [d * oo * (one - t * t) for d, oo, t in zip(dh, o, tC, strict=True)]
        dC = [chain.rnd(a + b) for a, b in zip(env["dC_next"], via_h, strict=True)]
    dC = put("dC_t", dC)
    put("df_t", [chain.rnd(d * c) for d, c in zip(dC, Cp, strict=True)])
    put("di_t", [chain.rnd(d * c) for d, c in zip(dC, Ct, strict=True)])
    put("dC_tilde", [chain.rnd(d * g) for d, g in zip(dC, i, strict=True)])

    for letter, grad, act in GATE_GRADIENTS:
        name = f"da_{letter}"
        da = _altered(chain, alter, name, env, H) if alter else None
        if da is None:
            slope = (lambda t: one - t * t) if act == "C_tilde" else (lambda g: g * (one - g))
            da = [chain.rnd(d * slope(a)) for d, a in zip(env[grad], env[act], strict=True)]
        put(name, da)
    dh_prev = []
    for j in range(H):  # dL/dh_{t-1}[j] = sum over gates and cells of W_g[c][j] * da_g[c]
        total = chain.num(0)
        for letter in "fiCo":
            W, da = env[f"W_{letter}"], env[f"da_{letter}"]
            for c in range(H):
                total += (W[j][c] if misconception is Misconception.NO_TRANSPOSE else W[c][j]) * da[
                    c
                ]
        dh_prev.append(chain.rnd(total))
    put("dh_prev", dh_prev)
    dC_prev = _altered(chain, alter, "dC_prev", env, H) if alter else None
    put("dC_prev", dC_prev or [chain.rnd(d * g) for d, g in zip(dC, f, strict=True)])


def _parameters(
    chain: Chain,
    givens: Mapping[str, Any],
    out: dict,
    overrides: Mapping,
    alter: Alter,
    computed: dict | None,
) -> None:
    """Counts of an LSTM network (Keras' layout: one bias per gate), as whole numbers."""
    counts = {n: [int(givens[n][0])] for n in ("D", "H", "K", "F", "T")}
    D, H, K, F, T = (counts[n][0] for n in ("D", "H", "K", "F", "T"))

    def put(name: str, value: int) -> Number:
        f = alter and alter.get(name)
        if f:
            (value,) = formula_values(WHOLE, f, counts, 1, _dot) or (value,)
        label = make_label(name, 1)
        v = chain.num(value)
        if computed is not None:
            computed[label] = v
        if label in overrides:
            v = chain.num(overrides[label])
        out[label] = v
        counts[name] = [int(v)]
        return v

    p_gate = put("P_gate", H * (H + D) + H)
    put("P_lstm", 4 * int(p_gate))
    dense = put("P_dense", H * K + K)
    put("P_video", 4 * (H * (H + F) + H) + int(dense))
    put("seq_steps", T)
    put("seq_units", H)
    put("last_units", H)


def _cell_state(chain: Chain, env: dict, put: Any, alter: Alter) -> None:
    f, i, Ct, Cp = env["f_t"], env["i_t"], env["C_tilde"], env["C_prev"]
    H = len(f)
    fC = _altered(chain, alter, "fC", env, H) if alter else None
    fC = put("fC", fC or [chain.rnd(a * b) for a, b in zip(f, Cp, strict=True)])
    iC = _altered(chain, alter, "iC", env, H) if alter else None
    iC = put("iC", iC or [chain.rnd(a * b) for a, b in zip(i, Ct, strict=True)])
    C = _altered(chain, alter, "C_t", env, H) if alter else None
    put("C_t", C or [chain.rnd(a + b) for a, b in zip(fC, iC, strict=True)])
