"""The generate stage: a worksheet spec and a roster in, a worksheet folder out."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .csvfiles import key_csv, template_csv
from .files import staged_folder, write_text
from .manifest import MANIFEST, Manifest, manifest_json, now
from .parallel import fork_map, forks
from .problem import problems_toml
from .roster import Student
from .spec import Worksheet
from .variants import Variant, make_variant

Tick = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Generated:
    """What `generate` made."""

    out: Path
    manifest: Manifest
    draws: Counter
    """Draws per problem kind, summed over students (for the average)."""
    rejected: Counter
    """Why draws were refused (saturation, knife-edge, a misconception)."""
    notes: tuple[str, ...] = ()
    """What the user should know: TeX missing, names the fonts cannot print."""


def build_manifest(
    ws: Worksheet, students: Sequence[Student], seed: str | None = None, tick: Tick | None = None
) -> tuple[Manifest, Counter, Counter]:
    """Draw and solve every student's variant (pure: no files)."""
    seed = seed or ws.seed or secrets.token_hex(16)
    variants: list[Variant] = []
    draws: Counter = Counter()
    rejected: Counter = Counter()

    def search(k: int) -> tuple[tuple[int, ...], Counter]:
        v = make_variant(ws, seed, students[k])
        return tuple(vp.draws for vp in v.problems), v.rejected

    # a large class searches for well-posed draws in worker processes; only the draw
    # numbers come back, and the variants are drawn and solved once more here
    if forks(len(students)):
        found = fork_map(search, len(students), size=100)
        each = (
            replace(make_variant(ws, seed, st, known), rejected=refused)
            for st, (known, refused) in zip(students, found, strict=True)
        )
    else:
        each = (make_variant(ws, seed, st) for st in students)
    for v in each:
        variants.append(v)
        rejected.update(v.rejected)
        for vp in v.problems:
            draws[str(vp.problem.kind)] += vp.draws
        if tick:
            tick(1)
    m = Manifest(
        ws.title,
        ws.course,
        ws.slug,
        ws.decimals,
        ws.tolerance,
        ws.carry_forward,
        seed,
        tuple(variants),
        ws.templates,
        now(),
    )
    return m, draws, rejected


def write_files(m: Manifest, folder: Path) -> None:
    """Write the manifest and every student's problem file, template and key CSV."""
    write_text(folder / MANIFEST, manifest_json(m))
    for sub in ("problems", "answer-templates", "keys"):
        (folder / sub).mkdir(exist_ok=True)
    for v in m.variants:
        sid = v.student.student_id
        comment = f"lstm-exam problems for student {sid}, variant {v.code}\n{m.title}".replace(
            "\r", " "
        )
        write_text(
            folder / "problems" / f"{sid}.toml",
            problems_toml(tuple(vp.problem for vp in v.problems), comment),
            mkdir=False,
        )
        write_text(folder / "answer-templates" / f"{sid}.csv", template_csv(v), mkdir=False)
        write_text(folder / "keys" / f"{sid}.csv", key_csv(m, v), mkdir=False)


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
        tick: called once per student done.
        render: the PDF stage; returns notes for the user.
    """
    with staged_folder(out, force) as stage:
        m, draws, rejected = build_manifest(ws, students, seed, tick)
        write_files(m, stage)
        notes = render(m, stage) if (pdf and render) else []
    return Generated(out, m, draws, rejected, tuple(notes))
