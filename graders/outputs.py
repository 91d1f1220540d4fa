"""Writers of the grade stage: gradebook.csv, feedback (Markdown, HTML), results.json."""

from __future__ import annotations

import html
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from lstm_exam.generator.csvfiles import safe_cell, to_csv
from lstm_exam.generator.files import write_text
from lstm_exam.generator.notation import KINDS

from .grade import Finding, Verdict
from .run import GradeRun, Status, StudentResult

_MARK = {
    Verdict.CORRECT: "✔",
    Verdict.CARRIED: "➜",
    Verdict.WRONG: "✘",
    Verdict.UNANSWERED: "–",
    Verdict.INVALID: "✘",
}


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def gradebook_csv(run: GradeRun) -> str:
    """design.md's gradebook: every roster student and every submitted file."""
    n = len(run.manifest.variants[0].problems) if run.manifest.variants else 0
    header = [
        "student_id",
        "name",
        "variant",
        "status",
        "score",
        "max_score",
        "percent",
        *(f"q{k}" for k in range(1, n + 1)),
        "flags",
    ]
    rows = []
    for r in run.results:
        scores = [_fmt(s) for s in r.problem_scores] or [""] * n
        rows.append(
            [
                safe_cell(r.student_id),
                safe_cell(r.name),
                r.variant,
                str(r.status),
                _fmt(r.score) if r.max_scores else "",
                _fmt(r.max_score) if r.max_scores else "",
                _fmt(r.percent) if r.max_scores else "",
                *scores,
                safe_cell("; ".join(r.flags)),
            ]
        )
    return to_csv(header, rows)


def _problem_titles(run: GradeRun) -> list[str]:
    if not run.manifest.variants:
        return []
    return [KINDS[vp.problem.kind].title for vp in run.manifest.variants[0].problems]


def _by_problem(r: StudentResult) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for f in r.findings:
        out.setdefault(int(f.label.split(".")[0][1:]), []).append(f)
    return out


def _range(f: Finding) -> str:
    return f"[{format(f.accept[0], 'f')}, {format(f.accept[1], 'f')}]"


def feedback_md(run: GradeRun, r: StudentResult) -> str:
    """A student's feedback in Markdown: per answer theirs, the range, the verdict, why."""
    m = run.manifest
    md = lambda s: s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")  # noqa: E731
    lines = [f"# {md(m.title)}: feedback for {md(r.name or r.student_id)} ({r.student_id})", ""]
    lines.append(
        f"Variant {r.variant} · score **{_fmt(r.score)} / {_fmt(r.max_score)}** "
        f"({_fmt(r.percent)}%) · status: {r.status}"
    )
    lines.append("")
    if r.status is Status.MISSING:
        lines.append("No submission was found for you. Talk to your instructor if you did submit.")
    if r.status is Status.UNREADABLE:
        lines.append(f"Your file `{md(r.file)}` could not be read: {md(r.notes[0])}.")
        lines.append(
            "Fill in the answer template (CSV) and submit it again if your instructor allows."
        )
    tol = m.tolerance.words()
    if r.findings:
        lines.append(
            f"An answer is accepted when it lies {tol}; the accepted range also "
            "admits values computed with more digits."
        )
    titles = _problem_titles(run)
    for k, fs in sorted(_by_problem(r).items()):
        lines += [
            "",
            f"## Problem {k}: {titles[k - 1]}: {_fmt(r.problem_scores[k - 1])} / "
            f"{_fmt(r.max_scores[k - 1])} points",
            "",
            "| Label | Your answer | Accepted | Verdict | Why |",
            "|---|---|---|---|---|",
        ]
        for f in fs:
            lines.append(
                f"| `{f.label}` | {md(f.answer) or '—'} | {_range(f)} | "
                f"{_MARK[f.verdict]} {f.verdict} | {md(f.reason)} |"
            )
    if r.notes and r.status is Status.GRADED:
        lines += ["", "## About your file", ""] + [f"- {md(n)}" for n in r.notes]
    return "\n".join(lines) + "\n"


_CSS = """body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b2733}
h1{font-size:1.4rem;color:#1f4e79}h2{font-size:1.1rem;margin-top:1.6rem;color:#1f4e79}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d5dde6;padding:.3rem .5rem;text-align:left}
td.n{font-variant-numeric:tabular-nums}.correct{color:#1e7b34}.wrong,.invalid{color:#b3261e}
.carried{color:#8a5a00}.unanswered{color:#6b7785}code{font-size:.9em}"""


def feedback_html(run: GradeRun, r: StudentResult) -> str:
    """The same feedback as a standalone HTML page (every text escaped)."""
    m = run.manifest
    e = html.escape
    parts = [
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{e(m.title)}: feedback</title>",
        f"<style>{_CSS}</style>",
        f"<h1>{e(m.title)}: feedback for {e(r.name or r.student_id)} ({e(r.student_id)})</h1>",
        f"<p>Variant {e(r.variant)} · score <b>{_fmt(r.score)} / {_fmt(r.max_score)}</b> "
        f"({_fmt(r.percent)}%) · status: {e(str(r.status))}</p>",
    ]
    if r.status is Status.MISSING:
        parts.append(
            "<p>No submission was found for you. Talk to your instructor if you did submit.</p>"
        )
    if r.status is Status.UNREADABLE:
        parts.append(
            f"<p>Your file <code>{e(r.file)}</code> could not be read: {e(r.notes[0])}.</p>"
        )
    if r.findings:
        parts.append(
            f"<p>An answer is accepted when it lies {e(m.tolerance.words())}; the accepted "
            "range also admits values computed with more digits.</p>"
        )
    titles = _problem_titles(run)
    for k, fs in sorted(_by_problem(r).items()):
        parts.append(
            f"<h2>Problem {k}: {e(titles[k - 1])}: {_fmt(r.problem_scores[k - 1])} / "
            f"{_fmt(r.max_scores[k - 1])} points</h2>"
        )
        parts.append("<table><tr><th>Label<th>Your answer<th>Accepted<th>Verdict<th>Why</tr>")
        for f in fs:
            cls = str(f.verdict).split()[0]
            parts.append(
                f"<tr><td><code>{e(f.label)}</code><td class=n>{e(f.answer) or '—'}"
                f"<td class=n>{_range(f)}<td class={cls}>{_MARK[f.verdict]} {e(str(f.verdict))}"
                f"<td>{e(f.reason)}</tr>"
            )
        parts.append("</table>")
    if r.notes and r.status is Status.GRADED:
        parts.append(
            "<h2>About your file</h2><ul>" + "".join(f"<li>{e(n)}" for n in r.notes) + "</ul>"
        )
    return "\n".join(parts) + "\n"


def results_json(run: GradeRun) -> str:
    """Everything, for other tools."""

    def finding(f: Finding) -> dict:
        return {
            "label": f.label,
            "answer": f.answer,
            "value": None if f.value is None else format(f.value, "f"),
            "verdict": str(f.verdict),
            "credit": format(f.credit, "f"),
            "key": format(f.key, "f"),
            "accept": [format(f.accept[0], "f"), format(f.accept[1], "f")],
            "reason": f.reason,
            "mistake": f.mistake,
        }

    doc = {
        "worksheet": run.manifest.title,
        "source": run.source,
        "skipped_system_files": list(run.skipped),
        "summary": summary_data(run),
        "students": [
            {
                "student_id": r.student_id,
                "name": r.name,
                "variant": r.variant,
                "status": str(r.status),
                "file": r.file,
                "score": format(r.score, "f"),
                "max_score": format(r.max_score, "f"),
                "percent": format(r.percent, "f"),
                "problem_scores": [format(s, "f") for s in r.problem_scores],
                "flags": list(r.flags),
                "notes": list(r.notes),
                "findings": [finding(f) for f in r.findings],
            }
            for r in run.results
        ],
    }
    # compact: the C encoder is ten times faster than the indenting one on a large class
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def summary_data(run: GradeRun) -> dict:
    """Counts, mean, distribution and the most common mistakes per problem."""
    roster = [r for r in run.results if r.status is not Status.UNMATCHED]
    graded = [r for r in roster if r.status is Status.GRADED]
    status = Counter(str(r.status) for r in run.results)
    mean = sum((r.percent for r in graded), Decimal(0)) / len(graded) if graded else Decimal(0)
    bins = Counter(min(int(r.percent // 10), 9) for r in graded)
    distribution = {f"{10 * b}-{10 * b + 10}%": bins.get(b, 0) for b in range(10)}
    mistakes: dict[str, Counter] = {}
    for r in graded:
        for f in r.findings:
            q = f.label.split(".")[0]
            if f.mistake:
                mistakes.setdefault(q, Counter())[f.mistake] += 1
            elif f.verdict is Verdict.WRONG:
                mistakes.setdefault(q, Counter())["unexplained wrong answer"] += 1
    return {
        "students": len(roster),
        "status": dict(status),
        "mean_percent_of_graded": format(mean.quantize(Decimal("0.1")), "f"),
        "distribution": distribution,
        "common_mistakes": {q: c.most_common(3) for q, c in sorted(mistakes.items())},
    }


def summary_text(run: GradeRun) -> str:
    """The summary printed at the end of `grade`."""
    s = summary_data(run)
    st = s["status"]
    lines = [
        f"{s['students']} students: " + ", ".join(f"{n} {k}" for k, n in sorted(st.items())),
        f"mean of graded: {s['mean_percent_of_graded']}%",
    ]
    peak = max(s["distribution"].values() or [0]) or 1
    for rng, n in s["distribution"].items():
        lines.append(f"  {rng:>8} {'#' * round(30 * n / peak):30s} {n}")
    if s["common_mistakes"]:
        lines.append("most common mistakes:")
        for q, items in s["common_mistakes"].items():
            lines.append(f"  {q}: " + "; ".join(f"{name} ({n})" for name, n in items))
    if run.skipped:
        shown = ", ".join(run.skipped[:3]) + (" ..." if len(run.skipped) > 3 else "")
        lines.append(f"skipped {len(run.skipped)} system files: {shown}")
    flagged = [r for r in run.results if r.flags]
    if flagged:
        lines.append(
            f"{len(flagged)} rows flagged for a look (see the flags column of gradebook.csv)"
        )
    return "\n".join(lines)


def write_results(run: GradeRun, folder: Path) -> None:
    """gradebook.csv, feedback/<id>.md and .html, results.json into ``folder``."""
    write_text(folder / "gradebook.csv", gradebook_csv(run))
    for r in run.results:
        if r.status is Status.UNMATCHED:
            continue
        write_text(folder / "feedback" / f"{r.student_id}.md", feedback_md(run, r))
        write_text(folder / "feedback" / f"{r.student_id}.html", feedback_html(run, r))
    write_text(folder / "results.json", results_json(run))
