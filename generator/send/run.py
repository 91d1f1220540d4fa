"""`send`: each student's own files of a worksheet by e-mail, or as .eml files (a dry run).

One run at a time per worksheet: the run holds the send log's lock throughout, and a
shared lock on the worksheet folder (and on the grades folder, for feedback), so no
`render`, `generate --force` or `grade --force` replaces a file while it is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.send.log import SendLog, Standing
from lstm_exam.generator.send.mail import (
    TLS,
    DeliveryError,
    MayHaveArrived,
    Server,
    Session,
    address_fault,
    message,
)
from lstm_exam.generator.send.outbox import NOUNS, Outbox, Parcel, open_outbox, parcels
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.files import locked, staged_folder, write_parts
from lstm_exam.generator.store.guard import Layout, check_folder

Status = Literal["sent", "already", "held", "skipped", "failed"]
#: The roster column of the students' addresses.
EMAIL_COLUMN = "email"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one student."""

    student_id: str
    name: str
    status: Status
    """``sent`` (or, in a dry run, written), ``already`` (sent before: skipped),
    ``held`` (changed or perhaps sent since: needs ``--resend``), ``skipped`` (no valid
    address, a file missing or too large), ``failed`` (the delivery failed)."""
    reason: str = ""
    to: str = ""


@dataclass(frozen=True, slots=True)
class SendReport:
    what: str
    outcomes: tuple[Outcome, ...]
    dry_run: Path | None = None
    """The folder the .eml files were written to, in a dry run."""

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def complete(self) -> bool:
        """Every student has the files (sent now or before)."""
        return all(o.status in ("sent", "already") for o in self.outcomes)


def addresses(students: Sequence[Student]) -> dict[str, tuple[Address | None, str | None]]:
    """Each student's address from the roster's email column, or why there is none.

    Two students of one address both get a fault: one student's key must never reach
    another's mailbox.
    """
    found: dict[str, tuple[Address | None, str | None]] = {}
    owners: dict[str, list[str]] = {}
    for s in students:
        text = s.extra.get(EMAIL_COLUMN, "")
        address, fault = address_fault(text)
        if fault is not None:
            shown = text.encode("unicode_escape").decode("ascii")[:80]
            fault = (
                "no e-mail address in the roster"
                if not text.strip()
                else f"e-mail {shown!r} {fault}"
            )
        found[s.student_id] = (address, fault)
        if address is not None:
            owners.setdefault(address.addr_spec.lower(), []).append(s.student_id)
    for ids in owners.values():
        for sid in ids if len(ids) > 1 else ():
            others = ", ".join(o for o in ids if o != sid)
            found[sid] = (None, f"has the same e-mail address as {others}: sent to neither")
    return found


def select(box: Outbox, only: Sequence[str]) -> tuple[Student, ...]:
    """The students of ``only`` (ids, any case), or the whole roster.

    Raises:
        InputError: naming an id that is not on the worksheet's roster.
    """
    if not only:
        return box.students
    by_id = {s.student_id.lower(): s for s in box.students}
    for sid in only:
        if sid.lower() not in by_id:
            raise InputError("--student", "", f"{sid!r} is not on the worksheet's roster")
    wanted = {sid.lower() for sid in only}
    return tuple(s for s in box.students if s.student_id.lower() in wanted)


def send(
    folder: Path,
    what: str,
    sender: Address,
    server: Server | None = None,
    *,
    grades: Path | None = None,
    dry_run: Path | None = None,
    force: bool = False,
    resend: bool = False,
    only: Sequence[str] = (),
    tls: TLS = "auto",
    login: tuple[str, str] | None = None,
    timeout: float = defaults.SMTP_TIMEOUT,
    tick: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> SendReport:
    """Send each student of the worksheet (or of ``only``) their own files of ``what``
    through ``server``; or, with ``dry_run``, write each message there as ``<id>.eml``
    (all or nothing; ``force`` replaces a non-empty folder) and send nothing.

    A student already sent the same files is skipped (``resend``: sent again); a student
    without a valid address or with a file missing or too large is skipped; a failed
    delivery is that student's, the others go on.

    Raises:
        InputError: bad input (the manifest, the folders, ``only``), another send of the
            worksheet running, or a server that cannot be reached or set up before the
            first message (then nothing was sent).
    """
    if dry_run is None and server is None:
        raise InputError("--smtp", "", "give the server as HOST:PORT (or --dry-run --out DIR)")
    box = open_outbox(folder, what, grades)
    students = select(box, only)
    layout = messages_layout(box.students)
    if dry_run is not None:
        inputs = {"the worksheet folder": folder}
        if box.what == "feedback":
            inputs["the grades folder"] = box.source
        check_folder(dry_run, layout, inputs, force, host=folder)
    to = addresses(box.students)  # a shared address is found beyond --student too
    outcomes: list[Outcome] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(locked(folder.resolve(), shared=True))
        if box.what == "feedback":
            stack.enter_context(locked(box.source.resolve(), shared=True))
        log_path = folder.resolve() / defaults.SEND_LOG
        stage = None
        if dry_run is not None:
            stage = stack.enter_context(staged_folder(dry_run, force, layout))
        else:
            stack.enter_context(locked(log_path))
        log = SendLog(log_path)
        session: Session | None = None
        if server is not None and stage is None:
            session = Session(server, tls, login, timeout)
            session.open()  # a server that fails here: one line, nothing sent
            stack.callback(session.close)
        if on_start is not None:
            on_start(len(students))
        for p in parcels(box, students):
            found = to[p.student.student_id]
            outcomes.append(_one(box, p, found, sender, log, resend, stage, session))
            if tick is not None:
                tick(1)
    return SendReport(box.what, tuple(outcomes), dry_run)


def messages_layout(students: Sequence[Student]) -> Layout:
    """What ``send --dry-run`` makes in its ``--out`` folder: a ``<id>.eml`` for students
    of the worksheet; what ``--force`` may replace (:mod:`store.guard`)."""
    names = frozenset(f"{s.student_id}.eml" for s in students)
    return Layout("send --dry-run", "the messages", (), names=names)


def _one(
    box: Outbox,
    parcel: Parcel,
    found: tuple[Address | None, str | None],
    sender: Address,
    log: SendLog,
    resend: bool,
    stage: Path | None,
    session: Session | None,
) -> Outcome:
    """One student: held back, written (a dry run) or delivered."""
    address, fault = found
    held = _held(box, parcel, address, fault, log, resend)
    if held is not None:
        return held
    assert address is not None
    try:
        msg = message(box.settings.title, box.settings.course, box.what, parcel, address, sender)
    except ValueError as e:  # a header the policy refuses: never reaches the wire
        return _outcome(parcel, "skipped", str(e), address)
    if stage is not None:
        write_parts(stage / f"{parcel.student.student_id}.eml", [msg.as_bytes()])
        return _outcome(parcel, "sent", "", address)
    assert session is not None
    return _deliver(box, parcel, msg, sender, address, session, log)


def _outcome(
    parcel: Parcel, status: Status, reason: str, address: Address | None = None
) -> Outcome:
    return Outcome(
        parcel.student.student_id,
        parcel.student.name,
        status,
        reason,
        address.addr_spec if address else "",
    )


def _held(
    box: Outbox,
    parcel: Parcel,
    address: Address | None,
    fault: str | None,
    log: SendLog,
    resend: bool,
) -> Outcome | None:
    """Why the student's parcel does not go out now, or None when it does."""
    if fault is not None or address is None:
        return _outcome(parcel, "skipped", fault or "no e-mail address")
    if parcel.fault is not None:
        return _outcome(parcel, "skipped", parcel.fault, address)
    if resend:
        return None
    st: Standing = log.standing(box.what, parcel.student.student_id, parcel.digests())
    if st.state == "sent":
        return _outcome(parcel, "already", f"sent {st.when}", address)
    if st.state == "changed":
        return _outcome(
            parcel,
            "held",
            f"the {NOUNS[box.what]} changed since it was sent on {st.when}: "
            "--resend sends it again",
            address,
        )
    if st.state == "uncertain":
        how = (
            f"its delivery on {st.when} (message {st.message_id}) ended without the "
            f"server's answer ({st.reason})"
            if st.reason
            else f"a run stopped while sending it on {st.when} (message {st.message_id})"
        )
        return _outcome(
            parcel, "held", f"{how}, so it may have arrived: --resend sends it again", address
        )
    return None


def _deliver(
    box: Outbox,
    parcel: Parcel,
    msg: EmailMessage,
    sender: Address,
    address: Address,
    session: Session,
    log: SendLog,
) -> Outcome:
    sid, digests, mid = parcel.student.student_id, parcel.digests(), str(msg["Message-ID"])
    log.record("sending", box.what, sid, address.addr_spec, digests, mid)
    try:
        session.deliver(msg, sender, address)
    except MayHaveArrived as e:  # never sent again unasked, as a run killed here
        log.record("uncertain", box.what, sid, address.addr_spec, digests, mid, str(e))
        return _outcome(
            parcel,
            "held",
            f"{e} (message {mid}), so it may have arrived: --resend sends it again",
            address,
        )
    except DeliveryError as e:
        log.record("failed", box.what, sid, address.addr_spec, digests, mid, str(e))
        return _outcome(parcel, "failed", str(e), address)
    log.record("sent", box.what, sid, address.addr_spec, digests, mid)
    return _outcome(parcel, "sent", "", address)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary_lines(report: SendReport) -> list[str]:
    """The summary for the user: one line of counts, then one line per student not sent."""
    noun = NOUNS[report.what]  # type: ignore[index]
    sent = report.count("sent")
    if report.dry_run is not None:
        head = f"Wrote {_n(sent, 'message')} ({noun}) to {report.dry_run}/, sent nothing"
    else:
        head = f"Sent {_n(sent, 'student')} their {noun}"
    parts = [head]
    if report.count("already"):
        parts.append(f"{report.count('already')} skipped (already sent)")
    if report.count("held"):
        parts.append(f"{report.count('held')} held back (see below)")
    if report.count("skipped"):
        parts.append(f"{report.count('skipped')} not sendable")
    if report.count("failed"):
        parts.append(f"{report.count('failed')} failed")
    lines = ["; ".join(parts) + "."]
    for o in report.outcomes:
        if o.status in ("held", "skipped", "failed"):
            name = o.name if o.name.isprintable() else o.name.encode("unicode_escape").decode()
            who = f"{o.student_id} ({name})" if name else o.student_id
            lines.append(f"  {o.status} {who}: {o.reason}")
    if report.count("failed") and report.dry_run is None:
        lines.append(
            "Run the same command again to retry the failed ones (nobody gets a message twice)."
        )
    return lines
