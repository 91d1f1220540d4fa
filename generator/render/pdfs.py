"""The PDF writer: the class documents typeset and split into each student's sheet and key."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.render.document import DOCUMENTS
from lstm_exam.generator.render.split import split_class
from lstm_exam.generator.render.typeset import (
    backstop,
    fill,
    finish_pdflatex,
    missing_note,
    pdflatex,
    start_pdflatex,
    stop,
    tex_timeout,
    wait_any,
)
from lstm_exam.generator.store.files import check_rebuilt, rebuilt_folder
from lstm_exam.generator.store.guard import WORKSHEET, shown
from lstm_exam.generator.store.manifest import MANIFEST, Manifest

#: What `render` says, and does, when TeX is missing: the worksheet is left as it was.
RENDER_WITHOUT_TEX = "nothing rendered, the worksheet is left as it was"


def render_pdfs(
    manifest: Manifest,
    folder: Path,
    templates: Path | None = None,
    tick: Callable[[int], None] | None = None,
    timeout: float | None = None,
    duplex: bool = True,
) -> list[str]:
    """Write tex/, the class PDFs and per-student PDFs into ``folder``.

    ``duplex`` pads the class PDFs for printing on both sides (:func:`padded_pdf`); the
    per-student PDFs are never padded.

    ``timeout`` bounds the CPU time of filling the templates and of each pdflatex, in
    seconds (default: :func:`tex_timeout` of the class); past it, the process is killed
    and the run fails with one line.

    Both documents are typeset at once; each is split into per-student PDFs
    as soon as it is done, while the other may still be typesetting. Returns notes for the user (unprintable names; TeX missing).
    Without TeX the LaTeX sources are still written and one note names the packages.
    ``templates`` is the custom folder the caller chose (the command line, the spec);
    the manifest's ``templates`` is never followed.
    """
    limit = timeout if timeout is not None else tex_timeout(len(manifest.variants))
    rendered = fill(manifest, templates, limit=limit)
    notes = list(rendered.warnings)
    texdir = folder / "tex"
    texdir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.tex.items():
        (texdir / f"{name}.tex").write_text(text, encoding="utf-8")
    if pdflatex() is None:
        notes.append(missing_note("PDFs skipped (everything else is written)"))
        return notes
    kinds = {name: kind for kind, name in DOCUMENTS.items()}
    deadline = backstop(limit)
    ids = [v.student.student_id for v in manifest.variants]
    running = {name: start_pdflatex(texdir / f"{name}.tex", limit) for name in rendered.tex}
    try:
        while running:  # split each document as soon as it is typeset
            name = wait_any(running, deadline)
            pdf = finish_pdflatex(running.pop(name), texdir / f"{name}.tex", templates)
            whole = folder / f"{name}.pdf"
            rebuilt = duplex or (manifest.fillable and kinds[name] == "sheets")  # the form rebuilt
            if not rebuilt:
                shutil.copyfile(pdf, whole)
            split_class(
                pdf,
                ids,
                folder / kinds[name],
                whole if rebuilt else None,
                duplex,
                tick,
                manifest.title,
            )
    finally:
        for p in running.values():
            stop(p)
    for leftover in texdir.iterdir():
        if leftover.suffix != ".tex":
            leftover.unlink()
    return notes


def check_renderable(folder: Path, manifest: Manifest) -> None:
    """Refuse, before anything is done, a worksheet `render` cannot make PDFs of: one
    without students, or (no pdflatex) any: rendering it would lose its PDFs."""
    if not manifest.variants:
        raise InputError(shown(folder / MANIFEST), "students", "none: nothing to typeset")
    if pdflatex() is None:
        raise InputError(shown(folder), "", missing_note(RENDER_WITHOUT_TEX))
    check_rebuilt(folder, (*REBUILT, *CHECKED), WORKSHEET)  # again under the lock


#: What `render` makes again: the LaTeX, the sheets, the class PDFs; and the keys' PDFs,
#: in keys/ (whose CSVs it keeps).
REBUILT = ("tex", "sheets", *(f"{name}.pdf" for name in DOCUMENTS.values()))
CHECKED = ("keys",)


def rerender(
    folder: Path,
    manifest: Manifest,
    templates: Path | None = None,
    tick: Callable[[int], None] | None = None,
    timeout: float | None = None,
    duplex: bool = True,
) -> list[str]:
    """Rebuild the PDFs of a worksheet folder from its (loaded) manifest, all or nothing.

    The new folder (the PDFs made again, every other file kept) takes the old one's place
    at once when it is complete; a run killed before, a TeX that is missing or fails, or
    a file in the rebuilt parts the worksheet did not make (:func:`rebuilt_folder`) leave
    the old folder as it was, with one line.
    """
    check_renderable(folder, manifest)
    with rebuilt_folder(folder, REBUILT, WORKSHEET, checked=CHECKED) as stage:
        keys = stage / "keys"
        if keys.is_dir():  # the keys' CSVs stay, their PDFs are made again
            for f in keys.glob("*.pdf"):
                f.unlink()
        return render_pdfs(manifest, stage, templates, tick, timeout, duplex)
