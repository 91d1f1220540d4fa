"""Untrusted work in a child process with limits of its own (reading a submitted PDF)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.processes.children import (
    address_space,
    child_dies_with_parent,
    lower_limit,
)
from lstm_exam.generator.processes.signals import sigint_blocked


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

    With ``as_file``, ``fn`` is given the bytes as a file to read (at its start, of their
    size), not as ``bytes``: on Linux a memory file shared with the child, which this
    process writes and the child reads in place (a library may map it), so the bytes
    are copied once, not through a pipe and again in the child (a third of the CPU of
    reading a sheet); elsewhere a ``BytesIO``.
    """

    def __init__(
        self, function: Callable[[Any], Any], *, memory: int, seconds: int, as_file: bool = False
    ) -> None:
        self.fn, self.memory, self.seconds, self.as_file = function, memory, seconds, as_file
        self._child: tuple[int, int, int, int, int | None] | None = None
        """(pid, the process that forked it, its input, its output, the shared memory
        file of ``as_file`` or None)."""

    def __call__(self, data: bytes) -> Any:
        """``fn(data)``, answered by the child.

        Raises:
            Exceeded: the child went past a limit (a MemoryError, or killed by the
                kernel), died (``fn`` raised: never its traceback), or did not answer.
        """
        if not hasattr(os, "fork"):
            return self.fn(io.BytesIO(data) if self.as_file else data)
        child = self._started()
        try:
            self._send(child, data)
        except BrokenPipeError:  # it died since its last answer: once more, afresh
            self._end(kill=True)
            child = self._started()
            self._send(child, data)
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
        """End the child (it also ends when this process does): killed, for it keeps
        nothing, and a child forked since (another bounded child, a worker) may hold a
        copy of its input, so that it would never see that input end."""
        self._end(kill=True)

    @staticmethod
    def _send(child: tuple[int, int, int, int, int | None], data: bytes) -> None:
        """A request to the child: its length, then its bytes through the pipe or, with
        a shared memory file, written there (the child answered the last request: it
        reads the file no more)."""
        shared = child[4]
        if shared is not None:
            os.ftruncate(shared, len(data))
            _pwrite_all(shared, data)
            _write_all(child[2], len(data).to_bytes(_HEADER, "big"))
        else:
            _write_all(child[2], len(data).to_bytes(_HEADER, "big") + data)

    def _started(self) -> tuple[int, int, int, int, int | None]:
        if self._child is not None and self._child[1] == os.getpid():
            return self._child
        self._child = None  # a child of the process this one was forked from is not ours
        start = child_dies_with_parent()
        requests, to_child = os.pipe()
        from_child, answers = os.pipe()
        shared = (
            os.memfd_create("bounded-request", os.MFD_CLOEXEC)
            if self.as_file and hasattr(os, "memfd_create")
            else None
        )
        with sigint_blocked():  # a Ctrl-C now is this process's, once the child is known
            pid = os.fork()
            if pid == 0:  # the child (SIGINT blocked, then ignored: the run decides)
                code = 1
                try:
                    os.close(to_child)
                    os.close(from_child)
                    start()
                    _serve(
                        self.fn,
                        (requests, shared, self.as_file),
                        answers,
                        self.memory,
                        self.seconds,
                    )
                    code = 0
                except BaseException:  # the child ends here whatever happened, its code 1
                    pass
                finally:
                    os._exit(code)
            os.close(requests)
            os.close(answers)
            self._child = (pid, os.getpid(), to_child, from_child, shared)
        return self._child

    def _end(self, kill: bool) -> str:
        """End the child; why it ended ("time" when the CPU limit stopped it)."""
        if self._child is None or self._child[1] != os.getpid():
            self._child = None
            return "died"
        pid, _, to_child, from_child, shared = self._child
        self._child = None
        os.close(to_child)  # a child waiting for work ends at the end of its input
        os.close(from_child)
        if shared is not None:
            os.close(shared)
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


def _serve(
    function: Callable[[Any], Any],
    source: tuple[int, int | None, bool],
    sink: int,
    memory: int,
    seconds: int,
) -> None:
    """The child's loop: a request (its length, then its bytes, or then nothing: they
    are in the shared memory file) in, ``function``'s answer (its length, then JSON) out,
    until the input ends; a MemoryError ends the child after its answer (its memory
    may be in pieces). ``source``: the pipe of requests, the shared memory file or
    None, and whether ``function`` reads a file."""
    import json
    import resource

    requests, shared, as_file = source
    _limit_self(memory)
    while True:
        head = _read_exact(requests, _HEADER)
        if len(head) < _HEADER:
            return
        size = int.from_bytes(head, "big")
        data: Any
        if shared is not None:
            os.lseek(shared, 0, os.SEEK_SET)
            data = os.fdopen(shared, "rb", buffering=0, closefd=False)
        else:
            data = _read_exact(requests, size)
            if as_file:
                data = io.BytesIO(data)
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = math.ceil(used.ru_utime + used.ru_stime)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = spent + seconds
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        failed = False
        try:
            answer = json.dumps({"ok": function(data)}).encode()
        except MemoryError:
            answer, failed = b'{"exceeded": "memory"}', True
        del data
        _write_all(sink, len(answer).to_bytes(_HEADER, "big") + answer)
        if failed:
            return


def _read_exact(descriptor: int, count: int) -> bytes:
    parts, got = [], 0
    while got < count:
        part = os.read(descriptor, min(count - got, 1 << 20))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _pwrite_all(descriptor: int, data: bytes) -> None:
    view, at = memoryview(data), 0
    while at < len(data):
        at += os.pwrite(descriptor, view[at:], at)


def _read_answer(descriptor: int, deadline: float) -> tuple[bytes | None, str]:
    """The child's answer, or None and why not (``"time"``: none before ``deadline``;
    ``"memory"``: one too long; ``""``: the child ended without one)."""
    import select

    head = b""
    want = _HEADER
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            return None, "time"
        chunk = os.read(descriptor, min(want, 1 << 20))
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
    have = address_space()
    if have is not None:
        lower_limit(resource.RLIMIT_AS, have + memory)
