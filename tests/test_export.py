"""`lstm-exam export`: the weights in Keras' and PyTorch's layouts round-trip to the key."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_exam.generator.core.chains import FULL
from lstm_exam.generator.core.evaluate import evaluate
from lstm_exam.generator.export import framework_arrays
from lstm_exam.generator.spec.problems import read_problem_file

DATA = Path(__file__).parent / "data"
SEQUENCE = DATA / "sequence.toml"


def expected(path: Path) -> dict[str, float]:
    (p,) = read_problem_file(path)
    return p, evaluate(p.kind, p.givens, FULL)


def printed(output: str) -> dict[str, float]:
    """{'t2.h_t[1]': value, ...} from the script's lines 'step 2: h_t = a b'."""
    out = {}
    for step, name, values in re.findall(r"step (\d+): (h_t|C_t) = (.+)", output):
        for cell, v in enumerate(values.split(), start=1):
            out[f"t{step}.{name}[{cell}]"] = float(v)
    return out


def run_script(script: Path, **env: str) -> str:
    res = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.mark.parametrize(
    ("framework", "module", "env", "digits"),
    [("pytorch", "torch", {}, 1e-11), ("keras", "keras", {"KERAS_BACKEND": "torch"}, 1e-9)],
)
def test_exported_script_reproduces_the_key(run, tmp_path, framework, module, env, digits):
    if importlib.util.find_spec(module) is None:
        pytest.skip(
            f"{module} is not installed: the {framework} export round trip did NOT run "
            f"(pip install {'torch==2.13.0' if module == 'torch' else module})"
        )
    res = run("export", SEQUENCE, "--to", framework, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    got = printed(run_script(tmp_path / f"sequence-{framework}.py", **env))
    _, want = expected(SEQUENCE)
    assert len(got) == 12
    for label, v in got.items():
        assert abs(v - want[label]) <= digits, label  # the script prints 12 decimals


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_keras_layout_by_its_own_formula():
    """Keras' LSTM step, written out: z = x·kernel + h·recurrent_kernel + bias, gates i, f, c, o."""
    p, want = expected(SEQUENCE)
    w = framework_arrays(p, "keras")
    H = w["recurrent_kernel"].shape[0]
    h, c = w["h0"], w["c0"]
    for t, x in enumerate(w["xs"], start=1):
        z = x @ w["kernel"] + h @ w["recurrent_kernel"] + w["bias"]
        i, f, g, o = (z[k * H : (k + 1) * H] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        for cell in range(H):
            assert abs(h[cell] - want[f"t{t}.h_t[{cell + 1}]"]) < 1e-12
            assert abs(c[cell] - want[f"t{t}.C_t[{cell + 1}]"]) < 1e-12


def test_a_problem_without_all_gates_is_refused(run):
    res = run(
        "export",
        DATA.parent.parent / "generator" / "data" / "lecture-forget-gate.toml",
        "--to",
        "pytorch",
    )
    assert res.exit_code == 2 and "no problem holds all four gates" in res.stderr


_HEAD_LINES = {
    "logits": "logit",
    "probabilities": "prob",
    "y_hat": "y_hat",
    "dL/dh_prev": "dh_prev",
    "dL/dC_prev": "dC_prev",
}


# Keras' Dense layer agrees to about 1e-9 only; a wrong layout is off by far more
@pytest.mark.parametrize(
    ("framework", "module", "env", "digits"),
    [("pytorch", "torch", {}, 1e-11), ("keras", "keras", {"KERAS_BACKEND": "torch"}, 1e-7)],
)
@pytest.mark.parametrize("example", ["classification", "regression", "backward-step"])
def test_network_kinds_export_their_output_layer(
    run, tmp_path, framework, module, env, digits, example
):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: the {framework} export round trip did NOT run")
    spec = DATA.parent.parent / "examples" / f"{example}.toml"
    assert run("generate", spec, "--count", "1", "--out", "wk", "--no-pdf").exit_code == 0
    problem = tmp_path / "wk" / "problems" / "s001.toml"
    res = run("export", problem, "--to", framework, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    output = run_script(tmp_path / f"s001-{framework}.py", **env)
    _, want = expected(problem)
    got = printed(output)
    for line, values in re.findall(r"^([\w/]+) = (.+)$", output, re.M):
        if line in _HEAD_LINES:
            for k, v in enumerate(values.split(), start=1):
                got[f"{_HEAD_LINES[line]}[{k}]"] = float(v)
        elif line == "class":
            got["class[1]"] = float(values)
    # the output layer's values; the gradients where torch computes them
    shown = {"logit", "prob", "class", "y_hat"} | (
        {"dh_prev", "dC_prev"} if framework == "pytorch" else set()
    )
    names = {label.partition("[")[0] for label in got}
    assert names >= shown & {label.partition("[")[0] for label in want}
    for label, v in got.items():
        key = label if label in want else label.removeprefix("t1.")  # a backward step
        assert abs(v - want[key]) <= digits, label
