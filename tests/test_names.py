"""Names (issue 22 part 5): a module's interface has public names, signatures spell their
parameters out, and the records between stages are built by keyword.

The product is read with :mod:`ast`, as tests/test_layers.py reads its imports.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from lstm_exam.graders.lms import LmsInputs
from lstm_exam.graders.lmsnumbers import Reading
from lstm_exam.graders.lmstables import Joined, Table
from lstm_exam.graders.matching import LmsIds, Match
from lstm_exam.graders.outputs import FeedbackView
from lstm_exam.graders.policy import GradePolicy
from lstm_exam.graders.results import Finding, Graded
from lstm_exam.graders.uploads import Upload

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("generator", "graders", "lstm_exam")

#: The ceiling of one or two letter parameters among the product's function parameters
#: (self and cls left out): 20.4% (350 of 1,718) before issue 22, 2.7% after; the
#: lecture's own letters (t a step, c a cell, x, z, a, b inside small numeric helpers) and
#: plain words (to, at) stay.
SHORT_PARAMETERS_CEILING = 0.05


def _modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text("utf-8"), str(path)))
        for folder in PRODUCT
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports() -> list[str]:
    """Every private name one module of the product takes from another: imported by
    name, or read as an attribute of one of the product's modules."""
    found = []
    for path, tree in _modules():
        where = path.relative_to(ROOT)
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{where}:{node.lineno}: {node.module}.{alias.name}")
                    elif (node.module or "").startswith("lstm_exam") or node.level:
                        modules.add(alias.asname or alias.name)  # maybe one of its modules
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.value.id[0].islower()  # a module, not a class of it
            ):
                found.append(f"{where}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def parameter_names() -> list[str]:
    """The names of every parameter of the product's functions (not lambdas)."""
    names = []
    for _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                every = [*a.posonlyargs, *a.args, *a.kwonlyargs]
                every += [x for x in (a.vararg, a.kwarg) if x is not None]
                names += [x.arg for x in every if x.arg not in ("self", "cls")]
    return names


def test_no_private_name_is_imported_across_modules() -> None:
    assert private_imports() == []


def test_parameters_are_spelled_out() -> None:
    names = parameter_names()
    short = [n for n in names if len(n) <= 2]
    share = len(short) / len(names)
    assert share <= SHORT_PARAMETERS_CEILING, (
        f"{len(short)} of {len(names)} parameters ({share:.1%}) have one or two letters"
    )


#: The records the grader passes between stages, beside those tests/test_records.py pins.
KW_ONLY = [Finding, Graded, Match, LmsIds, Table, Joined, Reading, GradePolicy, FeedbackView]
KW_ONLY += [Upload, LmsInputs]


@pytest.mark.parametrize("record", KW_ONLY, ids=lambda r: r.__name__)
def test_records_are_built_by_keyword_only(record: type) -> None:
    fields = [f for f in dataclasses.fields(record) if f.init]
    assert all(f.kw_only for f in fields)
    with pytest.raises(TypeError, match="positional"):
        record(*(None for _ in fields))
