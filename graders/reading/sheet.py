"""What reading a submitted file gives: its answer rows (:class:`Sheet`), or why it
cannot be read (:class:`Unreadable`). The readers are :mod:`csvsheet` (an answer CSV) and
:mod:`pdfform` (a filled PDF sheet), behind the one entry point
:func:`~lstm_exam.graders.reading.read_submission`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_exam.generator.store.csvfiles import KEY_HEADER, TEMPLATE_HEADER


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One answer row as the student wrote it."""

    label: str
    raw: str
    """The answer text, stripped; empty when unanswered."""
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Sheet:
    """A readable submission: its rows and how it was read."""

    cells: tuple[Cell, ...]
    notes: tuple[str, ...]
    """How the file was read, e.g. ``semicolon-separated, decimal commas``."""
    decimal_comma: bool
    identity: tuple[str, str] | None = None
    """A filled PDF sheet's own student id and variant code (its read-only fields; empty
    when the form has none); None for a CSV."""
    key_columns: tuple[str, ...] = ()
    """The key's own columns (:data:`KEY_ONLY`) the file has: it is an answer key, or
    made from one, not a student's answers."""


#: The columns only a key CSV has (docs/formats.md): the answer template a student fills
#: has ``label,description,answer``; answering every row right adds none of these.
KEY_ONLY = tuple(c for c in KEY_HEADER if c not in TEMPLATE_HEADER)


class Unreadable(Exception):
    """A file that is no answer CSV: the reason, for the student and the gradebook."""
