"""The library's face after issue 22: one option record per command, one progress object,
the wording in the command line, and a `--help` that loads nothing of the library."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_exam import api
from lstm_exam.cli.terminal import interrupted_line, notice_text
from lstm_exam.generator.core import defaults

ROOT = Path(__file__).resolve().parent.parent

OPTION_RECORDS = (
    api.SolveOptions,
    api.GenerateOptions,
    api.RenderOptions,
    api.QuizOptions,
    api.GradeOptions,
    api.SendOptions,
    api.MoodleZipOptions,
    api.DemoOptions,
    api.ExportOptions,
)


class Recorded(api.Quiet):
    """A progress that keeps every event it hears."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def stage(self, label: str, total: int) -> None:
        self.events.append(("stage", label, total))

    def tick(self, units: int) -> None:
        self.events.append(("tick", units))

    def notice(self, event: api.Notice, detail: str) -> None:
        self.events.append(("notice", event, detail))


@pytest.mark.parametrize("record", OPTION_RECORDS, ids=lambda r: r.__name__)
def test_an_option_record_is_frozen_and_built_by_keyword(record):
    params = dataclasses.fields(record)
    assert all(f.kw_only for f in params)
    with pytest.raises(TypeError):
        record(*[None] * len(params))  # positional arguments are refused
    required = {
        f.name: Path("x")
        for f in params
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    if "count" in required:
        required["count"] = 1
    made = record(**required)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, params[0].name, None)


def test_generate_reports_to_one_progress_object(tmp_path):
    """Without roster and count: the sample roster's notice, then one stage whose total
    the ticks add up to; no sentence reaches the progress, only events."""
    progress = Recorded()
    spec = tmp_path / "spec.toml"
    spec.write_text(f'seed = "{defaults.DEMO_SEED}"\n[[problems]]\nkind = "forget_gate"\n')
    options = api.GenerateOptions(spec_file=spec, out=tmp_path / "o", no_pdf=True)
    result = api.generate_worksheet(options, progress)
    notices = [e[1] for e in progress.events if e[0] == "notice"]
    assert notices == [api.Notice.SAMPLE_ROSTER, api.Notice.DEMO_SEED]
    stages = [e for e in progress.events if e[0] == "stage"]
    assert stages == [("stage", "Generating", result.students)]
    assert sum(e[1] for e in progress.events if e[0] == "tick") == result.students
    assert progress.events.index(("notice", api.Notice.DEMO_SEED, "")) < progress.events.index(
        stages[0]
    )


def test_the_command_line_words_the_notices(run):
    res = run("generate", "--no-pdf", "--out", "wk")
    assert res.exit_code == 0, res.stderr
    assert res.stderr.startswith("No --roster given: using the bundled sample roster.\n")


@given(
    event=st.sampled_from(list(api.Notice)),
    detail=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")),
)
def test_every_notice_is_one_line(event, detail):
    text = notice_text(event, detail)
    assert "\n" not in text
    if event in (api.Notice.SPEC_TEMPLATES, api.Notice.INPUT_NOTE):
        assert detail in text
    else:  # a sentence of its own, whatever the detail
        assert text and text == notice_text(event, "")


def test_an_interrupted_run_names_what_it_finished_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if not api.finished_outputs():  # the process's first outputs (a run of this file alone)
        assert interrupted_line() == "interrupted: nothing was changed"
    api.copy_templates(tmp_path / "tpl")
    api.copy_templates(tmp_path / "tpl2")
    line = interrupted_line()
    assert line.startswith("interrupted: nothing was changed but ")
    assert line.endswith(" tpl, tpl2, written in full before")
    assert defaults.SEND_LOG in interrupted_line(sending=True)


def test_help_loads_neither_the_library_nor_a_heavy_module():
    """`lstm-exam --help` loads click and the command line alone: not the api, not the
    runtime (pickle, threads), not numpy, sympy or jinja2."""
    script = (
        "import json, sys\n"
        "sys.argv = ['lstm-exam', '--help']\n"
        "from lstm_exam.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    heavy = {"numpy", "sympy", "jinja2", "pylatex", "pikepdf", "pickle", "lstm_exam.api"}
    assert not loaded & heavy
    assert not {m for m in loaded if m.startswith("lstm_exam.generator.runtime")}


def test_the_front_modules_stay_small():
    """api and cli: each module at most about 450 lines (issue 22)."""
    files = [*(ROOT / "lstm_exam" / "api").glob("*.py"), *(ROOT / "lstm_exam" / "cli").glob("*.py")]
    assert files
    assert {f.name: n for f in files if (n := len(f.read_text("utf-8").splitlines())) > 450} == {}
