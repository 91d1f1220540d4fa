"""Canvas's QTI 1.2 package (pure): ``imsmanifest.xml`` and one assessment.

Each asked value is one ``numerical_question`` item (Canvas's multiple-blank questions
take text, no numeric tolerance) whose condition is the key's accepted window:
``<or><varequal>centre</varequal><and><vargte>lo</vargte><varlte>hi</varlte></and></or>``,
which Canvas imports as an exact answer ``centre`` with margin ``hi − centre`` (its
qti_exporter, ``Qti::NumericInteraction#get_canvas_answers``): exactly [lo, hi]. The items
of one variant's problem form a section, imported as a question group that draws all of
them (``selection_number``) at the problem's points shared out (``points_per_item``).

Canvas draws questions, not sets: a group picks single questions, and a group inside a
group is flattened on import (``Qti::AssessmentTestConverter#process_section``), so no
package can make Canvas draw one variant's whole set at random; docs/quiz.md says what to
do instead. Every numerical answer Canvas imports scores 100%, so the usual mistakes are
left out (they would count as correct).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from lstm_exam.generator.core.notation import KINDS
from lstm_exam.generator.core.numbers import normal, plain
from lstm_exam.generator.quiz.html import blank_words, givens_html, heading_html
from lstm_exam.generator.quiz.items import Item
from lstm_exam.generator.store.manifest import Manifest

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
#: The places a share of a problem's points is written to.
POINT_PLACES = 4
#: A fixed time stamp for the zip's members: the package is the same byte for byte.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _field(label: str, entry: str) -> str:
    return (
        f"<qtimetadatafield><fieldlabel>{label}</fieldlabel>"
        f"<fieldentry>{xml_escape(entry)}</fieldentry></qtimetadatafield>"
    )


def points_per_item(item: Item) -> Decimal:
    """A problem's points shared out over its items, to ``POINT_PLACES`` places."""
    share = item.vp.points / max(1, len(item.blanks))
    return share.quantize(Decimal(1).scaleb(-POINT_PLACES)).normalize()


def _item(item: Item, index: int, points: str, text: str) -> str:
    b = item.blanks[index]
    ident = f"{item.variant}-q{item.vp.number}-{index + 1}"
    prompt = f"{text}<p>Give {blank_words(b.label)}:</p>"
    return (
        f"<item ident={quoteattr(ident)} title={quoteattr(f'{item.variant} {b.label}')}>"
        "<itemmetadata><qtimetadata>"
        + _field("question_type", "numerical_question")
        + _field("points_possible", points)
        + _field("original_answer_ids", f"{ident}-a")
        + "</qtimetadata></itemmetadata>"
        f'<presentation><material><mattext texttype="text/html">{xml_escape(prompt)}'
        "</mattext></material>"
        '<response_str ident="response1" rcardinality="Single">'
        '<render_fib fibtype="Decimal"><response_label ident="answer1"/></render_fib>'
        "</response_str></presentation>"
        "<resprocessing><outcomes>"
        '<decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/>'
        '</outcomes><respcondition continue="No"><conditionvar><or>'
        f'<varequal respident="response1">{plain(b.centre)}</varequal>'
        f'<and><vargte respident="response1">{plain(b.lo)}</vargte>'
        f'<varlte respident="response1">{plain(b.hi)}</varlte></and>'
        '</or></conditionvar><setvar action="Set" varname="SCORE">100</setvar>'
        "</respcondition></resprocessing></item>"
    )


def _section(item: Item) -> str:
    points = plain(points_per_item(item))
    text = heading_html(item.vp, item.variant) + givens_html(item.vp)
    title = f"{item.variant} problem {item.vp.number}: {KINDS[item.vp.problem.kind].title}"
    return (
        f"<section ident={quoteattr(f'{item.variant}-q{item.vp.number}')} title={quoteattr(title)}>"
        "<selection_ordering><selection>"
        f"<selection_number>{len(item.blanks)}</selection_number>"
        f"<selection_extension><points_per_item>{points}</points_per_item>"
        "</selection_extension></selection></selection_ordering>"
        + "".join(_item(item, k, points, text) for k in range(len(item.blanks)))
        + "</section>"
    )


def variant_section(items: Sequence[Item]) -> str:
    """One variant's section: a group per problem."""
    variant = items[0].variant
    return (
        f"<section ident={quoteattr(variant)} title={quoteattr(f'Variant {variant}')}>"
        + "".join(_section(i) for i in items)
        + "</section>"
    )


def assessment_xml(manifest: Manifest, ident: str, sections: Sequence[str], points: Decimal) -> str:
    """The assessment: a section per variant (``sections``), in it a group per problem;
    ``points``: a variant's points."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<questestinterop xmlns="{QTI_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd">'
        f"<assessment ident={quoteattr(ident)} title={quoteattr(manifest.title)}>"
        "<qtimetadata>"
        + _field("cc_maxattempts", "1")
        + _field("qmd_timelimit", "")
        + f"</qtimetadata><!-- {len(sections)} variants, {xml_escape(normal(points))} points each -->"
        f'<section ident="root_section">{"".join(sections)}</section>'
        "</assessment></questestinterop>\n"
    )


def manifest_xml(ident: str, title: str) -> str:
    """imsmanifest.xml: the one assessment as a QTI 1.2 resource."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest identifier={quoteattr(ident + "-manifest")} xmlns="{CP_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<metadata><schema>IMS Content</schema><schemaversion>1.1.3</schemaversion>"
        f"<lom><general><title><string>{xml_escape(title)}</string></title></general></lom>"
        "</metadata><organizations/><resources>"
        f'<resource identifier={quoteattr(ident)} type="imsqti_xmlv1p2">'
        f"<file href={quoteattr(f'{ident}/{ident}.xml')}/></resource>"
        "</resources></manifest>\n"
    )


def canvas_pieces(items: Sequence[Item]) -> list[str]:
    """A variant's part of the package (what :func:`canvas_document` joins)."""
    return [variant_section(items)]


def canvas_document(manifest: Manifest, pieces: Sequence[Sequence[str]], points: Decimal) -> bytes:
    """The package, deterministic (fixed member times and order)."""
    ident = f"{manifest.slug}-quiz"
    members = {
        "imsmanifest.xml": manifest_xml(ident, manifest.title),
        f"{ident}/{ident}.xml": assessment_xml(
            manifest, ident, [p for ps in pieces for p in ps], points
        ),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def canvas_zip(manifest: Manifest, variants: Sequence[Sequence[Item]]) -> bytes:
    """:func:`canvas_document` of these variants' items."""
    points = sum((i.vp.points for i in variants[0]), Decimal(0)) if variants else Decimal(0)
    return canvas_document(manifest, [canvas_pieces(its) for its in variants], points)
