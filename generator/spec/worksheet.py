"""The worksheet spec (TOML): parse and check; the built-in default."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from lstm_exam.generator.core import defaults
from lstm_exam.generator.core.errors import InputError
from lstm_exam.generator.core.notation import KINDS, Kind
from lstm_exam.generator.core.problem import Problem
from lstm_exam.generator.core.tolerance import Tolerance
from lstm_exam.generator.spec.problems import read_problem_file
from lstm_exam.generator.spec.roster import WINDOWS_RESERVED
from lstm_exam.generator.spec.validate import (
    check_bool,
    check_int,
    check_seed,
    check_text,
    known_keys,
    read_toml,
    shown,
    to_decimal,
)

DEFAULT_SPEC = "default-spec.toml"


LECTURE_EXAMPLE = "lecture-forget-gate.toml"


@dataclass(frozen=True, slots=True)
class Distribution:
    """How random numbers are drawn: a range, decimals, a share of zeros."""

    low: Decimal
    high: Decimal
    decimals: int
    zeros: Decimal = Decimal(0)
    """Share of entries that are exactly zero (like the lecture's sparse W_f)."""


@dataclass(frozen=True, slots=True)
class ProblemSpec:
    """One problem of a worksheet: drawn at random, or fixed (``given``)."""

    kind: Kind
    points: Decimal
    show_steps: bool
    hidden: int
    inputs: int
    steps: int
    weights: Distribution
    values: Distribution
    given: Problem | None = None
    """Fixed numbers every student gets, from a problem file."""
    given_file: str | None = None
    classes: int = defaults.CLASSES
    """K, the classes of a classification problem."""
    formulas: bool = defaults.FORMULAS
    """Whether the sheet prints the problem's formulas."""


@dataclass(frozen=True, slots=True)
class Worksheet:
    """A validated worksheet spec."""

    title: str
    course: str
    decimals: int
    tolerance: Tolerance
    seed: str | None
    """The secret; None when the spec gives none (generate then makes one)."""
    problems: tuple[ProblemSpec, ...]
    carry_forward: Decimal = Decimal(defaults.CARRY_FORWARD)
    """Credit for an answer consistent with the student's own earlier answers."""
    templates: str | None = None
    """A folder of custom templates, relative to the spec's folder."""
    source: str = "<built-in default>"
    fillable: bool = defaults.FILLABLE
    """Whether the sheets' answer boxes are PDF form fields (``fillable = false``: not)."""

    @property
    def slug(self) -> str:
        """The title as a folder name: ``week-5-lstm-gates``."""
        return slugify(self.title)


def slugify(text: str) -> str:
    """ASCII folder name for a title.

    >>> slugify("Week 5: LSTM gates — Zoë's")
    'week-5-lstm-gates-zoes'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("'", "")).strip("-")
    slug = slug[:60].strip("-") or "worksheet"
    # a title such as "CON" or "Aux" would name a folder Windows cannot make
    return f"{slug}-worksheet" if slug in WINDOWS_RESERVED else slug


_TOP_KEYS = {
    "title",
    "course",
    "decimals",
    "tolerance",
    "seed",
    "problems",
    "carry_forward",
    "templates",
    "formulas",
    "fillable",
}


_PROBLEM_KEYS = {
    "kind",
    "points",
    "show_steps",
    "formulas",
    "hidden",
    "inputs",
    "steps",
    "classes",
    "weights",
    "values",
    "given",
}


def _distribution(
    raw: Any, base: Mapping[str, Any], file: str, place: str, zeros: bool
) -> Distribution:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(file, place, "expected a table such as { low = -1.0, high = 1.0 }")
    keys = {"low", "high", "decimals"} | ({"zeros"} if zeros else set())
    known_keys(raw, keys, file, place)
    merged = {**base, **raw}
    low = to_decimal(merged["low"], file, f"{place}.low")
    high = to_decimal(merged["high"], file, f"{place}.high")
    dec = check_int(merged["decimals"], 0, 6, file, f"{place}.decimals")
    if not low < high:
        raise InputError(file, place, f"low ({low}) must be below high ({high})")
    if abs(low) > 10 or abs(high) > 10:
        raise InputError(file, place, "low and high must lie within -10 and 10")
    if (high - low) * 10**dec < 4:
        raise InputError(file, place, "the range holds too few numbers at these decimals")
    share = Decimal(0)
    if zeros:
        share = to_decimal(merged.get("zeros", 0), file, f"{place}.zeros")
        if not 0 <= share < Decimal("0.9"):
            raise InputError(file, f"{place}.zeros", f"{share} must be from 0 to below 0.9")
    return Distribution(low, high, dec, share)


def _tolerance(raw: Any, decimals: int, file: str) -> Tolerance:
    if raw is None:
        return Tolerance("absolute", Decimal(1).scaleb(-decimals))
    if not isinstance(raw, dict) or len(raw) != 1:
        raise InputError(
            file,
            "tolerance",
            "expected one of { absolute = 0.001 }, { relative = 0.005 }, { decimals = 3 }",
        )
    ((mode, value),) = raw.items()
    if mode == "decimals":
        return Tolerance(
            "absolute", Decimal(1).scaleb(-check_int(value, 0, 8, file, "tolerance.decimals"))
        )
    if mode not in ("absolute", "relative"):
        raise InputError(file, f"tolerance.{mode}", "unknown; use absolute, relative or decimals")
    amount = to_decimal(value, file, f"tolerance.{mode}")
    if not 0 < amount <= Decimal("0.5"):
        raise InputError(file, f"tolerance.{mode}", f"{amount} must be above 0 and at most 0.5")
    return Tolerance(mode, amount)


def parse_spec(data: Mapping[str, Any], file: str, folder: Path | None = None) -> Worksheet:
    """Check a parsed spec and build the Worksheet.

    Args:
        data: the parsed TOML.
        file: its name, for error messages.
        folder: where ``given = ...`` files are looked up (the spec's folder).
    """
    known_keys(data, _TOP_KEYS, file)
    title = check_text(data.get("title", defaults.TITLE), file, "title")
    course = check_text(data.get("course", ""), file, "course")
    decimals = check_int(data.get("decimals", defaults.DECIMALS), 1, 6, file, "decimals")
    tolerance = _tolerance(data.get("tolerance"), decimals, file)
    seed = data.get("seed")
    if seed is not None:
        seed = check_seed(seed, file, "seed")
    cf = to_decimal(data.get("carry_forward", defaults.CARRY_FORWARD), file, "carry_forward")
    if not 0 <= cf <= 1:
        raise InputError(file, "carry_forward", f"{cf} must be from 0 to 1")
    templates = data.get("templates")
    if templates is not None:
        templates = check_text(templates, file, "templates")
        if folder is not None:
            templates = str((folder / templates).resolve())
        if not Path(templates).is_dir():
            raise InputError(file, "templates", f"no folder {templates}")
    formulas = check_bool(data.get("formulas", defaults.FORMULAS), file, "formulas")
    raw_problems = data.get("problems")
    if not isinstance(raw_problems, list) or not raw_problems:
        raise InputError(file, "problems", "a spec needs one or more [[problems]] tables")
    if len(raw_problems) > 20:
        raise InputError(file, "problems", "at most 20 problems on one worksheet")
    problems = tuple(
        _problem_spec(t, decimals, file, f"problems[{k}]", folder, formulas)
        for k, t in enumerate(raw_problems, start=1)
    )
    fillable = data.get("fillable", defaults.FILLABLE)
    if not isinstance(fillable, bool):
        raise InputError(file, "fillable", f"expected true or false, not {shown(fillable)}")
    return Worksheet(
        title, course, decimals, tolerance, seed, problems, cf, templates, file, fillable
    )


def _problem_spec(
    t: Any, decimals: int, file: str, place: str, folder: Path | None, formulas: bool
) -> ProblemSpec:
    if not isinstance(t, dict):
        raise InputError(file, place, "expected a [[problems]] table")
    known_keys(t, _PROBLEM_KEYS, file, place)
    points = to_decimal(t.get("points", defaults.POINTS), file, f"{place}.points")
    if not 0 < points <= 1000:
        raise InputError(file, f"{place}.points", f"{points} must be above 0 and at most 1000")
    show_steps = check_bool(t.get("show_steps", defaults.SHOW_STEPS), file, f"{place}.show_steps")
    formulas = check_bool(t.get("formulas", formulas), file, f"{place}.formulas")
    given = None
    given_file = None
    if "given" in t:
        given_file = check_text(t["given"], file, f"{place}.given")
        path = (folder or Path.cwd()) / given_file
        if not path.is_file():
            raise InputError(file, f"{place}.given", f"no such problem file: {path}")
        found = read_problem_file(path)
        if len(found) != 1:
            raise InputError(
                file, f"{place}.given", f"{path} holds {len(found)} problems, expected 1"
            )
        given = found[0]
        if "kind" in t and t["kind"] != given.kind:
            raise InputError(
                file, f"{place}.kind", f"{t['kind']!r} but {given_file} holds a {given.kind}"
            )
        given = Problem(
            given.kind,
            given.givens,
            given.decimals if given.kind is Kind.PARAMETERS else decimals,
            show_steps,
        )
        kind = given.kind
    else:
        raw_kind = t.get("kind")
        if raw_kind is None:
            raise InputError(file, f"{place}.kind", "missing; one of " + ", ".join(KINDS))
        try:
            kind = Kind(raw_kind)
        except ValueError:
            raise InputError(
                file, f"{place}.kind", f"unknown kind {shown(raw_kind)}; one of " + ", ".join(KINDS)
            ) from None
    lo, hi = defaults.MIN_SIZE, defaults.MAX_SIZE
    sizes = defaults.KIND_SIZES.get(kind, (defaults.HIDDEN, defaults.INPUTS, defaults.STEPS))
    hidden = check_int(t.get("hidden", sizes[0]), lo, hi, file, f"{place}.hidden")
    inputs = check_int(t.get("inputs", sizes[1]), lo, hi, file, f"{place}.inputs")
    steps = check_int(
        t.get("steps", sizes[2]),
        defaults.MIN_STEPS,
        defaults.MAX_STEPS,
        file,
        f"{place}.steps",
    )
    if "classes" in t and kind is not Kind.CLASSIFICATION:
        raise InputError(
            file, f"{place}.classes", f"only a classification problem has classes, not a {kind}"
        )
    classes = check_int(
        t.get("classes", defaults.CLASSES), 2, defaults.MAX_CLASSES, file, f"{place}.classes"
    )
    weights = _distribution(t.get("weights"), defaults.WEIGHTS, file, f"{place}.weights", True)
    values = _distribution(t.get("values"), defaults.VALUES, file, f"{place}.values", False)
    return ProblemSpec(
        kind,
        points,
        show_steps,
        hidden,
        inputs,
        steps,
        weights,
        values,
        given,
        given_file,
        classes,
        formulas,
    )


def load_spec(path: Path | None) -> Worksheet:
    """Read and check a spec file; None gives the built-in default."""
    if path is None:
        text = (
            resources.files("lstm_exam.generator").joinpath("data", DEFAULT_SPEC).read_text("utf-8")
        )
        import tomllib

        return parse_spec(tomllib.loads(text), "<built-in default>")
    return parse_spec(read_toml(path), str(path), path.parent)


def builtin_path(name: str) -> Path:
    """The path of a bundled data file (default spec, lecture example, sample roster)."""
    return Path(str(resources.files("lstm_exam.generator").joinpath("data", name)))
