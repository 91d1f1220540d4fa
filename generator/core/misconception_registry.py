"""The registry of misconceptions: each declared once, its formula and its words.

One entry a misconception: the lecture's number, its formula (``formula``: what it puts
in place of the right formula of each quantity it alters, in the expression form of
:mod:`~lstm_exam.generator.core.formulas`), what the student did, the feedback sentence,
the short name of the class summary, its rank in well-posedness' search and at which
steps it can happen. The evaluator applies the formula, the practice pages interpret
it, well-posedness keeps it visible, diagnosis names it, feedback and the summary print
its words: all read them here. Three change the structure of the computation rather
than one quantity's formula and are named cases of the evaluator (:data:`STRUCTURAL`).

Adding a misconception that alters one quantity: one entry of :class:`Misconception` (or of
:data:`ROUNDING_SLIPS`) and its row in docs/grading.md (a test keeps it in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from lstm_exam.generator.core.formulas import Formula, each_gate, parse


@dataclass(frozen=True, slots=True)
class MisconceptionInfo:
    """What one misconception is: its formula and every fact about it."""

    lecture: int
    """Its number in the lecture's list of mistakes."""
    did: str
    """What the student did, in a few words (also keeps two entries that alter the same
    quantities apart)."""
    feedback: str
    """The feedback sentence; for a slip made in every gate at once (see ``feedback_one``)."""
    summary: str
    """Its short name in the class summary."""
    formula: tuple[str, ...] = ()
    """``quantity := expression`` for each quantity whose formula it changes (the rest
    follows downstream); empty for the :data:`STRUCTURAL` ones."""
    alters: tuple[str, ...] = ()
    """The quantities it alters directly: by default those of ``formula``; a structural
    one, or one that also counts a quantity its formulas feed, lists them."""
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
    formulas: tuple[Formula, ...] = field(init=False, repr=False, compare=False)
    """``formula`` read (at import: a formula outside the form fails there)."""

    def __post_init__(self) -> None:
        formulas = tuple(map(parse, self.formula))
        object.__setattr__(self, "formulas", formulas)
        quantities = [f.quantity for f in formulas]
        if not self.alters:
            object.__setattr__(self, "alters", tuple(quantities))
        if len(set(quantities)) < len(quantities) or not set(quantities) <= set(self.alters):
            raise ValueError(f"{self.did!r}: one formula a quantity it alters")


class Misconception(Enum):
    """A misconception: the formulas it changes, and its words."""

    NO_BIAS = MisconceptionInfo(
        lecture=1,
        formula=each_gate("fiCo", "a_{g} := Wz_{g}"),
        did="left out the bias: {act} = act(W·z), not act(W·z + b)",
        feedback="you left out the biases: every gate's a = W·z, without its b",
        feedback_one="in the {gate} you left out the bias b_{g}: a_{g} = W_{g}·z",
        summary="forgot the bias",
        rank=2,
    )

    TANH_GATE = MisconceptionInfo(
        lecture=2,
        formula=each_gate("fio", "{act} := tanh(a_{g})"),
        did="used tanh for a gate instead of the sigmoid",
        feedback="your gates use tanh; a gate uses the sigmoid σ",
        feedback_one="your {gate} uses tanh; a gate uses the sigmoid σ",
        summary="tanh for a gate",
        rank=6,
    )

    SIGMOID_CANDIDATE = MisconceptionInfo(
        lecture=2,
        formula=("C_tilde := sigma(a_C)",),
        did="used the sigmoid for C~_t instead of tanh",
        feedback="your C~_t uses the sigmoid; the candidate uses tanh",
        summary="sigmoid for C~_t",
        rank=7,
    )

    NO_ACTIVATION = MisconceptionInfo(
        lecture=2,
        formula=(*each_gate("fio", "{act} := a_{g}"), "C_tilde := a_C"),
        did="reported the bias-added value without the activation",
        feedback="your gates and candidate are the bias-added values W·z + b: the "
        "activations are missing",
        feedback_one="your {gate} is its bias-added value a_{g} = W_{g}·z + b_{g}: the "
        "activation is missing",
        summary="no activation",
        rank=4,
    )

    SIGN_SLIP = MisconceptionInfo(
        lecture=3,
        formula=each_gate("fio", "{act} := 1 - sigma(a_{g})"),
        did="sign slip in the sigmoid: 1/(1 + e^{+a}) = 1 − σ(a)",
        feedback="your gates are 1 − σ(a): a sign slip in e^(−a)",
        feedback_one="your {gate} is 1 − σ(a_{g}): a sign slip in e^(−a)",
        summary="sign slip 1 - σ(a)",
        rank=5,
    )

    SWAPPED_CONCAT = MisconceptionInfo(
        lecture=4,
        alters=("Wz_f", "Wz_i", "Wz_C", "Wz_o"),
        did="concatenated the wrong way round: z = [x_t, h_{t-1}]",
        feedback="you concatenated z = [x_t, h_{t-1}]; the order is [h_{t-1}, x_t]",
        feedback_one="in the {gate} you concatenated z = [x_t, h_{t-1}]; the order is "
        "[h_{t-1}, x_t]",
        summary="z = [x_t, h_t-1]",
        rank=3,
    )

    CELL_PLUS = MisconceptionInfo(
        lecture=5,
        formula=("fC := f_t + C_prev",),
        did="added f_t + C_{t-1} instead of multiplying f_t * C_{t-1}",
        feedback="you added f_t + C_{t-1}; it is the product f_t * C_{t-1}",
        summary="f_t + C_t-1",
    )

    CELL_DROP_I = MisconceptionInfo(
        lecture=5,
        formula=("C_t := fC + C_tilde",),
        did="dropped i_t: C_t = f_t * C_{t-1} + C~_t",
        feedback="your C_t is f_t * C_{t-1} + C~_t: the input gate i_t is missing",
        summary="dropped i_t",
    )

    CELL_DROP_F = MisconceptionInfo(
        lecture=5,
        formula=("C_t := C_prev + iC",),
        did="dropped f_t: C_t = C_{t-1} + i_t * C~_t",
        feedback="your C_t is C_{t-1} + i_t * C~_t: the forget gate f_t is missing",
        summary="dropped f_t",
    )

    H_NO_TANH = MisconceptionInfo(
        lecture=6,
        formula=("h_t := o_t * C_t",),
        did="left out tanh: h_t = o_t * C_t",
        feedback="your h_t is o_t * C_t: tanh(C_t) is missing",
        summary="h_t without tanh",
        rank=1,
    )

    H_OLD_C = MisconceptionInfo(
        lecture=6,
        formula=("h_t := o_t * rounded(tanh(C_prev))",),
        did="used the old cell state: h_t = o_t * tanh(C_{t-1})",
        feedback="your h_t uses the old cell state C_{t-1}; use the new C_t",
        summary="h_t from C_t-1",
        needs_old_cell=True,
    )

    H_TANH_OUTSIDE = MisconceptionInfo(
        lecture=6,
        formula=("h_t := tanh(o_t * C_t)",),
        did="took tanh of the product: h_t = tanh(o_t * C_t)",
        feedback="your h_t is tanh(o_t * C_t); it is o_t * tanh(C_t)",
        summary="tanh(o_t * C_t)",
        rank=8,
    )

    P_NO_BIAS = MisconceptionInfo(
        lecture=9,
        formula=("P_gate := H * (H + D)", "P_video := 4 * (H * (H + F)) + P_dense"),
        alters=("P_gate", "P_lstm", "P_video"),
        did="counted no biases: 4·H·(H + D) instead of 4·(H·(H + D) + H)",
        feedback="you counted no biases: each gate has H·(H + D) weights and H biases",
        summary="counted no biases",
    )

    P_ONE_GATE = MisconceptionInfo(
        lecture=9,
        formula=("P_lstm := P_gate", "P_video := H * (H + F) + H + P_dense"),
        did="counted one gate instead of four",
        feedback="you counted one gate: an LSTM layer has four (f, i, C~, o)",
        summary="counted one gate",
    )

    P_H_TIMES_D = MisconceptionInfo(
        lecture=9,
        formula=("P_gate := H * D + H", "P_video := 4 * (H * F + H) + P_dense"),
        alters=("P_gate", "P_lstm", "P_video"),
        did="used H·D weights per gate instead of H·(H + D): forgot the recurrent weights",
        feedback="you counted H·D weights per gate: the gates also read h_{t-1}, so H·(H + D)",
        summary="H·D instead of H·(H + D)",
    )

    P_DENSE_NO_BIAS = MisconceptionInfo(
        lecture=9,
        formula=("P_dense := H * K",),
        alters=("P_dense", "P_video"),
        did="counted the dense layer without its biases",
        feedback="you counted the dense layer's weights but not its K biases",
        summary="dense without biases",
    )

    SEQ_REUSE = MisconceptionInfo(
        lecture=8,
        alters=("h_prev", "C_prev"),
        did="reused h_0 and C_0 at this step instead of the previous step's h_t and C_t",
        feedback="at this step you started again from h_0 and C_0; use the previous step's h_t and C_t",
        summary="restarted from h_0, C_0",
        from_step=2,
    )

    HEAD_ON_C = MisconceptionInfo(
        lecture=10,
        formula=("logit := dot(W_y, C_t) + b_y", "y_hat := dot(W_y, C_t) + b_y"),
        did="applied the dense layer to C_T instead of h_T",
        feedback="you applied the dense layer to C_T; it reads the last hidden state h_T",
        summary="dense layer on C_T",
        rank=10,
    )

    HEAD_NO_BIAS = MisconceptionInfo(
        lecture=10,
        formula=("logit := dot(W_y, h_t)", "y_hat := dot(W_y, h_t)"),
        did="left out the dense layer's bias b_y",
        feedback="your output is W_y·h_T without the dense layer's bias b_y",
        summary="dense layer without b_y",
    )

    SOFTMAX_NO_NORM = MisconceptionInfo(
        lecture=10,
        formula=("prob := exp(logit)",),
        did="softmax without normalizing: e^logit, not divided by the sum",
        feedback="your probabilities are e^logit: divide each by the sum over all classes so they add up to 1",
        summary="softmax not normalized",
    )

    CLASS_FROM_ZERO = MisconceptionInfo(
        lecture=10,
        formula=("class := argmax(prob)",),
        did="counted the classes from 0 (as argmax does), not from 1",
        feedback="you counted the classes from 0, as argmax does; the sheet numbers them from 1",
        summary="classes counted from 0",
    )

    ERROR_NOT_SQUARED = MisconceptionInfo(
        lecture=10,
        formula=("sq_error := y_hat - y",),
        did="did not square the error: y_hat - y",
        feedback="your error is y_hat − y; the squared error is (y_hat − y)²",
        summary="error not squared",
    )

    SIGMA_AS_DERIVATIVE = MisconceptionInfo(
        lecture=11,
        formula=each_gate("fio", "da_{g} := {grad} * {act}"),
        did="wrote the sigmoid's derivative σ'(a) as σ(a), not σ(a)(1 − σ(a))",
        feedback="you used σ(a) as the sigmoid's derivative; it is σ(a)(1 − σ(a)), i.e. gate * (1 − gate)",
        feedback_one="for dL/da_{g} you used {act} as the sigmoid's derivative; it is "
        "{act} * (1 − {act})",
        summary="σ'(a) as σ(a)",
        rank=9,
    )

    TANH_DERIVATIVE = MisconceptionInfo(
        lecture=11,
        formula=(
            "dC_t := dC_next + dh_t * o_t * (1 - tanh_C)",
            "da_C := dC_tilde * (1 - C_tilde)",
        ),
        did="wrote tanh's derivative as 1 − tanh(a), not 1 − tanh²(a)",
        feedback="you used 1 − tanh(a) as tanh's derivative; it is 1 − tanh²(a)",
        summary="tanh' as 1 - tanh",
    )

    NO_NEXT_GRADIENT = MisconceptionInfo(
        lecture=11,
        formula=("dC_t := dh_t * o_t * (1 - tanh_C * tanh_C)",),
        did="left out dL/dC_t arriving from the next step",
        feedback="your dL/dC_t leaves out the gradient dL/dC_t arriving from the next step",
        summary="dropped dL/dC from t+1",
    )

    NO_H_PATH = MisconceptionInfo(
        lecture=11,
        formula=("dC_t := dC_next",),
        did="left out the path from h_t through tanh(C_t) into dL/dC_t",
        feedback="your dL/dC_t leaves out the path through h_t: dL/dh_t * o_t * (1 − tanh²(C_t))",
        summary="dropped the path through h_t",
    )

    DC_PREV_NO_F = MisconceptionInfo(
        lecture=11,
        formula=("dC_prev := dC_t",),
        did="dL/dC_{t-1} = dL/dC_t: forgot the factor f_t",
        feedback="your dL/dC_{t-1} is dL/dC_t: multiply by the forget gate f_t",
        summary="dL/dC_t-1 without f_t",
    )

    NO_TRANSPOSE = MisconceptionInfo(
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


#: The misconceptions that change the computation's structure rather than one quantity's
#: formula, named cases of the evaluator and of practice.js: ``SWAPPED_CONCAT`` reorders
#: z = [h_{t-1}, x_t], a vector the gates' dot products read and nobody names;
#: ``SEQ_REUSE`` changes the state a step starts from (h_{t-1}, C_{t-1}: the previous
#: step's, or h_0, C_0); ``NO_TRANSPOSE`` changes which index of W_g the sum of dh_prev
#: runs over. Every other entry has a ``formula``.
STRUCTURAL = frozenset(
    {Misconception.SWAPPED_CONCAT, Misconception.SEQ_REUSE, Misconception.NO_TRANSPOSE}
)
if {tw for tw in Misconception if not tw.value.formulas} != STRUCTURAL:
    raise ValueError("a misconception without a formula that the evaluator does not name")


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
SUMMARY_NAMES: dict[str, str] = {tw.name: tw.summary for tw in Misconception} | {
    r.id: r.summary for r in ROUNDING_SLIPS
}


def register(name: str, misconception: MisconceptionInfo) -> Misconception:
    """Add one misconception to the registry, under ``name``, before anything reads it
    (a plug-in's or a test's own usual mistake): it must have a formula. Every part reads
    the registry, so this one entry is all it takes.

    The :class:`Misconception` enumeration gains the member (as if it had been declared last)
    and :data:`SUMMARY_NAMES` its summary name; parts that keep what they computed of
    the registry (caches) must not have run yet. Its ``rank`` orders nothing:
    well-posedness checks it after the ranked ones (which changes nothing but speed).
    """
    if not name.isidentifier() or name in Misconception.__members__ or name in SUMMARY_NAMES:
        raise ValueError(f"{name!r}: not a new misconception's name")
    if not misconception.formulas:
        raise ValueError(f"{name}: a registered misconception needs its formula")
    member = object.__new__(Misconception)
    member._name_, member._value_ = name, misconception
    type.__setattr__(Misconception, name, member)
    Misconception._member_map_[name] = member
    Misconception._member_names_.append(name)
    Misconception._value2member_map_[misconception] = member
    SUMMARY_NAMES[name] = misconception.summary
    return member
