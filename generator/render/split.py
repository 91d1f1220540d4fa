"""Splitting a class PDF into one PDF per student, by the page log TeX writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pikepdf


def _page_starts(log: Path) -> list[tuple[str, int]]:
    out = []
    for line in log.read_text("utf-8").splitlines():
        sid, _, page = line.strip().rpartition(" ")
        if sid:
            out.append((sid, int(page)))
    return out


def page_ranges(pages_log: Path, total: int) -> list[tuple[str, int, int]]:
    """(student id, first page, last page), 1-based, from the document's own log."""
    starts = _page_starts(pages_log)
    return [
        (sid, first, starts[k + 1][1] - 1 if k + 1 < len(starts) else total)
        for k, (sid, first) in enumerate(starts)
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
                part.save(folder / f"{sid}.pdf")
            if tick:
                tick(1)
    return len(ranges)


def page_count(pdf: Path) -> int:
    """The number of pages of a PDF."""
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)
