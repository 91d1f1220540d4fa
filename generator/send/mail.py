"""E-mail: addresses checked, one message a student, delivered through one SMTP session.

Nothing a user wrote is ever parsed as a header. An address is a plain ``local@domain``
of a strict allow-list (:func:`address_fault`). The headers that carry user text (``From``
and ``To`` with their display names, ``Subject`` with the title and course) are written by
:func:`encoded`: the text, taken literally (an encoded word in it stays text), always
RFC 2047-encoded in UTF-8 and folded by the product, so that what goes on the wire is
ASCII whose only line breaks are the product's folds; the policy is told never to fold
them again (which would decode them). Every attachment is base64, so what arrives is the
file byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from typing_extensions import Buffer

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.send.outbox import NOUNS, Parcel, What

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A DNS name of two labels or more whose last label begins with a letter (so no IP
#: address written as a name).
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?")
#: A dot-atom of the usual characters: no '%' (percent hack), '!' (bang path), '|' or
#: '/' (programs and files to some mail servers), '?' (no encoded word), '`', quotes.
_ATOM = r"[A-Za-z0-9#$&'*+=^_{}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
#: What may break a line somewhere: every control character and Unicode's separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Refusals of forms a mail server may route elsewhere, in the order they are looked for.
_FORMS = (
    ("<>", "has a display name or angle brackets: give the plain address local@domain"),
    ('"', "has a quoted local part: only plain local@domain addresses are sent to"),
    ("()", "holds a comment: only plain local@domain addresses are sent to"),
    ("%", "holds '%' (a relay through another host): only plain local@domain addresses"),
    ("!", "holds '!' (a bang path through other hosts): only plain local@domain addresses"),
)


def address_fault(text: str) -> tuple[Address | None, str | None]:
    """A plain e-mail address ``local@domain``, or why it is none: a dot-atom local part
    of the usual characters and a DNS domain name, nothing else (no display name, quoted
    local part, comment, source route, ``%`` or ``!`` relay, IP address).

    >>> address_fault("ada@uni.edu")[0].addr_spec
    'ada@uni.edu'
    >>> address_fault("ada@uni.edu\\r\\nBcc: all@uni.edu")[1]
    'holds a line break or another control character'
    >>> address_fault("wes%evil.com@uni.edu")[1]
    "holds '%' (a relay through another host): only plain local@domain addresses"
    >>> address_fault("@a.edu,@b.edu:x@y.edu")[1]
    'is a source route: only plain local@domain addresses are sent to'
    """
    if _CONTROL.search(text):
        return None, "holds a line break or another control character"
    text = text.strip()
    if not text:
        return None, "no e-mail address"
    if not text.isascii():
        return None, "is not ASCII (addresses of other scripts are not supported)"
    if "[" in text or "]" in text:
        return None, "has an IP address for a domain: only local@domain with a domain name"
    if text.startswith("@") or (":" in text and "<" not in text):
        return None, "is a source route: only plain local@domain addresses are sent to"
    if (text.count("@") > 1 or "<" in text) and any(c in text for c in ",;"):
        return None, "holds several addresses"
    for chars, why in _FORMS:
        if any(c in text for c in chars):
            return None, why
    local, at, domain = text.rpartition("@")
    if (
        not at
        or len(local) > 64
        or len(domain) > 253
        or not _LOCAL.fullmatch(local)
        or not _DOMAIN.fullmatch(domain)
    ):
        return None, "is no valid e-mail address"
    return Address(addr_spec=text), None


def parse_address(text: str, option: str = "--from") -> Address:
    """An address given on the command line (``addr`` or ``Name <addr>``), with its
    display name taken as written (quotes removed), never decoded.

    Raises:
        InputError: naming the option when it is no single valid address.
    """
    shown = text.encode("unicode_escape").decode("ascii")[:80]
    m = re.fullmatch(r"(.*?)\s*<([^<>]*)>", text.strip(), re.DOTALL)
    name, addr = (m.group(1).strip(), m.group(2)) if m else ("", text)
    if _CONTROL.search(text):
        fault: str | None = "holds a line break or another control character"
    elif m is not None and any(c in name for c in "<>"):
        fault = "holds several addresses" if "@" in name else "is no valid e-mail address"
    else:
        fault = address_fault(addr)[1]
    if fault is not None:
        raise InputError(option, "", f"{shown!r} {fault}")
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return Address(display_name=name, addr_spec=addr.strip())


#: The SMTP policy, told never to fold again a header the product folded (folding again
#: parses the value, and parsing decodes encoded words).
_POLICY = policy.SMTP.clone(refold_source="none")
#: The longest line of a header the product folds (RFC 5322's 78 characters).
_LINE = 78


def encoded(name: str, text: str) -> str:
    """``text`` as the value of header ``name``: RFC 2047 encoded words (UTF-8), whatever
    the text (an encoded word in it is encoded again, so a reader decodes it back to the
    same text), folded at 78 characters. ASCII, and no line break but the folds.

    >>> encoded("Subject", "=?utf-8?q?a=0D=0ABcc:_x@y.z?=")
    '=?utf-8?b?PT91dGYtOD9xP2E9MEQ9MEFCY2M6X3hAeS56Pz0=?='
    """
    return Header(text, "utf-8", maxlinelen=_LINE, header_name=name).encode(linesep="\r\n")


def mailbox(name: str, address: Address) -> str:
    """A ``From`` or ``To`` value: the display name encoded (:func:`encoded`), then the
    address (checked by :func:`address_fault`) in angle brackets."""
    addr = address.addr_spec
    if not address.display_name:
        return addr
    value = encoded(name, address.display_name)
    last = value.rsplit("\r\n", 1)[-1] if "\r\n" in value else f"{name}: {value}"
    fold = "\r\n " if len(last) + len(addr) + 3 > _LINE else " "
    return f"{value}{fold}<{addr}>"


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        """This machine: a password and a message never cross a network."""
        if self.host.lower() in ("localhost", "localhost."):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def parse_server(text: str) -> Server:
    """``HOST:PORT`` (``[::1]:25`` for an IPv6 address).

    Raises:
        InputError: naming ``--smtp`` when it is not a host and a port from 1 to 65535.
    """
    shown = text.encode("unicode_escape").decode("ascii")[:80]
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]+):(\d{1,5})", text.strip())
    if m is None:
        raise InputError("--smtp", "", f"{shown!r} is not HOST:PORT (e.g. smtp.uni.edu:587)")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 1 <= port <= 65535:
        raise InputError("--smtp", "", f"port {port} is not from 1 to 65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if m.group(1) or not _HOST.fullmatch(host):
            raise InputError("--smtp", "", f"{host!r} is no host name or address") from None
    return Server(host, port)


def smtp_login(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The user and password of the environment (both or neither), never of an option.

    Raises:
        InputError: when only one of the two is set.
    """
    user = environ.get(defaults.SMTP_USER_ENV, "")
    password = environ.get(defaults.SMTP_PASSWORD_ENV, "")
    if bool(user) != bool(password):
        given, missing = (
            (defaults.SMTP_USER_ENV, defaults.SMTP_PASSWORD_ENV)
            if user
            else (defaults.SMTP_PASSWORD_ENV, defaults.SMTP_USER_ENV)
        )
        raise InputError(given, "", f"is set but {missing} is not: set both to log in, or neither")
    return (user, password) if user else None


_BODIES: dict[What, str] = {
    "sheets": (
        "attached are your sheet of {title} and the answer template to fill in "
        "(a CSV file: write each answer into its 'answer' column and hand it in as "
        "your course asks)."
    ),
    "keys": "attached is the worked answer key of your own sheet of {title}.",
    "feedback": (
        "attached is the feedback on your answers to {title}: open the HTML file in a browser."
    ),
}


def message(
    title: str,
    course: str,
    what: What,
    parcel: Parcel,
    address: Address,
    sender: Address,
) -> EmailMessage:
    """The student's message: a short plain text naming them and the worksheet, and
    their own files attached.

    Raises:
        ValueError: a header value the policy refuses (it never reaches the wire).
    """
    name = parcel.student.name or parcel.student.student_id
    if any(_CONTROL.search(t) for t in (name, title, course, sender.display_name)):
        raise ValueError("a name or title holds a line break or another control character")
    msg = EmailMessage(policy=_POLICY)
    # set_raw: these values are stored as made here, never parsed (see the module)
    msg.set_raw("From", mailbox("From", sender))
    msg.set_raw("To", mailbox("To", Address(parcel.student.name, addr_spec=address.addr_spec)))
    msg.set_raw("Subject", encoded("Subject", f"{title}: your {NOUNS[what]}"))
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=sender.domain.strip("[]") or None)
    named = f'"{title}"' + (f" ({course})" if course else "")
    body = _BODIES[what].format(title=named)
    msg.set_content(
        f"Dear {name},\n\n{body}\n\n"
        f"Your student id: {parcel.student.student_id}. Reply to this message with any "
        "question.\n",
        cte="quoted-printable",
    )
    for a in parcel.files:
        msg.add_attachment(a.data, maintype=a.mime[0], subtype=a.mime[1], filename=a.filename)
    return msg


TLS = Literal["require", "never", "auto"]


class DeliveryError(Exception):
    """One message not delivered; the reason in the server's words, on one line."""


class MayHaveArrived(DeliveryError):
    """The server had the whole message (the end of its DATA was sent) when the
    connection was lost or timed out before its answer: it may have been delivered, so
    it must not be sent again unasked."""


class _Smtp(smtplib.SMTP):
    """smtplib's client, telling whether the end of a message's DATA (``CRLF . CRLF``)
    has been handed to the connection: after that the server may deliver it whatever
    becomes of its answer."""

    ended_data = False

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        self.ended_data = False  # a new message begins
        return super().mail(sender, options)

    def send(self, data: Buffer | str) -> None:
        super().send(data)
        # commands are text; only a message's DATA is bytes, sent whole with its end
        if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            self.ended_data = True


def _said(error: BaseException) -> str:
    """The server's answer (or the fault) as one short line of text."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(error.recipients.values()), (0, b""))
        return _said(smtplib.SMTPResponseException(code, said))
    if isinstance(error, smtplib.SMTPResponseException):
        text: bytes | str = error.smtp_error
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return _one_line(f"the server said {error.smtp_code} {words}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return _one_line(
            f"the server closed the connection ({error})"
            if str(error)
            else "the server closed the connection"
        )
    if isinstance(error, TimeoutError):
        return "the server did not answer in time"
    if isinstance(error, OSError):
        return _one_line(f"connection lost ({error.strerror or error})")
    return _one_line(str(error))


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:200]


class Session:
    """One SMTP connection, reused for every message, made again after a drop.

    ``tls``: ``require`` (STARTTLS or stop), ``never`` (plain text), ``auto`` (required
    unless the server is this machine, where it is used when offered).
    """

    def __init__(
        self,
        server: Server,
        tls: TLS = "auto",
        login: tuple[str, str] | None = None,
        timeout: float = defaults.SMTP_TIMEOUT,
    ) -> None:
        self.server = server
        self.tls: TLS = tls if tls != "auto" else ("auto" if server.loopback else "require")
        self.login = login
        self.timeout = timeout
        self._smtp: _Smtp | None = None
        self._dead: str | None = None

    def open(self) -> None:
        """Connect, STARTTLS, log in.

        Raises:
            InputError: naming the server, when it cannot be reached or refuses.
        """
        try:
            self._smtp = self._connect()
        except _Refused as e:
            raise InputError(str(self.server), "", str(e)) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as e:
            raise InputError(str(self.server), "", f"cannot connect: {_said(e)}") from None

    def _connect(self) -> _Smtp:
        # the host given here is the one the certificate must name
        smtp = _Smtp(self.server.host, self.server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            secure = False
            if self.tls != "never" and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                secure = True
            elif self.tls == "require":
                raise _Refused(
                    "the server offers no STARTTLS, so the messages would cross the network "
                    "unencrypted: --no-starttls sends them so (only on a network you trust)"
                )
            if self.login is not None:
                if not secure and not self.server.loopback:
                    raise _Refused(
                        "will not send the password unencrypted: the server offers no "
                        "STARTTLS (or --no-starttls was given)"
                    )
                try:
                    smtp.login(*self.login)
                except smtplib.SMTPException as e:
                    raise _Refused(f"login refused: {_said(e)}") from None
        except BaseException:
            smtp.close()
            raise
        return smtp

    def deliver(self, msg: EmailMessage, sender: Address, address: Address) -> None:
        """Send one message to one recipient.

        Raises:
            MayHaveArrived: the connection was lost, or the answer did not come in time,
                after the server had the whole message.
            DeliveryError: the server refused it or the connection failed before the
                end of the message (reconnected for the next message; once that fails,
                every later message fails too).
        """
        if self._dead is not None:
            raise DeliveryError(f"not tried: {self._dead}")
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (_Refused, smtplib.SMTPException, OSError, ssl.SSLError) as e:
                self._dead = f"the server could not be reached again ({_said(e)})"
                raise DeliveryError(self._dead) from None
        try:
            self._smtp.send_message(msg, sender.addr_spec, [address.addr_spec])
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(_said(e)) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            self._rset()
            raise DeliveryError(_said(e)) from None
        except (smtplib.SMTPException, OSError) as e:
            ended = self._smtp.ended_data
            self._drop()
            if ended:  # no answer (a refusal is an answer, caught above)
                raise MayHaveArrived(f"{_said(e)} after the server had the whole message") from None
            raise DeliveryError(_said(e)) from None

    def _rset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()


class _Refused(Exception):
    """The session cannot be set up as asked (no STARTTLS, a password in clear, login)."""
