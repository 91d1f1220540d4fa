"""Text files as spreadsheets save them: their encoding and their delimiter, guessed once.

Used for every CSV a person may have saved from Excel, LibreOffice or an LMS: rosters
and students' answer sheets.
"""

from __future__ import annotations

import re

#: The delimiters a spreadsheet writes: comma; semicolon where the decimal mark is a
#: comma (much of Europe); tab for "Unicode text".
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated"}


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-16 with a BOM (Excel's "Unicode
    text"), UTF-8 with a BOM or without, else Latin-1 (which decodes any bytes).

    >>> decode_text("id;name".encode("utf-16"))
    ('id;name', 'UTF-16')
    >>> decode_text(b"\\xef\\xbb\\xbfs1"), decode_text(b"Jos\\xe9")
    (('s1', 'UTF-8'), ('José', 'Latin-1'))

    Raises:
        UnicodeDecodeError: when a file that starts as UTF-16 is damaged.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter the first non-empty line uses most (a comma when it uses none).

    >>> sniff_delimiter("\\nstudent_id;name;email\\n"), sniff_delimiter("s1")
    (';', ',')
    """
    for line in text.splitlines():
        if line.strip():
            counts = {d: line.count(d) for d in DELIMITERS}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSHOWN = re.compile(r"[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as surrogateescape holds it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown_name(name: str) -> str:
    """A file or folder name as it can be written anywhere (CSV, HTML, JSON, a terminal):
    each byte that is not UTF-8 (a lone surrogate, as ``os.fsdecode`` and
    ``surrogateescape`` hold it) and each control character written as ``\\xNN``.

    >>> shown_name("Jos\\udce9 N\\udcfa\\udcf1ez.csv"), shown_name("a\\nb.csv"), shown_name("é")
    ('Jos\\\\xe9 N\\\\xfa\\\\xf1ez.csv', 'a\\\\x0ab.csv', 'é')
    """
    return _UNSHOWN.sub(_escape, name) if _UNSHOWN.search(name) else name


def legible(text: str) -> bool:
    """Whether a name holds only text (no byte that was not UTF-8, held as a lone
    surrogate): only then can it be compared with a person's name.

    >>> legible("José"), legible("Jos\\udce9")
    (True, False)
    """
    return _SURROGATE.search(text) is None


def name_fault(name: str) -> str | None:
    """What is wrong with a file or folder name as found (None when it is plain text).

    >>> name_fault("s1.csv"), name_fault("s\\udcff.csv")
    (None, 'its name is not UTF-8 (shown with \\\\xNN escapes)')
    """
    if not legible(name):
        return "its name is not UTF-8 (shown with \\xNN escapes)"
    if _UNSHOWN.search(name):
        return "its name holds control characters (shown with \\xNN escapes)"
    return None
