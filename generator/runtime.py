"""Work over a large class in forked worker processes, the results in roster order.

The work function is left in a module global before the fork, so the workers
inherit it (and the manifest or worksheet it closes over) and nothing large is
ever pickled; only the results travel back.

The rest of a run's processes lives in :mod:`lstm_exam.generator.processes`: confined
children (``processes/children.py``), the bounded reader of untrusted files
(``processes/bounded.py``), Ctrl-C and the collector (``processes/signals.py``); their
public names are importable from here too, as before.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from lstm_exam.generator.core import defaults
from lstm_exam.generator.processes.bounded import Bounded, Exceeded
from lstm_exam.generator.processes.children import (
    OutOfTime,
    Stopped,
    child_dies_with_parent,
    confine_child,
    confined,
    die_with_parent,
    lower_limit,
)
from lstm_exam.generator.processes.signals import (
    gc_paused,
    interrupts_held,
    no_gc,
    stop_at_first_interrupt,
)
from lstm_exam.generator.processes.signals import sigint_blocked as _sigint_blocked

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

__all__ = [
    "Bounded",
    "Exceeded",
    "OutOfTime",
    "Stopped",
    "child_dies_with_parent",
    "confine_child",
    "confined",
    "die_with_parent",
    "fork_chunks",
    "fork_map",
    "forks",
    "gc_paused",
    "interrupts_held",
    "lower_limit",
    "no_gc",
    "stop_at_first_interrupt",
    "stop_workers",
    "workers",
]

T = TypeVar("T")


_WORK: dict[str, Callable[[int, int], list[Any]]] = {}
#: The worker pools running now (one at most in practice), for :func:`stop_workers`.
_POOLS: list[ProcessPoolExecutor] = []


def fork_map(
    function: Callable[[int], T],
    count: int,
    tick: Callable[[int], None] | None = None,
    size: int = 250,
) -> Iterator[T]:
    """``fn(0), ..., fn(n - 1)`` in order: in worker processes from
    ``PARALLEL_FROM`` items on a machine with several cores, else in this one.

    The workers start at once, so the caller's own work overlaps with theirs.
    """
    # in this process, item by item: the progress bar moves with every one
    return fork_chunks(
        lambda lo, hi: [function(k) for k in range(lo, hi)],
        count,
        tick,
        size if forks(count) else 1,
    )


def fork_chunks(
    function: Callable[[int, int], list[T]],
    count: int,
    tick: Callable[[int], None] | None = None,
    size: int = 250,
    at_least: int | None = None,
) -> Iterator[T]:
    """:func:`fork_map` for work done a chunk at a time: ``fn(lo, hi)`` gives the
    results of items lo..hi - 1 (chunks of ``size``), yielded one by one in order; in
    worker processes from ``at_least`` items on (None: ``defaults.PARALLEL_FROM``)."""
    if not forks(count, at_least):
        return _in_process(function, count, tick, size)
    _WORK["fn"] = function  # inherited by the forked workers, never pickled
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
            futures = [
                pool.submit(_chunk, (k, min(k + size, count))) for k in range(0, count, size)
            ]
    except BaseException:
        if pool is not None:
            _stop(pool)
        raise
    return _collect(pool, futures, tick)


def forks(count: int, at_least: int | None = None) -> bool:
    """Whether :func:`fork_map` runs ``count`` items in worker processes (from ``at_least``
    on; None: from ``defaults.PARALLEL_FROM``, read when called)."""
    if count < (defaults.PARALLEL_FROM if at_least is None else at_least) or _workers() < 2:
        return False
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def workers() -> int:
    """How many worker processes a forked run uses."""
    return _workers()


def _workers() -> int:
    return min(os.cpu_count() or 1, 8)


def _chunk(bounds: tuple[int, int]) -> list:
    return _WORK["fn"](*bounds)


def _in_process(
    function: Callable[[int, int], list[T]],
    count: int,
    tick: Callable[[int], None] | None,
    size: int,
) -> Iterator[T]:
    for lo in range(0, count, size):
        done = function(lo, min(lo + size, count))
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
