"""The quiz stage: N variants of a worksheet drawn as `generate` draws a class (ids v001,
v002, ...), turned into an LMS's quiz file, written all or nothing."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.quiz.canvas import canvas_zip
from lstm_exam.generator.quiz.items import Item, class_items, weights
from lstm_exam.generator.quiz.moodle import moodle_xml
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import Worksheet
from lstm_exam.generator.store.files import staged_folder
from lstm_exam.generator.store.manifest import Manifest

Tick = Callable[[int], None]
#: The module of the self-check page (`--to html`), built apart.
PRACTICE_MODULE = "lstm_exam.generator.quiz.practice"


@dataclass(frozen=True, slots=True)
class Quizzed:
    """What `quiz` made."""

    out: Path
    files: tuple[str, ...]
    """The files written, relative to ``out``."""
    variants: int
    seed: str
    notes: tuple[str, ...] = ()


def quiz_roster(count: int) -> tuple[Student, ...]:
    """The variants as a roster: v001, v002, ... (as `generate --count` numbers students)."""
    if not 1 <= count <= defaults.MAX_QUIZ_VARIANTS:
        raise InputError("--count", "", f"{count} must be from 1 to {defaults.MAX_QUIZ_VARIANTS}")
    width = max(3, len(str(count)))
    return tuple(Student(f"v{k:0{width}d}", f"Variant {k}") for k in range(1, count + 1))


def quiz_manifest(
    ws: Worksheet, count: int, seed: str | None = None, tick: Tick | None = None
) -> Manifest:
    """The N variants, drawn and solved (pure: no files)."""
    m, _, _ = build_manifest(ws, quiz_roster(count), seed, tick)
    return m


def all_items(m: Manifest) -> list[tuple[Item, ...]]:
    """Every variant's problems as blanks."""
    return class_items(m, m.variants)


def quiz_files(m: Manifest, to: str) -> dict[str, bytes]:
    """The files of format ``to``, by path relative to the output folder (pure)."""
    if to == "moodle":
        its = all_items(m)
        _, w = weights(m.variants[0].problems) if m.variants else (1, {})
        return {f"{m.slug}-moodle.xml": moodle_xml(m, its, w).encode("utf-8")}
    if to == "canvas":
        return {f"{m.slug}-canvas-qti.zip": canvas_zip(m, all_items(m))}
    if to == "html":
        return practice_files(m)
    raise InputError("--to", "", f"{to!r} is not one of {', '.join(defaults.QUIZ_FORMATS)}")


def check_format(to: str) -> None:
    """Refuse a format that cannot be written, before any work is done."""
    if to not in defaults.QUIZ_FORMATS:
        raise InputError("--to", "", f"{to!r} is not one of {', '.join(defaults.QUIZ_FORMATS)}")
    if to == "html" and importlib.util.find_spec(PRACTICE_MODULE) is None:
        raise InputError("--to html", "", "the practice page is not built yet")


def practice_files(m: Manifest) -> dict[str, bytes]:
    """The self-check page (:mod:`practice`), when that module is there."""
    try:
        practice = importlib.import_module(PRACTICE_MODULE)
    except ModuleNotFoundError as e:
        if e.name != PRACTICE_MODULE:
            raise
        raise InputError("--to html", "", "the practice page is not built yet") from None
    files: Mapping[str, bytes] = practice.practice_files(m, m.variants)
    return dict(files)


def write_quiz(
    ws: Worksheet,
    count: int,
    to: str,
    out: Path,
    *,
    seed: str | None = None,
    key: bool = False,
    force: bool = False,
    tick: Tick | None = None,
    templates: Path | None = None,
    tex_timeout: float | None = None,
) -> Quizzed:
    """Draw the variants and write the quiz (and with ``key`` the key PDF) into ``out``,
    all or nothing; a non-empty ``out`` only with ``force``."""
    m = quiz_manifest(ws, count, seed, tick)
    files = quiz_files(m, to)
    notes: list[str] = []
    names = list(files)
    with staged_folder(out, force) as stage:
        for rel, data in files.items():
            path = stage / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if key:
            pdf, notes = key_pdf(m, stage, templates, tex_timeout)
            if pdf is not None:
                names.append(pdf)
    return Quizzed(out, tuple(names), len(m.variants), m.seed, tuple(notes))


def key_pdf(
    m: Manifest, folder: Path, templates: Path | None = None, timeout: float | None = None
) -> tuple[str | None, list[str]]:
    """``<slug>-key.pdf``: the class key of the variants, as `generate` typesets it
    (:mod:`render.document`'s key template); its name (None without TeX) and the notes."""
    from lstm_exam.generator.render.document import DOCUMENTS, render_tex
    from lstm_exam.generator.render.typeset import (
        TEX_MISSING,
        TEX_PACKAGES,
        _finish_pdflatex,
        _start_pdflatex,
        _wait_any,
        pdflatex,
        stop,
        tex_timeout,
    )

    rendered = render_tex(m, templates or (Path(m.templates) if m.templates else None))
    notes = list(rendered.warnings)
    name = DOCUMENTS["keys"]
    texdir = folder / ".tex"
    texdir.mkdir()
    tex = texdir / f"{name}.tex"
    tex.write_text(rendered.tex[name], encoding="utf-8")
    if pdflatex() is None:
        shutil.rmtree(texdir)
        notes.append(
            f"{TEX_MISSING}: the key PDF is skipped. "
            f"Install TeX Live: sudo apt-get install {TEX_PACKAGES}"
        )
        return None, notes
    limit = timeout if timeout is not None else tex_timeout(len(m.variants))
    proc = _start_pdflatex(tex)
    try:
        _wait_any({name: proc}, time.monotonic() + limit)
        pdf = _finish_pdflatex(proc, tex, templates)
    finally:
        stop(proc)
    target = f"{m.slug}-key.pdf"
    pdf.replace(folder / target)
    shutil.rmtree(texdir)
    return target, notes
