"""Reading a submitted file, one entry point (:func:`read_submission`): a filled PDF
sheet's form fields (:mod:`.pdfform`), else an answer CSV's rows (:mod:`.csvsheet`); both
give a :class:`Sheet`, or raise :class:`Unreadable` with the reason a student reads.
"""

from __future__ import annotations

from .csvsheet import read_sheet
from .pdfform import read_pdf_sheet
from .sheet import KEY_ONLY, Cell, Sheet, Unreadable

__all__ = ["KEY_ONLY", "Cell", "Sheet", "Unreadable", "is_pdf", "read_submission"]


def read_submission(data: bytes) -> Sheet:
    """A submitted file's answers: a filled PDF sheet's fields, else the CSV's rows.

    Raises:
        Unreadable: with the reason, for the student and the gradebook.
    """
    if data and is_pdf(data):
        return read_pdf_sheet(data)
    return read_sheet(data)


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` is a PDF (its header within the first 1,024 bytes, as readers allow)."""
    return b"%PDF-" in data[:1024]
