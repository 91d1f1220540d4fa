"""Splitting a class PDF into each student's PDF: in worker processes for a large class, the
parent's memory not growing with the class, the same bytes as in one process, one line
for a damaged PDF (issue 22, part 7). Nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.render.split import (
    padded_pdf,
    page_count,
    page_ranges,
    split_class,
    split_pdf,
)


def class_pdf(path: Path, students: int, pages_each: int = 3, boxes: int = 30) -> list[str]:
    """A class PDF as the sheets' template makes it: each student's pages in turn, each page
    with named answer boxes (widgets), objects in object streams as pdflatex writes them,
    and its page log; the students' ids."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    log, ids = [], []
    for s in range(students):
        ids.append(f"s{s:05d}")
        log.append(f"{ids[-1]} {len(pdf.pages) + 1}\n")
        for p in range(pages_each + s % 2):  # odd and even numbers of pages: padding
            pdf.add_blank_page(page_size=(595, 842))
            page = pdf.pages[-1]
            page.Resources = Dictionary(Font=Dictionary(F1=font))
            text = f"BT /F1 12 Tf 72 760 Td (student {s} page {p}) Tj ET"
            page.Contents = pdf.make_stream(text.encode())
            page.Annots = Array(
                [
                    pdf.make_indirect(
                        Dictionary(
                            Type=Name.Annot,
                            Subtype=Name.Widget,
                            FT=Name.Tx,
                            T=String(f"q{p + 1}.h_t[{b + 1}]"),
                            Rect=[72, 700 - 20 * b, 200, 715 - 20 * b],
                            V=String(f"{s}.{b}"),
                        )
                    )
                    for b in range(boxes)
                ]
            )
    with warnings.catch_warnings():  # the widgets are reachable from no form: as TeX's
        warnings.simplefilter("ignore")
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    path.with_suffix(".pages").write_text("".join(log), "utf-8")
    return ids


def _files(folder: Path) -> dict[str, bytes]:
    return {
        f.relative_to(folder).as_posix(): f.read_bytes()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


@pytest.mark.parametrize("pad", [True, False])
def test_the_split_in_workers_writes_the_bytes_of_the_split_in_one_process(tmp_path, pad):
    pdf = tmp_path / "class-sheets.pdf"
    ids = class_pdf(pdf, 23, pages_each=2, boxes=3)
    for forked in (True, False):
        out = tmp_path / str(forked)
        split_class(pdf, ids, out / "sheets", out / "class.pdf", pad, title="T", forked=forked)
    ranges = page_ranges(pdf.with_suffix(".pages"), page_count(pdf), ids)
    alone = tmp_path / "alone"
    split_pdf(pdf, ranges, alone / "sheets", title="T")
    padded_pdf(pdf, ranges, alone / "class.pdf", pad=pad)
    assert _files(tmp_path / "True") == _files(tmp_path / "False") == _files(alone)
    assert len(list((alone / "sheets").iterdir())) == 23


def test_every_student_and_every_page_is_written_once(tmp_path):
    pdf = tmp_path / "c.pdf"
    ids = class_pdf(pdf, 120, pages_each=1, boxes=1)  # three jobs of 50 (the last of 20)
    ticks: list[int] = []
    split_class(pdf, ids, tmp_path / "s", tmp_path / "whole.pdf", True, ticks.append, forked=True)
    assert sum(ticks) == 120
    pages = [page_count(tmp_path / "s" / f"{sid}.pdf") for sid in ids]
    assert pages == [1 + k % 2 for k in range(120)]
    # padded: a blank page after each student of an odd number of pages, but the last
    assert page_count(tmp_path / "whole.pdf") == sum(pages) + sum(p % 2 for p in pages[:-1])


@pytest.mark.parametrize("forked", [True, False])
def test_a_damaged_class_pdf_is_one_line(tmp_path, forked):
    pdf = tmp_path / "class-key.pdf"
    ids = class_pdf(pdf, 3, boxes=1)
    pdf.write_bytes(b"%PDF-1.5\nnot a PDF at all\n")
    with pytest.raises(InputError, match=r"^tex/class-key\.pdf: pdflatex wrote a damaged PDF"):
        split_class(pdf, ids, tmp_path / "keys", tmp_path / "k.pdf", forked=forked)


def test_a_page_log_that_does_not_fit_is_refused_from_a_worker(tmp_path):
    pdf = tmp_path / "class-sheets.pdf"
    ids = class_pdf(pdf, 4, boxes=1)
    with pytest.raises(InputError, match="the page log does not list the class's students"):
        split_class(pdf, [*ids[:3], "someone else"], tmp_path / "s", forked=True)


#: What the parent does, in a process of its own: its peak RSS grown during the split, in
#: MiB (the peak of its own memory, VmHWM: ru_maxrss would start at pytest's, which an
#: exec'd child inherits on Linux).
_PEAK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lstm_exam.generator.render.split import split_class

    def peak():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    pdf = Path(sys.argv[1])
    ids = pdf.with_suffix(".ids").read_text().split()
    before = peak()
    split_class(pdf, ids, pdf.parent / sys.argv[2], pdf.parent / (sys.argv[2] + ".pdf"),
                forked=sys.argv[2] == "forked")
    print((peak() - before) / 1024)
    """
)


def test_the_parents_memory_does_not_grow_with_a_class_split_in_workers(tmp_path):
    """An open class PDF holds its objects (some 80 KB a page of pdflatex's sheets): the
    parent of a forked split never opens it, so its peak stays where it was, while the
    same split in one process grows by the open PDF (the measure has teeth)."""
    pdf = tmp_path / "class-sheets.pdf"
    ids = class_pdf(pdf, 400)
    pdf.with_suffix(".ids").write_text("\n".join(ids))

    def grown(how: str) -> float:
        res = subprocess.run(
            [sys.executable, "-c", _PEAK, str(pdf), how],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        return float(res.stdout.split()[-1])

    forked, alone = grown("forked"), grown("alone")
    assert alone > 60, alone
    assert forked < 15, forked


def test_the_split_benchmark_runs_to_its_report():
    bench = Path(__file__).resolve().parent.parent / "bench" / "bench_split.py"
    res = subprocess.run(
        [sys.executable, str(bench), "--students", "2", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "target the parent's peak" in res.stdout
