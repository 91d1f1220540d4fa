"""The full chain of the reference solver against torch's LSTM, in float64.

The mapping between the lecture's notation and torch's parameters
-----------------------------------------------------------------

The lecture (and :mod:`lstm_exam.generator.solve`) writes one gate ``g`` in
``{f, i, C, o}`` as::

    a_g = W_g · z + b_g,    z = [h_{t-1}, x_t]     (h FIRST, then x)

with ``W_g`` of shape H x (H + D): its first H columns multiply ``h_{t-1}``,
its last D columns multiply ``x_t``.

``torch.nn.LSTMCell(D, H)`` (and layer 0 of ``torch.nn.LSTM(D, H)``) holds

* ``weight_ih`` (4H x D) and ``weight_hh`` (4H x H): the four gates stacked
  as row blocks in the order **i, f, g, o** (``g`` is torch's name for the
  candidate, the lecture's C~_t);
* ``bias_ih`` and ``bias_hh`` (4H each), stacked in the same order;

and computes ``gates = x W_ih^T + b_ih + h W_hh^T + b_hh``, then
``i, f, g, o = gates.chunk(4)``, ``c' = σ(f) c + σ(i) tanh(g)``,
``h' = σ(o) tanh(c')``.  Hence, with torch block k = (i: 0, f: 1, C: 2, o: 3)
and rows ``k*H:(k+1)*H``::

    W_g = [ weight_hh[block g] | weight_ih[block g] ]    (h columns first)
    b_g = bias_ih[block g] + bias_hh[block g]

Here ``weight_hh[block] = W_g[:, :H]``, ``weight_ih[block] = W_g[:, H:]`` and
the bias is split at random into ``bias_ih + bias_hh = b_g`` (the float sum
differs from ``b_g`` by at most one rounding, far below the tolerance).

All random problems come from ``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_exam.generator.core.chains import FULL
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.notation import Kind

try:
    import torch
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None

pytestmark = pytest.mark.torch

SKIP_REASON = (
    "torch==2.13.0 is not installed: the torch.nn.LSTMCell cross-check did NOT run "
    "(pip install torch==2.13.0)"
)

#: The largest |full chain - torch| allowed for any compared quantity.
TOL = 1e-12

N_CELLS = 1000
N_SEQUENCES = 100

#: Lecture gate letter -> torch's block index in the stacked (i, f, g, o) weights.
TORCH_BLOCK = {"i": 0, "f": 1, "C": 2, "o": 3}
#: Lecture gate letter -> the name of its activation output in the solver's labels.
GATE_OUTPUT = {"f": "f_t", "i": "i_t", "C": "C_tilde", "o": "o_t"}


@pytest.fixture(scope="module")
def tch():
    """The torch module, or a loud skip when it is missing."""
    if torch is None:
        pytest.skip(SKIP_REASON)
    return torch


# --- random problems -----------------------------------------------------------


def _weights(rng: np.random.Generator, H: int, D: int) -> dict[str, np.ndarray]:
    """Lecture weights W_g (H x (H+D), h columns first) and biases b_g, uniform in [-2, 2]."""
    w: dict[str, np.ndarray] = {}
    for g in "fiCo":
        w[f"W_{g}"] = rng.uniform(-2, 2, size=(H, H + D))
        w[f"b_{g}"] = rng.uniform(-2, 2, size=H)
    return w


def _as_givens(arrays: dict[str, np.ndarray]) -> dict[str, list]:
    """numpy arrays -> nested lists of Python floats (the solver's givens)."""
    return {k: v.tolist() for k, v in arrays.items()}


def _torch_params(tch, w: dict[str, np.ndarray], H: int, rng: np.random.Generator):
    """(weight_ih, weight_hh, bias_ih, bias_hh) in torch's layout from lecture weights."""
    order = sorted(TORCH_BLOCK, key=TORCH_BLOCK.get)  # i, f, C, o
    w_hh = np.concatenate([w[f"W_{g}"][:, :H] for g in order], axis=0)  # 4H x H
    w_ih = np.concatenate([w[f"W_{g}"][:, H:] for g in order], axis=0)  # 4H x D
    b = np.concatenate([w[f"b_{g}"] for g in order])  # 4H
    b_ih = rng.uniform(-2, 2, size=b.shape)
    b_hh = b - b_ih
    as_t = lambda a: tch.tensor(a, dtype=tch.float64)  # noqa: E731
    return as_t(w_ih), as_t(w_hh), as_t(b_ih), as_t(b_hh)


def _load(tch, module, params, suffix: str = "") -> None:
    w_ih, w_hh, b_ih, b_hh = params
    with tch.no_grad():
        getattr(module, f"weight_ih{suffix}").copy_(w_ih)
        getattr(module, f"weight_hh{suffix}").copy_(w_hh)
        getattr(module, f"bias_ih{suffix}").copy_(b_ih)
        getattr(module, f"bias_hh{suffix}").copy_(b_hh)


def _vector(out: dict[str, float], name: str, H: int, step: int | None = None) -> np.ndarray:
    prefix = f"t{step}." if step is not None else ""
    return np.array([out[f"{prefix}{name}[{c}]"] for c in range(1, H + 1)])


def _worst(mine: np.ndarray, theirs) -> float:
    return float(np.max(np.abs(mine - np.asarray(theirs, dtype=np.float64))))


# --- one cell step -------------------------------------------------------------


def test_cell_step_matches_torch_lstmcell(tch):
    """1,000 random cells: pre-activations, gates, C_t, tanh(C_t), h_t agree to 1e-12."""
    rng = np.random.default_rng(20240611)
    worst: dict[str, float] = {}
    sizes = set()
    for n in range(N_CELLS):
        H, D = (int(v) for v in rng.integers(1, 9, size=2))
        sizes.add((H, D))
        w = _weights(rng, H, D)
        h_prev = rng.uniform(-2, 2, size=H)
        x = rng.uniform(-2, 2, size=D)
        C_prev = rng.uniform(-2, 2, size=H)

        givens = _as_givens({**w, "h_prev": h_prev, "x": x, "C_prev": C_prev})
        out = evaluate(Kind.CELL_STEP, givens, FULL)

        params = _torch_params(tch, w, H, rng)
        cell = tch.nn.LSTMCell(D, H, dtype=tch.float64)
        _load(tch, cell, params)
        xt = tch.tensor(x, dtype=tch.float64).unsqueeze(0)
        ht = tch.tensor(h_prev, dtype=tch.float64).unsqueeze(0)
        ct = tch.tensor(C_prev, dtype=tch.float64).unsqueeze(0)
        with tch.no_grad():
            h_new, c_new = cell(xt, (ht, ct))
            # torch's own gate formula, on the module's parameters
            w_ih, w_hh, b_ih, b_hh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
            pre = (xt @ w_ih.T + b_ih + ht @ w_hh.T + b_hh)[0]
        blocks = pre.chunk(4)

        compared = {
            "C_t": (_vector(out, "C_t", H), c_new[0]),
            "h_t": (_vector(out, "h_t", H), h_new[0]),
            "tanh_C": (_vector(out, "tanh_C", H), tch.tanh(c_new[0])),
        }
        for g, k in TORCH_BLOCK.items():
            act = tch.tanh if g == "C" else tch.sigmoid
            compared[f"a_{g}"] = (_vector(out, f"a_{g}", H), blocks[k])
            compared[GATE_OUTPUT[g]] = (_vector(out, GATE_OUTPUT[g], H), act(blocks[k]))
        # the products of the cell-state update, from torch's gates
        f_t, i_t, g_t = tch.sigmoid(blocks[1]), tch.sigmoid(blocks[0]), tch.tanh(blocks[2])
        compared["fC"] = (_vector(out, "fC", H), f_t * ct[0])
        compared["iC"] = (_vector(out, "iC", H), i_t * g_t)

        for name, (mine, theirs) in compared.items():
            d = _worst(mine, theirs.numpy())
            worst[name] = max(worst.get(name, 0.0), d)
            assert d <= TOL, (
                f"cell #{n} (H={H}, D={D}): {name} differs from torch by {d:.3e}\n"
                f"solver: {mine.tolist()}\ntorch:  {theirs.tolist()}\ngivens: {givens}"
            )
    assert len(sizes) >= 50, f"only {len(sizes)} of the 64 (H, D) sizes were drawn"
    assert set(worst) >= {"C_t", "h_t", "f_t", "i_t", "C_tilde", "o_t"}


# --- sequences -----------------------------------------------------------------


def test_sequence_matches_torch_lstm(tch):
    """100 random sequences (T = 1..6): every step's h_t and C_t agree to 1e-12.

    Every step is checked against repeated ``LSTMCell`` calls (h_t and C_t), and
    the same parameters in a one-layer ``nn.LSTM`` give every step's h_t (its
    output) and the last step's C_t (its c_n).
    """
    rng = np.random.default_rng(7031)
    steps_seen = set()
    for n in range(N_SEQUENCES):
        H, D = (int(v) for v in rng.integers(1, 9, size=2))
        T = int(rng.integers(1, 7))
        steps_seen.add(T)
        w = _weights(rng, H, D)
        h0 = rng.uniform(-2, 2, size=H)
        C0 = rng.uniform(-2, 2, size=H)
        xs = rng.uniform(-2, 2, size=(T, D))

        givens = _as_givens({**w, "h_0": h0, "C_0": C0, "xs": xs})
        out = evaluate(Kind.SEQUENCE, givens, FULL)
        assert sum(1 for lab in out if lab.startswith(f"t{T}.h_t[")) == H
        assert not any(lab.startswith(f"t{T + 1}.") for lab in out)

        params = _torch_params(tch, w, H, rng)
        cell = tch.nn.LSTMCell(D, H, dtype=tch.float64)
        _load(tch, cell, params)
        lstm = tch.nn.LSTM(D, H, num_layers=1, dtype=tch.float64)
        _load(tch, lstm, params, suffix="_l0")

        x_seq = tch.tensor(xs, dtype=tch.float64)  # T x D
        h = tch.tensor(h0, dtype=tch.float64).unsqueeze(0)
        c = tch.tensor(C0, dtype=tch.float64).unsqueeze(0)
        with tch.no_grad():
            seq_out, (h_n, c_n) = lstm(x_seq.unsqueeze(1), (h.unsqueeze(0), c.unsqueeze(0)))
            for t in range(1, T + 1):
                h, c = cell(x_seq[t - 1].unsqueeze(0), (h, c))
                checks = {
                    "h_t (LSTMCell)": (_vector(out, "h_t", H, t), h[0]),
                    "C_t (LSTMCell)": (_vector(out, "C_t", H, t), c[0]),
                    "h_t (LSTM)": (_vector(out, "h_t", H, t), seq_out[t - 1, 0]),
                }
                if t == T:
                    checks["C_t (LSTM c_n)"] = (_vector(out, "C_t", H, t), c_n[0, 0])
                    checks["h_t (LSTM h_n)"] = (_vector(out, "h_t", H, t), h_n[0, 0])
                for name, (mine, theirs) in checks.items():
                    d = _worst(mine, theirs.numpy())
                    assert d <= TOL, (
                        f"sequence #{n} (H={H}, D={D}, T={T}) step {t}: {name} differs "
                        f"from torch by {d:.3e}\nsolver: {mine.tolist()}\n"
                        f"torch:  {theirs.tolist()}\ngivens: {givens}"
                    )
    assert steps_seen == set(range(1, 7))


def test_decimal_givens_match_torch(tch):
    """Decimal givens (as in a problem file) go through the full chain as float64."""
    from decimal import Decimal

    rng = np.random.default_rng(99)
    for _ in range(50):
        H, D = (int(v) for v in rng.integers(1, 9, size=2))
        w = {k: np.round(v, 2) for k, v in _weights(rng, H, D).items()}
        h_prev, x, C_prev = (np.round(rng.uniform(-1.5, 1.5, size=n), 3) for n in (H, D, H))
        arrays = {**w, "h_prev": h_prev, "x": x, "C_prev": C_prev}
        dec = {
            k: [[Decimal(repr(e)) for e in r] for r in v.tolist()]
            if v.ndim == 2
            else [Decimal(repr(e)) for e in v.tolist()]
            for k, v in arrays.items()
        }
        out = evaluate(Kind.CELL_STEP, dec, FULL)
        cell = tch.nn.LSTMCell(D, H, dtype=tch.float64)
        _load(tch, cell, _torch_params(tch, w, H, rng))
        with tch.no_grad():
            h_new, c_new = cell(
                tch.tensor(x, dtype=tch.float64).unsqueeze(0),
                (
                    tch.tensor(h_prev, dtype=tch.float64).unsqueeze(0),
                    tch.tensor(C_prev, dtype=tch.float64).unsqueeze(0),
                ),
            )
        assert _worst(_vector(out, "C_t", H), c_new[0].numpy()) <= TOL
        assert _worst(_vector(out, "h_t", H), h_new[0].numpy()) <= TOL
