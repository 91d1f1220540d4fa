"""Problems and problem files (TOML): parse, check, write.

A problem holds its kind and its given numbers as exact decimals; the solver
turns it into a :class:`~lstm_exam.generator.solve.Solution`.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import defaults
from .errors import InputError
from .notation import BACKWARD, HEAD, KINDS, LABEL_RE, SIZES, Kind, upstream
from .solve import Solution, solve


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: its kind and its given numbers."""

    kind: Kind
    givens: Mapping[str, Any]
    """Given numbers by name: tuples of Decimal (vectors), of vectors (matrices, xs)."""
    decimals: int = defaults.DECIMALS
    """Places every answer is rounded to."""
    show_steps: bool = defaults.SHOW_STEPS
    """Whether the intermediate steps are asked too."""

    @property
    def hidden(self) -> int:
        """H, the number of cells."""
        info = KINDS[self.kind]
        first_h = next((n for n, shape in info.givens if shape == "H"), None)
        return len(self.givens[first_h]) if first_h else 1  # counts have one "cell"

    @property
    def inputs(self) -> int | None:
        """D, the input size (None for a cell_state problem)."""
        if "x" in self.givens:
            return len(self.givens["x"])
        if "xs" in self.givens:
            return len(self.givens["xs"][0])
        return None

    @property
    def steps(self) -> int:
        """T for a sequence, else 1."""
        return len(self.givens["xs"]) if "xs" in self.givens else 1

    @property
    def step_numbers(self) -> list[int | None]:
        """The steps of a sequence (1..T); ``[None]`` for a problem without steps."""
        return list(range(1, self.steps + 1)) if KINDS[self.kind].stepped else [None]

    @property
    def classes(self) -> int:
        """K, the outputs of the dense layer (1 for regression, 0 without one)."""
        return len(self.givens["b_y"]) if "b_y" in self.givens else 0

    def cells(self, name: str) -> int:
        """How many values (rows) a quantity has: H per cell, K classes, or one."""
        return cell_count(self.hidden, self.classes, name)

    def row_names(self, name: str) -> list[str]:
        """The rows of a quantity's table: one per cell, per class, or the one answer."""
        size = SIZES.get(name)
        if size == "1":
            return ["Answer"]
        word = "Class" if size == "K" else "Cell"
        return [f"{word} {r}" for r in range(1, self.cells(name) + 1)]

    def step_of(self, name: str, step: int | None) -> int | None:
        """The step a quantity's label carries: none for the output layer after the steps."""
        return None if name in HEAD else step

    def blocks(self, names: Sequence[str]) -> list[tuple[int | None, list[str]]]:
        """Names grouped into tables of equal rows: per step, then the output layer's."""
        forward = [n for n in names if n not in HEAD and n not in BACKWARD]
        backward = [n for n in names if n in BACKWARD]  # a backward step's way back
        out = [(t, ns) for ns in (forward, backward) if ns for t in self.step_numbers]
        for size in ("K", "1"):
            head = [n for n in names if n in HEAD and SIZES[n] == size]
            if head:
                out.append((None, head))
        return out

    def upstream(self, label: str) -> list[str]:
        """Every label of this problem whose value flows into ``label`` (no ``q`` prefix)."""
        return list(_upstream(self.kind, self.hidden, self.classes, self.steps, label))

    def solve(self) -> Solution:
        """Both chains of this problem."""
        return solve(self.kind, self.givens, self.decimals, self.show_steps)


@functools.lru_cache(maxsize=65536)
def _upstream(kind: Kind, hidden: int, classes: int, steps: int, label: str) -> tuple[str, ...]:
    """:meth:`Problem.upstream`, computed once per shape of problem and label."""
    m = LABEL_RE.match(label)
    if m is None:
        raise ValueError(f"not an answer label: {label!r}")
    step = int(m["t"]) if m["t"] else None
    last = steps if KINDS[kind].stepped else None
    cells = functools.partial(cell_count, hidden, classes)
    return tuple(upstream(m["name"], int(m["cell"]), step, cells, last))


def cell_count(hidden: int, classes: int, name: str) -> int:
    size = SIZES.get(name)
    return classes if size == "K" else 1 if size == "1" else hidden


def to_decimal(value: Any, file: str, place: str) -> Decimal:
    """A TOML number (or numeric string) as an exact, finite Decimal."""
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(file, place, f"{_show(value)} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(file, place, f"{value} is not a finite number")
        return Decimal(repr(value))
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(file, place, f"{_show(value)} is not a number") from None
    if not d.is_finite():
        raise InputError(file, place, f"{_show(value)} is not a finite number")
    return d


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _vector(value: Any, n: int | None, file: str, place: str, what: str) -> tuple[Decimal, ...]:
    if not isinstance(value, list):
        raise InputError(file, place, f"expected a list of numbers ({what}), got {_show(value)}")
    if n is not None and len(value) != n:
        raise InputError(file, place, f"has {len(value)} entries, expected {n} ({what})")
    return tuple(to_decimal(v, file, f"{place}[{k}]") for k, v in enumerate(value, start=1))


def _count(value: Any, file: str, place: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= defaults.MAX_COUNT
    ):
        raise InputError(
            file, place, f"{_show(value)} must be a whole number from 1 to {defaults.MAX_COUNT}"
        )
    return value


def _size(n: int, lo: int, hi: int, file: str, place: str, what: str) -> int:
    if not lo <= n <= hi:
        raise InputError(file, place, f"{what} is {n}, must be from {lo} to {hi}")
    return n


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
            file, at("kind"), f"unknown kind {_show(kind_raw)}; one of " + ", ".join(KINDS)
        ) from None
    info = KINDS[kind]
    allowed = {"kind", "decimals", "show_steps", *(n for n, _ in info.givens)}
    for key in table:
        if key not in allowed:
            raise InputError(
                file,
                at(key),
                f"unknown key for a {kind} problem; "
                "expected " + ", ".join(n for n, _ in info.givens),
            )
    dec = table.get("decimals", decimals if decimals is not None else defaults.DECIMALS)
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 8:
        raise InputError(file, at("decimals"), f"{_show(dec)} must be an integer from 0 to 8")
    steps = table.get("show_steps", defaults.SHOW_STEPS)
    if not isinstance(steps, bool):
        raise InputError(file, at("show_steps"), f"{_show(steps)} must be true or false")

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
                {name: (Decimal(_count(table[name], file, at(name))),) for name, _ in info.givens}
            ),
            0,
            steps,
        )
    lo, hi = defaults.MIN_SIZE, defaults.MAX_SIZE
    h_name = next(n for n, s in info.givens if s == "H")
    h_raw = table[h_name]
    if not isinstance(h_raw, list):
        raise InputError(file, at(h_name), f"expected a list of numbers, got {_show(h_raw)}")
    H = _size(len(h_raw), lo, hi, file, at(h_name), "its length H")
    D: int | None = None
    if "x" in table:
        x = table["x"]
        if not isinstance(x, list):
            raise InputError(file, at("x"), f"expected a list of numbers, got {_show(x)}")
        D = _size(len(x), lo, hi, file, at("x"), "its length D")
    if "xs" in table:
        xs = table["xs"]
        if not isinstance(xs, list) or not xs or not isinstance(xs[0], list):
            raise InputError(file, at("xs"), "expected a list of input vectors, one per step")
        _size(
            len(xs), defaults.MIN_STEPS, defaults.MAX_STEPS, file, at("xs"), "the number of steps T"
        )
        D = _size(len(xs[0]), lo, hi, file, at("xs[1]"), "its length D")
    K = 1
    if "W_y" in table:
        rows = table["W_y"]
        if not isinstance(rows, list) or not rows:
            raise InputError(file, at("W_y"), "expected a list of rows, one per output")
        shape = dict(info.givens)["W_y"]
        if shape == "1xH" and len(rows) != 1:
            raise InputError(file, at("W_y"), f"has {len(rows)} rows, expected 1 (one output)")
        if shape == "KxH":
            K = _size(len(rows), 2, defaults.MAX_CLASSES, file, at("W_y"), "its rows K (classes)")

    givens: dict[str, Any] = {}
    for name, shape in info.givens:
        value, where = table[name], at(name)
        if shape == "H":
            givens[name] = _vector(value, H, file, where, "H")
        elif shape == "D":
            givens[name] = _vector(value, D, file, where, "D")
        elif shape in ("K", "1"):
            givens[name] = _vector(value, K, file, where, "K" if shape == "K" else "one value")
        elif shape in ("KxH", "1xH"):
            givens[name] = tuple(
                _vector(row, H, file, f"{where}[{r}]", "H columns")
                for r, row in enumerate(value, start=1)
            )
        elif shape == "TxD":
            givens[name] = tuple(
                _vector(row, D, file, f"{where}[{t}]", "D") for t, row in enumerate(value, start=1)
            )
        else:  # HxZ
            if not isinstance(value, list) or len(value) != H:
                n = len(value) if isinstance(value, list) else "no"
                raise InputError(file, where, f"has {n} rows, expected H = {H} (one per cell)")
            givens[name] = tuple(
                _vector(row, H + (D or 0), file, f"{where}[{r}]", "H + D columns")
                for r, row in enumerate(value, start=1)
            )
    return Problem(kind, MappingProxyType(givens), dec, steps)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes an InputError with its line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(str(path), "", "no such file") from None
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"byte {e.start}", "not UTF-8 text") from None
    except OSError as e:
        raise InputError(str(path), "", e.strerror or str(e)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        place = ""
        if "(at line" in msg:
            msg, _, rest = msg.partition(" (at ")
            place = rest.rstrip(")")
        raise InputError(str(path), place, f"TOML syntax error: {msg}") from None


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


# --- writing -------------------------------------------------------------------


def _fmt(d: Decimal) -> str:
    text = format(d, "f")
    return text if "." in text else text + ".0"


def _toml_value(v: Any, indent: int) -> str:
    if isinstance(v, Decimal):
        return _fmt(v)
    if v and isinstance(v[0], Decimal):
        return "[" + ", ".join(_fmt(e) for e in v) + "]"
    pad = " " * indent
    inner = (",\n" + pad).join(_toml_value(r, indent) for r in v)
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
