"""Grading one submission: a declared sequence of small steps.

read (:mod:`submissions`) -> match to the student (:mod:`run`) -> :func:`compare` ->
:data:`STEPS` (carry forward, diagnose) -> :func:`score`; copies come after the class
(:mod:`copies`). Each step is a function of one signature over named records:
a problem's :class:`Work` and its findings so far in, its findings out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.chains import FULL, Rounded
from lstm_exam.generator.core.diagnosis import run_mistake
from lstm_exam.generator.core.evaluate import evaluate_prepared, prepare
from lstm_exam.generator.core.misconceptions import (
    ROUNDING_SLIPS,
    RoundingSlip,
    applicable_slips,
    explain,
    slip_targets,
)
from lstm_exam.generator.core.notation import is_whole, label_name
from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant, VariantProblem

from .answer_numbers import decimals_of, parse_number
from .policy import GradePolicy
from .reading import Sheet
from .results import Finding, Graded, Verdict

# --- step: compare ------------------------------------------------------------


def _within(value: Decimal, low: Decimal, high: Decimal) -> bool:
    return low <= value <= high


@dataclass(frozen=True, slots=True)
class Work:
    """One problem of one submission, as every step sees it."""

    m: Manifest
    policy: GradePolicy
    vp: VariantProblem
    answers: Mapping[str, str]
    """What the student wrote, by worksheet label (every problem's)."""
    values: Mapping[str, Decimal]
    """The numbers read from it."""
    invalid: Mapping[str, str]
    """The answers that are no number, and why."""
    read_as: Mapping[str, str]
    """The numbers read from texts that needed reading (:func:`reading_shown`)."""
    prepared: Prepared
    """The problem's givens, converted for the chains when first needed."""


def compare(work: Work) -> list[Finding]:
    """Judge each asked answer against the key's accepted range."""
    m, vp, answers, values, invalid = work.m, work.vp, work.answers, work.values, work.invalid
    out = []
    zero, one = Decimal(0), Decimal(1)
    stored = vp.accept or {}
    keys, decimals = vp.solution.values, vp.solution.decimals
    prefix = vp.label("")
    for lab in vp.solution.asked:
        q = prefix + lab
        val = keys[lab]
        bounds = stored.get(lab) or m.bounds(lab, val)
        raw = answers.get(q, "")
        value = values.get(q)
        if q in invalid:
            verdict, credit, reason = Verdict.INVALID, zero, invalid[q]
        elif not raw:
            verdict, credit, reason = Verdict.UNANSWERED, zero, "no answer"
        elif value is not None and bounds[0] <= value <= bounds[1]:
            note = "" if is_whole(lab) else _digits_note(raw, decimals)
            verdict, credit, reason = Verdict.CORRECT, one, note
        else:
            verdict, credit, reason = Verdict.WRONG, zero, ""
        read_as = work.read_as.get(q, "") if work.read_as else ""
        out.append(
            Finding(
                label=q,
                answer=raw,
                value=value,
                verdict=verdict,
                credit=credit,
                key=val.rounded,
                accept=bounds,
                reason=reason,
                mistake=None,
                read_as=read_as,
            )
        )
    return out


def _digits_note(raw: str, decimals: int) -> str:
    d = decimals_of(raw)
    if d is not None and d < decimals:
        return f"accepted; note: you gave {d} decimals, the sheet asks for {decimals}"
    return ""


# --- step: carry forward --------------------------------------------------------


class Prepared:
    """A problem's givens converted once for the float chain and once for the decimal
    chains (every rounded chain takes the same exact decimals), when first needed."""

    __slots__ = ("_decimal", "_full", "_own", "givens")

    def __init__(self, givens: Mapping[str, Any]) -> None:
        self.givens = givens
        self._full: dict[str, Any] | None = None
        self._decimal: dict[str, Any] | None = None
        self._own: dict[str, Decimal] | None = None

    def own(
        self, variant_problem: VariantProblem, values: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        """The student's own answers to this problem, by label without the ``q`` prefix."""
        if self._own is None:
            self._own = _own_answers(variant_problem, values)
        return self._own

    def full(self) -> dict[str, Any]:
        if self._full is None:
            self._full = prepare(self.givens, FULL)
        return self._full

    def decimal(self) -> dict[str, Any]:
        if self._decimal is None:
            # as evaluate() prepares them; a rounded chain's places do not enter here
            with localcontext(prec=defaults.DECIMAL_PRECISION):
                self._decimal = prepare(self.givens, Rounded(defaults.DECIMALS))
        return self._decimal

    def chain(self, chain: Any) -> dict[str, Any]:
        """The givens for chain ``chain``."""
        return self.full() if chain is FULL else self.decimal()


def _own_answers(
    variant_problem: VariantProblem, values: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    prefix = f"q{variant_problem.number}."
    return {q[len(prefix) :]: v for q, v in values.items() if q.startswith(prefix)}


def carry_forward(work: Work, findings: list[Finding]) -> list[Finding]:
    """Credit a wrong answer that follows from the student's own earlier (wrong) answers."""
    m, vp, values = work.m, work.vp, work.values
    wrong = {f.label.split(".", 1)[1] for f in findings if f.verdict is Verdict.WRONG}
    # the wrong answers that could follow from earlier wrong ones
    sources = {
        vp.label(lab): [vp.label(u) for u in vp.problem.upstream(lab) if u in wrong]
        for lab in (f.label.split(".", 1)[1] for f in findings)
        if lab in wrong
    }
    if not any(sources.values()):
        return findings
    p = vp.problem
    g = work.prepared
    own = g.own(vp, values)
    full: dict = {}
    rnd: dict = {}
    evaluate_prepared(p.kind, g.full(), FULL, overrides=own, computed=full)
    out = []
    for f in findings:
        if not sources.get(f.label):
            out.append(f)
            continue
        lab = f.label.split(".", 1)[1]
        # the window of the full chain alone lies inside that of both chains: the exact
        # decimals of the rounded chain (slow) are needed only for an answer outside it
        consistent = _within(values[f.label], *m.tolerance.window(full[lab], full[lab]))
        if not consistent:
            if not rnd:
                ch = Rounded(p.decimals)
                evaluate_prepared(p.kind, g.chain(ch), ch, overrides=own, computed=rnd)
            consistent = _within(values[f.label], *m.tolerance.window(full[lab], rnd[lab]))
        if consistent:
            found = sources[f.label]
            shown = ", ".join(found[:3]) + (" ..." if len(found) > 3 else "")
            out.append(
                replace(
                    f,
                    verdict=Verdict.CARRIED,
                    credit=work.policy.carry_forward,
                    reason=f"consistent with your own earlier answers: error carried "
                    f"forward from {shown}",
                )
            )
        else:
            out.append(f)
    return out


# --- step: diagnose ---------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _slip_chain(slip: RoundingSlip, decimals: int) -> Rounded:
    """The chain a rounding slip computes in, on a sheet of ``decimals`` places."""
    return Rounded(slip.decimals or decimals, truncate=slip.truncate)


def _rounding_matches(
    p,
    wrong: list[Finding],
    own: Mapping[str, Decimal],
    values: Mapping[str, Decimal],
    prepared: Prepared,
    chains: dict[str, dict],
) -> dict[str, tuple[str, str]]:
    """Wrong answers that a rounding slip (misconception 7) reproduces exactly.

    Each answer's match depends on that answer alone, so any subset of the wrong
    answers may be asked; ``chains`` keeps the chains computed for the next ask.
    """
    found: dict[str, tuple[str, str]] = {}
    for slip in ROUNDING_SLIPS:
        code, ch = slip.id, _slip_chain(slip, p.decimals)
        # the answers an earlier slip explains need no more; a slip's chain is computed
        # only if some other answer is a number it can give
        left = [f for f in wrong if f.label not in found]
        if not any(values[f.label] == ch.rnd(values[f.label]) for f in left):
            continue
        if code not in chains:
            chains[code] = {}
            evaluate_prepared(p.kind, prepared.chain(ch), ch, overrides=own, computed=chains[code])
        computed = chains[code]
        for f in left:
            lab = f.label.split(".", 1)[1]
            if values[f.label] == ch.rnd(computed[lab]):
                found[f.label] = (code, slip.feedback.format(d=p.decimals))
    return found


def diagnose(work: Work, findings: list[Finding]) -> list[Finding]:
    """Name the misconception (:mod:`misconceptions`) that explains each wrong answer."""
    m, vp, values, prepared = work.m, work.vp, work.values, work.prepared
    wrong = [f for f in findings if f.verdict is Verdict.WRONG]
    if not wrong:
        return findings
    p = vp.problem
    own = prepared.own(vp, values)
    ulp = Decimal(1).scaleb(-p.decimals)
    found: dict[str, tuple[str, str]] = {}
    # a student who wrote fewer decimals than asked most likely rounded early
    early = [f for f in wrong if (d := decimals_of(f.answer)) is not None and d < p.decimals]
    chains: dict[str, dict] = {}
    rounding = _rounding_matches(p, early, own, values, prepared, chains) if early else {}
    found |= rounding
    # with every asked answer given, a slip shows only in the first asked values after it
    names = {label_name(f.label) for f in wrong}
    some_unanswered = len(own) < len(vp.solution.asked)  # then any slip may show anywhere
    g = prepared.full()
    # a slip in one gate before the same slip in all: it is the more common, and names
    # the gate; the first slip that explains an answer is the one named
    for mistake in applicable_slips(p):
        if len(found) == len(wrong):
            break  # every wrong answer is explained: no later slip can change that
        tw, _, gate = mistake
        if not some_unanswered and not names & slip_targets(p.kind, p.show_steps, tw, gate):
            continue
        computed: dict = {}
        run_mistake(p.kind, g, mistake, overrides=own, computed=computed)
        for f in wrong:
            lab = f.label.split(".", 1)[1]
            if f.label in found or lab not in computed:
                continue
            v = computed[lab]
            # the student rounds what the slip gives: half a unit more than the rule
            if _within(values[f.label], *m.tolerance.window(v, v, extra=ulp / 2)) and not _within(
                Decimal(repr(v)), *f.accept
            ):
                found[f.label] = (tw.name, explain(tw, label_name(lab), gate))
    # the answers no slip explains: a rounding slip, at any number of decimals
    rest = [f for f in wrong if f.label not in found]
    if rest:
        found |= _rounding_matches(p, rest, own, values, prepared, chains)
    out = []
    for f in findings:
        if f.label in found:
            code, words = found[f.label]
            out.append(replace(f, mistake=code, reason=words))
        elif f.verdict is Verdict.WRONG:
            out.append(
                replace(f, reason="outside the accepted range; no usual mistake explains it")
            )
        else:
            out.append(f)
    return out


# --- step: score ------------------------------------------------------------------


def score(variant_problem: VariantProblem, findings: Sequence[Finding]) -> Decimal:
    """Points of one problem: its points times the mean credit of its answers."""
    if not findings:
        return Decimal(0)
    total = sum((f.credit for f in findings), Decimal(0))
    return (variant_problem.points * total / len(findings)).quantize(Decimal("0.01"))


# --- the pipeline -------------------------------------------------------------------


def read_values(
    sheet: Sheet, labels: Sequence[str]
) -> tuple[dict[str, str], dict[str, Decimal], dict[str, str], list[str], list[str]]:
    """Map the rows to labels (``labels``: the asked ones, in the template's order): raw
    answers, numbers, invalid cells, row notes, typos read as labels. A label that is not on the worksheet but
    is plainly a typo of an unanswered one (:func:`typo_of`) is read as that one."""
    asked = set(labels)
    answers: dict[str, str] = {}
    values: dict[str, Decimal] = {}
    invalid: dict[str, str] = {}
    notes: list[str] = []
    first_line: dict[str, int] = {}
    typos: list[str] = []
    given: set[str] | None = None  # the labels the file has, once one is unknown
    for position, cell in enumerate(sheet.cells):
        if cell.label not in asked and cell.label:
            if given is None:
                given = {c.label for c in sheet.cells}
            meant = typo_of(cell.label, position, labels, asked - given - set(first_line))
            if meant is not None:
                notes.append(
                    f"line {cell.line}: label '{cell.label[:40]}' is not on your worksheet; "
                    f"read as {meant}, the label it is a typo of"
                )
                typos.append(f"{cell.label[:40]} as {meant}")
                cell = replace(cell, label=meant)
        if cell.label not in asked:
            if cell.label:
                notes.append(
                    f"line {cell.line}: label '{cell.label[:40]}' is not on your worksheet; ignored"
                )
            elif cell.raw:
                notes.append(f"line {cell.line}: an answer without a label; ignored")
            continue
        if cell.label in first_line:
            notes.append(
                f"line {cell.line}: label {cell.label} repeats line "
                f"{first_line[cell.label]}; the first was graded"
            )
            continue
        first_line[cell.label] = cell.line
        answers[cell.label] = cell.raw[:60]
        if cell.raw:
            try:
                whole = is_whole(cell.label)
                values[cell.label] = parse_number(cell.raw, sheet.decimal_comma, whole)
            except ValueError as e:
                invalid[cell.label] = str(e)
    return answers, values, invalid, notes, typos


def reading_shown(raw: str, value: Decimal, sheet: Sheet) -> str:
    """The number ``raw`` was read as, when that is more than the text in the file's
    convention (its decimal mark): else empty.

    >>> from lstm_exam.graders.reading import Sheet
    >>> points = Sheet(cells=(), notes=(), decimal_comma=False)
    >>> commas = Sheet(cells=(), notes=(), decimal_comma=True)
    >>> reading_shown("0,5", Decimal("0.5"), commas), reading_shown("0,5", Decimal("0.5"), points)
    ('', '0.5')
    >>> reading_shown("5e-1", Decimal("0.5"), points), reading_shown("0.50", Decimal("0.50"), points)
    ('0.5', '')
    """
    if raw == str(value):
        return ""  # the usual answer, read as it is written
    text = raw.strip()
    if sheet.decimal_comma and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    shown = plain(value)
    return "" if text == shown else shown


#: The most edits a typo of a label may have (:func:`typo_of`).
TYPO_EDITS = 2


def typo_of(label: str, position: int, labels: Sequence[str], open_: set[str]) -> str | None:
    """The label ``label`` (not on the worksheet, on the file's row ``position``) is a
    typo of, or None: an unanswered label (``open_``) at most TYPO_EDITS edits away that
    is nearer than every other, and the template's label at the same row, or else one
    edit away without touching a digit (``q1.af[2]`` for ``q1.a_f[2]``; never
    ``q1.f_t[4]`` for ``q1.f_t[3]``).

    >>> labels = ["q1.a_f[1]", "q1.a_f[2]", "q1.f_t[1]"]
    >>> typo_of("q1.af[2]", 1, labels, set(labels)), typo_of("q1.a_f[3]", 0, labels, set(labels))
    ('q1.a_f[2]', None)
    """
    if len(label) > 60:
        return None
    near = sorted((_edits(label, lab), lab) for lab in open_ if abs(len(lab) - len(label)) <= 2)
    if not near or near[0][0] > TYPO_EDITS or (len(near) > 1 and near[1][0] == near[0][0]):
        return None
    edits, meant = near[0]
    same_row = position < len(labels) and labels[position] == meant
    digits_same = [c for c in label if c.isdigit()] == [c for c in meant if c.isdigit()]
    return meant if same_row or (edits == 1 and digits_same) else None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


Step = Callable[[Work, list[Finding]], list[Finding]]

#: What a problem's compared answers go through, in order. Each leaves the findings as
#: they are when none is wrong, so a problem without a wrong answer skips them all.
STEPS: tuple[Step, ...] = (carry_forward, diagnose)


#: Why a wrong answer of a suspected copy is wrong: no diagnosis, no blame.
NOT_YOUR_NUMBERS = "outside the accepted range of your variant"


def asked_labels(variant: Variant) -> list[str]:
    """Every asked label of a variant, in the template's order (every variant of a
    worksheet has the same)."""
    return [vp.label(lab) for vp in variant.problems for lab in vp.solution.asked]


def grade_sheet(
    manifest: Manifest,
    policy: GradePolicy,
    variant: Variant,
    sheet: Sheet,
    *,
    fits_other: bool = False,
) -> Graded:
    """Grade one readable submission against the student's variant.

    With ``fits_other`` (the answers fit another student's variant far better, see
    :mod:`copies`), a wrong answer is only wrong: numbers worked from another sheet's
    givens earn no carried-forward credit, and no misconception is named for them.
    """
    labels = asked_labels(variant)
    answers, values, invalid, notes, typos = read_values(sheet, labels)
    read_as = {
        q: shown for q, v in values.items() if (shown := reading_shown(answers[q], v, sheet))
    }
    findings: list[Finding] = []
    scores = []
    for vp in variant.problems:
        w = Work(
            manifest, policy, vp, answers, values, invalid, read_as, Prepared(vp.problem.givens)
        )
        fs = compare(w)
        if fits_other:
            fs = [
                replace(f, reason=NOT_YOUR_NUMBERS) if f.verdict is Verdict.WRONG else f for f in fs
            ]
        elif any(f.verdict is Verdict.WRONG for f in fs):
            for step in STEPS:
                fs = step(w, fs)
        scores.append(score(vp, fs))
        findings += fs
    flags = (f"labels read as their typos' labels: {'; '.join(typos)}",) if typos else ()
    return Graded(
        findings=tuple(findings), problem_scores=tuple(scores), notes=tuple(notes), flags=flags
    )
