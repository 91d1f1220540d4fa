"""Issue 21, the rest: one seed rule everywhere a seed enters; `render` never takes templates
from the manifest; Ctrl-C and a closed pipe are one line, and nothing is left half-written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam import api
from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.generate import build_manifest, generate
from lstm_exam.generator.spec.worksheet import load_spec, parse_spec

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
        api.generate_worksheet(None, count=1, out=tmp_path / "o", no_pdf=True, seed="x")
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
        ways.append(lambda: api.make_quiz(None, "html", 1, tmp_path / "q", seed=seed))
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
