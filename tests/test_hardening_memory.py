"""Memory bounded per file (issue 21, fault 1 and the manifest part of fault 7).

A submitted PDF whose streams inflate a thousandfold or more (an object stream, the
cross-reference stream, Flate inside Flate, RunLength, a PNG predictor, LZW, many
streams, a lying ``/Length``: :mod:`pdfbombs` writes them byte by byte) is that file's
row "damaged or oversized", and ``grade`` of a class holding every one of them runs under
an address-space limit, its peak memory under 300 MB, and grades the others. Every input
is read by its real size: a reader never asks for a buffer as large as its cap.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfbombs import FILE_SIZES, KINDS, bomb, grade_measured, make_class, sized

from lstm_exam.generator.core import defaults
from lstm_exam.generator.runtime import Bounded, Exceeded
from lstm_exam.generator.spec.validate import read_at_most
from lstm_exam.graders.reading import Unreadable, read_submission

OVERSIZED = "damaged or oversized"
#: The peak memory `grade` of a class may reach, whatever its PDFs hold.
BOUND = 300_000_000
#: What a bomb of the other kinds inflates to (an unbounded read needs twice as much).
HUGE = 2_000_000_000


# --- grade of a class holding every bomb -------------------------------------------------


def test_a_class_holding_every_pdf_bomb_is_graded_within_the_memory_bound(tmp_path):
    bombs = {
        f"{kind} {size:,} B": sized(kind, size)
        for kind in ("objstm", "xref")
        for size in FILE_SIZES
    }
    bombs |= {kind: bomb(kind, HUGE, count=20) for kind in KINDS if kind not in ("objstm", "xref")}
    worksheet, subs = make_class(tmp_path, bombs, ordinary=4)
    # the address space allowed is far below what one bomb inflates to, far above the bound
    code, peak, _, err = grade_measured(worksheet, subs, tmp_path / "grades", 1_500_000_000)
    assert code == 0, err
    assert peak < BOUND, f"peak RSS {peak / 1e6:.0f} MB"
    with (tmp_path / "grades" / "gradebook.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(bombs) + 4  # one row a student, none for the bombs apart
    for row, name in zip(rows, bombs, strict=False):
        assert row["status"] == "unreadable", name
        assert OVERSIZED in row["flags"], (name, row["flags"])
    for row in rows[len(bombs) :]:
        assert row["status"] == "graded"
        assert row["percent"] == "100"


# --- each bomb alone, and its small twin ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_bomb_is_unreadable_and_its_small_twin_reads(kind):
    with pytest.raises(Unreadable, match=OVERSIZED) as e:
        read_submission(bomb(kind, HUGE, count=3))
    assert "hand in" in str(e.value)  # one line that says what to do
    sheet = read_submission(bomb(kind, 1_000_000, count=3))
    fields = 3 if kind == "many" else 1
    assert [(c.label, c.raw) for c in sheet.cells] == [
        (f"q1.f_t[{k}]", "0.5") for k in range(1, fields + 1)
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    inflated=st.integers(1_000, 4_000_000_000),
    count=st.integers(1, 30),
)
def test_any_bomb_reads_its_fields_or_is_oversized_never_more(kind, inflated, count):
    """A PDF reads whole or is "damaged or oversized": never a crash, never some fields."""
    streams = count if kind == "many" else 1
    try:
        sheet = read_submission(bomb(kind, inflated, count))
    except Unreadable as e:
        assert OVERSIZED in str(e)
        assert inflated // streams > defaults.MAX_PDF_STREAM_BYTES // 2
    else:
        assert len(sheet.cells) == streams
        assert all(c.raw == "0.5" for c in sheet.cells)
        # qpdf limits LZW in nothing: the child's address space alone holds it
        cap = defaults.MAX_PDF_MEMORY if kind == "lzw" else defaults.MAX_PDF_STREAM_BYTES
        assert inflated // streams < cap * 2


def test_many_streams_each_under_the_cap_end_at_the_cpu_limit(monkeypatch):
    """300 object streams of 9 MiB each: no stream past the cap, 2.8 GB inflated in all;
    the CPU limit of a read (1 s here) ends it, and the next sheet reads."""
    from lstm_exam.graders.reading import pdfform

    reader = Bounded(pdfform.READER.fn, memory=defaults.MAX_PDF_MEMORY, seconds=1)
    monkeypatch.setattr(pdfform, "READER", reader)
    try:
        with pytest.raises(Unreadable, match=f"{OVERSIZED} .reading it takes more than"):
            read_submission(bomb("many", 300 * 9 * 2**20, count=300))
        assert [c.raw for c in read_submission(bomb("objstm", 1_000)).cells] == ["0.5"]
    finally:
        reader.close()


def test_reading_a_pdf_leaves_qpdfs_limits_of_this_process_alone():
    """The limits are set in the child that reads the file: rendering keeps qpdf's own."""
    from pikepdf.settings import get_qpdf_limits

    before = get_qpdf_limits()
    read_submission(bomb("objstm", 1_000))
    with pytest.raises(Unreadable):
        read_submission(bomb("objstm", HUGE))
    assert get_qpdf_limits() == before


# --- the bounded child -------------------------------------------------------------------


def _work(data: bytes) -> object:
    """What the child does with a request: b"allocate N", b"spin", b"die", b"pid"."""
    if data.startswith(b"allocate "):
        return len(bytearray(int(data.split()[1])))
    if data == b"spin":
        while True:
            pass
    if data == b"die":
        os.kill(os.getpid(), signal.SIGTERM)
    return os.getpid()


def test_a_bounded_child_answers_or_says_which_limit_it_passed_and_starts_afresh():
    child = Bounded(_work, memory=100_000_000, seconds=1)
    try:
        pid = child(b"pid")
        assert pid != os.getpid()
        assert child(b"allocate 1000000") == 1_000_000
        assert child(b"pid") == pid  # one child for many calls: a fork costs more than a read
        for request, why in [
            (b"allocate 1000000000", "memory"),
            (b"spin", "time"),
            (b"die", "died"),
        ]:
            with pytest.raises(Exceeded) as e:
                child(request)
            assert e.value.why == why
            assert child(b"pid") not in (pid, os.getpid())  # a fresh child after a fault
            pid = child(b"pid")
        for _ in range(3):  # each call has its own CPU time, not the child's whole life
            assert child(b"allocate 10") == 10
    finally:
        child.close()


def test_after_a_bomb_the_next_sheet_reads():
    with pytest.raises(Unreadable, match=OVERSIZED):
        read_submission(bomb("lzw", HUGE))
    sheet = read_submission(bomb("objstm", 1_000))
    assert [c.raw for c in sheet.cells] == ["0.5"]


# --- every input read by its real size ---------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), cap=st.integers(0, 4000), said=st.integers(0, 10**12))
def test_read_at_most_reads_the_cap_and_one_byte_whatever_size_it_is_told(data, cap, said):
    assert read_at_most(io.BytesIO(data), cap, said) == data[: cap + 1]


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000) | st.builds(bytes, st.integers(0, 3000)),
    cap=st.integers(0, 4000),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_a_zip_member_is_read_to_the_cap_and_one_byte(data, cap, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr("s001.csv", data)
    with zipfile.ZipFile(buf) as z, z.open("s001.csv") as f:
        assert read_at_most(f, cap, z.getinfo("s001.csv").file_size) == data[: cap + 1]


#: Every reader of an input file with a cap, each cap made 4 GB, run in a process that may
#: grow by 64 MB: a reader that asks for a buffer as large as its cap fails with MemoryError.
_READERS = textwrap.dedent(
    """
    import os, resource, sys
    from pathlib import Path
    from lstm_exam.generator.core import defaults
    from lstm_exam.generator.spec.roster import read_roster
    from lstm_exam.generator.spec.validate import read_capped, read_toml
    from lstm_exam.generator.store.manifest_read import load_manifest
    from lstm_exam.generator.send.outbox import read_file
    from lstm_exam.graders import lms, submissions
    from lstm_exam.graders.submissions import RawFile, collect, file_data

    folder, zipped, worksheet = (Path(a) for a in sys.argv[1:])
    big = 4_000_000_000
    defaults.MAX_ROSTER_BYTES = defaults.MAX_TOML_BYTES = big
    defaults.MAX_ATTACHMENT_BYTES = defaults.MAX_MANIFEST_BYTES = big
    submissions._READ_LIMIT = big
    with open("/proc/self/statm") as f:
        vsize = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vsize + 64_000_000, vsize + 64_000_000))
    roster = folder / "roster.csv"
    assert len(read_capped(roster, big)) == roster.stat().st_size
    assert len(read_roster(roster)) == 2
    assert read_toml(folder / "p.toml") == {"kind": "forget_gate"}
    assert load_manifest(worksheet).variants
    assert read_file(roster, "roster.csv")[0] == roster.read_bytes()
    assert file_data(RawFile(path="r.csv", data=None, mtime=0.0, location=roster)) == roster.read_bytes()
    files, _ = collect(zipped)
    assert [file_data(f) for f in files] == [roster.read_bytes()]
    print("read")
    """
)


def test_every_capped_reader_reads_by_the_files_real_size(tmp_path, demo):
    (tmp_path / "roster.csv").write_text("student_id,name\ns001,Ada\ns002,Bo\n")
    (tmp_path / "p.toml").write_text('kind = "forget_gate"\n')
    with zipfile.ZipFile(tmp_path / "subs.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(tmp_path / "roster.csv", "s001.csv")
    res = subprocess.run(
        [sys.executable, "-c", _READERS, str(tmp_path), str(tmp_path / "subs.zip"), str(demo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "read"


def test_grade_of_a_small_manifest_runs_under_350_mb_of_address_space(tmp_path, demo):
    """The attack's case: under `ulimit -v 350MB`, grade asked for the manifest's 4 GB cap
    up front and ended in MemoryError."""
    from lstm_exam.generator.spec.worksheet import builtin_path

    samples = builtin_path("sample-submissions")
    assert any(p.suffix == ".pdf" for p in samples.iterdir())  # the PDF reader forks too
    code, peak, _, err = grade_measured(demo, samples, tmp_path / "grades", 350_000_000)
    assert code == 0, err
    assert "MemoryError" not in err
    assert (tmp_path / "grades" / "gradebook.csv").exists()
    assert peak < BOUND


# --- the benchmark ------------------------------------------------------------------------


def test_the_bomb_benchmark_runs_to_its_report():
    bench = Path(__file__).resolve().parent.parent / "bench" / "bench_pdf_bombs.py"
    res = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "target" in res.stdout
