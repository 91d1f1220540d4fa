"""The class summary: counts, mean, distribution, the most common mistakes per problem and
the item analysis (results.json's ``summary``; ``grade``'s closing text)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from lstm_exam.generator.core.misconceptions import SUMMARY_NAMES
from lstm_exam.generator.core.numbers import plain

from .results import GradeRun, Status, StudentResult


def summary_data(run: GradeRun) -> dict:
    """Counts, mean, distribution and the most common mistakes per problem."""
    roster = [r for r in run.results if r.on_roster]
    graded = [r for r in roster if r.status is Status.GRADED and not r.held]
    status = Counter(str(r.status) for r in run.results)
    percents = [r.percent for r in graded]
    mean = sum(percents, Decimal(0)) / len(graded) if graded else Decimal(0)
    bins = Counter(min(int(p // 10), 9) for p in percents)
    distribution = {f"{10 * b}-{10 * b + 10}%": bins.get(b, 0) for b in range(10)}
    # students, not answers, per mistake and problem; a suspected copy's mistakes are
    # another variant's numbers, so they are left out
    mistakes: dict[str, Counter] = {}
    for r in graded:
        if r.copy_of:
            continue
        for problem, code in set(r.mistakes):
            mistakes.setdefault(f"q{problem}", Counter())[SUMMARY_NAMES.get(code, code)] += 1
    return {
        "students": len(roster),
        "status": dict(status),
        "mean_percent_of_graded": plain(mean.quantize(Decimal("0.1"))),
        "distribution": distribution,
        "common_mistakes": {q: c.most_common(3) for q, c in sorted(mistakes.items())},
        "items": item_analysis(run.labels, [r for r in graded if not r.copy_of]),
    }


#: The item analysis's counts, by verdict code (results.VERDICT_CODES).
_ITEM_COUNTS = (
    ("c", "correct"),
    ("f", "carried_forward"),
    ("w", "wrong"),
    ("i", "invalid"),
    ("u", "unanswered"),
)


def item_analysis(labels: Sequence[str], graded: Sequence[StudentResult]) -> dict[str, dict]:
    """Per asked label, over the graded students (flagged copies left out): how many
    answered it each way, the share correct, the most common wrong number and the most
    common diagnosis of a wrong answer (each ``[text, students]``, or null when no two
    students share one).

    >>> r = StudentResult(student_id="s", name="", variant="", status=Status.GRADED,
    ...                   problem_scores=(), max_scores=(), marks="cw")
    >>> item_analysis(["q1.a", "q1.b"], [r, r])["q1.b"]["share_correct"]
    0.0
    """
    verdicts = [
        Counter(r.marks[at] for r in graded if len(r.marks) == len(labels))
        for at in range(len(labels))
    ]
    values: list[Counter] = [Counter() for _ in labels]
    why: list[Counter] = [Counter() for _ in labels]
    for r in graded:
        if len(r.marks) != len(labels):
            continue
        for at, value, code in r.wrong_values:
            values[at][value] += 1
            why[at][SUMMARY_NAMES.get(code, code)] += 1
    out = {}
    for label, n, vs, ws in zip(labels, verdicts, values, why, strict=True):
        total = sum(n.values())
        item: dict = {name: n.get(code, 0) for code, name in _ITEM_COUNTS}
        item["share_correct"] = round(n.get("c", 0) / total, 3) if total else None
        item["most_common_wrong"] = _shared(vs)
        item["most_common_mistake"] = _shared(ws)
        out[label] = item
    return out


def _shared(counts: Counter) -> list | None:
    """The most common entry and its count, if at least two students share it."""
    if not counts:
        return None
    text, n = counts.most_common(1)[0]
    return [text, n] if n > 1 else None


def _hardest(items: dict[str, dict], count: int = 5) -> list[tuple[str, dict]]:
    """The ``count`` labels answered correctly least often (below every student), in order."""
    below = [
        (item["share_correct"], k, label, item)
        for k, (label, item) in enumerate(items.items())
        if item["share_correct"] is not None and item["share_correct"] < 1
    ]
    return [(label, item) for _, _, label, item in sorted(below)[:count]]


def summary_text(run: GradeRun) -> str:
    """The summary printed at the end of `grade`."""
    s = summary_data(run)
    st = s["status"]
    lines = [
        *run.notices,
        f"{s['students']} students: " + ", ".join(f"{n} {k}" for k, n in sorted(st.items())),
        f"mean of graded: {s['mean_percent_of_graded']}%",
    ]
    peak = max(s["distribution"].values() or [0]) or 1
    for rng, n in s["distribution"].items():
        lines.append(f"  {rng:>8} {'#' * round(30 * n / peak):30s} {n}")
    if s["common_mistakes"]:
        lines.append("most common mistakes:")
        for q, items in s["common_mistakes"].items():
            lines.append(
                f"  {q}: "
                + "; ".join(f"{name}: {n} student{'s' if n > 1 else ''}" for name, n in items)
            )
    hard = _hardest(s["items"])
    if hard:
        lines.append("answers most often missed:")
        for label, item in hard:
            line = f"  {label}: {item['share_correct']:.0%} correct"
            if item["most_common_wrong"]:
                value, n = item["most_common_wrong"]
                line += f"; most common wrong answer {value} ({n} students)"
            lines.append(line)
    if run.skipped:
        shown = ", ".join(run.skipped[:3]) + (" ..." if len(run.skipped) > 3 else "")
        lines.append(f"skipped {len(run.skipped)} system files: {shown}")
    flagged = [r for r in run.results if r.flags]
    if flagged:
        lines.append(
            f"{len(flagged)} {'row' if len(flagged) == 1 else 'rows'} flagged for a look "
            "(see the flags column of gradebook.csv)"
        )
    return "\n".join(lines)
