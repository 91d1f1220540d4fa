"""Reading a filled PDF sheet: the values of its form fields, never its page text.

A sheet made by ``generate`` is a PDF form: one text field per answer box, named by the
answer label (``q1.f_t[2]``: the partial names ``q1`` and ``f_t[2]``, joined by a dot as
the PDF standard joins them; a flat name ``q1.f_t[2]`` reads the same), and two hidden
read-only fields, ``student_id`` and ``variant``. Any viewer that fills forms saves the
answers as the fields' values (``/V``), which is all this module reads.

A submitted PDF is untrusted: it is opened from memory by qpdf (pikepdf), which runs
nothing; only the form's tree of fields is walked (``/AcroForm``, ``/Fields``, ``/Kids``,
``/T``, ``/FT``, ``/V``), never an action (``/A``, ``/AA``: JavaScript, ``/URI``,
``/Launch``), a page or a content stream. Its size, its objects, its fields, their
depth and every value's length are capped; whatever fails in reading it makes the file
unreadable with a reason, never a crash.

Its memory is capped too, whatever it holds: qpdf inflates the object streams and the
cross-reference stream it needs to find the fields, and a stream of zeros inflates a
thousandfold (a million-fold through two filters). So the file is read in a child
process (:data:`READER`) that may add :data:`MAX_PDF_MEMORY` bytes to its address space
and use :data:`MAX_PDF_SECONDS` of CPU time, and in it qpdf stops any stream at
:data:`MAX_PDF_STREAM_BYTES`; a file past a limit is "damaged or oversized".
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Any, BinaryIO

from lstm_exam.generator.core.defaults import (
    MAX_PDF_BYTES,
    MAX_PDF_DEPTH,
    MAX_PDF_FIELDS,
    MAX_PDF_FILTERS,
    MAX_PDF_MEMORY,
    MAX_PDF_OBJECTS,
    MAX_PDF_SECONDS,
    MAX_PDF_STREAM_BYTES,
    MAX_PDF_WARNINGS,
)
from lstm_exam.generator.core.notation import LABEL_RE, is_whole
from lstm_exam.generator.runtime import Bounded, Exceeded

from .sheet import Cell, Sheet, Unreadable

#: The hidden read-only fields of a sheet: whose sheet it is.
ID_FIELD, VARIANT_FIELD = "student_id", "variant"
#: The longest value kept of a field (an answer is a number; the CSV keeps 60 characters).
MAX_VALUE_CHARS = 200

NO_FORM = (
    "this PDF has no form fields (a printed and scanned sheet, or one saved with 'Print to "
    "PDF' or 'flattened'): open your own sheet's PDF, type each answer into its box, save "
    "it and hand in that file, or fill in the answer template (CSV)"
)


def read_pdf_sheet(data: bytes) -> Sheet:
    """The answers of a filled PDF sheet as a :class:`Sheet` (with its ``identity``).

    The file is read in a child process (:data:`READER`) under a memory and a CPU
    limit, with qpdf's own limits on what one stream may inflate to: a stream of zeros
    that inflates a thousand- or a million-fold (an object stream, the cross-reference
    stream, filters nested, a predictor, LZW, many streams, a lying ``/Length``) costs
    the child its limit, never the class.

    Raises:
        Unreadable: a damaged, encrypted or oversized PDF, or one without form fields,
            with what to do instead.
    """
    if len(data) > MAX_PDF_BYTES:
        raise Unreadable(f"the PDF is larger than {MAX_PDF_BYTES // 1_000_000} MB")
    import pikepdf  # noqa: F401 - loaded here, before the fork: the child loads no library

    try:
        answer = READER(data)
    except Exceeded as e:
        raise Unreadable(oversized(e.why)) from None
    if isinstance(answer, str):
        raise Unreadable(answer)
    return _sheet([(str(name), str(value)) for name, value in answer])


def oversized(why: str) -> str:
    """The reason a PDF that went past a limit is unreadable (``why``: see
    :class:`Exceeded`, or ``"stream"``)."""
    detail = {
        "stream": f"a stream in it inflates to more than {MAX_PDF_STREAM_BYTES // 1_000_000} MB",
        "memory": f"reading it needs more than {MAX_PDF_MEMORY // 1_000_000} MB of memory",
        "time": f"reading it takes more than {MAX_PDF_SECONDS} s",
    }.get(why, "reading it failed")
    return (
        f"the PDF is damaged or oversized ({detail}): a sheet is far smaller; hand in your "
        f"own sheet as your PDF viewer saved it, or the answer template (CSV)"
    )


def _read_fields(source: BinaryIO | bytes) -> list[tuple[str, str]] | str:
    """The (full name, value) of every text field of the PDF ``source`` (a file at its
    start, or bytes), or why it cannot be read: the work of the child process, with
    qpdf's limits set in it alone."""
    import pikepdf
    from pikepdf.settings import set_qpdf_limits

    set_qpdf_limits(
        flate_max_memory=MAX_PDF_STREAM_BYTES,
        run_length_max_memory=MAX_PDF_STREAM_BYTES,
        png_max_memory=MAX_PDF_STREAM_BYTES,
        tiff_max_memory=MAX_PDF_STREAM_BYTES,
        dct_max_memory=MAX_PDF_STREAM_BYTES,
        max_stream_filters=MAX_PDF_FILTERS,
        parser_max_container_size=MAX_PDF_OBJECTS,
        doc_max_warnings=MAX_PDF_WARNINGS,
    )
    try:
        with (
            _in_memory(source) if isinstance(source, bytes) else contextlib.nullcontext(source)
        ) as stream:
            mapped = _has_fileno(stream)  # qpdf maps a real file; a BytesIO it reads
            with pikepdf.open(
                stream,
                access_mode=pikepdf.AccessMode.mmap if mapped else pikepdf.AccessMode.default,
                inherit_page_attributes=False,  # no page is touched (a third faster)
            ) as pdf:
                try:
                    values: list[tuple[str, str]] | str = _form_values(pdf)
                except Unreadable as e:
                    values = str(e)
                return _fault_of(pdf.get_warnings()) or values
    except pikepdf.PasswordError:
        return "the PDF is protected by a password: hand in the sheet without one"
    except MemoryError:
        raise  # the child's memory limit: READER reports it and starts a fresh child
    except Exception as e:  # qpdf's and pikepdf's faults on a damaged file, of any kind
        return _fault_of([str(e)]) or f"the PDF is damaged and cannot be read ({type(e).__name__})"


def _has_fileno(stream: BinaryIO) -> bool:
    try:
        stream.fileno()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return False
    return True


def _in_memory(data: bytes) -> BinaryIO:
    """``data`` as a file qpdf reads from memory: an anonymous memory file (Linux), which
    it maps (qpdf reads a ``BytesIO`` through Python, a third slower), else a ``BytesIO``."""
    if not hasattr(os, "memfd_create"):
        return io.BytesIO(data)
    fh = os.fdopen(os.memfd_create("submission", os.MFD_CLOEXEC), "w+b", buffering=0)
    try:
        fh.write(data)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return fh


def _fault_of(warnings: list[str]) -> str | None:
    """Why a PDF whose reading gave these qpdf warnings cannot be trusted, or None.

    qpdf reads on past a stream it cannot decode (a limit, memory, damage), leaving the
    objects inside it out: the form then looks empty, or lacks fields, so any such
    warning makes the whole file unreadable.
    """
    for fault, why in _QPDF_FAULTS:
        if any(fault in w for w in warnings):
            return oversized(why) if why else DAMAGED_STREAM
    return None


#: The child process that reads submitted PDFs, one at a time (forked at the first).
#: The submitted bytes reach it through a memory file it shares with this process, which
#: qpdf maps: copied once, never through a pipe.
READER = Bounded(_read_fields, memory=MAX_PDF_MEMORY, seconds=MAX_PDF_SECONDS, as_file=True)

#: How qpdf words a stream it stopped decoding: past its own limit, out of memory (the
#: child's), or damaged (None).
_QPDF_FAULTS = (
    ("memory limit exceeded", "stream"),
    ("bad_alloc", "memory"),
    ("error decoding stream data", None),
)
DAMAGED_STREAM = "the PDF is damaged and cannot be read (a stream in it cannot be decoded)"


def _form_values(pdf: Any) -> list[tuple[str, str]]:
    """The text fields of an open PDF (see :func:`_values`).

    Raises:
        Unreadable: no object count, too many objects, no form.
    """
    import pikepdf

    size = pdf.trailer.get("/Size")
    if not isinstance(size, int):
        raise Unreadable("the PDF is damaged and cannot be read (no object count)")
    if not 0 < size <= MAX_PDF_OBJECTS:
        raise Unreadable(f"the PDF has more than {MAX_PDF_OBJECTS:,} objects: this is not a sheet")
    form = pdf.Root.get("/AcroForm")
    fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
    if not isinstance(fields, pikepdf.Array) or len(fields) == 0:
        raise Unreadable(NO_FORM)
    return _values(fields)


def _values(fields: object) -> list[tuple[str, str]]:
    """(full name, value) of every text field under ``fields``, in the form's order.

    A field's full name is its partial names (``/T``) from the top joined by dots; its
    type (``/FT``) may be inherited from an ancestor. A field of another type (a check
    box, a signature) is left out; so is a value that is no text.
    """
    import pikepdf

    dictionary, array, string, text = (
        pikepdf.Dictionary,
        pikepdf.Array,
        pikepdf.String,
        pikepdf.Name.Tx,
    )
    out: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    count = 0
    stack: list[tuple[object, str, object, int]] = [
        (kid, "", None, 1)
        for kid in reversed(list(fields))  # type: ignore[call-overload]
    ]
    while stack:
        node, above, kind, depth = stack.pop()
        if not isinstance(node, dictionary):
            continue
        ref = node.objgen
        if ref != _DIRECT:
            if ref in seen:  # a loop of /Kids, or a field listed twice
                continue
            seen.add(ref)
        count += 1
        if count > MAX_PDF_FIELDS or depth > MAX_PDF_DEPTH:
            raise Unreadable(
                f"the PDF's form has more than {MAX_PDF_FIELDS:,} fields or is nested more "
                f"than {MAX_PDF_DEPTH} deep: this is not a sheet"
            )
        # A field has its name (/T), a leaf its type (/FT) and, filled, its value (/V):
        # those are read at once; /Kids (a leaf has none), and /FT of a parent (it has
        # none), are tested first, for pikepdf's get of a missing key costs an exception
        # inside it (about 7 us, against 1 us).
        t = node.get("/T")
        name = above
        if isinstance(t, string):
            part = str(t)[:MAX_VALUE_CHARS]
            name = f"{above}.{part}" if above else part
        if "/Kids" in node:
            if "/FT" in node:
                kind = node["/FT"]
            kids = node["/Kids"]
            if isinstance(kids, array):
                below = [k for k in kids if isinstance(k, dictionary) and "/T" in k]
                if below:
                    stack.extend((k, name, kind, depth + 1) for k in reversed(below))
                    continue
        else:
            kind = node.get("/FT", kind)
        if kind != text or not name:
            continue
        v = node.get("/V")
        value = str(v)[:MAX_VALUE_CHARS] if isinstance(v, string) else ""
        out.append((name, value))
    return out


#: The object and generation numbers pikepdf gives a direct object.
_DIRECT = (0, 0)


_COMMA = re.compile(r"[^.]*,[^.]*")
_POINT = re.compile(r"[^,]*\.[^,]*")


def _sheet(values: list[tuple[str, str]]) -> Sheet:
    """The answers as a sheet: cells in the form's order (numbered as its fields), the
    id and variant apart (empty when the form lacks them). A form whose answers mostly write a decimal comma is read as a
    decimal-comma sheet (as a semicolon CSV is), else as one with decimal points."""
    identity = {ID_FIELD: "", VARIANT_FIELD: ""}
    cells = []
    for n, (name, value) in enumerate(values, start=1):
        text = value.strip()
        if name in identity:
            identity[name] = text
        else:
            cells.append(Cell(label=name, raw=text, line=n))
    fractional = [c.raw for c in cells if c.raw and not _whole(c.label)]
    commas = sum(1 for r in fractional if _COMMA.fullmatch(r))
    points = sum(1 for r in fractional if _POINT.fullmatch(r))
    decimal_comma = commas > points
    notes = ["filled PDF form"] + (["decimal commas"] if decimal_comma else [])
    ident = (identity[ID_FIELD], identity[VARIANT_FIELD])
    return Sheet(
        cells=tuple(cells), notes=tuple(notes), decimal_comma=decimal_comma, identity=ident
    )


def _whole(label: str) -> bool:
    return LABEL_RE.match(label) is not None and is_whole(label)
