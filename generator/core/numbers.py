"""Number text: every way a number is written, in one place.

Decimals are written out in full, never with an exponent (``format(d, "f")``), so a
file, a sheet and a key show the same digits. The variants here differ only in what
they do with trailing zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def out_of_bounds(value: Decimal, digits: int, places: int) -> str | None:
    """Why ``value`` is not a number this program takes, or None when it is.

    Checked on the decimal's digits and exponent alone, with no arithmetic, so no
    exponent, however large, can overflow or be written out digit by digit: finite,
    below ``10**digits`` in size, written with at most ``places`` decimal places.

    >>> out_of_bounds(Decimal("-0.2500"), 6, 4) is None
    True
    >>> out_of_bounds(Decimal("1E+999999999999999999"), 6, 12)
    'out of range (less than 1000000 in size)'
    >>> out_of_bounds(Decimal("1e-999999999"), 6, 12)
    'more than 12 decimal places'
    """
    if not value.is_finite():
        return "not a finite number"
    if int(value.as_tuple().exponent) < -places:
        return f"more than {places} decimal places"
    if not value.is_zero() and value.adjusted() >= digits:
        return f"out of range (less than {10**digits} in size)"
    return None


def plain(value: Decimal) -> str:
    """The decimal as it is, without an exponent: ``format(d, "f")``, quicker; a zero
    is never written with a minus sign (every writer of numbers does so).

    >>> plain(Decimal("-0.49365")), plain(Decimal("1E+1")), plain(Decimal("1E-9"))
    ('-0.49365', '10', '0.000000001')
    >>> plain(Decimal("-0.000")), fixed(-1e-17, 3), at_places(Decimal("-0.0004"), 3)
    ('0.000', '0.000', '0.000')
    """
    text = str(value)  # the same text unless str() chose an exponent
    if "E" in text:
        text = format(value, "f")
    return text[1:] if text[0] == "-" and value.is_zero() else text  # a class writes millions


def unsigned_zero(text: str) -> str:
    """``text`` without the minus of a number that is written as zero ("-0.00")."""
    return text[1:] if text[:1] == "-" and not text.strip("-0.") else text


def normal(value: Decimal) -> str:
    """Without trailing zeros: points, tolerances.

    >>> normal(Decimal("3.00")), normal(Decimal("0.0010")), normal(Decimal("2E+1"))
    ('3', '0.001', '20')
    """
    return unsigned_zero(format(value.normalize(), "f"))


def score_text(value: Decimal) -> str:
    """A score: whole numbers without decimals, others as they are.

    >>> score_text(Decimal("4.00")), score_text(Decimal("3.50")), score_text(Decimal("82.0"))
    ('4', '3.50', '82')
    """
    return normal(value) if value == value.to_integral_value() else format(value, "f")


def toml_number(value: Decimal) -> str:
    """A TOML float: always with a decimal point, so it reads back as a number of places.

    >>> toml_number(Decimal("1")), toml_number(Decimal("-0.25"))
    ('1.0', '-0.25')
    """
    text = unsigned_zero(format(value, "f"))
    return text if "." in text else text + ".0"


def fixed(x: float, places: int) -> str:
    """A float at a fixed number of places (the full-precision column of a key).

    >>> fixed(0.1234567, 5)
    '0.12346'
    """
    return unsigned_zero(f"{x:.{places}f}")


def at_places(value: Decimal | float, places: int | None = None) -> str:
    """A decimal or float written out; at ``places`` decimals when given (of its exact value).

    >>> at_places(Decimal("0.5")), at_places(0.25, 1), at_places(Decimal("2"), 3)
    ('0.5', '0.2', '2.000')
    """
    return unsigned_zero(format(value, "f") if places is None else f"{Decimal(value):.{places}f}")


def plain_tree(value: Decimal | Sequence[Any]) -> Any:
    """:func:`plain` over a vector or matrix, as nested lists (JSON)."""
    if isinstance(value, Decimal):
        return unsigned_zero(format(value, "f"))
    return [plain_tree(e) for e in value]
