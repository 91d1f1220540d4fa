"""Splitting a class PDF into one PDF per student, by the page log TeX writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pikepdf

from lstm_exam.generator.core.errors import InputError


def _page_starts(log: Path) -> list[tuple[str, int]]:
    out = []
    try:
        lines = log.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(str(log), "", f"no page log of the students ({e})") from None
    for line in lines:
        sid, _, page = line.strip().rpartition(" ")
        if sid:
            out.append((sid, int(page) if page.isdigit() else -1))
    return out


def page_ranges(pages_log: Path, total: int, students: Sequence[str]) -> list[tuple[str, int, int]]:
    """(student id, first page, last page), 1-based, from the document's own log.

    The log only says where each student's pages begin: the ids are the manifest's
    (``students``, in order), and a log that does not list exactly them, in order, on
    rising pages (a template that writes its own) is refused, never trusted as names.

    Raises:
        InputError: naming the log, when it does not fit the class.
    """
    starts = _page_starts(pages_log)
    pages = [first for _, first in starts]
    if (
        [sid for sid, _ in starts] != list(students)
        or pages != sorted(set(pages))
        or any(not 1 <= p <= total for p in pages)
    ):
        raise InputError(
            f"tex/{pages_log.name}", "", "the page log does not list the class's students in order"
        )
    return [
        (sid, first, starts[k + 1][1] - 1 if k + 1 < len(starts) else total)
        for k, (sid, first) in enumerate(zip(students, pages, strict=True))
    ]


def split_pdf(
    pdf: Path,
    ranges: Sequence[tuple[str, int, int]],
    folder: Path,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Write ``folder/<student_id>.pdf`` for each page range of a class PDF.

    pikepdf (qpdf) copies the pages with their fonts; it is several times faster
    than a pure-Python split on a class of hundreds of pages.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with pikepdf.open(pdf) as whole:
        for sid, first, last in ranges:
            with pikepdf.new() as part:
                part.pages.extend(whole.pages[first - 1 : last])
                part.save(folder / f"{sid}.pdf", deterministic_id=True)  # reproducible
            if tick:
                tick(1)
    return len(ranges)


def padded_pdf(pdf: Path, ranges: Sequence[tuple[str, int, int]], out: Path) -> None:
    """The class PDF for printing on both sides: a blank page after each student whose
    pages are odd in number, so that every student starts on a right-hand page and no
    student's first page is printed on the back of another's last."""
    with pikepdf.open(pdf) as whole, pikepdf.new() as padded:
        for k, (_sid, first, last) in enumerate(ranges):
            padded.pages.extend(whole.pages[first - 1 : last])
            if (last - first + 1) % 2 and k + 1 < len(ranges):
                box = [float(x) for x in whole.pages[last - 1].mediabox]
                padded.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
        padded.save(out, deterministic_id=True)


def page_count(pdf: Path) -> int:
    """The number of pages of a PDF."""
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)
