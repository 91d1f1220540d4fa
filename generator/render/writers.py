"""The writers of a worksheet folder (plug-ins of :mod:`driver`).

Per student: the problem file, the answer template and the key CSV. For the class:
the PDF sheets and keys (the render stack is imported only when they are written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstm_exam.generator.render.driver import ClassWriter, StudentWriter, Tick
from lstm_exam.generator.spec.problems import problems_toml
from lstm_exam.generator.store.csvfiles import key_csv, template_csv
from lstm_exam.generator.store.manifest import Manifest
from lstm_exam.generator.variants.variant import Variant


@dataclass(frozen=True, slots=True)
class ProblemFile:
    """``problems/<id>.toml``: the student's numbers, in the problem-file format."""

    folder: str = "problems"
    suffix: str = ".toml"

    def text(self, manifest: Manifest, variant: Variant) -> str:
        sid = variant.student.student_id
        comment = f"lstm-exam problems for student {sid}, variant {variant.code}\n{manifest.title}"
        return problems_toml(
            tuple(vp.problem for vp in variant.problems), comment.replace("\r", " ")
        )


@dataclass(frozen=True, slots=True)
class AnswerTemplate:
    """``answer-templates/<id>.csv``: every asked label, the answer empty."""

    folder: str = "answer-templates"
    suffix: str = ".csv"

    def text(self, manifest: Manifest, variant: Variant) -> str:
        return template_csv(variant)


@dataclass(frozen=True, slots=True)
class KeyTable:
    """``keys/<id>.csv``: the key, with the full-precision value and the accepted range."""

    folder: str = "keys"
    suffix: str = ".csv"

    def text(self, manifest: Manifest, variant: Variant) -> str:
        return key_csv(manifest, variant)


@dataclass(frozen=True, slots=True)
class SheetsAndKeys:
    """The PDFs: class-sheets.pdf, class-key.pdf, sheets/<id>.pdf, keys/<id>.pdf, tex/."""

    templates: Path | None = None
    """A folder of custom templates, searched before the built-in ones."""
    timeout: float | None = None
    """pdflatex's time limit in seconds (None: the default for the class's size)."""
    duplex: bool = True
    """Class PDFs padded so that each student starts on a right-hand page."""
    name: str = "Typesetting"

    def ticks(self, students: int) -> int:
        return 2 * students  # each student's sheet and key, as they are split off

    def write(self, manifest: Manifest, folder: Path, tick: Tick | None) -> list[str]:
        from lstm_exam.generator.render.pdfs import render_pdfs

        return render_pdfs(manifest, folder, self.templates, tick, self.timeout, self.duplex)


#: The files every student gets, in every worksheet folder.
STUDENT_FILES: tuple[StudentWriter, ...] = (ProblemFile(), AnswerTemplate(), KeyTable())


def pdf_writers(
    templates: Path | None = None, timeout: float | None = None, duplex: bool = True
) -> tuple[ClassWriter, ...]:
    """The class writers of a worksheet with PDFs."""
    return (SheetsAndKeys(templates, timeout, duplex),)
