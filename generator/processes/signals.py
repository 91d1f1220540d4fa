"""Ctrl-C and the garbage collector, as a run needs them: the first Ctrl-C stops it, a
block that puts a folder in place finishes first, and work that makes no reference
cycles runs without the collector."""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


def stop_at_first_interrupt() -> Callable[..., Any] | int | None:
    """From now on the first Ctrl-C (SIGINT) stops the run with KeyboardInterrupt and any
    later one is ignored, so that the run's cleanup (removing its staging folder, putting
    back the old one) is never cut short. The handler it replaces (to restore)."""
    return signal.signal(signal.SIGINT, _interrupted)


def _interrupted(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C waits for the end of the block (which puts a finished folder in place, or
    the old one back): it is raised there, once the block is done. In another thread
    than the main one, where no Python signal handler runs, it holds nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, Any]] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: caught.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
        if caught and callable(before):
            before(*caught[0])


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread (and so in the processes and threads it starts)
    inside; one that came meanwhile is delivered at the end."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for work that builds millions of objects and
    no cycles (parsing a manifest, searching and grading a class), which the collector
    would only rescan again and again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """:func:`gc_paused`, and every object made before it frozen out of the collector's
    sight, for a run whose results pile up until its end (here and in the workers forked
    inside: grading makes no reference cycles, and the collector would only scan the
    results again and again)."""
    gc.freeze()
    try:
        with gc_paused():
            yield
    finally:
        gc.unfreeze()
