"""Reading a filled PDF cheaply: the bytes reach the bounded child through a memory file
they share (each request exactly its own bytes, whatever came before), and the form walk
that reads only the keys a field has gives what a PDF library reads of the same form."""

from __future__ import annotations

import hashlib
import io
import os
import re
from typing import BinaryIO

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pdffill import field_values

from lstm_exam.generator.runtime import Bounded, Exceeded
from lstm_exam.graders.reading import Unreadable, read_submission
from lstm_exam.graders.reading.pdfform import NO_FORM, READER


def _digest(source: BinaryIO) -> list[object]:
    """What the child sees of a request: its size, its digest, and whether it may be
    mapped (a real file)."""
    data = source.read()
    try:
        mapped = os.fstat(source.fileno()).st_size == len(data)
    except (OSError, io.UnsupportedOperation):
        mapped = False
    if data.startswith(b"allocate "):
        return [len(bytearray(int(data.split()[1])))]
    return [len(data), hashlib.sha256(data).hexdigest(), mapped]


@pytest.fixture(scope="module")
def child():
    bounded = Bounded(_digest, memory=100_000_000, seconds=5, as_file=True)
    yield bounded
    bounded.close()


@settings(max_examples=40, deadline=None)
@given(requests=st.lists(st.binary(max_size=70_000), min_size=1, max_size=6))
def test_each_request_reaches_the_child_as_exactly_its_bytes_in_a_file(child, requests):
    """A shorter request after a longer one sees none of its bytes: the shared file is
    cut to each request's size, and it is a real file qpdf can map (Linux)."""
    for data in requests:
        size, digest, mapped = child(data)
        assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
        assert mapped == hasattr(os, "memfd_create")


def test_a_child_that_went_past_its_memory_reads_the_next_request_afresh(child):
    with pytest.raises(Exceeded) as e:
        child(b"allocate 1000000000")
    assert e.value.why == "memory"
    assert child(b"next")[:2] == [4, hashlib.sha256(b"next").hexdigest()]


def test_the_reader_of_sheets_passes_the_bytes_as_a_file():
    assert READER.as_file


# --- the walk of the form ------------------------------------------------------------------

_NAME = st.text(alphabet="abcxyz_[]0123456789", min_size=1, max_size=6)
_VALUE = st.none() | st.text(alphabet="0123456789.,- e", max_size=8)


@st.composite
def forms(draw: st.DrawFn) -> list[tuple[str, object]]:
    """A form as nested (partial name, value or None, or a list of kids) with unique names."""

    def level(depth: int) -> list[tuple[str, object]]:
        names = draw(st.lists(_NAME, min_size=1, max_size=4, unique=True))
        out: list[tuple[str, object]] = []
        for name in names:
            if depth < 3 and draw(st.booleans()):
                out.append((name, level(depth + 1)))
            else:
                out.append((name, draw(_VALUE)))
        return out

    return level(1)


def _pdf(form: list[tuple[str, object]], *, type_on_parents: bool, widget_kids: bool) -> bytes:
    """A one-page PDF whose form is ``form``: text fields, the type on each leaf or
    inherited from its parents, each leaf its own widget or with a widget below it."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    annots = pikepdf.Array()

    def field(name: str, body: object, parent: pikepdf.Object | None) -> pikepdf.Object:
        node = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String(name)))
        if parent is not None:
            node.Parent = parent
        if isinstance(body, list):
            if type_on_parents:
                node.FT = pikepdf.Name.Tx
            node.Kids = pikepdf.Array([field(n, b, node) for n, b in body])
            return node
        if not type_on_parents or parent is None:
            node.FT = pikepdf.Name.Tx
        if body is not None:
            node.V = pikepdf.String(str(body))
        widget = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=[0, 0, 10, 10]
        )
        if widget_kids:
            widget = pdf.make_indirect(widget)
            widget.Parent = node
            node.Kids = pikepdf.Array([widget])
        else:
            for key, value in widget.items():
                node[key] = value
            widget = node
        annots.append(widget)
        return node

    fields = pikepdf.Array([field(n, b, None) for n, b in form])
    page.Annots = annots
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=fields))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@settings(max_examples=10, deadline=None)
@given(form=forms(), type_on_parents=st.booleans(), widget_kids=st.booleans())
def test_the_walk_reads_what_pypdf_reads_of_any_form(form, type_on_parents, widget_kids):
    """Names joined from the top, types inherited, widgets below a field, fields without
    a value: the sheet's cells are the form's text fields, in its order."""
    data = _pdf(form, type_on_parents=type_on_parents, widget_kids=widget_kids)
    sheet = read_submission(data)
    assert [(c.label, c.raw) for c in sheet.cells] == _flat(form, "")


def test_the_walk_reads_a_form_as_pypdf_does():
    form = [("q1", [("a", "0.5"), ("b", None)]), ("q2", "1,25"), ("h[1]", " 3 ")]
    data = _pdf(form, type_on_parents=False, widget_kids=False)
    assert {c.label: c.raw for c in read_submission(data).cells} == {
        k: v.strip() for k, v in field_values(data).items()
    }


def _flat(form: list[tuple[str, object]], above: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, body in form:
        full = f"{above}.{name}" if above else name
        if isinstance(body, list):
            out += _flat(body, full)
        else:
            out.append((full, "" if body is None else str(body).strip()))
    return out


def test_a_form_of_other_fields_only_reads_as_no_form():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array())
    out = io.BytesIO()
    pdf.save(out)
    with pytest.raises(Unreadable, match=re.escape(NO_FORM)):
        read_submission(out.getvalue())
