"""Shared fixtures: paths to test data and a CLI runner in an isolated folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lstm_exam.cli import main

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run `lstm-exam ARGS...` in tmp_path; return the click Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke
