"""The render driver: the files of a worksheet folder, made by its writers.

The driver knows where a writer's files go and when it runs, never what format it
writes. It serves `generate`'s worksheet folder, and only it:

* a :class:`StudentWriter` makes one text file per student from the manifest and the
  student's variant: the problem file, the answer template and the key CSV
  (:data:`render.writers.STUDENT_FILES`); generate calls each for every student, in the
  worker process that drew the student on a large class;
* a :class:`ClassWriter` writes files of the whole class once every student's are
  written: the PDFs (:class:`render.writers.SheetsAndKeys`, the one there is).
  `render` rebuilds the same PDFs from a manifest read back (:func:`render.pdfs.rerender`).

The other outputs are written by their own stages, not through these protocols: a quiz
(:mod:`quiz.run`: one document of N variants, Moodle XML, a Canvas QTI zip or the practice
pages), `grade`'s LMS upload files (:mod:`graders.uploads`, written with the results) and
`send --moodle-zip`'s feedback zip. A new file of every student of a worksheet folder is
one more StudentWriter; a new file of its whole class, one more ClassWriter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from lstm_exam.generator.store.files import write_text
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant

Tick = Callable[[int], None]


class StudentWriter(Protocol):
    """Writes ``<folder>/<student id><suffix>`` for every student."""

    @property
    def folder(self) -> str:
        """The subfolder of the worksheet folder its files go into."""
        ...

    @property
    def suffix(self) -> str: ...

    def text(self, manifest: Manifest, variant: Variant) -> str:
        """The file of one student (pure)."""
        ...


class ClassWriter(Protocol):
    """Writes files of the whole class into the worksheet folder."""

    @property
    def name(self) -> str:
        """What it makes, for the progress bar ("Typesetting")."""
        ...

    def ticks(self, students: int) -> int:
        """How many times it calls ``tick`` for a class of ``students``."""
        ...

    def write(self, manifest: Manifest, folder: Path, tick: Tick | None) -> list[str]:
        """Write the files (``manifest`` holds every variant); notes for the user."""
        ...


def make_folders(folder: Path, writers: Sequence[StudentWriter]) -> None:
    """The writers' subfolders, made once before the students' files."""
    for w in writers:
        (folder / w.folder).mkdir(exist_ok=True)


def write_student(
    manifest: Manifest, variant: Variant, folder: Path, writers: Sequence[StudentWriter]
) -> None:
    """Every writer's file of one student (the subfolders exist)."""
    sid = variant.student.student_id
    for w in writers:
        write_text(folder / w.folder / f"{sid}{w.suffix}", w.text(manifest, variant), mkdir=False)


def write_class(
    manifest: Manifest,
    folder: Path,
    writers: Sequence[ClassWriter],
    tick: Tick | None = None,
    on_writer: Callable[[ClassWriter], None] | None = None,
) -> list[str]:
    """Every class writer in turn; their notes. ``on_writer`` learns of each as it starts."""
    notes: list[str] = []
    for w in writers:
        if on_writer is not None:
            on_writer(w)
        notes += w.write(manifest, folder, tick)
    return notes
