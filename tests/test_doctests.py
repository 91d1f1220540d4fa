"""Every docstring example of the package runs, under the package's own module names."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.test_layers import module_files

MODULES = sorted(m for m in module_files() if m != "lstm_exam.__main__")  # it runs the CLI


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found():
    """The examples exist (a finder that sees none would pass every module above)."""
    found = sum(
        len(t.examples)
        for name in MODULES
        for t in doctest.DocTestFinder().find(importlib.import_module(name))
    )
    assert found >= 20
