"""How the `lstm-exam` process ends early: its exit codes, and Ctrl-C while it starts.

Standard library only: the command line installs :func:`quit_at_once` before it imports
anything that takes a while.
"""

from __future__ import annotations

import os
import sys

#: The exit code of an interrupted run (128 + SIGINT, as a shell reports it).
INTERRUPTED = 130
#: The exit code of a run whose output was closed (128 + SIGPIPE, as a shell reports it).
PIPE_CLOSED = 141
#: What a run stopped before it changed anything says.
NOTHING_CHANGED = "interrupted: nothing was changed"


def quit_at_once(signum: int, frame: object) -> None:
    """Ctrl-C before a command has begun (while Python loads it): nothing to undo."""
    os.write(2, f"{NOTHING_CHANGED}\n".encode())
    os._exit(INTERRUPTED)


def the_program() -> bool:
    """Whether this process is `lstm-exam` (the console script or ``python -m lstm_exam``),
    not a program that imports the module (a test, a notebook)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return os.path.basename(sys.argv[0] if sys.argv else "") == "lstm-exam" or (
        spec is not None and spec.name == "lstm_exam.__main__"
    )
