"""Grading a large class: the manifest one student a line (both layouts, a damaged line),
workers, and the quick paths that must give what the plain ones give."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.numbers import plain
from lstm_exam.generator.spec.worksheet import builtin_path
from lstm_exam.generator.store.manifest import MANIFEST
from lstm_exam.generator.store.manifest_read import (
    read_manifest,
    read_manifest_students,
    student_doc,
)
from lstm_exam.graders.reading import Unreadable
from lstm_exam.graders.results import Status
from lstm_exam.graders.run import grade
from lstm_exam.graders.submissions import RawFile, file_data

SAMPLES = builtin_path("sample-submissions")


def _copy(demo: Path, to: Path, text: str) -> Path:
    shutil.copytree(demo, to)
    (to / MANIFEST).write_text(text, "utf-8")
    return to


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_the_writer_puts_one_student_on_each_line(demo):
    lines = (demo / MANIFEST).read_text("utf-8").splitlines()
    _, students = read_manifest(demo)
    assert len(lines) == len(students) + 2 and lines[-1] == "]}"
    assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == students


def test_both_layouts_read_alike(demo, tmp_path):
    one_line = json.dumps(json.loads((demo / MANIFEST).read_bytes()))
    old = _copy(demo, tmp_path / "old", one_line + "\n")
    for folder in (demo, old):
        header, students = read_manifest_students(folder)
        assert header == read_manifest(demo)[0]
        assert [student_doc(s) for s in students] == read_manifest(demo)[1]
        assert [s.student.student_id for s in students][:2] == ["s001", "s002"]


def test_a_one_line_manifest_grades_byte_for_byte_as_the_new_layout(demo, tmp_path):
    one_line = json.dumps(json.loads((demo / MANIFEST).read_bytes()), ensure_ascii=False)
    old = _copy(demo, tmp_path / "old", one_line)
    grade(demo, SAMPLES, tmp_path / "new-grades")
    grade(old, SAMPLES, tmp_path / "old-grades")
    assert _outputs(tmp_path / "new-grades") == _outputs(tmp_path / "old-grades")


def _large(demo: Path, n: int) -> str:
    """The demo manifest with more students (copies of the last one), to grade in workers."""
    head, *students, end = (demo / MANIFEST).read_text("utf-8").splitlines()
    docs = [json.loads(line.rstrip(",")) for line in students]
    for k in range(len(docs), n):
        docs.append({**docs[-1], "student_id": f"x{k:04d}", "name": f"Extra {k}"})
    body = ",\n".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in docs)
    return f"{head}\n{body}\n{end}\n"


def test_a_large_class_in_workers_grades_as_a_small_one(demo, tmp_path):
    n = defaults.PARALLEL_FROM + 20
    big = _copy(demo, tmp_path / "big", _large(demo, n))
    run = grade(big, SAMPLES, tmp_path / "g")
    small = {r.student_id: r for r in grade(demo, SAMPLES).results}
    rows = [r for r in run.results if r.student_id]
    assert len(rows) == n
    assert sum(r.status is Status.MISSING for r in rows) == n - 5
    for r in rows[:6]:
        want = small[r.student_id]
        assert (r.status, r.score, r.flags) == (want.status, want.score, want.flags)


def test_a_damaged_student_line_is_one_line_naming_the_file_and_line(demo, tmp_path, run):
    n = defaults.PARALLEL_FROM + 20
    lines = _large(demo, n).split("\n")
    lines[300] = lines[300][:-40] + "},"  # cut short: no longer JSON
    big = _copy(demo, tmp_path / "big", "\n".join(lines))
    out = tmp_path / "g"
    res = run("grade", big, SAMPLES, "--out", out)
    # found by the worker that grades that student: after the progress bar's label
    assert res.exit_code == 2 and res.stderr.count("error:") == 1
    assert res.stderr.splitlines()[-1].startswith(
        f"error: {big / MANIFEST}: line 301: damaged manifest ("
    )
    assert not out.exists()  # all or nothing


def test_an_unsafe_id_on_a_line_names_it(demo, tmp_path, run):
    text = (
        (demo / MANIFEST).read_text("utf-8").replace('"student_id":"s002"', '"student_id":"../x"')
    )
    bad = _copy(demo, tmp_path / "bad", text)
    res = run("grade", bad, SAMPLES, "--out", tmp_path / "g")
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert "line 3, student_id: damaged manifest: '../x' may hold only letters" in res.stderr


def test_an_input_error_crosses_from_a_worker_whole():
    e = pickle.loads(pickle.dumps(InputError("m.json", "line 3", "damaged manifest")))
    assert isinstance(e, InputError) and e.line() == "m.json: line 3: damaged manifest"


def test_a_file_gone_before_it_is_graded_is_unreadable(tmp_path):
    with pytest.raises(Unreadable, match="could not be read"):
        file_data(RawFile(path="s001.csv", data=None, mtime=0.0, location=tmp_path / "s001.csv"))


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.decimals())
def test_plain_numbers_read_as_format_f(d):
    assert plain(d) == format(d, "f")


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20))
def test_a_students_line_reads_every_full_value_to_the_last_bit(values):
    """orjson (which reads a student's line) gives the very floats json gives."""
    text = json.dumps({"values": values}, separators=(",", ":")).encode()
    assert [x.hex() for x in orjson.loads(text)["values"]] == [
        x.hex() for x in json.loads(text)["values"]
    ]
