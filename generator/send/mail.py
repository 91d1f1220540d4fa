"""E-mail: addresses checked, one message a student, delivered through one SMTP session.

Headers are made by :mod:`email` with the SMTP policy: a name that is not ASCII is
encoded (RFC 2047), a line break in a header value is refused before the message is
made, and every attachment is base64, so what arrives is the file byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.send.outbox import NOUNS, Parcel, What

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+|localhost|\[[0-9A-Fa-f:.]+\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def address_fault(text: str) -> tuple[Address | None, str | None]:
    """One e-mail address (``ada@uni.edu`` or ``Ada <ada@uni.edu>``), or why it is none.

    >>> address_fault("ada@uni.edu")[0].addr_spec
    'ada@uni.edu'
    >>> address_fault("ada@uni.edu\\r\\nBcc: all@uni.edu")[1]
    'holds a line break or another control character'
    """
    text = text.strip()
    if not text:
        return None, "no e-mail address"
    if _CONTROL.search(text):
        return None, "holds a line break or another control character"
    try:
        header = policy.SMTP.header_factory("To", text)
        found = list(header.addresses)
    except (ValueError, IndexError, TypeError):
        return None, "is no e-mail address"
    if len(found) != 1:
        return None, "holds several addresses" if found else "is no e-mail address"
    a = found[0]
    if not a.addr_spec.isascii():
        return None, "is not ASCII (addresses of other scripts are not supported)"
    # an obsolete form (a '.' in a name: "Prof. Ng <...>") is read everywhere; others not
    defects = [d for d in header.defects if not isinstance(d, errors.ObsoleteHeaderDefect)]
    if defects or not a.username or not _DOMAIN.fullmatch(a.domain):
        return None, "is no valid e-mail address"
    return Address(addr_spec=a.addr_spec), None


def parse_address(text: str, option: str = "--from") -> Address:
    """An address given on the command line, with its display name.

    Raises:
        InputError: naming the option when it is no single valid address.
    """
    address, fault = address_fault(text)
    if fault is not None or address is None:
        shown = text.encode("unicode_escape").decode("ascii")[:80]
        raise InputError(option, "", f"{shown!r} {fault}")
    name = policy.SMTP.header_factory("From", text.strip()).addresses[0].display_name
    return Address(display_name=name, addr_spec=address.addr_spec)


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
    to: Address,
    sender: Address,
) -> EmailMessage:
    """The student's message: a short plain text naming them and the worksheet, and
    their own files attached.

    Raises:
        ValueError: a header value the policy refuses (it never reaches the wire).
    """
    name = parcel.student.name or parcel.student.student_id
    if _CONTROL.search(name) or _CONTROL.search(title) or _CONTROL.search(course):
        raise ValueError("a name or title holds a line break or another control character")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = Address(display_name=parcel.student.name, addr_spec=to.addr_spec)
    msg["Subject"] = f"{title}: your {NOUNS[what]}"
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


def _said(e: BaseException) -> str:
    """The server's answer (or the fault) as one short line of text."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(e.recipients.values()), (0, b""))
        return _said(smtplib.SMTPResponseException(code, said))
    if isinstance(e, smtplib.SMTPResponseException):
        text: bytes | str = e.smtp_error
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return _one_line(f"the server said {e.smtp_code} {words}")
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return _one_line(
            f"the server closed the connection ({e})"
            if str(e)
            else "the server closed the connection"
        )
    if isinstance(e, TimeoutError):
        return "the server did not answer in time"
    if isinstance(e, OSError):
        return _one_line(f"connection lost ({e.strerror or e})")
    return _one_line(str(e))


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
        self._smtp: smtplib.SMTP | None = None
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

    def _connect(self) -> smtplib.SMTP:
        # the host given here is the one the certificate must name
        smtp = smtplib.SMTP(self.server.host, self.server.port, timeout=self.timeout)
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

    def deliver(self, msg: EmailMessage, sender: Address, to: Address) -> None:
        """Send one message to one recipient.

        Raises:
            DeliveryError: the server refused it or the connection failed (reconnected
                for the next message; once that fails, every later message fails too).
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
            self._smtp.send_message(msg, sender.addr_spec, [to.addr_spec])
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(_said(e)) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            self._rset()
            raise DeliveryError(_said(e)) from None
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
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
