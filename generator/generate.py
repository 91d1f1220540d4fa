"""The generate stage: a worksheet spec and a roster in, a worksheet folder out."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.runtime import fork_chunks, forks, gc_paused
from lstm_exam.generator.spec.problems import problems_toml
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import Worksheet
from lstm_exam.generator.store.csvfiles import key_csv, template_csv
from lstm_exam.generator.store.files import staged_folder, write_text
from lstm_exam.generator.store.manifest import MANIFEST, Manifest, manifest_json, now, student_json
from lstm_exam.generator.store.manifest_read import variant_from_json
from lstm_exam.generator.variants.search import make_variants
from lstm_exam.generator.variants.variant import Variant

Tick = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Generated:
    """What `generate` made."""

    out: Path
    manifest: Manifest
    """The worksheet. Its ``variants`` are empty when a large class was made in
    worker processes without PDFs (``load_manifest(out)`` reads them)."""
    students: int
    draws: Counter
    """Draws per problem kind, summed over students (for the average)."""
    rejected: Counter
    """Why draws were refused (saturation, knife-edge, a misconception)."""
    notes: tuple[str, ...] = ()
    """What the user should know: TeX missing, names the fonts cannot print."""


@dataclass(frozen=True, slots=True)
class StudentFiles:
    """One student's part of a worksheet folder, as text."""

    student_id: str
    manifest_line: str
    problems: str
    template: str
    key: str


def build_manifest(
    ws: Worksheet, students: Sequence[Student], seed: str | None = None, tick: Tick | None = None
) -> tuple[Manifest, Counter, Counter]:
    """Draw and solve every student's variant, in this process (pure: no files)."""
    m = _settings(ws, seed)
    variants: list[Variant] = []
    for lo in range(0, len(students), defaults.SEARCH_BATCH):
        with gc_paused():
            variants += make_variants(ws, m.seed, students[lo : lo + defaults.SEARCH_BATCH])
        if tick:
            tick(len(variants) - lo)
    draws, rejected = _tally(variants)
    return replace(m, variants=tuple(variants)), draws, rejected


def _settings(ws: Worksheet, seed: str | None) -> Manifest:
    """The manifest's settings, no variants yet."""
    return Manifest(
        ws.title,
        ws.course,
        ws.slug,
        ws.decimals,
        ws.tolerance,
        ws.carry_forward,
        seed or ws.seed or secrets.token_hex(16),
        (),
        ws.templates,
        now(),
    )


def _tally(variants: Sequence[Variant]) -> tuple[Counter, Counter]:
    draws: Counter = Counter()
    rejected: Counter = Counter()
    for v in variants:
        rejected.update(v.rejected)
        for vp in v.problems:
            draws[str(vp.problem.kind)] += vp.draws
    return draws, rejected


def student_files(m: Manifest, v: Variant) -> StudentFiles:
    """A student's manifest line, problem file, answer template and key CSV."""
    sid = v.student.student_id
    comment = f"lstm-exam problems for student {sid}, variant {v.code}\n{m.title}".replace(
        "\r", " "
    )
    return StudentFiles(
        sid,
        student_json(m, v),
        problems_toml(tuple(vp.problem for vp in v.problems), comment),
        template_csv(v),
        key_csv(m, v),
    )


_SUBFOLDERS = ("problems", "answer-templates", "keys")


def _make_subfolders(folder: Path) -> None:
    for sub in _SUBFOLDERS:
        (folder / sub).mkdir(exist_ok=True)


def _write_student(m: Manifest, folder: Path, v: Variant) -> str:
    """Write a student's problem file, template and key (the subfolders exist); their
    manifest line."""
    f = student_files(m, v)
    for sub, name, text in zip(
        _SUBFOLDERS,
        (f"{f.student_id}.toml", f"{f.student_id}.csv", f"{f.student_id}.csv"),
        (f.problems, f.template, f.key),
        strict=True,
    ):
        write_text(folder / sub / name, text, mkdir=False)
    return f.manifest_line


def write_files(m: Manifest, folder: Path) -> None:
    """Write the manifest and every student's problem file, template and key CSV."""
    _make_subfolders(folder)
    lines = [_write_student(m, folder, v) for v in m.variants]
    write_text(folder / MANIFEST, manifest_json(m, lines))


def _generate_in_workers(
    ws: Worksheet, students: Sequence[Student], seed: str | None, folder: Path, tick: Tick | None
) -> tuple[Manifest, list[str], Counter, Counter]:
    """Search, solve and write a large class in worker processes, a batch each.

    Only each student's manifest line and tallies come back; the workers write
    the other files themselves.
    """
    m = _settings(ws, seed)
    _make_subfolders(folder)

    def batch(lo: int, hi: int) -> list[tuple[str, Counter, Counter]]:
        out = []
        for v in make_variants(ws, m.seed, students[lo:hi]):
            out.append((_write_student(m, folder, v), *_tally([v])))
        return out

    lines: list[str] = []
    draws: Counter = Counter()
    rejected: Counter = Counter()
    with gc_paused():  # inherited by the workers forked here
        for line, d, r in fork_chunks(batch, len(students), tick, size=defaults.SEARCH_BATCH):
            lines.append(line)
            draws.update(d)
            rejected.update(r)
    return m, lines, draws, rejected


def generate(
    ws: Worksheet,
    students: Sequence[Student],
    out: Path,
    *,
    force: bool = False,
    pdf: bool = True,
    seed: str | None = None,
    tick: Tick | None = None,
    render: Callable[[Manifest, Path], str | None] | None = None,
) -> Generated:
    """Generate a worksheet folder (design.md's layout), all or nothing.

    Args:
        ws: the checked spec.
        students: the roster.
        out: the folder to create; a non-empty one only with ``force``.
        pdf: whether to build the PDFs (needs ``render``).
        seed: overrides the spec's seed (a random one when both are None).
        tick: called with the number of students done, as they are done.
        render: the PDF stage; returns notes for the user.
    """
    with staged_folder(out, force) as stage:
        if forks(len(students)):
            m, lines, draws, rejected = _generate_in_workers(ws, students, seed, stage, tick)
            write_text(stage / MANIFEST, manifest_json(m, lines))
            if pdf and render:  # the PDFs need every variant: read back from the lines
                m = replace(m, variants=tuple(variant_from_json(json.loads(s)) for s in lines))
        else:
            m, draws, rejected = build_manifest(ws, students, seed, tick)
            write_files(m, stage)
        notes = render(m, stage) if (pdf and render) else []
    return Generated(out, m, len(students), draws, rejected, tuple(notes))
