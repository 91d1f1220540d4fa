"""The lecture's notation: quantities, problem kinds, answer labels.

Every name here is the one of docs/notation.md; code, files, labels
and templates all use it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """A problem kind (docs/notation.md)."""

    FORGET_GATE = "forget_gate"
    INPUT_GATE = "input_gate"
    CELL_STATE = "cell_state"
    OUTPUT_GATE = "output_gate"
    CELL_STEP = "cell_step"
    SEQUENCE = "sequence"
    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    BACKWARD_STEP = "backward_step"
    PARAMETERS = "parameters"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One named quantity of the lecture."""

    name: str
    """Its name in code, files and labels, e.g. ``Wz_f``."""
    words: str
    """What it is, for a CSV description, e.g. ``forget gate W_f·z``."""
    tex: str
    """Its symbol in LaTeX."""


_Q = [
    Quantity("h_prev", "previous hidden state h_{t-1}", r"h_{t-1}"),
    Quantity("x", "input x_t", r"x_t"),
    Quantity("C_prev", "previous cell state C_{t-1}", r"C_{t-1}"),
    Quantity("h_0", "initial hidden state h_0", r"h_0"),
    Quantity("C_0", "initial cell state C_0", r"C_0"),
    Quantity("xs", "inputs x_1..x_T", r"x_t"),
]
for _g, _act, _actwords, _acttex in [
    ("f", "f_t", "forget gate f_t", r"f_t"),
    ("i", "i_t", "input gate i_t", r"i_t"),
    ("C", "C_tilde", "candidate C~_t", r"\tilde{C}_t"),
    ("o", "o_t", "output gate o_t", r"o_t"),
]:
    _Q += [
        Quantity(f"W_{_g}", f"weights W_{_g}", rf"W_{_g}"),
        Quantity(f"b_{_g}", f"bias b_{_g}", rf"b_{_g}"),
        Quantity(f"Wz_{_g}", f"W_{_g}·z (before bias)", rf"W_{_g} \cdot z"),
        Quantity(f"a_{_g}", f"bias added W_{_g}·z + b_{_g}", rf"W_{_g} \cdot z + b_{_g}"),
        Quantity(_act, _actwords, _acttex),
    ]
_Q += [
    Quantity("fC", "f_t * C_{t-1}", r"f_t \ast C_{t-1}"),
    Quantity("iC", "i_t * C~_t", r"i_t \ast \tilde{C}_t"),
    Quantity("C_t", "cell state C_t", r"C_t"),
    Quantity("tanh_C", "tanh(C_t)", r"\tanh(C_t)"),
    Quantity("h_t", "hidden state h_t", r"h_t"),
]
_Q += [
    Quantity("W_y", "dense layer weights W_y", r"W_y"),
    Quantity("b_y", "dense layer bias b_y", r"b_y"),
    Quantity("y", "target y", r"y"),
    Quantity("logit", "logit W_y·h_T + b_y", r"\ell"),
    Quantity("prob", "softmax probability", r"p"),
    Quantity("class", "predicted class (1..K)", r"\hat{k}"),
    Quantity("y_hat", "prediction W_y·h_T + b_y", r"\hat{y}"),
    Quantity("sq_error", "squared error (y_hat - y)^2", r"(\hat{y} - y)^2"),
]
# backpropagation through one step: "dX" is dL/dX
_Q += [
    Quantity("dh_t", "dL/dh_t (given)", r"\partial h_t"),
    Quantity("dC_next", "dL/dC_t from step t+1 (given)", r"\partial C_t^{\,\mathrm{next}}"),
    Quantity("do_t", "dL/do_t", r"\partial o_t"),
    Quantity("dC_t", "dL/dC_t (total)", r"\partial C_t"),
    Quantity("df_t", "dL/df_t", r"\partial f_t"),
    Quantity("di_t", "dL/di_t", r"\partial i_t"),
    Quantity("dC_tilde", "dL/dC~_t", r"\partial \tilde{C}_t"),
    *(Quantity(f"da_{g}", f"dL/da_{g} (pre-activation)", rf"\partial a_{g}") for g in "fiCo"),
    Quantity("dh_prev", "dL/dh_{t-1}", r"\partial h_{t-1}"),
    Quantity("dC_prev", "dL/dC_{t-1}", r"\partial C_{t-1}"),
]
_Q += [
    Quantity("D", "input features per step D", "D"),
    Quantity("H", "LSTM units H", "H"),
    Quantity("K", "classes K", "K"),
    Quantity("F", "CNN features per frame F", "F"),
    Quantity("T", "time steps T", "T"),
    Quantity("P_gate", "parameters of one gate", r"P_{\text{gate}}"),
    Quantity("P_lstm", "parameters of the LSTM layer", r"P_{\text{LSTM}}"),
    Quantity("P_dense", "parameters of the dense layer", r"P_{\text{dense}}"),
    Quantity("P_video", "parameters of the video classifier", r"P_{\text{video}}"),
    Quantity("seq_steps", "output shape with return_sequences: steps", r"\text{seq.\ steps}"),
    Quantity("seq_units", "output shape with return_sequences: units", r"\text{seq.\ units}"),
    Quantity("last_units", "output shape without return_sequences: units", r"\text{last units}"),
]
QUANTITIES: dict[str, Quantity] = {q.name: q for q in _Q}

#: The four gates: (letter, activation name, activation function name).
GATES = (
    ("f", "f_t", "sigmoid"),
    ("i", "i_t", "sigmoid"),
    ("C", "C_tilde", "tanh"),
    ("o", "o_t", "sigmoid"),
)
ALL_WEIGHTS = tuple(n for g, _, _ in GATES for n in (f"W_{g}", f"b_{g}"))


@dataclass(frozen=True, slots=True)
class KindInfo:
    """What a problem kind gives and asks."""

    kind: Kind
    title: str
    """A heading for sheets, e.g. ``Forget gate``."""
    givens: tuple[tuple[str, str], ...]
    """(name, shape): ``H``, ``D``, ``HxZ`` (H x (H+D)), ``TxD``, ``KxH``, ``K``, ``1`` or
    ``N`` (a count)."""
    order: tuple[str, ...]
    """Every computed quantity, in the order a student computes them."""
    asked: tuple[str, ...]
    """What is always asked."""
    steps: tuple[str, ...]
    """What ``show_steps`` asks in addition."""

    @property
    def stepped(self) -> bool:
        """Whether the cell runs over a sequence ``xs`` (labels then carry ``t<step>.``)."""
        return any(shape == "TxD" for _, shape in self.givens)


def _gate_names(gate: str, act: str) -> tuple[str, ...]:
    return (f"Wz_{gate}", f"a_{gate}", act)


_CELL_ORDER = (
    *_gate_names("f", "f_t"),
    *_gate_names("i", "i_t"),
    *_gate_names("C", "C_tilde"),
    "fC",
    "iC",
    "C_t",
    *_gate_names("o", "o_t"),
    "tanh_C",
    "h_t",
)
_ALL_W = tuple((n, "HxZ" if n.startswith("W") else "H") for n in ALL_WEIGHTS)
_SEQ_GIVENS = (("h_0", "H"), ("C_0", "H"), ("xs", "TxD"), *_ALL_W)
#: The gradients of one step backwards, in the order the chain rule reaches them.
BACKWARD = (
    "do_t",
    "dC_t",
    "df_t",
    "di_t",
    "dC_tilde",
    "da_f",
    "da_i",
    "da_C",
    "da_o",
    "dh_prev",
    "dC_prev",
)
#: Each gate: its letter, the gradient of its activation, and the activation.
GATE_GRADIENTS = (
    ("f", "df_t", "f_t"),
    ("i", "di_t", "i_t"),
    ("C", "dC_tilde", "C_tilde"),
    ("o", "do_t", "o_t"),
)
#: Quantities computed once after the last step (the network's output layer).
HEAD = frozenset({"logit", "prob", "class", "y_hat", "sq_error"})
#: The counts and shapes of a parameters problem: whole numbers, one each.
COUNTS = ("P_gate", "P_lstm", "P_dense", "P_video", "seq_steps", "seq_units", "last_units")
#: The quantities that are whole numbers: accepted only exactly, written without
#: decimals, and never told that they lack them.
WHOLE = frozenset({"class", *COUNTS})


@functools.lru_cache(maxsize=1 << 14)
def is_whole(label: str) -> bool:
    """Whether a label's quantity is a whole number (:data:`WHOLE`); labels repeat
    across a class, so each is looked at once.

    >>> is_whole("q8.P_lstm[1]"), is_whole("q1.f_t[2]")
    (True, False)
    """
    return label_name(label) in WHOLE


#: Rows of a quantity that is not one per cell: ``K`` (classes) or a single ``1``.
SIZES: dict[str, str] = {
    "logit": "K",
    "prob": "K",
    "class": "1",
    "y_hat": "1",
    "sq_error": "1",
    **dict.fromkeys(COUNTS, "1"),
}

KINDS: dict[Kind, KindInfo] = {
    k.kind: k
    for k in [
        KindInfo(
            Kind.FORGET_GATE,
            "Forget gate",
            (("h_prev", "H"), ("x", "D"), ("W_f", "HxZ"), ("b_f", "H")),
            _gate_names("f", "f_t"),
            ("f_t",),
            ("Wz_f", "a_f"),
        ),
        KindInfo(
            Kind.INPUT_GATE,
            "Input gate and candidate",
            (
                ("h_prev", "H"),
                ("x", "D"),
                ("W_i", "HxZ"),
                ("b_i", "H"),
                ("W_C", "HxZ"),
                ("b_C", "H"),
            ),
            (*_gate_names("i", "i_t"), *_gate_names("C", "C_tilde")),
            ("i_t", "C_tilde"),
            ("Wz_i", "a_i", "Wz_C", "a_C"),
        ),
        KindInfo(
            Kind.CELL_STATE,
            "Cell state",
            (("f_t", "H"), ("i_t", "H"), ("C_tilde", "H"), ("C_prev", "H")),
            ("fC", "iC", "C_t"),
            ("C_t",),
            ("fC", "iC"),
        ),
        KindInfo(
            Kind.OUTPUT_GATE,
            "Output gate and hidden state",
            (("h_prev", "H"), ("x", "D"), ("W_o", "HxZ"), ("b_o", "H"), ("C_t", "H")),
            (*_gate_names("o", "o_t"), "tanh_C", "h_t"),
            ("o_t", "h_t"),
            ("Wz_o", "a_o", "tanh_C"),
        ),
        KindInfo(
            Kind.CELL_STEP,
            "One LSTM step",
            (("h_prev", "H"), ("x", "D"), ("C_prev", "H"), *_ALL_W),
            _CELL_ORDER,
            ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t"),
            tuple(
                n for n in _CELL_ORDER if n not in ("f_t", "i_t", "C_tilde", "C_t", "o_t", "h_t")
            ),
        ),
        KindInfo(
            Kind.SEQUENCE,
            "A sequence through the LSTM",
            _SEQ_GIVENS,
            _CELL_ORDER,
            ("C_t", "h_t"),
            ("f_t", "i_t", "C_tilde", "o_t"),
        ),
        KindInfo(
            Kind.CLASSIFICATION,
            "Sequence classification: LSTM, dense layer, softmax",
            (*_SEQ_GIVENS, ("W_y", "KxH"), ("b_y", "K")),
            (*_CELL_ORDER, "logit", "prob", "class"),
            ("C_t", "h_t", "logit", "prob", "class"),
            ("f_t", "i_t", "C_tilde", "o_t"),
        ),
        KindInfo(
            Kind.REGRESSION,
            "Sequence regression: LSTM, dense layer, linear output",
            (*_SEQ_GIVENS, ("W_y", "1xH"), ("b_y", "1"), ("y", "1")),
            (*_CELL_ORDER, "y_hat", "sq_error"),
            ("C_t", "h_t", "y_hat", "sq_error"),
            ("f_t", "i_t", "C_tilde", "o_t"),
        ),
        KindInfo(
            Kind.BACKWARD_STEP,
            "Backpropagation through one LSTM step",
            (
                ("h_prev", "H"),
                ("x", "D"),
                ("C_prev", "H"),
                *_ALL_W,
                ("dh_t", "H"),
                ("dC_next", "H"),
            ),
            (*_CELL_ORDER, *BACKWARD),
            BACKWARD,
            ("f_t", "i_t", "C_tilde", "C_t", "o_t", "tanh_C"),
        ),
        KindInfo(
            Kind.PARAMETERS,
            "Parameters and output shapes",
            (("D", "N"), ("H", "N"), ("K", "N"), ("F", "N"), ("T", "N")),
            COUNTS,
            COUNTS[1:],
            ("P_gate",),
        ),
    ]
}

#: What each quantity feeds, within one step (element-wise: the same cell, but
#: ``h_prev`` feeds every cell's ``Wz``). In a sequence, step t's ``h_t`` and
#: ``C_t`` are step t+1's ``h_prev`` and ``C_prev``.
FEEDS: dict[str, tuple[str, ...]] = {
    "h_prev": ("Wz_f", "Wz_i", "Wz_C", "Wz_o"),
    "Wz_f": ("a_f",),
    "Wz_i": ("a_i",),
    "Wz_C": ("a_C",),
    "Wz_o": ("a_o",),
    "a_f": ("f_t",),
    "a_i": ("i_t",),
    "a_C": ("C_tilde",),
    "a_o": ("o_t",),
    "fC": ("C_t",),
    "iC": ("C_t",),
    "C_t": ("tanh_C",),
    "h_t": ("logit", "y_hat"),
    "logit": ("prob",),
    "prob": ("class",),
    "y_hat": ("sq_error",),
    # backwards (element-wise but for dh_prev, which reads every cell's da)
    "tanh_C": ("h_t", "do_t", "dC_t"),
    "o_t": ("h_t", "dC_t", "da_o"),
    "C_prev": ("fC", "df_t"),
    "C_tilde": ("iC", "di_t", "da_C"),
    "i_t": ("iC", "dC_tilde", "da_i"),
    "f_t": ("fC", "da_f", "dC_prev"),
    "do_t": ("da_o",),
    "dC_t": ("df_t", "di_t", "dC_tilde", "dC_prev"),
    "df_t": ("da_f",),
    "di_t": ("da_i",),
    "dC_tilde": ("da_C",),
    "da_f": ("dh_prev",),
    "da_i": ("dh_prev",),
    "da_C": ("dh_prev",),
    "da_o": ("dh_prev",),
    "P_gate": ("P_lstm",),
    "P_dense": ("P_video",),
}
FED_BY: dict[str, tuple[str, ...]] = {
    n: tuple(src for src, outs in FEEDS.items() if n in outs)
    for n in {*FEEDS, *(o for outs in FEEDS.values() for o in outs)}
}


#: The state one step hands the next: what ``h_prev`` and ``C_prev`` are at step t of a
#: sequence (step t − 1's ``h_t`` and ``C_t``), and at its first step (the given ``h_0``
#: and ``C_0``).
STATE = {"h_prev": ("h_t", "h_0"), "C_prev": ("C_t", "C_0")}


def state_source(name: str, step: int) -> tuple[str, int | None]:
    """Where the state ``name`` that step ``step`` reads comes from: (quantity, its step),
    the step None for a given.

    >>> state_source("h_prev", 3), state_source("C_prev", 1)
    (('h_t', 2), ('C_0', None))
    """
    computed, given = STATE[name]
    return (computed, step - 1) if step > 1 else (given, None)


#: (source, target) pairs where ``target[c]`` reads every cell of ``source``.
MIXING = frozenset(
    {("h_prev", f"Wz_{g}") for g in "fiCo"}
    | {(f"da_{g}", "dh_prev") for g in "fiCo"}
    | {("h_t", "logit"), ("h_t", "y_hat"), ("logit", "prob"), ("prob", "class")}
)


def upstream(
    name: str, cell: int, step: int | None, cells: Callable[[str], int], last_step: int | None
) -> list[str]:
    """Every label (without ``q`` prefix) whose value flows into ``name[cell]``.

    Args:
        name, cell, step: the label's parts (``step`` None outside a sequence).
        cells: how many cells (rows) a quantity has in the problem.
        last_step: T for a problem over a sequence (its head reads step T's h_t).

    >>> upstream("C_t", 2, None, lambda n: 3, None)
    ['fC[2]', 'f_t[2]', 'a_f[2]', 'Wz_f[2]', 'iC[2]', 'C_tilde[2]', 'a_C[2]', 'Wz_C[2]', 'i_t[2]', 'a_i[2]', 'Wz_i[2]']
    >>> upstream("prob", 1, None, lambda n: 2, 4)[:4]
    ['logit[1]', 't4.h_t[1]', 't4.tanh_C[1]', 't4.C_t[1]']
    """
    out: list[str] = []
    seen: set[tuple[str, int, int | None]] = set()

    def visit(count: str, c: int, t: int | None) -> None:
        for src in FED_BY.get(count, ()):
            mixed, at = (src, count) in MIXING, t
            if src in STATE:
                if t is None or t == 1:
                    continue  # given
                src, at = state_source(src, t)
            elif count in HEAD and src not in HEAD:
                at = last_step
            for cc in range(1, cells(src) + 1) if mixed else [c]:
                key = (src, cc, at)
                if key not in seen:
                    seen.add(key)
                    out.append(make_label(src, cc, at))
                    visit(src, cc, at)

    visit(name, cell, step)
    return out


LABEL_RE = re.compile(
    r"^(?:q(?P<q>[1-9]\d*)\.)?(?:t(?P<t>[1-9]\d*)\.)?"
    r"(?P<name>[A-Za-z_]+)\[(?P<cell>[1-9]\d*)\]$"
)


def label_name(label: str) -> str:
    """The quantity of a label.

    >>> label_name("q4.t3.h_t[1]")
    'h_t'
    """
    return label.rpartition(".")[2].partition("[")[0]


def make_label(name: str, cell: int, step: int | None = None, problem: int | None = None) -> str:
    """The answer label (docs/formats.md), cells and steps numbered from 1.

    >>> make_label("f_t", 2, problem=1)
    'q1.f_t[2]'
    >>> make_label("h_t", 1, step=3, problem=4)
    'q4.t3.h_t[1]'
    """
    q = f"q{problem}." if problem is not None else ""
    t = f"t{step}." if step is not None else ""
    return f"{q}{t}{name}[{cell}]"


def describe_label(label: str) -> str:
    """Words for a label, for the CSV's description column.

    >>> describe_label("q1.t2.h_t[3]")
    'step 2, hidden state h_t, cell 3'
    """
    m = LABEL_RE.match(label)
    if m is None:
        raise ValueError(f"not an answer label: {label!r}")
    words = QUANTITIES[m["name"]].words
    step = f"step {m['t']}, " if m["t"] else ""
    size = SIZES.get(m["name"])
    if size == "1":  # one value, no cells
        return f"{step}{words}"
    return f"{step}{words}, {'class' if size == 'K' else 'cell'} {m['cell']}"
