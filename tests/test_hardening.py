"""Hostile and unlucky input: a finding on its row or one clear line, never a crash."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.numbers import out_of_bounds, plain
from lstm_exam.generator.store.schema import manifest_schema
from lstm_exam.graders.answer_numbers import parse_number
from lstm_exam.graders.results import Status, Verdict
from lstm_exam.graders.run import grade

#: Answers that once aborted or flooded a whole class's grading.
HOSTILE_ANSWERS = [
    "1e1000000",
    "1E+999999999999999999",
    "1e-999999999999",
    "1e-999999999",
    "0e-99999",
    "-1E+999999999",
    "9" * 5000,
    "0." + "0" * 5000 + "1",
]


def _key_rows(worksheet: Path, sid: str) -> list[dict[str, str]]:
    text = (worksheet / "keys" / f"{sid}.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_hostile_answers_are_findings_on_their_rows_and_the_class_is_graded(demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid in ("s001", "s002"):
        rows = _key_rows(demo, sid)
        if sid == "s001":  # the first answers hostile, the rest right
            for row, raw in zip(rows, HOSTILE_ANSWERS, strict=False):
                row["answer"] = raw
        lines = ["label,answer"] + [f"{r['label']},{r['answer']}" for r in rows]
        (subs / f"{sid}.csv").write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "g"
    run = grade(demo, subs, out)
    by_id = {r.student_id: r for r in run.results if r.student_id}
    assert by_id["s002"].status is Status.GRADED and by_id["s002"].percent == 100
    assert by_id["s001"].status is Status.GRADED
    findings = {f.answer: f for f in grade(demo, subs).results[0].findings}
    for raw in HOSTILE_ANSWERS:
        f = findings[raw[:60]]
        assert f.verdict is Verdict.INVALID and f.value is None, raw
        assert "out of range" in f.reason or "not a number we can grade" in f.reason
    # nothing written out digit by digit: the whole results file stays small
    assert (out / "results.json").stat().st_size < 200_000
    assert json.loads((out / "results.json").read_text("utf-8"))["students"]


@given(st.text(max_size=80))
def test_any_text_is_a_bounded_number_or_a_reason(raw):
    try:
        d = parse_number(raw)
    except ValueError as e:
        assert str(e).strip()
        return
    assert out_of_bounds(d, defaults.ANSWER_DIGITS, defaults.ANSWER_PLACES) is None
    assert len(plain(d)) <= defaults.ANSWER_DIGITS + defaults.ANSWER_PLACES + 2


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_the_bound_is_the_size_and_the_places_of_the_value(d):
    with localcontext(prec=100_000):  # exact: no rounding in the oracle
        small = abs(d) < 10**6
        few_places = int(d.as_tuple().exponent) >= -12  # as written: 0.2500 has four
    assert (out_of_bounds(d, 6, 12) is None) == (small and few_places), d


def test_a_plus_before_a_minus_is_no_number():
    with pytest.raises(ValueError, match="not a number"):
        parse_number("+-1")
    assert parse_number("+1.5") == Decimal("1.5")


SPEC_FAULTS = [
    ('points = "1e-999999999"', "problems[1].points", "more than 12 decimal places"),
    ("points = 1e300", "problems[1].points", "out of range"),
    ("weights = { low = -1e20, high = 1.0 }", "problems[1].weights.low", "out of range"),
]


@pytest.mark.parametrize(("line", "place", "fault"), SPEC_FAULTS)
def test_a_spec_number_out_of_bounds_is_one_line(run, line, place, fault):
    Path("s.toml").write_text(f'[[problems]]\nkind = "forget_gate"\n{line}\n', "utf-8")
    res = run("generate", "s.toml", "--count", "1", "--out", "o", "--no-pdf")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: s.toml: {place}: ") and fault in res.stderr
    assert len(res.stderr.splitlines()) == 1 and not Path("o").exists()


def test_a_tiny_tolerance_is_refused_before_it_reaches_tex(run):
    Path("s.toml").write_text(
        'tolerance = { absolute = "1e-99999" }\n[[problems]]\nkind = "forget_gate"\n', "utf-8"
    )
    res = run("generate", "s.toml", "--count", "1", "--out", "o")
    assert res.exit_code == 2 and "tolerance.absolute" in res.stderr
    assert not Path("o").exists()


@pytest.mark.parametrize("value", ["-1e20", "1e308", "1e-30"])
def test_large_numbers_in_a_problem_file_are_one_line(run, value):
    Path("p.toml").write_text(
        f'kind = "forget_gate"\nh_prev = [0.1]\nx = [{value}]\nW_f = [[0.1, 0.2]]\nb_f = [0.1]\n',
        "utf-8",
    )
    res = run("solve", "p.toml")
    assert res.exit_code == 2
    assert res.stderr.startswith("error: p.toml: x[1]: ") and len(res.stderr.splitlines()) == 1


# --- output folders ---------------------------------------------------------------------


@pytest.fixture
def class_and_subs(run):
    """A small worksheet and its keys as submissions, in the test's folder."""
    assert run("generate", "--count", "3", "--out", "ws", "--no-pdf").exit_code == 0
    subs = Path("subs")
    subs.mkdir()
    for key in Path("ws/keys").iterdir():
        (subs / key.name).write_bytes(key.read_bytes())
    return Path("ws"), subs


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("out", "fault"),
    [
        ("ws", "is or holds the worksheet folder"),
        (".", "is or holds the worksheet folder"),
        ("subs", "is or holds the submissions"),
        ("subs/graded", "lies in the submissions"),
        ("ws/keys", "would replace keys of the worksheet folder"),
        ("ws/sheets", "would replace sheets of the worksheet folder"),
    ],
)
def test_grade_never_replaces_what_it_reads(run, class_and_subs, out, fault):
    ws, subs = class_and_subs
    before = _snapshot(ws) | _snapshot(subs)
    res = run("grade", ws, subs, "--out", out, "--force")
    assert res.exit_code == 2 and fault in res.stderr and len(res.stderr.splitlines()) == 1
    assert _snapshot(ws) | _snapshot(subs) == before


def test_grade_may_write_beside_the_worksheet_parts(run, class_and_subs):
    ws, subs = class_and_subs
    assert run("grade", ws, subs).exit_code == 0  # the default, ws/grades
    assert run("grade", ws, subs, "--out", "ws/second-look").exit_code == 0
    assert (ws / "grades" / "gradebook.csv").exists()
    assert (ws / "second-look" / "gradebook.csv").exists()


def test_generate_never_replaces_its_spec_or_roster(run):
    Path("wk").mkdir()
    Path("wk/week.toml").write_text('[[problems]]\nkind = "forget_gate"\n', "utf-8")
    Path("wk/roster.csv").write_text("student_id,name\ns1,A\n", "utf-8")
    for args in (
        ("wk/week.toml", "--count", "1", "--out", "wk"),
        ("--roster", "wk/roster.csv", "--out", "."),
    ):
        res = run("generate", *args, "--force", "--no-pdf")
        assert res.exit_code == 2 and "choose another folder" in res.stderr, args
    assert sorted(p.name for p in Path("wk").iterdir()) == ["roster.csv", "week.toml"]


def test_a_second_run_into_the_same_folder_says_who_holds_it(run, class_and_subs):
    import fcntl
    import os

    ws, subs = class_and_subs
    target = Path("g").resolve()
    fd = os.open(target.parent / ".g.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242\n")
        res = run("grade", ws, subs, "--out", "g")
    finally:
        os.close(fd)
    assert res.exit_code == 2 and "another lstm-exam run (process 4242)" in res.stderr
    assert not target.exists()
    assert run("grade", ws, subs, "--out", "g").exit_code == 0  # the lock is gone with it
    assert not Path(".g.lock").exists()  # and a finished run leaves none behind


def test_a_killed_runs_leftovers_are_put_back_or_removed(run, class_and_subs):
    ws, subs = class_and_subs
    assert run("grade", ws, subs, "--out", "g").exit_code == 0
    book = Path("g/gradebook.csv").read_bytes()
    # killed between moving the old folder aside and moving the new one in
    Path("g").rename(".g.old-99999")
    Path(".g.12345.tmp").mkdir()
    (Path(".g.12345.tmp") / "half.csv").write_text("half-written")
    res = run("grade", ws, subs, "--out", "g")  # the old folder is back: no --force, refused
    assert res.exit_code == 2 and "use --force" in res.stderr
    assert Path("g/gradebook.csv").read_bytes() == book
    assert not list(Path(".").glob(".g.*.tmp")) and not list(Path(".").glob(".g.old-*"))


def test_a_file_system_fault_is_one_line(run, class_and_subs):
    ws, subs = class_and_subs
    Path("plain-file").write_text("not a folder")
    res = run("grade", ws, subs, "--out", "plain-file/g")
    assert res.exit_code == 2 and "plain-file: is a file, not a folder" in res.stderr
    assert len(res.stderr.splitlines()) == 1 and not Path("plain-file").is_dir()


def test_an_os_error_is_one_line_naming_the_path(tmp_path):
    """What the checks cannot foresee (a full disk, a read-only mount) still ends in one line."""
    import subprocess
    import sys

    script = (
        "import sys, errno\n"
        "from lstm_exam import api, cli\n"
        "def full(*a, **k):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device', 'out/gradebook.csv')\n"
        "api.grade_folder = full\n"
        "sys.argv = ['lstm-exam', 'grade', '.', '.']\n"
        "cli.main()\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert res.returncode == 2
    assert res.stderr == "error: out/gradebook.csv: No space left on device\n"


# --- templates are untrusted code --------------------------------------------------------


def _hostile_templates(tmp_path: Path, line: str) -> Path:
    """A copy of the built-in templates with ``line`` after the sheet's instructions."""
    import shutil

    from lstm_exam.generator.render.latex import template_folder

    tpl = tmp_path / "tpl"
    shutil.copytree(template_folder(), tpl, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    sheet = (tpl / "sheet.tex.j2").read_text("utf-8")
    marker = r"\textbf{Instructions.}"
    (tpl / "sheet.tex.j2").write_text(sheet.replace(marker, marker + "\n" + line, 1), "utf-8")
    return tpl


def _pdflatex_running(root: Path) -> bool:
    """Whether a pdflatex of this test runs still: one whose working folder is in the
    test's folder ``root`` (another program's pdflatex on the machine is not this test's)."""
    import subprocess

    ours = str(root.resolve())
    found = subprocess.run(["pgrep", "-x", "pdflatex"], capture_output=True, text=True)
    for pid in found.stdout.split():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue  # ended meanwhile, or not ours to read
        if cwd.startswith(ours):
            return True
    return False


@pytest.mark.parametrize(
    "line",
    [
        '((( cycler.__init__.__globals__.os.system("touch pwned") )))',
        "((( ''.__class__.__mro__[1].__subclasses__() )))",
        '((( lipsum.__globals__["os"].popen("touch pwned").read() )))',
    ],
)
def test_a_template_cannot_run_code(run, tmp_path, line):
    tpl = _hostile_templates(tmp_path, line)
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl)
    assert res.exit_code == 2 and "template refused" in res.stderr
    assert len([ln for ln in res.stderr.splitlines() if ln.startswith("error:")]) == 1
    assert not Path("pwned").exists() and not Path("o").exists()


def test_tex_reads_no_file_outside_its_folder(run, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("THE-SECRET-LINE\n", "utf-8")
    tpl = _hostile_templates(tmp_path, rf"\input{{{secret}}}")
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl)
    assert res.exit_code == 2 and "LaTeX error" in res.stderr
    assert not Path("o").exists()
    assert not any(
        "THE-SECRET-LINE" in p.read_text(errors="replace") for p in Path(".").rglob("*.tex")
    )


def test_the_page_log_cannot_name_the_files_written(run, tmp_path):
    """A template writing its own page log: the split refuses it, writes nothing outside."""
    evil = tmp_path / "evil"
    tpl = _hostile_templates(tmp_path, rf"\immediate\write\pagelog{{{evil} 1}}")
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl)
    assert res.exit_code == 2 and "page log" in res.stderr
    assert not list(tmp_path.glob("evil*")) and not Path("o").exists()


def test_an_endless_template_is_stopped_at_the_time_limit(run, tmp_path):
    import time

    tpl = _hostile_templates(tmp_path, r"\def\loopforever{\loopforever}\loopforever")
    t0 = time.monotonic()
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl, "--tex-timeout", "3")
    assert time.monotonic() - t0 < 60
    assert res.exit_code == 2 and "time limit" in res.stderr
    assert not Path("o").exists() and not _pdflatex_running(tmp_path)


def test_templates_a_spec_or_manifest_names_are_announced(run, tmp_path):
    """Templates are code: a run never typesets with templates its command line did not
    name without saying whose they are; `render` never takes them from the manifest
    (issue 21: it asks for --templates in one line)."""
    import shutil

    tpl = _hostile_templates(tmp_path, "% a colleague's templates")
    spec = run("spec").stdout.replace('title = "', 'templates = "tpl"\ntitle = "', 1)
    Path("s.toml").write_text(spec, "utf-8")
    res = run("generate", "s.toml", "--count", "1", "--out", "wk")
    assert res.exit_code == 0, res.stderr
    assert f"Typesetting with the custom templates in {tpl}/ (named by the spec;" in res.stderr
    res = run("render", "wk", "--templates", tpl)
    assert res.exit_code == 0 and "custom templates" not in res.stderr
    shutil.rmtree(tpl)
    res = run("render", "wk")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {Path('wk/manifest.json')}: templates: the worksheet was made with custom "
        "templates, which render takes only from its command line: pass --templates DIR "
        "(lstm-exam templates DIR copies the built-in ones)"
    )
    res = run("generate", "s.toml", "--count", "1", "--out", "wk2")
    assert res.exit_code == 2 and "templates: no folder" in res.stderr


def test_endless_template_recursion_is_one_line(run, tmp_path):
    tpl = _hostile_templates(tmp_path, "((* macro r() *))((( r() )))((* endmacro *))((( r() )))")
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl)
    assert res.exit_code == 2 and "endless recursion" in res.stderr
    assert not Path("o").exists()


# --- killed runs ----------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        nxt = set()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in frontier and int(proc.name) not in found:
                nxt.add(int(proc.name))
        found |= nxt
        frontier = nxt
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_once_it_forks(args: list[str], cwd: Path) -> set[int]:
    """Start `lstm-exam ARGS`, kill -9 it once its workers run; the workers it had."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "lstm_exam", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if len(workers) >= 2:
            break
        time.sleep(0.05)
    assert len(workers) >= 2, "the run never started its workers"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return workers


@pytest.mark.skipif(
    (__import__("os").cpu_count() or 1) < 2, reason="workers run only on several cores"
)
def test_a_killed_generate_leaves_no_worker_and_no_half_folder(tmp_path):
    import time

    workers = _kill_once_it_forks(
        ["generate", "--count", "1500", "--out", "wk", "--no-pdf"], tmp_path
    )
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert not (tmp_path / "wk").exists()
    import subprocess
    import sys

    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "lstm_exam",
            "generate",
            "--count",
            "450",
            "--out",
            "wk",
            "--no-pdf",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wk"]  # no staging left


@pytest.mark.skipif(
    (__import__("os").cpu_count() or 1) < 2, reason="workers run only on several cores"
)
def test_a_killed_grade_leaves_no_worker_and_the_old_results(tmp_path):
    import subprocess
    import sys
    import time

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "lstm_exam", *args], cwd=tmp_path, capture_output=True
        )

    assert cli("generate", "--count", "1200", "--out", "wk", "--no-pdf").returncode == 0
    assert cli("grade", "wk", "wk/keys", "--out", "g").returncode == 0
    book = (tmp_path / "g" / "gradebook.csv").read_bytes()
    workers = _kill_once_it_forks(["grade", "wk", "wk/keys", "--out", "g", "--force"], tmp_path)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert (tmp_path / "g" / "gradebook.csv").read_bytes() == book  # the old folder, whole
    assert cli("grade", "wk", "wk/keys", "--out", "g", "--force").returncode == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_killed_render_leaves_no_tex_and_the_old_folder_whole(tmp_path):
    """kill -9 of `render` while pdflatex runs: pdflatex dies with it, the worksheet
    folder is the old one, byte for byte; a re-run replaces every PDF and leaves nothing."""
    import subprocess
    import sys
    import time

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "lstm_exam", *map(str, args)], cwd=tmp_path, capture_output=True
        )

    assert cli("generate", "--count", "2", "--out", "wk").returncode == 0
    before = _tree(tmp_path / "wk")
    assert "sheets/s001.pdf" in before and "keys/s001.pdf" in before
    endless = _hostile_templates(tmp_path, r"\def\loopforever{\loopforever}\loopforever")
    texs = _kill_once_it_forks(["render", "wk", "--templates", endless], tmp_path)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in texs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in texs)  # pdflatex died with the run
    assert _tree(tmp_path / "wk") == before  # the old folder, whole
    again = cli("render", "wk")
    assert again.returncode == 0, again.stderr
    after = _tree(tmp_path / "wk")
    assert sorted(after) == sorted(before)
    assert all(after[k] == before[k] for k in after if not k.endswith(".pdf"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tpl", "wk"]  # no staging left


def test_render_and_grade_never_write_one_worksheet_at_once(run, class_and_subs):
    """While grade writes into a worksheet folder, render may not replace it; while
    render replaces it, grade may not write into it. Each says which process holds it."""
    import os

    from lstm_exam.generator.store.files import rebuilt_folder, staged_folder
    from lstm_exam.generator.store.guard import WORKSHEET
    from lstm_exam.graders.run import RESULTS

    ws, subs = class_and_subs
    with staged_folder(ws / "grades", False, RESULTS, host=ws):  # a grade run, midway
        res = run("render", ws)
        assert res.exit_code == 2
        assert f"another lstm-exam run (process {os.getpid()}) is writing it" in res.stderr
    with rebuilt_folder(ws, (), WORKSHEET):  # a render run, midway
        res = run("grade", ws, subs)
        assert res.exit_code == 2 and "another lstm-exam run" in res.stderr
    assert run("grade", ws, subs, "--force").exit_code == 0
    assert not [p for p in ws.parent.iterdir() if p.name.startswith(".")]  # no lock left


# --- zips ---------------------------------------------------------------------------------


def _patched_zip(path: Path, members: dict[str, bytes], patches: dict[str, dict[str, int]]):
    """A stored zip whose members' header fields are set as ``patches`` says, in both the
    local header and the central directory: flags, method, crc, csize (the sizes lie)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0)), data)
    raw = bytearray(path.read_bytes())
    # field offsets after the signature: local header, central directory entry
    local = {"flags": 6, "method": 8, "crc": 14, "csize": 18}
    central = {"flags": 8, "method": 10, "crc": 16, "csize": 20}
    with zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
    for name, fields in patches.items():
        lh = infos[name].header_offset
        cd = raw.find(b"PK\x01\x02", 0)
        while raw[cd + 46 : cd + 46 + len(name)] != name.encode():
            cd = raw.find(b"PK\x01\x02", cd + 4)
        for field, value in fields.items():
            fmt = "<I" if field in ("crc", "csize") else "<H"
            struct.pack_into(fmt, raw, lh + local[field], value)
            struct.pack_into(fmt, raw, cd + central[field], value)
    path.write_bytes(bytes(raw))


def test_a_bad_zip_member_is_that_file_unreadable_and_the_rest_are_graded(demo, tmp_path):
    keys = {
        sid: (demo / "keys" / f"{sid}.csv").read_bytes()
        for sid in ("s001", "s002", "s003", "s004", "s005")
    }
    members = {f"{sid}.csv": data for sid, data in keys.items()}
    zipped = tmp_path / "subs.zip"
    _patched_zip(
        zipped,
        members,
        {
            "s002.csv": {"flags": 0x1},  # encrypted
            "s003.csv": {"method": 9},  # Deflate64
            "s004.csv": {"crc": 0x12345678},  # a bad checksum
            "s005.csv": {"csize": 7},  # a size that lies
        },
    )
    run = grade(demo, zipped)
    rows = {r.student_id: r for r in run.results if r.student_id}
    assert rows["s001"].status is Status.GRADED and rows["s001"].percent == 100
    reasons = {
        "s002": "encrypted",
        "s003": "cannot unpack",
        "s004": "damaged in the zip",
        "s005": "damaged in the zip",
    }
    for sid, words in reasons.items():
        assert rows[sid].status is Status.UNREADABLE, sid
        assert words in rows[sid].notes[0], (sid, rows[sid].notes)
    assert rows["s006"].status is Status.MISSING


def test_a_zip_is_read_one_member_at_a_time(demo, tmp_path):
    """Collecting a zip reads no member: a class's files are read as each is graded."""
    import zipfile

    from lstm_exam.graders.submissions import collect

    zipped = tmp_path / "subs.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for k in range(50):
            z.writestr(f"x{k}.csv", b"label,answer\n" + b"q1.f_t[1],0.5\n" * 1000)
    files, _ = collect(zipped)
    assert len(files) == 50 and all(f.data is None for f in files)


def test_a_roster_id_shaped_like_a_canvas_name_matches_its_own_file():
    from lstm_exam.generator.spec.roster import Student
    from lstm_exam.graders.matching import Matcher

    anna = Student("anna_2024_01_b", "Anna")
    other = Student("s002", "Bo", {"lms_id": "2024"})  # the Canvas reading would pick Bo
    m = Matcher([anna, other])
    assert m.match("anna_2024_01_b.csv").student == anna
    assert m.match("bo_2024_777_answers.csv").student == other  # a real Canvas name still works


# --- input files: regular, capped, checked before they are read ---------------------------


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
@pytest.mark.parametrize("role", ["spec", "roster", "problem", "manifest"])
def test_an_input_that_is_no_regular_file_is_one_line_and_never_read(run, kind, role):
    import os

    target = Path("thing")
    if kind == "fifo":
        os.mkfifo(target)  # reading it would wait forever
    elif kind == "device":
        target.symlink_to("/dev/zero")  # reading it would never end
    else:
        target.mkdir()
    if role == "manifest":
        Path("ws").mkdir()
        Path("ws/manifest.json").symlink_to(target.resolve())
        args = ["grade", "ws", "ws", "--out", "g"]
        shown = "ws/manifest.json"
    else:
        args = {
            "spec": ["generate", "thing", "--count", "1", "--out", "o", "--no-pdf"],
            "roster": ["generate", "--roster", "thing", "--out", "o", "--no-pdf"],
            "problem": ["solve", "thing"],
        }[role]
        shown = "thing"
    res = run(*args)
    if kind == "folder" and role in ("spec", "roster", "problem"):
        assert res.exit_code == 2  # click refuses a folder where a file is due
        return
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: {shown}: ")
    assert "regular file" in res.stderr
    assert not Path("o").exists() and not Path("g").exists()


def test_an_oversized_input_is_refused_before_it_is_read(run, monkeypatch):
    from lstm_exam.generator.core import defaults as d

    monkeypatch.setattr(d, "MAX_TOML_BYTES", 1000)
    Path("big.toml").write_text("# " + "x" * 2000 + '\n[[problems]]\nkind = "forget_gate"\n')
    res = run("solve", "big.toml")
    assert res.exit_code == 2 and "big.toml: larger than 1,000 bytes" in res.stderr


def test_links_fifos_and_devices_in_a_submissions_folder_get_rows_never_followed(demo, tmp_path):
    import os

    subs = tmp_path / "subs"
    subs.mkdir()
    key = demo / "keys" / "s001.csv"
    (subs / "s001.csv").symlink_to(key)  # the instructor's own key, 100% if followed
    os.mkfifo(subs / "s002.csv")  # reading it would wait forever
    (subs / "s003.csv").symlink_to(tmp_path / "gone.csv")  # a broken link
    (subs / "s004.csv").write_bytes((demo / "keys" / "s004.csv").read_bytes())
    (subs / "s005").symlink_to(demo / "keys")  # a link to a folder
    (subs / "null.csv").symlink_to("/dev/null")
    run = grade(demo, subs)
    rows = {r.student_id or r.file: r for r in run.results}
    for sid in ("s001", "s003"):
        assert (
            rows[sid].status is Status.UNREADABLE and "a link, not followed" in rows[sid].notes[0]
        )
    assert (
        rows["s002"].status is Status.UNREADABLE and "not a regular file" in rows["s002"].notes[0]
    )
    assert rows["s004"].status is Status.GRADED and rows["s004"].percent == 100
    assert rows["s005"].status is Status.UNREADABLE and "link to a folder" in rows["s005"].notes[0]
    assert rows["null.csv"].status is Status.UNMATCHED  # no file is dropped without a row
    assert all(r.percent == 0 for k, r in rows.items() if k != "s004")


# --- generate --force over a worksheet ---------------------------------------------------


def test_generate_force_keeps_the_seed_and_never_deletes_grades(run):
    assert run("generate", "--count", "3", "--out", "wk", "--no-pdf").exit_code == 0
    numbers = Path("wk/problems/s001.toml").read_bytes()
    Path("subs").mkdir()
    Path("subs/s001.csv").write_bytes(Path("wk/keys/s001.csv").read_bytes())
    assert run("grade", "wk", "subs").exit_code == 0
    res = run("generate", "--count", "3", "--out", "wk", "--no-pdf", "--force")
    assert res.exit_code == 2 and "holds grades besides the worksheet" in res.stderr
    assert Path("wk/grades/gradebook.csv").exists()
    Path("wk/grades").rename("grades-week-5")
    res = run("generate", "--count", "3", "--out", "wk", "--no-pdf", "--force")
    assert res.exit_code == 0 and "Keeping the seed" in res.stderr
    assert Path("wk/problems/s001.toml").read_bytes() == numbers  # the same numbers
    res = run("generate", "--count", "3", "--out", "wk", "--no-pdf", "--force", "--new-seed")
    assert res.exit_code == 0 and "Keeping the seed" not in res.stderr
    assert Path("wk/problems/s001.toml").read_bytes() != numbers


# --- the manifest's contents --------------------------------------------------------------

MANIFEST_FAULTS = [
    # each field of the schema (docs/manifest.schema.json), named with its line
    (
        '"decimals":3,"show_steps"',
        '"decimals":100,"show_steps"',
        "line 2, problems[0].decimals",
        "100 is not a whole number from 0 to 8",
    ),
    ('"kind":"forget_gate"', '"kind":"nope"', "line 2, problems[0].kind", '"nope" is not one'),
    ('"accept_min":"', '"accept_min":"x', "line 2, problems[0].values", "no exponent"),
    ('"rounded":"', '"rounded":"1e-999999999', "line 2, problems[0].values", "no exponent"),
    ('"full":', '"full":1e999,"x":', "line 2", "damaged manifest"),
    ('"full":', '"full":NaN,"x":', "line 2", "damaged manifest"),
    ('"points":"3"', '"points":"1e-999999999"', "line 2, problems[0].points", "no exponent"),
    ('"points":"3"', '"points":3', "line 2, problems[0].points", "3 is not a decimal number"),
    ('"x":["', '"x":[[["1"]],"', "line 2, problems[0].givens.x[0][0]", "is not a decimal"),
    ('"x":["', '"x":["1e-9","', "line 2, problems[0].givens.x[0]", "(no exponent)"),
    ('"extra":{}', '"extra":{"email":["x"]}', "line 2, extra.email", '["x"] is not of type'),
    ('"name":"', '"name":7,"y":"', "line 2, name", "7 is not a text"),
    ('"problems":[', '"problems":[[],', "line 2, problems[0]", "is not of type"),
    ('"decimals":3,"tol', '"decimals":"3","tol', "decimals", '"3" is not a whole number'),
    ('"tolerance":{"absolute":"0.001"}', '"tolerance":{"absolute":"NaN"}', "tolerance.", "NaN"),
    ('"tolerance":{"absolute":"0.001"}', '"tolerance":{"absolute":"1e-9"}', "tolerance.", "(no "),
    ('"tolerance":{"absolute":"0.001"}', '"tolerance":{"cubic":"1"}', "tolerance", "cubic"),
    ('"seed":"', '"seed":7,"x":"', "seed", "7 is not a text"),
    ('"student_id":"s002"', '"student_id":"s001"', "line 3", "repeats line 2"),
    ('"student_id":"s002"', '"student_id":"S001"', "line 3", "repeats line 2"),
    ('"student_id":"s002"', '"student_id":"../x"', "line 3", "may hold only letters"),
]


def test_the_schema_in_docs_is_the_one_the_reader_uses():
    """docs/manifest.schema.json is the schema the reader checks with, a valid draft
    2020-12 schema, whose bounds are the program's own (docs/formats.md says them)."""
    import jsonschema_rs

    schema = manifest_schema()
    docs = Path(__file__).parents[1] / "docs" / "manifest.schema.json"
    assert json.loads(docs.read_text("utf-8")) == schema, (
        "rewrite it: python -m lstm_exam.generator.store.schema > docs/manifest.schema.json"
    )
    jsonschema_rs.meta.validate(schema)
    assert schema["$defs"]["number"]["pattern"] == r"^-?[0-9]{1,6}(\.[0-9]{1,12})?$"
    assert defaults.MAX_DIGITS == 6 and defaults.MAX_PLACES == 12  # the pattern above


@pytest.mark.parametrize(("old", "new", "place", "fault"), MANIFEST_FAULTS)
def test_a_damaged_manifest_is_one_line_naming_the_line(
    run, class_and_subs, old, new, place, fault
):
    ws, subs = class_and_subs
    text = (ws / "manifest.json").read_text("utf-8")
    assert old in text
    (ws / "manifest.json").write_text(text.replace(old, new, 1), "utf-8")
    res = run("grade", ws, subs, "--out", "g")
    assert res.exit_code == 2 and not Path("g").exists()
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {ws / 'manifest.json'}: {place}")
    assert fault in line


def test_a_manifest_student_without_problems_is_refused(run, class_and_subs):
    ws, subs = class_and_subs
    lines = (ws / "manifest.json").read_text("utf-8").split("\n")
    doc = json.loads(lines[1].rstrip(","))
    lines[1] = json.dumps({**doc, "problems": []}, separators=(",", ":")) + ","
    (ws / "manifest.json").write_text("\n".join(lines), "utf-8")
    res = run("grade", ws, subs, "--out", "g")
    assert res.exit_code == 2 and not Path("g").exists()
    assert "line 2, problems: damaged manifest: [] has less than 1 item" in res.stderr


# --- the smaller faults ------------------------------------------------------------------


def test_a_spec_naming_a_missing_template_folder_is_one_line(run):
    Path("s.toml").write_text('templates = "nope"\n[[problems]]\nkind = "forget_gate"\n')
    res = run("generate", "s.toml", "--count", "1", "--out", "o", "--no-pdf")
    assert res.exit_code == 2 and "s.toml: templates: no folder" in res.stderr


def test_a_reserved_title_gets_a_folder_windows_can_make():
    from lstm_exam.generator.spec.worksheet import slugify

    assert [slugify(t) for t in ("CON", "aux", "Con week")] == [
        "con-worksheet",
        "aux-worksheet",
        "con-week",
    ]


def test_the_public_demo_seed_in_a_spec_is_warned_of(run):
    Path("s.toml").write_text(
        f'seed = "{defaults.DEMO_SEED}"\n[[problems]]\nkind = "forget_gate"\n', "utf-8"
    )
    res = run("generate", "s.toml", "--count", "1", "--out", "o", "--no-pdf")
    assert res.exit_code == 0 and "public demo seed" in res.stderr


def test_a_title_the_fonts_lack_is_warned_of_as_names_are():
    from lstm_exam.generator.generate import build_manifest
    from lstm_exam.generator.render.document import render_tex
    from lstm_exam.generator.spec.roster import Student
    from lstm_exam.generator.spec.worksheet import parse_spec

    ws = parse_spec({"title": "Woche 5 ☃", "problems": [{"kind": "forget_gate"}]}, "s.toml")
    m, _, _ = build_manifest(ws, [Student("s1", "A")], "title-seed-01")
    assert any("title" in w and "☃" in w for w in render_tex(m).warnings)


def test_export_replaces_an_earlier_export_only_with_force(run):
    """--force replaces an export's own files, never a file of someone else's in its place
    (issue 21: the notes written over the script were replaced before)."""
    problem = Path(__file__).parent / "data" / "sequence.toml"
    assert run("export", problem, "--to", "pytorch", "--out", "x").exit_code == 0
    script = next(Path("x").glob("*.py"))
    made = script.read_bytes()
    res = run("export", problem, "--to", "pytorch", "--out", "x")
    assert res.exit_code == 2 and "exists; use --force" in res.stderr
    assert run("export", problem, "--to", "pytorch", "--out", "x", "--force").exit_code == 0
    assert script.read_bytes() == made
    script.write_text("# the student's own notes\n")
    for force in ((), ("--force",)):
        res = run("export", problem, "--to", "pytorch", "--out", "x", *force)
        assert res.exit_code == 2 and "is not a file `export` made" in res.stderr
        assert script.read_text() == "# the student's own notes\n"


def test_markdown_feedback_never_links_or_embeds_what_a_student_wrote(demo, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    rows = _key_rows(demo, "s001")
    rows[0]["answer"] = "![t](http://tracker.example/p.png)"
    rows[1]["answer"] = "[click](http://evil.example)"
    lines = ["label,answer"] + [f"{r['label']},{r['answer']}" for r in rows]
    lines.append("[q9](http://evil.example),1")  # a label of their own
    (subs / "s001.csv").write_text("\n".join(lines) + "\n", "utf-8")
    grade(demo, subs, tmp_path / "g")
    md = (tmp_path / "g" / "feedback" / "s001.md").read_text("utf-8")
    assert "](http" not in md.replace("\\](http", "")
    assert "!\\[t\\](http://tracker.example/p.png)" in md


def test_no_well_posed_variant_names_the_tolerance_when_it_is_the_cause(run, monkeypatch):
    monkeypatch.setattr(defaults, "MAX_DRAWS", 30)
    Path("s.toml").write_text(
        'tolerance = { absolute = 0.5 }\n[[problems]]\nkind = "forget_gate"\n', "utf-8"
    )
    res = run("generate", "s.toml", "--count", "1", "--out", "o", "--no-pdf")
    assert res.exit_code == 2
    assert (
        "problems[1]: cannot draw a well-posed variant of problem 1: none of 30 draws" in res.stderr
    )
    assert "the tolerance is too wide" in res.stderr and not Path("o").exists()


@pytest.mark.parametrize(
    ("kind", "refusals", "advice", "never"),
    [
        ("forget_gate", {"saturated": 9, "knife-edge": 1}, "narrow the ranges", "tolerance"),
        ("forget_gate", {"knife-edge": 9}, "give the values more decimals", "ranges"),
        ("cell_state", {"close call": 9}, "the tolerance is too wide", "saturate"),
        ("parameters", {"misconception 3": 9}, "fixed ranges", "widen"),
        ("parameters", {}, "please report it", "ranges of weights"),
    ],
)
def test_no_well_posed_advice_follows_the_refusals(kind, refusals, advice, never):
    from collections import Counter

    from lstm_exam.generator.variants.wellposed import no_well_posed

    line = no_well_posed("s.toml", 2, kind, Counter(refusals)).line()
    assert line.startswith("s.toml: problems[2]: cannot draw a well-posed variant of problem 2: ")
    assert advice in line and never not in line


def test_generate_force_never_deletes_grades_whatever_gives_the_seed(run):
    """A spec with a seed of its own needs no seed kept, and still may not delete grades."""
    Path("s.toml").write_text('seed = "own-seed-123"\n[[problems]]\nkind = "forget_gate"\n')
    assert run("generate", "s.toml", "--count", "2", "--out", "wk", "--no-pdf").exit_code == 0
    Path("wk/grades").mkdir()
    (Path("wk/grades") / "gradebook.csv").write_text("student_id\n")
    res = run("generate", "s.toml", "--count", "2", "--out", "wk", "--no-pdf", "--force")
    assert res.exit_code == 2 and "holds grades besides the worksheet" in res.stderr
    assert Path("wk/grades/gradebook.csv").exists()
