"""`send` trusts nothing it reads (issue 21): feedback only from this worksheet's grades,
no header but the product's on the wire whatever a name or title holds, only plain
``local@domain`` addresses, and a message the server may have received never sent twice.

Every delivery goes to a real SMTP server (aiosmtpd on this machine) whose handler keeps
the raw DATA as it came over the wire. The worksheets are made without PDFs (the
feedback is what is sent), so no test here needs pdflatex.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.send import mail, run
from lstm_exam.generator.send.outbox import Attachment, Parcel, check_grades, open_outbox
from lstm_exam.generator.spec.roster import Student
from lstm_exam.generator.store.manifest_read import read_manifest_students

sys.path.insert(0, str(Path(__file__).parent))
from test_send import Mailbox, cli, free_port, log_lines, mailbox, start_server  # noqa: F401  (mailbox: the fixture)

ROSTER = (
    "student_id,name,email\n"
    "s1,Zoë Ünal-Łukasiewicz,zoe@example.edu\n"
    "s2,Ada Lovelace,ada@example.edu\n"
    "s3,Grace Hopper,grace@example.edu\n"
)
#: Another class: the same ids, other people.
OTHER_ROSTER = (
    "student_id,name,email\n"
    "s1,Robert Stone,robert@example.edu\n"
    "s2,Mallory Mint,mallory@example.edu\n"
    "s3,Trent Tarn,trent@example.edu\n"
)
ADDRESS = {"s1": "zoe@example.edu", "s2": "ada@example.edu", "s3": "grace@example.edu"}
FROM = "Prof. Ng <lstm@example.edu>"
#: The headers the product writes, and no other.
OWN_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
OWN_HEADERS |= {"content-transfer-encoding"}


# --- worksheets, graded, without PDFs ------------------------------------------------------


def make_graded(tmp: Path, name: str, seed: str, roster: str, title: str = "Week 5") -> Path:
    """A worksheet generated (no PDFs) from ``roster`` and graded from its own keys."""
    spec = tmp / f"{name}.toml"
    problems = [{"kind": "cell_state", "hidden": 1}]
    spec.write_text(tomli_w.dumps({"title": title, "seed": seed, "problems": problems}), "utf-8")
    (tmp / f"{name}.csv").write_text(roster, "utf-8")
    wk = tmp / name
    res = cli("generate", spec, "--roster", tmp / f"{name}.csv", "--out", wk, "--no-pdf")
    assert res.exit_code == 0, res.output
    subs = tmp / f"{name}-subs"
    subs.mkdir()
    for sid in ("s1", "s2", "s3"):
        shutil.copy(wk / "keys" / f"{sid}.csv", subs / f"{sid}.csv")
    res = cli("grade", wk, subs)
    assert res.exit_code == 0, res.output
    return wk


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> dict[str, Path]:
    """Worksheet A; B, another class's of another seed; C, of A's seed, title and ids but
    another class's names (so the same variant codes)."""
    tmp = tmp_path_factory.mktemp("classes")
    return {
        "A": make_graded(tmp, "A", "seed-of-class-a-4711", ROSTER),
        "B": make_graded(tmp, "B", "seed-of-class-b-0815", OTHER_ROSTER),
        "C": make_graded(tmp, "C", "seed-of-class-a-4711", OTHER_ROSTER),
    }


@pytest.fixture
def ws(classes, tmp_path) -> dict[str, Path]:
    """Fresh copies: a send writes its log into the worksheet."""
    out = {}
    for k, folder in classes.items():
        out[k] = tmp_path / k
        shutil.copytree(folder, out[k])
    return out


@pytest.fixture
def server(mailbox: tuple[Mailbox, str]) -> tuple[Mailbox, str]:  # noqa: F811  (the fixture)
    """test_send's plain SMTP server on 127.0.0.1: the mailbox and its HOST:PORT."""
    return mailbox


def send(wk: Path, server: str, *more: object) -> Any:
    return cli("send", wk, "--smtp", server, "--from", FROM, *more)


def regrade(wk: Path, tmp: Path) -> None:
    """Grade the worksheet again (its manifest was changed: its old grades are not its)."""
    subs = tmp / "resubs"
    subs.mkdir()
    for sid in ("s1", "s2", "s3"):
        shutil.copy(wk / "keys" / f"{sid}.csv", subs / f"{sid}.csv")
    res = cli("grade", wk, subs, "--force")
    assert res.exit_code == 0, res.output


def one_line(res: Any) -> str:
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    return lines[0]


# --- fault 3: feedback only from this worksheet's grades ------------------------------------


def test_another_worksheets_grades_are_refused_and_nobody_gets_anything(ws, server, tmp_path):
    box, address = server
    for other in ("B", "C"):  # another seed; or the same seed and ids, another class
        res = send(ws["A"], address, "--what", "feedback", "--grades", ws[other] / "grades")
        line = one_line(res)
        assert line.startswith(f"error: {ws[other] / 'grades' / 'results.json'}: worksheet_id")
        assert "the grades of another worksheet" in line
        dry = cli(
            "send", ws["A"], "--what", "feedback", "--from", FROM, "--grades",
            ws[other] / "grades", "--dry-run", "--out", tmp_path / "eml",
        )  # fmt: skip
        assert "the grades of another worksheet" in one_line(dry)
        zipped = cli(
            "send", ws["A"], "--what", "feedback", "--grades", ws[other] / "grades",
            "--moodle-zip", tmp_path / "fb.zip",
        )  # fmt: skip
        assert "the grades of another worksheet" in one_line(zipped)
    assert box.received == [] and log_lines(ws["A"]) == []
    assert not (tmp_path / "eml").exists() and not (tmp_path / "fb.zip").exists()
    # its own grades, named or by default, go out
    res = send(ws["A"], address, "--what", "feedback", "--grades", ws["A"] / "grades")
    assert res.exit_code == 0, res.output
    for sid, to in ADDRESS.items():
        (msg,) = [m for m in box_messages(box) if m["To"].addresses[0].addr_spec == to]
        (part,) = msg.iter_attachments()
        assert (
            part.get_payload(decode=True)
            == (ws["A"] / "grades/feedback" / f"{sid}.html").read_bytes()
        )


def box_messages(box: Mailbox) -> list[Any]:
    return [message_from_bytes(raw, policy=policy.default) for _, _, raw in box.received]


def test_a_feedback_page_of_another_student_or_class_is_kept_back(ws, server):
    box, address = server
    feedback = ws["A"] / "grades" / "feedback"
    shutil.copy(ws["C"] / "grades/feedback/s2.html", feedback / "s2.html")  # same variant
    shutil.copy(feedback / "s1.html", feedback / "s3.html")  # another student's
    res = send(ws["A"], address, "--what", "feedback")
    assert res.exit_code == 1, res.output
    for sid in ("s2", "s3"):
        assert f"skipped {sid} " in res.output
        assert f"feedback/{sid}.html is not the feedback page `grade` wrote" in res.output
    assert [rcpts for _, rcpts, _ in box.received] == [["zoe@example.edu"]]


def test_grades_that_name_no_worksheet_are_refused(ws, server):
    box, address = server
    results = ws["A"] / "grades" / "results.json"
    text = results.read_text("utf-8")
    results.write_text(re.sub(r',"worksheet_id":"[0-9a-f]+"', "", text, count=1), "utf-8")
    assert "graded by an older lstm-exam" in one_line(send(ws["A"], address, "--what", "feedback"))
    results.unlink()
    assert "no grades folder of `lstm-exam grade`" in one_line(
        send(ws["A"], address, "--what", "feedback")
    )
    assert box.received == []


def test_grades_are_only_for_feedback(ws, server):
    _, address = server
    res = send(ws["A"], address, "--what", "keys", "--grades", ws["A"] / "grades")
    assert one_line(res).startswith("error: --grades: only with --what feedback")


def test_grades_of_the_worksheet_regenerated_are_not_its_grades(ws, server, tmp_path):
    """`generate --force` with the same seed keeps the variants, but a changed roster is
    another class: the old grades no longer go out."""
    box, address = server
    manifest = ws["A"] / "manifest.json"
    manifest.write_text(manifest.read_text("utf-8").replace("Ada Lovelace", "Ada King"), "utf-8")
    line = one_line(send(ws["A"], address, "--what", "feedback"))
    assert "another worksheet of the same title (made again since" in line, line
    assert box.received == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=st.integers(0, 2),
    variant=st.text(min_size=0, max_size=12),
    drop=st.booleans(),
)
def test_any_results_that_do_not_name_each_students_variant_are_refused(
    classes, tmp_path_factory, at, variant, drop
):
    folder = classes["A"]
    settings_, entries = read_manifest_students(folder)
    grades = tmp_path_factory.mktemp("g")
    data = (folder / "grades" / "results.json").read_bytes()
    lines = data.split(b"\n")
    row = json.loads(lines[1 + at].rstrip(b","))
    if variant == row["variant"] and not drop:
        return
    if drop:
        del lines[1 + at]
        if at == 2:  # the last row has no comma after it
            lines[2] = lines[2].rstrip(b",")
    else:
        row["variant"] = variant
        lines[1 + at] = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + (
            b"," if at < 2 else b""
        )
    (grades / "results.json").write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as e:
        check_grades(grades, settings_, entries)
    assert "not this worksheet's" in e.value.line()
    check_grades(folder / "grades", settings_, entries)  # the file itself is


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_bytes_as_results_are_one_line_or_this_worksheets(classes, tmp_path_factory, data):
    folder = classes["A"]
    settings_, entries = read_manifest_students(folder)
    real = (folder / "grades" / "results.json").read_bytes()
    at = data.draw(st.integers(0, len(real)))
    cut = data.draw(st.integers(0, 40))
    junk = data.draw(st.binary(max_size=40) | st.sampled_from([b"\n", b"]}", b"{", b'"', b"\xff"]))
    grades = tmp_path_factory.mktemp("g")
    (grades / "results.json").write_bytes(real[:at] + junk + real[at + cut :])
    try:
        check_grades(grades, settings_, entries)
    except InputError as e:
        assert "\n" not in e.line() and str(grades / "results.json") in e.line()


# --- fault 4: no header but the product's, whatever a name or title holds --------------------


def _q(data: bytes) -> str:
    return "".join(f"={b:02X}" if not chr(b).isalnum() else chr(b) for b in data)


@st.composite
def encoded_words(draw) -> str:
    """A text holding encoded words (RFC 2047, q or b, any case, a language, adjacent
    ones that decoders join) whose decoded text holds line breaks and headers."""
    payload = draw(
        st.sampled_from(
            [
                "Kim\r\nBcc: evil@evil.com",
                "\r\nBcc: evil@evil.com\r\n",
                "x\nTo: all@evil.com",
                "y\rCc: cc@evil.com",
                "\r\n\r\nbody <b>",
                "z\u2028Bcc: ls@evil.com",
                "w\x85Bcc: nel@evil.com",
                "\x00\x0b\x0c\x1c\x1d\x1e",
            ]
        )
        | st.text(max_size=20)
    )
    charset = draw(
        st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "us-ascii", "utf-8*en", "koi8-r"])
    )
    codec = {"utf-8*en": "utf-8", "us-ascii": "ascii"}.get(charset.lower(), charset)
    raw = payload.encode(codec, "replace")
    words = []
    for k in range(draw(st.integers(1, 3))):  # split across adjacent words
        part = (
            raw[k * len(raw) // 3 : (k + 1) * len(raw) // 3] if k < 2 else raw[2 * len(raw) // 3 :]
        )
        enc = draw(st.sampled_from("qQbB"))
        body = base64.b64encode(part).decode() if enc in "bB" else _q(part)
        words.append(f"=?{charset}?{enc}?{body}?=")
    sep = draw(st.sampled_from([" ", "", "\t", "  "]))
    before = draw(st.sampled_from(["", "Kim ", '"', "(c) "]))
    return before + sep.join(words)


HOSTILE = (
    encoded_words()
    | st.text(max_size=60)
    | st.sampled_from(
        [
            "=?utf-8?q?Kim=0D=0ABcc=3A_evil=40evil.com?=",
            "=?UTF-8?B?S2ltDQpCY2M6IGV2aWxAZXZpbC5jb20=?=",
            "Kim\r\nBcc: evil@evil.com",
            "Kim\u2028Bcc: evil@evil.com",
            "Kim\x85Bcc: evil@evil.com",
            'Kim" <evil@evil.com>, "x',
            "Kim <evil@evil.com>",
            "a" * 300,
            "李" * 120,
        ]
    )
)


def header_names(raw: bytes) -> list[str]:
    """The names of the header lines of a message as it came over the wire (a folded
    line goes on with a space or a tab)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = []
    for line in head.split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line, line
        assert line.isascii() and len(line) <= 998, line
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, line
        names.append(name.decode().lower())
    return names


def parcel_of(name: str) -> Parcel:
    data = b"<p>feedback</p>"
    a = Attachment("feedback/s1.html", "wk-feedback-s1.html", ("text", "html"), data, "0")
    return Parcel(Student("s1", name), (a,))


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, mail.Session]]:
    """One server and one session for many messages."""
    box = Mailbox()
    controller = start_server(box)
    session = mail.Session(mail.parse_server(f"127.0.0.1:{controller.port}"), "never")
    session.open()
    try:
        yield box, session
    finally:
        session.close()
        controller.stop()


@settings(max_examples=150, deadline=None)
@given(name=HOSTILE, title=HOSTILE, course=HOSTILE, display=HOSTILE)
def test_no_header_but_the_products_reaches_the_wire(smtp, name, title, course, display):
    box, session = smtp
    to = Address(addr_spec="kim@example.edu")
    try:
        sender = mail.parse_address(f'"{display}" <prof@example.edu>')
    except InputError as e:  # a line break in the --from given: refused, one line
        assert mail._CONTROL.search(display) or set(display) & set('"\\<>'), e
        sender = Address("Prof", addr_spec="prof@example.edu")
    try:
        msg = mail.message(title, course, "feedback", parcel_of(name), to, sender)
    except ValueError:  # a line break in a name or title: that student is skipped
        assert any(mail._CONTROL.search(t) for t in (name, title, course, sender.display_name))
        return
    n = len(box.received)
    session.deliver(msg, sender, to)
    assert len(box.received) == n + 1
    _, rcpts, raw = box.received[-1]
    assert rcpts == ["kim@example.edu"]
    names = header_names(raw)
    assert set(names) <= OWN_HEADERS and sorted(names) == sorted(set(names)), names
    got = message_from_bytes(raw, policy=policy.default)
    # one address each, as a reader sees them
    assert [a.addr_spec for a in got["To"].addresses] == ["kim@example.edu"]
    assert [a.addr_spec for a in got["From"].addresses] == ["prof@example.edu"]
    # what an RFC 2047 reader decodes is the text as written, never what an encoded
    # word in it says (Python's address parser keeps the space between two encoded
    # words that RFC 2047 drops, so the display names are decoded as the RFC says)
    assert mailbox_of(raw, "To") == (name, "kim@example.edu")
    assert mailbox_of(raw, "From") == (sender.display_name, "prof@example.edu")
    assert decoded(raw_header(raw, "Subject")) == f"{title}: your feedback"


def raw_header(raw: bytes, name: str) -> str:
    """A header's value as it came over the wire, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    (value,) = re.findall(
        rf"^{name}: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE | re.IGNORECASE
    )
    return re.sub(r"\r\n(?=[ \t])", "", value)


def decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def mailbox_of(raw: bytes, name: str) -> tuple[str, str]:
    """The display name (decoded as RFC 2047 says) and the address of From or To."""
    value = raw_header(raw, name)
    m = re.fullmatch(r"(.*?) ?<([^<>]+)>|([^<> ]+)", value)
    assert m is not None, value
    return (decoded(m[1]), m[2]) if m[2] else ("", m[3])


def test_an_encoded_word_in_a_roster_name_is_sent_as_text(ws, server, tmp_path):
    """The issue's case, through `send` and a manifest: no Bcc line on the wire."""
    box, address = server
    hostile = "=?utf-8?q?Kim=0D=0ABcc=3A_evil=40evil.com?="
    manifest = ws["A"] / "manifest.json"
    text = manifest.read_text("utf-8").replace('"Ada Lovelace"', json.dumps(hostile))
    manifest.write_text(text, "utf-8")
    regrade(ws["A"], tmp_path)
    res = send(ws["A"], address, "--what", "feedback")
    assert res.exit_code == 0, res.output
    assert len(box.received) == 3
    for _, rcpts, raw in box.received:
        assert len(rcpts) == 1 and "evil@evil.com" not in rcpts
        assert set(header_names(raw)) <= OWN_HEADERS
        assert b"evil@evil.com" not in raw.split(b"\r\n\r\n")[0]
    (ada,) = [m for m in box_messages(box) if m["To"].addresses[0].addr_spec == ADDRESS["s2"]]
    assert ada["To"].addresses[0].display_name == hostile


def test_a_slug_in_a_manifest_never_makes_a_header_line(ws, server, tmp_path):
    """The slug names each attachment (a MIME header's parameter): it is slugified again."""
    box, address = server
    manifest = ws["A"] / "manifest.json"
    hostile = "=?utf-8?q?x=0D=0ABcc=3A_e=40evil.com?="
    text = manifest.read_text("utf-8").replace('"slug":"week-5"', f'"slug":{json.dumps(hostile)}')
    assert hostile in text
    manifest.write_text(text, "utf-8")
    regrade(ws["A"], tmp_path)
    res = send(ws["A"], address, "--what", "feedback")
    assert res.exit_code == 0, res.output
    for _, _, raw in box.received:
        lines = raw.split(b"\r\n")
        assert not [x for x in lines if x.lower().startswith((b"bcc", b"cc:", b"to:"))][1:]
        (msg,) = [message_from_bytes(raw, policy=policy.default)]
        (part,) = msg.iter_attachments()
        assert re.fullmatch(r"[a-z0-9-]+-feedback-s[123]\.html", part.get_filename() or "")


def test_a_from_display_name_is_never_decoded(tmp_path):
    sender = mail.parse_address("=?utf-8?q?Ng=0D=0ABcc=3A_x=40y.z?= <ng@uni.edu>")
    assert sender.display_name == "=?utf-8?q?Ng=0D=0ABcc=3A_x=40y.z?="
    assert mail.parse_address('"Prof. \\"Ng\\"" <ng@uni.edu>').display_name == 'Prof. "Ng"'
    for bad in ["Ng\u2028 <ng@uni.edu>", "a <b@c.de> <ng@uni.edu>", "ng%x@uni.edu"]:
        with pytest.raises(InputError):
            mail.parse_address(bad)


# --- the e-mail part of fault 10: only plain local@domain ------------------------------------

REFUSED = {
    "wes%evil.com@uni.edu": "holds '%'",
    "evil.com!xia@uni.edu": "holds '!'",
    "@a.edu,@b.edu:x@uni.edu": "is a source route",
    "@a.edu:x@uni.edu": "is a source route",
    '"x y"@uni.edu': "has a quoted local part",
    '"wes@evil.com"@uni.edu': "has a quoted local part",
    "x(comment)@uni.edu": "holds a comment",
    "x@[10.0.0.1]": "has an IP address",
    "x@[IPv6:::1]": "has an IP address",
    "x@10.0.0.1": "is no valid e-mail address",
    "x@localhost": "is no valid e-mail address",
    "Kim <kim@uni.edu>": "has a display name",
    "kim@uni.edu, all@uni.edu": "holds several addresses",
    "|/bin/sh@uni.edu": "is no valid e-mail address",
    "a..b@uni.edu": "is no valid e-mail address",
    ".a@uni.edu": "is no valid e-mail address",
    "a@uni..edu": "is no valid e-mail address",
    "a@-uni.edu": "is no valid e-mail address",
    "=?utf-8?q?a?=@uni.edu": "is no valid e-mail address",
    "kim@uni.edu\u2028": "holds a line break",
    "kïm@uni.edu": "is not ASCII",
}


@pytest.mark.parametrize(("text", "why"), REFUSED.items())
def test_only_plain_addresses(text, why):
    address, fault = mail.address_fault(text)
    assert address is None and fault is not None and fault.startswith(why), fault


def test_a_refused_address_is_that_students_row(ws, server, tmp_path):
    box, address = server
    manifest = ws["A"] / "manifest.json"
    text = manifest.read_text("utf-8")
    text = text.replace("ada@example.edu", "wes%evil.com@example.edu")
    text = text.replace("grace@example.edu", "evil.com!xia@example.edu")
    manifest.write_text(text, "utf-8")
    regrade(ws["A"], tmp_path)
    res = send(ws["A"], address, "--what", "feedback")
    assert res.exit_code == 1, res.output
    assert "skipped s2 (Ada Lovelace): e-mail 'wes%evil.com@example.edu' holds '%'" in res.output
    assert "skipped s3 (Grace Hopper): e-mail 'evil.com!xia@example.edu' holds '!'" in res.output
    assert [rcpts for _, rcpts, _ in box.received] == [["zoe@example.edu"]]


_ATEXT = re.compile(r"[A-Za-z0-9#$&'*+=^_{}~-]+(\.[A-Za-z0-9#$&'*+=^_{}~-]+)*")
_DNS = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?")


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab.@%!\"()[]<>,;:\\ |/?=\r\n\u2028-1+'"), max_size=24)
    | st.emails()
)
def test_an_accepted_address_is_a_plain_one(text):
    address, fault = mail.address_fault(text)
    if address is None:
        assert fault
        return
    local, _, domain = text.strip().rpartition("@")
    assert _ATEXT.fullmatch(local) and _DNS.fullmatch(domain), text
    assert not set('%!"()[]<>,;:\\ |/?\r\n') & set(text.strip())
    assert address.addr_spec == text.strip()


# --- fault 6: a message the server may have received is never sent twice unasked ---------------


class Dropping(Mailbox):
    """Drops the connection of chosen recipients at a chosen moment: at MAIL, at RCPT, or
    after the whole message was received (before its answer), or answers too late."""

    def __init__(self, at: str) -> None:
        super().__init__()
        self.at = at
        self.victims: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.at == "rcpt" and address in self.victims:
            server.transport.close()
            return "451 dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if set(envelope.rcpt_tos) & self.victims:
            if self.at == "data":
                server.transport.abort()  # the whole message is here; no answer
                return "250 never said"
            if self.at == "late":
                await asyncio.sleep(3)  # past the client's time limit
        return "250 Message accepted for delivery"


@pytest.fixture
def dropping() -> Iterator[tuple[Dropping, str]]:
    box = Dropping("data")
    controller = start_server(box)
    try:
        yield box, f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()


def test_a_drop_after_the_end_of_data_is_held_not_sent_twice(ws, dropping):
    box, address = dropping
    box.victims.add("ada@example.edu")
    res = send(ws["A"], address, "--what", "feedback")
    assert res.exit_code == 1, res.output
    (summary,) = [line for line in res.output.splitlines() if line.startswith("Sent ")]
    assert summary == "Sent 2 students their feedback; 1 held back (see below)."
    assert "failed" not in res.output
    assert "held s2 (Ada Lovelace): the server closed the connection" in res.output
    assert "after the server had the whole message" in res.output
    assert "may have arrived: --resend sends it again" in res.output
    states = [(r["student_id"], r["state"]) for r in log_lines(ws["A"])]
    assert ("s2", "uncertain") in states and ("s2", "failed") not in states
    assert sum(rcpts == ["ada@example.edu"] for _, rcpts, _ in box.received) == 1
    # a rerun holds it back (the others were sent): nobody gets it twice
    box.victims.clear()
    again = send(ws["A"], address, "--what", "feedback")
    assert "held s2 (Ada Lovelace): its delivery on" in again.output
    assert "ended without the server's answer" in again.output
    assert len(box.received) == 3
    # until asked
    res = send(ws["A"], address, "--what", "feedback", "--resend", "--student", "s2")
    assert res.exit_code == 0, res.output
    assert sum(rcpts == ["ada@example.edu"] for _, rcpts, _ in box.received) == 2


@pytest.mark.parametrize(("at", "held"), [("rcpt", False), ("data", True), ("late", True)])
def test_failures_before_the_end_of_data_are_retried_after_it_held(ws, at, held):
    box = Dropping(at)
    box.victims.add("ada@example.edu")
    controller = start_server(box)
    try:
        server = mail.parse_server(f"127.0.0.1:{controller.port}")
        sender = mail.parse_address(FROM)
        first = run.send(ws["A"], "feedback", sender, server, timeout=1.5)
        (s2,) = [o for o in first.outcomes if o.student_id == "s2"]
        assert s2.status == ("held" if held else "failed"), s2
        assert [o.status for o in first.outcomes if o.student_id != "s2"] == ["sent", "sent"]
        arrived = sum(rcpts == ["ada@example.edu"] for _, rcpts, _ in box.received)
        assert arrived == (1 if held else 0)
        box.victims.clear()
        second = run.send(ws["A"], "feedback", sender, server, timeout=1.5)
        (s2,) = [o for o in second.outcomes if o.student_id == "s2"]
        assert s2.status == ("held" if held else "sent"), s2
        assert sum(rcpts == ["ada@example.edu"] for _, rcpts, _ in box.received) == 1
    finally:
        controller.stop()


class _MidData(socketserver.StreamRequestHandler):
    """A bare SMTP server: for the victim it resets the connection in the middle of the
    message's DATA (the end never arrives); the others' messages it takes whole."""

    def handle(self) -> None:
        w = self.wfile.write
        w(b"220 ready\r\n")
        rcpt = b""
        while line := self.rfile.readline(1000):
            verb = line[:4].upper()
            if verb == b"DATA":
                w(b"354 go on\r\n")
                if b"ada@" in rcpt and self.server.reset:  # type: ignore[attr-defined]
                    self.rfile.read(65536)  # some of it, then a reset
                    self.request.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    return
                size = 0
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    size += len(part)
                self.server.got.append((rcpt, size))  # type: ignore[attr-defined]
                w(b"250 accepted\r\n")
            elif verb == b"RCPT":
                rcpt = line
                w(b"250 ok\r\n")
            elif verb == b"QUIT":
                w(b"221 bye\r\n")
                return
            else:
                w(b"250 ok\r\n")


def test_a_reset_in_the_middle_of_data_is_a_failure_retried(ws):
    """The end of the message never left: the server cannot have it, so the rerun sends it."""
    page = ws["A"] / "grades" / "feedback" / "s2.html"
    page.write_bytes(page.read_bytes() + b"<!--" + b"x" * 16_000_000 + b"-->")  # past buffers
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _MidData)
    server.got = []  # type: ignore[attr-defined]
    server.reset = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = mail.parse_server(f"127.0.0.1:{server.server_address[1]}")
        sender = mail.parse_address(FROM)
        first = run.send(ws["A"], "feedback", sender, address, timeout=10)
        assert [o.status for o in first.outcomes] == ["sent", "failed", "sent"], first
        assert len(server.got) == 2  # type: ignore[attr-defined]
        server.reset = False  # type: ignore[attr-defined]
        second = run.send(ws["A"], "feedback", sender, address, timeout=10)
        assert [o.status for o in second.outcomes] == ["already", "sent", "already"]
        assert [rcpt for rcpt, _ in server.got].count(b"rcpt TO:<ada@example.edu>\r\n") == 1  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_server_still_sends_nothing(ws):
    res = send(ws["A"], f"127.0.0.1:{free_port()}", "--what", "feedback")
    assert "cannot connect" in one_line(res)
    assert log_lines(ws["A"]) == []


def test_the_outbox_keeps_each_students_variant(classes):
    box = open_outbox(classes["A"], "feedback")
    _, entries = read_manifest_students(classes["A"])
    assert dict(box.variants) == {e.student.student_id: e.variant for e in entries}
    assert all(re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", v) for v in box.variants.values())
    assert defaults.MAX_RESULTS_BYTES >= defaults.MAX_MANIFEST_BYTES
