"""Splitting a class PDF into one PDF per student, by the page log TeX writes."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import LABEL_RE
from lstm_exam.generator.runtime import fork_chunks, forks
from lstm_exam.generator.store.csvfiles import describe

#: PDFDocEncoding's characters 128 to 158 (the Unicode minus at 138, typographic quotes and
#: dashes): a viewer that draws a field's value in Helvetica finds them.
_PDFDOC_128 = [
    "/bullet",
    "/dagger",
    "/daggerdbl",
    "/ellipsis",
    "/emdash",
    "/endash",
    "/florin",
    "/fraction",
    "/guilsinglleft",
    "/guilsinglright",
    "/minus",
    "/perthousand",
    "/quotedblbase",
    "/quotedblleft",
    "/quotedblright",
    "/quoteleft",
    "/quoteright",
    "/quotesinglbase",
    "/trademark",
    "/fi",
    "/fl",
    "/Lslash",
    "/OE",
    "/Scaron",
    "/Ydieresis",
    "/Zcaron",
    "/dotlessi",
    "/lslash",
    "/oe",
    "/scaron",
    "/zcaron",
]
#: The names of the sheet's read-only fields: the student's id and variant code.
ID_FIELD, VARIANT_FIELD = "student_id", "variant"


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


def split_class(
    pdf: Path,
    students: Sequence[str],
    folder: Path,
    whole: Path | None = None,
    pad: bool = True,
    tick: Callable[[int], None] | None = None,
    title: str = "",
    forked: bool | None = None,
) -> None:
    """Write ``folder/<student_id>.pdf`` for each student of a class PDF typeset with its
    page log (:func:`page_ranges`), and, given ``whole``, the class PDF for printing there
    (:func:`padded_pdf`, padded if ``pad``).

    The work is done in jobs of ``defaults.SPLIT_CHUNK`` students, in worker processes from
    ``defaults.PARALLEL_FROM`` students on (``forked``: whether, None by that rule): each
    process opens the class PDF once for all its jobs (the class PDF for printing is one of
    them, the first). So a forked run never opens the class PDF in this process, whose memory
    does not grow with the class (an open class PDF holds some 80 KB a page). The files
    are those :func:`split_pdf` and :func:`padded_pdf` write, byte for byte.

    Raises:
        InputError: naming the PDF, when it is damaged or its page log does not fit.
    """
    folder.mkdir(parents=True, exist_ok=True)
    first = 1 if whole is not None else 0
    jobs = first + math.ceil(len(students) / defaults.SPLIT_CHUNK)
    if forked is None:
        forked = forks(len(students))

    def job(index: int) -> list[str]:
        try:
            doc, ranges = _source(pdf, students)
            if index < first and whole is not None:
                _write_padded(doc, ranges, whole, pad)
                return []
            lo = (index - first) * defaults.SPLIT_CHUNK
            done = ranges[lo : lo + defaults.SPLIT_CHUNK]
            with _pages_copied():
                for sid, begin, end in done:
                    _write_student(doc, sid, begin, end, folder, title)
            return [sid for sid, _, _ in done]
        except pikepdf.PdfError as e:  # a TeX that writes a broken PDF: one line
            detail = str(e).rpartition(": ")[2] or type(e).__name__
            raise InputError(
                f"tex/{pdf.name}",
                "",
                f"pdflatex wrote a damaged PDF ({detail}): is the TeX installation whole?",
            ) from None

    try:
        for _ in fork_chunks(
            lambda lo, hi: [sid for k in range(lo, hi) for sid in job(k)],
            jobs,
            tick,
            size=1,
            at_least=1 if forked else jobs + 1,
        ):
            pass
    finally:
        _release(pdf)


#: The class PDF each process opened for its jobs of :func:`split_class`, by its path:
#: (the process, what closes it, the open PDF, its page ranges).
_SOURCES: dict[str, tuple[int, contextlib.ExitStack, pikepdf.Pdf, list[tuple[str, int, int]]]] = {}


def _source(pdf: Path, students: Sequence[str]) -> tuple[pikepdf.Pdf, list[tuple[str, int, int]]]:
    held = _SOURCES.get(str(pdf))
    if held is None or held[0] != os.getpid():
        with contextlib.ExitStack() as stack:
            doc = stack.enter_context(_opened(pdf))
            ranges = page_ranges(pdf.with_suffix(".pages"), len(doc.pages), students)
            held = _SOURCES[str(pdf)] = (os.getpid(), stack.pop_all(), doc, ranges)
    return held[2], held[3]


def _release(pdf: Path) -> None:
    held = _SOURCES.pop(str(pdf), None)
    if held is not None and held[0] == os.getpid():
        held[1].close()


def split_pdf(
    pdf: Path,
    ranges: Sequence[tuple[str, int, int]],
    folder: Path,
    tick: Callable[[int], None] | None = None,
    title: str = "",
) -> int:
    """Write ``folder/<student_id>.pdf`` for each page range of a class PDF, in this process.

    pikepdf (qpdf) copies the pages with their fonts; it is several times faster
    than a pure-Python split on a class of hundreds of pages. A class PDF with form
    fields (the fillable sheets) gives each student's PDF its own form, of that
    student's fields only (:func:`_own_form`), and its metadata names the student and
    the variant; ``title`` is the worksheet's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _opened(pdf) as whole, _pages_copied():
        for sid, first, last in ranges:
            _write_student(whole, sid, first, last, folder, title)
            if tick:
                tick(1)
    return len(ranges)


def _write_student(
    whole: pikepdf.Pdf, sid: str, first: int, last: int, folder: Path, title: str
) -> None:
    with pikepdf.new() as part:
        part.pages.extend(whole.pages[first - 1 : last])
        fields = _own_form(part, range(len(part.pages)))
        if fields:
            _metadata(part, sid, fields.get(VARIANT_FIELD, ""), title)
        part.save(folder / f"{sid}.pdf", deterministic_id=True)  # reproducible


def padded_pdf(
    pdf: Path, ranges: Sequence[tuple[str, int, int]], out: Path, pad: bool = True
) -> None:
    """The class PDF for printing on both sides: a blank page after each student whose
    pages are odd in number, so that every student starts on a right-hand page and no
    student's first page is printed on the back of another's last (``pad``: else none).

    The class PDF is for printing: its boxes are printed, never fields (the fields of a
    fillable class are left out), so no two students' boxes ever share a name and a
    value; each student's own PDF has the form (:func:`split_pdf`)."""
    with _opened(pdf) as whole:
        _write_padded(whole, ranges, out, pad)


def _write_padded(
    whole: pikepdf.Pdf, ranges: Sequence[tuple[str, int, int]], out: Path, pad: bool
) -> None:
    """:func:`padded_pdf` of an open class PDF, which it leaves as it found it (its
    widgets are taken off its pages while they are copied, then put back)."""
    widgets = {}
    try:
        with pikepdf.new() as padded, _pages_copied():
            for n, page in enumerate(whole.pages):  # the sheets' widgets are left behind
                if "/Annots" in page:
                    widgets[n] = page.Annots
                    del page.Annots
            for k, (_sid, first, last) in enumerate(ranges):
                padded.pages.extend(whole.pages[first - 1 : last])
                if pad and (last - first + 1) % 2 and k + 1 < len(ranges):
                    box = [float(x) for x in whole.pages[last - 1].mediabox]
                    padded.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
            padded.save(out, deterministic_id=True)
    finally:
        for n, annots in widgets.items():
            whole.pages[n].Annots = annots


def _own_form(doc: pikepdf.Pdf, pages: range) -> dict[str, str]:
    """Give ``doc`` the form of the widgets on its ``pages`` (copied from a class PDF); their
    values by name, for the metadata. No widget, no form.

    The sheet's template names each field flatly by its label, ``q1.f_t[2]``
    (templates/fields.tex.j2); TeX writes no form of its own. In a PDF a ``.`` in a
    field's full name separates the partial names of a hierarchy, so the fields are
    arranged as one: a field ``q1`` whose kid ``f_t[2]`` is the box. Every reader that
    joins the partial names with dots, as the PDF standard says, reads the label back;
    so does one that reads the flat name. Each box's tooltip names its quantity (the
    CSV's description).
    """
    widgets = []  # (widget, its name): every annotation of a sheet with a name is a field
    for n in pages:
        for annot in doc.pages[n].get("/Annots", ()):
            t = annot.get("/T")
            if t is not None:
                widgets.append((annot, str(t)))
    if not widgets:
        return {}
    acro = doc.Root.get("/AcroForm")
    if acro is None:
        fonts = Dictionary(
            Helv=doc.make_indirect(
                Dictionary(
                    Type=Name.Font,
                    Subtype=Name.Type1,
                    BaseFont=Name.Helvetica,
                    Encoding=Dictionary(
                        Type=Name.Encoding,
                        BaseEncoding=Name.WinAnsiEncoding,
                        Differences=Array([128, *map(Name, _PDFDOC_128), 160, Name.Euro]),
                    ),
                )
            ),
            ZaDb=doc.make_indirect(
                Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.ZapfDingbats)
            ),
        )
        acro = doc.Root.AcroForm = doc.make_indirect(
            Dictionary(
                Fields=Array(),
                DA=String("/Helv 10 Tf 0 g"),
                DR=Dictionary(Font=fonts),
                NeedAppearances=True,
            )
        )
    top: list[pikepdf.Object] = []
    parents: dict[tuple[str, ...], tuple[pikepdf.Object, list[pikepdf.Object]]] = {}

    def kids_of(path: tuple[str, ...]) -> tuple[pikepdf.Object, list[pikepdf.Object]]:
        found = parents.get(path)
        if found is None:
            node = doc.make_indirect(Dictionary(T=String(path[-1])))
            found = parents[path] = (node, [])
            if len(path) > 1:
                up, kids = kids_of(path[:-1])
                node.Parent = up
                kids.append(node)
            else:
                top.append(node)
        return found

    values: dict[str, str] = {}
    for w, name in widgets:
        path = name.split(".")
        if len(path) > 1:
            w.T = String(path[-1])
            up, kids = kids_of(tuple(path[:-1]))
            w.Parent = up
            kids.append(w)
            w.TU = _tooltip(name)
        else:
            values[name] = str(w.get("/V", ""))
            top.append(w)
    for node, kids in parents.values():
        node.Kids = Array(kids)
    acro.Fields = Array(top)
    return values


@functools.lru_cache(maxsize=4096)
def _tooltip(label: str) -> String:
    """A box's tooltip: its quantity in words, as the CSV's description (labels repeat
    from student to student)."""
    return String(describe(label) if LABEL_RE.match(label) else label)


@contextlib.contextmanager
def _pages_copied() -> Iterator[None]:
    """pikepdf's warning that pages.extend leaves the form behind is silenced: the
    form is made again (:func:`_own_form`)."""
    category = getattr(pikepdf, "PageCopyWarning", None)  # pikepdf 10.18 on
    with warnings.catch_warnings():
        if category is not None:
            warnings.simplefilter("ignore", category)
        yield


def _metadata(doc: pikepdf.Pdf, sid: str, variant: str, title: str) -> None:
    """A student's sheet names its student and variant in its document information."""
    doc.docinfo.Title = String(f"{title}: problem sheet of {sid}" if title else sid)
    doc.docinfo.Subject = String(f"Problem sheet of student {sid}, variant {variant}")
    doc.docinfo.Keywords = String(f"lstm-exam; student {sid}; variant {variant}")
    doc.docinfo.Creator = String("lstm-exam")
    doc.docinfo[Name("/LstmExamStudent")] = String(sid)
    doc.docinfo[Name("/LstmExamVariant")] = String(variant)


def page_count(pdf: Path) -> int:
    """The number of pages of a PDF."""
    with _opened(pdf) as doc:
        return len(doc.pages)


@contextlib.contextmanager
def _opened(pdf: Path) -> Iterator[pikepdf.Pdf]:
    """``pikepdf.open`` of a path in any bytes: given a path, pikepdf passes its ``str``
    to qpdf, which refuses a name that is not UTF-8 (a worksheet in such a folder); given
    the open file, it describes it by the file's ``repr``, which is ASCII."""
    with pdf.open("rb") as stream, pikepdf.open(stream) as doc:
        yield doc
