"""The quiz stage: N variants of a worksheet drawn as `generate` draws a class (ids v001,
v002, ...), turned into an LMS's quiz file, written all or nothing.

A format is two functions: a variant's pieces (its questions, from its items) and the
document the pieces make. The pieces are made where the variants are drawn, by
``generate.draw_class`` as `generate` draws: from ``defaults.QUIZ_PARALLEL_FROM`` variants
on in forked workers, a batch each (the variants do not depend on who draws them, so the
files are the same byte for byte).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import KINDS
from lstm_exam.generator.generate import build_manifest, draw_class
from lstm_exam.generator.quiz.items import Item, class_items, weights
from lstm_exam.generator.quiz.moodle import moodle_document, moodle_pieces
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.spec.worksheet import Worksheet
from lstm_exam.generator.store.files import staged_folder
from lstm_exam.generator.store.guard import Layout
from lstm_exam.generator.store.manifest import Manifest, student_json
from lstm_exam.generator.variants.search import given_problem_notes
from lstm_exam.generator.variants.variant import Variant

Tick = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Quizzed:
    """What `quiz` made."""

    out: Path
    files: tuple[str, ...]
    """The files written, relative to ``out``."""
    variants: int
    seed: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sheet:
    """What a document needs of the worksheet besides its pieces."""

    problems: tuple[tuple[int, str], ...]
    """Each problem's number and title."""
    points: Decimal
    """A variant's points."""


def _moodle(manifest: Manifest, sheet: Sheet, pieces: Sequence[Sequence[str]]) -> dict[str, bytes]:
    return {
        f"{manifest.slug}-moodle.xml": moodle_document(manifest, sheet.problems, pieces).encode(
            "utf-8"
        )
    }


def _canvas(manifest: Manifest, sheet: Sheet, pieces: Sequence[Sequence[str]]) -> dict[str, bytes]:
    from lstm_exam.generator.quiz.canvas import canvas_document

    return {f"{manifest.slug}-canvas-qti.zip": canvas_document(manifest, pieces, sheet.points)}


def _canvas_pieces(manifest: Manifest, its: Sequence[Item], w: Mapping[int, int]) -> list[str]:
    """A variant's Canvas questions (the module, and the XML library it uses, imported
    only for Canvas: a Moodle quiz starts 20 ms sooner)."""
    from lstm_exam.generator.quiz.canvas import canvas_pieces

    return canvas_pieces(its)


Pieces = Callable[[Manifest, Sequence[Item], Mapping[int, int]], list[str]]
Document = Callable[[Manifest, Sheet, Sequence[Sequence[str]]], dict[str, bytes]]
#: The LMS formats: a variant's pieces, and the files they make.
FORMATS: dict[str, tuple[Pieces, Document]] = {
    "moodle": (lambda m, its, w: moodle_pieces(m, its, dict(w)), _moodle),
    "canvas": (_canvas_pieces, _canvas),
}


def quiz_roster(count: int) -> tuple[Student, ...]:
    """The variants as a roster: v001, v002, ... (as `generate --count` numbers students)."""
    if not 1 <= count <= defaults.MAX_QUIZ_VARIANTS:
        raise InputError("--count", "", f"{count} must be from 1 to {defaults.MAX_QUIZ_VARIANTS}")
    width = max(3, len(str(count)))
    return tuple(Student(f"v{k:0{width}d}", f"Variant {k}") for k in range(1, count + 1))


def quiz_manifest(
    worksheet: Worksheet, count: int, seed: str | None = None, tick: Tick | None = None
) -> Manifest:
    """The N variants, drawn and solved (pure: no files)."""
    m, _, _ = build_manifest(worksheet, quiz_roster(count), seed, tick)
    return m


def all_items(manifest: Manifest) -> list[tuple[Item, ...]]:
    """Every variant's problems as blanks."""
    return class_items(manifest, manifest.variants)


def _sheet(worksheet: Worksheet) -> Sheet:
    problems = tuple(
        (n, KINDS[spec.kind].title) for n, spec in enumerate(worksheet.problems, start=1)
    )
    return Sheet(problems, sum((spec.points for spec in worksheet.problems), Decimal(0)))


def _pieces(manifest: Manifest, variants: Sequence[Variant], to: str) -> list[list[str]]:
    """Each variant's pieces in format ``to``."""
    if not variants:
        return []
    pieces, _ = FORMATS[to]
    _, w = weights(variants[0].problems)  # the same for every variant: the spec's
    return [pieces(manifest, its, w) for its in class_items(manifest, variants)]


def quiz_files(manifest: Manifest, to: str, worksheet: Worksheet | None = None) -> dict[str, bytes]:
    """The files of format ``to`` for the manifest's variants, by path relative to the
    output folder (pure)."""
    check_format(to)
    if to == "html":
        return practice_files(manifest)
    sheet = _sheet(worksheet) if worksheet is not None else _sheet_of(manifest)
    return FORMATS[to][1](manifest, sheet, _pieces(manifest, manifest.variants, to))


def _sheet_of(manifest: Manifest) -> Sheet:
    first = manifest.variants[0].problems if manifest.variants else ()
    problems = tuple((vp.number, KINDS[vp.problem.kind].title) for vp in first)
    return Sheet(problems, sum((vp.points for vp in first), Decimal(0)))


def check_format(to: str) -> None:
    """Refuse a format that cannot be written, before any work is done."""
    if to not in defaults.QUIZ_FORMATS:
        raise InputError("--to", "", f"{to!r} is not one of {', '.join(defaults.QUIZ_FORMATS)}")


def practice_files(manifest: Manifest) -> dict[str, bytes]:
    """The self-check pages (:mod:`practice`) in their folder, ``<slug>-practice/``
    (the module imported only for them, as :mod:`json` and the manifest's reader only
    for a key: a Moodle quiz starts sooner)."""
    from lstm_exam.generator.quiz import practice

    files = practice.practice_files(manifest, manifest.variants)
    return {f"{manifest.slug}-practice/{path}": data for path, data in files.items()}


def draw_quiz(
    worksheet: Worksheet,
    count: int,
    to: str,
    seed: str | None = None,
    tick: Tick | None = None,
    keep: bool = False,
) -> tuple[Manifest, dict[str, bytes]]:
    """Draw the variants and make the files of format ``to`` (pure: no files written);
    the manifest holds the variants only for `--to html` or with ``keep`` (the key)."""
    check_format(to)
    students = quiz_roster(count)
    if to == "html":
        m = quiz_manifest(worksheet, count, seed, tick)
        return m, practice_files(m)
    m0, _, _ = build_manifest(worksheet, (), seed)  # the settings, the seed chosen

    def work(variants: list[Variant]) -> list[tuple[list[str], str | None]]:
        m = replace(m0, variants=tuple(variants))
        lines = [student_json(m, v) if keep else None for v in variants]
        return list(zip(_pieces(m, variants, to), lines, strict=True))

    done = list(draw_class(worksheet, m0.seed, students, work, tick, defaults.QUIZ_PARALLEL_FROM))
    m = m0
    if keep:
        import json

        from lstm_exam.generator.store.manifest_read import variant_from_json

        variants = tuple(variant_from_json(json.loads(line or "")) for _, line in done)
        m = replace(m0, variants=variants)
    return m, FORMATS[to][1](m, _sheet(worksheet), [pieces for pieces, _ in done])


def write_quiz(
    worksheet: Worksheet,
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
    m, files = draw_quiz(worksheet, count, to, seed, tick, keep=key)
    notes = given_problem_notes(worksheet)
    names = list(files)
    with staged_folder(out, force, quiz_layout(worksheet.slug)) as stage:
        for rel, data in files.items():
            path = stage / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if key:
            pdf, key_notes = key_pdf(m, stage, templates, tex_timeout)
            notes += key_notes
            if pdf is not None:
                names.append(pdf)
    return Quizzed(out, tuple(names), count, m.seed, tuple(notes))


@functools.lru_cache(maxsize=16)
def quiz_layout(slug: str) -> Layout:
    """What `quiz` makes of a worksheet (its ``slug``) in its folder, in any format: what
    ``--force`` may replace (:mod:`store.guard`); made once a slug (the folder is checked
    before the variants are drawn and again when they are written: one regular
    expression compiled)."""
    return Layout(
        "quiz",
        "the quiz",
        tuple(
            f"{slug}-{rest}"
            for rest in (
                "moodle.xml",
                "canvas-qti.zip",
                "key.pdf",
                "practice/*.html",
                "practice/*.css",
                "practice/*.js",
            )
        ),
    )


#: What to do with each format's files, the last line `quiz` prints.
NEXT_STEP = {
    "moodle": "import it into the question bank (Moodle XML format), then add to the quiz "
    "a random question from each problem's category: one variant per attempt",
    "canvas": "import it as a QTI .zip file (Settings > Import Course Content); the quiz "
    "holds every variant, so keep one variant's groups in each copy of it",
    "html": "open index.html in a browser (it works offline), or put the folder on any "
    "web server or the LMS's file area",
}


def summary_lines(quizzed: Quizzed, to: str, seed_chosen: bool) -> list[str]:
    """What `quiz` prints: where it wrote, each file (the practice pages as their folder
    and count), the seed when none was given, and what to do next.

    >>> q = Quizzed(Path("out"), ("w-practice/index.html", "w-practice/v001.html",
    ...     "w-practice/v002.html", "w-practice/practice.js"), 2, "s")
    >>> summary_lines(q, "html", False)[:2]
    ['Wrote 2 variants to out/', '  w-practice/index.html (and 2 variant pages, practice.js)']
    """
    lines = [f"Wrote {quizzed.variants} variants to {quizzed.out}/"]
    pages = [f for f in quizzed.files if "/" in f]
    if pages:
        folder = pages[0].split("/")[0]
        shown = sorted(f.split("/", 1)[1] for f in pages)
        counted = [f for f in shown if f.endswith(".html") and f != "index.html"]
        rest = [f for f in shown if f not in counted and f != "index.html"]
        extra = ", ".join([f"{len(counted)} variant pages", *rest])
        lines.append(f"  {folder}/index.html (and {extra})")
    lines += [f"  {f}" for f in quizzed.files if "/" not in f]
    if seed_chosen:
        lines.append(
            f"  (seed {quizzed.seed}: --seed {quizzed.seed} makes the same variants again)"
        )
    lines.append(f"  next: {NEXT_STEP[to]} (docs/quiz.md)")
    return lines


def key_pdf(
    manifest: Manifest, folder: Path, templates: Path | None = None, timeout: float | None = None
) -> tuple[str | None, list[str]]:
    """``<slug>-key.pdf``: the class key of the variants, as `generate` typesets it
    (:mod:`render.document`'s key template); its name (None without TeX) and the notes."""
    import shutil

    from lstm_exam.generator.render.document import DOCUMENTS
    from lstm_exam.generator.render.typeset import (
        fill,
        missing_note,
        pdflatex,
        tex_timeout,
        typeset,
    )

    limit = timeout if timeout is not None else tex_timeout(len(manifest.variants))
    rendered = fill(manifest, templates, ("keys",), limit)
    notes = list(rendered.warnings)
    name = DOCUMENTS["keys"]
    texdir = folder / ".tex"
    texdir.mkdir()
    tex = texdir / f"{name}.tex"
    tex.write_text(rendered.tex[name], encoding="utf-8")
    if pdflatex() is None:
        shutil.rmtree(texdir)
        notes.append(missing_note("the key PDF is skipped"))
        return None, notes
    pdf = typeset(tex, templates, limit)
    target = f"{manifest.slug}-key.pdf"
    pdf.replace(folder / target)
    shutil.rmtree(texdir)
    return target, notes
