"""`lstm-exam send` against a real SMTP server (aiosmtpd on this machine, an ephemeral
port): every student receives exactly their own files and nobody else's, a failed
delivery is that student's alone, and a rerun sends only what was not delivered.

The class is typeset once with the real pdflatex (four students, the smallest problem);
each test sends from a copy of it, since a send writes its log into the worksheet.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import ssl
import sys
import zipfile
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result

from lstm_exam.cli import main
from lstm_exam.generator.core import defaults
from lstm_exam.generator.send.log import SendLog
from lstm_exam.generator.send.mail import Session, address_fault, parse_server
from lstm_exam.generator.store.files import locked

sys.path.insert(0, str(Path(__file__).parent))
import lms

pytestmark = pytest.mark.tex

SEED = "a-secret-seed-never-to-be-sent-4711"
TITLE = "Week 5: Gates"
ROSTER = (
    "student_id,name,email\n"
    "s1,Zoë Ünal-Łukasiewicz,zoe@example.edu\n"
    "s2,Ada Lovelace,ada@example.edu\n"
    "s3,Grace Hopper,grace@example.edu\n"
    "s4,Alan Turing,\n"
)
ADDRESS = {"s1": "zoe@example.edu", "s2": "ada@example.edu", "s3": "grace@example.edu"}
FROM = "Prof. Ng <lstm@example.edu>"


# --- a real SMTP server ------------------------------------------------------------------


class Mailbox:
    """aiosmtpd's handler: keeps every message; refuses or drops on request."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.drop: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address in self.drop:
            server.transport.close()  # the connection drops before the message
            return "451 dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [
            message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
            for _, rcpts, raw in self.received
            if address in rcpts
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(box: Mailbox, **kwargs: Any) -> Controller:
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    """A plain SMTP server on 127.0.0.1 (no STARTTLS): the mailbox and its HOST:PORT."""
    box = Mailbox()
    controller = start_server(box)
    try:
        yield box, f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()


# --- the class, typeset once ---------------------------------------------------------------


def cli(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed: run `make setup`", pytrace=False)
    tmp = tmp_path_factory.mktemp("send")
    spec = tmp / "spec.toml"
    problems = [{"kind": "cell_state", "hidden": 1}]
    spec.write_text(tomli_w.dumps({"title": TITLE, "seed": SEED, "problems": problems}), "utf-8")
    (tmp / "roster.csv").write_text(ROSTER, "utf-8")
    res = cli("generate", spec, "--roster", tmp / "roster.csv", "--out", tmp / "wk")
    assert res.exit_code == 0, res.output
    return tmp / "wk"


@pytest.fixture
def wk(built, tmp_path) -> Path:
    """A fresh copy of the worksheet: each test has its own send log."""
    folder = tmp_path / "wk"
    shutil.copytree(built, folder)
    return folder


def send(wk: Path, server: str, *more: object, env: dict[str, str] | None = None) -> Result:
    return cli("send", wk, "--smtp", server, "--from", FROM, *more, env=env)


def attachments(msg: EmailMessage) -> dict[str, bytes]:
    return {
        str(part.get_filename()): part.get_payload(decode=True)  # type: ignore[misc]
        for part in msg.iter_attachments()
    }


def own_files(wk: Path, what: str, sid: str) -> list[bytes]:
    if what == "sheets":
        return [
            (wk / "sheets" / f"{sid}.pdf").read_bytes(),
            (wk / "answer-templates" / f"{sid}.csv").read_bytes(),
        ]
    if what == "keys":
        return [(wk / "keys" / f"{sid}.pdf").read_bytes()]
    return [(wk / "grades" / "feedback" / f"{sid}.html").read_bytes()]


def no_seed_in(raw: bytes, msg: EmailMessage) -> None:
    """The seed in no header, no body and no attachment (decoded), in no encoding."""
    texts = [raw, *attachments(msg).values(), str(msg.get_body()).encode()]
    for text in texts:
        assert SEED.encode() not in text
        assert base64.b64encode(SEED.encode())[:20] not in text


def assert_each_got_their_own(box: Mailbox, wk: Path, what: str, ids: list[str]) -> None:
    """Each of ``ids`` got exactly one message with exactly their own files; nobody else
    got anything; no message holds the seed or the manifest."""
    everyone = {sid: own_files(wk, what, sid) for sid in ADDRESS}
    for sid in ADDRESS:
        got = box.messages_to(ADDRESS[sid])
        assert len(got) == (1 if sid in ids else 0), sid
        if sid not in ids:
            continue
        files = list(attachments(got[0]).values())
        assert sorted(files) == sorted(everyone[sid])
        # the PDF or HTML (the answer template is the same for everyone) is nobody else's
        own = files[0]
        assert own == everyone[sid][0]
        assert all(own != theirs[0] for other, theirs in everyone.items() if other != sid)
        assert all(
            name.endswith(f"-{sid}.pdf")
            or name.endswith(f"-{sid}.csv")
            or name.endswith(f"-{sid}.html")
            for name in attachments(got[0])
        )
        assert "manifest" not in " ".join(attachments(got[0]))
    for _, rcpts, _ in box.received:
        assert len(rcpts) == 1 and rcpts[0] in ADDRESS.values()
    for _, _, raw in box.received:
        no_seed_in(raw, message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]


def log_lines(wk: Path) -> list[dict[str, Any]]:
    path = wk / defaults.SEND_LOG
    return [json.loads(x) for x in path.read_text("utf-8").splitlines()] if path.exists() else []


# --- the tests -----------------------------------------------------------------------------


def test_each_student_gets_exactly_their_own_sheet_and_template(wk, mailbox):
    box, server = mailbox
    res = send(wk, server, "--what", "sheets")
    assert res.exit_code == 1, res.output  # s4 has no address: not everyone has it
    assert "Sent 3 students their sheet; 1 not sendable." in res.output
    assert "skipped s4 (Alan Turing): no e-mail address in the roster" in res.output
    assert_each_got_their_own(box, wk, "sheets", ["s1", "s2", "s3"])
    zoe = box.messages_to("zoe@example.edu")[0]
    assert zoe["To"].addresses[0].display_name == "Zoë Ünal-Łukasiewicz"
    assert zoe["Subject"] == f"{TITLE}: your sheet"
    assert "=?utf-8?" in zoe.as_string().split("\n\n", 1)[0]  # encoded on the wire
    body = zoe.get_body().get_content()  # type: ignore[union-attr]
    assert "Dear Zoë Ünal-Łukasiewicz," in body and TITLE in body
    assert [r["state"] for r in log_lines(wk)] == ["sending", "sent"] * 3


def test_keys_never_reach_another_student(wk, mailbox):
    box, server = mailbox
    res = send(wk, server, "--what", "keys")
    assert res.exit_code == 1
    assert_each_got_their_own(box, wk, "keys", ["s1", "s2", "s3"])
    sheets = {p.read_bytes() for p in (wk / "sheets").glob("*.pdf")}
    for _, _, raw in box.received:
        msg = message_from_bytes(raw, policy=policy.default)
        assert not set(attachments(msg).values()) & sheets  # type: ignore[arg-type]


def test_a_refused_recipient_fails_alone_and_a_rerun_sends_only_it(wk, mailbox):
    box, server = mailbox
    box.refuse.add("ada@example.edu")
    res = send(wk, server, "--what", "sheets")
    assert res.exit_code == 1
    assert "failed s2 (Ada Lovelace): the server said 550 5.1.1" in res.output
    assert "Sent 2 students their sheet" in res.output
    assert_each_got_their_own(box, wk, "sheets", ["s1", "s3"])
    box.refuse.clear()
    again = send(wk, server, "--what", "sheets")
    assert "Sent 1 student their sheet; 2 skipped (already sent)" in again.output
    assert_each_got_their_own(box, wk, "sheets", ["s1", "s2", "s3"])  # nobody twice
    third = send(wk, server, "--what", "sheets")
    assert "Sent 0 students their sheet; 3 skipped (already sent)" in third.output
    assert len(box.received) == 3
    # the keys are another thing to send: the sheets' log does not count for them
    keys = send(wk, server, "--what", "keys")
    assert "Sent 3 students their answer key" in keys.output


def test_a_dropped_connection_fails_that_student_and_the_rest_go_on(wk, mailbox):
    box, server = mailbox
    box.drop.add("zoe@example.edu")
    res = send(wk, server, "--what", "keys")
    assert res.exit_code == 1
    assert "failed s1 (Zoë Ünal-Łukasiewicz): " in res.output
    assert_each_got_their_own(box, wk, "keys", ["s2", "s3"])  # over a new connection
    box.drop.clear()
    send(wk, server, "--what", "keys")
    assert_each_got_their_own(box, wk, "keys", ["s1", "s2", "s3"])


def test_a_changed_file_is_held_until_resend(wk, mailbox):
    box, server = mailbox
    send(wk, server, "--what", "keys")
    key = wk / "keys" / "s2.pdf"
    key.write_bytes(key.read_bytes() + b"\n% changed\n")
    res = send(wk, server, "--what", "keys")
    assert "held s2 (Ada Lovelace): the answer key changed since it was sent on" in res.output
    assert res.exit_code == 1 and len(box.received) == 3
    res = send(wk, server, "--what", "keys", "--resend", "--student", "s2")
    assert res.exit_code == 0, res.output
    assert "Sent 1 student" in res.output
    last = box.messages_to("ada@example.edu")[-1]
    assert list(attachments(last).values()) == [key.read_bytes()]


def test_a_send_stopped_mid_delivery_is_held_not_sent_twice(wk, mailbox):
    box, server = mailbox
    send(wk, server, "--what", "sheets", "--student", "s1")
    # as a run killed after handing s2's message to the server, before its result
    log = SendLog(wk / defaults.SEND_LOG)
    log.record("sending", "sheets", "s2", "ada@example.edu", {}, "<x@example.edu>")
    with (wk / defaults.SEND_LOG).open("ab") as f:
        f.write(b'{"time":"2026-')  # and a line torn by the kill
    res = send(wk, server, "--what", "sheets")
    assert "held s2 (Ada Lovelace): a run stopped while sending it" in res.output
    assert "<x@example.edu>" in res.output
    assert_each_got_their_own(box, wk, "sheets", ["s1", "s3"])


def test_a_dry_run_writes_the_messages_and_sends_nothing(wk, mailbox, tmp_path):
    box, _ = mailbox
    out = tmp_path / "outbox"
    res = cli("send", wk, "--what", "keys", "--from", FROM, "--dry-run", "--out", out)
    assert res.exit_code == 1, res.output  # s4: no address
    assert "Wrote 3 messages (answer key)" in res.output and "sent nothing" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["s1.eml", "s2.eml", "s3.eml"]
    for sid in ("s1", "s2", "s3"):
        raw = (out / f"{sid}.eml").read_bytes()
        msg = message_from_bytes(raw, policy=policy.default)
        assert msg["To"].addresses[0].addr_spec == ADDRESS[sid]  # type: ignore[union-attr]
        assert list(attachments(msg).values()) == own_files(wk, "keys", sid)  # type: ignore[arg-type]
        no_seed_in(raw, msg)  # type: ignore[arg-type]
    assert box.received == [] and log_lines(wk) == []
    again = cli("send", wk, "--what", "keys", "--from", FROM, "--dry-run", "--out", out)
    assert again.exit_code == 2 and "use --force" in again.output
    into = cli("send", wk, "--what", "keys", "--from", FROM, "--dry-run", "--out", wk / "keys")
    assert into.exit_code == 2 and "would replace keys of the worksheet folder" in into.output


@pytest.mark.parametrize(
    ("args", "fault"),
    [
        (["--smtp", "smtp.uni.edu"], "error: --smtp: 'smtp.uni.edu' is not HOST:PORT"),
        (["--smtp", "smtp.uni.edu:0"], "error: --smtp: port 0 is not from 1 to 65535"),
        (["--smtp", "smtp.uni.edu:99999"], "error: --smtp: port 99999 is not from 1 to 65535"),
        (["--smtp", "a b:25"], "error: --smtp: 'a b' is no host name or address"),
        (
            ["--smtp", "x:25", "--from", "nobody"],
            "error: --from: 'nobody' is no valid e-mail address",
        ),
        (
            ["--smtp", "x:25", "--from", "a@b.edu\r\nBcc: all@b.edu"],
            "error: --from: 'a@b.edu\\\\r\\\\nBcc: all@b.edu' holds a line break",
        ),
        (
            ["--smtp", "x:25", "--from", "a@b.edu, c@d.edu"],
            "error: --from: 'a@b.edu, c@d.edu' holds several",
        ),
        (["--from", "a@b.edu"], "error: --smtp: give the server as HOST:PORT"),
        (["--from", "a@b.edu", "--dry-run"], "error: --dry-run: needs --out DIR"),
    ],
)
def test_bad_smtp_or_from_is_one_line(wk, args, fault):
    res = cli(
        "send", wk, "--what", "sheets", *(["--from", FROM] if "--from" not in args else []), *args
    )
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [res.output.strip()]
    assert res.output.startswith(fault), res.output


def test_an_unreachable_server_is_one_line_and_nothing_is_logged(wk):
    res = send(wk, f"127.0.0.1:{free_port()}", "--what", "sheets")
    assert res.exit_code == 2
    assert res.output.startswith("error: 127.0.0.1:") and "cannot connect" in res.output
    assert log_lines(wk) == []


def test_students_without_a_valid_address_are_skipped_the_rest_go_on(wk, mailbox):
    box, server = mailbox
    manifest = wk / "manifest.json"
    text = manifest.read_text("utf-8")
    text = text.replace(
        '"email":"grace@example.edu"', '"email":"grace@example.edu, all@example.edu"'
    )
    manifest.write_text(text, "utf-8")
    res = send(wk, server, "--what", "sheets")
    assert (
        "skipped s3 (Grace Hopper): e-mail 'grace@example.edu, all@example.edu' holds several addresses"
        in res.output
    )
    assert "skipped s4 (Alan Turing): no e-mail address in the roster" in res.output
    assert_each_got_their_own(box, wk, "sheets", ["s1", "s2"])


def test_a_line_break_in_a_name_never_reaches_a_header(wk, mailbox):
    box, server = mailbox
    manifest = wk / "manifest.json"
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace('"Ada Lovelace"', '"Ada\\r\\nBcc: evil@example.edu"'), "utf-8")
    res = send(wk, server, "--what", "keys")
    assert (
        "skipped s2 (Ada\\r\\nBcc: evil@example.edu): a name or title holds a line break"
        in res.output
    )
    assert all("evil@example.edu" not in rcpts for _, rcpts, _ in box.received)
    assert all(b"Bcc" not in raw.split(b"\r\n\r\n")[0] for _, _, raw in box.received)
    assert_each_got_their_own(box, wk, "keys", ["s1", "s3"])


def test_two_students_of_one_address_get_nothing(wk, mailbox):
    box, server = mailbox
    manifest = wk / "manifest.json"
    text = manifest.read_text("utf-8").replace("grace@example.edu", "ADA@example.edu")
    manifest.write_text(text, "utf-8")
    res = send(wk, server, "--what", "keys")
    assert "skipped s2 (Ada Lovelace): has the same e-mail address as s3" in res.output
    assert "skipped s3 (Grace Hopper): has the same e-mail address as s2" in res.output
    assert_each_got_their_own(box, wk, "keys", ["s1"])
    alone = send(wk, server, "--what", "keys", "--student", "s2")  # s3 not sent, still found
    assert "skipped s2 (Ada Lovelace): has the same e-mail address as s3" in alone.output
    assert len(box.received) == 1


def test_a_link_to_another_students_key_is_never_attached(wk, mailbox):
    box, server = mailbox
    (wk / "keys" / "s2.pdf").unlink()
    (wk / "keys" / "s2.pdf").symlink_to("s1.pdf")
    res = send(wk, server, "--what", "keys")
    assert "skipped s2 (Ada Lovelace): keys/s2.pdf is a link: refused" in res.output
    assert box.messages_to("ada@example.edu") == []
    for sid in ("s1", "s3"):  # (s2's "own files" would read through the link)
        (got,) = box.messages_to(ADDRESS[sid])
        assert list(attachments(got).values()) == own_files(wk, "keys", sid)
    assert len(box.received) == 2


def test_a_file_over_the_cap_is_skipped(wk, mailbox, monkeypatch):
    box, server = mailbox
    big = wk / "keys" / "s3.pdf"
    monkeypatch.setattr(defaults, "MAX_ATTACHMENT_BYTES", big.stat().st_size - 1)
    res = send(wk, server, "--what", "keys")
    assert "skipped s3 (Grace Hopper): keys/s3.pdf is larger than" in res.output
    assert box.messages_to("grace@example.edu") == []


def test_feedback_goes_from_the_grades_folder(wk, mailbox, tmp_path):
    box, server = mailbox
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid in ("s1", "s2"):
        shutil.copy(wk / "keys" / f"{sid}.csv", subs / f"{sid}.csv")
    assert cli("grade", wk, subs).exit_code == 0
    res = send(wk, server, "--what", "feedback")
    assert_each_got_their_own(box, wk, "feedback", ["s1", "s2", "s3"])
    assert res.exit_code == 1  # s4
    nogrades = tmp_path / "other"
    shutil.copytree(wk, nogrades, ignore=shutil.ignore_patterns("grades"))
    res = send(nogrades, server, "--what", "feedback")
    assert (
        res.exit_code == 2
        and "grades/feedback: no such folder: grade the worksheet first" in res.output
    )


def test_a_worksheet_without_pdfs_is_one_line(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, "utf-8")
    wk = tmp_path / "wk"
    res = cli("generate", "--roster", tmp_path / "roster.csv", "--out", wk, "--no-pdf")
    assert res.exit_code == 0, res.output
    for what in ("sheets", "keys"):
        res = cli("send", wk, "--what", what, "--from", FROM, "--dry-run", "--out", tmp_path / "o")
        assert res.exit_code == 2
        assert f"{what}: " in res.output and "lstm-exam render" in res.output
        assert len(res.output.strip().splitlines()) == 1


def test_a_second_send_of_the_worksheet_waits_for_the_first(wk, mailbox):
    box, server = mailbox
    with locked((wk / defaults.SEND_LOG).resolve()):
        res = send(wk, server, "--what", "sheets")
    assert res.exit_code == 2 and "another lstm-exam run" in res.output
    assert box.received == []


def test_a_server_without_starttls_is_refused_when_asked_for_it(wk, mailbox):
    box, server = mailbox
    res = send(wk, server, "--what", "sheets", "--starttls")
    assert res.exit_code == 2 and "the server offers no STARTTLS" in res.output
    assert box.received == []


def test_a_login_needs_both_variables(wk, mailbox):
    _, server = mailbox
    res = send(wk, server, "--what", "sheets", env={defaults.SMTP_USER_ENV: "prof"})
    assert res.exit_code == 2
    assert res.output.startswith(
        f"error: {defaults.SMTP_USER_ENV}: is set but {defaults.SMTP_PASSWORD_ENV} is not"
    )


@pytest.fixture
def tls_mailbox(tmp_path, monkeypatch) -> Iterator[tuple[Mailbox, str, list[str]]]:
    """An SMTP server that requires STARTTLS (a certificate of a CA made for the test,
    trusted through SSL_CERT_FILE) and a login before it takes a message."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    logins: list[str] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret!"
        logins.append(f"{mechanism} {auth_data.login.decode()} {ok}")
        return AuthResult(success=ok, handled=False)  # a failure gets the usual 535

    box = Mailbox()
    controller = start_server(
        box,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    try:
        yield box, f"127.0.0.1:{controller.port}", logins
    finally:
        controller.stop()


def test_starttls_and_a_login_from_the_environment(wk, tls_mailbox):
    box, server, logins = tls_mailbox
    env = {defaults.SMTP_USER_ENV: "prof", defaults.SMTP_PASSWORD_ENV: "s3cret!"}
    res = send(wk, server, "--what", "keys", env=env)
    assert res.exit_code == 1, res.output
    assert_each_got_their_own(box, wk, "keys", ["s1", "s2", "s3"])
    assert len(logins) == 1 and logins[0].endswith("prof True")  # one connection for all
    bad = {**env, defaults.SMTP_PASSWORD_ENV: "wrong"}
    res = send(wk, server, "--what", "sheets", env=bad)
    assert res.exit_code == 2 and "login refused" in res.output
    assert "wrong" not in res.output


def test_no_starttls_against_a_server_that_requires_it_fails_per_student(wk, tls_mailbox):
    box, server, _ = tls_mailbox
    res = send(wk, server, "--what", "keys", "--no-starttls")
    assert res.exit_code == 1
    assert res.output.count("failed s") == 3 and box.received == []


def test_addresses_are_checked():
    assert address_fault("ada@uni.edu")[1] is None
    assert address_fault("Ada <ada@uni.edu>")[1] is not None  # a roster's address is plain
    for bad in [
        "",
        "ada",
        "ada@",
        "@uni.edu",
        "a b@uni.edu",
        "ada@uni..edu",
        "a@b.c\nBcc: x@y.z",
        "zoë@uni.edu",
        "a@b.edu; c@d.edu",
    ]:
        assert address_fault(bad)[1] is not None, bad
    assert str(parse_server("[::1]:25")) == "[::1]:25" and parse_server("localhost:2525").loopback
    assert not parse_server("smtp.uni.edu:587").loopback
    # STARTTLS: required by default over a network, used when offered on this machine
    assert Session(parse_server("smtp.uni.edu:587")).tls == "require"
    assert Session(parse_server("127.0.0.1:25")).tls == "auto"
    assert Session(parse_server("127.0.0.1:25"), "never").tls == "never"


# --- a Moodle assignment's feedback-files zip ----------------------------------------------


def test_a_moodle_zip_gives_each_participant_their_own_key_and_nothing_else(wk, tmp_path):
    people = {
        "s1": lms.MoodleUser(11, "Zoë", "Ünal-Łukasiewicz", "zoe@example.edu", 73003),
        "s2": lms.MoodleUser(12, "Ada", "Lovelace", "ada@example.edu", 73001),
        "s3": lms.MoodleUser(13, "Grace", "Hopper", "grace@example.edu", 73004),
    }  # s4 has no row: no participant id, left out and said
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(
        lms.moodle_grading_worksheet([lms.WorksheetRow(u) for u in people.values()])
    )
    out = tmp_path / "keys.zip"
    res = cli("send", wk, "--what", "keys", "--moodle-zip", out, "--moodle-worksheet", worksheet)
    assert res.exit_code == 1 and "left out s4: no Moodle participant id" in res.output
    data = out.read_bytes()
    found = lms.moodle_feedback_zip_check(data, {u.participantid: u for u in people.values()})
    assert len(found) == 3  # every member taken by the importer
    for member, (user, plugin, filename) in found.items():
        sid = next(s for s, u in people.items() if u == user)
        assert plugin == "assignfeedback_file" and filename.endswith(f"-key-{sid}.pdf")
        assert zipfile.ZipFile(out).read(member) == (wk / "keys" / f"{sid}.pdf").read_bytes()
    assert SEED.encode() not in data
    # nothing was sent, nothing logged; a second zip is not written over without --force
    assert not (wk / defaults.SEND_LOG).exists()
    res = cli("send", wk, "--what", "keys", "--moodle-zip", out, "--moodle-worksheet", worksheet)
    assert res.exit_code == 2 and "use --force" in res.output
