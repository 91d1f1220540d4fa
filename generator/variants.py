"""Seeded per-student variants: keyed-hash draws and well-posedness.

Every random number comes from HMAC-SHA256 keyed with the worksheet's secret
seed over (worksheet, student id, problem, draw), so the same spec, seed and
id give the same numbers on any machine and any numpy version, and what a
student sees (their numbers, their variant code) reveals neither the seed
nor another student's numbers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from . import defaults
from .errors import InputError
from .notation import FEEDS, HEAD, KINDS, Kind, label_name, make_label
from .problem import Problem, cell_count
from .roster import Student
from .solve import (
    FULL,
    Solution,
    Twist,
    Value,
    asked_labels,
    combine,
    evaluate_prepared,
    prepare,
)
from .spec import Distribution, ProblemSpec, Tolerance, Worksheet

STREAM_VERSION = "lstm-exam/1"
T = TypeVar("T")


class Stream:
    """A deterministic stream of random integers from HMAC-SHA256 in counter mode."""

    def __init__(self, seed: str, *parts: str) -> None:
        self._inner, self._outer = _hmac_pads(seed)
        self._inner = self._inner.copy()
        self._inner.update("\x1f".join((STREAM_VERSION, *parts)).encode("utf-8") + b"\x1e")
        self._counter = 0
        self._words: list[int] = []

    def _refill(self) -> list[int]:
        """The next blocks, HMAC-SHA256(seed, message + counter), as words used last first.

        HMAC (RFC 2104) from the hashes of its padded keys, each computed once: a
        third of the time of ``hmac.digest``, and the same bytes (tests check this).
        Two blocks at a time: the words come out in the same order, for less work.
        """
        blocks = []
        for counter in (self._counter + 1, self._counter):  # popped from the end: later first
            inner = self._inner.copy()
            inner.update(counter.to_bytes(8, "big"))
            outer = self._outer.copy()
            outer.update(inner.digest())
            blocks.append(outer.digest())
        self._counter += 2
        self._words = list(_WORDS.unpack(b"".join(blocks)))
        return self._words

    def below(self, n: int) -> int:
        """A uniform integer in [0, n), by rejection (no modulo bias)."""
        limit = _WORD - _WORD % n
        words = self._words
        while True:
            r = (words or self._refill()).pop()
            if r < limit:
                return r % n
            words = self._words

    def pick(
        self, n: int, grid: Sequence[T], zeros: int = 0, zero: T | None = None, avoid: int = -1
    ) -> list[T]:
        """n entries of ``grid``, each uniform, as ``grid[below(len(grid))]``.

        Before each, with chance ``zeros`` / 2**30, ``zero`` instead; the entry at
        ``avoid`` is drawn again. The same numbers as ``below`` calls, inlined:
        drawing is most of a search's time.
        """
        span = len(grid)
        limit = _WORD - _WORD % span
        words = self._words
        out = []
        for _ in range(n):
            if zeros:  # below(2**30): never rejected, 2**64 being a multiple of 2**30
                if (words or self._refill()).pop() % (1 << 30) < zeros:
                    out.append(zero)
                    words = self._words
                    continue
                words = self._words
            while True:
                r = (words or self._refill()).pop()
                words = self._words
                if r < limit and r % span != avoid:
                    break
            out.append(grid[r % span])
        return out


_WORD = 1 << 64
_WORDS = struct.Struct(">8Q")  # two blocks of four


@functools.lru_cache(maxsize=64)
def _hmac_pads(seed: str) -> tuple[Any, Any]:
    """SHA-256 started on the key XOR ipad and on the key XOR opad (RFC 2104)."""
    key = seed.encode("utf-8")
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


_SHA256_BLOCK = 64


@functools.lru_cache(maxsize=65536)
def _on_grid(k: int, decimals: int) -> Decimal:
    """k units of the last place: the same (immutable) Decimal every time."""
    return Decimal(k).scaleb(-decimals)


@functools.lru_cache(maxsize=256)
def _threshold(p: Decimal) -> int:
    return int(p * (1 << 30))


@functools.lru_cache(maxsize=256)
def _grid_values(low: Decimal, high: Decimal, decimals: int) -> tuple[tuple[Decimal, ...], int]:
    """The grid of ``decimals`` places in [low, high], and where 0 is in it (-1: nowhere)."""
    lo = int(low.scaleb(decimals).to_integral_value(rounding="ROUND_CEILING"))
    hi = int(high.scaleb(decimals).to_integral_value(rounding="ROUND_FLOOR"))
    return tuple(_on_grid(k, decimals) for k in range(lo, hi + 1)), (-lo if lo <= 0 <= hi else -1)


def variant_code(seed: str, worksheet: str, student_id: str) -> str:
    """The short code a sheet shows: 8 characters, from a keyed hash.

    It identifies the variant for the instructor; it reveals nothing of the seed.
    """
    mac = hmac.new(
        seed.encode(),
        f"{STREAM_VERSION}\x1fcode\x1f{worksheet}\x1f{student_id}".encode(),
        hashlib.sha256,
    ).digest()
    code = base64.b32encode(mac[:5]).decode("ascii")
    return f"{code[:4]}-{code[4:]}"


# --- drawing -------------------------------------------------------------------


def _draw_vector(
    s: Stream, n: int, d: Distribution, zeros: bool = False, nonzero: bool = False
) -> tuple[Decimal, ...]:
    grid, zero_at = _grid_values(d.low, d.high, d.decimals)
    chance = _threshold(d.zeros) if zeros and d.zeros else 0
    zero = _on_grid(0, d.decimals)
    return tuple(s.pick(n, grid, chance, zero, zero_at if nonzero else -1))


def draw_problem(spec: ProblemSpec, decimals: int, s: Stream) -> Problem:
    """Draw one problem's givens from its spec."""
    info = KINDS[spec.kind]
    H, D, T = spec.hidden, spec.inputs, spec.steps
    vals = spec.values
    gate = Distribution(*defaults.GATE_RANGE, vals.decimals)
    cand = Distribution(*defaults.CANDIDATE_RANGE, vals.decimals)
    grad = Distribution(*defaults.GRADIENT_RANGE, vals.decimals)
    K = spec.classes if spec.kind is Kind.CLASSIFICATION else 1
    givens: dict[str, object] = {}
    if spec.kind is Kind.PARAMETERS:  # sizes of a network, answered as whole numbers
        for name, _ in info.givens:
            lo, hi = defaults.PARAMETER_RANGES[name]
            givens[name] = (Decimal(lo + s.below(hi - lo + 1)),)
        return Problem(spec.kind, MappingProxyType(givens), 0, spec.show_steps)
    for name, shape in info.givens:
        if shape == "HxZ":
            givens[name] = tuple(_draw_vector(s, H + D, spec.weights, zeros=True) for _ in range(H))
        elif shape == "TxD":
            givens[name] = tuple(_draw_vector(s, D, vals) for _ in range(T))
        elif shape in ("KxH", "1xH"):
            givens[name] = tuple(_draw_vector(s, H, spec.weights, zeros=True) for _ in range(K))
        elif name == "b_y":
            givens[name] = _draw_vector(s, K, spec.weights, nonzero=True)
        elif name == "y":
            givens[name] = _draw_vector(s, 1, vals)
        elif name in ("dh_t", "dC_next"):
            givens[name] = _draw_vector(s, H, grad, nonzero=True)
        elif shape == "D":
            givens[name] = _draw_vector(s, D, vals)
        elif name.startswith("b_"):
            givens[name] = _draw_vector(s, H, spec.weights, nonzero=True)
        elif name in ("f_t", "i_t"):
            givens[name] = _draw_vector(s, H, gate)
        elif name == "C_tilde":
            givens[name] = _draw_vector(s, H, cand)
        else:
            givens[name] = _draw_vector(s, H, vals)
    return Problem(spec.kind, MappingProxyType(givens), decimals, spec.show_steps)


# --- well-posedness ------------------------------------------------------------


def _first_asked(name: str, asked: set[str], order: set[str]) -> set[str]:
    """The asked quantities first reached from ``name`` on each path downstream."""
    if name in asked:
        return {name}
    found: set[str] = set()
    for nxt in FEEDS.get(name, ()):
        if nxt in order:
            found |= _first_asked(nxt, asked, order)
    return found


def applicable_twists(problem: Problem) -> tuple[tuple[Twist, int], ...]:
    """The misconceptions (and steps) that can show in this problem's answers."""
    return _applicable(problem.kind, problem.steps, "C_prev" in problem.givens)


@functools.lru_cache(maxsize=256)
def _applicable(kind: Kind, steps: int, old_cell: bool) -> tuple[tuple[Twist, int], ...]:
    order = set(KINDS[kind].order)
    out = []
    for tw in Twist:
        if tw is Twist.SEQ_REUSE:
            out += [(tw, t) for t in range(2, steps + 1)]
        elif tw is Twist.H_OLD_C and not old_cell and not KINDS[kind].stepped:
            continue
        elif order & set(tw.alters) and HEAD.issuperset(tw.alters):
            out.append((tw, 1))  # the output layer comes once, after the steps
        elif order & set(tw.alters):
            out += [(tw, t) for t in range(1, steps + 1)]
    return tuple(out)


def check_problem(
    problem: Problem, tol: Tolerance, screened: Screened | None = None
) -> tuple[Solution | None, str | None]:
    """Solve a drawn problem and say why it is not well-posed (None when it is).

    The rules (thresholds in :mod:`defaults`):

    * no pre-activation (``a_*``) nor cell state beyond ``MAX_PREACTIVATION``:
      no gate saturated;
    * no asked value within ``KNIFE_EDGE`` of a unit in the last place of a
      rounding boundary;
    * every misconception of design.md that can show in this problem moves the
      first asked value downstream of it farther than ``MISCONCEPTION_MARGIN``
      tolerances from both chains' correct values.

    The cheap checks on the full chain come first; the exact-decimal chain is
    computed only for a draw that passes them. ``screened`` holds the full chain
    and every misconception's chain of a draw that already passed those checks
    (see :mod:`search`); they are then not done again.
    """
    if screened is None:
        g = prepare(problem.givens)
        full = evaluate_prepared(problem.kind, g)
        why = _saturated_or_knife_edge(problem, full)
        if why:
            return None, why
        # misconceptions: first against the full chain alone (its window lies inside the
        # exact one, so what it refuses is refused), then the exact-decimal chain
        twisted: dict[tuple[Twist, int], dict] = {}
        why = _hidden_misconception(problem, full, None, g, tol, twisted)
        if why:
            return None, why
    else:  # every misconception's chain is at hand: nothing is evaluated from the givens
        g, full, twisted = {}, screened.full, dict(screened.twisted)
    solution = combine(problem.kind, full, problem.givens, problem.decimals, problem.show_steps)
    if "class[1]" in full and _close_call(problem, solution, tol):
        return None, "close call"
    return solution, _hidden_misconception(problem, full, solution.values, g, tol, twisted)


@dataclass(frozen=True, slots=True)
class Screened:
    """A draw's full chain and each misconception's, from a screen it passed."""

    full: Mapping[str, float]
    twisted: Mapping[tuple[Twist, int], Mapping[str, float]]


def _saturated_or_knife_edge(problem: Problem, full: Mapping[str, float]) -> str | None:
    for label, v in full.items():
        name = label_name(label)
        if (name.startswith("a_") or name == "C_t") and abs(v) > defaults.MAX_PREACTIVATION:
            return "saturated"
    scale = 10**problem.decimals
    for label in asked_labels(problem.kind, list(full), problem.show_steps):
        frac = (abs(full[label]) * scale) % 1
        if abs(frac - 0.5) < defaults.KNIFE_EDGE:
            return "knife-edge"
    return None


def _close_call(problem: Problem, solution: Solution, tol: Tolerance) -> bool:
    """Whether the two likeliest classes lie so close that a tolerated slip could swap them."""
    windows = []
    for k in range(1, problem.classes + 1):
        v = solution.values[f"prob[{k}]"]
        windows.append(tol.window(v.full, v.rounded, times=defaults.MISCONCEPTION_MARGIN))
    best = int(solution.values["class[1]"].rounded) - 1
    return any(windows[k][1] >= windows[best][0] for k in range(len(windows)) if k != best)


#: The misconceptions that most often hide in a draw, checked first so a draw that
#: will be refused is refused early (the order changes nothing but speed).
_LIKELY_HIDDEN = (
    Twist.H_NO_TANH,
    Twist.NO_BIAS,
    Twist.SWAPPED_CONCAT,
    Twist.NO_ACTIVATION,
    Twist.SIGN_SLIP,
    Twist.TANH_GATE,
    Twist.SIGMOID_CANDIDATE,
    Twist.H_TANH_OUTSIDE,
    Twist.SIGMA_AS_DERIVATIVE,
    Twist.HEAD_ON_C,
)


@functools.lru_cache(maxsize=1024)
def twist_targets(kind: Kind, show_steps: bool, tw: Twist) -> frozenset[str]:
    """The asked quantities a misconception shows in first, on each path downstream."""
    info = KINDS[kind]
    asked = set(info.asked) | (set(info.steps) if show_steps else set())
    return frozenset().union(*(_first_asked(n, asked, set(info.order)) for n in tw.alters))


@functools.lru_cache(maxsize=256)
def _likely_first(kind: Kind, steps: int, old_cell: bool) -> tuple[tuple[Twist, int], ...]:
    def rank(item: tuple[Twist, int]) -> tuple[int, int]:
        tw, t = item
        return (_LIKELY_HIDDEN.index(tw) if tw in _LIKELY_HIDDEN else len(_LIKELY_HIDDEN)), -t

    return tuple(sorted(_applicable(kind, steps, old_cell), key=rank))


def _hidden_misconception(
    problem: Problem,
    full: Mapping[str, float],
    rounded: Mapping[str, Value] | None,
    g: dict,
    tol: Tolerance,
    twisted: dict[tuple[Twist, int], dict],
) -> str | None:
    """The first misconception whose answer lands inside the margin, or None.

    Without ``rounded`` the window is the full chain's alone (a part of the exact
    window); ``twisted`` caches each misconception's chain between the two passes.
    """
    windows: dict[str, tuple[float, float]] = {}
    for check in twist_checks(problem):
        values = twisted.get(check.key)
        if values is None:
            values = check.evaluate(problem.kind, g, full)
            twisted[check.key] = values
        for label in check.labels:
            if label not in windows:
                v = full[label]
                r = rounded[label].rounded if rounded is not None else v
                lo, hi = tol.window(v, r, times=defaults.MISCONCEPTION_MARGIN)
                windows[label] = (float(lo), float(hi))
            lo, hi = windows[label]
            # float bounds of the exact window: off by 1e-16, far inside the margin
            if lo <= values[label] <= hi:
                return check.why
    return None


@dataclass(frozen=True, slots=True)
class TwistCheck:
    """One misconception at one step, as well-posedness checks it."""

    twist: Twist
    step: int
    until: int | None
    """The last step to redo (None: through the output layer)."""
    start: int
    """The first step to redo (T + 1: the output layer alone)."""
    labels: tuple[str, ...]
    """The asked values it shows in first: each must land outside the margin."""

    @property
    def key(self) -> tuple[Twist, int]:
        return self.twist, self.step

    @property
    def why(self) -> str:
        return f"misconception {self.twist.name} invisible"

    def evaluate(self, kind: Kind, g: Mapping, full: Mapping, ch: Any = FULL) -> dict:
        """The chain with the misconception, redone only where it changes."""
        return evaluate_prepared(
            kind,
            g,
            ch,
            twist=self.twist,
            twist_step=self.step,
            until=self.until,
            resume=(self.start, full),
        )


def twist_checks(problem: Problem) -> tuple[TwistCheck, ...]:
    """The misconceptions to check in a draw, the likeliest to hide first."""
    return _twist_checks(
        problem.kind,
        problem.steps,
        "C_prev" in problem.givens,
        problem.show_steps,
        problem.hidden,
        problem.classes,
    )


@functools.lru_cache(maxsize=256)
def _twist_checks(
    kind: Kind, steps: int, old_cell: bool, show_steps: bool, hidden: int, classes: int
) -> tuple[TwistCheck, ...]:
    stepped = KINDS[kind].stepped
    out = []
    for tw, t in _likely_first(kind, steps, old_cell):
        targets = twist_targets(kind, show_steps, tw)
        labels = tuple(
            make_label(name, cell, None if name in HEAD or not stepped else t)
            for name in sorted(targets)
            for cell in range(1, cell_count(hidden, classes, name) + 1)
        )
        # redo from step t (the output layer alone for its own slips) to where it shows
        until = None if targets & HEAD else t
        start = steps + 1 if HEAD.issuperset(tw.alters) else t
        out.append(TwistCheck(tw, t, until, start, labels))
    return tuple(out)


# --- variants ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantProblem:
    """One problem of a student's variant, solved."""

    number: int
    """1-based position on the worksheet (the ``q`` of labels)."""
    points: Decimal
    problem: Problem
    solution: Solution
    draws: int
    """How many draws it took to get a well-posed problem (1 for a fixed one)."""
    accept: Mapping[str, tuple[Decimal, Decimal]] | None = None
    """Accepted ranges by label, as read back from a manifest (None: derive them)."""

    def label(self, label: str) -> str:
        """The worksheet label of a solution label: ``f_t[1]`` -> ``q2.f_t[1]``."""
        return f"q{self.number}.{label}"


@dataclass(frozen=True, slots=True)
class Variant:
    """A student's worksheet: their numbers and both answer chains."""

    student: Student
    code: str
    problems: tuple[VariantProblem, ...]
    rejected: Counter = field(default_factory=Counter, compare=False)
    """Why draws were rejected, for the benchmark's report."""


def make_variant(ws: Worksheet, seed: str, student: Student) -> Variant:
    """Draw and solve a student's variant; redraw each problem until well-posed.

    The definition of a student's variant; :func:`search.make_variants` finds the
    same for a whole class, faster.
    """
    problems = []
    rejected: Counter = Counter()
    for number, spec in enumerate(ws.problems, start=1):
        if spec.given is not None:
            problems.append(VariantProblem(number, spec.points, spec.given, spec.given.solve(), 1))
            continue

        def drawn(draw: int, spec: ProblemSpec = spec, number: int = number) -> Problem:
            s = Stream(seed, ws.slug, student.student_id, f"q{number}", f"draw{draw}")
            return draw_problem(spec, ws.decimals, s)

        for draw in range(1, defaults.MAX_DRAWS + 1):
            problem = drawn(draw)
            solution, why = check_problem(problem, ws.tolerance)
            if solution is not None and why is None:
                problems.append(VariantProblem(number, spec.points, problem, solution, draw))
                break
            rejected[why] += 1
        else:
            raise InputError(
                ws.source,
                f"problems[{number}]",
                f"no well-posed {spec.kind} variant in {defaults.MAX_DRAWS} draws; "
                "widen the ranges of weights and values",
            )
    return Variant(
        student, variant_code(seed, ws.slug, student.student_id), tuple(problems), rejected
    )
