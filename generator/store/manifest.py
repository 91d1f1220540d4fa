"""The manifest: the instructor's private record of a worksheet, and its writer.

It holds the seed, every variant's givens and both answer chains, the tolerance and
a format version. Rendering and grading read only it, never regenerate, so an
upgrade of a library can never change a key or a grade.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lstm_exam import __version__
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.notation import is_whole
from lstm_exam.generator.core.numbers import plain, plain_tree
from lstm_exam.generator.core.solution import Value
from lstm_exam.generator.core.textfiles import shown_name
from lstm_exam.generator.core.tolerance import Tolerance, accept_bounds
from lstm_exam.generator.store.lines import Part, document_parts
from lstm_exam.generator.variants.variant import Variant

MANIFEST = "manifest.json"
#: What a worksheet folder is made of: no other run's output may replace any of it.
WORKSHEET_PARTS = (
    MANIFEST,
    "problems",
    "answer-templates",
    "keys",
    "sheets",
    "tex",
    "class-sheets.pdf",
    "class-key.pdf",
)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A generated worksheet: its settings and every student's variant."""

    title: str
    course: str
    slug: str
    decimals: int
    tolerance: Tolerance
    carry_forward: Decimal
    seed: str
    variants: tuple[Variant, ...]
    templates: str | None = None
    created: str = ""
    fillable: bool = defaults.FILLABLE
    """Whether the sheets' answer boxes are PDF form fields."""
    identity: str = ""
    """Which worksheet this is: :func:`worksheet_id` of its manifest, set when the whole
    file is read (``read_manifest``, ``read_manifest_students``; empty for a manifest made
    in memory). `grade` writes it into results.json, and `send` sends feedback only from
    grades that name it."""

    def bounds(self, label: str, value: Value) -> tuple[Decimal, Decimal]:
        """The accepted range of the answer of ``label`` (a whole number: itself).

        Computed once for a value (this very object) and this manifest's rule: the key
        CSV and the manifest line of a student ask for the same answers one after the
        other."""
        if is_whole(label):
            return value.rounded, value.rounded
        known = _BOUNDS.get(id(value))
        if known and known[0] is value and known[1] is self.tolerance and known[2] == self.decimals:
            return known[3]
        found = accept_bounds(value, self.tolerance, self.decimals)
        if len(_BOUNDS) >= _KEPT:
            _BOUNDS.clear()
        _BOUNDS[id(value)] = (value, self.tolerance, self.decimals, found)
        return found


#: The bounds of the values asked last, by the value's identity (each entry holds its
#: value, so an identity is never reused while it is kept): a student's answers.
_BOUNDS: dict[int, tuple[Value, Tolerance, int, tuple[Decimal, Decimal]]] = {}
_KEPT = 4096


def manifest_parts(manifest: Manifest, students: Sequence[str] | None = None) -> list[Part]:
    """The manifest as UTF-8 in parts: the settings, then one student a line (:mod:`lines`).

    ``students`` gives each student's line already made by :func:`student_json`
    (generate's workers make them); by default they are made from ``manifest.variants``.
    """
    if students is None:
        students = [student_json(manifest, v) for v in manifest.variants]
    return document_parts(_json(_header(manifest)), "students", [[s.encode()] for s in students])


def student_json(manifest: Manifest, variant: Variant) -> str:
    """One student's line of the manifest: roster entry, givens, both chains."""
    problems = []
    for vp in variant.problems:
        sol = vp.solution
        asked = set(sol.asked)
        values = {}
        for label, val in sol.values.items():
            entry: dict[str, Any] = {"full": val.full, "rounded": plain(val.rounded)}
            if label in asked:
                lo, hi = manifest.bounds(label, val)
                entry |= {
                    "asked": True,
                    "accept_min": plain(lo),
                    "accept_max": plain(hi),
                }
            values[label] = entry
        problem: dict[str, Any] = {
            "number": vp.number,
            "kind": str(vp.problem.kind),
            "points": plain(vp.points),
            "decimals": sol.decimals,
            "show_steps": vp.problem.show_steps,
        }
        if not vp.formulas:  # written only when off: a manifest of the default is unchanged
            problem["formulas"] = False
        problems.append(
            problem
            | {
                "draws": vp.draws,
                "givens": {k: _given_text(g) for k, g in vp.problem.givens.items()},
                "values": values,
            }
        )
    return _json(
        {
            "student_id": variant.student.student_id,
            "name": variant.student.name,
            "extra": dict(variant.student.extra),
            "variant": variant.code,
            "problems": problems,
        }
    )


def _given_text(given: Any) -> Any:
    """:func:`plain_tree` of a given: a drawn number is one of its grid's few (the same
    Decimal objects, :mod:`variants.draw`), written out once by its identity."""
    if isinstance(given, Decimal):
        known = _GIVEN_TEXT.get(id(given))
        if known is not None and known[0] is given:
            return known[1]
        text = plain_tree(given)
        if len(_GIVEN_TEXT) >= _KEPT:
            _GIVEN_TEXT.clear()
        _GIVEN_TEXT[id(given)] = (given, text)
        return text
    return [_given_text(entry) for entry in given]


#: The text of the given numbers written last, by the number's identity (each entry holds
#: its number, so an identity is never reused while it is kept).
_GIVEN_TEXT: dict[int, tuple[Decimal, str]] = {}


def _json(doc: Any) -> str:
    # compact: the C encoder is ten times faster than the indenting one on a large class
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def student_json_text(doc: Mapping[str, Any]) -> str:
    """A student's parsed JSON written again as :func:`student_json` writes it."""
    return _json(doc)


def _header(manifest: Manifest) -> dict[str, Any]:
    return {
        "format": defaults.MANIFEST_FORMAT,
        "format_version": defaults.MANIFEST_VERSION,
        "generator": f"lstm-exam {__version__}",
        "created": manifest.created,
        "private": "This file holds the secret seed and every answer: never share it with students.",
        "title": manifest.title,
        "course": manifest.course,
        "slug": manifest.slug,
        "seed": manifest.seed,
        "decimals": manifest.decimals,
        "tolerance": {manifest.tolerance.mode: plain(manifest.tolerance.amount)},
        "carry_forward": plain(manifest.carry_forward),
        # a path in any bytes (a folder name that is not UTF-8) as JSON can hold it: the
        # manifest only records it, render takes templates from its command line alone
        "templates": None if manifest.templates is None else shown_name(manifest.templates),
        # written only when off: a manifest without it (every older one) is fillable
        **({} if manifest.fillable else {"fillable": False}),
    }


#: What `grade` writes into its output folder: results.json names the worksheet it graded.
RESULTS = "results.json"


def worksheet_id(seed: str, settings: Mapping[str, Any], students: Iterable[Part]) -> str:
    """A worksheet's identity: HMAC-SHA256, keyed with its seed, of its settings (the
    time stamp ``created`` left out: two runs that write the same worksheet are the same
    worksheet) and each student's JSON as :func:`student_json` writes it (one line of the
    manifest). It names this manifest, every student, name, variant and number in it,
    whatever its layout, and reveals nothing of the seed.

    >>> a = worksheet_id("seed-1234", {"created": "2026-01-01", "x": 1}, [b'{"s":1}'])
    >>> a == worksheet_id("seed-1234", {"created": "2027-05-05", "x": 1}, [b'{"s":1}'])
    True
    >>> a == worksheet_id("seed-1234", {"created": "2026-01-01", "x": 1}, [b'{"s":2}'])
    False
    >>> a == worksheet_id("seed-5678", {"created": "2026-01-01", "x": 1}, [b'{"s":1}'])
    False
    """
    mac = hmac.new(seed.encode(), b"lstm-exam worksheet id\x1f", hashlib.sha256)
    kept = {k: v for k, v in settings.items() if k not in ("created", "students")}
    mac.update(_json(kept).encode())
    for s in students:
        mac.update(b"\x1e")
        mac.update(s)
    return mac.hexdigest()[:32]


def now() -> str:
    """The time stamp written into a manifest."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
