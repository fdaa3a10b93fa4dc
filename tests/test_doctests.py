"""The examples in hpcourse's docstrings are run, so they cannot drift from the code."""

import doctest
import importlib
import pkgutil

import pytest

import hpcourse

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(hpcourse.__path__, prefix="hpcourse.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
