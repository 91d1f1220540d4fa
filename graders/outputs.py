"""Writers of the grade stage: gradebook.csv, feedback (Markdown, HTML), results.json."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from lstm_exam.generator.core.numbers import plain, score_text
from lstm_exam.generator.store.csvfiles import safe_cell, to_csv
from lstm_exam.generator.store.lines import Part, document_parts, with_member
from lstm_exam.generator.store.manifest import Manifest

from .results import Finding, GradeRun, Status, StudentResult, Verdict
from .summary import summary_data

#: Short names of the diagnosed mistakes, for the class summary.
_MARK = {
    Verdict.CORRECT: "✔",
    Verdict.CARRIED: "➜",
    Verdict.WRONG: "✘",
    Verdict.UNANSWERED: "–",
    Verdict.INVALID: "✘",
}


def roster_columns(run: GradeRun) -> list[str]:
    """The roster's further columns (email, LMS ids), in the order they first appear."""
    return list(dict.fromkeys(c for extra in run.extra.values() for c in extra))


def scored(run: GradeRun, result: StudentResult) -> bool:
    """Whether the row has a score to record: not a file's row, not a score held for the
    instructor, and not a student who sent nothing (left blank, so that an LMS import
    records no grade, unless the run says missing is zero)."""
    if not result.max_scores or result.held:
        return False
    return result.status is not Status.MISSING or run.missing_zero


def gradebook_csv(run: GradeRun) -> str:
    """The gradebook (docs/formats.md): every roster student and every submitted file,
    UTF-8 with a byte-order mark (so that Excel reads it as UTF-8)."""
    n = len(run.titles)
    extra = roster_columns(run)
    header = [
        "student_id",
        "name",
        *extra,
        "variant",
        "status",
        "file",
        "score",
        "max_score",
        "percent",
        *(f"q{k}" for k in range(1, n + 1)),
        "flags",
    ]
    rows = []
    for r in run.results:
        mine = run.extra.get(r.student_id, {}) if r.on_roster else {}
        has = scored(run, r)
        scores = [score_text(s) for s in r.problem_scores] if has else [""] * n
        rows.append(
            [
                safe_cell(r.student_id),
                safe_cell(r.name),
                *(safe_cell(mine.get(c, "")) for c in extra),
                r.variant,
                str(r.status),
                safe_cell(r.file),
                score_text(r.score) if has else "",
                score_text(r.max_score) if r.max_scores else "",
                score_text(r.percent) if has else "",
                *scores,
                safe_cell("; ".join(r.flags)),
            ]
        )
    return "\ufeff" + to_csv(header, rows)


def _by_problem(result: StudentResult) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for f in result.findings:
        out.setdefault(_problem_of(f.label), []).append(f)
    return out


@functools.lru_cache(maxsize=4096)
def _problem_of(label: str) -> int:
    """The problem number of a label: ``q2.f_t[1]`` -> 2."""
    return int(label.split(".")[0][1:])


def _range(finding: Finding) -> str:
    lo, hi = finding.accept
    text_lo, text_hi = plain(lo), plain(hi)
    return f"exactly {text_lo}" if text_lo == text_hi else f"[{text_lo}, {text_hi}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackView:
    """A student's feedback as plain text pieces, rendered as Markdown and as HTML."""

    title: str
    subtitle: str
    paragraphs: tuple[str, ...]
    problems: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    """(heading, rows of label, answer, accepted range, verdict, reason)."""
    notes: tuple[str, ...]


def shown_answer(finding: Finding) -> str:
    """The answer as the student wrote it, and the number it was read as when the text
    needed more reading than the file's decimal mark: "1,248 (read as 1248)"."""
    if not finding.answer:
        return "—"
    return f"{finding.answer} (read as {finding.read_as})" if finding.read_as else finding.answer


def feedback_view(manifest: Manifest, titles: Sequence[str], result: StudentResult) -> FeedbackView:
    """What a student's feedback says: per answer theirs, the range, the verdict, why."""
    paragraphs = []
    if result.status is Status.HELD:
        paragraphs.append(
            "Your submission is waiting for your instructor to check which file is yours; "
            "it is not graded yet."
        )
    if result.status is Status.MISSING:
        paragraphs.append(
            "No submission was found for you. Talk to your instructor if you did submit."
        )
    if result.status is Status.UNREADABLE:
        paragraphs.append(
            f"Your file {result.file} could not be read: {result.notes[0]}. Fill in "
            + ("your sheet's PDF form or " if manifest.fillable else "")
            + "the answer template (CSV) and submit it again if your instructor allows."
        )
    if result.held and result.status is not Status.HELD:  # graded, but the file is an answer key
        paragraphs.append(
            f"Your file {result.file} is an answer key, not your own answers: its score is held "
            "until your instructor has looked at it."
        )
    if result.copy_of:
        paragraphs.append(
            "Many of your answers fit the numbers of another worksheet, not those of your "
            f"own. Check that you worked on your own sheet, variant {result.variant}. An answer "
            "outside your variant's range earns no credit here, not even for an error "
            "carried forward, and no mistake is named for it; your instructor will look "
            "at your submission."
        )
    if result.findings:
        paragraphs.append(
            f"An answer is accepted when it lies {manifest.tolerance.words()}; the accepted "
            "range also admits values computed with more digits."
        )
    problems = []
    for k, fs in sorted(_by_problem(result).items()):
        heading = f"Problem {k}: {titles[k - 1]}" + (
            ""
            if result.held
            else f": {score_text(result.problem_scores[k - 1])} / "
            f"{score_text(result.max_scores[k - 1])} points"
        )
        rows = tuple((f.label, shown_answer(f), _range(f), str(f.verdict), f.reason) for f in fs)
        problems.append((heading, rows))
    return FeedbackView(
        title=f"{manifest.title}: feedback for {result.name or result.student_id} ({result.student_id})",
        # a held score is the instructor's to decide: never shown, as no LMS file shows it
        subtitle=f"Variant {result.variant} · score held for your instructor · status: {result.status}"
        if result.held
        else f"Variant {result.variant} · score {score_text(result.score)} / {score_text(result.max_score)} "
        f"({score_text(result.percent)}%) · status: {result.status}",
        paragraphs=tuple(paragraphs),
        problems=tuple(problems),
        notes=result.notes if result.status is Status.GRADED else (),
    )


_MARKS = {str(v): _MARK[v] for v in Verdict}
#: Per verdict: its mark and words, and the HTML class of its cell.
_VERDICT_MD = {str(v): f"{_MARK[v]} {v}" for v in Verdict}
_VERDICT_HTML = {str(v): f"<td class={str(v).split()[0]}>{_MARK[v]} {v}" for v in Verdict}


def feedback_md(view: FeedbackView) -> str:
    """The feedback as Markdown."""

    md = _md
    lines = [f"# {md(view.title)}", "", md(view.subtitle), ""]
    for k, p in enumerate(view.paragraphs):
        lines += ["", md(p)] if k else [md(p)]  # a blank line between paragraphs
    for heading, rows in view.problems:
        lines += [
            "",
            f"## {md(heading)}",
            "",
            "| Label | Your answer | Accepted | Verdict | Why |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{label}` | {md(answer)} | {rng} | {_VERDICT_MD[verdict]} | {md(why)} |"
            for label, answer, rng, verdict, why in rows
        ]
    if view.notes:
        lines += ["", "## About your file", ""] + [f"- {md(n)}" for n in view.notes]
    return "\n".join(lines) + "\n"


# the texts of a class repeat (labels, reasons, answers): each is escaped once
@functools.lru_cache(maxsize=1 << 16)
def _md(text: str) -> str:
    r"""Text safe in a Markdown table cell, and never a link or an image (a name or an
    answer of ``[click](http://...)`` or ``![](http://tracker)`` prints as typed).

    >>> _md("![x](http://e.vil) | <b>")
    '!\\[x\\](http://e.vil) \\| &lt;b>'
    """
    return (
        text.replace("\\", "\\\\")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("<", "&lt;")
    )


@functools.lru_cache(maxsize=1 << 16)
def _html(text: str) -> str:
    """Text safe in HTML."""
    return html.escape(text)


_CSS = """body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b2733}
h1{font-size:1.4rem;color:#1f4e79}h2{font-size:1.1rem;margin-top:1.6rem;color:#1f4e79}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d5dde6;padding:.3rem .5rem;text-align:left}
td.n{font-variant-numeric:tabular-nums}.correct{color:#1e7b34}.wrong,.invalid{color:#b3261e}
.carried{color:#8a5a00}.unanswered{color:#6b7785}code{font-size:.9em}"""


def feedback_html(view: FeedbackView) -> str:
    """The feedback as a standalone HTML page; every text is escaped.

    `send` checks that a page is its student's by its heading and the start of the next
    line (``<h1>TITLE: feedback for NAME (ID)</h1>`` then ``<p>Variant CODE ·``,
    feedback_fault in generator/send/outbox.py): keep them so.
    """
    e = _html
    parts = [
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{e(view.title)}</title>",
        f"<style>{_CSS}</style>",
        f"<h1>{e(view.title)}</h1>",
        f"<p>{e(view.subtitle)}</p>",
    ]
    parts += [f"<p>{e(p)}</p>" for p in view.paragraphs]
    for heading, rows in view.problems:
        parts.append(f"<h2>{e(heading)}</h2>")
        parts.append("<table><tr><th>Label<th>Your answer<th>Accepted<th>Verdict<th>Why</tr>")
        parts += [
            f"<tr><td><code>{e(label)}</code><td class=n>{e(answer)}<td class=n>{rng}"
            f"{_VERDICT_HTML[verdict]}<td>{e(why)}</tr>"
            for label, answer, rng, verdict, why in rows
        ]
        parts.append("</table>")
    if view.notes:
        parts.append(
            "<h2>About your file</h2><ul>" + "".join(f"<li>{e(n)}" for n in view.notes) + "</ul>"
        )
    return "\n".join(parts) + "\n"


#: The columns of each student's ``answers`` in results.json.
ANSWER_COLUMNS = (
    "label",
    "answer",
    "value",
    "verdict",
    "credit",
    "key",
    "accept_min",
    "accept_max",
    "reason",
    "mistake",
)


def result_entry(result: StudentResult) -> str:
    """One student's entry of results.json (without flags), as JSON text."""

    num = plain
    # one row per answer, in ANSWER_COLUMNS' order (the verdict, a StrEnum, is its text)
    rows = [
        (
            f.label,
            f.answer,
            None if f.value is None else num(f.value),
            f.verdict,
            num(f.credit),
            num(f.key),
            num(f.accept[0]),
            num(f.accept[1]),
            f.reason,
            f.mistake,
        )
        for f in result.findings
    ]
    doc = {
        "student_id": result.student_id,
        "name": result.name,
        "variant": result.variant,
        "status": str(result.status),
        "file": result.file,
        "score": plain(result.score),
        "max_score": plain(result.max_score),
        "percent": plain(result.percent),
        "problem_scores": [plain(x) for x in result.problem_scores],
        "notes": list(result.notes),
        "answers": rows,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def results_json(run: GradeRun, entries: Sequence[tuple[bytes, Sequence[str]]]) -> list[Part]:
    """Everything, for other tools: the summary and every row with every answer (UTF-8).

    ``entries`` are each row's :func:`result_entry` as UTF-8 (made in the workers) with
    its flags. The text comes in parts, to be written one after the other: never joined
    into one copy, never re-encoded.
    """
    head = {
        "worksheet": run.manifest.title,
        # which worksheet was graded: `send --what feedback` sends only from grades of it
        "worksheet_id": run.manifest.identity,
        "source": run.source,
        "skipped_system_files": list(run.skipped),
        "summary": summary_data(run),
        "answer_columns": list(ANSWER_COLUMNS),
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    items = [
        with_member(entry, "flags", json.dumps(list(flags), ensure_ascii=False).encode())
        for entry, flags in entries
    ]
    return document_parts(text, "students", items)
