"""Issue 22, part 6 on the grading side: one Moodle feedback-zip writer, records built by
keyword with their derived fields computed in one place, one entry point for reading a
submission."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from decimal import Decimal

import lms
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_exam.generator.send.moodle import made_moodle_zip, moodle_zip
from lstm_exam.generator.send.outbox import Attachment, Parcel
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.lmsnames import clean_filename, moodle_feedback_zip
from lstm_exam.graders import claims, reading, results, submissions
from lstm_exam.graders.reading import Cell, Unreadable, read_submission
from lstm_exam.graders.results import (
    UNEXPLAINED,
    Finding,
    Graded,
    Status,
    StudentResult,
    Verdict,
)

# --- one Moodle feedback-zip writer ----------------------------------------------------------

#: A student's full name as a roster may spell it: letters, spaces, Moodle's stripped
#: characters, underscores (the importer's separator) and accents.
#: (A name Moodle's cleaning leaves starting with "." or "~" is skipped by its importer as
#: a hidden file: such a roster name loses its feedback; left out here, as is.)
NAMES = st.text(alphabet=st.sampled_from("AbZé ō_'&<>:/\\|`\"x.~-"), max_size=16).filter(
    lambda n: not clean_filename(n.replace("_", " ")).startswith((".", "~"))
)
#: A file's name: what lstm-exam sends (feedback.html, key.pdf) and stranger ones.
FILES = st.one_of(
    st.sampled_from(["feedback.html", "key.pdf", "sheet.pdf", "answers.csv"]),
    st.text(alphabet=st.sampled_from("ab_. -é"), min_size=1, max_size=10).filter(
        lambda n: (
            clean_filename(n).strip() not in ("", ".", "..")
            and not clean_filename(n).startswith((".", "~"))
        )
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(NAMES, st.lists(FILES, min_size=1, max_size=3, unique=True)),
        min_size=1,
        max_size=5,
    ),
    st.randoms(use_true_random=False),
)
def test_the_one_zip_writer_gives_each_file_to_its_participant_in_moodles_rules(people, rnd):
    """Whatever the names, Moodle's importer (tests/lms/moodle.py, importziplib.php) gives every
    member to the participant it was written for, under the file's own name."""
    users, entries, expected = {}, [], {}
    ids = rnd.sample(range(1, 999_999), len(people))
    for k, ((name, files), pid) in enumerate(zip(people, ids, strict=True)):
        users[pid] = lms.MoodleUser(k, name, "", f"u{k}@x.org", pid)
        for f in files:
            entries.append((name, str(pid), f, f"{k}:{f}".encode()))
            expected[(pid, clean_filename(f))] = f"{k}:{f}".encode()
    data = moodle_feedback_zip(entries)
    assert data == moodle_feedback_zip(entries)  # the same files, the same bytes
    found = lms.moodle_feedback_zip_check(data, users)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert len(found) == len(z.namelist()) == len(entries)
        got = {
            (user.participantid, filename): z.read(member)
            for member, (user, plugin, filename) in found.items()
            if plugin == "assignfeedback_file"
        }
    assert got == expected


def test_send_and_grade_write_moodle_zips_through_the_one_writer(tmp_path):
    """``send --moodle-zip`` makes exactly the zip of the one writer, which ``send`` knows
    again as its own (``--force`` may replace it)."""

    def key(data: bytes) -> Attachment:
        return Attachment("keys/x.pdf", "key.pdf", ("application", "pdf"), data, "")

    ann, bob = Student("s001", "Ann_Lee O'Hara"), Student("s002", "Bob")
    parcels = [Parcel(ann, (key(b"%PDF-key"),)), Parcel(bob, (key(b"%PDF-bob"),))]
    made = moodle_zip(parcels, {"s001": "73015"})
    assert made.students == ("s001",)
    assert made.left_out == (("s002", "no Moodle participant id (pass --moodle-worksheet)"),)
    assert made.data == moodle_feedback_zip([("Ann_Lee O'Hara", "73015", "key.pdf", b"%PDF-key")])
    (tmp_path / "m.zip").write_bytes(made.data)
    assert made_moodle_zip(tmp_path / "m.zip")


# --- records built by keyword ------------------------------------------------------------------

KW_ONLY = [
    results.StudentResult,
    results.GradeRun,
    results.StudentRecord,
    submissions.RawFile,
    reading.Sheet,
    reading.Cell,
    claims.Claim,
]


@pytest.mark.parametrize("record", KW_ONLY, ids=lambda r: r.__name__)
def test_records_between_stages_refuse_positional_construction(record):
    fields = dataclasses.fields(record)
    assert all(f.kw_only for f in fields)
    with pytest.raises(TypeError, match="positional"):
        record(*(None for _ in fields))


def _finding(label: str, verdict: Verdict, value: str | None, mistake: str | None) -> Finding:
    number = None if value is None else Decimal(value)
    return Finding(
        label=label,
        answer=value or "",
        value=number,
        verdict=verdict,
        credit=Decimal(0),
        key=Decimal(0),
        accept=(0, 0),
        reason="",
        mistake=mistake,
    )


VERDICTS = st.sampled_from(list(Verdict))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            VERDICTS,
            st.one_of(st.none(), st.decimals(-99, 99, places=3).map(str)),
            st.one_of(st.none(), st.sampled_from(["NO_BIAS", "TRUNCATED"])),
        ),
        max_size=12,
    )
)
def test_a_graded_row_derives_marks_mistakes_and_wrong_values_from_its_findings(rows):
    findings = tuple(
        _finding(f"q{p}.h_t[{k}]", verdict, value, mistake)
        for k, (p, verdict, value, mistake) in enumerate(rows)
    )
    base = StudentResult(
        student_id="s1",
        name="A",
        variant="V",
        status=Status.MISSING,
        problem_scores=(Decimal(0),),
        max_scores=(Decimal(4),),
    )
    r = base.graded(
        Graded(findings=findings, problem_scores=(Decimal(2),), notes=()), file="s1.csv"
    )
    assert (r.status, r.file, r.score, r.findings) == (Status.GRADED, "s1.csv", 2, findings)
    assert r.marks == "".join(results.VERDICT_CODES[f.verdict] for f in findings)
    wrong = [(k, f) for k, f in enumerate(findings) if f.verdict is Verdict.WRONG]
    assert r.mistakes == tuple((int(f.label[1]), f.mistake or UNEXPLAINED) for _, f in wrong)
    assert [(at, why) for at, _, why in r.wrong_values] == [
        (k, f.mistake or UNEXPLAINED) for k, f in wrong if f.value is not None
    ]


def test_a_file_of_nobody_has_no_id_on_its_row():
    r = StudentResult.of_file(Status.SUPERSEDED, "old.csv", ("older",))
    assert (r.student_id, r.name, r.variant, r.file, r.flags) == ("", "", "", "old.csv", ("older",))
    assert not r.on_roster


# --- one entry point for reading a submission ------------------------------------------------


def test_one_entry_point_reads_csv_and_pdf():
    csv = read_submission(b"label,answer\nq1.f_t[1],0.5\n")
    assert csv.cells == (Cell(label="q1.f_t[1]", raw="0.5", line=2),)
    assert csv.identity is None
    with pytest.raises(Unreadable, match="PDF"):  # read as a PDF, never as a CSV
        read_submission(b"%PDF-1.4\n%%EOF\n")
