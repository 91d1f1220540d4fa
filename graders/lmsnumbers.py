"""Numbers as Moodle and Canvas write them in their exports (and as a spreadsheet that
saved the file again writes them): a maximum grade or points possible read exactly, or
the reason it cannot be.

* Moodle writes a worksheet's grades and ``Maximum Grade`` with ``format_float``
  (lib/moodlelib.php): ``number_format($float, $decimals, decsep, '')``, the grade item's
  decimal places (0 to 5) after the language's decimal separator, **never a thousands
  separator**: ``1000.00``, ``1000,00``, and ``1,000`` for one point at 3 places.
* Canvas writes ``Points Possible`` with ``I18n.n(points, precision: 2)``
  (lib/gradebook_exporter.rb ``format_numbers``: "so that I18n.n doesn't try to add
  thousands separators"): two places after the locale's decimal separator, ``8,50`` in
  Icelandic; older exports wrote the number as Ruby prints it (``10``, ``8.5``).
* A spreadsheet may group thousands when it saves: ``1,000.00``, ``1.000,00``,
  ``1 000,00`` (a space, a no-break or narrow no-break space), ``1'000.00``.

Only ``1,000`` and ``1.000`` (one separator, three digits after it, one to three before)
can be read two ways; which one is the LMS's to say (:mod:`lms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.numbers import normal

#: What may separate groups of thousands (besides ``.`` and ``,``): spaces as French,
#: Swiss and spreadsheet locales write them, apostrophes as Swiss ones do.
_GROUPING = " \u00a0\u202f\u2009'\u2019"
_SHAPE = re.compile(r"[0-9]+(?:[.,\u00a0\u202f\u2009'\u2019 ][0-9]+)*")
_MINUS = ("-", "\u2212")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """A number as written: its value, and the other value an ambiguous text may have."""

    value: Decimal
    """The text read with its one ``.`` or ``,`` as the decimal mark."""
    grouped: Decimal | None = None
    """For ``1,000`` and ``1.000`` only: the same text read as a thousands separator."""
    places: int = 0
    """Digits after the decimal mark."""
    mark: str = ""
    """The decimal mark (``.`` or ``,``), empty when there is none."""


def read_number(text: str) -> Reading:
    """A number with or without a decimal mark and thousands separators, in either
    convention; ``grouped`` is set when the text reads both ways.

    >>> read_number("1.000,00").value, read_number("1 000,5").value
    (Decimal('1000.00'), Decimal('1000.5'))
    >>> r = read_number("1,000"); r.value, r.grouped
    (Decimal('1.000'), Decimal('1000'))

    Raises:
        ValueError: with the fault, in words, when the text is no such number.
    """
    s = text.strip()
    shown = repr(s[:20] + ("..." if len(s) > 20 else ""))
    if not s:
        raise ValueError("is empty")
    if len(s) > defaults.MAX_LMS_NUMBER_CHARS:
        raise ValueError(f"{shown} is too long for a number of points")
    if s.startswith(_MINUS) and _SHAPE.fullmatch(s[1:].strip()):
        raise ValueError(f"{shown} is negative")
    if not _SHAPE.fullmatch(s):
        raise ValueError(f"{shown} is not a number of points (digits, one decimal mark)")
    parts = re.split(r"([^0-9])", s)
    groups, seps = parts[0::2], parts[1::2]
    if not seps:
        return Reading(value=Decimal(s))
    last = seps[-1]
    mark = last if last in ".," and seps.count(last) == 1 else ""
    grouping = seps[:-1] if mark else seps
    whole = groups[:-1] if mark else groups
    if len(set(grouping)) > 1:
        raise ValueError(f"{shown} mixes thousands separators")
    if grouping and not _in_thousands(whole):
        raise ValueError(f"{shown} does not group its digits by thousands")
    digits = "".join(whole)
    fraction = groups[-1] if mark else ""
    value = Decimal(f"{digits}.{fraction}" if mark else digits)
    both = mark and not grouping and len(fraction) == 3 and _in_thousands([*whole, fraction])
    return Reading(
        value=value,
        grouped=Decimal(digits + fraction) if both else None,
        places=len(fraction),
        mark=mark,
    )


def _in_thousands(groups: list[str]) -> bool:
    """Digits as thousands group them: 1 to 3 (no leading 0) and then threes."""
    first, rest = groups[0], groups[1:]
    return 1 <= len(first) <= 3 and first[0] != "0" and all(len(g) == 3 for g in rest)


def points(reading: Reading, text: str) -> Decimal:
    """The number of points a reading gives, within the bounds of :mod:`defaults`.

    Raises:
        ValueError: when it is 0, too large or has too many places.
    """
    shown = repr(text.strip()[:20])
    if reading.value <= 0:
        raise ValueError(f"{shown} is no points: the assignment must be worth some")
    if reading.value > defaults.MAX_LMS_POINTS:
        raise ValueError(f"{shown} is more than {defaults.MAX_LMS_POINTS:,} points")
    if reading.places > defaults.MAX_LMS_PLACES:
        raise ValueError(f"{shown} has more than {defaults.MAX_LMS_PLACES} decimal places")
    return reading.value


def ambiguous(reading: Reading, text: str) -> str:
    """The fault of a text that reads two ways, with what to write instead."""
    assert reading.grouped is not None
    one, other = normal(reading.value), normal(reading.grouped)
    return (
        f"{text.strip()!r} is {one} or {other} (a decimal mark or a thousands "
        f"separator?): write {other} or {one} without a thousands separator"
    )
