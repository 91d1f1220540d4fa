"""Filling a sheet's PDF form as viewers save it, for the tests (and the demo's samples).

* ``pikepdf``: the values (``/V``) written into the fields, the viewer left to draw them
  (``/NeedAppearances``), the file saved whole: what poppler-based viewers (Okular,
  Evince) do;
* ``pypdf``: the values and an appearance stream for each box, saved whole (Preview, and
  Acrobat's "Save as");
* ``incremental``: the same as an incremental update appended to the file, the original
  bytes kept: what Acrobat Reader's and Firefox's "Save" do.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path

import pikepdf
import pypdf

HOW = ("pikepdf", "pypdf", "incremental")


def terminal_fields(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """(full name, field) of every field with no field below it."""

    def walk(node: pikepdf.Dictionary, above: str) -> Iterator[tuple[str, pikepdf.Dictionary]]:
        name = f"{above}.{node.T}" if above else str(node.T)
        kids = [k for k in node.get("/Kids", []) if "/T" in k]
        if not kids:
            yield name, node
        for k in kids:
            yield from walk(k, name)

    for f in pdf.Root.AcroForm.Fields:
        yield from walk(f, "")


def fill(src: Path | bytes, values: Mapping[str, str], how: str = "pikepdf") -> bytes:
    """The PDF ``src`` with ``values`` (by field name) typed into its fields."""
    data = src.read_bytes() if isinstance(src, Path) else src
    if how == "pikepdf":
        with pikepdf.open(io.BytesIO(data)) as pdf:
            fields = dict(terminal_fields(pdf))
            for name, value in values.items():
                fields[name].V = pikepdf.String(value)
            pdf.Root.AcroForm.NeedAppearances = True
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
            return out.getvalue()
    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = (
        pypdf.PdfWriter(reader, incremental=True)
        if how == "incremental"
        else pypdf.PdfWriter(clone_from=reader)
    )
    for page in writer.pages:
        writer.update_page_form_field_values(page, dict(values), auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def field_values(data: bytes) -> dict[str, str]:
    """pypdf's reading of a PDF's fields: full name to value (an unfilled field: empty)."""
    fields = pypdf.PdfReader(io.BytesIO(data)).get_fields() or {}
    return {k: str(f.get("/V") or "") for k, f in fields.items() if f.get("/FT") == "/Tx"}
