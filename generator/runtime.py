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
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from lstm_exam.generator.core import defaults

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")


_WORK: dict[str, Callable[[int, int], list[Any]]] = {}


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

    pool = ProcessPoolExecutor(
        _workers(),
        mp_context=mp.get_context("fork"),
        initializer=child_dies_with_parent(),
    )
    futures = [pool.submit(_chunk, (k, min(k + size, n))) for k in range(0, n, size)]
    return _collect(pool, futures, tick)


def die_with_parent(parent: int) -> None:
    """In a child (a worker, or pdflatex before it starts): be killed with the run that
    started it (Linux's parent-death signal), so that no process outlives a killed run
    or waits forever for work. Elsewhere: nothing.

    The parent calls :func:`child_dies_with_parent` first, which finds libc's prctl
    before the fork (a forked child should load no library)."""
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
    finally:
        pool.shutdown(cancel_futures=True)
        _WORK.clear()


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


# --- one piece of untrusted work in a child with its own limits ---------------------------


class Exceeded(Exception):
    """Work done by :func:`call_bounded` went past its limits or died.

    Attributes:
        why: ``"memory"``, ``"time"`` or ``"died"`` (killed by a signal, or no answer).
    """

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


#: The most bytes of JSON a bounded child may answer with.
_MAX_ANSWER = 64_000_000


def call_bounded(fn: Callable[[Any], Any], arg: Any, *, memory: int, seconds: int) -> Any:
    """``fn(arg)`` in a forked child process that may add at most ``memory`` bytes to the
    address space it inherits (RLIMIT_AS) and use ``seconds`` of CPU time (RLIMIT_CPU),
    for work on untrusted input whose memory no check of the input can bound (a library
    that inflates what a file says). Its result, plain JSON data, comes back through a
    pipe; nothing else of the child reaches this process. Where processes cannot be
    forked the call runs here, unbounded.

    Raises:
        Exceeded: the child went past a limit (a MemoryError, or killed by the kernel),
            died, or gave no answer within ten times ``seconds`` of wall time.
        Exception: what ``fn`` raised, as :class:`Exceeded` ``("died")`` (never its
            traceback: ``fn`` returns its faults as data).
    """
    if not hasattr(os, "fork"):
        return fn(arg)
    import json
    import select

    start = child_dies_with_parent()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            start()
            _limit_self(memory, seconds)
            try:
                answer = json.dumps({"ok": fn(arg)}).encode()
            except MemoryError:
                answer = b'{"exceeded": "memory"}'
            with os.fdopen(write_end, "wb") as out:
                out.write(answer)
            code = 0
        except BaseException:  # the child ends here whatever happened, its code 1
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    size = 0
    why = ""
    try:
        deadline = time.monotonic() + 10 * seconds + 5
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                why = "time"
                break
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > _MAX_ANSWER:
                why = "memory"
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        if why:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if why:
        raise Exceeded(why)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        raise Exceeded("time" if sig == signal.SIGXCPU else "died")
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        raise Exceeded("died") from None
    if "ok" not in answer:
        raise Exceeded(answer.get("exceeded", "died"))
    return answer["ok"]


def _limit_self(memory: int, seconds: int) -> None:
    """This process's limits: ``memory`` more bytes of address space than it has now,
    ``seconds`` of CPU time (SIGXCPU, then a second later SIGKILL); never above a hard
    limit set from outside (``ulimit -v``)."""
    import resource

    def lower(limit: int, value: int, grace: int = 0) -> None:
        _, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        top = value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)
        resource.setrlimit(limit, (value, top))

    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read(64).split()[0])
    except (OSError, ValueError, IndexError):
        pages = None
    if pages is not None:
        lower(resource.RLIMIT_AS, pages * resource.getpagesize() + memory)
    lower(resource.RLIMIT_CPU, seconds, grace=1)
