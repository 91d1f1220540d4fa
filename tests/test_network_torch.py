"""The network kinds (backward_step, classification, regression) against torch, in float64.

The gate mapping is the one of ``tests/test_torch_agreement.py``: the lecture's
``W_g`` (H x (H + D), the h columns first, ``z = [h_{t-1}, x_t]``) is torch's
row block ``g`` of ``weight_hh`` (first H columns) and ``weight_ih`` (last D
columns), with the blocks stacked in torch's order **i, f, g, o** (torch's
``g`` is the lecture's candidate C~_t); ``b_g = bias_ih[g] + bias_hh[g]``,
split at random.

* ``backward_step`` -- two torch graphs of the loss
  ``L = sum(h_t * dh_t) + sum(C_t * dC_next)``: the lecture's formulas written
  in torch ops with ``retain_grad`` on every pre-activation, gate and ``C_t``;
  and ``torch.nn.LSTMCell`` with the mapped parameters, whose ``bias_ih.grad``
  is the four pre-activation gradients (stacked i, f, g, o) and whose
  ``h.grad``, ``c.grad`` are dL/dh_{t-1}, dL/dC_{t-1}.
* ``classification`` / ``regression`` -- ``torch.nn.LSTM`` with the mapped
  parameters, then ``torch.nn.Linear`` (weight ``W_y``, bias ``b_y``) and
  ``torch.softmax`` or the squared error.

Givens are exact decimals ``Decimal(str(round(x, 3)))`` drawn from a seeded
``random.Random``; torch gets the same numbers as float64.  The sensitivity
tests feed the same comparisons a misconception (:class:`Misconception`) to show they
do fail when the solver's formula is wrong.
"""

from __future__ import annotations

import math
import random
import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Misconception
from lstm_exam.generator.core.notation import BACKWARD, Kind

try:
    import torch
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None

SKIP_REASON = (
    "torch==2.13.0 is not installed: the backward_step / classification / regression "
    "cross-check against torch did NOT run (pip install torch==2.13.0)"
)

#: The largest |full chain - torch| allowed for any compared quantity.
TOL = 1e-12

N_BACKWARD = 500
N_SEQUENCES = 200

#: Lecture gate letter -> torch's block index in the stacked (i, f, g, o) weights.
TORCH_BLOCK = {"i": 0, "f": 1, "C": 2, "o": 3}
#: Lecture gate letter -> the name of its activation output in the solver's labels.
GATE_OUTPUT = {"f": "f_t", "i": "i_t", "C": "C_tilde", "o": "o_t"}
#: Lecture gate letter -> the solver's gradient of its activation output.
GATE_GRAD = {"f": "df_t", "i": "di_t", "C": "dC_tilde", "o": "do_t"}

W_LIM = 2.0  # |weights|, |biases| (gates and dense layer)
V_LIM = 1.5  # |h|, |x|, |C| given
G_LIM = 2.0  # |dh_t|, |dC_next|
Y_LIM = 3.0  # |y|


@pytest.fixture(scope="module")
def tch():
    """The torch module, or a loud skip when it is missing."""
    if torch is None:
        pytest.skip(SKIP_REASON)
    return torch


# --- random problems (seeded random.Random, exact 3-place decimals) --------------


def _num(rng: random.Random, lim: float) -> Decimal:
    return Decimal(str(round(rng.uniform(-lim, lim), 3)))


def _vec(rng: random.Random, n: int, lim: float) -> list[Decimal]:
    return [_num(rng, lim) for _ in range(n)]


def _mat(rng: random.Random, rows: int, cols: int, lim: float) -> list[list[Decimal]]:
    return [_vec(rng, cols, lim) for _ in range(rows)]


def _gate_weights(rng: random.Random, H: int, D: int) -> dict[str, list]:
    g: dict[str, list] = {}
    for letter in "fiCo":
        g[f"W_{letter}"] = _mat(rng, H, H + D, W_LIM)
        g[f"b_{letter}"] = _vec(rng, H, W_LIM)
    return g


def _backward_givens(rng: random.Random, H: int, D: int) -> dict[str, list]:
    return {
        "h_prev": _vec(rng, H, V_LIM),
        "x": _vec(rng, D, V_LIM),
        "C_prev": _vec(rng, H, V_LIM),
        **_gate_weights(rng, H, D),
        "dh_t": _vec(rng, H, G_LIM),
        "dC_next": _vec(rng, H, G_LIM),
    }


def _sequence_givens(
    rng: random.Random, kind: Kind, H: int, D: int, T: int, K: int
) -> dict[str, list]:
    g = {
        "h_0": _vec(rng, H, V_LIM),
        "C_0": _vec(rng, H, V_LIM),
        "xs": _mat(rng, T, D, V_LIM),
        **_gate_weights(rng, H, D),
    }
    if kind is Kind.CLASSIFICATION:
        g.update(W_y=_mat(rng, K, H, W_LIM), b_y=_vec(rng, K, W_LIM))
    else:
        g.update(W_y=_mat(rng, 1, H, W_LIM), b_y=_vec(rng, 1, W_LIM), y=_vec(rng, 1, Y_LIM))
    return g


# --- torch ---------------------------------------------------------------------


def _t(tch, v):
    """Decimals (vector or matrix) -> a float64 tensor of the same numbers."""
    if v and isinstance(v[0], list):
        return tch.tensor([[float(e) for e in row] for row in v], dtype=tch.float64)
    return tch.tensor([float(e) for e in v], dtype=tch.float64)


def _torch_params(tch, g: dict, H: int, rng: random.Random):
    """(weight_ih, weight_hh, bias_ih, bias_hh) in torch's (i, f, g, o) layout."""
    order = sorted(TORCH_BLOCK, key=TORCH_BLOCK.get)  # i, f, C, o
    w_hh = tch.cat([_t(tch, g[f"W_{c}"])[:, :H] for c in order])  # 4H x H
    w_ih = tch.cat([_t(tch, g[f"W_{c}"])[:, H:] for c in order])  # 4H x D
    b = tch.cat([_t(tch, g[f"b_{c}"]) for c in order])
    b_ih = tch.tensor([rng.uniform(-W_LIM, W_LIM) for _ in range(4 * H)], dtype=tch.float64)
    return w_ih, w_hh, b_ih, b - b_ih


def _load(tch, module, params, suffix: str = "") -> None:
    with tch.no_grad():
        for name, p in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), params, strict=True):
            getattr(module, f"{name}{suffix}").copy_(p)


def _cells(name: str, tensor, step: int | None = None) -> dict[str, float]:
    """``{name[c]: value}`` (or ``t<step>.name[c]``) from a 1-D tensor, cells from 1."""
    prefix = f"t{step}." if step is not None else ""
    return {f"{prefix}{name}[{c}]": float(v) for c, v in enumerate(tensor.tolist(), start=1)}


def _torch_backward(tch, g: dict, H: int, D: int, rng: random.Random) -> dict[str, dict]:
    """The backward_step quantities from torch autograd, by source.

    ``"formulas"``: the lecture's step written in torch ops (retain_grad on
    a_g, the gates and C_t); ``"LSTMCell"``: torch's own cell with the mapped
    parameters (bias_ih.grad = dL/da in the (i, f, g, o) blocks).
    """
    dh, dC_next = _t(tch, g["dh_t"]), _t(tch, g["dC_next"])

    # 1. the lecture's formulas, in torch
    h_prev = _t(tch, g["h_prev"]).requires_grad_()
    C_prev = _t(tch, g["C_prev"]).requires_grad_()
    z = tch.cat([h_prev, _t(tch, g["x"])])
    pre, act = {}, {}
    for letter in "fiCo":
        a = _t(tch, g[f"W_{letter}"]) @ z + _t(tch, g[f"b_{letter}"])
        a.retain_grad()
        y = tch.tanh(a) if letter == "C" else tch.sigmoid(a)
        y.retain_grad()
        pre[letter], act[letter] = a, y
    C_t = act["f"] * C_prev + act["i"] * act["C"]
    C_t.retain_grad()
    h_t = act["o"] * tch.tanh(C_t)
    ((h_t * dh).sum() + (C_t * dC_next).sum()).backward()
    formulas: dict[str, float] = {}
    formulas |= _cells("C_t", C_t.detach()) | _cells("h_t", h_t.detach())
    for letter in "fiCo":
        formulas |= _cells(GATE_OUTPUT[letter], act[letter].detach())
        formulas |= _cells(GATE_GRAD[letter], act[letter].grad)
        formulas |= _cells(f"da_{letter}", pre[letter].grad)
    formulas |= _cells("dC_t", C_t.grad)
    formulas |= _cells("dh_prev", h_prev.grad) | _cells("dC_prev", C_prev.grad)

    # 2. torch.nn.LSTMCell
    cell = tch.nn.LSTMCell(D, H, dtype=tch.float64)
    _load(tch, cell, _torch_params(tch, g, H, rng))
    h = _t(tch, g["h_prev"]).unsqueeze(0).requires_grad_()
    c = _t(tch, g["C_prev"]).unsqueeze(0).requires_grad_()
    h1, c1 = cell(_t(tch, g["x"]).unsqueeze(0), (h, c))
    ((h1[0] * dh).sum() + (c1[0] * dC_next).sum()).backward()
    blocks = cell.bias_ih.grad.chunk(4)
    lstmcell: dict[str, float] = _cells("h_t", h1[0].detach()) | _cells("C_t", c1[0].detach())
    for letter, k in TORCH_BLOCK.items():
        lstmcell |= _cells(f"da_{letter}", blocks[k])
    lstmcell |= _cells("dh_prev", h.grad[0]) | _cells("dC_prev", c.grad[0])
    # dL/dh_{t-1} again, through the weights: weight_hh.grad = dL/da (outer) h_{t-1}
    assert tch.allclose(
        cell.weight_hh.grad, tch.outer(cell.bias_ih.grad, h[0].detach()), rtol=0, atol=1e-13
    )
    return {"formulas": formulas, "LSTMCell": lstmcell}


def _torch_sequence(tch, kind: Kind, g: dict, H: int, D: int, rng: random.Random) -> dict:
    """Every step's h_t and C_t and the head's outputs, from nn.LSTM + nn.Linear, by source.

    ``"LSTM"``: one call on the whole sequence (each step's h_t, the last C_t,
    the head); ``"LSTM stepwise"``: the same module fed one step at a time
    (each step's h_t and C_t).
    """
    lstm = tch.nn.LSTM(D, H, num_layers=1, dtype=tch.float64)
    _load(tch, lstm, _torch_params(tch, g, H, rng), suffix="_l0")
    W_y = _t(tch, g["W_y"])
    dense = tch.nn.Linear(H, W_y.shape[0], dtype=tch.float64)
    with tch.no_grad():
        dense.weight.copy_(W_y)
        dense.bias.copy_(_t(tch, g["b_y"]))

    xs = _t(tch, g["xs"]).unsqueeze(1)  # T x 1 x D
    T = xs.shape[0]
    state = (_t(tch, g["h_0"]).view(1, 1, H), _t(tch, g["C_0"]).view(1, 1, H))
    out: dict[str, float] = {}
    stepwise: dict[str, float] = {}
    with tch.no_grad():
        seq, (h_n, c_n) = lstm(xs, state)
        # the whole sequence: every step's h_t (the output) and the last C_t (c_n)
        for t in range(1, T + 1):
            out |= _cells("h_t", seq[t - 1, 0], t)
        out |= _cells("C_t", c_n[0, 0], T)
        # the same module one step at a time: every step's h_t and C_t
        h, c = state
        for t in range(1, T + 1):
            _, (h, c) = lstm(xs[t - 1 : t], (h, c))
            stepwise |= _cells("h_t", h[0, 0], t) | _cells("C_t", c[0, 0], t)
        y = dense(h_n[0, 0])
        if kind is Kind.CLASSIFICATION:
            probs = tch.softmax(y, dim=0)
            out |= _cells("logit", y) | _cells("prob", probs)
            out["class[1]"] = float(int(tch.argmax(probs)) + 1)
        else:
            target = _t(tch, g["y"])
            out |= _cells("y_hat", y)
            out["sq_error[1]"] = float(
                tch.nn.functional.mse_loss(y, target, reduction="sum").item()
            )
    return {"LSTM": out, "LSTM stepwise": stepwise}


def _diffs(solver: dict, theirs: dict[str, float]) -> dict[str, float]:
    """|solver - torch| by label, over torch's labels (a missing label is a KeyError)."""
    return {lab: abs(float(solver[lab]) - v) for lab, v in theirs.items()}


def _quantity(label: str) -> str:
    return label.rpartition(".")[2].partition("[")[0]


def _worst_by_quantity(diffs: dict[str, float], into: dict[str, float]) -> None:
    for lab, d in diffs.items():
        q = _quantity(lab)
        into[q] = max(into.get(q, 0.0), d)


def _report(worst: dict[str, float]) -> str:
    return ", ".join(f"{q} {d:.2e}" for q, d in sorted(worst.items()))


# --- backward_step -------------------------------------------------------------


@pytest.mark.torch
def test_backward_step_matches_torch_autograd(tch, record_property):
    """500 random steps (H, D in 1..4): every gradient agrees with torch autograd to 1e-12."""
    rng = random.Random(20240612)
    worst: dict[str, dict[str, float]] = {"formulas": {}, "LSTMCell": {}}
    sizes = set()
    start = time.perf_counter()
    for n in range(N_BACKWARD):
        H, D = rng.randint(1, 4), rng.randint(1, 4)
        sizes.add((H, D))
        g = _backward_givens(rng, H, D)
        out = evaluate(Kind.BACKWARD_STEP, g, FULL)
        for source, theirs in _torch_backward(tch, g, H, D, rng).items():
            diffs = _diffs(out, theirs)
            _worst_by_quantity(diffs, worst[source])
            lab = max(diffs, key=diffs.get)
            assert diffs[lab] <= TOL, (
                f"backward_step #{n} (H={H}, D={D}) vs torch {source}: {lab} solver "
                f"{out[lab]!r} torch {theirs[lab]!r} (|diff| {diffs[lab]:.3e})\ngivens: {g}"
            )
    elapsed = time.perf_counter() - start
    # every gradient the kind asks was compared, by the formula graph
    assert set(worst["formulas"]) >= set(BACKWARD), set(BACKWARD) - set(worst["formulas"])
    assert {"da_f", "da_i", "da_C", "da_o", "dh_prev", "dC_prev"} <= set(worst["LSTMCell"])
    assert sizes == {(H, D) for H in range(1, 5) for D in range(1, 5)}
    overall = max(max(w.values()) for w in worst.values())
    record_property("backward_step_max_abs_diff", overall)
    print(
        f"\nbackward_step: {N_BACKWARD} steps in {elapsed:.2f}s, max |solver - torch| "
        f"{overall:.3e}\n  formulas: {_report(worst['formulas'])}"
        f"\n  LSTMCell: {_report(worst['LSTMCell'])}"
    )
    assert overall <= TOL, f"max |solver - torch| {overall:.3e} > {TOL}: {worst}"


# --- classification and regression ----------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("kind", [Kind.CLASSIFICATION, Kind.REGRESSION])
def test_network_matches_torch_lstm_and_linear(tch, record_property, kind):
    """200 random sequences (H, D, T in 1..4, K in 2..5) through nn.LSTM + nn.Linear."""
    rng = random.Random(7032 if kind is Kind.CLASSIFICATION else 7033)
    worst: dict[str, dict[str, float]] = {"LSTM": {}, "LSTM stepwise": {}}
    seen_T, seen_K, classes = set(), set(), set()
    head = {"logit", "prob", "class"} if kind is Kind.CLASSIFICATION else {"y_hat", "sq_error"}
    start = time.perf_counter()
    for n in range(N_SEQUENCES):
        H, D, T, K = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 4), rng.randint(2, 5)
        seen_T.add(T)
        seen_K.add(K)
        g = _sequence_givens(rng, kind, H, D, T, K)
        out = evaluate(kind, g, FULL)
        assert not any(lab.startswith(f"t{T + 1}.") for lab in out)
        by_source = _torch_sequence(tch, kind, g, H, D, rng)
        assert {_quantity(lab) for lab in by_source["LSTM"]} == {"h_t", "C_t", *head}
        if kind is Kind.CLASSIFICATION:
            theirs = by_source["LSTM"]
            assert out["class[1]"] == theirs["class[1]"], (
                f"sequence #{n}: class {out['class[1]']} but torch argmax + 1 = "
                f"{theirs['class[1]']}\nprobs: {[out[f'prob[{k}]'] for k in range(1, K + 1)]}"
            )
            classes.add(int(out["class[1]"]))
        for source, theirs in by_source.items():
            diffs = _diffs(out, theirs)
            _worst_by_quantity(diffs, worst[source])
            lab = max(diffs, key=diffs.get)
            assert diffs[lab] <= TOL, (
                f"{kind} #{n} (H={H}, D={D}, T={T}, K={K}) vs torch {source}: {lab} solver "
                f"{out[lab]!r} torch {theirs[lab]!r} (|diff| {diffs[lab]:.3e})\ngivens: {g}"
            )
    elapsed = time.perf_counter() - start
    assert seen_T == {1, 2, 3, 4}
    if kind is Kind.CLASSIFICATION:
        assert seen_K == {2, 3, 4, 5}
        assert classes == {1, 2, 3, 4, 5}, classes
    overall = max(max(w.values()) for w in worst.values())
    record_property(f"{kind}_max_abs_diff", overall)
    print(
        f"\n{kind}: {N_SEQUENCES} sequences in {elapsed:.2f}s, max |solver - torch| "
        f"{overall:.3e}\n  LSTM: {_report(worst['LSTM'])}"
        f"\n  LSTM stepwise: {_report(worst['LSTM stepwise'])}"
    )
    assert overall <= TOL, f"max |solver - torch| {overall:.3e} > {TOL}: {worst}"


# --- the comparisons can fail ---------------------------------------------------

_BACKWARD_TWISTS = [
    Misconception.SIGMA_AS_DERIVATIVE,
    Misconception.TANH_DERIVATIVE,
    Misconception.NO_NEXT_GRADIENT,
    Misconception.NO_H_PATH,
    Misconception.DC_PREV_NO_F,
    Misconception.NO_TRANSPOSE,
]


@pytest.mark.torch
@pytest.mark.parametrize("twist", _BACKWARD_TWISTS, ids=lambda t: t.name)
def test_backward_comparison_catches_a_wrong_gradient(tch, twist):
    """A misconception in the solver's backward step shows up as a torch disagreement."""
    rng = random.Random(5)
    worst = 0.0
    for _ in range(20):
        H, D = rng.randint(2, 4), rng.randint(1, 4)  # H >= 2: W^T differs from W
        g = _backward_givens(rng, H, D)
        out = evaluate(Kind.BACKWARD_STEP, g, FULL, misconception=twist)
        theirs = _torch_backward(tch, g, H, D, rng)["formulas"]
        d = _diffs(out, theirs)
        assert max(d[lab] for lab in d if _quantity(lab) in twist.alters) > TOL
        worst = max(worst, max(d.values()))
    assert worst > 1e-2, f"{twist.name}: the comparison saw at most {worst:.3e}"


@pytest.mark.torch
@pytest.mark.parametrize(
    ("kind", "twist"),
    [
        (Kind.CLASSIFICATION, Misconception.HEAD_ON_C),
        (Kind.CLASSIFICATION, Misconception.HEAD_NO_BIAS),
        (Kind.CLASSIFICATION, Misconception.SOFTMAX_NO_NORM),
        (Kind.CLASSIFICATION, Misconception.CLASS_FROM_ZERO),
        (Kind.CLASSIFICATION, Misconception.SEQ_REUSE),
        (Kind.REGRESSION, Misconception.HEAD_ON_C),
        (Kind.REGRESSION, Misconception.ERROR_NOT_SQUARED),
        (Kind.REGRESSION, Misconception.SEQ_REUSE),
    ],
    ids=lambda v: v.name if isinstance(v, Misconception) else str(v),
)
def test_network_comparison_catches_a_wrong_head(tch, kind, twist):
    """A misconception in the head (or the recurrence) shows up as a torch disagreement."""
    rng = random.Random(6)
    worst = 0.0
    for _ in range(20):
        H, D, T, K = rng.randint(1, 4), rng.randint(1, 4), rng.randint(2, 4), rng.randint(2, 5)
        g = _sequence_givens(rng, kind, H, D, T, K)
        out = evaluate(kind, g, FULL, misconception=twist, step=T)
        theirs = _torch_sequence(tch, kind, g, H, D, rng)["LSTM"]
        worst = max(worst, max(_diffs(out, theirs).values()))
    assert worst > 1e-2, f"{kind} {twist.name}: the comparison saw at most {worst:.3e}"


# --- properties (hypothesis) -----------------------------------------------------

#: No example database: nothing is replayed from or saved for earlier runs.
PROPS = settings(max_examples=100, deadline=None, database=None)


def _dec(lim: float, places: int = 3) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(str(-lim)), max_value=Decimal(str(lim)), places=places)


def _draw_vec(draw: st.DrawFn, n: int, lim: float) -> list[Decimal]:
    return draw(st.lists(_dec(lim), min_size=n, max_size=n))


def _draw_gates(draw: st.DrawFn, H: int, D: int) -> dict[str, list]:
    g: dict[str, list] = {}
    for letter in "fiCo":
        g[f"W_{letter}"] = [_draw_vec(draw, H + D, W_LIM) for _ in range(H)]
        g[f"b_{letter}"] = _draw_vec(draw, H, W_LIM)
    return g


@st.composite
def classifications(draw: st.DrawFn) -> tuple[int, dict]:
    """(K, givens) of a classification problem: H, D, T in 1..4, K in 2..5."""
    H, D, T, K = (draw(st.integers(lo, hi)) for lo, hi in ((1, 4), (1, 4), (1, 4), (2, 5)))
    g = {
        "h_0": _draw_vec(draw, H, V_LIM),
        "C_0": _draw_vec(draw, H, V_LIM),
        "xs": [_draw_vec(draw, D, V_LIM) for _ in range(T)],
        **_draw_gates(draw, H, D),
        "W_y": [_draw_vec(draw, H, W_LIM) for _ in range(K)],
        "b_y": _draw_vec(draw, K, W_LIM),
    }
    return K, g


@st.composite
def backward_steps(draw: st.DrawFn) -> tuple[int, dict]:
    """(H, givens) of a backward_step problem: H, D in 1..4."""
    H, D = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    g = {
        "h_prev": _draw_vec(draw, H, V_LIM),
        "x": _draw_vec(draw, D, V_LIM),
        "C_prev": _draw_vec(draw, H, V_LIM),
        **_draw_gates(draw, H, D),
        "dh_t": _draw_vec(draw, H, G_LIM),
        "dC_next": _draw_vec(draw, H, G_LIM),
    }
    return H, g


def _probs(out: dict, K: int) -> list:
    return [out[f"prob[{k}]"] for k in range(1, K + 1)]


def _full_prob_violations(probs: list[float]) -> list[str]:
    bad = [f"prob[{k}] = {p!r} not in (0, 1)" for k, p in enumerate(probs, 1) if not 0 < p < 1]
    if abs(math.fsum(probs) - 1.0) > 1e-12:
        bad.append(f"sum of probs {math.fsum(probs)!r} != 1 within 1e-12")
    return bad


def _rounded_prob_violations(probs: list) -> list[str]:
    bad = [
        f"prob[{k}] = {p!r} has not exactly 3 decimals"
        for k, p in enumerate(probs, 1)
        if not isinstance(p, Decimal) or p.as_tuple().exponent != -3
    ]
    slack = len(probs) * Decimal("0.0005")
    if abs(sum(probs) - 1) > slack:
        bad.append(f"sum of probs {sum(probs)} is more than {slack} from 1")
    return bad


def _backward_violations(out: dict, H: int) -> list[str]:
    bad = []
    for c in range(1, H + 1):
        f, dC, df = out[f"f_t[{c}]"], out[f"dC_t[{c}]"], out[f"df_t[{c}]"]
        if abs(out[f"dC_prev[{c}]"] - dC * f) > 1e-15:
            bad.append(f"dC_prev[{c}] = {out[f'dC_prev[{c}]']!r} but dC_t * f_t = {dC * f!r}")
        if abs(out[f"da_f[{c}]"] - df * f * (1 - f)) > 1e-15:
            bad.append(
                f"da_f[{c}] = {out[f'da_f[{c}]']!r} but df_t f_t (1 - f_t) = {df * f * (1 - f)!r}"
            )
    return bad


@PROPS
@given(classifications())
def test_full_chain_probs_are_a_distribution(problem):
    """Full chain: every prob in (0, 1) and their sum is 1 within 1e-12."""
    K, g = problem
    out = evaluate(Kind.CLASSIFICATION, g, FULL)
    assert f"prob[{K}]" in out and f"prob[{K + 1}]" not in out
    assert _full_prob_violations(_probs(out, K)) == []


@PROPS
@given(classifications())
def test_rounded_chain_probs_have_three_decimals_and_sum_near_one(problem):
    """Rounded(3) chain: every prob has exactly 3 decimals; their sum is within K * 0.0005 of 1."""
    K, g = problem
    out = evaluate(Kind.CLASSIFICATION, g, Rounded(3))
    assert _rounded_prob_violations(_probs(out, K)) == []


@PROPS
@given(backward_steps())
def test_backward_step_local_chain_rule(problem):
    """Full chain: dC_prev = dC_t * f_t and da_f = df_t * f_t * (1 - f_t), within 1e-15."""
    H, g = problem
    out = evaluate(Kind.BACKWARD_STEP, g, FULL)
    assert _backward_violations(out, H) == []


def test_property_checks_can_fail():
    """The property checks reject outputs of a wrong formula (and plain wrong numbers)."""
    rng = random.Random(11)
    g = _sequence_givens(rng, Kind.CLASSIFICATION, 3, 2, 3, 4)
    assert _full_prob_violations(_probs(evaluate(Kind.CLASSIFICATION, g, FULL), 4)) == []
    twisted = evaluate(Kind.CLASSIFICATION, g, FULL, misconception=Misconception.SOFTMAX_NO_NORM)
    assert _full_prob_violations(_probs(twisted, 4))
    twisted = evaluate(
        Kind.CLASSIFICATION, g, Rounded(3), misconception=Misconception.SOFTMAX_NO_NORM
    )
    assert _rounded_prob_violations(_probs(twisted, 4))
    assert _rounded_prob_violations([Decimal("0.25")] * 4)  # two decimals
    assert _rounded_prob_violations([Decimal("0.251")] * 4)  # sum 1.004 > 1 + 0.002
    assert _full_prob_violations([0.0, 1.0])

    g = _backward_givens(rng, 3, 2)
    assert _backward_violations(evaluate(Kind.BACKWARD_STEP, g, FULL), 3) == []
    for twist in (Misconception.DC_PREV_NO_F, Misconception.SIGMA_AS_DERIVATIVE):
        assert _backward_violations(evaluate(Kind.BACKWARD_STEP, g, FULL, misconception=twist), 3)
