"""Copy detection: a submission whose answers fit another student's variant far better
than the student's own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from lstm_exam.generator.core.notation import KINDS, Kind, label_name
from lstm_exam.generator.core.numbers import plain

from .policy import GradePolicy
from .results import Status, StudentResult


def answers_at(result: StudentResult, decimals: int, labels: Collection[str]) -> dict[str, str]:
    """The student's numbers at the worksheet's places, at the labels copy detection compares."""
    if result.status is not Status.GRADED:
        return {}
    q = Decimal(1).scaleb(-decimals)
    return {
        f.label: plain(f.value.quantize(q))
        for f in result.findings
        if f.label in labels and f.value is not None and abs(f.value) < 10**6
    }


Labels = tuple[tuple[tuple[str, str], ...], ...]


def copy_labels(first: Mapping[str, Any] | None) -> Labels:
    """Per problem, the labels copy detection compares, (``f_t[1]``, ``q1.f_t[1]``): the
    final asked quantities. Every variant has the same: they are the first student's.
    """
    if first is None:
        return ()
    return tuple(
        tuple(
            (lab, f"q{p['number']}.{lab}")
            for lab, e in p["values"].items()
            if e.get("asked") and label_name(lab) in KINDS[Kind(p["kind"])].asked
        )
        for p in first["problems"]
    )


def copy_keys(doc: Mapping[str, Any], labels: Labels) -> tuple[tuple[str, str, str], ...]:
    """A student's key at the labels of :func:`copy_labels`: (rounded, accept_min, accept_max)."""
    out = []
    for p, labs in zip(doc["problems"], labels, strict=True):
        values = p["values"]
        for lab, _label in labs:
            e = values[lab]
            out.append((e["rounded"], e["accept_min"], e["accept_max"]))
    return tuple(out)


class CopyIndex:
    """Which students' keys hold an answer, to spot a submission made for another variant.

    Only the final quantities of each problem (f_t, C_t, h_t, ...) are compared: they
    tell variants apart as well as every step does, at a third of the cost. Students
    are added in roster order (:meth:`add`), each with their :func:`copy_keys`.
    """

    def __init__(self, labels: Labels, policy: GradePolicy) -> None:
        self.policy = policy
        self.labels = [label for labs in labels for _lab, label in labs]
        self.position = {label: i for i, label in enumerate(self.labels)}
        self.ids: list[str] = []
        self.keys: list[Sequence[tuple[str, str, str]]] = []
        """Per student, at each label: (rounded answer, accept_min, accept_max)."""
        self._all: list[dict[str, list[int]]] = [{} for _ in self.labels]
        self._index: list[dict[str, list[int]]] | None = None

    def add(self, student_id: str, keys: Sequence[tuple[str, str, str]]) -> None:
        """The next student of the roster, with their key's final values and bounds."""
        k = len(self.ids)
        self.ids.append(student_id)
        self.keys.append(keys)
        for at, (rounded, _lo, _hi) in zip(self._all, keys, strict=True):
            ks = at.get(rounded)
            if ks is None:
                at[rounded] = [k]
            else:
                ks.append(k)
        self._index = None

    @property
    def index(self) -> list[dict[str, list[int]]]:
        """Per label, rounded answer -> the students whose key holds it."""
        if self._index is None:
            # values many keys share (fixed problems, round numbers) say nothing
            self._index = [
                {text: ks for text, ks in at.items() if len(ks) <= 3} for at in self._all
            ]
        return self._index

    def fit(self, index: int, numbers: Mapping[str, Decimal]) -> float:
        """Share of student k's asked answers that these numbers hit."""
        keys = self.keys[index]
        hit = sum(
            1
            for label, (_, lo, hi) in zip(self.labels, keys, strict=True)
            if label in numbers and Decimal(lo) <= numbers[label] <= Decimal(hi)
        )
        return hit / len(keys) if keys else 0.0

    def flag(self, me: int, answers: Mapping[str, str]) -> tuple[str, str] | None:
        """The copy flag for student ``me``'s answers and the student whose variant they
        fit, or None."""
        votes: Counter = Counter()
        index, position = self.index, self.position
        answers = {label: text for label, text in answers.items() if label in position}
        for label, text in answers.items():
            ks = index[position[label]].get(text)
            if ks is not None and (len(ks) > 1 or ks[0] != me):  # not only their own key
                for k in ks:
                    if k != me:
                        votes[k] += 1
        if not votes:
            return None
        k, n = votes.most_common(1)[0]
        if n < self.policy.copy_fit * len(self.keys[me]):
            return None
        numbers = {label: Decimal(text) for label, text in answers.items()}
        other, own = self.fit(k, numbers), self.fit(me, numbers)
        if other >= self.policy.copy_fit and other - own >= self.policy.copy_margin:
            return (
                f"answers fit the variant of student {self.ids[k]} ({other:.0%}) far better "
                f"than their own ({own:.0%})",
                self.ids[k],
            )
        return None


def flagged(
    index: CopyIndex, k: int, result: StudentResult, answers: Mapping[str, str]
) -> StudentResult:
    """The row with its copy flag, if any."""
    found = index.flag(k, answers) if result.status is Status.GRADED else None
    if found is None:
        return result
    flag, other = found
    return replace(result, flags=(*result.flags, flag), copy_of=other)


def both_sides(results: list[StudentResult]) -> list[StudentResult]:
    """Each suspected copy flagged on both rows: the student whose variant another's
    answers fit is flagged with that student's id too (which of the two copied, and
    whether at all, is for the instructor to find out)."""
    fit: dict[str, list[str]] = {}
    for r in results:
        if r.copy_of:
            fit.setdefault(r.copy_of, []).append(r.student_id)
    if not fit:
        return results
    return [
        replace(
            r, flags=(*r.flags, f"the answers of {', '.join(fit[r.student_id])} fit this variant")
        )
        if r.student_id in fit
        else r
        for r in results
    ]
