"""Argument checks that fail early with a message a learner can act on.

Every public hpcourse function validates its inputs with these helpers, so a typo
such as ``lr=-0.1`` or ``optimizer="adma"`` produces one clear ``ValueError`` that
names the argument, the value given and what is allowed, instead of a stack trace
from deep inside PyTorch twenty seconds later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any


def _fmt_range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f"in {left}{low}, {high}{right}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "a finite number"


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number inside the given range.

    ``low_open``/``high_open`` make the bound strict (``lr`` must be > 0, not >= 0).

    >>> check_number("lr", 0.1, low=0, low_open=True)
    >>> check_number("lr", -1, low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lr=-1 is not allowed: lr must be > 0.
    """
    allowed = _fmt_range(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Integral if integer else Real):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be {kind} {allowed}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be finite.")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        kind = "an integer " if integer else ""
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be {kind}{allowed}.")


def check_bool(name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is exactly ``True`` or ``False``.

    Why strict: ``shuffle="no"`` is a non-empty string, so Python treats it as true;
    accepting it would silently do the opposite of what was written.

    >>> check_bool("shuffle", "no")
    Traceback (most recent call last):
    ...
    ValueError: shuffle='no' is not allowed: shuffle must be True or False.
    """
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be True or False.")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices`` (listed in the message)."""
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be one of {listed}.")
