"""Shared fixtures: paths to test data and a CLI runner in an isolated folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lstm_exam.cli import main
from lstm_exam.generator.core import defaults
from lstm_exam.generator.generate import generate
from lstm_exam.generator.spec.roster import read_roster
from lstm_exam.generator.spec.worksheet import builtin_path, load_spec

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _own_temporary_folder(tmp_path_factory, monkeypatch) -> None:
    """What the code under test puts in the temporary folder (the kept LaTeX of a failed
    run, say) lands in pytest's folder of the test, not in the machine's /tmp."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tmp")))


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo worksheet (default spec, sample roster, public demo seed), without PDFs."""
    out = tmp_path_factory.mktemp("demo") / "wk"
    generate(
        load_spec(None),
        read_roster(builtin_path("sample-roster.csv")),
        out,
        seed=defaults.DEMO_SEED,
    )
    return out


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run `lstm-exam ARGS...` in tmp_path; return the click Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke
