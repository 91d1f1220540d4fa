"""Templates bounded like TeX (issue 21, fault 9's templates and fault 10's time limit).

A colleague's template is code: whatever it does, the run ends with one line naming the
template and its line, exit 2, nothing written; it never hangs, never takes the machine's
memory. Time limits count CPU time, so a loaded machine does not stop a legitimate class.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.generate import build_manifest
from lstm_exam.generator.render.document import Rendered, render_tex
from lstm_exam.generator.render.latex import template_folder
from lstm_exam.generator.render.typeset import fill, pdflatex
from lstm_exam.generator.runtime import Stopped, confined
from lstm_exam.generator.spec.roster import numbered_roster
from lstm_exam.generator.spec.worksheet import load_spec

MARKER = r"\textbf{Instructions.}"


def _templates(folder: Path, line: str, into: str = "sheet.tex.j2") -> Path:
    """A copy of the built-in templates with ``line`` after the sheet's instructions (or
    at the top of the body of ``into``)."""
    tpl = folder / "tpl"
    shutil.copytree(template_folder(), tpl, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    text = (tpl / into).read_text("utf-8")
    if MARKER in text:
        text = text.replace(MARKER, MARKER + "\n" + line, 1)
    else:
        text = text.replace(r"\begin{document}", "\\begin{document}\n" + line, 1)
    (tpl / into).write_text(text, "utf-8")
    return tpl


def _one_error_line(stderr: str) -> str:
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]


@pytest.fixture(scope="module")
def manifest():
    m, _, _ = build_manifest(load_spec(None), numbered_roster(1), "tmpl-hardening-seed")
    return m


# --- the quoted faults and their class, through the command line ------------------------

#: A template's line and what the one error line says of it.
HOSTILE = [
    # the list grown while it is looped over (issue 21): Jinja's immutable sandbox
    ("((* set l = [1] *))((* for x in l *))((( l.append(x) )))((* endfor *))", "refused"),
    ("((( 'a' * 10**9 )))", "refused"),
    ("((( [1] * 10**9 )))", "refused"),
    ("((( range(10**9) )))", "refused"),  # was a traceback
    ("((( ('x' * 100000)|join('y' * 100000) )))", "refused"),
    ("((( (range(100000)|list)|join('y' * 100) )))", "refused"),
    ("((( '%999999999d'|format(1) )))", "refused"),
    ("((( '%*d' % (10**9, 1) )))", "refused"),
    ('((( "{:>999999999}".format(1) )))', "refused"),
    ('((( "{:>{w}}".format(1, w=10**9) )))', "refused"),
    ("((( lipsum(10**9) )))", "refused"),
    ("((( 'a'.ljust(10**9) )))", "refused"),
    ("((( 'a'|center(10**9) )))", "refused"),
    ("((( [1]|batch(10**9, 'x')|list )))", "refused"),
    ("((( [1, 2]|tojson(indent=10**9) )))", "refused"),
    ("((( 2 ** (10**9) )))", "refused"),
    ("((* macro r(n) *))((( r(n + 1) )))((* endmacro *))((( r(0) )))", "endless recursion"),
    ("((( 1 / 0 )))", "ZeroDivisionError"),
    ("((( (10**5000)|string )))", "ValueError"),
    # grown without a bound the sandbox can see: the memory limit of the process
    (
        "((* set ns = namespace(s='a') *))((* for i in range(64) *))"
        "((* set ns.s = ns.s ~ ns.s *))((* endfor *))((( ns.s|length )))",
        "ran out of memory",
    ),
]


@pytest.mark.parametrize(("line", "says"), HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_a_hostile_template_is_one_line_naming_its_line(run, tmp_path, line, says):
    tpl = _templates(tmp_path, line)
    t0 = time.monotonic()
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl, "--tex-timeout", "5")
    assert time.monotonic() - t0 < 60
    assert res.exit_code == 2
    error = _one_error_line(res.stderr)
    assert says in error
    assert re.match(rf"error: {re.escape(str(tpl / 'sheet.tex.j2'))}: line \d+: ", error), error
    assert not Path("o").exists()


@pytest.mark.parametrize(
    "line",
    [
        "((* for i in range(100000) *))((* for j in range(100000) *))((( i )))"
        "((* endfor *))((* endfor *))",
        "((* for i in range(100000) *))((* for j in range(100000) *))((* if i == j *))"
        "x((* endif *))((* endfor *))((* endfor *))",
    ],
)
def test_an_endless_jinja_loop_is_stopped_at_the_time_limit(run, tmp_path, line):
    """The time limit covered TeX, not Jinja: a loop of loops ran on."""
    tpl = _templates(tmp_path, line)
    t0 = time.monotonic()
    res = run("generate", "--count", "1", "--out", "o", "--templates", tpl, "--tex-timeout", "2")
    assert time.monotonic() - t0 < 60
    assert res.exit_code == 2
    error = _one_error_line(res.stderr)
    assert "time limit" in error and "--tex-timeout" in error
    assert not Path("o").exists()


def test_the_quiz_key_fills_its_templates_in_the_same_bounds(run, tmp_path):
    _templates(tmp_path, "((( 'a' * 10**9 )))", into="keys.tex.j2")
    spec = run("spec").stdout.replace('title = "', 'templates = "tpl"\ntitle = "', 1)
    Path("s.toml").write_text(spec, "utf-8")
    res = run("quiz", "s.toml", "--to", "html", "--count", "1", "--key", "--out", "q")
    assert res.exit_code == 2
    assert "refused" in _one_error_line(res.stderr)
    assert not Path("q").exists()


# --- the sandbox, directly ------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "printed"),
    [
        ("'%5.2f'|format(3.14159)", " 3.14"),
        ('"{:>6}".format("ab")', "    ab"),
        ("'ab' * 3", "ababab"),
        ("range(3)|join(', ')", "0, 1, 2"),
        ("', '.join(['a', 'b'])", "a, b"),
        ("'a'.ljust(3) ~ '|'", "a  |"),
        ("([1, 2] + [3])|length", "3"),
        ("2 ** 10", "1024"),
        ("'x'|center(5)", "  x  "),
        ("range(100000)|batch(1000)|list|length", "100"),
        ("'abc'|replace('b', 'x')", "axc"),
        ("'abc'.replace('b', 'x')", "axc"),
        ("lipsum(1, false, 3, 5)|length > 0", "True"),
    ],
)
def test_what_a_template_needs_still_works(tmp_path, manifest, expr, printed):
    tpl = _templates(tmp_path, f"QQ((( {expr} )))QQ")
    tex = render_tex(manifest, tpl, ("sheets",)).tex["class-sheets"]
    got = re.search("QQ(.*?)QQ", tex)
    assert got and got.group(1).split() == printed.split()  # printed text: spaces collapsed


@pytest.mark.parametrize(
    "expr",
    [
        "('a' * 1000)|replace('a', 'b' * 10000)",
        "('a' * 1000).replace('a', 'b' * 10000)",
        "('\\t' * 1000).expandtabs(100000)",
        "('a' * 1000).translate({97: 'b' * 10000})",
        "'x'.zfill(10**7)",
        "'x'|indent(10**7)",
        "'x' + 'y' * 1000000",
        "[0] * 1000 * 1001",
        "10 ** (10**7)",
        "'%.9999999f' % 1.5",
        "'{0:{1}}'.format(1, 10**7)",
        "'{:>{w}}'.format_map({'w': 10**7})",
        "lipsum(2, false, 10**7, 10**7)",
        "', '.join(range(100000)|map('string')) ~ ', '.join(['x' * 1000] * 1000)",
    ],
)
def test_the_sandbox_refuses_what_would_grow_past_its_bound(tmp_path, manifest, expr):
    tpl = _templates(tmp_path, f"((( {expr} )))")
    with pytest.raises(InputError) as e:
        render_tex(manifest, tpl, ("sheets",))
    assert e.value.place.startswith("line ") and "refused" in e.value.fault, e.value.line()


def test_the_built_in_templates_fill_in_their_bounds(manifest):
    assert isinstance(fill(manifest, None), Rendered)


# --- time limits count CPU time -------------------------------------------------------


def _busy_loops(n: int, seconds: float) -> list[subprocess.Popen]:
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.skipif(pdflatex() is None, reason="needs pdflatex")
def test_a_loaded_machine_does_not_stop_a_legitimate_render(run, tmp_path):
    """A legitimate class was stopped by the TeX time limit on a loaded machine (it
    measured wall time). Here the run shares one core with six busy loops: it takes
    several times the limit in wall time, while pdflatex's own CPU time fits in it."""
    limit = 3  # pdflatex takes about 1.3 s of CPU time for a student's sheet or key
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # this run and its children on one core ...
    loops = _busy_loops(6, 120)  # ... with six busy loops
    try:
        t0 = time.monotonic()
        res = run("generate", "--count", "1", "--out", "o", "--tex-timeout", str(limit))
        took = time.monotonic() - t0
    finally:
        os.sched_setaffinity(0, cores)
        for p in loops:
            p.kill()
            p.wait()
    assert res.exit_code == 0, res.stderr
    assert Path("o/class-sheets.pdf").exists() and Path("o/sheets/s001.pdf").exists()
    assert took > limit  # the load really slowed the run past the limit in wall time
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert children.ru_utime + children.ru_stime > 0


def test_a_process_that_waits_is_stopped_by_the_wall_time_backstop(monkeypatch):
    monkeypatch.setattr(defaults, "WALL_FACTOR", 3)
    t0 = time.monotonic()
    with pytest.raises(Stopped) as e:
        confined(lambda: time.sleep(60), cpu=1, memory=100_000_000)
    assert e.value.why == "time" and time.monotonic() - t0 < 20


def test_a_process_that_works_past_its_cpu_time_is_stopped():
    def spin() -> None:
        while True:
            pass

    t0 = time.monotonic()
    with pytest.raises(Stopped) as e:
        confined(spin, cpu=1, memory=100_000_000)
    assert e.value.why == "time" and time.monotonic() - t0 < 15


def test_a_confined_result_and_fault_travel_back():
    assert confined(lambda: "x" * 10, cpu=5, memory=100_000_000) == "x" * 10
    with pytest.raises(InputError, match="the fault"):
        confined(lambda: (_ for _ in ()).throw(InputError("f", "", "the fault")), 5, 10**8)
    with pytest.raises(MemoryError):
        confined(lambda: bytearray(500_000_000), cpu=5, memory=100_000_000)


@pytest.mark.skipif(pdflatex() is None, reason="needs pdflatex")
def test_a_memory_limit_set_from_outside_is_kept_and_the_pdfs_are_made(tmp_path):
    """Under `ulimit -v` below what a child would be given, the children (the templates'
    and pdflatex) stay within the outside limit rather than fail to set theirs: a
    preexec_fn traceback before."""
    exe = Path(sys.executable).with_name("lstm-exam")
    limit = 900_000_000

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [str(exe), "generate", "--count", "2", "--out", "w"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        preexec_fn=cap,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in (tmp_path / "w" / "sheets").iterdir()) == ["s001.pdf", "s002.pdf"]


def test_a_confined_child_never_asks_above_the_outside_hard_limit():
    """A child given more memory than the process may ever have is given the outside
    limit instead, and still works."""
    outside = 4_000_000_000
    pid = os.fork()
    if pid == 0:  # a process of its own: the lowered hard limit ends with it
        code = 1
        try:
            resource.setrlimit(resource.RLIMIT_AS, (outside, outside))
            code = 0 if confined(lambda: "ok", cpu=5, memory=10 * outside) == "ok" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# --- any template from hostile fragments: one line or a document -------------------------

_SIZES = st.sampled_from(["0", "3", "100000", "1000001", "10**9", "-5", "10**5000"])
_ATOMS = st.sampled_from(
    ["'a'", "[1]", "(1, 2)", "'%d'", "'{:>9}'", "ns.s", "lipsum(1)", "cycler(1, 2)", "x"]
)


def _expr(children):
    return st.one_of(
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]}) * {t[1]}"),
        st.tuples(children, children).map(lambda t: f"({t[0]}) ~ ({t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]}) + ({t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]})|join({t[1]})"),
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]})|center({t[1]})"),
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]})|batch({t[1]})|list"),
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]}).ljust({t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]})|replace('', {t[1]})"),
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]}) % {t[1]}"),
        st.tuples(children, _SIZES).map(lambda t: f"({t[0]}).format({t[1]})"),
        st.tuples(_SIZES, _SIZES).map(lambda t: f"{t[0]} ** {t[1]}"),
        _SIZES.map(lambda n: f"range({n})"),
        _SIZES.map(lambda n: f"lipsum({n})"),
        _SIZES.map(lambda n: f"'%{n.replace('*', '')}d'|format(1)"),
        children.map(lambda e: f"({e})|list|length"),
        children.map(lambda e: f"({e}).__class__"),
        children.map(lambda e: f"({e}).append(1)"),
        children.map(lambda e: f"({e})|string"),
    )


_EXPRS = st.recursive(st.one_of(_ATOMS, _SIZES), _expr, max_leaves=6)

_STATEMENTS = st.one_of(
    _EXPRS.map(lambda e: f"((( {e} )))"),
    st.tuples(_EXPRS, _EXPRS).map(lambda t: f"((* for x in {t[0]} *))((( {t[1]} )))((* endfor *))"),
    st.tuples(_EXPRS, _EXPRS).map(
        lambda t: (
            f"((* for x in {t[0]} *))((* for y in {t[0]} *))((( {t[1]} )))"
            "((* endfor *))((* endfor *))"
        )
    ),
    _SIZES.map(
        lambda n: f"((* for i in range({n}) *))((* set ns.s = ns.s ~ ns.s *))((* endfor *))"
    ),
    _EXPRS.map(lambda e: f"((* set l = {e} *))((* for x in l *))((( l.append(x) )))((* endfor *))"),
    st.just("((* macro r(n) *))((( r(n + 1) )))((* endmacro *))((( r(0) )))"),
    st.just("((* include 'sheet.tex.j2' *))"),
    _EXPRS.map(lambda e: f"((( {e} "),  # unclosed
    _EXPRS.map(lambda e: f"((* if {e} *))"),  # no endif
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_STATEMENTS, min_size=1, max_size=3))
def test_any_template_is_one_line_or_a_document_in_bounded_memory(manifest, monkeypatch, lines):
    monkeypatch.setattr(defaults, "TEMPLATE_MEMORY", 300_000_000)
    body = "((* set ns = namespace(s='ab') *))((* set x = 'x' *))" + "\n".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        tpl = _templates(Path(tmp), body)
        t0 = time.monotonic()
        try:
            got = fill(manifest, tpl, ("sheets",), limit=1)
        except InputError as e:
            assert "\n" not in e.line() and e.fault
            assert e.file.startswith(str(tpl)), e.line()
        else:
            assert isinstance(got, Rendered) and "class-sheets" in got.tex
        assert time.monotonic() - t0 < 10 * defaults.WALL_FACTOR
    # every child this test filled templates in stayed inside its memory (RSS in KB)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert peak < 2_000_000_000


def test_render_with_a_hostile_template_keeps_the_worksheet_as_it_was(run, tmp_path):
    assert run("generate", "--count", "1", "--out", "wk", "--no-pdf").exit_code == 0
    before = {p: p.read_bytes() for p in Path("wk").rglob("*") if p.is_file()}
    tpl = _templates(tmp_path, "((( range(10**9)|list )))")
    res = run("render", "wk", "--templates", tpl)
    assert res.exit_code == 2
    assert "refused" in _one_error_line(res.stderr)
    assert {p: p.read_bytes() for p in Path("wk").rglob("*") if p.is_file()} == before
