"""What a command reports while it works: one progress object, given to the command.

A command tells its :class:`Progress` when a stage of the work begins and how long the
whole work is (:meth:`~Progress.stage`), each unit of work done (:meth:`~Progress.tick`)
and what the user should know before the work starts (:meth:`~Progress.notice`). The
notices are events, not sentences: their wording is the caller's (the command line's
lives in :mod:`lstm_exam.cli`).
"""

from __future__ import annotations

import enum
from typing import Protocol


class Notice(enum.Enum):
    """An event a command reports before its work starts."""

    SAMPLE_ROSTER = "sample-roster"
    """No roster and no count given: the bundled sample roster is used."""
    SPEC_TEMPLATES = "spec-templates"
    """The spec names custom templates (the detail: their folder)."""
    DEMO_SEED = "demo-seed"
    """The spec gives the public demo seed."""
    KEPT_SEED = "kept-seed"
    """`generate --force` keeps the seed of the worksheet it replaces."""
    INPUT_NOTE = "input-note"
    """A note of the layer that read an input, its text the detail (how a roster was read)."""


class Progress(Protocol):
    """The events a command reports while it works."""

    def stage(self, label: str, total: int) -> None:
        """A stage of the work begins ("Generating", "Typesetting", "Drawing", "Grading",
        "Sending", "Writing"); ``total``: the units of the whole work."""
        ...

    def tick(self, units: int) -> None:
        """``units`` more units of work are done."""
        ...

    def notice(self, event: Notice, detail: str) -> None:
        """Something the user should know before the work starts; ``detail`` is the
        templates' folder or the note's text where the event has one, else ""."""
        ...


class Quiet:
    """A progress that reports nothing: the default of every command."""

    def stage(self, label: str, total: int) -> None:
        pass

    def tick(self, units: int) -> None:
        pass

    def notice(self, event: Notice, detail: str) -> None:
        pass


#: The progress of a command given none.
QUIET: Progress = Quiet()
