"""Arbitrary bytes and text at every reader: a finding or the one-line error, never a crash.

Each reader is given what hypothesis makes (random bytes, and mutations of a real file)
and may only return its result, or raise its one error type (``InputError`` for the
instructor's files, ``Unreadable`` for a student's), whose line names the file.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.numbers import out_of_bounds
from lstm_exam.generator.spec.problems import read_problem_file
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec
from lstm_exam.generator.store.manifest_read import (
    load_manifest,
    read_manifest_students,
    reading,
    student_doc,
    variant_from_json,
)
from lstm_exam.generator.store.schema import VALUE_DIGITS, VALUE_PLACES
from lstm_exam.graders.reading import Unreadable, read_sheet

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPEC = builtin_path("default-spec.toml").read_bytes()
PROBLEM = builtin_path("lecture-forget-gate.toml").read_bytes()
ROSTER = builtin_path("sample-roster.csv").read_bytes()
SHEET = (builtin_path("sample-submissions") / "s001.csv").read_bytes()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """``original`` with a few bytes changed, cut, repeated or inserted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["set", "cut", "insert", "repeat"]))
        if op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = draw(st.binary(max_size=20)) or draw(
                st.sampled_from([b"1e999999", b"nan", b"\x00", b'"', b"[", b"]]", b"=", b"\n"])
            )
        else:
            data[at:at] = data[at : at + 30] * draw(st.integers(1, 5))
    return bytes(data)


def _only_the_error(fn, *args, errors=(InputError,)) -> None:
    try:
        fn(*args)
    except errors as e:
        text = e.line() if isinstance(e, InputError) else str(e)
        assert text.strip() and "\n" not in text.strip(), text


@pytest.mark.parametrize(
    ("reader", "original", "name"),
    [
        (load_spec, SPEC, "s.toml"),
        (read_problem_file, PROBLEM, "p.toml"),
        (read_roster, ROSTER, "r.csv"),
    ],
    ids=["spec", "problem file", "roster"],
)
@FUZZ
@given(data=st.data())
def test_any_file_of_the_instructor(tmp_path_factory, reader, original, name, data):
    path = tmp_path_factory.mktemp("input") / name
    path.write_bytes(data.draw(st.one_of(st.binary(max_size=400), mutated(original))))
    _only_the_error(reader, path)


@FUZZ
@given(st.one_of(st.binary(max_size=400), mutated(SHEET)))
def test_any_submitted_file(data):
    _only_the_error(read_sheet, data, errors=(Unreadable,))


def _demo_manifest(tmp_path_factory) -> bytes:
    from lstm_exam.generator.generate import generate
    from lstm_exam.generator.spec.roster import numbered_roster

    out = tmp_path_factory.mktemp("m") / "wk"
    generate(load_spec(None), numbered_roster(2), out, seed="fuzz-seed-0001")
    return (out / "manifest.json").read_bytes()


MANIFEST_TEXT: list[bytes] = []


@FUZZ
@given(data=st.data())
def test_any_manifest(tmp_path_factory, data):
    if not MANIFEST_TEXT:
        MANIFEST_TEXT.append(_demo_manifest(tmp_path_factory))
    raw = data.draw(st.one_of(st.binary(max_size=300), mutated(MANIFEST_TEXT[0])))
    folder = tmp_path_factory.mktemp("wk")
    (folder / "manifest.json").write_bytes(raw)
    _only_the_error(load_manifest, folder)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["1e-999999999", "1E+99999", "NaN", "-0", "0.1", "../x", "s002"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _in_lines(doc: dict) -> bytes:
    """``doc`` laid out as generate writes a manifest: the settings, then a student a line."""
    if not isinstance(doc.get("students"), list) or not doc["students"]:
        return json.dumps(doc).encode()
    head = json.dumps({k: v for k, v in doc.items() if k != "students"}, separators=(",", ":"))
    lines = [json.dumps(s, separators=(",", ":")) for s in doc["students"]]
    return (head[:-1] + ',"students":[\n' + ",\n".join(lines) + "\n]}\n").encode()


@FUZZ
@given(data=st.data())
def test_any_json_in_a_manifest_field_is_one_line_or_read(tmp_path_factory, data):
    """Any JSON value at any place of a real manifest: the one-line error, or a manifest
    whose every number is within the bounds of the schema (both ways of reading it)."""
    if not MANIFEST_TEXT:
        MANIFEST_TEXT.append(_demo_manifest(tmp_path_factory))
    doc = json.loads(MANIFEST_TEXT[0])
    node, parent, key = doc, None, None
    for _ in range(data.draw(st.integers(1, 8), "depth")):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        parent, key = node, data.draw(st.sampled_from(keys), "key")
        if not isinstance(node[key], dict | list) or data.draw(st.booleans(), "stop"):
            break
        node = node[key]
    if parent is not None:
        parent[key] = data.draw(JSON, "value")
    folder = tmp_path_factory.mktemp("wk")
    (folder / "manifest.json").write_bytes(_in_lines(doc))
    try:
        m = load_manifest(folder)
    except InputError as e:
        assert "\n" not in e.line() and e.file.endswith("manifest.json")
    else:
        for v in m.variants:
            for vp in v.problems:
                for value in vp.solution.values.values():
                    assert out_of_bounds(value.rounded, VALUE_DIGITS, VALUE_PLACES) is None
    try:
        _, students = read_manifest_students(folder)
        for s in students:
            with reading(s):
                variant_from_json(student_doc(s), asked_only=True)
    except InputError as e:
        assert "\n" not in e.line() and e.file.endswith("manifest.json")
