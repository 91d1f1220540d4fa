"""The manifest: the instructor's private record of a worksheet.

It holds the seed, every variant's givens and both answer chains, the
tolerance and a format version. Rendering and grading read only it, never
regenerate, so an upgrade of a library can never change a key or a grade.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lstm_exam import __version__

from . import defaults
from .accept import accept_bounds
from .errors import InputError
from .notation import Kind, describe_label
from .problem import Problem
from .roster import Student, id_fault
from .solve import Solution, Value, asked_labels
from .spec import Tolerance
from .variants import Variant, VariantProblem

MANIFEST = "manifest.json"


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

    def bounds(self, value: Value) -> tuple[Decimal, Decimal]:
        """The accepted range of one answer."""
        return accept_bounds(value, self.tolerance, self.decimals)


def _num(d: Any) -> Any:
    if isinstance(d, Decimal):
        return format(d, "f")
    return [_num(e) for e in d]


def manifest_json(m: Manifest, students: Sequence[str] | None = None) -> str:
    """The manifest as JSON text: the settings, then one student per line.

    ``students`` gives each student's line already made by :func:`student_json`
    (generate's workers make them); by default they are made from ``m.variants``.
    Every line but the first and the last is one student, so a reader can take
    the students one at a time; the text is one JSON document all the same.
    """
    if students is None:
        students = [student_json(m, v) for v in m.variants]
    lines = "".join(f"{s},\n" for s in students[:-1]) + (f"{students[-1]}\n" if students else "")
    return _json(_header(m))[:-1] + ',"students":[\n' + lines + "]}\n"


def student_json(m: Manifest, v: Variant) -> str:
    """One student's line of the manifest: roster entry, givens, both chains."""
    problems = []
    for vp in v.problems:
        sol = vp.solution
        asked = set(sol.asked)
        values = {}
        for label, val in sol.values.items():
            entry: dict[str, Any] = {"full": val.full, "rounded": format(val.rounded, "f")}
            if label in asked:
                lo, hi = m.bounds(val)
                entry |= {
                    "asked": True,
                    "accept_min": format(lo, "f"),
                    "accept_max": format(hi, "f"),
                }
            values[label] = entry
        problems.append(
            {
                "number": vp.number,
                "kind": str(vp.problem.kind),
                "points": format(vp.points, "f"),
                "decimals": sol.decimals,
                "show_steps": vp.problem.show_steps,
                "draws": vp.draws,
                "givens": {k: _num(g) for k, g in vp.problem.givens.items()},
                "values": values,
            }
        )
    return _json(
        {
            "student_id": v.student.student_id,
            "name": v.student.name,
            "extra": dict(v.student.extra),
            "variant": v.code,
            "problems": problems,
        }
    )


def _json(doc: Any) -> str:
    # compact: the C encoder is ten times faster than the indenting one on a large class
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _header(m: Manifest) -> dict[str, Any]:
    return {
        "format": defaults.MANIFEST_FORMAT,
        "format_version": defaults.MANIFEST_VERSION,
        "generator": f"lstm-exam {__version__}",
        "created": m.created,
        "private": "This file holds the secret seed and every answer: never share it with students.",
        "title": m.title,
        "course": m.course,
        "slug": m.slug,
        "seed": m.seed,
        "decimals": m.decimals,
        "tolerance": {m.tolerance.mode: format(m.tolerance.amount, "f")},
        "carry_forward": format(m.carry_forward, "f"),
        "templates": m.templates,
    }


def now() -> str:
    """The time stamp written into a manifest."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _dec_tree(x: Any) -> Any:
    if isinstance(x, str):
        return Decimal(x)
    return tuple(_dec_tree(e) for e in x)


def load_manifest(folder: Path) -> Manifest:
    """Read ``folder/manifest.json`` back into a Manifest with every variant.

    Raises:
        InputError: when it is missing, of another format or version, or damaged.
    """
    header, students = read_manifest(folder)
    try:
        return replace(header, variants=tuple(variant_from_json(s) for s in students))
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise InputError(
            str(folder / MANIFEST), "", f"damaged manifest ({type(e).__name__}: {e})"
        ) from None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing builds millions of objects and no cycles: the collector would only rescan them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_manifest(folder: Path) -> tuple[Manifest, list[dict[str, Any]]]:
    """The manifest's settings (``variants`` empty) and its students as parsed JSON.

    For a large class: :func:`variant_from_json` builds one student's variant when
    it is needed (grading does so in its worker processes).
    """
    path = folder / MANIFEST
    file = str(path)
    try:
        with _gc_paused():
            doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            file, "", "no manifest here: is this a folder made by `lstm-exam generate`?"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(file, "", f"unreadable manifest ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != defaults.MANIFEST_FORMAT:
        raise InputError(file, "format", "not an lstm-exam manifest")
    if doc.get("format_version") != defaults.MANIFEST_VERSION:
        raise InputError(
            file,
            "format_version",
            f"version {doc.get('format_version')} is not "
            f"supported (this lstm-exam reads {defaults.MANIFEST_VERSION})",
        )
    try:
        ((mode, amount),) = doc["tolerance"].items()
        students = doc["students"]
        for s in students:
            if id_fault(s["student_id"]):
                raise ValueError(f"unsafe student id {s['student_id']!r}")
        header = Manifest(
            doc["title"],
            doc["course"],
            doc["slug"],
            int(doc["decimals"]),
            Tolerance(mode, Decimal(amount)),
            Decimal(doc["carry_forward"]),
            doc["seed"],
            (),
            doc.get("templates"),
            doc.get("created", ""),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise InputError(file, "", f"damaged manifest ({type(e).__name__}: {e})") from None
    return header, students


def student_from_json(s: Mapping[str, Any]) -> Student:
    """The roster entry of one manifest student."""
    return Student(s["student_id"], s["name"], MappingProxyType(dict(s.get("extra", {}))))


def variant_from_json(s: Mapping[str, Any], asked_only: bool = False) -> Variant:
    """One student's variant from the manifest's JSON.

    ``asked_only`` keeps only the asked values (all grading needs: it recomputes
    from the givens), which makes a large class quicker to load.
    """
    student = student_from_json(s)
    problems = []
    for p in s["problems"]:
        kind = Kind(p["kind"])
        givens = MappingProxyType({k: _dec_tree(v) for k, v in p["givens"].items()})
        dec = int(p["decimals"])
        problem = Problem(kind, givens, dec, bool(p["show_steps"]))
        values = {
            lab: Value(float(e["full"]), Decimal(e["rounded"]))
            for lab, e in p["values"].items()
            if not asked_only or e.get("asked")
        }
        accept = {
            lab: (Decimal(e["accept_min"]), Decimal(e["accept_max"]))
            for lab, e in p["values"].items()
            if e.get("asked")
        }
        sol = Solution(
            kind,
            dec,
            MappingProxyType(values),
            asked_labels(kind, list(values), problem.show_steps),
        )
        problems.append(
            VariantProblem(
                int(p["number"]),
                Decimal(p["points"]),
                problem,
                sol,
                int(p.get("draws", 1)),
                MappingProxyType(accept),
            )
        )
    return Variant(student, s["variant"], tuple(problems))


def describe(label: str) -> str:
    """The description column of a CSV row."""
    q, _, _ = label.partition(".")
    return f"Problem {q[1:]}: {describe_label(label)}"
