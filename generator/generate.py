"""The generate stage: a worksheet spec and a roster in, a worksheet folder out.

Each student's variant is drawn and solved (:mod:`variants`), their line of the
manifest made (:mod:`store`), and their files written by the render driver's
writers (:mod:`render.driver`); then the class writers (the PDFs) run over the
whole class. A large class is drawn and written in worker processes
(:mod:`runtime`); the folder is the same, byte for byte, either way.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from lstm_exam.generator.core import defaults
from lstm_exam.generator.render.driver import (
    ClassWriter,
    StudentWriter,
    make_folders,
    write_class,
    write_student,
)
from lstm_exam.generator.render.writers import STUDENT_FILES
from lstm_exam.generator.runtime import fork_chunks, forks, gc_paused, workers
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.validate import check_seed
from lstm_exam.generator.spec.worksheet import Worksheet
from lstm_exam.generator.store.files import staged_folder, write_parts
from lstm_exam.generator.store.guard import WORKSHEET, Layout
from lstm_exam.generator.store.manifest import MANIFEST, Manifest, manifest_parts, now, student_json
from lstm_exam.generator.store.manifest_read import variant_from_json
from lstm_exam.generator.variants.search import given_problem_notes, make_variants
from lstm_exam.generator.variants.variant import Variant

Tick = Callable[[int], None]
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Generated:
    """What `generate` made."""

    out: Path
    settings: Manifest
    """The worksheet's settings; its ``variants`` are not kept (``load_manifest(out)``
    reads them back)."""
    students: int
    draws: Counter
    """Draws per problem kind, summed over students (for the average)."""
    rejected: Counter
    """Why draws were refused (saturation, knife-edge, a misconception)."""
    notes: tuple[str, ...] = ()
    """What the user should know: TeX missing, names the fonts cannot print."""


def build_manifest(
    worksheet: Worksheet,
    students: Sequence[Student],
    seed: str | None = None,
    tick: Tick | None = None,
) -> tuple[Manifest, Counter, Counter]:
    """Draw and solve every student's variant, in this process (pure: no files);
    ``tick`` hears of each problem of each batch of students (:func:`search_ticks` in all)."""
    m = _settings(worksheet, seed)
    variants = list(draw_class(worksheet, m.seed, students, list, tick))
    draws, rejected = _tally(variants)
    return replace(m, variants=tuple(variants)), draws, rejected


def draw_class(
    worksheet: Worksheet,
    seed: str,
    students: Sequence[Student],
    work: Callable[[list[Variant]], list[R]],
    tick: Tick | None = None,
    parallel_from: int | None = None,
) -> Iterator[R]:
    """Every student's variant drawn and solved, a batch of students at a time, and
    ``work`` done on each batch's variants (one result a variant): the results in roster
    order. The one way `generate` and `quiz` draw a class.

    From ``parallel_from`` students on (None: never) on a machine with several cores, the
    batches are drawn in forked worker processes and ``work`` runs there too: only its
    results come back (nothing large is pickled). A batch is :func:`search_batch`'s; the
    variants are each student's own whatever the batch and wherever it is drawn.
    ``tick`` hears of the progress in the units of :func:`search_ticks`: a problem of a
    batch at a time in this process, a batch at a time from workers.
    """
    n = len(students)
    forked = parallel_from is not None and forks(n, parallel_from)
    size = search_batch(n, workers() if forked else 1)

    def batch(low: int, high: int) -> list[R]:
        with gc_paused():  # the search builds many objects and no reference cycles
            return work(
                make_variants(worksheet, seed, students[low:high], None if forked else tick)
            )

    if not forked:
        return (result for lo in range(0, n, size) for result in batch(lo, min(lo + size, n)))
    return fork_chunks(batch, n, scaled(tick, worksheet), size, at_least=parallel_from)


def search_ticks(worksheet: Worksheet, students: int) -> int:
    """The progress units of drawing a class: one a student and problem, so that a long
    search shows its progress problem by problem."""
    return students * max(1, len(worksheet.problems))


def scaled(tick: Tick | None, worksheet: Worksheet) -> Tick | None:
    """``tick`` for work done a student at a time (worker processes), in the units of
    :func:`search_ticks`."""
    if tick is None:
        return None
    per = max(1, len(worksheet.problems))
    return lambda k: tick(k * per)


def search_batch(count: int, shares: int) -> int:
    """How many of ``count`` students a batch of the search takes, ``shares`` workers sharing
    them (1: this process alone): a worker's share, within SEARCH_BATCH and
    SEARCH_BATCH_MAX (a round of the search costs about as much for many students as for
    few; a batch's variants are each student's own whatever the batch, so this changes
    nothing but the time and the memory a batch holds)."""
    share = -(-count // shares)
    return max(defaults.SEARCH_BATCH, min(defaults.SEARCH_BATCH_MAX, share))


def _settings(worksheet: Worksheet, seed: str | None) -> Manifest:
    """The manifest's settings, no variants yet: every run that draws variants takes its
    seed here, so a seed from anywhere (``seed``, the spec's) meets the same rule."""
    if seed is not None:
        seed = check_seed(seed, "seed", "")
    elif worksheet.seed is not None:
        seed = check_seed(worksheet.seed, worksheet.source, "seed")
    return Manifest(
        worksheet.title,
        worksheet.course,
        worksheet.slug,
        worksheet.decimals,
        worksheet.tolerance,
        worksheet.carry_forward,
        seed or secrets.token_hex(16),
        (),
        worksheet.templates,
        now(),
        worksheet.fillable,
    )


def _tally(variants: Sequence[Variant]) -> tuple[Counter, Counter]:
    draws: Counter = Counter()
    rejected: Counter = Counter()
    for v in variants:
        rejected.update(v.rejected)
        for vp in v.problems:
            draws[str(vp.problem.kind)] += vp.draws
    return draws, rejected


def _write_students(
    manifest: Manifest, folder: Path, variants: Sequence[Variant], writers: Sequence[StudentWriter]
) -> list[str]:
    """Each student's files (the subfolders exist); their manifest lines."""
    lines = []
    for v in variants:
        write_student(manifest, v, folder, writers)
        lines.append(student_json(manifest, v))
    return lines


def _generate_in_workers(
    worksheet: Worksheet,
    students: Sequence[Student],
    manifest: Manifest,
    folder: Path,
    writers: Sequence[StudentWriter],
    tick: Tick | None,
) -> tuple[list[str], Counter, Counter]:
    """Search, solve and write a large class in worker processes (:func:`draw_class`).

    Only each student's manifest line and tallies come back; the workers write
    the other files themselves.
    """

    def work(variants: list[Variant]) -> list[tuple[str, Counter, Counter]]:
        return [
            (_write_students(manifest, folder, [v], writers)[0], *_tally([v])) for v in variants
        ]

    lines: list[str] = []
    draws: Counter = Counter()
    rejected: Counter = Counter()
    with gc_paused():  # inherited by the workers forked here
        drawn = draw_class(worksheet, manifest.seed, students, work, tick, defaults.PARALLEL_FROM)
        for line, d, r in drawn:
            lines.append(line)
            draws.update(d)
            rejected.update(r)
    return lines, draws, rejected


def generate(
    worksheet: Worksheet,
    students: Sequence[Student],
    out: Path,
    *,
    force: bool = False,
    seed: str | None = None,
    tick: Tick | None = None,
    writers: Sequence[ClassWriter] = (),
    student_writers: Sequence[StudentWriter] = STUDENT_FILES,
    on_writer: Callable[[ClassWriter], None] | None = None,
    layout: Layout = WORKSHEET,
) -> Generated:
    """Generate a worksheet folder (docs/formats.md), all or nothing.

    Args:
        worksheet: the checked spec.
        students: the roster.
        out: the folder to create; a non-empty one only with ``force``.
        seed: overrides the spec's seed (a random one when both are None).
        tick: called with the number of students done, as they are done (and by the
            class writers as they go).
        writers: the class writers to run once every student is written (the PDFs:
            :func:`render.writers.pdf_writers`); none by default.
        student_writers: the files every student gets.
        on_writer: learns of each class writer as it starts.
        layout: what ``force`` may replace (:mod:`store.guard`): a worksheet, by default.
    """
    with staged_folder(out, force, layout) as stage:
        make_folders(stage, student_writers)
        if forks(len(students)):
            m = _settings(worksheet, seed)
            lines, draws, rejected = _generate_in_workers(
                worksheet, students, m, stage, student_writers, tick
            )
            if writers:  # the class writers need every variant: read back from the lines
                m = replace(m, variants=tuple(variant_from_json(json.loads(s)) for s in lines))
        else:
            m, draws, rejected = build_manifest(worksheet, students, seed, tick)
            lines = _write_students(m, stage, m.variants, student_writers)
        write_parts(stage / MANIFEST, manifest_parts(m, lines))
        notes = given_problem_notes(worksheet) + list(
            write_class(m, stage, writers, tick, on_writer)
        )
    return Generated(out, replace(m, variants=()), len(students), draws, rejected, tuple(notes))
