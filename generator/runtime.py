"""Work over a large class in forked worker processes, the results in roster order.

The work function is left in a module global before the fork, so the workers
inherit it (and the manifest or worksheet it closes over) and nothing large is
ever pickled; only the results travel back.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from lstm_exam.generator.core import defaults

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")


_WORK: dict[str, Callable[[int, int], list[Any]]] = {}
#: The worker pools running now (one at most in practice), for :func:`stop_workers`.
_POOLS: list[ProcessPoolExecutor] = []


def fork_map(
    fn: Callable[[int], T], n: int, tick: Callable[[int], None] | None = None, size: int = 250
) -> Iterator[T]:
    """``fn(0), ..., fn(n - 1)`` in order: in worker processes from
    ``PARALLEL_FROM`` items on a machine with several cores, else in this one.

    The workers start at once, so the caller's own work overlaps with theirs.
    """
    # in this process, item by item: the progress bar moves with every one
    return fork_chunks(
        lambda lo, hi: [fn(k) for k in range(lo, hi)], n, tick, size if forks(n) else 1
    )


def fork_chunks(
    fn: Callable[[int, int], list[T]],
    n: int,
    tick: Callable[[int], None] | None = None,
    size: int = 250,
    at_least: int | None = None,
) -> Iterator[T]:
    """:func:`fork_map` for work done a chunk at a time: ``fn(lo, hi)`` gives the
    results of items lo..hi - 1 (chunks of ``size``), yielded one by one in order; in
    worker processes from ``at_least`` items on (None: ``defaults.PARALLEL_FROM``)."""
    if not forks(n, at_least):
        return _in_process(fn, n, tick, size)
    _WORK["fn"] = fn  # inherited by the forked workers, never pickled
    import multiprocessing as mp  # here: a small class, the usual case, never needs it
    from concurrent.futures import ProcessPoolExecutor

    pool = None
    try:
        # Ctrl-C held back while the workers are forked: each starts with it blocked and
        # ignores it before it lets it through (the run stops them itself), and this
        # process handles it only once the pool is known to stop_workers
        with _sigint_blocked():
            pool = ProcessPoolExecutor(
                _workers(),
                mp_context=mp.get_context("fork"),
                initializer=child_dies_with_parent(),
            )
            _POOLS.append(pool)
            futures = [pool.submit(_chunk, (k, min(k + size, n))) for k in range(0, n, size)]
    except BaseException:
        if pool is not None:
            _stop(pool)
        raise
    return _collect(pool, futures, tick)


def die_with_parent(parent: int) -> None:
    """In a child (a worker, or pdflatex before it starts): ignore Ctrl-C, and be killed
    with the run that started it (Linux's parent-death signal), so that no process
    outlives a killed run or waits forever for work (elsewhere than Linux: only the former).

    The parent calls :func:`child_dies_with_parent` first, which finds libc's prctl
    before the fork (a forked child should load no library)."""
    # Ctrl-C reaches the whole foreground process group: a child leaves it to the run,
    # which stops its children itself (so no child prints a traceback of its own)
    with contextlib.suppress(ValueError, AttributeError):  # no signals off Unix
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    prctl = _libc_prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the run died before the signal was set
        os._exit(1)


def child_dies_with_parent() -> Callable[[], None]:
    """What a child this process starts runs first: :func:`die_with_parent` of this one."""
    _libc_prctl()
    return functools.partial(die_with_parent, os.getpid())


@functools.cache
def _libc_prctl() -> Any:
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PR_SET_PDEATHSIG = 1


def forks(n: int, at_least: int | None = None) -> bool:
    """Whether :func:`fork_map` runs ``n`` items in worker processes (from ``at_least``
    on; None: from ``defaults.PARALLEL_FROM``, read when called)."""
    if n < (defaults.PARALLEL_FROM if at_least is None else at_least) or _workers() < 2:
        return False
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def workers() -> int:
    """How many worker processes a forked run uses."""
    return _workers()


def _workers() -> int:
    return min(os.cpu_count() or 1, 8)


def shares(n: int) -> int:
    """Into how many shares :func:`fork_map` splits ``n`` items to keep every worker
    busy: one a worker, or 1 in this process."""
    return _workers() if forks(n) else 1


def _chunk(bounds: tuple[int, int]) -> list:
    return _WORK["fn"](*bounds)


def _in_process(
    fn: Callable[[int, int], list[T]], n: int, tick: Callable[[int], None] | None, size: int
) -> Iterator[T]:
    for lo in range(0, n, size):
        done = fn(lo, min(lo + size, n))
        yield from done
        if tick:
            tick(len(done))


def _collect(
    pool: ProcessPoolExecutor, futures: list[Future], tick: Callable[[int], None] | None
) -> Iterator[Any]:
    try:
        for fut in futures:
            done = fut.result()
            yield from done
            if tick:
                tick(len(done))
    except BaseException:
        _stop(pool)
        raise
    finally:
        pool.shutdown(cancel_futures=True)
        if pool in _POOLS:
            _POOLS.remove(pool)
        _WORK.clear()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers at once (whatever they are doing) and wait until they are
    gone: nothing of theirs writes after this returns.

    A worker killed while it sent a result leaves half a message in the pipe, which the
    pool's manager thread would wait on forever: this process's end of the pipe is closed
    too, so that the thread reads the end of it and lets the pool go."""
    with interrupts_held():
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                p.kill()
        for p in procs:
            with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
                p.join()
        writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.close()
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout=defaults.POOL_STOP_TIMEOUT)
        if pool in _POOLS:
            _POOLS.remove(pool)


def stop_workers() -> None:
    """Kill the workers of every pool still running (a run that fails or is interrupted
    while they write into its staging folder) and wait for them, before that folder is
    removed."""
    for pool in list(_POOLS):
        _stop(pool)


# --- Ctrl-C -------------------------------------------------------------------------------


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
def _sigint_blocked() -> Iterator[None]:
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
