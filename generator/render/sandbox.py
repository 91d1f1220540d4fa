"""The templates' sandbox: Jinja's immutable sandbox, with every operation that could
make something huge in one step bounded.

A template is code from a colleague or a course page. Jinja's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps it from Python's
internals and from changing a list or a dict (so no loop can feed itself). What it
still allows, this one bounds before the work is done: a string or list repeated or
joined (``'a' * 10**9``, ``|join``), a width or count (``'%999999999d'|format(1)``,
``"{:>999999999}".format(1)``, ``'x'.ljust(10**9)``, ``|center``, ``|batch``),
a power (``10**10**10``), a range and ``lipsum``. Each is refused with a
:class:`~jinja2.exceptions.SecurityError` naming the size, which the renderer reports
as one line with the template's line.

What no check here can see (a loop of loops, a string doubled in a loop) is bounded by
the process the templates are filled in: its CPU time and memory are limited
(:func:`lstm_exam.generator.runtime.confined`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from functools import wraps
from itertools import islice
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from lstm_exam.generator.core import defaults

#: A printf conversion: its width and precision (a number or ``*``).
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
#: The methods of a string (or bytes) whose numbers are sizes: widths, counts.
_SIZED = {"ljust", "rjust", "center", "zfill", "expandtabs"}
#: The filters whose numbers are sizes (widths, lengths, counts, places).
_SIZED_FILTERS = {"center", "indent", "wordwrap", "truncate", "batch", "slice", "tojson", "round"}


def _refuse(what: str) -> SecurityError:
    return SecurityError(
        f"{what}: more than the {defaults.TEMPLATE_MAX_SIZE:,} a template may make"
    )


def _size(count: int, what: str) -> None:
    if count > defaults.TEMPLATE_MAX_SIZE:
        raise _refuse(what)


def _numbers(args: Iterable[Any], what: str) -> None:
    """Every whole number among ``args`` is a size a template may ask for."""
    for a in args:
        if isinstance(a, int) and abs(a) > defaults.TEMPLATE_MAX_SIZE:
            raise _refuse(f"{what} {a}")


def _check_printf(fmt: str, args: Any) -> None:
    """A ``%`` format: no width or precision beyond the cap (written or taken from ``*``)."""
    for m in _PRINTF.finditer(fmt):
        for n in m.groups():
            if n == "*":
                _numbers(args if isinstance(args, tuple) else (args,), "a width of")
            elif n:
                _size(int(n), f"a width of {n}")


def _check_format(fmt: str, args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """A ``str.format`` string: no width or precision beyond the cap, written or nested."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format says what is wrong with it
    for _, _, spec, _ in fields:
        if not spec:
            continue
        for n in re.findall(r"\d+", spec):
            _size(int(n), f"a width of {n}")
        if "{" in spec:
            _numbers([*args, *kwargs.values()], "a width of")
            _check_format(spec, args, kwargs)


def _joined(sep: Any, items: Iterable[Any]) -> list[Any]:
    """The items a join would join (at most the cap of them), once its size is known."""
    got = list(islice(items, defaults.TEMPLATE_MAX_SIZE + 1))
    _size(len(got), "a join of that many items")
    sizes = sum(len(x) if isinstance(x, str | bytes) else 0 for x in got)
    _size(len(sep) * len(got) + sizes, "a join")
    return got


def _check_replace(s: Any, old: Any, new: Any, count: Any = -1) -> None:
    """A replacement: no longer than the cap (``count`` as str.replace or |replace take it)."""
    if not (
        all(isinstance(x, str) for x in (s, old, new))
        or all(isinstance(x, bytes) for x in (s, old, new))
    ):
        return
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _size(len(s) + hits * max(len(new) - len(old), 0), "a replacement")


def _check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A method of a string or bytes called by a template: its result bounded."""
    owner: Any = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if not isinstance(owner, str | bytes):
        return
    if name in _SIZED:
        _numbers([*args, *kwargs.values()], f"{name}() of")
        if name == "expandtabs":
            tab = (args or (kwargs.get("tabsize", 8),))[0]
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            _size(len(owner) + tabs * tab, name)
    elif name == "replace":
        _check_replace(owner, *args, **kwargs)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if hasattr(v, "__len__")), default=1)
        _size(len(owner) * longest, "a translation")
    elif name in ("format", "format_map") and isinstance(owner, str):
        values = args[0] if name == "format_map" and args else kwargs
        _check_format(owner, args if name == "format" else (), dict(values) if values else {})


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > defaults.TEMPLATE_MAX_RANGE:
        raise SecurityError(
            f"range of {len(r):,} numbers: more than the {defaults.TEMPLATE_MAX_RANGE:,} "
            "a template may loop over"
        )
    return r


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    _numbers((n, min, max), "lipsum of")
    _size(n * max, "lipsum of that many words")
    return generate_lorem_ipsum(n, html, min, max)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter whose numbers (widths, counts) and result sizes are checked first."""
    first = 1 + bool(getattr(function, "jinja_pass_arg", None))  # the context or environment

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        value, rest = args[first - 1], args[first:]
        if name in _SIZED_FILTERS:
            _numbers([*rest, *kwargs.values()], f"|{name} with")
        if name == "format" and isinstance(value, str):
            _check_printf(value, tuple(rest) or tuple(kwargs.values()))
        elif name == "replace":
            if len(rest) >= 2:
                _check_replace(str(value), str(rest[0]), str(rest[1]), *rest[2:3])
        elif name == "join" and isinstance(value, Iterable):
            sep = rest[0] if rest else kwargs.get("d", "")
            plain = len(rest) < 2 and kwargs.get("attribute") is None
            items = _joined(str(sep), map(str, value) if plain else value)
            args = (*args[: first - 1], items, *rest)
        elif name == "indent" and isinstance(value, str):  # the width before every line
            width = rest[0] if rest else kwargs.get("width", 4)
            each = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            _size(len(value) + (value.count("\n") + 1) * each, "an indent")
        return function(*args, **kwargs)

    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, every operation that makes a large value bounded."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        seqs = (str, bytes, list, tuple)
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, seqs) and isinstance(n, int):
                    _size(len(seq) * n, f"{type(seq).__name__} times {n}")
            if isinstance(left, int) and isinstance(right, int):
                _size(left.bit_length() + right.bit_length(), "a product of that many bits")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1:
                _size(left.bit_length() * right, "a power of that many bits")
        elif operator == "+" and isinstance(left, seqs) and isinstance(right, seqs):
            _size(len(left) + len(right), "a concatenation")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_method(getattr(__obj, "__wrapped__", __obj), args, kwargs)
        owner = getattr(__obj, "__self__", None)
        if getattr(__obj, "__name__", "") == "join" and isinstance(owner, str | bytes) and args:
            args = (_joined(owner, args[0]), *args[1:])
        return super().call(__context, __obj, *args, **kwargs)
