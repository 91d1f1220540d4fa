"""The misconceptions: each declared once, with where it applies and how it reads.

One entry a misconception: the lecture's number, the quantities it alters directly,
what the student did, the feedback sentence, the short name of the class summary,
its rank in well-posedness' search and at which steps it can happen. The evaluator
(:mod:`~lstm_exam.generator.core.evaluate`) holds its formula; well-posedness keeps it
visible, diagnosis names it, feedback and the summary print its words: all read them here.

Adding a misconception: one entry of :class:`Twist` (or of :data:`ROUNDING_SLIPS`) and
its formula in the evaluator; docs/grading.md lists them (a test keeps it in step).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from lstm_exam.generator.core.notation import FEEDS, HEAD, KINDS, Kind

if TYPE_CHECKING:
    from lstm_exam.generator.core.problem import Problem


@dataclass(frozen=True, slots=True)
class Misconception:
    """What one misconception is: every fact about it but its formula."""

    lecture: int
    """Its number in the lecture's list of mistakes."""
    alters: tuple[str, ...]
    """The quantities whose formula it changes directly (the rest follows downstream)."""
    did: str
    """What the student did, in a few words (also keeps two entries that alter the same
    quantities apart)."""
    feedback: str
    """The feedback sentence; for a slip made in every gate at once (see ``feedback_one``)."""
    summary: str
    """Its short name in the class summary."""
    feedback_one: str | None = None
    """For a misconception of the gates (it alters one quantity of each of several gates):
    the sentence when it was made in one gate alone; ``{gate}`` is the gate's name ("forget
    gate f_t"), ``{g}`` its letter, ``{act}`` its value's name (``f_t``)."""
    rank: int | None = None
    """Well-posedness checks the ranked ones first, lowest first: they hide most often
    (the order changes nothing but speed)."""
    from_step: int = 1
    """The first step of a sequence it can happen at."""
    needs_old_cell: bool = False
    """It needs C_{t-1}: a given one, or the previous step's."""
    min_hidden: int = 1
    """The fewest cells H at which it can change an answer at all (below, the mistake
    gives the right answer, so it is no mistake there: left out of every check)."""
    same_below: str = ""
    """Why it changes nothing below ``min_hidden``, for the docs and the tests."""


class Twist(Enum):
    """A misconception, as a change to one formula of the evaluator."""

    NO_BIAS = Misconception(
        lecture=1,
        alters=("a_f", "a_i", "a_C", "a_o"),
        did="left out the bias: {act} = act(W·z), not act(W·z + b)",
        feedback="you left out the biases: every gate's a = W·z, without its b",
        feedback_one="in the {gate} you left out the bias b_{g}: a_{g} = W_{g}·z",
        summary="forgot the bias",
        rank=2,
    )

    TANH_GATE = Misconception(
        lecture=2,
        alters=("f_t", "i_t", "o_t"),
        did="used tanh for a gate instead of the sigmoid",
        feedback="your gates use tanh; a gate uses the sigmoid σ",
        feedback_one="your {gate} uses tanh; a gate uses the sigmoid σ",
        summary="tanh for a gate",
        rank=6,
    )

    SIGMOID_CANDIDATE = Misconception(
        lecture=2,
        alters=("C_tilde",),
        did="used the sigmoid for C~_t instead of tanh",
        feedback="your C~_t uses the sigmoid; the candidate uses tanh",
        summary="sigmoid for C~_t",
        rank=7,
    )

    NO_ACTIVATION = Misconception(
        lecture=2,
        alters=("f_t", "i_t", "o_t", "C_tilde"),
        did="reported the bias-added value without the activation",
        feedback="your gates and candidate are the bias-added values W·z + b: the "
        "activations are missing",
        feedback_one="your {gate} is its bias-added value a_{g} = W_{g}·z + b_{g}: the "
        "activation is missing",
        summary="no activation",
        rank=4,
    )

    SIGN_SLIP = Misconception(
        lecture=3,
        alters=("f_t", "i_t", "o_t"),
        did="sign slip in the sigmoid: 1/(1 + e^{+a}) = 1 − σ(a)",
        feedback="your gates are 1 − σ(a): a sign slip in e^(−a)",
        feedback_one="your {gate} is 1 − σ(a_{g}): a sign slip in e^(−a)",
        summary="sign slip 1 - σ(a)",
        rank=5,
    )

    SWAPPED_CONCAT = Misconception(
        lecture=4,
        alters=("Wz_f", "Wz_i", "Wz_C", "Wz_o"),
        did="concatenated the wrong way round: z = [x_t, h_{t-1}]",
        feedback="you concatenated z = [x_t, h_{t-1}]; the order is [h_{t-1}, x_t]",
        feedback_one="in the {gate} you concatenated z = [x_t, h_{t-1}]; the order is "
        "[h_{t-1}, x_t]",
        summary="z = [x_t, h_t-1]",
        rank=3,
    )

    CELL_PLUS = Misconception(
        lecture=5,
        alters=("fC",),
        did="added f_t + C_{t-1} instead of multiplying f_t * C_{t-1}",
        feedback="you added f_t + C_{t-1}; it is the product f_t * C_{t-1}",
        summary="f_t + C_t-1",
    )

    CELL_DROP_I = Misconception(
        lecture=5,
        alters=("C_t",),
        did="dropped i_t: C_t = f_t * C_{t-1} + C~_t",
        feedback="your C_t is f_t * C_{t-1} + C~_t: the input gate i_t is missing",
        summary="dropped i_t",
    )

    CELL_DROP_F = Misconception(
        lecture=5,
        alters=("C_t",),
        did="dropped f_t: C_t = C_{t-1} + i_t * C~_t",
        feedback="your C_t is C_{t-1} + i_t * C~_t: the forget gate f_t is missing",
        summary="dropped f_t",
    )

    H_NO_TANH = Misconception(
        lecture=6,
        alters=("h_t",),
        did="left out tanh: h_t = o_t * C_t",
        feedback="your h_t is o_t * C_t: tanh(C_t) is missing",
        summary="h_t without tanh",
        rank=1,
    )

    H_OLD_C = Misconception(
        lecture=6,
        alters=("h_t",),
        did="used the old cell state: h_t = o_t * tanh(C_{t-1})",
        feedback="your h_t uses the old cell state C_{t-1}; use the new C_t",
        summary="h_t from C_t-1",
        needs_old_cell=True,
    )

    H_TANH_OUTSIDE = Misconception(
        lecture=6,
        alters=("h_t",),
        did="took tanh of the product: h_t = tanh(o_t * C_t)",
        feedback="your h_t is tanh(o_t * C_t); it is o_t * tanh(C_t)",
        summary="tanh(o_t * C_t)",
        rank=8,
    )

    P_NO_BIAS = Misconception(
        lecture=9,
        alters=("P_gate", "P_lstm", "P_video"),
        did="counted no biases: 4·H·(H + D) instead of 4·(H·(H + D) + H)",
        feedback="you counted no biases: each gate has H·(H + D) weights and H biases",
        summary="counted no biases",
    )

    P_ONE_GATE = Misconception(
        lecture=9,
        alters=("P_lstm", "P_video"),
        did="counted one gate instead of four",
        feedback="you counted one gate: an LSTM layer has four (f, i, C~, o)",
        summary="counted one gate",
    )

    P_H_TIMES_D = Misconception(
        lecture=9,
        alters=("P_gate", "P_lstm", "P_video"),
        did="used H·D weights per gate instead of H·(H + D): forgot the recurrent weights",
        feedback="you counted H·D weights per gate: the gates also read h_{t-1}, so H·(H + D)",
        summary="H·D instead of H·(H + D)",
    )

    P_DENSE_NO_BIAS = Misconception(
        lecture=9,
        alters=("P_dense", "P_video"),
        did="counted the dense layer without its biases",
        feedback="you counted the dense layer's weights but not its K biases",
        summary="dense without biases",
    )

    SEQ_REUSE = Misconception(
        lecture=8,
        alters=("h_prev", "C_prev"),
        did="reused h_0 and C_0 at this step instead of the previous step's h_t and C_t",
        feedback="at this step you started again from h_0 and C_0; use the previous step's h_t and C_t",
        summary="restarted from h_0, C_0",
        from_step=2,
    )

    HEAD_ON_C = Misconception(
        lecture=10,
        alters=("logit", "y_hat"),
        did="applied the dense layer to C_T instead of h_T",
        feedback="you applied the dense layer to C_T; it reads the last hidden state h_T",
        summary="dense layer on C_T",
        rank=10,
    )

    HEAD_NO_BIAS = Misconception(
        lecture=10,
        alters=("logit", "y_hat"),
        did="left out the dense layer's bias b_y",
        feedback="your output is W_y·h_T without the dense layer's bias b_y",
        summary="dense layer without b_y",
    )

    SOFTMAX_NO_NORM = Misconception(
        lecture=10,
        alters=("prob",),
        did="softmax without normalizing: e^logit, not divided by the sum",
        feedback="your probabilities are e^logit: divide each by the sum over all classes so they add up to 1",
        summary="softmax not normalized",
    )

    CLASS_FROM_ZERO = Misconception(
        lecture=10,
        alters=("class",),
        did="counted the classes from 0 (as argmax does), not from 1",
        feedback="you counted the classes from 0, as argmax does; the sheet numbers them from 1",
        summary="classes counted from 0",
    )

    ERROR_NOT_SQUARED = Misconception(
        lecture=10,
        alters=("sq_error",),
        did="did not square the error: y_hat - y",
        feedback="your error is y_hat − y; the squared error is (y_hat − y)²",
        summary="error not squared",
    )

    SIGMA_AS_DERIVATIVE = Misconception(
        lecture=11,
        alters=("da_f", "da_i", "da_o"),
        did="wrote the sigmoid's derivative σ'(a) as σ(a), not σ(a)(1 − σ(a))",
        feedback="you used σ(a) as the sigmoid's derivative; it is σ(a)(1 − σ(a)), i.e. gate * (1 − gate)",
        feedback_one="for dL/da_{g} you used {act} as the sigmoid's derivative; it is "
        "{act} * (1 − {act})",
        summary="σ'(a) as σ(a)",
        rank=9,
    )

    TANH_DERIVATIVE = Misconception(
        lecture=11,
        alters=("dC_t", "da_C"),
        did="wrote tanh's derivative as 1 − tanh(a), not 1 − tanh²(a)",
        feedback="you used 1 − tanh(a) as tanh's derivative; it is 1 − tanh²(a)",
        summary="tanh' as 1 - tanh",
    )

    NO_NEXT_GRADIENT = Misconception(
        lecture=11,
        alters=("dC_t",),
        did="left out dL/dC_t arriving from the next step",
        feedback="your dL/dC_t leaves out the gradient dL/dC_t arriving from the next step",
        summary="dropped dL/dC from t+1",
    )

    NO_H_PATH = Misconception(
        lecture=11,
        alters=("dC_t",),
        did="left out the path from h_t through tanh(C_t) into dL/dC_t",
        feedback="your dL/dC_t leaves out the path through h_t: dL/dh_t * o_t * (1 − tanh²(C_t))",
        summary="dropped the path through h_t",
    )

    DC_PREV_NO_F = Misconception(
        lecture=11,
        alters=("dC_prev",),
        did="dL/dC_{t-1} = dL/dC_t: forgot the factor f_t",
        feedback="your dL/dC_{t-1} is dL/dC_t: multiply by the forget gate f_t",
        summary="dL/dC_t-1 without f_t",
    )

    NO_TRANSPOSE = Misconception(
        lecture=11,
        alters=("dh_prev",),
        did="multiplied by W instead of its transpose W^T",
        feedback="you multiplied by W_g; dL/dh_{t-1} takes the transpose: the h-columns of W_g, column by column",
        summary="W instead of W^T",
        min_hidden=2,
        same_below="with H = 1 the h-block of W_g is 1 × 1: W and Wᵀ are the same",
    )

    @property
    def alters(self) -> tuple[str, ...]:
        return self.value.alters

    @property
    def summary(self) -> str:
        return self.value.summary


@dataclass(frozen=True, slots=True)
class RoundingSlip:
    """A slip in rounding (the lecture's mistake 7): the whole chain at other places."""

    id: str
    truncate: bool
    decimals: int | None
    """The places it rounds to (None: the sheet's)."""
    feedback: str
    """The feedback sentence; ``{d}`` is the sheet's places."""
    summary: str


#: In the order diagnosis tries them.
ROUNDING_SLIPS = (
    RoundingSlip(
        "TRUNCATED",
        True,
        None,
        "you cut digits off instead of rounding (0.4987 → 0.498, not 0.499)",
        "truncated",
    ),
    RoundingSlip(
        "ROUNDED_2",
        False,
        2,
        "you rounded the steps to 2 decimals; keep {d}",
        "rounded steps to 2 places",
    ),
    RoundingSlip(
        "ROUNDED_1",
        False,
        1,
        "you rounded the steps to 1 decimal; keep {d}",
        "rounded steps to 1 place",
    ),
)

#: Every mistake diagnosis can name, by its id: its name in the class summary.
SUMMARY_NAMES: dict[str, str] = {tw.name: tw.summary for tw in Twist} | {
    r.id: r.summary for r in ROUNDING_SLIPS
}

#: Each gate's letter, its name in a sentence and its value's name.
GATE_NAMES = {
    "f": ("forget gate f_t", "f_t"),
    "i": ("input gate i_t", "i_t"),
    "C": ("candidate C~_t", "C_tilde"),
    "o": ("output gate o_t", "o_t"),
}


def _gate_of(name: str) -> str | None:
    """The gate a quantity of one gate belongs to (``a_f``, ``f_t``, ``da_o``), or None."""
    for g, (_, act) in GATE_NAMES.items():
        if name in (act, f"Wz_{g}", f"a_{g}", f"da_{g}"):
            return g
    return None


@functools.lru_cache(maxsize=64)
def gates_of(tw: Twist) -> tuple[str, ...]:
    """The gates a misconception of the gates can be made in one at a time (it alters one
    quantity of each of several gates); () for any other.

    >>> gates_of(Twist.NO_BIAS), gates_of(Twist.SIGN_SLIP), gates_of(Twist.H_NO_TANH)
    (('f', 'i', 'C', 'o'), ('f', 'i', 'o'), ())
    """
    gates = tuple(_gate_of(n) for n in tw.alters)
    if None in gates or len(set(gates)) < 2:
        return ()
    return tuple(g for g in GATE_NAMES if g in gates)


def slip_alters(tw: Twist, gate: str | None) -> tuple[str, ...]:
    """The quantities a slip alters: all the misconception's, or one gate's."""
    return tw.alters if gate is None else tuple(n for n in tw.alters if _gate_of(n) == gate)


@functools.lru_cache(maxsize=4096)
def explain(tw: Twist, name: str, gate: str | None = None) -> str:
    """A misconception in a student's words, for the quantity ``name`` it shows in: made
    in one ``gate`` alone or everywhere, and what it carries into.

    >>> explain(Twist.NO_BIAS, "f_t", "f")
    'in the forget gate f_t you left out the bias b_f: a_f = W_f·z'
    >>> explain(Twist.NO_BIAS, "h_t", "C")
    'in the candidate C~_t you left out the bias b_C: a_C = W_C·z, which carries into h_t'
    >>> explain(Twist.SIGN_SLIP, "C_t")
    'your gates are 1 − σ(a): a sign slip in e^(−a), which carries into C_t'
    """
    m = tw.value
    if gate is not None and m.feedback_one is not None:
        words, act = GATE_NAMES[gate]
        # replace, not format: the sentences hold braces of their own (h_{t-1})
        text = m.feedback_one.replace("{gate}", words).replace("{g}", gate)
        text = text.replace("{act}", act)
    else:
        text = m.feedback
    # what the slip alters, and in the gates it was made in, each quantity up to the gate
    gates = (gate,) if gate else gates_of(tw)
    own = {
        *slip_alters(tw, gate),
        *(n for g in gates for n in (f"Wz_{g}", f"a_{g}", GATE_NAMES[g][1])),
    }
    return text if name in own else f"{text}, which carries into {name}"


def _first_asked(name: str, asked: set[str], order: set[str]) -> set[str]:
    """The asked quantities first reached from ``name`` on each path downstream."""
    if name in asked:
        return {name}
    found: set[str] = set()
    for nxt in FEEDS.get(name, ()):
        if nxt in order:
            found |= _first_asked(nxt, asked, order)
    return found


def applicable_twists(problem: Problem) -> tuple[tuple[Twist, int], ...]:
    """The misconceptions (and steps) that can show in this problem's answers."""
    return _applicable(problem.kind, problem.steps, "C_prev" in problem.givens, problem.hidden)


def can_show(tw: Twist, hidden: int) -> bool:
    """Whether a misconception can change an answer at all in a problem of ``hidden``
    cells (the registry's ``min_hidden``): one that cannot gives the right answer there,
    so it is no mistake and no check looks for it.

    >>> can_show(Twist.NO_TRANSPOSE, 1), can_show(Twist.NO_TRANSPOSE, 2)
    (False, True)
    """
    return hidden >= tw.value.min_hidden


@functools.lru_cache(maxsize=256)
def _applicable(
    kind: Kind, steps: int, old_cell: bool, hidden: int
) -> tuple[tuple[Twist, int], ...]:
    order = set(KINDS[kind].order)
    out = []
    for tw in Twist:
        m = tw.value
        if not can_show(tw, hidden):
            continue
        if m.from_step > 1:  # a slip in the state one step hands the next
            out += [(tw, t) for t in range(m.from_step, steps + 1)]
        elif m.needs_old_cell and not old_cell and not KINDS[kind].stepped:
            continue
        elif order & set(tw.alters) and HEAD.issuperset(tw.alters):
            out.append((tw, 1))  # the output layer comes once, after the steps
        elif order & set(tw.alters):
            out += [(tw, t) for t in range(1, steps + 1)]
    return tuple(out)


Slip = tuple[Twist, int, str | None]
"""A misconception as a student makes it: at a step, in one gate or (None) in all."""


def applicable_slips(problem: Problem) -> tuple[Slip, ...]:
    """:func:`applicable_twists`, each misconception of the gates also in each gate alone
    (first: one gate is the more common slip), where the problem has that gate; in a
    problem of one gate (forget_gate), in that gate alone."""
    return _slips(problem.kind, problem.steps, "C_prev" in problem.givens, problem.hidden)


@functools.lru_cache(maxsize=256)
def _slips(kind: Kind, steps: int, old_cell: bool, hidden: int) -> tuple[Slip, ...]:
    order = set(KINDS[kind].order)
    out: list[Slip] = []
    for tw, t in _applicable(kind, steps, old_cell, hidden):
        gates = [g for g in gates_of(tw) if order & set(slip_alters(tw, g))]
        out += [(tw, t, g) for g in gates]
        if len(gates) != 1:
            out.append((tw, t, None))
    return tuple(out)


#: The misconceptions that most often hide in a draw, in the order well-posedness checks them.
LIKELY_HIDDEN = tuple(
    sorted((tw for tw in Twist if tw.value.rank is not None), key=lambda tw: tw.value.rank or 0)
)


@functools.lru_cache(maxsize=1024)
def twist_targets(
    kind: Kind, show_steps: bool, tw: Twist, gate: str | None = None
) -> frozenset[str]:
    """The asked quantities a misconception (made in ``gate`` alone, or in all) shows in
    first, on each path downstream."""
    info = KINDS[kind]
    asked = set(info.asked) | (set(info.steps) if show_steps else set())
    order = set(info.order)
    return frozenset().union(*(_first_asked(n, asked, order) for n in slip_alters(tw, gate)))
