"""The send log: one JSON line a delivery attempt, appended and flushed to disk at once.

Before a message goes to the server a ``sending`` line is written, after it a ``sent``
or ``failed`` one (with the same message id), or ``uncertain`` when the connection was
lost after the server had the whole message but before its answer. A later run reads
the log back and tells, per student and ``what``:

* ``new``: never sent (or only failed): send it;
* ``sent``: sent before with the same files (the same SHA-256 of each): skip it;
* ``changed``: sent before, but a file has changed since: hold it back (``--resend``);
* ``uncertain``: a run stopped between ``sending`` and its result, or the delivery
  ended ``uncertain``, so the message may have arrived: hold it back (``--resend``).

So a rerun never sends a student the same thing twice unless asked to.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lstm_exam.generator.core.errors import InputError

State = Literal["new", "sent", "changed", "uncertain"]


@dataclass(frozen=True, slots=True)
class Standing:
    """What the log says of one student's ``what``."""

    state: State
    when: str = ""
    """When it was last sent (or the stopped attempt began)."""
    message_id: str = ""
    reason: str = ""
    """Why an ``uncertain`` delivery is so, when the log says (empty: a run stopped)."""


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class SendLog:
    """The log of a worksheet folder, read at the start of a run, appended to during it.

    Only one run may hold it at a time: the caller holds the lock
    (:func:`~lstm_exam.generator.store.files.locked`) around the whole run.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        #: per (what, student id): the last line, and the last ``sent`` line
        self._last: dict[tuple[str, str], dict[str, Any]] = {}
        self._sent: dict[tuple[str, str], dict[str, Any]] = {}
        self._read()

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        lines = data.split(b"\n")
        for n, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                key = (str(rec["what"]), str(rec["student_id"]))
                state = rec["state"]
            except (ValueError, KeyError, TypeError, RecursionError):
                if n == len(lines):  # a last line torn by a killed run: it never finished
                    continue
                raise InputError(str(self.path), f"line {n}", "damaged send log") from None
            self._last[key] = rec
            if state == "sent":
                self._sent[key] = rec

    def standing(self, what: str, student_id: str, digests: Mapping[str, str]) -> Standing:
        """Whether these files of the student were sent (see the module's docstring)."""
        key = (what, student_id)
        last = self._last.get(key)
        if last is not None and last.get("state") in ("sending", "uncertain"):
            return Standing(
                "uncertain",
                str(last.get("time", "")),
                str(last.get("message_id", "")),
                str(last.get("reason", "")) if last.get("state") == "uncertain" else "",
            )
        sent = self._sent.get(key)
        if sent is None:
            return Standing("new")
        same = sent.get("files") == dict(digests)
        return Standing(
            "sent" if same else "changed",
            str(sent.get("time", "")),
            str(sent.get("message_id", "")),
        )

    def record(
        self,
        state: Literal["sending", "sent", "failed", "uncertain"],
        what: str,
        student_id: str,
        to: str,
        digests: Mapping[str, str],
        message_id: str,
        reason: str = "",
    ) -> None:
        """Append one line and flush it to disk before returning."""
        rec: dict[str, Any] = {
            "time": now(),
            "state": state,
            "what": what,
            "student_id": student_id,
            "to": to,
            "files": dict(digests),
            "message_id": message_id,
        }
        if reason:
            rec["reason"] = reason
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        new = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # after a torn last line
            while line:
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:  # the file's name itself must be on disk too
            dirfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)
        key = (what, student_id)
        self._last[key] = rec
        if state == "sent":
            self._sent[key] = rec
