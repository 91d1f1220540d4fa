"""Fillable sheets: every answer box a PDF form field, and `grade` reading filled PDFs.

A class of every problem kind is typeset once (real pdflatex); its sheets are filled as
viewers save them (:mod:`pdffill`), graded, and must get exactly the scores and
feedback of the same answers sent as CSV. Another student's sheet, a flattened PDF
and a damaged one get their findings; hostile PDFs are read without a crash.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdffill import HOW, field_values, fill, terminal_fields

from lstm_exam.generator.core.notation import Kind, is_whole
from lstm_exam.generator.generate import generate
from lstm_exam.generator.render.writers import pdf_writers
from lstm_exam.generator.spec.roster import numbered_roster, read_roster
from lstm_exam.generator.spec.worksheet import load_spec
from lstm_exam.generator.store.csvfiles import describe
from lstm_exam.graders import outputs
from lstm_exam.graders.reading import Unreadable, read_submission
from lstm_exam.graders.reading.pdfform import NO_FORM, read_pdf_sheet
from lstm_exam.graders.results import Status
from lstm_exam.graders.run import grade

pytestmark = pytest.mark.tex
ROSTER = Path(__file__).parent / "data" / "fillable-roster.csv"

#: One problem of every kind, small.
EVERY_KIND: list[dict[str, Any]] = [
    {"kind": "forget_gate", "hidden": 2, "inputs": 2},
    {"kind": "input_gate", "hidden": 2, "inputs": 1},
    {"kind": "cell_state", "hidden": 2},
    {"kind": "output_gate", "hidden": 2, "inputs": 1},
    {"kind": "cell_step", "hidden": 2, "inputs": 1},
    {"kind": "sequence", "hidden": 1, "inputs": 1, "steps": 2},
    {"kind": "classification", "classes": 2, "show_steps": False},
    {"kind": "regression", "show_steps": False},
    {"kind": "backward_step", "show_steps": False},
    {"kind": "parameters"},
]


def test_every_kind_is_in_the_class():
    assert {p["kind"] for p in EVERY_KIND} == {str(k) for k in Kind}


class Class:
    """The worksheet folder, its manifest's students, the asked labels of each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        doc = json.loads((folder / "manifest.json").read_text("utf-8"))
        self.students = doc["students"]
        self.ids = [s["student_id"] for s in self.students]

    def keys(self, sid: str) -> dict[str, str]:
        """The asked labels of a student and the key's rounded answer of each, in order."""
        (s,) = (s for s in self.students if s["student_id"] == sid)
        return {
            f"q{p['number']}.{lab}": v["rounded"]
            for p in s["problems"]
            for lab, v in p["values"].items()
            if v.get("asked")
        }

    def sheet(self, sid: str) -> Path:
        return self.folder / "sheets" / f"{sid}.pdf"

    def variant(self, sid: str) -> str:
        return next(s["variant"] for s in self.students if s["student_id"] == sid)


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Class:
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`", pytrace=False)
    tmp = tmp_path_factory.mktemp("fillable")
    spec = tmp / "spec.toml"
    spec.write_text(tomli_w.dumps({"title": "Every kind", "problems": EVERY_KIND}), "utf-8")
    roster = tmp / "roster.csv"
    shutil.copy(ROSTER, roster)
    generate(
        load_spec(spec),
        read_roster(roster),
        tmp / "wk",
        seed="fillable-test-seed",
        writers=pdf_writers(),
    )
    return Class(tmp / "wk")


# --- the sheets' forms ---------------------------------------------------------------


def test_every_answer_box_is_a_field_named_by_its_label(klass):
    for sid in klass.ids:
        data = klass.sheet(sid).read_bytes()
        fields = field_values(data)  # pypdf joins the partial names, as the standard says
        assert set(fields) == {*klass.keys(sid), "student_id", "variant"}
        assert fields["student_id"] == sid and fields["variant"] == klass.variant(sid)
        assert not any(v for k, v in fields.items() if k.startswith("q"))


def test_each_box_has_a_tooltip_naming_its_quantity_and_the_id_fields_are_read_only(klass):
    with pikepdf.open(klass.sheet(klass.ids[0])) as pdf:
        fields = dict(terminal_fields(pdf))
        for name, f in fields.items():
            if name.startswith("q"):
                assert str(f.TU) == describe(name)
                assert int(f.get("/F", 0)) & 2 == 0  # shown, and printed (4)
                assert int(f.get("/Ff", 0)) & 1 == 0  # not read-only
                assert f.BS.W == 0  # no border: the printed look stays
            else:
                assert int(f.Ff) & 1  # read-only
                assert int(f.F) & 2  # hidden: the header prints the id and variant
        assert float(fields["q1.f_t[1]"].Rect[2]) - float(fields["q1.f_t[1]"].Rect[0]) > 20


def test_the_label_is_a_hierarchy_of_partial_names(klass):
    with pikepdf.open(klass.sheet(klass.ids[0])) as pdf:
        top = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
        assert set(top) == {"student_id", "variant", *(f"q{n}" for n in range(1, 11))}
        kids = {str(k.T) for k in top["q1"].Kids}
        assert "f_t[1]" in kids
        seq = next(n for n, p in enumerate(EVERY_KIND, start=1) if p["kind"] == "sequence")
        steps = {str(k.T) for k in top[f"q{seq}"].Kids}
        assert steps == {"t1", "t2"}  # q6.t2.h_t[1]: three levels


def test_each_student_pdf_has_its_own_form_and_metadata(klass):
    for sid in klass.ids:
        with pikepdf.open(klass.sheet(sid)) as pdf:
            widgets = [
                a
                for page in pdf.pages
                for a in page.get("/Annots", [])
                if a.get("/Subtype") == "/Widget"
            ]
            named = dict(terminal_fields(pdf))
            assert len(widgets) == len(named) == len(klass.keys(sid)) + 2
            assert str(pdf.docinfo.LstmExamStudent) == sid
            assert str(pdf.docinfo.LstmExamVariant) == klass.variant(sid)
            assert sid in str(pdf.docinfo.Subject) and klass.variant(sid) in str(
                pdf.docinfo.Keywords
            )
            assert pdf.Root.AcroForm.NeedAppearances


def test_the_class_pdf_is_for_printing_its_boxes_no_fields(klass):
    """No two students' boxes can share a name and a value: the class PDF has none."""
    with pikepdf.open(klass.folder / "class-sheets.pdf") as pdf:
        assert "/AcroForm" not in pdf.Root
        assert not any("/Annots" in page for page in pdf.pages)


def test_fillable_false_makes_sheets_without_a_form(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        tomli_w.dumps({"fillable": False, "problems": [{"kind": "cell_state", "hidden": 1}]}),
        "utf-8",
    )
    generate(
        load_spec(spec),
        numbered_roster(1),
        tmp_path / "wk",
        seed="fillable-test-seed",
        writers=pdf_writers(),
    )
    assert "/AcroForm" not in pikepdf.open(tmp_path / "wk" / "sheets" / "s001.pdf").Root
    assert r"\pdfannot" not in (tmp_path / "wk" / "tex" / "class-sheets.tex").read_text()
    assert '"fillable":false' in (tmp_path / "wk" / "manifest.json").read_text()
    with pytest.raises(Unreadable, match="no form fields"):
        read_pdf_sheet((tmp_path / "wk" / "sheets" / "s001.pdf").read_bytes())


def test_a_spec_refuses_a_fillable_that_is_no_boolean(tmp_path):
    from lstm_exam.generator.core.errors import InputError

    spec = tmp_path / "spec.toml"
    spec.write_text('fillable = "yes"\n[[problems]]\nkind = "cell_state"\n', "utf-8")
    with pytest.raises(InputError, match="fillable"):
        load_spec(spec)


# --- the answers, as CSV and as a filled PDF -----------------------------------------


def typed(key: str, label: str, k: int, comma: bool) -> str:
    """A student's answer text for the key's ``key``: right, wrong, empty, messy."""
    if is_whole(label):
        return ["", str(int(Decimal(key)) + 1), f" {key} ", key][k % 4]
    d = Decimal(key)
    text = [
        key,
        "",
        format(d + Decimal("0.5"), "f"),
        "  " + key.replace("-", "\u2212") + " ",
        "abc",
        format(d.scaleb(3), "f") + "e-3",
        format(d + Decimal("0.0004"), "f"),
        "+" + key if not key.startswith("-") else key,
    ][k % 8]
    return text.replace(".", ",") if comma else text


def answers(klass: Class, sid: str, comma: bool) -> dict[str, str]:
    return {lab: typed(key, lab, k, comma) for k, (lab, key) in enumerate(klass.keys(sid).items())}


def write_csv(path: Path, rows: dict[str, str], comma: bool) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";" if comma else ",", lineterminator="\r\n")
    w.writerow(["label", "answer"])
    w.writerows(rows.items())
    path.write_text(buf.getvalue(), "utf-8")


def comparable(klass: Class, run) -> dict[str, Any]:
    """What a student's grading says, but for how the file was read."""
    out = {}
    for r in run.results:
        view = outputs.feedback_view(run.manifest, run.titles, r)
        out[r.student_id] = (
            r.status,
            r.problem_scores,
            r.findings,
            r.flags,
            r.mistakes,
            r.marks,
            r.wrong_values,
            r.copy_of,
            [n for n in r.notes if n not in SHEET_NOTES],
            (view.title, view.subtitle, view.paragraphs, view.problems),
        )
    return out


SHEET_NOTES = {
    "UTF-8 text",
    "semicolon-separated",
    "filled PDF form",
    "decimal commas",
}


@pytest.mark.parametrize("comma", [False, True], ids=["points", "commas"])
@pytest.mark.parametrize("how", HOW)
def test_a_filled_pdf_grades_exactly_as_the_same_answers_in_a_csv(klass, tmp_path, how, comma):
    csvs, pdfs = tmp_path / "csv", tmp_path / "pdf"
    csvs.mkdir()
    pdfs.mkdir()
    for sid in klass.ids:
        rows = answers(klass, sid, comma)
        write_csv(csvs / f"{sid}.csv", rows, comma)
        (pdfs / f"{sid}.pdf").write_bytes(fill(klass.sheet(sid), rows, how))
    by_csv, by_pdf = grade(klass.folder, csvs), grade(klass.folder, pdfs)
    assert all(r.status is Status.GRADED for r in by_pdf.results)
    assert comparable(klass, by_pdf) == comparable(klass, by_csv)
    notes = by_pdf.results[0].notes
    assert notes[0] == "filled PDF form" and ("decimal commas" in notes) == comma
    kinds = {f.verdict for r in by_pdf.results for f in r.findings}
    assert {"correct", "wrong", "unanswered", "invalid"} <= {str(k) for k in kinds}


def test_pypdf_reads_back_what_was_filled(klass):
    sid = klass.ids[0]
    rows = answers(klass, sid, False)
    for how in HOW:
        back = field_values(fill(klass.sheet(sid), rows, how))
        assert {k: v for k, v in back.items() if k in rows} == rows


def one(klass: Class, tmp_path: Path, files: dict[str, bytes]):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, data in files.items():
        (subs / name).parent.mkdir(parents=True, exist_ok=True)
        (subs / name).write_bytes(data)
    return {r.student_id: r for r in grade(klass.folder, subs).results}


def test_another_students_filled_sheet_is_flagged(klass, tmp_path):
    a, b = klass.ids[:2]
    filled = fill(klass.sheet(b), answers(klass, b, False))
    r = one(klass, tmp_path, {f"{a}.pdf": filled})[a]
    assert r.status is Status.UNREADABLE
    assert f"this is the sheet of {b}" in r.notes[0] and f"this is the sheet of {b}" in r.flags[0]


def test_a_sheet_of_another_variant_is_flagged(klass, tmp_path):
    sid = klass.ids[0]
    with pikepdf.open(klass.sheet(sid)) as pdf:
        dict(terminal_fields(pdf))["variant"].V = pikepdf.String("AAAA-BBBB")
        buf = io.BytesIO()
        pdf.save(buf)
    r = one(klass, tmp_path, {f"{sid}.pdf": buf.getvalue()})[sid]
    assert r.status is Status.UNREADABLE and "variant AAAA-BBBB" in r.notes[0]


def flattened(data: bytes) -> bytes:
    """The PDF as 'Print to PDF' leaves it: the boxes drawn into the page, no form."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.generate_appearance_streams()
        pdf.flatten_annotations("all")
        if "/AcroForm" in pdf.Root:
            del pdf.Root["/AcroForm"]
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()


def test_a_flattened_or_printed_pdf_is_unreadable_and_says_what_to_do(klass, tmp_path):
    sid = klass.ids[0]
    data = flattened(fill(klass.sheet(sid), answers(klass, sid, False)))
    r = one(klass, tmp_path, {f"{sid}.pdf": data})[sid]
    assert r.status is Status.UNREADABLE and r.notes == (NO_FORM,)
    view = outputs.feedback_view(
        grade(klass.folder, tmp_path / "subs").manifest, (), r
    )  # the feedback tells both ways
    assert "PDF form or the answer template (CSV)" in view.paragraphs[0]
    key = klass.folder / "keys" / f"{sid}.pdf"  # a PDF of pdflatex's without a form
    with pytest.raises(Unreadable) as e:
        read_submission(key.read_bytes())
    assert str(e.value) == NO_FORM


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],
        lambda d: d[:2000],
        lambda d: d[:9] + b"\x00" * 5000 + d[5009:],
        lambda d: b"%PDF-1.5\n" + bytes(range(256)) * 40,
        lambda d: b"%PDF-",
    ],
    ids=["half", "head", "zeros", "garbage", "header-only"],
)
def test_a_damaged_pdf_is_unreadable_never_a_crash(klass, tmp_path, damage):
    sid = klass.ids[0]
    data = damage(fill(klass.sheet(sid), answers(klass, sid, False)))
    r = one(klass, tmp_path, {f"{sid}.pdf": data})[sid]
    assert r.status in (Status.UNREADABLE, Status.GRADED)  # qpdf may mend a PDF
    if r.status is Status.UNREADABLE:
        assert r.notes[0]


def test_the_latest_of_a_pdf_and_a_csv_is_graded_and_the_other_listed(klass, tmp_path):
    import os

    sid = klass.ids[0]
    rows = answers(klass, sid, False)
    buf = io.StringIO()
    csv.writer(buf).writerows([("label", "answer"), *rows.items()])
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / f"{sid}.csv").write_text(buf.getvalue())
    (subs / f"{sid}.pdf").write_bytes(fill(klass.sheet(sid), rows))
    os.utime(subs / f"{sid}.csv", (1_000_000, 1_000_000))
    run = grade(klass.folder, subs)
    r = next(r for r in run.results if r.student_id == sid)
    assert r.file == f"{sid}.pdf" and r.status is Status.GRADED
    assert any(x.status is Status.SUPERSEDED and x.file == f"{sid}.csv" for x in run.results)


def test_filled_pdfs_are_read_in_zips_and_the_lms_layouts(klass, tmp_path):
    a, b, c = klass.ids
    rows = {s: answers(klass, s, False) for s in klass.ids}
    pdfs = {s: fill(klass.sheet(s), rows[s]) for s in klass.ids}
    moodle = tmp_path / "moodle"
    folder = moodle / f"Student One_{501}_assignsubmission_file_"
    folder.mkdir(parents=True)
    (folder / "my sheet.pdf").write_bytes(pdfs[a])
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as z:
        z.writestr(f"two_{502}_7702_{b}.pdf", pdfs[b])
        z.writestr(f"three_late_{503}_7703_sheet-1.pdf", pdfs[c])
    for source in (moodle, canvas):
        run = grade(klass.folder, source)
        graded = {r.student_id for r in run.results if r.status is Status.GRADED}
        assert graded == ({a} if source == moodle else {b, c})


def test_a_filled_sheet_shows_its_answers_in_the_boxes(klass, tmp_path):
    """pdftoppm (poppler) draws the values a viewer saved in their boxes."""
    sid = klass.ids[0]
    rows = {lab: "-8.888" for lab in klass.keys(sid)}
    empty, filled = tmp_path / "empty.pdf", tmp_path / "filled.pdf"
    shutil.copy(klass.sheet(sid), empty)
    filled.write_bytes(fill(empty, rows))
    with pikepdf.open(filled) as pdf:
        rect = [float(x) for x in dict(terminal_fields(pdf))["q1.f_t[1]"].Rect]
        height = float(pdf.pages[0].mediabox[3])

    def ink(pdf: Path) -> int:
        dpi = 100
        x, y = int(rect[0] * dpi / 72), int((height - rect[3]) * dpi / 72)
        w, h = int((rect[2] - rect[0]) * dpi / 72), int((rect[3] - rect[1]) * dpi / 72)
        out = subprocess.run(
            [
                "pdftoppm",
                "-gray",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                "1",
                "-x",
                str(x),
                "-y",
                str(y),
                "-W",
                str(w),
                "-H",
                str(h),
                str(pdf),
            ],
            capture_output=True,
            check=True,
        ).stdout
        pixels = out.split(b"\n", 3)[3]  # PGM: P5, size, 255, then the bytes
        return sum(1 for p in pixels if p < 128)

    assert ink(filled) > ink(empty) + 20  # the box holds the label's descenders at most


# --- hostile and damaged PDFs ------------------------------------------------------------


def hostile(make: Callable[[pikepdf.Pdf], None]) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    make(pdf)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _field(pdf: pikepdf.Pdf, name: str, value: str, **extra: Any) -> pikepdf.Object:
    return pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Tx, T=pikepdf.String(name), V=pikepdf.String(value), **extra
        )
    )


def _form(pdf: pikepdf.Pdf, fields: list[pikepdf.Object]) -> None:
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(fields))


def test_actions_are_never_followed_and_only_the_values_read():
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("/bin/sh"))

    def make(pdf: pikepdf.Pdf) -> None:
        uri = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://127.0.0.1:9/"))
        f = _field(pdf, "q1.f_t[1]", "0.5", AA=pikepdf.Dictionary(K=js, F=launch), A=uri)
        _form(pdf, [f])
        pdf.Root.OpenAction = js

    sheet = read_submission(hostile(make))
    assert [(c.label, c.raw) for c in sheet.cells] == [("q1.f_t[1]", "0.5")]
    assert sheet.identity == ("", "")


def test_a_loop_of_kids_a_deep_tree_and_too_many_fields_are_refused_or_cut():
    def loop(pdf: pikepdf.Pdf) -> None:
        a = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("q1")))
        b = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("q2"), Parent=a))
        a.Kids = pikepdf.Array([b])
        b.Kids = pikepdf.Array([a])
        _form(pdf, [a])

    read_submission(hostile(loop))  # a loop ends; nothing is read twice

    def deep(pdf: pikepdf.Pdf) -> None:
        node = _field(pdf, "x", "1")
        for _ in range(50):
            node = pdf.make_indirect(
                pikepdf.Dictionary(T=pikepdf.String("q"), Kids=pikepdf.Array([node]))
            )
        _form(pdf, [node])

    with pytest.raises(Unreadable, match="nested"):
        read_submission(hostile(deep))

    def many(pdf: pikepdf.Pdf) -> None:
        _form(
            pdf,
            [
                pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String(f"f{k}"))
                for k in range(6000)
            ],
        )

    with pytest.raises(Unreadable, match="more than 5,000 fields"):
        read_submission(hostile(many))


def test_a_huge_value_an_encrypted_pdf_and_a_huge_file_are_handled(tmp_path):
    sheet = read_submission(
        hostile(lambda pdf: _form(pdf, [_field(pdf, "q1.f_t[1]", "9" * 100_000)]))
    )
    assert len(sheet.cells[0].raw) == 200
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "e.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(Unreadable, match="password"):
        read_submission((tmp_path / "e.pdf").read_bytes())
    with pytest.raises(Unreadable, match="larger than 20 MB"):
        read_submission(b"%PDF-1.5\n" + b" " * 20_000_001)


def test_a_trailer_that_claims_too_many_objects_is_refused():
    data = hostile(lambda pdf: _form(pdf, [_field(pdf, "q1.f_t[1]", "1")]))
    data = data.replace(b"/Size ", b"/Size 9999999", 1)
    with pytest.raises(Unreadable):
        read_submission(data)


@pytest.fixture(scope="module")
def filled_bytes(klass) -> bytes:
    sid = klass.ids[0]
    return fill(klass.sheet(sid), answers(klass, sid, False))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_damage_to_a_filled_pdf_reads_or_is_unreadable(filled_bytes, data):
    raw = bytearray(filled_bytes)
    for _ in range(data.draw(st.integers(1, 20))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + data.draw(st.integers(1, 64))] = data.draw(st.binary(max_size=64))
    cut = data.draw(st.integers(len(raw) // 3, len(raw)))
    try:
        sheet = read_submission(bytes(raw[:cut]))
    except Unreadable as e:
        assert str(e)
    else:
        assert all(isinstance(c.raw, str) and len(c.raw) <= 200 for c in sheet.cells)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.one_of(st.text(max_size=20), st.integers(-(2**31), 2**31), st.none()),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(["T", "V", "FT", "Kids", "TU", "Parent"]), inner, max_size=4
            ),
        ),
        max_leaves=30,
    )
)
def test_any_form_tree_reads_or_is_unreadable(tree):
    def obj(x: Any) -> Any:
        if isinstance(x, dict):
            return pikepdf.Dictionary({f"/{k}": obj(v) for k, v in x.items()})
        if isinstance(x, list):
            return pikepdf.Array([obj(v) for v in x])
        if isinstance(x, str):
            return pikepdf.String(x)
        return 0 if x is None else x

    def make(pdf: pikepdf.Pdf) -> None:
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([obj(tree)]))

    try:
        read_submission(hostile(make))
    except Unreadable as e:
        assert str(e)


def test_a_sheet_template_written_before_the_forms_still_prints_its_labels(tmp_path):
    """A custom sheet.tex.j2 of before (``\\answerslot{((( lab )))}``) gets the label."""
    from lstm_exam.generator.core import defaults
    from lstm_exam.generator.generate import build_manifest
    from lstm_exam.generator.render.document import render_tex

    custom = tmp_path / "my-templates"
    custom.mkdir()
    shutil.copy(
        Path(__file__).parent / "data" / "sheet-before-forms.tex.j2", custom / "sheet.tex.j2"
    )
    m, _, _ = build_manifest(load_spec(None), numbered_roster(1), defaults.DEMO_SEED)
    tex = render_tex(m, custom).tex["class-sheets"]
    assert r"\answerslot{q1.Wz\_f{[}1{]}}" in tex and "'label'" not in tex
    assert r"\answerfield{" not in tex  # its boxes are printed only


def test_a_pdf_form_without_the_id_fields_is_graded_and_flagged(klass, tmp_path):
    sid = klass.ids[0]
    with pikepdf.open(klass.sheet(sid)) as pdf:
        fields = pdf.Root.AcroForm.Fields
        for k in reversed(range(len(fields))):
            if str(fields[k].T) in ("student_id", "variant"):
                del fields[k]
        for page in pdf.pages:  # their widgets too, as a form editor deletes a field
            annots = page.obj.get("/Annots", [])
            for k in reversed(range(len(annots))):
                if str(annots[k].get("/T", "")) in ("student_id", "variant"):
                    del annots[k]
        buf = io.BytesIO()
        pdf.save(buf)
    r = one(klass, tmp_path, {f"{sid}.pdf": fill(buf.getvalue(), answers(klass, sid, False))})[sid]
    assert r.status is Status.GRADED
    assert any("no student id or variant" in f for f in r.flags)
