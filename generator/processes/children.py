"""Child processes of a run: killed with it, confined to a CPU time and an address space.

A confined child (:func:`confined`) runs one function after a fork and sends its result
(or the exception it raised) back through a pipe; :func:`confine_child` is what a child
started by ``subprocess`` (pdflatex) runs first.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from lstm_exam.generator.core import defaults
from lstm_exam.generator.processes.signals import sigint_blocked

T = TypeVar("T")


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


def confined(function: Callable[[], T], cpu: float, memory: int) -> T:
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
        return function()
    have = address_space()
    confine = confine_child(cpu, None if have is None else have + memory)
    r, w = os.pipe()
    pid = status = 0
    data: bytearray | None = None
    try:
        with sigint_blocked():  # a Ctrl-C now is this process's, after the fork
            pid = os.fork()
            if pid == 0:  # the child (SIGINT still blocked, then ignored): never returns
                try:
                    os.close(r)
                    _run_child(function, confine, cpu, w)
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


def _run_child(
    function: Callable[[], Any], confine: Callable[[], None], cpu: float, worker: int
) -> None:
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
        out = (True, function())
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
            view = view[os.write(worker, view) :]


def _read_all(descriptor: int, deadline: float) -> bytearray | None:
    """Everything written to ``descriptor`` until it is closed; None past ``deadline``."""
    data = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            return None
        chunk = os.read(descriptor, 1 << 20)
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


def address_space() -> int | None:
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
