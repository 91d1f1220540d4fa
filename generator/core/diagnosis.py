"""Running a mistake on a variant: the one way grade, the quiz and well-posedness do it.

A *mistake* is a misconception of the registry made at one step, in one gate or in every
gate (:data:`~lstm_exam.generator.core.misconceptions.Slip`). :func:`run_mistake` says
what it gives on one variant: every value of the chain the student computes with it, in
a chain of arithmetic (the full chain, a rounded one, or the batch chains of
:mod:`~lstm_exam.generator.variants.batch`, which hold many variants at once and give
each the value the scalar chain gives), from the variant's givens; with the student's
own answers in place of computed values (``overrides``, as diagnosis asks), or redone only
over the steps it changes (``redo``, as the quiz and well-posedness ask).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lstm_exam.generator.core.chains import FULL, Chain, Number
from lstm_exam.generator.core.evaluate import evaluate_prepared, redo_with_slip
from lstm_exam.generator.core.misconceptions import Slip
from lstm_exam.generator.core.notation import HEAD, KINDS, Kind


@dataclass(frozen=True, slots=True)
class Redo:
    """Which steps of a mistake's chain to compute: from ``start`` (the steps before are
    those of ``base``, the chain without the mistake in the same arithmetic) through
    ``until`` (None: through the output layer). The result holds those steps only."""

    base: Mapping[str, Any]
    start: int
    until: int | None = None


def run_mistake(
    kind: Kind,
    givens: Mapping[str, Any],
    mistake: Slip,
    chain: Chain = FULL,
    *,
    overrides: Mapping[str, Decimal | float] | None = None,
    computed: dict[str, Number] | None = None,
    redo: Redo | None = None,
) -> dict[str, Any]:
    """The values a mistake (twist, step, gate) gives on a variant whose givens ``givens`` are
    :func:`~lstm_exam.generator.core.evaluate.prepare`-d for ``chain``, by label.

    ``overrides`` and ``computed`` are the evaluator's (the student's own answers used
    instead of computed values; what each formula gave from them); ``redo`` computes only
    some steps, from the chain without the mistake (:func:`redo_from` says where it
    starts). The two do not mix: a redo starts from the chain without overrides.
    """
    misconception, step, gate = mistake
    if redo is None:
        return evaluate_prepared(
            kind,
            givens,
            chain,
            misconception=misconception,
            step=step,
            gate=gate,
            overrides=overrides,
            computed=computed,
        )
    if overrides or computed is not None:
        raise ValueError("a redone mistake's chain takes no overrides")
    return redo_with_slip(
        kind,
        givens,
        chain,
        redo.base,
        misconception=misconception,
        step=step,
        start=redo.start,
        until=redo.until,
        gate=gate,
    )


def redo_from(kind: Kind, steps: int, mistake: Slip) -> int:
    """The first step a mistake changes: its own step, or after every step (``steps + 1``:
    the output layer alone) for a mistake of the output layer in a sequence."""
    misconception, step, _ = mistake
    if KINDS[kind].stepped and HEAD.issuperset(misconception.alters):
        return steps + 1
    return step
