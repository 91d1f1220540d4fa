"""Writing an output folder all at once: nothing half-written, nothing overwritten by surprise."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from lstm_exam.generator.core.errors import InputError


def check_target(out: Path, force: bool) -> None:
    """Refuse a non-empty target folder unless ``force``."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(str(out), "", "folder is not empty; use --force to replace it")


@contextlib.contextmanager
def staged_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``out``; move it into place on success.

    On any error the staging folder is removed and ``out`` is left as it was.
    """
    out = out.resolve()
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old = None
    try:
        yield stage
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)  # put the previous folder back
            old = None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
