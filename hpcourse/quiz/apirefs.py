"""Find the library APIs an answer quotes, and check that they exist as quoted.

Answers quote APIs in backticks, optionally with the arguments that matter, e.g.
``torch.optim.lr_scheduler.StepLR(step_size, gamma)``. Library APIs get renamed, so
a test imports each one and checks with :func:`inspect.signature` that every quoted
argument is a real parameter. Only dotted names rooted in the libraries below count
as API references; other inline code (``lr=0.1``) is left alone.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass

#: Top-level packages whose APIs answers may quote.
LIBRARIES = ("torch", "torchvision", "optuna", "scipy", "numpy", "sklearn")

_REFERENCE = re.compile(
    r"`(?P<name>(?:" + "|".join(LIBRARIES) + r")(?:\.[A-Za-z_]\w*)+)(?:\((?P<args>[^`()]*)\))?`"
)


@dataclass(frozen=True)
class ApiReference:
    """A quoted API: its dotted name and the argument names quoted with it."""

    name: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name


def find_api_references(text: str) -> list[ApiReference]:
    """Every backticked ``library.dotted.name(arg, ...)`` in ``text``."""
    references = []
    for match in _REFERENCE.finditer(text):
        raw_args = match.group("args") or ""
        args = tuple(part.split("=")[0].strip() for part in raw_args.split(",") if part.strip())
        references.append(ApiReference(name=match.group("name"), args=args))
    return references


def resolve(name: str) -> object:
    """Import the longest importable module prefix of ``name``, then walk the attributes."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(f"no importable module in {name!r}")


def api_problem(reference: ApiReference) -> str | None:
    """Why ``reference`` is wrong (missing name, unknown argument), or None if it checks out."""
    try:
        target = resolve(reference.name)
    except (ImportError, AttributeError) as error:
        return f"{reference}: {reference.name} does not exist ({error})"
    if not reference.args:
        return None
    if not callable(target):
        return f"{reference}: {reference.name} is not callable, so it takes no arguments"
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return f"{reference}: cannot read the signature of {reference.name}"
    unknown = [arg for arg in reference.args if arg not in parameters]
    if unknown:
        return f"{reference}: {reference.name} has no parameter(s) {', '.join(unknown)}"
    return None
