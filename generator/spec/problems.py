"""Problem files (TOML): read and checked, and written for each student."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import KINDS, Kind
from lstm_exam.generator.core.numbers import toml_number
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.spec.validate import (
    check_count,
    check_size,
    check_vector,
    known_keys,
    read_toml,
    shown,
)


def parse_problem(
    table: Mapping[str, Any], file: str, place: str = "", decimals: int | None = None
) -> Problem:
    """Check one problem table of a problem file and build the Problem.

    Args:
        table: the parsed TOML table.
        file: the file name, for error messages.
        place: the table's place in the file (``problems[2]``), for messages.
        decimals: the default places when the table gives none.

    Raises:
        InputError: naming the file, the key and the fault.
    """

    def at(key):
        return f"{place}.{key}" if place else key

    kind_raw = table.get("kind")
    if kind_raw is None:
        raise InputError(file, at("kind"), "missing; one of " + ", ".join(KINDS))
    try:
        kind = Kind(kind_raw)
    except ValueError:
        raise InputError(
            file, at("kind"), f"unknown kind {shown(kind_raw)}; one of " + ", ".join(KINDS)
        ) from None
    info = KINDS[kind]
    allowed = {"kind", "decimals", "show_steps", *(n for n, _ in info.givens)}
    known_keys(
        table,
        allowed,
        file,
        place,
        expected=(n for n, _ in info.givens),
        what=f"unknown key for a {kind} problem",
    )
    dec = table.get("decimals", decimals if decimals is not None else defaults.DECIMALS)
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 8:
        raise InputError(file, at("decimals"), f"{shown(dec)} must be an integer from 0 to 8")
    steps = table.get("show_steps", defaults.SHOW_STEPS)
    if not isinstance(steps, bool):
        raise InputError(file, at("show_steps"), f"{shown(steps)} must be true or false")

    for name, _ in info.givens:
        if name not in table:
            raise InputError(
                file,
                at(name),
                f"missing: a {kind} problem gives " + ", ".join(n for n, _ in info.givens),
            )
    if kind is Kind.PARAMETERS:  # counts, answered as whole numbers
        return Problem(
            kind,
            MappingProxyType(
                {
                    name: (Decimal(check_count(table[name], file, at(name))),)
                    for name, _ in info.givens
                }
            ),
            0,
            steps,
        )
    lo, hi = defaults.MIN_SIZE, defaults.MAX_SIZE
    h_name = next(n for n, s in info.givens if s == "H")
    h_raw = table[h_name]
    if not isinstance(h_raw, list):
        raise InputError(file, at(h_name), f"expected a list of numbers, got {shown(h_raw)}")
    H = check_size(len(h_raw), lo, hi, file, at(h_name), "its length H")
    D: int | None = None
    if "x" in table:
        x = table["x"]
        if not isinstance(x, list):
            raise InputError(file, at("x"), f"expected a list of numbers, got {shown(x)}")
        D = check_size(len(x), lo, hi, file, at("x"), "its length D")
    if "xs" in table:
        xs = table["xs"]
        if not isinstance(xs, list) or not xs or not isinstance(xs[0], list):
            raise InputError(file, at("xs"), "expected a list of input vectors, one per step")
        check_size(
            len(xs), defaults.MIN_STEPS, defaults.MAX_STEPS, file, at("xs"), "the number of steps T"
        )
        D = check_size(len(xs[0]), lo, hi, file, at("xs[1]"), "its length D")
    K = 1
    if "W_y" in table:
        rows = table["W_y"]
        if not isinstance(rows, list) or not rows:
            raise InputError(file, at("W_y"), "expected a list of rows, one per output")
        shape = dict(info.givens)["W_y"]
        if shape == "1xH" and len(rows) != 1:
            raise InputError(file, at("W_y"), f"has {len(rows)} rows, expected 1 (one output)")
        if shape == "KxH":
            K = check_size(
                len(rows), 2, defaults.MAX_CLASSES, file, at("W_y"), "its rows K (classes)"
            )

    givens: dict[str, Any] = {}
    for name, shape in info.givens:
        value, where = table[name], at(name)
        if shape == "H":
            givens[name] = check_vector(value, H, file, where, "H")
        elif shape == "D":
            givens[name] = check_vector(value, D, file, where, "D")
        elif shape in ("K", "1"):
            givens[name] = check_vector(value, K, file, where, "K" if shape == "K" else "one value")
        elif shape in ("KxH", "1xH"):
            givens[name] = tuple(
                check_vector(row, H, file, f"{where}[{r}]", "H columns")
                for r, row in enumerate(value, start=1)
            )
        elif shape == "TxD":
            givens[name] = tuple(
                check_vector(row, D, file, f"{where}[{t}]", "D")
                for t, row in enumerate(value, start=1)
            )
        else:  # HxZ
            if not isinstance(value, list) or len(value) != H:
                n = len(value) if isinstance(value, list) else "no"
                raise InputError(file, where, f"has {n} rows, expected H = {H} (one per cell)")
            givens[name] = tuple(
                check_vector(row, H + (D or 0), file, f"{where}[{r}]", "H + D columns")
                for r, row in enumerate(value, start=1)
            )
    return Problem(kind, MappingProxyType(givens), dec, steps)


def read_problem_file(path: Path) -> tuple[Problem, ...]:
    """Read a problem file: one problem, or several as ``[[problems]]`` tables."""
    data = read_toml(path)
    file = str(path)
    if "problems" in data:
        tables = data["problems"]
        if not isinstance(tables, list) or not tables:
            raise InputError(file, "problems", "expected one or more [[problems]] tables")
        extra = set(data) - {"problems", "decimals", "student_id", "variant", "title"}
        if extra:
            raise InputError(file, sorted(extra)[0], "unknown key beside [[problems]]")
        dec = data.get("decimals")
        return tuple(
            parse_problem(t, file, f"problems[{k}]", dec) for k, t in enumerate(tables, start=1)
        )
    return (parse_problem(data, file),)


def _toml_value(value: Any, indent: int) -> str:
    if isinstance(value, Decimal):
        return toml_number(value)
    if value and isinstance(value[0], Decimal):
        return "[" + ", ".join(toml_number(e) for e in value) + "]"
    pad = " " * indent
    inner = (",\n" + pad).join(_toml_value(r, indent) for r in value)
    return "[" + inner + "]"


def problem_toml(problem: Problem, header: str = "") -> str:
    """The TOML text of one problem's table (without ``[[problems]]``)."""
    lines = [
        f'kind = "{problem.kind}"',
        f"decimals = {problem.decimals}",
        f"show_steps = {'true' if problem.show_steps else 'false'}",
    ]
    for name, shape in KINDS[problem.kind].givens:
        prefix = f"{name} = "
        value = problem.givens[name]
        text = str(int(value[0])) if shape == "N" else _toml_value(value, len(prefix) + 1)
        lines.append(prefix + text)
    return header + "\n".join(lines) + "\n"


def problems_toml(problems: tuple[Problem, ...], comment: str) -> str:
    """A problem file holding several problems as ``[[problems]]`` tables."""
    parts = [f"# {line}\n" for line in comment.splitlines()]
    for k, p in enumerate(problems, start=1):
        parts.append(f"\n# Problem {k}\n[[problems]]\n" + problem_toml(p))
    return "".join(parts)
