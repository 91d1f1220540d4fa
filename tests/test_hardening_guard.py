"""Issue 21, fault 5: no command deletes or replaces a file it did not make.

One guard (generator/store/guard.py) for every output folder and file: never an input,
never a worksheet or a part of one, never a folder holding anything but what the same
command makes; ``--force`` replaces only the command's own earlier output. And `render`
without a working pdflatex fails in one line and keeps the old worksheet whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam.cli import main
from lstm_exam.generator.core.errors import InputError

pytestmark = pytest.mark.tex

SPEC = {"title": "Guard week", "seed": "guard-seed-0001", "problems": [{"kind": "cell_state"}]}
ROSTER = "student_id,name,email,participant_id\ns001,Ann Lee,ann@uni.edu,101\ns002,Bo Li,bo@uni.edu,102\n"
PROBLEM = Path(__file__).parent / "data" / "sequence.toml"


def _cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A graded worksheet with its PDFs (ws), its submissions (subs), the roster, and a
    second graded worksheet of its own (ws2, subs2) to run commands from."""
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`", pytrace=False)
    root = tmp_path_factory.mktemp("guard")
    (root / "spec.toml").write_text(tomli_w.dumps(SPEC), "utf-8")
    (root / "roster.csv").write_text(ROSTER, "utf-8")
    shutil.copy(PROBLEM, root / "problem.toml")
    res = _cli(
        "generate", root / "spec.toml", "--roster", root / "roster.csv", "--out", root / "ws"
    )
    assert res.exit_code == 0, res.output
    res = _cli("generate", "--count", "2", "--no-pdf", "--out", root / "ws2")
    assert res.exit_code == 0, res.output
    for ws, subs in (("ws", "subs"), ("ws2", "subs2")):
        (root / subs).mkdir()
        for sid in ("s001", "s002"):
            shutil.copy(root / ws / "keys" / f"{sid}.csv", root / subs / f"{sid}.csv")
        res = _cli("grade", root / ws, root / subs)
        assert res.exit_code == 0, res.output
    return root


@pytest.fixture
def here(built, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the class in the test's folder, which is the current folder."""
    for entry in built.iterdir():
        copy = shutil.copytree if entry.is_dir() else shutil.copy2
        copy(entry, tmp_path / entry.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _tree(root: Path, names: tuple[str, ...] = ("ws", "subs", "roster.csv")) -> dict[str, str]:
    """Every path under ``names``: a file's SHA-256, a folder's mark, a link's target."""
    out = {}
    for name in names:
        top = root / name
        for p in [top, *(top.rglob("*") if top.is_dir() else ())]:
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "folder"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _one_line(res) -> str:
    """The one error line (a progress bar's label may stand before it), no traceback."""
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


# --- the Done-when test: every command, onto every part --------------------------------------

#: Everything of a graded worksheet, its submissions and the roster.
TARGETS = [
    "ws",
    "ws/manifest.json",
    "ws/problems",
    "ws/problems/s001.toml",
    "ws/answer-templates",
    "ws/answer-templates/s001.csv",
    "ws/keys",
    "ws/keys/s001.csv",
    "ws/keys/s001.pdf",
    "ws/sheets",
    "ws/sheets/s001.pdf",
    "ws/tex",
    "ws/tex/class-key.tex",
    "ws/class-sheets.pdf",
    "ws/class-key.pdf",
    "ws/grades",
    "ws/grades/gradebook.csv",
    "ws/grades/results.json",
    "ws/grades/feedback",
    "ws/grades/lms",
    "subs",
    "subs/s001.csv",
    "roster.csv",
]
FROM = ("--from", "lstm@uni.edu")
#: Every command with its output option (or its output argument), and --force.
COMMANDS = {
    "generate": lambda t: ("generate", "--count", "2", "--no-pdf", "--out", t, "--force"),
    "generate --roster": lambda t: (
        *("generate", "spec.toml", "--roster", "roster.csv", "--no-pdf", "--out", t, "--force"),
    ),
    "render": lambda t: ("render", t),
    "grade (this worksheet)": lambda t: ("grade", "ws", "subs", "--out", t, "--force"),
    "grade (another)": lambda t: ("grade", "ws2", "subs2", "--out", t, "--force"),
    "quiz": lambda t: ("quiz", "--to", "html", "--count", "2", "--out", t, "--force"),
    "quiz --key": lambda t: (
        "quiz",
        "spec.toml",
        "--to",
        "moodle",
        "--count",
        "2",
        "--key",
        "--out",
        t,
        "--force",
    ),
    "send --dry-run": lambda t: (
        *("send", "ws", "--what", "keys", *FROM, "--dry-run", "--out", t, "--force"),
    ),
    "send --dry-run (another)": lambda t: (
        *("send", "ws2", "--what", "feedback", *FROM, "--dry-run", "--out", t, "--force"),
    ),
    "send --moodle-zip": lambda t: ("send", "ws", "--what", "keys", "--moodle-zip", t, "--force"),
    "send --moodle-zip (another)": lambda t: (
        *("send", "ws2", "--what", "feedback", "--moodle-zip", t, "--force"),
    ),
    "export": lambda t: ("export", "problem.toml", "--to", "pytorch", "--out", t, "--force"),
    "demo": lambda t: ("demo", "--no-pdf", "--out", t),
    "templates": lambda t: ("templates", t),
}
#: What a command may rightly do to a target: replace its own output (the next test),
#: or write new files of its own beside others.
OWN = {("render", "ws"), ("grade (this worksheet)", "ws/grades")}
BESIDE = {("export", "subs"), ("templates", "subs")}


@pytest.mark.parametrize(
    ("command", "target"),
    [(c, t) for c in sorted(COMMANDS) for t in TARGETS if (c, t) not in OWN],
)
def test_no_command_deletes_or_replaces_what_it_did_not_make(here, command, target):
    """Issue 21, Done when: every command with --out/--force (or its output argument)
    onto every part of a graded worksheet, the submissions, a submission and the roster:
    one line, exit 2, every byte still there. (A command's own output, which it may
    replace, is tested in the next test.)"""
    before = _tree(here)
    res = CliRunner().invoke(main, [str(a) for a in COMMANDS[command](target)])
    after = _tree(here)
    if (command, target) in BESIDE:  # new files of its own beside the others, none replaced
        assert res.exit_code == 0, res.output
        assert {k: v for k, v in after.items() if k in before} == before
        return
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 2, (res.exit_code, res.output)
    _one_line(res)
    assert after == before


def test_the_commands_own_output_is_still_replaced_with_force(here):
    """The guard is no wall: each command replaces its own earlier output with --force
    (and without it says so)."""
    runs = [
        ("generate", "--count", "2", "--no-pdf", "--out", "g"),
        ("grade", "ws", "subs", "--out", "r"),
        ("quiz", "--to", "html", "--count", "2", "--out", "q"),
        ("send", "ws", "--what", "keys", *FROM, "--dry-run", "--out", "mails"),
        ("send", "ws", "--what", "keys", "--moodle-zip", "keys.zip"),
        ("export", "problem.toml", "--to", "keras", "--out", "x"),
    ]
    for args in runs:
        assert _cli(*args).exit_code == 0, args
        again = _cli(*args)
        assert again.exit_code == 2 and "use --force" in _one_line(again), args
        assert _cli(*args, "--force").exit_code == 0, args
    # grade's default, ws/grades; another format of the same quiz; the demo, twice
    assert _cli("grade", "ws", "subs", "--force").exit_code == 0
    assert _cli("quiz", "--to", "moodle", "--count", "2", "--out", "q", "--force").exit_code == 0
    assert _cli("demo", "--no-pdf", "--out", "d").exit_code == 0
    assert _cli("demo", "--no-pdf", "--out", "d").exit_code == 0
    assert _cli("render", "ws").exit_code == 0  # a graded worksheet: its grades kept
    assert Path("ws/grades/gradebook.csv").is_file() and Path("ws/sheets/s001.pdf").is_file()


# --- the faults as the issue quoted them ------------------------------------------------------


def test_quiz_never_replaces_a_graded_worksheet(here):
    before = _tree(here)
    res = _cli("quiz", "--to", "html", "--count", "2", "--out", "ws", "--force")
    assert res.exit_code == 2 and "--force would delete" in _one_line(res)
    assert _tree(here) == before


def test_send_never_replaces_the_submissions_the_roster_or_a_key(here):
    before = _tree(here)
    for args in (
        ("--what", "keys", *FROM, "--dry-run", "--out", "subs", "--force"),
        ("--what", "keys", "--moodle-zip", "roster.csv", "--force"),
        ("--what", "keys", "--moodle-zip", "ws/keys/s001.csv", "--force"),
        ("--what", "keys", "--moodle-zip", "subs/s001.csv", "--force"),
    ):
        res = _cli("send", "ws", *args)
        assert res.exit_code == 2, (args, res.output)
        _one_line(res)
    assert _tree(here) == before


def test_a_moodle_submissions_zip_is_never_taken_for_a_feedback_zip(here):
    """A zip Moodle gives (the submissions) has the same flat look as the one `send`
    makes, but not its plugin: --force never writes over it."""
    import zipfile

    with zipfile.ZipFile("subs.zip", "w") as z:
        z.writestr("Ann Lee_101_assignsubmission_file_/s001.csv", "q1.C_t[1],0.5\n")
    data = Path("subs.zip").read_bytes()
    res = _cli("send", "ws", "--what", "keys", "--moodle-zip", "subs.zip", "--force")
    assert res.exit_code == 2 and "is not a file `send --moodle-zip` made" in _one_line(res)
    assert Path("subs.zip").read_bytes() == data


def test_a_link_in_the_place_of_an_output_file_is_refused_never_followed(here):
    Path("keys.zip").symlink_to("roster.csv")
    Path("x").mkdir()
    Path("x/problem-pytorch.py").symlink_to("../roster.csv")
    before = _tree(here, ("roster.csv",))
    res = _cli("send", "ws", "--what", "keys", "--moodle-zip", "keys.zip", "--force")
    assert res.exit_code == 2 and "is a link" in _one_line(res)
    res = _cli("export", "problem.toml", "--to", "pytorch", "--out", "x", "--force")
    assert res.exit_code == 2 and "is a link" in _one_line(res)
    assert _tree(here, ("roster.csv",)) == before


@pytest.mark.parametrize(
    ("made", "stranger"),
    [
        (("quiz", "--to", "html", "--count", "2", "--out", "q"), "q/notes.txt"),
        (
            ("quiz", "--to", "html", "--count", "2", "--out", "q"),
            "q/week-5-lstm-gates-by-hand-practice/mine.pdf",
        ),
        (("grade", "ws2", "subs2", "--out", "q"), "q/feedback/scan.pdf/x"),
        (("grade", "ws2", "subs2", "--out", "q"), "q/lms/roster.csv/deep"),
        (("send", "ws", "--what", "keys", *FROM, "--dry-run", "--out", "q"), "q/other.eml"),
        (("generate", "--count", "2", "--no-pdf", "--out", "q"), "q/keys/old/s001.csv"),
    ],
)
def test_a_folder_holding_anything_the_command_did_not_make_is_refused(here, made, stranger):
    """Its own output with one stranger in it, at any depth: --force would delete the
    stranger, so the whole folder is refused (and the stranger kept)."""
    assert _cli(*made).exit_code in (0, 1)
    path = Path(stranger)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("mine")
    res = _cli(*made, "--force")
    assert res.exit_code == 2 and "besides" in _one_line(res), res.output
    assert path.read_text() == "mine"


def test_a_stranger_with_a_name_that_is_not_utf8_is_one_line(here):
    assert _cli("quiz", "--to", "html", "--count", "2", "--out", "q").exit_code == 0
    name = os.fsdecode(b"q/\xffnotes.txt")
    Path(name).write_text("mine")
    res = _cli("quiz", "--to", "html", "--count", "2", "--out", "q", "--force")
    assert res.exit_code == 2 and "\\xffnotes.txt" in _one_line(res)
    assert Path(name).read_text() == "mine"


def test_no_output_lies_in_another_worksheet_or_a_part_of_its_own(here):
    before = _tree(here)
    for args in (
        ("grade", "ws2", "subs2", "--out", "ws/second-look"),  # another worksheet's
        ("grade", "ws", "subs", "--out", "ws/keys/graded"),  # in a part of its own
        ("quiz", "--to", "html", "--count", "2", "--out", "ws/practice"),
        ("send", "ws2", "--what", "feedback", *FROM, "--dry-run", "--out", "ws/mails"),
        ("generate", "--count", "2", "--no-pdf", "--out", "ws/inner"),
    ):
        res = _cli(*args)
        assert res.exit_code == 2, (args, res.output)
        _one_line(res)
    assert _tree(here) == before
    # its own worksheet may hold a new entry beside its parts, as grade's default
    assert _cli("grade", "ws", "subs", "--out", "ws/second-look").exit_code == 0
    assert (
        _cli("send", "ws", "--what", "keys", *FROM, "--dry-run", "--out", "ws/mails").exit_code == 0
    )


# --- render without a working TeX --------------------------------------------------------------


def _fake_pdflatex(folder: Path, body: str) -> None:
    folder.mkdir()
    exe = folder / "pdflatex"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


REAL = shutil.which("pdflatex") or "pdflatex"
BROKEN_TEX = {
    "exits 1": "exit 1",
    "writes no PDF": "exit 0",
    "writes a broken PDF": (
        f'"{REAL}" "$@" || exit $?\nfor a; do last=$a; done\n'
        'printf "%%PDF-1.4 garbage" > "${last%.tex}.pdf"'
    ),
    "writes an empty PDF": f'"{REAL}" "$@" || exit $?\nfor a; do last=$a; done\n: > "${{last%.tex}}.pdf"',
}


@pytest.mark.parametrize("broken", [None, *BROKEN_TEX])
def test_render_without_a_working_pdflatex_keeps_the_worksheet(here, monkeypatch, broken):
    """No pdflatex on PATH, or one that fails or writes a broken PDF (a cron job, another
    shell, a half-installed TeX): exit 2, one line, the old worksheet and its PDFs kept."""
    bin_ = here / "bin"
    if broken is None:
        bin_.mkdir()
        path = str(bin_)
    else:
        _fake_pdflatex(bin_, BROKEN_TEX[broken])
        path = f"{bin_}{os.pathsep}{os.environ['PATH']}"
    before = _tree(here)
    monkeypatch.setenv("PATH", path)
    res = _cli("render", "ws")
    assert res.exit_code == 2, res.output
    line = _one_line(res)
    if broken is None:
        assert "pdflatex not found" in line and "left as it was" in line
    assert _tree(here) == before
    assert not [p for p in here.iterdir() if p.name.startswith(".")]  # no staging left


def test_render_of_a_manifest_without_students_is_one_line(here):
    lines = Path("ws/manifest.json").read_text("utf-8").splitlines()
    Path("ws/manifest.json").write_text(f"{lines[0]}\n{lines[-1]}\n", "utf-8")
    before = _tree(here)
    res = _cli("render", "ws")
    assert res.exit_code == 2 and "students: none" in _one_line(res)
    assert _tree(here) == before


def test_render_never_deletes_a_file_of_someone_elses_in_the_parts_it_rebuilds(here):
    Path("ws/sheets/scan-of-ann.jpg").write_bytes(b"\xff\xd8 a scan")
    Path("ws/tex/notes").mkdir()
    before = _tree(here)
    res = _cli("render", "ws")
    assert res.exit_code == 2 and "sheets/scan-of-ann.jpg" in _one_line(res)
    assert _tree(here) == before


# --- the guard's rules, for any names ----------------------------------------------------------

_NAME = st.one_of(
    st.sampled_from(
        [
            "manifest.json",
            "keys",
            "problems",
            "s001.csv",
            "s001.toml",
            "x.pdf",
            "*",
            "a*b",
            ".",
            "[a]",
            "tex",
        ]
    ),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
        min_size=1,
        max_size=6,
    ),
).filter(lambda n: n not in (".", ".."))
_PATHS = st.lists(st.lists(_NAME, min_size=1, max_size=3).map(tuple), min_size=1, max_size=6)
_PATTERNS = st.lists(
    st.lists(
        st.sampled_from(["*", "*.csv", "keys", "s001.csv", "a*b", "[a]", "*.*", "tex"]),
        min_size=1,
        max_size=3,
    ).map("/".join),
    min_size=1,
    max_size=4,
)


def _oracle(layout, rel: tuple[str, ...], folder: bool) -> bool:
    """Whether ``layout`` makes ``rel``, by plain name-by-name comparison ('*' any run)."""
    import re

    def fits(name: str, pattern: str) -> bool:
        return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), name, re.S) is not None

    for p in layout.paths:
        parts = p.split("/")
        n = len(rel)
        if (n < len(parts) if folder else n == len(parts)) and all(map(fits, rel, parts[:n])):
            return True
    return False


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(paths=_PATHS, patterns=_PATTERNS)
def test_force_replaces_a_folder_only_when_the_command_makes_every_path_in_it(
    tmp_path_factory, paths, patterns
):
    """Whatever the names (pattern characters, dots, any script), a folder passes the
    guard with --force only when every path in it, at every depth, is one the command
    makes; otherwise it is refused in one line."""
    from lstm_exam.generator.store.guard import Layout, check_target, of_a_run

    folder = tmp_path_factory.mktemp("f") / "out"
    folder.mkdir()
    for rel in paths:
        try:
            (folder.joinpath(*rel[:-1])).mkdir(parents=True, exist_ok=True)
            (folder.joinpath(*rel)).write_text("x")
        except OSError:  # a name that is a file already, or too long for the system
            continue
    layout = Layout("cmd", "its output", tuple(patterns))
    every = [  # a lock or a staging folder of a run at the top is a run's, never refused
        (p.relative_to(folder).parts, p.is_dir())
        for p in folder.rglob("*")
        if not of_a_run(p.relative_to(folder).parts[0])
    ]
    allowed = all(_oracle(layout, rel, is_dir) for rel, is_dir in every)
    try:
        check_target(folder, layout, force=True)
        passed = True
    except InputError as e:
        passed = False
        assert "\n" not in e.line()
    assert passed == (allowed or not every)


#: What a worksheet folder is made of, and the send log in it (docs/formats.md).
OWN_PARTS = (
    "manifest.json",
    "problems",
    "answer-templates",
    "keys",
    "sheets",
    "tex",
    "class-sheets.pdf",
    "class-key.pdf",
    "send-log.jsonl",
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rel=st.lists(_NAME, min_size=1, max_size=3), host=st.booleans())
def test_no_output_is_or_lies_in_a_part_of_a_worksheet(tmp_path_factory, rel, host):
    """Any path under a worksheet: allowed only beside its parts (never one of them or
    in one), and only for a run that reads that worksheet."""
    from lstm_exam.generator.store.guard import check_place

    ws = tmp_path_factory.mktemp("w") / "ws"
    (ws / "keys").mkdir(parents=True)
    (ws / "manifest.json").write_text("{}")
    try:
        check_place(
            ws.joinpath(*rel), {"the worksheet folder": ws} if host else {}, ws if host else None
        )
        passed = True
    except InputError as e:
        passed = False
        assert "\n" not in e.line()
    assert passed == (host and rel[0] not in OWN_PARTS), (rel, host)
