"""Issue 21, the rest: one seed rule everywhere a seed enters; `render` never takes templates
from the manifest; Ctrl-C and a closed pipe are one line, and nothing is left half-written."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam import api
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.generate import build_manifest, generate
from lstm_exam.generator.spec.worksheet import load_spec, parse_spec
from tests import test_send
from tests.test_hardening import _alive, _children
from tests.test_send import Mailbox, start_server

SHORT = "too short to be secret: use at least 8 characters"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _set_manifest_field(folder: Path, field: str, value: object) -> None:
    """Edit one setting of a manifest (its first line), as a hand or a script could."""
    path = folder / "manifest.json"
    data = path.read_bytes()
    first = data.index(b"\n")
    head = json.loads(data[:first] + b"]}")
    head[field] = value
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    assert text.endswith('"students":[]}')
    path.write_bytes(text[: -len("]}")].encode() + data[first:])


# --- (a) one seed rule ---------------------------------------------------------------------


def test_quiz_seed_abc_is_one_line_and_writes_nothing(run):
    """The fault: `quiz --seed abc` was accepted, though a spec's seed needs 8 characters."""
    for seed in ("abc", "", "1234567"):
        res = run("quiz", "--to", "html", "--count", "2", "--seed", seed, "--out", "q")
        assert res.exit_code == 2
        assert res.stderr == f"error: --seed: {SHORT}\n"
        assert not Path("q").exists()
    res = run("quiz", "--to", "html", "--count", "2", "--seed", "12345678", "--out", "q")
    assert res.exit_code == 0, res.stderr


def test_the_library_and_a_kept_seed_meet_the_same_rule(run, tmp_path):
    """generate(seed=...) and the seed `generate --force` keeps from a worksheet (an edited
    manifest) go through the same rule."""
    ws = load_spec(None)
    with pytest.raises(InputError, match=SHORT):
        generate(ws, api.choose_students(None, 2), tmp_path / "o", seed="short")
    with pytest.raises(InputError, match=SHORT):
        options = api.GenerateOptions(count=1, out=tmp_path / "o", no_pdf=True, seed="x")
        api.generate_worksheet(options)
    with pytest.raises(InputError, match=SHORT):  # a Worksheet built by hand, not parsed
        build_manifest(dataclasses.replace(ws, seed="abc"), ())
    assert not (tmp_path / "o").exists()
    assert run("generate", "--count", "2", "--out", "wk", "--no-pdf").exit_code == 0
    _set_manifest_field(Path("wk"), "seed", "abc")
    before = _tree(Path("wk"))
    res = run("generate", "--count", "2", "--out", "wk", "--no-pdf", "--force")
    assert res.exit_code == 2
    assert res.stderr.endswith(f"error: {Path('wk/manifest.json')}: seed: {SHORT}\n")
    assert _tree(Path("wk")) == before


def _spec_seed_fault(seed: str) -> str | None:
    data = {"problems": [{"kind": "forget_gate"}], "seed": seed}
    try:
        parse_spec(data, "s.toml")
    except InputError as e:
        return e.fault
    return None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.text(max_size=12) | st.text(alphabet="ab\n\t\x7f ", max_size=10))
def test_every_way_a_seed_enters_takes_the_same_seeds(seed, tmp_path):
    """Whatever the text: the spec, `quiz --seed`, generate's ``seed=`` and a Worksheet
    built by hand refuse it with the same fault, or all take it."""
    fault = _spec_seed_fault(seed)
    ws = load_spec(None)
    ways = [
        lambda: build_manifest(ws, (), seed),
        lambda: build_manifest(dataclasses.replace(ws, seed=seed), ()),
    ]
    if fault is not None:  # the quiz is run only where it stops at once
        options = api.QuizOptions(to="html", count=1, out=tmp_path / "q", seed=seed)
        ways.append(lambda: api.make_quiz(options))
    for way in ways:
        if fault is None:
            assert way()[0].seed == seed
        else:
            with pytest.raises(InputError) as e:
                way()
            assert e.value.fault == fault
    assert not (tmp_path / "q").exists()
    if len(seed) < defaults.MIN_SEED:
        assert fault is not None


# --- (b) render takes no templates from the manifest ------------------------------------------


def _templates(folder: Path, marker: str) -> Path:
    """A copy of the built-in templates whose sheets print ``marker`` on every page."""
    api.copy_templates(folder)
    sheet = folder / "sheet.tex.j2"
    text = sheet.read_text("utf-8")
    assert "\\textbf{Instructions.}" in text
    sheet.write_text(
        text.replace("\\textbf{Instructions.}", f"{marker} \\textbf{{Instructions.}}", 1), "utf-8"
    )
    return folder


def test_render_never_follows_the_manifests_templates(run, tmp_path):
    """The fault: `render` typeset with a `templates` folder written in the manifest. The
    manifest is data (edited, passed on): render refuses in one line and writes nothing
    unless --templates is given, which it then uses whatever the manifest says."""
    import subprocess

    if subprocess.run(["which", "pdflatex"], capture_output=True).returncode != 0:
        pytest.fail("pdflatex is needed")
    assert run("generate", "--count", "1", "--out", "wk").exit_code == 0
    evil = _templates(tmp_path / "evil", "EVILMARK")
    for made_with in (None, str(tmp_path / "mine")):  # built-in, or the user's own
        _set_manifest_field(Path("wk"), "templates", str(evil))
        before = _tree(Path("wk"))
        res = run("render", "wk")
        assert res.exit_code == 2
        assert res.stderr.splitlines() == [
            f"error: {Path('wk/manifest.json')}: templates: the worksheet was made with "
            "custom templates, which render takes only from its command line: pass "
            "--templates DIR (lstm-exam templates DIR copies the built-in ones)"
        ]
        assert _tree(Path("wk")) == before
        if made_with is not None:
            mine = _templates(Path(made_with), "MINEMARK")
            res = run("render", "wk", "--templates", mine)
            assert res.exit_code == 0, res.stderr
            tex = Path("wk/tex/class-sheets.tex").read_text("utf-8")
            assert "MINEMARK" in tex and "EVILMARK" not in tex


def test_a_spec_named_template_still_reaches_generate_and_quiz(run, tmp_path):
    """Templates named by the spec still typeset `generate` and the quiz's key (the spec is
    the instructor's input, given on the command line)."""
    _templates(tmp_path / "tpl", "SPECMARK")
    spec = run("spec").stdout.replace('title = "', 'templates = "tpl"\ntitle = "', 1)
    Path("s.toml").write_text(spec, "utf-8")
    res = run("generate", "s.toml", "--count", "1", "--out", "wk")
    assert res.exit_code == 0, res.stderr
    assert "SPECMARK" in Path("wk/tex/class-sheets.tex").read_text("utf-8")


# --- (c) Ctrl-C: one line, exit 130, nothing half-written ---------------------------------------

NOTHING = "interrupted: nothing was changed"
#: What a run may print on stderr before it is stopped: progress labels and notices.
BEFORE = ("Generating", "Grading", "Typesetting", "Drawing", "Writing", "Keeping the seed")


def _cli(cwd: Path, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lstm_exam", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _pdflatex_children(pid: int) -> bool:
    for child in _children(pid):
        try:
            if (Path("/proc") / str(child) / "comm").read_text().strip() == "pdflatex":
                return True
        except OSError:
            continue
    return False


def _interrupt(cwd: Path, args: list[str], when: str, delay: float = 0.0):
    """Run `lstm-exam ARGS` in a session of its own, and once ``when`` (``workers``: its
    worker processes run; ``pdflatex``: TeX runs; ``stage``: its staging folder exists;
    ``start``: at once) then ``delay`` seconds more, Ctrl-C it as a terminal does: SIGINT
    to the whole process group. Its exit code, stderr and the processes it had."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstm_exam", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    tests = {
        "workers": lambda: len(_children(proc.pid)) >= 2,
        "pdflatex": lambda: _pdflatex_children(proc.pid),
        "stage": lambda: any(p.name.endswith(".tmp") for p in cwd.rglob(".*")),
        "start": lambda: True,
    }
    deadline = time.monotonic() + 120
    while proc.poll() is None and not tests[when]() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before {when}: {proc.stderr.read()}"
    time.sleep(delay)
    seen = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err, seen


def _assert_stopped_cleanly(rc: int, err: str, seen: set[int], cwd: Path, before: dict) -> None:
    """Exit 130, one line saying nothing was changed (after any progress label), no
    traceback; every folder as it was; no staging or lock left; no process left."""
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == NOTHING, err
    assert all(line.startswith(BEFORE) for line in lines[:-1]), err
    assert {name: _tree(cwd / name) for name in before} == before
    assert not [p for p in cwd.rglob(".*")], "staging or a lock left behind"
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in seen), "a worker or pdflatex outlived the run"


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A worksheet of 800 students (enough for worker processes), graded."""
    cwd = tmp_path_factory.mktemp("graded")
    assert _cli(cwd, "generate", "--count", "800", "--out", "wk", "--no-pdf").returncode == 0
    assert _cli(cwd, "grade", "wk", "wk/keys").returncode == 0
    return cwd / "wk"


def _copy(folder: Path, cwd: Path) -> dict[str, dict[str, bytes]]:
    shutil.copytree(folder, cwd / "wk")
    return {"wk": _tree(cwd / "wk")}


def test_ctrl_c_during_grade_force_is_one_line_and_keeps_the_old_results(tmp_path, graded):
    """The fault: SIGINT during `grade --force` printed a KeyboardInterrupt traceback (and
    could hang, or leave its staging folder). Ctrl-C as it starts, as its workers start,
    while they grade."""
    for k, (when, delay) in enumerate([("stage", 0.0), ("workers", 0.0), ("workers", 0.5)]):
        cwd = tmp_path / str(k)
        cwd.mkdir()
        before = _copy(graded, cwd)
        args = ["grade", "wk", "wk/keys", "--force"]
        _assert_stopped_cleanly(*_interrupt(cwd, args, when, delay), cwd, before)


def test_ctrl_c_during_generate_leaves_the_old_worksheet_or_none(tmp_path, graded):
    """Ctrl-C while generate's workers write: a replaced worksheet stays whole (its
    grades too), a new one is not there."""
    before = _copy(graded, tmp_path)
    args = ["generate", "--count", "800", "--out", "wk", "--no-pdf", "--force"]
    before["wk"] = {k: v for k, v in before["wk"].items()}
    shutil.rmtree(tmp_path / "wk" / "grades")  # --force replaces a worksheet alone
    before = {"wk": _tree(tmp_path / "wk")}
    _assert_stopped_cleanly(*_interrupt(tmp_path, args, "workers", 0.3), tmp_path, before)
    args = ["generate", "--count", "800", "--out", "new", "--no-pdf"]
    _assert_stopped_cleanly(*_interrupt(tmp_path, args, "workers", 0.6), tmp_path, before)
    assert not (tmp_path / "new").exists()


def test_ctrl_c_during_render_leaves_every_pdf_and_no_tex(tmp_path):
    """Ctrl-C as render starts and while pdflatex runs: the PDFs are the old ones."""
    assert _cli(tmp_path, "generate", "--count", "20", "--out", "wk").returncode == 0
    before = {"wk": _tree(tmp_path / "wk")}
    assert "sheets/s020.pdf" in before["wk"]
    for when, delay in [("stage", 0.0), ("pdflatex", 0.3)]:
        rc, err, seen = _interrupt(tmp_path, ["render", "wk"], when, delay)
        _assert_stopped_cleanly(rc, err, seen, tmp_path, before)


def test_ctrl_c_during_quiz_and_send_writes_nothing(tmp_path, graded):
    args = ["quiz", "--to", "html", "--count", "1000", "--out", "q"]
    _assert_stopped_cleanly(*_interrupt(tmp_path, args, "start", 2.0), tmp_path, {})
    before = _copy(graded, tmp_path)
    args = ["send", "wk", "--what", "feedback", "--from", "t@uni.edu", "--dry-run", "--out", "m"]
    _assert_stopped_cleanly(*_interrupt(tmp_path, args, "stage", 0.0), tmp_path, before)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(delay=st.floats(0.3, 3.0))
def test_ctrl_c_at_any_moment_leaves_the_old_results_or_the_new_ones(delay, graded):
    """Whenever Ctrl-C comes: exit 130 with the old results byte for byte, or (too late to
    stop it) the new results complete and the line says so; never a mix, never staging."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        before = _copy(graded, cwd)["wk"]
        rc, err, _ = _interrupt(cwd, ["grade", "wk", "wk/keys", "--force"], "start", delay)
        assert "Traceback" not in err, err
        after = _tree(cwd / "wk")
        if rc == 130 and err.rstrip().endswith(NOTHING):
            assert after == before
        else:  # finished (or all but its summary) before the interrupt
            assert rc == 0 or err.rstrip().endswith("written in full before"), err
            assert sorted(after) == sorted(before)
            assert after["grades/gradebook.csv"] == before["grades/gradebook.csv"]
        assert not [p for p in cwd.rglob(".*")]


# --- a closed output ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["spec"],
        ["solve", "--json"],
        ["solve"],
        ["generate", "--count", "3", "--no-pdf", "--out", "o"],
    ],
)
def test_a_closed_output_is_one_line(tmp_path, args):
    """`lstm-exam spec | head -1`: stdout closed before the end is one line on stderr,
    exit 141 (as a shell reports SIGPIPE), no traceback; what the run wrote is whole."""
    read, write = os.pipe()
    os.close(read)  # nobody will read: every write fails
    try:
        res = subprocess.run(
            [sys.executable, "-m", "lstm_exam", *args],
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)
    lines = [line for line in res.stderr.splitlines() if line.strip() and line != "Generating"]
    assert lines == ["error: stdout: closed before everything was printed (broken pipe)"]
    assert res.returncode == 141
    if args[0] == "generate":
        assert (tmp_path / "o" / "manifest.json").is_file()
        assert not [p for p in tmp_path.rglob(".*")]


#: test_send's class of four, typeset once (pytest knows the fixture by its own name).
built = test_send.built


class _SlowMailbox(Mailbox):
    """A server that takes its time over each message."""

    async def handle_DATA(self, server, session, envelope) -> str:
        import asyncio

        await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


def test_ctrl_c_during_a_real_send_is_one_line_and_sends_nobody_twice(built, tmp_path):
    """Ctrl-C while `send` delivers: one line saying the log knows what went out, exit 130;
    a rerun sends the rest and holds back the message that was cut off."""
    wk = tmp_path / "wk"
    shutil.copytree(built, wk)
    box = _SlowMailbox()
    controller = start_server(box)
    try:
        server = f"127.0.0.1:{controller.port}"
        args = ["send", "wk", "--what", "sheets", "--smtp", server, "--from", "t@example.edu"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "lstm_exam", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not box.received and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the second message is with the server now
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.strip() and line != "Sending"]
        assert lines == [
            f"interrupted: {defaults.SEND_LOG} records every message sent so far; a rerun "
            "sends the rest (one cut off mid-delivery is held back: it may have arrived)"
        ]
        again = _cli(tmp_path, *args)
        assert "held" in again.stdout, again.stdout + again.stderr
        rcpts = [r for _, to, _ in box.received for r in to]
        assert len(rcpts) == len(set(rcpts))  # nobody got a message twice
    finally:
        controller.stop()
