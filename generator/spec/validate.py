"""The validators shared by the spec, problem-file and roster readers.

Each raises :class:`InputError` naming the file, the place and the fault.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.numbers import out_of_bounds


def to_decimal(value: Any, file: str, place: str) -> Decimal:
    """A TOML number (or numeric string) as an exact Decimal, within the bounds every
    number a user writes keeps (``defaults.MAX_DIGITS``, ``defaults.MAX_PLACES``).

    >>> to_decimal("1e-999999999", "s.toml", "points")
    Traceback (most recent call last):
    ...
    lstm_exam.generator.core.errors.InputError: s.toml: points: '1e-999999999' has more than 12 decimal places
    """
    d = _decimal(value, file, place)
    why = out_of_bounds(d, defaults.MAX_DIGITS, defaults.MAX_PLACES)
    if why is not None:
        verb = "has" if why.startswith("more") else "is"
        raise InputError(file, place, f"{shown(value)} {verb} {why}")
    return d


def _decimal(value: Any, file: str, place: str) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(file, place, f"{shown(value)} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(file, place, f"{value} is not a finite number")
        return Decimal(repr(value))
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(file, place, f"{shown(value)} is not a number") from None
    if not d.is_finite():
        raise InputError(file, place, f"{shown(value)} is not a finite number")
    return d


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_vector(
    value: Any, count: int | None, file: str, place: str, what: str
) -> tuple[Decimal, ...]:
    if not isinstance(value, list):
        raise InputError(file, place, f"expected a list of numbers ({what}), got {shown(value)}")
    if count is not None and len(value) != count:
        raise InputError(file, place, f"has {len(value)} entries, expected {count} ({what})")
    return tuple(to_decimal(v, file, f"{place}[{k}]") for k, v in enumerate(value, start=1))


def check_count(value: Any, file: str, place: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= defaults.MAX_COUNT
    ):
        raise InputError(
            file, place, f"{shown(value)} must be a whole number from 1 to {defaults.MAX_COUNT}"
        )
    return value


def check_size(count: int, low: int, high: int, file: str, place: str, what: str) -> int:
    if not low <= count <= high:
        raise InputError(file, place, f"{what} is {count}, must be from {low} to {high}")
    return count


def known_keys(
    table: Mapping[str, Any],
    allowed: Iterable[str],
    file: str,
    place: str = "",
    *,
    expected: Iterable[str] | None = None,
    what: str = "unknown key",
) -> None:
    """Refuse the first key of ``table`` that is not allowed, naming the ones that are.

    ``expected`` is the list the message shows (default: the allowed keys, sorted).

    >>> known_keys({"low": 1, "hihg": 2}, {"low", "high"}, "s.toml", "weights")
    Traceback (most recent call last):
    ...
    lstm_exam.generator.core.errors.InputError: s.toml: weights.hihg: unknown key; expected high, low
    """
    allowed = set(allowed)
    for key in table:
        if key not in allowed:
            listed = ", ".join(sorted(allowed) if expected is None else expected)
            raise InputError(file, f"{place}.{key}" if place else key, f"{what}; expected {listed}")


def read_capped(path: Path, cap: int, what: str = "file") -> bytes:
    """The bytes of an input file, checked before a byte is read: a regular file (not a
    FIFO, a device or a folder, which could hang or never end), at most ``cap`` bytes.

    Raises:
        InputError: naming the file and what is wrong with it.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(str(path), "", "no such file") from None
    except OSError as e:
        raise InputError(str(path), "", e.strerror or str(e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(str(path), "", f"not a regular file; is this a {what}?")
    if st.st_size > cap:
        raise InputError(str(path), "", f"larger than {_size_words(cap)}; is this a {what}?")
    try:
        with open(path, "rb", buffering=0) as f:
            data = read_at_most(f, cap, os.fstat(f.fileno()).st_size)
    except OSError as e:
        raise InputError(str(path), "", e.strerror or str(e)) from None
    if len(data) > cap:  # it grew while being read
        raise InputError(str(path), "", f"larger than {_size_words(cap)}; is this a {what}?")
    return data


#: The most bytes :func:`read_at_most` asks for at once beyond the size a file says it has.
READ_CHUNK = 1 << 20


def read_at_most(handle: IO[bytes], cap: int, size: int) -> bytes:
    """At most ``cap + 1`` bytes of ``handle`` (one more than the cap tells a file over it),
    in memory as large as the file: ``size`` bytes (what the file system or a zip says
    it holds) are read at once, what a file that grew or a zip that lied holds beyond
    them a :data:`READ_CHUNK` at a time; never a buffer as large as the cap.

    >>> import io
    >>> read_at_most(io.BytesIO(b"abcdef"), 3, 2)
    b'abcd'
    >>> read_at_most(io.BytesIO(b"abc"), 10**12, 3)
    b'abc'
    """
    first = handle.read(max(0, min(size, cap)) + 1)
    if len(first) <= size or len(first) > cap:
        return first
    parts, got = [first], len(first)
    while got <= cap:
        part = handle.read(min(READ_CHUNK, cap + 1 - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _size_words(count: int) -> str:
    return f"{count // 1_000_000} MB" if count >= 1_000_000 else f"{count:,} bytes"


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file (at most ``defaults.MAX_TOML_BYTES``); a syntax error becomes an
    InputError with its line."""
    try:
        text = read_capped(path, defaults.MAX_TOML_BYTES, "TOML file").decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"byte {e.start}", "not UTF-8 text") from None
    too_deep = nesting_fault(text)
    if too_deep is not None:
        raise InputError(str(path), *too_deep)
    try:
        return tomllib.loads(text)
    except RecursionError:  # the scan keeps it away; a last guard, still one line
        raise InputError(str(path), "", "arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        place = ""
        if "(at line" in msg:
            msg, _, rest = msg.partition(" (at ")
            place = rest.rstrip(")")
        raise InputError(str(path), place, f"TOML syntax error: {msg}") from None


#: Strings and comments: blanked before the nesting scan, so that a bracket or a dot inside
#: one counts for nothing.
_TOML_STRINGS = re.compile(
    r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*',
    re.S,
)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_fault(text: str, limit: int = defaults.MAX_TOML_DEPTH) -> tuple[str, str] | None:
    r"""The place and fault of TOML text nested deeper than ``limit``, or None: arrays and
    inline tables inside each other, or a dotted key of more parts (``a.b.c``, a table in a
    table); read before the parser, whose recursion (and memory, for dotted keys) such a
    file would exhaust.

    >>> nesting_fault("a = [[1, 2], ['[[[']]  # [[[[")
    >>> nesting_fault("a = " + "[" * 40 + "]" * 40, 16)
    ('line 1', 'arrays or tables nested more than 16 deep')
    >>> nesting_fault("x = 1.5\n" + ".".join("k" * 20) + " = 1", 16)
    ('line 2', 'a dotted key of more than 16 parts')
    """
    # blanked with as many characters, so that places keep their lines
    bare = _TOML_STRINGS.sub(lambda m: re.sub(r"[^\n]", "_", m.group()), text)
    # a key's parts, from a place a key can start (so the search stays linear)
    dotted = re.search(r"(?:^|(?<=[\[\]{}=,\n]))(?:[^\[\]{}=,\n.]*\.){" + str(limit) + "}", bare)
    if dotted is not None:
        return _line_of(bare, dotted.start()), f"a dotted key of more than {limit} parts"
    depth = 0
    for m in _BRACKETS.finditer(bare):
        if m.group() in "[{":
            depth += 1
            if depth > limit:
                fault = f"arrays or tables nested more than {limit} deep"
                return _line_of(bare, m.start()), fault
        else:
            depth = max(0, depth - 1)
    return None


def _line_of(text: str, at: int) -> str:
    return f"line {text.count(chr(10), 0, at) + 1}"


def check_int(value: Any, low: int, high: int, file: str, place: str) -> int:
    """A whole number from ``low`` to ``high``, written bare or in quotes as every number
    may be (``decimals = "3"`` as ``points = "3"``).

    >>> check_int(" 3", 0, 8, "s.toml", "decimals"), check_int(8, 0, 8, "s.toml", "decimals")
    (3, 8)
    >>> check_int("3.5", 0, 8, "s.toml", "decimals")
    Traceback (most recent call last):
    ...
    lstm_exam.generator.core.errors.InputError: s.toml: decimals: '3.5' must be an integer from 0 to 8
    """
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(file, place, f"{shown(value)} must be an integer from {low} to {high}")
    return value


_WHOLE = re.compile(r"\s*[+-]?[0-9]{1,12}\s*")


def check_bool(value: Any, file: str, place: str) -> bool:
    """``true`` or ``false`` (TOML's, not a string or a number).

    >>> check_bool(False, "s.toml", "formulas")
    False
    >>> check_bool("no", "s.toml", "problems[1].formulas")
    Traceback (most recent call last):
    ...
    lstm_exam.generator.core.errors.InputError: s.toml: problems[1].formulas: 'no' must be true or false
    """
    if not isinstance(value, bool):
        raise InputError(file, place, f"{shown(value)} must be true or false")
    return value


#: Code points XML 1.0 cannot hold (its Char production), past the control characters.
_NOT_XML = frozenset("\ufffe\uffff")


def check_seed(value: Any, file: str, place: str) -> str:
    """A seed as every way in takes it (a spec's ``seed``, ``quiz --seed``, the library's
    ``seed=``, the seed a worksheet keeps): a text of ``defaults.MIN_SEED`` to 200
    characters without control characters (spaces around it not counted).

    >>> check_seed("abc", "--seed", "")
    Traceback (most recent call last):
    ...
    lstm_exam.generator.core.errors.InputError: --seed: too short to be secret: use at least 8 characters
    """
    seed = check_text(value, file, place)
    # spaces around a seed are no secret: "        " or "abc     " is as short as ""/"abc"
    if len(seed.strip()) < defaults.MIN_SEED:
        raise InputError(
            file, place, f"too short to be secret: use at least {defaults.MIN_SEED} characters"
        )
    return seed


def check_text(value: Any, file: str, place: str) -> str:
    if not isinstance(value, str):
        raise InputError(file, place, f"{shown(value)} must be a text in quotes")
    if len(value) > 200:
        raise InputError(file, place, "longer than 200 characters")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise InputError(file, place, "holds a control character (a line break or tab?)")
    bad = next((ch for ch in value if ch in _NOT_XML), None)
    if bad is not None:  # the quiz's Moodle XML and Canvas package could not hold it
        raise InputError(file, place, f"holds U+{ord(bad):04X}, which is no character of text")
    return value
