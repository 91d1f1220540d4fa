"""Writing an output folder all at once: nothing half-written, nothing overwritten by surprise."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.runtime import interrupts_held, stop_workers
from lstm_exam.generator.store.guard import Layout, check_target, of_a_run, shown


@contextlib.contextmanager
def _locked(out: Path, shared: bool = False) -> Iterator[None]:
    """Hold a lock on ``out`` for the run: exclusive to write it (a second run says who
    holds it), or ``shared`` to write into it (a run may write a folder inside another
    while no run replaces the other; any number of runs may do so at once).

    The lock is a hidden file beside ``out``, removed by the last run to let it go. A run
    that locked a file another run had just removed tries again on the new one.
    """
    lock = out.parent / f".{out.name}.lock"
    fd = None
    try:
        with interrupts_held():  # the lock is known (to let go) before Ctrl-C can act
            fd = _lock_file(lock, out, shared)
        yield
    finally:
        if fd is not None:
            with interrupts_held():
                _unlock_file(lock, fd)


def _lock_file(lock: Path, out: Path, shared: bool) -> int:
    """Open and lock the lock file of ``out`` (see :func:`_locked`): its descriptor."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise InputError(
                str(out), "", f"another lstm-exam run (process {holder}) is writing it; wait for it"
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _unlock_file(lock: Path, descriptor: int) -> None:
    try:  # the last holder (nobody else holds it now) removes the file
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with contextlib.suppress(OSError):
            lock.unlink()
    except OSError:
        pass
    os.close(descriptor)  # releases the lock


def locked(out: Path, shared: bool = False) -> contextlib.AbstractContextManager[None]:
    """The lock a run holds on ``out`` (a folder or a file), as :func:`staged_folder` takes
    it: for a run that writes into ``out`` in place (``send`` appending to its log) or
    reads it while no other run may replace it (``shared``)."""
    return _locked(out, shared)


def _tidy(out: Path) -> None:
    """With the lock held: put back a folder a killed run had moved aside, and remove the
    staging folders of dead runs (no live run can own them)."""
    olds = sorted(out.parent.glob(f".{glob.escape(out.name)}.old-*"))
    if olds and not out.exists():
        olds.pop().rename(out)  # the folder the killed run was replacing
    for stale in [*olds, *out.parent.glob(f".{glob.escape(out.name)}.*.tmp")]:
        shutil.rmtree(stale, ignore_errors=True)


def staged_folder(
    out: Path, force: bool, layout: Layout, host: Path | None = None
) -> contextlib.AbstractContextManager[Path]:
    """Yield a fresh staging folder beside ``out``; move it into place on success.

    ``out`` must be absent, empty or, with ``force``, hold only what ``layout``'s command
    makes (:func:`guard.check_target`, checked again under the lock). On any error the
    staging folder is removed and ``out`` is left as it was. The run holds an exclusive
    lock on ``out`` throughout (and a shared one on ``host``, the worksheet folder, when
    ``out`` lies in it: no run replaces the worksheet meanwhile); the old folder is moved
    aside only once the new one is complete, and a run killed in between leaves it to be
    put back by the next run.
    """
    return _staged(out, lambda o: check_target(o, layout, force), host)


@contextlib.contextmanager
def _staged(out: Path, check: Callable[[Path], None], host: Path | None = None) -> Iterator[Path]:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as locks:
        if host is not None and host.resolve() in out.parents:
            locks.enter_context(_locked(host.resolve(), shared=True))
        locks.enter_context(_locked(out))
        with interrupts_held():
            _tidy(out)
        check(out)
        stage = None
        try:
            with interrupts_held():  # the stage is known before Ctrl-C can act
                stage = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
                )
            yield stage
        except BaseException:
            with interrupts_held():  # a second Ctrl-C never cuts the cleanup short
                stop_workers()  # none of them writes into the stage any more
                if stage is not None:
                    shutil.rmtree(stage, ignore_errors=True)
            raise
        with interrupts_held():  # the swap is done whole (or undone) before Ctrl-C acts
            _put_in_place(stage, out)


def _put_in_place(stage: Path, out: Path) -> None:
    """Move the finished ``stage`` to ``out``, the old ``out`` aside and then away; on a
    fault, the old folder is put back and the stage removed."""
    old = None
    try:
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)  # put the previous folder back
        raise
    _PLACED.append(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


#: The outputs this process has put in place, in order (what an interrupted run says it
#: left complete).
_PLACED: list[Path] = []


def placed() -> tuple[Path, ...]:
    """The folders (and files) this process has put in place, complete, so far."""
    return tuple(_PLACED)


def note_placed(path: Path) -> None:
    """Record an output written complete by other means than :func:`staged_folder` (a
    file moved into place at once)."""
    _PLACED.append(path)


@contextlib.contextmanager
def rebuilt_folder(
    folder: Path, rebuilt: Iterable[str], layout: Layout, checked: Iterable[str] = ()
) -> Iterator[Path]:
    """Yield a copy of ``folder`` without its entries named ``rebuilt`` for the caller to
    make again, then put the copy in its place, all at once (as :func:`staged_folder`).

    What ``rebuilt`` (and ``checked``, entries the caller changes) names must hold only
    what ``layout``'s command makes (a file of someone else's in it would be lost): else
    the folder is refused, under the lock.
    The copy is made of hard links (copies where the file system refuses them), so it
    costs no disk space; the lock files and staging folders of other runs are left out.
    """
    folder = folder.resolve()
    skip = set(rebuilt)

    def check(out: Path) -> None:
        check_rebuilt(out, (*skip, *checked), layout)

    with _staged(folder, check) as stage:
        for entry in folder.iterdir():
            name = entry.name
            if name in skip or of_a_run(name):
                continue
            _link_tree(entry, stage / entry.name)
        yield stage


def check_rebuilt(folder: Path, names: Iterable[str], layout: Layout) -> None:
    """Refuse to rebuild the entries ``names`` of ``folder`` while they hold anything
    ``layout``'s command does not make (a file of someone else's would be lost)."""
    stranger = layout.stranger(folder, only=set(names))
    if stranger is not None:
        raise InputError(
            shown(folder),
            "",
            f"holds {shown(stranger)}, which `{layout.command}` did not make and "
            "rebuilding would delete: move it out first",
        )


def _link_tree(src: Path, dst: Path) -> None:
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir()
        for entry in src.iterdir():
            _link_tree(entry, dst / entry.name)
    else:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def write_text(path: Path, text: str, *, mkdir: bool = True) -> None:
    """Write UTF-8 text as it is (no newline translation), making parent folders.

    Straight to the file descriptor: a class writes tens of thousands of small files,
    and a file object costs extra system calls (status, terminal check, seek) for each.
    """
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    data = memoryview(text.encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def write_parts(path: Path, parts: Iterable[bytes | memoryview]) -> None:
    """Write the parts one after the other (a large file, never joined in memory first);
    the parent folder must exist."""
    with open(path, "wb", buffering=1 << 20) as f:
        f.writelines(parts)
