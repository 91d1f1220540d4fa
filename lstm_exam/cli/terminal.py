"""What `lstm-exam` shows on the terminal besides a command's own output: the one line of
an error or an interruption, warnings, notices and the progress bar.

The wording of everything the library reports as data (:class:`lstm_exam.api.Notice`,
the outputs an interrupted run finished) is here. Nothing of the library is imported
before a command runs, so that `lstm-exam --help` starts at once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lstm_exam.cli.exits import (
    INTERRUPTED,
    NOTHING_CHANGED,
    PIPE_CLOSED,
    quit_at_once,
    the_program,
)

if TYPE_CHECKING:
    from lstm_exam.api import Notice


def reports_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input: one line on stderr, exit code 2, no traceback. Ctrl-C: one line saying
    what the run left (nothing, or what it had finished), exit code 130. A closed output
    (``| head``): one line, exit code 141."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from lstm_exam.generator.core.errors import InputError
        from lstm_exam.generator.runtime import stop_at_first_interrupt

        before = stop_at_first_interrupt()
        try:
            return function(*args, **kwargs)
        except KeyboardInterrupt:
            say(interrupted_line(sending=sending()))
            exit_interrupted()
        except InputError as e:
            say(f"error: {e.line()}")
            sys.exit(2)
        except BrokenPipeError as e:
            if not output_closed():
                say(f"error: {e.filename or 'lstm-exam'}: {e.strerror or e}")
                sys.exit(2)
            say("error: stdout: closed before everything was printed (broken pipe)")
            sys.exit(PIPE_CLOSED)
        except OSError as e:  # no permission, a read-only folder, a full disk
            where = e.filename or "lstm-exam"
            say(f"error: {where}: {e.strerror or e}")
            sys.exit(2)
        finally:  # the command is done: a late Ctrl-C has nothing left to stop
            signal.signal(signal.SIGINT, signal.SIG_IGN if before is quit_at_once else before)

    return wrapper


def interrupted_line(sending: bool = False) -> str:
    """What a run stopped by Ctrl-C says: that nothing was changed (every output is
    written all at once, so an interrupted one is as it was), or which outputs it had
    finished before; for a `send` that delivers (``sending``), that its log knows what
    went out."""
    from lstm_exam import api
    from lstm_exam.generator.core.defaults import SEND_LOG

    if sending:
        return (
            f"interrupted: {SEND_LOG} records every message sent so far; a rerun "
            "sends the rest (one cut off mid-delivery is held back: it may have arrived)"
        )
    done = api.finished_outputs()
    if not done:
        return NOTHING_CHANGED
    names = ", ".join(shown_path(p) for p in done)
    return f"interrupted: nothing was changed but {names}, written in full before"


def shown_path(path: Path) -> str:
    """``path`` as the user is shown it: relative to the working folder where it lies in it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def exit_interrupted() -> None:
    """Exit 130. The program ends at once (its cleanup is done by now), so that no thread
    a stopped library left behind can keep it waiting; a caller of the module gets
    SystemExit."""
    if the_program():
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(INTERRUPTED)
    sys.exit(INTERRUPTED)


def say(line: str) -> None:
    """One line on stderr, if stderr can still take it."""
    with contextlib.suppress(OSError):
        click.echo(line, err=True)


def sending() -> bool:
    """Whether this run is a `send` that delivers (its log is written as it goes)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "send":
        return False
    return not ctx.params.get("dry_run") and ctx.params.get("moodle_zip") is None


def output_closed() -> bool:
    """Whether stdout or stderr is a pipe nobody reads any more (then everything later
    written to it is dropped, so Python's exit does not complain about it again)."""
    closed = False
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            if any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0)):
                closed = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, fd)
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no file behind it (a test's)
            continue
    return closed


def warn(notes: Sequence[str]) -> None:
    """Each note of the work, as a warning on stderr."""
    for note in notes:
        click.echo(f"warning: {note}", err=True)


def notice_text(event: Notice, detail: str) -> str:
    """The sentence of a notice (:class:`lstm_exam.api.Notice`)."""
    from lstm_exam.api import Notice

    if event is Notice.SAMPLE_ROSTER:
        return "No --roster given: using the bundled sample roster."
    if event is Notice.SPEC_TEMPLATES:
        return (
            f"Typesetting with the custom templates in {detail}/ (named by the spec; "
            "--templates DIR chooses others)."
        )
    if event is Notice.DEMO_SEED:
        return (
            "warning: the spec's seed is the public demo seed: anyone can work out every "
            "student's numbers; give the spec a secret seed of your own"
        )
    if event is Notice.KEPT_SEED:
        return (
            "Keeping the seed of the worksheet this replaces: every student keeps their "
            "numbers (--new-seed draws new ones)."
        )
    return detail  # Notice.INPUT_NOTE: the reader's own sentence


class Bar:
    """The command line's :class:`lstm_exam.api.Progress`: notices on stderr, and a
    progress bar on stderr that appears only once the work (and its length) is known,
    so that bad input stays one line; its label follows the work's stages."""

    def __init__(self) -> None:
        self.bar: Any = None

    def stage(self, label: str, total: int) -> None:
        """A stage begins: the bar appears with its label, or takes the new label."""
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
        else:
            self.bar.label = label

    def tick(self, units: int) -> None:
        if self.bar is not None:
            self.bar.update(units)

    def notice(self, event: Notice, detail: str) -> None:
        click.echo(notice_text(event, detail), err=True)

    def close(self) -> None:
        """The bar ends (once, however often it is closed)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
