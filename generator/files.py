"""Writing an output folder all at once: nothing half-written, nothing overwritten by surprise."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


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
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    stage.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text, making parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
