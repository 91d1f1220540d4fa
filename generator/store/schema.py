"""The manifest's JSON Schema, built from the program's own limits, and checking against it.

``docs/manifest.schema.json`` is this schema written out (a test keeps the two equal;
``python -m lstm_exam.generator.store.schema > docs/manifest.schema.json`` rewrites it).
The schema checks every field's type and every number's shape and bounds, so a number
is never read from text that would be written out long; what a schema cannot say (the
shapes of a kind's givens, each student id's safety) the reader checks after it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.notation import Kind

#: The most digits a value of the chains has before and after its point: twice the
#: given numbers' (a value is a sum of products of them), with room to spare.
VALUE_DIGITS, VALUE_PLACES = 2 * defaults.MAX_DIGITS + 8, 2 * defaults.MAX_PLACES + 8


def _decimal(digits: int, places: int, what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": rf"^-?[0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?$",
        "description": f"a decimal number in quotes, written plainly (no exponent), with "
        f"at most {digits} digits before its point and {places} after ({what})",
    }


def _text(most: int, what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": most,
        "description": f"a text of at most {most} characters ({what})",
    }


def _whole(least: int, most: int, what: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": least,
        "maximum": most,
        "description": f"a whole number from {least} to {most} ({what})",
    }


def _given(items: dict[str, Any]) -> dict[str, Any]:
    """A given: a number, or an array of ``items`` (a vector, or a matrix's rows)."""
    number = _decimal(defaults.MAX_DIGITS, defaults.MAX_PLACES, "")
    return {
        "type": ["string", "array"],
        "pattern": number["pattern"],
        "items": items,
        "description": "a number in quotes, or a vector or matrix of them, each written "
        f"plainly (no exponent) with at most {defaults.MAX_DIGITS} digits before its point "
        f"and {defaults.MAX_PLACES} after (a given)",
    }


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``manifest.json``."""
    given = {"$ref": "#/$defs/given"}
    value_number = {"$ref": "#/$defs/value_number"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lstm-exam.example/manifest.schema.json",
        "title": "lstm-exam manifest",
        "description": "The instructor's private record of a worksheet (docs/formats.md): "
        "the settings, then one student a line. It holds the secret seed.",
        "type": "object",
        "required": [
            "format",
            "format_version",
            "title",
            "course",
            "slug",
            "seed",
            "decimals",
            "tolerance",
            "carry_forward",
            "students",
        ],
        "properties": {
            "format": {"const": defaults.MANIFEST_FORMAT},
            "format_version": {"const": defaults.MANIFEST_VERSION},
            "generator": _text(200, "the program and version that wrote it"),
            "created": _text(100, "when it was written (ISO 8601, UTC)"),
            "private": _text(200, "a warning to whoever opens it"),
            "title": _text(200, "the worksheet's title"),
            "course": _text(200, "the course"),
            "slug": _text(200, "the title as a folder name"),
            "seed": _text(200, "the secret seed every variant is drawn from"),
            "decimals": _whole(0, 8, "decimal places of every answer"),
            "tolerance": {
                "type": "object",
                "description": 'an object {"absolute": "0.001"} or {"relative": "0.01"} '
                "(how far an answer may be from the correct value)",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
                "properties": {
                    "absolute": {"$ref": "#/$defs/number"},
                    "relative": {"$ref": "#/$defs/number"},
                },
            },
            "carry_forward": {"$ref": "#/$defs/number"},
            "templates": {
                "type": ["string", "null"],
                "maxLength": 4096,
                "description": "a text or null (the folder of custom templates it was made with)",
            },
            "fillable": {
                "type": "boolean",
                "description": "false when the sheets have no form fields (absent: true)",
            },
            "students": {"type": "array", "items": {"$ref": "#/$defs/student"}},
        },
        "$defs": {
            "number": _decimal(defaults.MAX_DIGITS, defaults.MAX_PLACES, "a setting"),
            "given_number": _decimal(defaults.MAX_DIGITS, defaults.MAX_PLACES, "a given"),
            "value_number": _decimal(VALUE_DIGITS, VALUE_PLACES, "a value"),
            "given": _given({"$ref": "#/$defs/given_entry"}),
            "given_entry": _given({"$ref": "#/$defs/given_number"}),
            "roster_entry": {
                "type": "object",
                "required": ["student_id", "name"],
                "properties": {
                    "student_id": _text(200, "the roster's student id"),
                    "name": _text(defaults.MAX_NAME_CHARS, "the roster's name"),
                    "extra": {
                        "type": "object",
                        "description": "an object of texts (the roster's other columns)",
                        "additionalProperties": {"type": "string"},
                    },
                },
            },
            "student": {
                "type": "object",
                "allOf": [{"$ref": "#/$defs/roster_entry"}],
                "required": ["variant", "problems"],
                "properties": {
                    "variant": _text(100, "the variant's code"),
                    "problems": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/problem"},
                    },
                },
            },
            "problem": {
                "type": "object",
                "required": [
                    "number",
                    "kind",
                    "points",
                    "decimals",
                    "show_steps",
                    "givens",
                    "values",
                ],
                "properties": {
                    "number": _whole(1, defaults.MAX_COUNT, "the problem's number"),
                    "kind": {"enum": [str(k) for k in Kind], "description": "its kind"},
                    "points": {"$ref": "#/$defs/number"},
                    "decimals": _whole(0, 8, "decimal places of its answers"),
                    "show_steps": {"type": "boolean"},
                    "formulas": {
                        "type": "boolean",
                        "description": "whether the sheet prints the formulas (absent: true)",
                    },
                    "draws": _whole(1, defaults.MAX_DRAWS, "draws the search took"),
                    "givens": {"type": "object", "additionalProperties": given},
                    "values": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/value"},
                    },
                },
            },
            "value": {
                "type": "object",
                "required": ["full", "rounded"],
                "dependentRequired": {"asked": ["accept_min", "accept_max"]},
                "properties": {
                    "full": {
                        "type": "number",
                        "minimum": -1e300,
                        "maximum": 1e300,
                        "description": "a number below 1e300 in size (the value in float64)",
                    },
                    "rounded": value_number,
                    "asked": {"const": True},
                    "accept_min": value_number,
                    "accept_max": value_number,
                },
            },
        },
    }


@functools.cache
def _validator(part: str) -> Any:
    """A compiled validator of the manifest (``part`` "") or of one of its ``$defs``."""
    import jsonschema_rs  # only when a manifest is read

    schema = manifest_schema()
    if part:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{part}"}
    return jsonschema_rs.Draft202012Validator(schema)


def settings_fault(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """Where and why a manifest's settings (its ``students`` left out) break the
    schema, or None.

    >>> settings_fault({"format": "lstm-exam-manifest", "decimals": 3})
    ('', '"format_version" is a required property')
    """
    head = {k: v for k, v in doc.items() if k != "students"}
    return _fault(_validator(""), {**head, "students": []})


def student_fault(doc: Any, part: str = "student") -> tuple[str, str] | None:
    """Where (a path in the student's JSON) and why it breaks the schema, or None.

    ``part`` "roster_entry" checks only what the roster gave (id, name, other columns).

    >>> student_fault({"student_id": "s1", "name": "A", "variant": "X", "problems": []})
    ('problems', '[] has less than 1 item')
    >>> student_fault({"student_id": "s1", "name": 7}, "roster_entry")
    ('name', "7 is not a text of at most 200 characters (the roster's name)")
    """
    return _fault(_validator(part), doc)


def _fault(validator: Any, doc: Any) -> tuple[str, str] | None:
    if validator.is_valid(doc):  # the usual case, quicker than looking for errors
        return None
    for error in validator.iter_errors(doc):  # the first fault is enough
        path = "".join(_step(p) for p in error.instance_path).lstrip(".")
        about = _description(error.schema_path)
        if about and list(error.schema_path)[-1] in _DESCRIBED:
            return path, f"{_shown(error.instance)} is not {about}"
        message = error.message
        return path, message if len(message) <= 200 else message[:200] + "..."
    return None


#: The faults told by the description of the subschema that found them.
_DESCRIBED = ("pattern", "type", "maxLength", "minimum", "maximum")


def _step(p: str | int) -> str:
    if isinstance(p, int):
        return f"[{p}]"
    return f".{p}" if p.isidentifier() else f"[{json.dumps(p)}]"


def _description(schema_path: Any) -> str | None:
    """The description of the subschema a fault was found by (a ``$ref`` followed)."""
    node: Any = manifest_schema()
    for step in list(schema_path)[:-1]:
        if isinstance(node, dict) and "$ref" in node and step not in node:
            node = _resolve(node["$ref"])
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, dict) and "$ref" in node:
        node = _resolve(node["$ref"])
    return node.get("description") if isinstance(node, dict) else None


def _resolve(ref: str) -> Any:
    return manifest_schema()["$defs"][ref.rsplit("/", 1)[1]]


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


if __name__ == "__main__":
    print(json.dumps(manifest_schema(), indent=2))
