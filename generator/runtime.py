"""Work over a large class in forked worker processes, the results in roster order.

The work function is left in a module global before the fork, so the workers
inherit it (and the manifest or worksheet it closes over) and nothing large is
ever pickled; only the results travel back.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import pickle
import select
import signal
import sys
import threading
import time
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


class OutOfTime(BaseException):
    """Raised in a confined process when its CPU time is used up (so that the traceback
    says where it was). A BaseException: no ``except Exception`` of a library swallows it."""


class Stopped(Exception):
    """A confined process was stopped from outside: ``why`` is ``"time"`` (its CPU time
    or the wall-time backstop) or ``"crash"`` (killed by another signal, or it sent
    nothing back)."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


def confine_child(cpu: float, memory: int | None = None) -> Callable[[], None]:
    """What a child process runs first (as ``preexec_fn``, or after a fork): it dies with
    this process, may use ``cpu`` seconds of CPU time (then SIGXCPU, and SIGKILL a
    second later) and, given ``memory``, that many bytes of address space."""
    dies = child_dies_with_parent()
    seconds = max(1, math.ceil(cpu))

    def confine() -> None:
        dies()
        import resource

        lower_limit(resource.RLIMIT_CPU, seconds, seconds + 1)
        if memory is not None:
            lower_limit(resource.RLIMIT_AS, memory)

    return confine


def confined(fn: Callable[[], T], cpu: float, memory: int) -> T:
    """``fn()`` in a forked process that may use ``cpu`` seconds of CPU time and
    ``memory`` bytes of address space more than this one has: its result, or the
    exception it raised (both pickled back). Past its CPU time :class:`OutOfTime` is
    raised inside it (a second later it is killed); past its memory, MemoryError. A
    loaded machine does not count: only the process's own CPU time does; waiting (not
    working) is stopped after ``defaults.WALL_FACTOR`` times ``cpu`` in wall time.

    Where there is no fork, ``fn()`` runs here, unconfined.

    Raises:
        Stopped: it was killed, or sent nothing back.
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Linux and macOS fork
        return fn()
    have = _address_space()
    confine = confine_child(cpu, None if have is None else have + memory)
    r, w = os.pipe()
    pid = status = 0
    data: bytearray | None = None
    try:
        with _sigint_blocked():  # a Ctrl-C now is this process's, after the fork
            pid = os.fork()
            if pid == 0:  # the child (SIGINT still blocked, then ignored): never returns
                try:
                    os.close(r)
                    _run_child(fn, confine, cpu, w)
                finally:
                    os._exit(0)
            os.close(w)
        data = _read_all(r, time.monotonic() + defaults.WALL_FACTOR * max(cpu, 1))
        if data is not None:  # it is done (or dead): nothing to kill
            _, status = os.waitpid(pid, 0)
            pid = 0
    finally:
        os.close(r)
        if pid:  # stopped by the backstop, or interrupted
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if data is None:
        raise Stopped("time")
    if not data:
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
        raise Stopped("time" if killed else "crash")
    ok, value = pickle.loads(data)
    if ok:
        return value
    raise value


def _run_child(fn: Callable[[], Any], confine: Callable[[], None], cpu: float, w: int) -> None:
    def out_of_time(signum: int, frame: Any) -> None:
        raise OutOfTime(f"{cpu:g} s of CPU time")

    signal.signal(signal.SIGXCPU, out_of_time)
    # it says everything through the pipe: nothing it prints (a fault Python reports
    # and goes on, such as one in a destructor) may reach the user's terminal
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - until its exit
    out: tuple[bool, Any]
    try:
        confine()
        out = (True, fn())
    except OutOfTime:
        out = (False, Stopped("time"))
    except BaseException as e:  # every fault travels back as it is
        out = (False, e)
    try:
        data = pickle.dumps(out)
    except BaseException:  # memory, or a value that cannot travel
        return  # nothing sent: the parent says it crashed
    with contextlib.suppress(OSError):
        view = memoryview(data)
        while view:
            view = view[os.write(w, view) :]


def _read_all(fd: int, deadline: float) -> bytearray | None:
    """Everything written to ``fd`` until it is closed; None past ``deadline``."""
    data = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return data
        data += chunk


def lower_limit(kind: int, soft: int, hard: int | None = None) -> None:
    """Set the resource limit ``kind`` of this process to ``soft`` (and ``hard``, by
    default the same), never above the hard limit set from outside (``ulimit``), which
    a process cannot raise."""
    import resource

    _, outside = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if outside != resource.RLIM_INFINITY:
        soft, hard = min(soft, outside), min(hard, outside)
    resource.setrlimit(kind, (soft, hard))


def _address_space() -> int | None:
    """The bytes of address space this process has (Linux's VmSize); None elsewhere."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1]) * 1024
    return None


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


# --- untrusted work in a child with its own limits ---------------------------------------


class Exceeded(Exception):
    """Work done by a :class:`Bounded` child went past its limits or died.

    Attributes:
        why: ``"memory"``, ``"time"`` or ``"died"`` (killed by a signal, or no answer).
    """

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


#: The most bytes of JSON a bounded child may answer with.
_MAX_ANSWER = 64_000_000
_HEADER = 8


class Bounded:
    """``fn`` run on untrusted bytes in a child process with limits of its own, for work
    whose memory no check of the input can bound (a library that inflates what a file
    says): each call may add at most ``memory`` bytes to the address space the child
    had when it started (RLIMIT_AS) and use ``seconds`` of CPU time (RLIMIT_CPU, moved
    on before each call), and must answer within ``defaults.WALL_FACTOR`` times ``seconds`` of wall time.

    The child is forked at the first call and kept for the next ones (a fork costs
    more than reading a sheet); a child that went past a limit is ended, and the next
    call forks a fresh one. ``fn`` returns plain JSON data (its faults too), which comes
    back through a pipe: nothing else of the child reaches this process. Where processes
    cannot be forked, ``fn`` runs here, unbounded.
    """

    def __init__(self, fn: Callable[[bytes], Any], *, memory: int, seconds: int) -> None:
        self.fn, self.memory, self.seconds = fn, memory, seconds
        self._child: tuple[int, int, int, int] | None = None
        """(pid, the process that forked it, its input, its output)."""

    def __call__(self, data: bytes) -> Any:
        """``fn(data)``, answered by the child.

        Raises:
            Exceeded: the child went past a limit (a MemoryError, or killed by the
                kernel), died (``fn`` raised: never its traceback), or did not answer.
        """
        if not hasattr(os, "fork"):
            return self.fn(data)
        child = self._started()
        request = len(data).to_bytes(_HEADER, "big") + data
        try:
            _write_all(child[2], request)
        except BrokenPipeError:  # it died since its last answer: once more, afresh
            self._end(kill=True)
            child = self._started()
            _write_all(child[2], request)
        answer, why = _read_answer(
            child[3], time.monotonic() + defaults.WALL_FACTOR * self.seconds + 5
        )
        if answer is None:
            ended = self._end(kill=True)
            raise Exceeded(why or ended)
        import json

        try:
            doc = json.loads(answer)
        except ValueError:
            self._end(kill=True)
            raise Exceeded("died") from None
        if "ok" not in doc:
            self._end(kill=True)
            raise Exceeded(str(doc.get("exceeded", "died")))
        return doc["ok"]

    def close(self) -> None:
        """End the child (it also ends when this process does)."""
        self._end(kill=False)

    def _started(self) -> tuple[int, int, int, int]:
        if self._child is not None and self._child[1] == os.getpid():
            return self._child
        self._child = None  # a child of the process this one was forked from is not ours
        start = child_dies_with_parent()
        requests, to_child = os.pipe()
        from_child, answers = os.pipe()
        with _sigint_blocked():  # a Ctrl-C now is this process's, once the child is known
            pid = os.fork()
            if pid == 0:  # the child (SIGINT blocked, then ignored: the run decides)
                code = 1
                try:
                    os.close(to_child)
                    os.close(from_child)
                    start()
                    _serve(self.fn, requests, answers, self.memory, self.seconds)
                    code = 0
                except BaseException:  # the child ends here whatever happened, its code 1
                    pass
                finally:
                    os._exit(code)
            os.close(requests)
            os.close(answers)
            self._child = (pid, os.getpid(), to_child, from_child)
        return self._child

    def _end(self, kill: bool) -> str:
        """End the child; why it ended ("time" when the CPU limit stopped it)."""
        if self._child is None or self._child[1] != os.getpid():
            self._child = None
            return "died"
        pid, _, to_child, from_child = self._child
        self._child = None
        os.close(to_child)  # a child waiting for work ends at the end of its input
        os.close(from_child)
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
            return "time"
        return "died"

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _serve(fn: Callable[[bytes], Any], source: int, sink: int, memory: int, seconds: int) -> None:
    """The child's loop: a request (its length, then its bytes) in, ``fn``'s answer (its
    length, then JSON) out, until the input ends; a MemoryError ends the child after
    its answer (its memory may be in pieces)."""
    import json
    import resource

    _limit_self(memory)
    while True:
        head = _read_exact(source, _HEADER)
        if len(head) < _HEADER:
            return
        data = _read_exact(source, int.from_bytes(head, "big"))
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = math.ceil(used.ru_utime + used.ru_stime)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = spent + seconds
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        failed = False
        try:
            answer = json.dumps({"ok": fn(data)}).encode()
        except MemoryError:
            answer, failed = b'{"exceeded": "memory"}', True
        del data
        _write_all(sink, len(answer).to_bytes(_HEADER, "big") + answer)
        if failed:
            return


def _read_exact(fd: int, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        part = os.read(fd, min(n - got, 1 << 20))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_answer(fd: int, deadline: float) -> tuple[bytes | None, str]:
    """The child's answer, or None and why not (``"time"``: none before ``deadline``;
    ``"memory"``: one too long; ``""``: the child ended without one)."""
    import select

    head = b""
    want = _HEADER
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None, "time"
        chunk = os.read(fd, min(want, 1 << 20))
        if not chunk:
            return None, ""
        if len(head) < _HEADER:
            head += chunk
            want = _HEADER - len(head)
            if len(head) == _HEADER:
                want = int.from_bytes(head, "big")
                if want > _MAX_ANSWER:
                    return None, "memory"
                if want == 0:
                    return b"", ""
            continue
        parts.append(chunk)
        want -= len(chunk)
        if want == 0:
            return b"".join(parts), ""


def _limit_self(memory: int) -> None:
    """This process's address space: at most ``memory`` bytes more than it has now, and
    never above a hard limit set from outside (``ulimit -v``); no core file if it dies."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    have = _address_space()
    if have is not None:
        lower_limit(resource.RLIMIT_AS, have + memory)
