"""Property tests of the reference solver (:mod:`lstm_exam.generator.solve`).

Problems are one LSTM step (``Kind.CELL_STEP``) with H, D in 1..8 and givens as
exact decimals in the ranges of a worksheet:

* weights and biases: 2 places in [-1, 1];
* h_{t-1}, x_t, C_{t-1}: 3 places in [-1.5, 1.5].
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given, settings, target
from hypothesis import strategies as st

from lstm_exam.generator.core.chains import FULL, Rounded, round_half_away
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.notation import KINDS, Kind
from lstm_exam.generator.core.solution import solve

W_MAX = Decimal("1")  # |weight|, |bias| <= W_MAX
V_MAX = Decimal("1.5")  # |h_prev|, |x|, |C_prev| <= V_MAX

#: math.tanh(v) is exactly 1.0 in float64 once |v| > 55 ln 2 / 2 ~= 19.06
#: (1 - tanh v ~= 2 e^{-2v} drops below half an ulp of 1, 2^-54).  The
#: pre-activation here reaches |a| <= 16 * 1 * 1.5 + 1 = 25, so |C~_t| < 1 is
#: a float64 guarantee only for |a_C| <= 19; beyond it C~_t may be exactly +-1.
#: (The sigmoid stays strictly inside (0, 1) in float64 up to |v| ~= 36.7.)
TANH_STRICT_LIMIT = 19.0

#: No example database: the tests leave no .hypothesis/ directory behind.
SETTINGS = settings(max_examples=300, deadline=None, database=None)
LIGHT = settings(max_examples=100, deadline=None, database=None)


def _dec(limit: Decimal, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-limit, max_value=limit, places=places)


@st.composite
def cell_steps(draw: st.DrawFn) -> tuple[int, int, dict]:
    """(H, D, givens) of a random CELL_STEP problem with exact Decimal givens."""
    H = draw(st.integers(1, 8))
    D = draw(st.integers(1, 8))
    w = _dec(W_MAX, 2)
    v = _dec(V_MAX, 3)
    g: dict = {
        "h_prev": draw(st.lists(v, min_size=H, max_size=H)),
        "x": draw(st.lists(v, min_size=D, max_size=D)),
        "C_prev": draw(st.lists(v, min_size=H, max_size=H)),
    }
    row = st.lists(w, min_size=H + D, max_size=H + D)
    for letter in "fiCo":
        g[f"W_{letter}"] = draw(st.lists(row, min_size=H, max_size=H))
        g[f"b_{letter}"] = draw(st.lists(w, min_size=H, max_size=H))
    return H, D, g


def _cells(H: int, name: str) -> list[str]:
    return [f"{name}[{c}]" for c in range(1, H + 1)]


# --- the full chain ------------------------------------------------------------


def test_tanh_saturation_limit():
    """The float64 fact TANH_STRICT_LIMIT relies on."""
    assert math.tanh(TANH_STRICT_LIMIT) < 1.0
    assert math.tanh(25.0) == 1.0


@SETTINGS
@given(cell_steps())
def test_full_chain_ranges(problem):
    """f_t, i_t, o_t in (0, 1); |C~_t| < 1; |C_t| < |C_{t-1}| + 1; |h_t| < 1."""
    H, _, g = problem
    out = evaluate(Kind.CELL_STEP, g, FULL)
    for c in range(1, H + 1):
        for gate in ("f_t", "i_t", "o_t"):
            assert 0.0 < out[f"{gate}[{c}]"] < 1.0, (gate, c, out)
        ct, a_c = out[f"C_tilde[{c}]"], out[f"a_C[{c}]"]
        assert abs(ct) <= 1.0
        if abs(a_c) <= TANH_STRICT_LIMIT:
            assert abs(ct) < 1.0, (c, a_c, ct)
        # |C_t| <= f |C_prev| + i |C~| < |C_prev| + 1 <= 2.5, so |h_t| <= tanh(2.5) < 1
        C = out[f"C_t[{c}]"]
        assert abs(C) < float(abs(g["C_prev"][c - 1])) + 1.0
        assert abs(out[f"h_t[{c}]"]) < 1.0
        assert abs(out[f"h_t[{c}]"]) <= math.tanh(abs(C)) + 1e-15


# --- the rounded chain against the full chain ----------------------------------
#
# The bound (one step, every quantity rounded to 3 places).  Let e = 0.0005, the
# most one rounding half away from zero moves a value, and d(q) = |rounded q -
# full q|.  sigma is 1/4-Lipschitz and tanh is 1-Lipschitz (mean value theorem).
#
#   Wz   = rnd(W.z)         the rounded chain's dot product of the exact decimal
#                           givens is exact (40 digits), so   d <= e
#   a    = rnd(Wz + b)                                        d <= e + e       = 2 e
#   f,i,o = rnd(sigma(a))                                     d <= e + 2e/4    = 1.5 e
#   C~   = rnd(tanh(a))                                       d <= e + 2e      = 3 e
#   fC   = rnd(f * C_prev), |C_prev| <= 1.5                   d <= e + 1.5*1.5e = 3.25 e
#   iC   = rnd(i * C~) = (i_r - i) C~_r + i (C~_r - C~), |C~_r| <= 1, 0 < i < 1
#                                                             d <= e + 1.5e + 3e = 5.5 e
#   C_t  = rnd(fC + iC)                                       d <= e + 3.25e + 5.5e = 9.75 e
#   tanh_C = rnd(tanh(C_t))                                   d <= e + 9.75e   = 10.75 e
#   h_t  = rnd(o * tanh_C), |tanh_C_r| <= 1, 0 < o < 1        d <= e + 1.5e + 10.75e = 13.25 e
#
# So f_t, i_t, o_t within 0.00075, C~_t within 0.0015, C_t within 0.004875 and
# h_t within 0.006625, for every H, D <= 8 (nothing here grows with H or D).
# (With 2-place biases the rounding in `a` is in fact exact, so 2 e is loose
# there; the bound is kept general so it holds for any given biases.)
# FLOAT_SLACK covers the float64 error of the full chain itself (about 1e-14 here).

E = Decimal("0.0005")
FLOAT_SLACK = 1e-9
BOUND_IN_E = {
    "Wz": Decimal(1),
    "a": Decimal(2),
    "gate": Decimal("1.5"),
    "C_tilde": Decimal(3),
}
BOUND_IN_E["fC"] = 1 + V_MAX * BOUND_IN_E["gate"]
BOUND_IN_E["iC"] = 1 + BOUND_IN_E["gate"] + BOUND_IN_E["C_tilde"]
BOUND_IN_E["C_t"] = 1 + BOUND_IN_E["fC"] + BOUND_IN_E["iC"]
BOUND_IN_E["tanh_C"] = 1 + BOUND_IN_E["C_t"]
BOUND_IN_E["h_t"] = 1 + BOUND_IN_E["gate"] + BOUND_IN_E["tanh_C"]
BOUND = {k: float(v * E) for k, v in BOUND_IN_E.items()}

_BOUND_OF = {
    **{f"Wz_{g}": "Wz" for g in "fiCo"},
    **{f"a_{g}": "a" for g in "fiCo"},
    "f_t": "gate",
    "i_t": "gate",
    "o_t": "gate",
    "C_tilde": "C_tilde",
    "fC": "fC",
    "iC": "iC",
    "C_t": "C_t",
    "tanh_C": "tanh_C",
    "h_t": "h_t",
}


def test_bound_values():
    """The derived bounds, spelled out."""
    assert BOUND["gate"] == 0.00075
    assert BOUND["C_tilde"] == 0.0015
    assert BOUND["C_t"] == 0.004875
    assert BOUND["h_t"] == 0.006625


@SETTINGS
@given(cell_steps())
def test_rounded_chain_stays_near_full_chain(problem):
    """One step: every rounded-chain value is within its derived bound of the full chain."""
    H, _, g = problem
    sol = solve(Kind.CELL_STEP, g, decimals=3)
    assert set(_BOUND_OF) == set(KINDS[Kind.CELL_STEP].order)
    worst: dict[str, float] = {}
    for name, kind in _BOUND_OF.items():
        for label in _cells(H, name):
            v = sol.values[label]
            d = abs(float(v.rounded) - v.full)
            worst[kind] = max(worst.get(kind, 0.0), d)
            assert d <= BOUND[kind] + FLOAT_SLACK, (
                f"{label}: rounded {v.rounded} vs full {v.full!r}: |diff| {d:.6f} > "
                f"{BOUND[kind]} (derived bound for {kind})\ngivens: {g}"
            )
    # steer the search towards the largest errors
    target(worst["C_t"] / BOUND["C_t"], label="C_t error / bound")
    target(worst["h_t"] / BOUND["h_t"], label="h_t error / bound")


@LIGHT
@given(cell_steps())
def test_solve_agrees_with_evaluate(problem):
    """solve's two chains are evaluate's FULL and Rounded(3) chains, label for label."""
    _, _, g = problem
    sol = solve(Kind.CELL_STEP, g, decimals=3)
    full = evaluate(Kind.CELL_STEP, g, FULL)
    rounded = evaluate(Kind.CELL_STEP, g, Rounded(3))
    assert list(sol.values) == list(full) == list(rounded)
    for label, v in sol.values.items():
        assert v.full == full[label]
        assert v.rounded == rounded[label]


# --- the rounded chain's form --------------------------------------------------


@LIGHT
@given(cell_steps())
def test_rounded_values_have_three_decimals(problem):
    """Every rounded-chain value is a Decimal with exponent -3."""
    H, _, g = problem
    sol = solve(Kind.CELL_STEP, g, decimals=3)
    assert len(sol.values) == H * len(KINDS[Kind.CELL_STEP].order)
    for label, v in sol.values.items():
        assert isinstance(v.rounded, Decimal), label
        assert v.rounded.as_tuple().exponent == -3, (label, v.rounded)
        assert isinstance(v.full, float), label


@settings(max_examples=50, deadline=None, database=None)
@given(cell_steps(), st.lists(st.lists(_dec(V_MAX, 3), min_size=8, max_size=8), max_size=4))
def test_sequence_rounded_values_have_three_decimals(problem, more_xs):
    """The same for a sequence of 1..5 steps (every step's values)."""
    H, D, g = problem
    xs = [g["x"]] + [x[:D] for x in more_xs]
    seq = {k: v for k, v in g.items() if k not in ("h_prev", "x", "C_prev")}
    seq.update(h_0=g["h_prev"], C_0=g["C_prev"], xs=xs)
    sol = solve(Kind.SEQUENCE, seq, decimals=3)
    assert len(sol.values) == len(xs) * H * len(KINDS[Kind.SEQUENCE].order)
    for label, v in sol.values.items():
        assert v.rounded.as_tuple().exponent == -3, (label, v.rounded)


# --- rounding half away from zero on exact decimals -----------------------------


def test_round_half_away_from_zero():
    r3 = Rounded(3)
    assert r3.rnd(Decimal("0.0125")) == Decimal("0.013")
    assert r3.rnd(Decimal("-0.0125")) == Decimal("-0.013")
    assert r3.rnd(Decimal("0.0124999")) == Decimal("0.012")
    assert r3.rnd(Decimal("-0.0005")) == Decimal("-0.001")
    assert str(r3.rnd(Decimal("0.0125"))) == "0.013"
    assert round_half_away(Decimal("0.0125"), 3) == Decimal("0.013")
    assert round_half_away(Decimal("-0.0125"), 3) == Decimal("-0.013")


def test_round_half_away_on_the_exact_decimal_not_the_binary_float():
    # 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary, so
    # float rounding gives 2.67; the solver rounds the decimal 2.675 to 2.68.
    assert round(2.675, 2) == 2.67
    assert Rounded(2).rnd(Decimal("2.675")) == Decimal("2.68")
    assert Rounded(2).rnd(Decimal("-2.675")) == Decimal("-2.68")
    # a float given is read as its shortest repr, "2.675"
    assert Rounded(2).num(2.675) == Decimal("2.675")
    assert round_half_away(2.675, 2) == Decimal("2.68")


def test_exact_tie_inside_the_chain():
    """f_t * C_prev = 0.5 * 0.025 = 0.0125 exactly: the rounded chain writes 0.013."""
    D = Decimal
    sol = solve(
        Kind.CELL_STATE,
        {
            "f_t": [D("0.5"), D("0.5")],
            "i_t": [D("0.5"), D("0.5")],
            "C_tilde": [D("0.25"), D("-0.25")],
            "C_prev": [D("0.025"), D("-0.025")],
        },
    )
    assert sol.values["fC[1]"].rounded == D("0.013")
    assert sol.values["fC[2]"].rounded == D("-0.013")
    # C_t = rnd(0.013 + 0.125) = 0.138 (the full chain has 0.1375)
    assert sol.values["C_t[1]"].rounded == D("0.138")
    assert sol.values["C_t[2]"].rounded == D("-0.138")
    assert abs(sol.values["C_t[1]"].full - 0.1375) < 1e-15
