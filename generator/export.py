"""A problem's weights in the layouts of Keras and PyTorch, with a script that checks h_t.

The lecture writes one matrix per gate over z = [h_{t-1}, x_t] (h first). The
frameworks stack the four gates and split the columns:

* PyTorch (``torch.nn.LSTM``): ``weight_ih_l0`` is 4H x D and ``weight_hh_l0`` is
  4H x H, gates stacked in the order i, f, g (the candidate C~), o; two biases
  ``bias_ih_l0`` and ``bias_hh_l0`` that are added (here b and zeros).
  Row block g of ``weight_hh`` is W_g[:, :H]; of ``weight_ih`` it is W_g[:, H:].
* Keras (``keras.layers.LSTM``): ``kernel`` is D x 4H and ``recurrent_kernel`` is
  H x 4H, gates in the order i, f, c, o along the columns (the transposes of the
  blocks above); one ``bias`` of 4H.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import KINDS
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.textfiles import shown_name

#: The frameworks' gate order, as the lecture's gate letters.
GATE_ORDER = ("i", "f", "C", "o")
FRAMEWORKS = ("pytorch", "keras")
#: The kinds whose problems hold all four gates' weights.
EXPORTABLE = tuple(
    k for k, info in KINDS.items() if {f"W_{g}" for g in GATE_ORDER} <= dict(info.givens).keys()
)
_KIND_NAMES = ", ".join(str(k) for k in EXPORTABLE)


@dataclass(frozen=True, slots=True)
class Exported:
    """Arrays in a framework's layout and the script that loads them."""

    arrays: dict[str, np.ndarray]
    script: str


def _inputs(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs as T x D, h0, c0) of a problem with all four gates."""
    g = problem.givens
    if "xs" in g:
        xs, h0, c0 = g["xs"], g["h_0"], g["C_0"]
    else:
        xs, h0, c0 = (g["x"],), g["h_prev"], g["C_prev"]
    f = np.float64
    return np.array(xs, dtype=f), np.array(h0, dtype=f), np.array(c0, dtype=f)


def framework_arrays(problem: Problem, framework: str) -> dict[str, np.ndarray]:
    """The problem's weights in a framework's layout (float64), plus its inputs."""
    if problem.kind not in EXPORTABLE:
        raise ValueError(f"a {problem.kind} problem does not hold all four gates")
    H = problem.hidden
    W = {g: np.array(problem.givens[f"W_{g}"], dtype=np.float64) for g in GATE_ORDER}
    b = np.concatenate([np.array(problem.givens[f"b_{g}"], dtype=np.float64) for g in GATE_ORDER])
    w_hh = np.concatenate([W[g][:, :H] for g in GATE_ORDER])  # 4H x H
    w_ih = np.concatenate([W[g][:, H:] for g in GATE_ORDER])  # 4H x D
    xs, h0, c0 = _inputs(problem)
    common = {"xs": xs, "h0": h0, "c0": c0}
    for name in ("W_y", "b_y", "dh_t", "dC_next"):  # the dense layer; a backward step's gradients
        if name in problem.givens:
            common[name] = np.array(problem.givens[name], dtype=np.float64)
    if framework == "pytorch":
        return {
            "weight_ih_l0": w_ih,
            "weight_hh_l0": w_hh,
            "bias_ih_l0": b,
            "bias_hh_l0": np.zeros_like(b),
            **common,
        }
    if framework == "keras":
        return {"kernel": w_ih.T.copy(), "recurrent_kernel": w_hh.T.copy(), "bias": b, **common}
    raise ValueError(f"unknown framework {framework!r}")


_TORCH_SCRIPT = '''"""Load {npz} into torch.nn.LSTM and print h_t and C_t of every step (float64).

Made by `lstm-exam export`. Run: python {script}
"""

from pathlib import Path

import numpy as np
import torch

w = np.load(Path(__file__).with_name("{npz}"))
H, D = w["weight_hh_l0"].shape[1], w["weight_ih_l0"].shape[1]
lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
with torch.no_grad():
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        getattr(lstm, name).copy_(torch.from_numpy(w[name]))
h = torch.from_numpy(w["h0"]).view(1, 1, H)
c = torch.from_numpy(w["c0"]).view(1, 1, H)
h0, c0 = h.requires_grad_(), c.requires_grad_()


def show(name, values):
    print(name, "=", " ".join(f"{{v:.12f}}" for v in values.flatten().tolist()))


for t, x in enumerate(w["xs"], start=1):
    out, (h, c) = lstm(torch.from_numpy(x).view(1, 1, D), (h, c))
    show(f"step {{t}}: h_t", h)
    show(f"step {{t}}: C_t", c)
if "W_y" in w:  # the dense layer on h_T
    dense = torch.nn.Linear(H, len(w["b_y"]), dtype=torch.float64)
    with torch.no_grad():
        dense.weight.copy_(torch.from_numpy(w["W_y"]))
        dense.bias.copy_(torch.from_numpy(w["b_y"]))
    out = dense(h.flatten())
    if len(out) > 1:
        show("logits", out)
        show("probabilities", torch.softmax(out, 0))
        print("class =", int(out.argmax()) + 1)
    else:
        show("y_hat", out)
if "dh_t" in w:  # backwards: L = sum(h_t * dL/dh_t) + sum(C_t * dL/dC_t from step t+1)
    loss = (h.flatten() * torch.from_numpy(w["dh_t"])).sum()
    (loss + (c.flatten() * torch.from_numpy(w["dC_next"])).sum()).backward()
    show("dL/dh_prev", h0.grad)
    show("dL/dC_prev", c0.grad)
'''

_KERAS_SCRIPT = '''"""Load {npz} into keras.layers.LSTM and print h_t and C_t of every step.

Made by `lstm-exam export`. Keras 3 runs on any backend (torch, jax or tensorflow):
KERAS_BACKEND=torch python {script}
"""

from pathlib import Path

import keras
import numpy as np

w = np.load(Path(__file__).with_name("{npz}"))
H, D = w["recurrent_kernel"].shape[0], w["kernel"].shape[0]
layer = keras.layers.LSTM(H, return_sequences=True, return_state=True, dtype="float64")
layer.build((1, None, D))
layer.set_weights([w["kernel"], w["recurrent_kernel"], w["bias"]])
h, c = w["h0"].reshape(1, H), w["c0"].reshape(1, H)


def show(name, values):
    print(name, "=", " ".join(f"{{v:.12f}}" for v in np.ravel(values).tolist()))


for t, x in enumerate(w["xs"], start=1):
    _, h, c = layer(x.reshape(1, 1, D), initial_state=[h, c])
    h, c = keras.ops.convert_to_numpy(h), keras.ops.convert_to_numpy(c)
    show(f"step {{t}}: h_t", h)
    show(f"step {{t}}: C_t", c)
if "W_y" in w:  # the dense layer on h_T: Keras keeps its kernel as H x K
    K = len(w["b_y"])
    dense = keras.layers.Dense(K, dtype="float64")
    dense.build((1, H))
    dense.set_weights([w["W_y"].T, w["b_y"]])
    out = keras.ops.convert_to_numpy(dense(h))
    if K > 1:
        show("logits", out)
        show("probabilities", keras.ops.convert_to_numpy(keras.ops.softmax(out)))
        print("class =", int(np.argmax(out)) + 1)
    else:
        show("y_hat", out)
'''


def export_problem(problem: Problem, framework: str, stem: str) -> Exported:
    """The arrays and the runnable script for ``stem.npz`` / ``stem.py``."""
    arrays = framework_arrays(problem, framework)
    template = _TORCH_SCRIPT if framework == "pytorch" else _KERAS_SCRIPT
    return Exported(arrays, template.format(npz=f"{stem}.npz", script=f"{stem}.py"))


def export_files(
    problems: tuple[Problem, ...], source: Path, framework: str, number: int | None = None
) -> dict[str, bytes]:
    """The files of one problem of a problem file exported for ``framework``, by name:
    ``<name>-<framework>.npz`` (its weights) and ``.py`` (the script that prints h_t).
    Writing them, and whether a file already there may be replaced (only one
    :func:`made_by_export` knows for an export's), is the caller's.

    Args:
        problems: the problems of the file.
        source: the file, for names and messages.
        framework: ``pytorch`` or ``keras``.
        number: which problem (1-based); default the first cell_step or sequence.
    """
    file = str(source)
    if number is None:
        found = [k for k, p in enumerate(problems, 1) if p.kind in EXPORTABLE]
        if not found:
            raise InputError(
                file, "", f"no problem holds all four gates; export one of kind {_KIND_NAMES}"
            )
        number = found[0]
    if not 1 <= number <= len(problems):
        raise InputError(file, f"problem {number}", f"the file holds {len(problems)} problems")
    p = problems[number - 1]
    if p.kind not in EXPORTABLE:
        raise InputError(
            file,
            f"problem {number}",
            f"a {p.kind} problem does not hold all four gates; export one of kind {_KIND_NAMES}",
        )
    # the file's stem as a name the script can hold (not UTF-8 bytes or a control
    # character in it written \xNN): the script loads the .npz by this name
    stem = shown_name(f"{source.stem}-{framework}" + (f"-q{number}" if len(problems) > 1 else ""))
    exported = export_problem(p, framework, stem)
    buf = io.BytesIO()
    np.savez(buf, **exported.arrays)  # type: ignore[arg-type]  # numpy's stubs: allow_pickle
    return {f"{stem}.npz": buf.getvalue(), f"{stem}.py": exported.script.encode("utf-8")}


#: The arrays an export may write, as the .npz names them.
_ARRAYS = frozenset(
    f"{name}.npy"
    for name in (
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "kernel",
        "recurrent_kernel",
        "bias",
        "xs",
        "h0",
        "c0",
        "W_y",
        "b_y",
        "dh_t",
        "dC_next",
    )
)
#: What every script an export writes says at its top.
_SCRIPT_MARK = b"Made by `lstm-exam export`."


def made_by_export(path: Path) -> bool:
    """Whether the file ``path`` is one an export writes, which ``--force`` may replace:
    a script that says so at its top, or an .npz of an export's arrays alone."""
    try:
        if path.suffix == ".py":
            with open(path, "rb") as f:
                head = f.read(1024)
            return head.startswith(b'"""Load ') and _SCRIPT_MARK in head
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        return bool(names) and set(names) <= _ARRAYS
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
