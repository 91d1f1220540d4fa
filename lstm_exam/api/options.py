"""What each command is told: one frozen record per command, built by keyword.

The fields are the command's options (`lstm-exam COMMAND --help`), with the command
line's defaults; the command line builds one from what it parsed, a program by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lstm_exam.generator.core import defaults

#: Where `demo` writes by default.
DEMO_FOLDER = Path(defaults.OUTPUT_ROOT) / "demo"


@dataclass(frozen=True, slots=True, kw_only=True)
class SolveOptions:
    """`solve`."""

    problem_file: Path | None = None
    """The problems; None: the lecture's forget-gate example."""
    as_json: bool = False
    """Every intermediate as JSON (docs/formats.md) instead of tables."""
    full: bool = False
    """The full-precision chain beside the rounded one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateOptions:
    """`generate`."""

    spec_file: Path | None = None
    """The spec; None: the built-in weekly sheet."""
    roster: Path | None = None
    """A roster CSV; with neither it nor ``count``, the bundled sample roster."""
    count: int | None = None
    """Instead of a roster: this many numbered students."""
    out: Path | None = None
    """The worksheet folder; None: output/<worksheet-slug>/."""
    force: bool = False
    new_seed: bool = False
    """With ``force`` over a worksheet: new numbers (by default its seed is kept)."""
    no_pdf: bool = False
    templates: Path | None = None
    seed: str | None = None
    """Overrides the spec's seed (not an option of the command line)."""
    tex_timeout: float | None = None
    duplex: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """`render`."""

    folder: Path
    templates: Path | None = None
    """Custom templates: taken from here only, never from the manifest."""
    tex_timeout: float | None = None
    duplex: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class QuizOptions:
    """`quiz`."""

    spec_file: Path | None = None
    to: str
    """"moodle", "canvas" or "html"."""
    count: int
    out: Path | None = None
    """None: output/<worksheet-slug>-<to>/."""
    seed: str | None = None
    key: bool = False
    """Also the key PDF of the variants."""
    force: bool = False
    tex_timeout: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeOptions:
    """`grade`."""

    worksheet: Path
    submissions: Path
    """A folder or a zip of filled PDF sheets and CSVs."""
    out: Path | None = None
    """The results folder; None: WORKSHEET/grades/."""
    force: bool = False
    moodle_worksheet: Path | None = None
    canvas_gradebook: Path | None = None
    map_file: Path | None = None
    missing_zero: bool = False
    """A student who sent nothing scores 0 (by default: blank)."""
    canvas_assignment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendOptions:
    """`send` by e-mail, or with ``dry_run`` into a folder of .eml files."""

    worksheet: Path
    what: str
    """"sheets", "keys" or "feedback"."""
    sender: str
    smtp: str | None = None
    """"HOST:PORT"."""
    grades: Path | None = None
    """For "feedback": the grades folder; None: WORKSHEET/grades/."""
    dry_run: Path | None = None
    """A folder: each message written there as <id>.eml, nothing sent."""
    force: bool = False
    resend: bool = False
    only: tuple[str, ...] = ()
    """These students only; empty: the whole roster."""
    starttls: bool | None = None
    """True requires STARTTLS, False never uses it, None requires it unless the server
    is this machine."""
    environ: Mapping[str, str] | None = None
    """Where the login is read (LSTM_EXAM_SMTP_USER, LSTM_EXAM_SMTP_PASSWORD); None:
    the process's environment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MoodleZipOptions:
    """`send --moodle-zip`."""

    worksheet: Path
    what: str
    out: Path
    """The zip."""
    moodle_worksheet: Path | None = None
    grades: Path | None = None
    force: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    """`demo`."""

    out: Path = DEMO_FOLDER
    no_pdf: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """`export`."""

    problem_file: Path
    framework: str
    """"pytorch" or "keras"."""
    number: int | None = None
    """The problem of the file; None: the first that holds all four gates."""
    out: Path = Path(".")
    force: bool = False
