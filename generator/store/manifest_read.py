"""Reading a manifest back: the settings, then each student as far as is needed."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import Kind
from lstm_exam.generator.core.numbers import out_of_bounds
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.solution import Solution, Value, asked_labels
from lstm_exam.generator.core.tolerance import Tolerance
from lstm_exam.generator.runtime import gc_paused
from lstm_exam.generator.spec.roster import Student, id_fault
from lstm_exam.generator.spec.validate import read_capped
from lstm_exam.generator.store.lines import item_spans
from lstm_exam.generator.store.manifest import MANIFEST, Manifest, student_json_text, worksheet_id
from lstm_exam.generator.store.schema import settings_fault, student_fault
from lstm_exam.generator.variants.variant import Variant, VariantProblem


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


def read_manifest(folder: Path) -> tuple[Manifest, list[dict[str, Any]]]:
    """The manifest's settings (``variants`` empty) and its students as parsed JSON.

    For a large class: :func:`variant_from_json` builds one student's variant when
    it is needed (grading does so in its worker processes).
    """
    path = folder / MANIFEST
    data = _read(path)
    doc = _parse(str(path), data)
    header = _settings(str(path), doc)
    students = doc["students"]
    # each student's JSON as the one-student-a-line layout writes it: the same identity
    lines = (student_json_text(s).encode() for s in students)
    header = replace(header, identity=worksheet_id(header.seed, doc, lines))
    for i, s in enumerate(students):
        _check_student(str(path), f"students[{i}]", s)
    _unique(str(path), [(s["student_id"], 1) for s in students])
    return header, students


@dataclass(frozen=True, slots=True)
class ManifestStudent:
    """One student of a manifest, read only as far as matching files to students needs.

    The rest (givens, both chains) stays JSON text until :func:`student_doc` parses
    it, so a large class is parsed one student at a time (grading: in its workers).
    """

    student: Student
    """The roster entry."""
    source: bytes | Mapping[str, Any]
    """The manifest's text, the student's JSON at ``span`` of it; or the student's parsed
    JSON (a manifest in another layout, such as the older one on one line)."""
    file: str
    line: int
    """The line of the manifest the student is on (1-based); in another layout, the
    student's place in the list of students (1-based)."""
    span: tuple[int, int] = (0, 0)
    variant: str = ""
    """The variant's code, as the manifest gives it."""


def read_manifest_students(folder: Path) -> tuple[Manifest, list[ManifestStudent]]:
    """The manifest's settings and its students, each parsed only as far as its roster entry.

    A manifest with one student per line (:func:`~lstm_exam.generator.store.manifest.manifest_parts`) is cut into lines and
    each student's line is parsed in full only by :func:`student_doc`; any other layout
    of the same JSON (older manifests are on one line) is parsed at once.

    Raises:
        InputError: as :func:`read_manifest`; a damaged roster entry names its line.
    """
    path = folder / MANIFEST
    file = str(path)
    data = _read(path)
    spans = item_spans(data, "students")
    if spans is None:
        header, docs = read_manifest(folder)
        return header, [_roster_entry(file, i + 1, s, s) for i, s in enumerate(docs)]
    settings = _parse(file, data[: data.find(b"\n")] + b"]}")  # as read_settings
    header = _settings(file, settings)
    view = memoryview(data)
    lines = (view[start:stop] for _, (start, stop) in spans)
    header = replace(header, identity=worksheet_id(header.seed, settings, lines))
    students = [
        _roster_entry(file, line, data, _prefix(file, line, data, span), span)
        for line, span in spans
    ]
    _unique(file, [(s.student.student_id, s.line) for s in students])
    return header, students


#: What a damaged student's JSON raises on the way to a variant.
_DAMAGE = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)


@contextlib.contextmanager
def reading(student: ManifestStudent) -> Iterator[None]:
    """Inside, a fault found in the student's JSON is the one-line error naming its line."""
    try:
        yield
    except _DAMAGE as e:
        place = (
            f"line {student.line}"
            if isinstance(student.source, bytes)
            else f"students[{student.line - 1}]"
        )
        raise InputError(
            student.file, place, f"damaged manifest ({type(e).__name__}: {e})"
        ) from None


def read_settings(folder: Path) -> Manifest:
    """The manifest's settings alone (``variants`` empty): in the one-student-a-line
    layout only the first line is parsed."""
    path = folder / MANIFEST
    data = _read(path)
    first = data.find(b"\n")
    if first > 0 and data[:first].endswith(b'"students":['):
        return _settings(str(path), _parse(str(path), data[:first] + b"]}"))
    return _settings(str(path), _parse(str(path), data))


def _unique(file: str, ids: list[tuple[str, int]]) -> None:
    """Refuse a manifest that names a student twice (ids compared without case, as files
    are matched): one file would be graded for two students and their feedback mixed.

    ``ids`` are (student id, line); line 1 for a manifest all on one line."""
    seen: dict[str, int] = {}
    for sid, line in ids:
        key = sid.lower()
        if key in seen:
            if line > 1:
                raise InputError(
                    file, f"line {line}", f"student id {sid!r} repeats line {seen[key]}"
                )
            raise InputError(file, "", f"damaged manifest (student id {sid!r} twice)")
        seen[key] = line


def _prefix(file: str, line: int, data: bytes, span: tuple[int, int]) -> Mapping[str, Any]:
    """The roster entry at the start of a student's line (student_json writes it first).

    A quote inside a JSON string is always escaped, so ``,"problems":[`` is the key.
    """
    start, stop = span
    end = data.find(b',"problems":[', start, min(stop, start + 100_000))
    if end > 0:
        with contextlib.suppress(ValueError, RecursionError):
            entry = json.loads(data[start:end] + b"}")
            if isinstance(entry, dict) and "student_id" in entry and "name" in entry:
                return entry
    return _parse_line(file, line, data[start:stop])


def _roster_entry(
    file: str,
    line: int,
    source: bytes | Mapping[str, Any],
    entry: Mapping[str, Any],
    span: tuple[int, int] = (0, 0),
) -> ManifestStudent:
    place = f"line {line}" if isinstance(source, bytes) else f"students[{line - 1}]"
    _check_student(file, place, entry, "roster_entry")
    variant = entry.get("variant", "")
    return ManifestStudent(
        student_from_json(entry),
        source,
        file,
        line,
        span,
        variant if isinstance(variant, str) else "",
    )


def student_doc(student: ManifestStudent) -> Mapping[str, Any]:
    """A student's parsed JSON: givens, both chains.

    Raises:
        InputError: naming the manifest and the line when the line is no JSON object.
    """
    if isinstance(student.source, bytes):
        start, stop = student.span
        doc = _parse_line(student.file, student.line, student.source[start:stop])
        _check_student(student.file, f"line {student.line}", doc)
        return doc
    return student.source  # checked by read_manifest


def _check_student(file: str, place: str, doc: Any, part: str = "student") -> None:
    """Refuse a student's JSON (or its roster entry: ``part``) that breaks the manifest's
    schema or has an unsafe id."""
    fault = student_fault(doc, part)
    if fault is not None:
        path, what = fault
        raise InputError(file, f"{place}, {path}" if path else place, f"damaged manifest: {what}")
    why = id_fault(doc["student_id"])
    if why:
        raise InputError(file, f"{place}, student_id", f"damaged manifest: {why}")


def _parse_line(file: str, line: int, text: bytes) -> dict[str, Any]:
    try:
        # orjson: twice as quick as json on a student's 25 KB line, the same objects;
        # it refuses NaN and Infinity, and nesting deeper than 1024
        doc = orjson.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            file, f"line {line}", f"damaged manifest ({e.msg} at column {e.colno})"
        ) from None
    except UnicodeDecodeError as e:
        raise InputError(file, f"line {line}", f"damaged manifest ({e})") from None
    if not isinstance(doc, dict):
        raise InputError(file, f"line {line}", "damaged manifest (a student is no JSON object)")
    return doc


def _read(path: Path) -> bytes:
    if not path.exists() and not path.is_symlink():
        raise InputError(
            str(path), "", "no manifest here: is this a folder made by `lstm-exam generate`?"
        )
    return read_capped(path, defaults.MAX_MANIFEST_BYTES, "manifest")


def _parse(file: str, data: bytes) -> Any:
    try:
        with gc_paused():
            return json.loads(data, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError, or 5000 digits
        raise InputError(file, "", f"unreadable manifest ({e})") from None
    except RecursionError:
        raise InputError(file, "", "unreadable manifest (nested too deeply)") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no number a manifest holds")


def _settings(file: str, doc: Any) -> Manifest:
    """The settings of a parsed manifest (``variants`` empty), its format checked."""
    if not isinstance(doc, dict) or doc.get("format") != defaults.MANIFEST_FORMAT:
        raise InputError(file, "format", "not an lstm-exam manifest")
    if doc.get("format_version") != defaults.MANIFEST_VERSION:
        raise InputError(
            file,
            "format_version",
            f"version {doc.get('format_version')} is not "
            f"supported (this lstm-exam reads {defaults.MANIFEST_VERSION})",
        )
    fault = settings_fault(doc)
    if fault is not None:
        raise InputError(file, fault[0], f"damaged manifest: {fault[1]}")
    try:
        ((mode, amount),) = doc["tolerance"].items()
        if not isinstance(doc["students"], list):
            raise TypeError("students is no list")
        if mode not in ("absolute", "relative"):
            raise ValueError(f"tolerance {mode!r} is neither absolute nor relative")
        tolerance = _number(amount, "tolerance")
        carry_forward = _number(doc["carry_forward"], "carry_forward")
        if tolerance <= 0 or not 0 <= carry_forward <= 1:
            raise ValueError("tolerance or carry_forward out of range")
        return Manifest(
            doc["title"],
            doc["course"],
            doc["slug"],
            _places(doc["decimals"]),
            Tolerance(mode, tolerance),
            carry_forward,
            doc["seed"],
            (),
            doc.get("templates"),
            doc.get("created", ""),
            doc.get("fillable", defaults.FILLABLE) is not False,
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise InputError(file, "", f"damaged manifest ({type(e).__name__}: {e})") from None


def _number(value: Any, what: str) -> Decimal:
    """A number of the manifest's settings, within the bounds of every number a user gives."""
    d = Decimal(value) if isinstance(value, str) else Decimal("NaN")
    why = out_of_bounds(d, defaults.MAX_DIGITS, defaults.MAX_PLACES)
    if why is not None:
        raise ValueError(f"{what} {value!r}: {why}")
    return d


def _places(value: Any) -> int:
    """A number of decimal places: a whole number from 0 to 8."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 8:
        raise ValueError(f"decimals {value!r} is not a whole number from 0 to 8")
    return value


def student_from_json(doc: Mapping[str, Any]) -> Student:
    """The roster entry of one manifest student."""
    return Student(doc["student_id"], doc["name"], MappingProxyType(dict(doc.get("extra", {}))))


def variant_from_json(doc: Mapping[str, Any], asked_only: bool = False) -> Variant:
    """One student's variant from the manifest's JSON.

    ``asked_only`` keeps only the asked values (all grading needs: it recomputes
    from the givens), which makes a large class quicker to load; the givens are then
    turned into exact decimals only when first used (a correct sheet never needs them).
    """
    student = student_from_json(doc)
    problems = []
    if not doc["problems"]:
        raise ValueError(f"student {student.student_id} has no problems")
    for p in doc["problems"]:
        kind = Kind(p["kind"])
        raw = p["givens"]
        givens = (
            _Givens(raw)
            if asked_only
            else MappingProxyType({k: _dec_tree(v) for k, v in raw.items()})
        )
        dec = _places(p["decimals"])
        problem = Problem(kind, givens, dec, bool(p["show_steps"]))
        values = {}
        accept = {}
        for lab, e in p["values"].items():
            if e.get("asked"):
                values[lab] = Value(float(e["full"]), Decimal(e["rounded"]))
                lo, hi = accept[lab] = (Decimal(e["accept_min"]), Decimal(e["accept_max"]))
                if lo > hi:
                    raise ValueError(f"{lab}: accept_min {lo} is above accept_max {hi}")
            elif not asked_only:
                values[lab] = Value(float(e["full"]), Decimal(e["rounded"]))
        sol = Solution(
            kind,
            dec,
            MappingProxyType(values),
            _asked_labels(kind, tuple(values), problem.show_steps),
        )
        problems.append(
            VariantProblem(
                int(p["number"]),
                _number(p["points"], "points"),
                problem,
                sol,
                int(p.get("draws", 1)),
                MappingProxyType(accept),
                bool(p.get("formulas", True)),
            )
        )
    return Variant(student, doc["variant"], tuple(problems))


@functools.lru_cache(maxsize=1024)
def _asked_labels(kind: Kind, labels: tuple[str, ...], show_steps: bool) -> tuple[str, ...]:
    """:func:`asked_labels`, once per shape of problem (every variant has the same labels)."""
    return asked_labels(kind, labels, show_steps)


class _Givens(Mapping[str, Any]):
    """A problem's givens as read from JSON, each turned into exact decimals when first used.

    Read-only like the MappingProxyType it stands for; the conversion is kept.
    """

    __slots__ = ("_done", "_raw")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self._done: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._done[name]
        except KeyError:
            value = self._done[name] = _dec_tree(self._raw[name])
            return value

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"_Givens({dict(self)!r})"
