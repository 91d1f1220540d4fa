"""Well-posedness checked from outside: an LSTM cell written again here, with the slips of
the gates made in every gate at once and in each gate alone, in float64 and in the
rounded chain a student follows (exact decimals, every quantity rounded half away from
zero). On the default spec, on every example and on a 2-decimal spec with a relative
tolerance, every slip lands outside twice the tolerance at the first asked values after
it, in both chains, and no slip is credited on every asked answer it changes.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest

from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec

ROOT = Path(__file__).resolve().parents[1]
#: The slips of the gates, and the gates each can be made in.
SLIPS = {
    "NO_BIAS": "fiCo",
    "TANH_GATE": "fio",
    "NO_ACTIVATION": "fiCo",
    "SIGN_SLIP": "fio",
    "SWAPPED_CONCAT": "fiCo",
}
ACT = {"f": "f_t", "i": "i_t", "C": "C_tilde", "o": "o_t"}
CELL_KINDS = ("forget_gate", "input_gate", "output_gate", "cell_step", "sequence")


class Floats:
    def num(self, d):
        return float(d)

    def rnd(self, v):
        return v

    def sigmoid(self, v):
        return 1 / (1 + math.exp(-v))

    def tanh(self, v):
        return math.tanh(v)


class Decimals:
    def __init__(self, places: int) -> None:
        self.unit = Decimal(1).scaleb(-places)

    def num(self, d):
        return Decimal(str(d))

    def rnd(self, v):
        return v.quantize(self.unit, rounding=ROUND_HALF_UP)

    def sigmoid(self, v):
        with localcontext(prec=50):
            return 1 / (1 + (-v).exp())

    def tanh(self, v):
        with localcontext(prec=50):
            e = (2 * v).exp()
            return (e - 1) / (e + 1)


def _step(ch, g, h, x, c_prev, slip, gates, out, tag):
    """One step of the cell into ``out`` (labels as the manifest writes them)."""
    env = {}
    for letter in "fiCo":
        if f"W_{letter}" not in g:
            continue
        s = slip if letter in gates else None
        z = x + h if s == "SWAPPED_CONCAT" else h + x
        wz = [
            ch.rnd(sum((w * v for w, v in zip(row, z, strict=True)), ch.num(0)))
            for row in g[f"W_{letter}"]
        ]
        a = (
            wz
            if s == "NO_BIAS"
            else [ch.rnd(w + b) for w, b in zip(wz, g[f"b_{letter}"], strict=True)]
        )
        sig = letter != "C"
        if s == "NO_ACTIVATION":
            val = a
        elif s == "TANH_GATE" and sig:
            val = [ch.rnd(ch.tanh(v)) for v in a]
        elif s == "SIGN_SLIP" and sig:
            val = [ch.rnd(1 - ch.sigmoid(v)) for v in a]
        else:
            val = [ch.rnd(ch.sigmoid(v) if sig else ch.tanh(v)) for v in a]
        env |= {f"Wz_{letter}": wz, f"a_{letter}": a, ACT[letter]: val}
    if "f_t" in env and "i_t" in env:  # the cell state: cell_step and sequence
        env["fC"] = [ch.rnd(f * c) for f, c in zip(env["f_t"], c_prev, strict=True)]
        env["iC"] = [ch.rnd(i * c) for i, c in zip(env["i_t"], env["C_tilde"], strict=True)]
        env["C_t"] = [ch.rnd(p + q) for p, q in zip(env["fC"], env["iC"], strict=True)]
    if "o_t" in env:
        cell = env.get("C_t", c_prev)
        env["tanh_C"] = [ch.rnd(ch.tanh(c)) for c in cell]
        env["h_t"] = [ch.rnd(o * t) for o, t in zip(env["o_t"], env["tanh_C"], strict=True)]
    for name, values in env.items():
        for k, v in enumerate(values, start=1):
            out[f"{tag}{name}[{k}]"] = v
    return env


def own_chain(kind, givens, ch, slip=None, gates="", at_step=1):
    """Every value of a problem of a cell kind, in chain ``ch``, with a slip at a step."""
    g = {k: _tree(ch, v) for k, v in givens.items()}
    out: dict = {}
    if kind != "sequence":
        c_prev = g.get("C_prev") or g.get("C_t")  # output_gate is given C_t
        _step(ch, g, g["h_prev"], g["x"], c_prev, slip, gates, out, "")
        return out
    h, c = g["h_0"], g["C_0"]
    for t, x in enumerate(g["xs"], start=1):
        env = _step(ch, g, h, x, c, slip if t == at_step else None, gates, out, f"t{t}.")
        h, c = env["h_t"], env["C_t"]
    return out


def _tree(ch, v):
    return [_tree(ch, e) for e in v] if isinstance(v, (list, tuple)) else ch.num(v)


def _dec(x) -> Decimal:
    return Decimal(repr(x)) if isinstance(x, float) else x


def _names(label: str) -> tuple[int, str]:
    m = re.fullmatch(r"(?:t(\d+)\.)?(\w+)\[\d+\]", label)
    assert m, label
    return int(m.group(1) or 1), m.group(2)


def _classes():
    examples = sorted((ROOT / "examples").glob("*.toml"))
    specs = [None, *(p for p in examples if "[[problems]]" in p.read_text("utf-8"))]
    two_places = ROOT / "tests" / "data" / "two-places-relative.toml"
    return [*specs, two_places]


@pytest.fixture(scope="module", params=_classes(), ids=lambda p: p.stem if p else "default")
def drawn(request):
    ws = load_spec(request.param)
    m, _, _ = build_manifest(ws, numbered_roster(25), "own-evaluator-seed")
    return m


def _window(m, v, times):
    full, rounded = _dec(v.full), v.rounded
    lo, hi = min(full, rounded), max(full, rounded)
    t = m.tolerance.amount * (
        times if m.tolerance.mode == "absolute" else times * max(abs(lo), abs(hi))
    )
    return lo - t, hi + t


def test_every_slip_of_the_gates_shows_in_both_chains(drawn):
    m = drawn
    checked = 0
    for v in m.variants:
        for vp in v.problems:
            kind = str(vp.problem.kind)
            if kind not in CELL_KINDS:
                continue
            p, sol = vp.problem, vp.solution
            asked = set(sol.asked)
            chains = (Floats(), Decimals(p.decimals))
            steps = len(p.givens["xs"]) if kind == "sequence" else 1
            # the own evaluator gives the key's values
            for ch in chains:
                mine = own_chain(kind, p.givens, ch)
                for lab in asked:
                    want = (
                        sol.values[lab].full if isinstance(ch, Floats) else sol.values[lab].rounded
                    )
                    assert abs(_dec(mine[lab]) - _dec(want)) < Decimal("1e-9"), lab
            for slip, can in SLIPS.items():
                present = [g for g in can if f"W_{g}" in p.givens]
                if not present:
                    continue
                for gates in [*present, "".join(present)] if len(present) > 1 else [present[0]]:
                    for t in range(1, steps + 1):
                        _check_slip(m, kind, p, sol, asked, chains, slip, gates, t)
                        checked += 1
    if any(str(vp.problem.kind) in CELL_KINDS for v in m.variants for vp in v.problems):
        assert checked


def _check_slip(m, kind, p, sol, asked, chains, slip, gates, t):
    correct = {lab: (val.full, val.rounded) for lab, val in sol.values.items()}
    for ch in chains:
        plain = own_chain(kind, p.givens, ch, at_step=t)
        twisted = own_chain(kind, p.givens, ch, slip, gates, at_step=t)
        changed = [lab for lab in twisted if twisted[lab] != plain[lab]]
        if not changed:
            continue  # e.g. tanh for a gate that is not in this problem

        # the first asked values after the slip: changed, asked, with nothing asked and
        # changed before them on their path (an earlier step, or earlier in the step)
        def rank(label, order=("Wz", "a", "gate", "fC", "C_t", "tanh_C", "h_t")):
            step, name = _names(label)
            key = (
                "gate"
                if name in ACT.values()
                else name.split("_")[0]
                if name.startswith(("Wz_", "a_"))
                else name
            )
            key = {"iC": "fC"}.get(key, key)
            return step, order.index(key)

        hit = sorted((rank(lab), lab) for lab in changed if lab in asked)
        assert hit, (slip, gates, t, "changes no asked answer")
        first = hit[0][0]
        firsts = [lab for r, lab in hit if r == first]
        shows = []
        for lab in firsts:
            lo, hi = _window(m, sol.values[lab], 2)
            value = _dec(twisted[lab])
            shows.append(not lo <= value <= hi)
        # in every gate at once: every first value shows it; in one gate: one at least
        every = len(gates) > 1 or len([g for g in SLIPS[slip] if f"W_{g}" in p.givens]) == 1
        assert all(shows) if every else any(shows), (
            f"{slip} in {gates} at step {t} ({type(ch).__name__}): {firsts} within 2 "
            f"tolerances of {[correct[lab] for lab in firsts]}"
        )
        credited = [
            lab
            for _, lab in hit
            if _window(m, sol.values[lab], 1)[0]
            <= _dec(twisted[lab])
            <= _window(m, sol.values[lab], 1)[1]
        ]
        assert len(credited) < len(hit), (slip, gates, t, "credited on every answer it changes")
