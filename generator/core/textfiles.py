"""Text files as spreadsheets save them: their encoding and their delimiter, guessed once.

Used for every CSV a person may have saved from Excel, LibreOffice or an LMS: rosters
and students' answer sheets.
"""

from __future__ import annotations

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
