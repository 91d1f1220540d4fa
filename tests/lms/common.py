"""What the LMS re-implementations share: the fixed zip stamp, the refusal of a whole
upload, writing a zip as an LMS's download does, and PHP's reading of numbers."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

# A fixed stamp for every zip member, so fixtures are byte-for-byte reproducible.
ZIP_DATE = (2026, 3, 2, 10, 15, 0)


class Refused(ValueError):
    """The LMS refuses the whole upload; the message is the reason (Moodle's string id or
    Canvas's progress message in brackets)."""


def write_zip(members: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


_PHP_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")


def php_is_numeric(s: str) -> bool:
    """PHP 8 ``is_numeric`` (leading and trailing whitespace allowed)."""
    return bool(_PHP_NUMERIC.match(s))


def php_number(s: str) -> float:
    return float(s.strip())


def php_float_cast(s: str) -> float:
    """PHP ``(float)$string``: the longest leading numeric prefix (after leading whitespace),
    0.0 when there is none."""
    m = re.match(r"[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)", s)
    return float(m.group(1)) if m else 0.0


#: The LMS files of tests/data/lms, built as the LMSs build them, and what each holds.
FIXTURES = Path(__file__).resolve().parent.parent / "data" / "lms"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text("utf-8"))


def zip_of(names: list[str], data: bytes = b"x") -> bytes:
    """A zip whose members are ``names``, each holding ``data``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, data)
    return buf.getvalue()
