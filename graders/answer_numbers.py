"""Reading a student's number: the text of an answer as grading compares it (:mod:`grade`,
its only reader)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from lstm_exam.generator.core.defaults import ANSWER_DIGITS, ANSWER_PLACES
from lstm_exam.generator.core.numbers import out_of_bounds

_PLAIN = re.compile(r"-?[0-9]+\.[0-9]+")
_SPACES = dict.fromkeys(map(ord, " \u00a0\u2009\u202f\u2007"), None)


def parse_number(raw: str, decimal_comma: bool = False, whole: bool = False) -> Decimal:
    """A student's number: leading +, spaces, decimal comma, scientific notation, and
    thousands separators where they cannot be a decimal mark.

    A thousands separator is the character that is not the file's decimal mark, in
    groups of three: ``1,248.5`` (comma-separated file) and ``1.248,5`` (semicolons,
    decimal commas) always; ``1,248`` or ``1.248`` alone only for a ``whole`` quantity
    (a count, a class), which cannot be 1.248; for any other, the one mark is the
    decimal mark.

    Raises:
        ValueError: with words for the student (not a number, not finite, ...).

    >>> parse_number(" +0,495 ", True), parse_number("4.95e-1"), parse_number("−0.031")
    (Decimal('0.495'), Decimal('0.495'), Decimal('-0.031'))
    >>> parse_number("1,248", whole=True), parse_number("1,248"), parse_number("1,248.5")
    (Decimal('1248'), Decimal('1.248'), Decimal('1248.5'))
    >>> parse_number("1.248", True, whole=True), parse_number("1.248", True)
    (Decimal('1248'), Decimal('1.248'))
    """
    usual = len(raw) <= 24 and _PLAIN.fullmatch(raw) and raw.find(".") <= ANSWER_DIGITS
    if usual and not (whole and decimal_comma):
        return Decimal(raw)  # the usual answer, 0.495 or -1.25: few places, below 10**9
    text = raw.translate(_SPACES).replace("\u2212", "-")
    if text.startswith("+") and not text.startswith(("+-", "++")):
        text = text[1:]
    text = _without_thousands(text, decimal_comma, whole)
    if (
        text.count(",") == 1
        and "." not in text
        and (decimal_comma or re.fullmatch(r"-?\d*,\d+", text))
    ):
        text = text.replace(",", ".")
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        low = text.lower().lstrip("-")
        if low in ("nan", "inf", "infinity"):
            raise ValueError(f"'{raw}' is not a finite number")
        raise ValueError(f"'{raw}' is not a number")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number") from None
    return _gradable(d, raw)


_GROUPED = {
    # (decimal comma, a decimal part written): thousands in groups of three
    (False, True): re.compile(r"-?[1-9][0-9]{0,2}(,[0-9]{3})+\.[0-9]*"),
    (True, True): re.compile(r"-?[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]*"),
    (False, False): re.compile(r"-?[1-9][0-9]{0,2}(,[0-9]{3})+"),
    (True, False): re.compile(r"-?[1-9][0-9]{0,2}(\.[0-9]{3})+"),
}


def _without_thousands(text: str, decimal_comma: bool, whole: bool) -> str:
    """``text`` with its thousands separators taken out (see :func:`parse_number`),
    its decimal mark a point."""
    sep = "." if decimal_comma else ","
    if _GROUPED[decimal_comma, True].fullmatch(text) or (
        whole and _GROUPED[decimal_comma, False].fullmatch(text)
    ):
        return text.replace(sep, "").replace(",", ".")
    return text


def _gradable(value: Decimal, raw: str) -> Decimal:
    """``value``, if it is a number grading can compare and write back (else ValueError)."""
    why = out_of_bounds(value, ANSWER_DIGITS, ANSWER_PLACES)
    if why is None:
        return value
    shown = raw if len(raw) <= 24 else raw[:21] + "..."
    if why.startswith("out of range") or why.startswith("not a finite"):
        raise ValueError(f"'{shown}' is out of range")
    raise ValueError(f"'{shown}' has {why}: not a number we can grade")


def decimals_of(raw: str) -> int | None:
    """How many decimals the student wrote (None for scientific notation)."""
    text = raw.strip().replace(",", ".")
    if "e" in text or "E" in text:
        return None
    dot = text.find(".")
    return len(text) - dot - 1 if dot >= 0 else 0
