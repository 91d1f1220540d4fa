"""The reference solver against the lecture's worked numbers, and `lstm-exam solve`."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.core.misconceptions import Misconception
from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.core.solution import solve
from lstm_exam.generator.spec.problems import read_problem_file
from lstm_exam.generator.spec.worksheet import LECTURE_EXAMPLE, builtin_path

# The lecture's "Forget Gate Calculations" table (reference/lecture-notes.md).
LECTURE_TABLE = {
    1: ("-0.031", "-0.021", "0.495"),
    2: ("-0.131", "-0.081", "0.480"),
    3: ("2.963", "2.973", "0.951"),
}


def lecture_problem():
    (p,) = read_problem_file(builtin_path(LECTURE_EXAMPLE))
    return p


@pytest.mark.parametrize("cell", [1, 2, 3])
def test_lecture_forget_gate_table_is_reproduced_exactly(cell):
    sol = lecture_problem().solve()
    got = tuple(format(sol.values[f"{n}[{cell}]"].rounded, "f") for n in ("Wz_f", "a_f", "f_t"))
    assert got == LECTURE_TABLE[cell]


def test_lecture_output_gate_slide_cell_2_is_0_233_not_the_misprinted_0_223():
    # bias added 0.408 and C_t 0.409 as on the slide: the correct h_t is 0.233
    ch = Rounded(3)
    o = ch.rnd(ch.sigmoid(D("0.408")))
    tanh_c = ch.rnd(ch.tanh(D("0.409")))
    assert (o, tanh_c, ch.rnd(o * tanh_c)) == (D("0.601"), D("0.388"), D("0.233"))


def test_lecture_cell_state_slide_products():
    givens = {
        "f_t": [D("0.495"), D("0.460"), D("0.951")],
        "C_prev": [D("0.033"), D("0.509"), D("0.924")],
        "i_t": [D("0.5")] * 3,
        "C_tilde": [D("0.5")] * 3,
    }
    sol = solve(Kind.CELL_STATE, givens)
    assert [sol.values[f"fC[{c}]"].rounded for c in (1, 2, 3)] == [
        D("0.016"),
        D("0.234"),
        D("0.879"),
    ]
    # the slide prints 0.233 for 0.460 * 0.509 = 0.23414: another slip of the hand-made key


def test_rounded_chain_rounds_every_named_quantity_before_use():
    # Wz = 0.0125 exactly: the rounded chain carries 0.013 (half away from zero) into a
    g = {"h_prev": [D("0.5")], "x": [D("0.025")], "W_f": [[D("0"), D("0.5")]], "b_f": [D("0.0004")]}
    r = evaluate(Kind.FORGET_GATE, g, Rounded(3))
    assert r["Wz_f[1]"] == D("0.013") and r["a_f[1]"] == D("0.013")
    f = evaluate(Kind.FORGET_GATE, g, FULL)
    assert f["a_f[1]"] == pytest.approx(0.0129)


def test_sequence_feeds_each_step_the_previous_h_and_c():
    W = [[D("0.5"), D("0.25")]]
    g = {
        "h_0": [D("0.1")],
        "C_0": [D("0.2")],
        "xs": [[D("1")], [D("-1")]],
        **{f"W_{k}": W for k in "fiCo"},
        **{f"b_{k}": [D("0.1")] for k in "fiCo"},
    }
    seq = evaluate(Kind.SEQUENCE, g, FULL)
    step1 = evaluate(Kind.CELL_STEP, {**g, "h_prev": g["h_0"], "C_prev": g["C_0"], "x": g["xs"][0]})
    step2 = evaluate(
        Kind.CELL_STEP,
        {**g, "h_prev": [step1["h_t[1]"]], "C_prev": [step1["C_t[1]"]], "x": g["xs"][1]},
    )
    assert seq["t1.h_t[1]"] == step1["h_t[1]"]
    assert seq["t2.h_t[1]"] == step2["h_t[1]"] and seq["t2.C_t[1]"] == step2["C_t[1]"]
    reused = evaluate(Kind.SEQUENCE, g, FULL, misconception=Misconception.SEQ_REUSE, step=2)
    from_start = evaluate(
        Kind.CELL_STEP, {**g, "h_prev": g["h_0"], "C_prev": g["C_0"], "x": g["xs"][1]}
    )
    assert reused["t2.h_t[1]"] == from_start["h_t[1]"] != seq["t2.h_t[1]"]


def test_overrides_recompute_from_a_students_own_values():
    p = lecture_problem()
    r = evaluate(p.kind, p.givens, FULL, overrides={"a_f[1]": D("0.0")})
    assert r["f_t[1]"] == 0.5 and r["a_f[1]"] == 0.0


def test_cli_solve_prints_the_lecture_table(run):
    res = run("solve")
    assert res.exit_code == 0
    assert "-0.031" in res.output and "2.973" in res.output and "0.951" in res.output


def test_cli_solve_json_has_the_contract_shape(run):
    res = run("solve", "--json")
    doc = json.loads(res.output)
    assert doc["kind"] == "forget_gate" and doc["decimals"] == 3
    assert doc["values"]["f_t[3]"]["rounded"] == 0.951
    assert doc["values"]["Wz_f[1]"]["full"] == pytest.approx(-0.0314, abs=1e-15)
    assert set(doc["values"]) == {f"{n}[{c}]" for n in ("Wz_f", "a_f", "f_t") for c in (1, 2, 3)}


def test_cli_solve_sequence_labels_carry_the_step(run, data):
    doc = json.loads(run("solve", data / "sequence.toml", "--json").output)
    assert "t2.h_t[1]" in doc["values"] and "t1.C_t[2]" in doc["values"]
