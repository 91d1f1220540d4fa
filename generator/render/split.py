"""Splitting a class PDF into one PDF per student, by the page log TeX writes."""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import LABEL_RE
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


def split_pdf(
    pdf: Path,
    ranges: Sequence[tuple[str, int, int]],
    folder: Path,
    tick: Callable[[int], None] | None = None,
    title: str = "",
) -> int:
    """Write ``folder/<student_id>.pdf`` for each page range of a class PDF.

    pikepdf (qpdf) copies the pages with their fonts; it is several times faster
    than a pure-Python split on a class of hundreds of pages. A class PDF with form
    fields (the fillable sheets) gives each student's PDF its own form, of that
    student's fields only (:func:`_own_form`), and its metadata names the student and
    the variant; ``title`` is the worksheet's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _opened(pdf) as whole, _pages_copied():
        for sid, first, last in ranges:
            with pikepdf.new() as part:
                part.pages.extend(whole.pages[first - 1 : last])
                fields = _own_form(part, range(len(part.pages)))
                if fields:
                    _metadata(part, sid, fields.get(VARIANT_FIELD, ""), title)
                part.save(folder / f"{sid}.pdf", deterministic_id=True)  # reproducible
            if tick:
                tick(1)
    return len(ranges)


def padded_pdf(
    pdf: Path, ranges: Sequence[tuple[str, int, int]], out: Path, pad: bool = True
) -> None:
    """The class PDF for printing on both sides: a blank page after each student whose
    pages are odd in number, so that every student starts on a right-hand page and no
    student's first page is printed on the back of another's last (``pad``: else none).

    The class PDF is for printing: its boxes are printed, never fields (the fields of a
    fillable class are left out), so no two students' boxes ever share a name and a
    value; each student's own PDF has the form (:func:`split_pdf`)."""
    with _opened(pdf) as whole, pikepdf.new() as padded, _pages_copied():
        for page in whole.pages:  # in memory only: the sheets' widgets are left behind
            if "/Annots" in page:
                del page.Annots
        for k, (_sid, first, last) in enumerate(ranges):
            padded.pages.extend(whole.pages[first - 1 : last])
            if pad and (last - first + 1) % 2 and k + 1 < len(ranges):
                box = [float(x) for x in whole.pages[last - 1].mediabox]
                padded.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
        padded.save(out, deterministic_id=True)


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
