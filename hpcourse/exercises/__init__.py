"""Exercise checking: run the learner's attempt on known cases and print a clear verdict.

The pattern in every notebook:

1. a stub the learner fills in, which raises ``NotImplementedError`` until they do;
2. a checker cell that calls a function from this package and prints a verdict;
3. later cells that use hpcourse's own, correct version, so skipping an exercise
   never breaks the rest of the notebook.

Lesson-specific checkers live in ``hpcourse.exercises.lessonNN``; they are built
from :func:`check_function` and :func:`check_value` below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Case:
    """One test case: arguments for the learner's function and the expected result."""

    args: tuple[Any, ...]
    expected: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    hint: str = ""

    def describe(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


@dataclass
class Verdict:
    """The outcome of a check: ``passed`` is True, False, or None when not attempted."""

    exercise: str
    passed: bool | None
    message: str

    def __bool__(self) -> bool:
        return bool(self.passed)

    def __str__(self) -> str:
        mark = {True: "PASSED", False: "NOT YET", None: "SKIPPED"}[self.passed]
        return f"[{mark}] {self.exercise}: {self.message}"


def _is_number(value: Any) -> bool:
    """True for a real number (int, float, NumPy scalar or 0-d array), False for text or bools.

    Why strict: ``float("0.1")`` is 0.1, so a checker that converted whatever it got would
    accept the *string* ``"0.1"`` as the answer 0.1.
    """
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return False
    if isinstance(value, (int, float, np.floating, np.integer)):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def _close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    if isinstance(expected, (int, float, np.floating, np.integer)) and not isinstance(
        expected, bool
    ):
        if not _is_number(got) and not (hasattr(got, "item") and _is_number(_item(got))):
            return False
        try:
            return math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, (list, tuple, np.ndarray)):
        try:
            if np.asarray(expected).dtype.kind in "iuf" and np.asarray(got).dtype.kind not in "iuf":
                return False  # numbers expected: ("2", "4") or (True, False) is not (2, 4)
            g, e = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        except (TypeError, ValueError):
            return False
        return g.shape == e.shape and bool(np.allclose(g, e, rtol=rtol, atol=atol))
    return got == expected


def _item(value: Any) -> Any:
    """The Python scalar inside a one-element tensor or array, or ``value`` itself."""
    try:
        return value.item()
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return value


def _wrong_type(got: Any, expected: Any) -> str:
    """A hint when a number was expected but something else came back, else ``""``."""
    numeric = isinstance(expected, (int, float, np.floating, np.integer)) and not isinstance(
        expected, bool
    )
    if numeric and not _is_number(got) and not _is_number(_item(got)):
        return f" Return a number, not a {type(got).__name__}."
    return ""


def _skipped(exercise: str) -> Verdict:
    return Verdict(
        exercise,
        None,
        "not attempted yet (the stub still raises NotImplementedError). That is fine: "
        "the cells below use hpcourse's own version, so the notebook keeps working.",
    )


def check_function(
    exercise: str,
    attempt: Callable[..., Any],
    cases: Sequence[Case],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    verbose: bool = True,
) -> Verdict:
    """Call ``attempt`` on every case and stop at the first wrong answer, saying why."""
    verdict = Verdict(exercise, True, f"correct on all {len(cases)} test cases.")
    for case in cases:
        try:
            got = attempt(*case.args, **case.kwargs)
        except NotImplementedError:
            verdict = _skipped(exercise)
            break
        except Exception as err:  # the learner's code may fail in any way; report it kindly
            verdict = Verdict(
                exercise,
                False,
                f"your function raised {type(err).__name__}: {err} for input {case.describe()}.",
            )
            break
        if not _close(got, case.expected, rtol, atol):
            hint = _wrong_type(got, case.expected) or (f" Hint: {case.hint}" if case.hint else "")
            verdict = Verdict(
                exercise,
                False,
                f"for input {case.describe()} the answer should be {case.expected!r}, "
                f"but your function returned {got!r}.{hint}",
            )
            break
    if verbose:
        print(verdict)
    return verdict


def check_value(
    exercise: str,
    answer: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hint: str = "",
    verbose: bool = True,
) -> Verdict:
    """Check a value the learner computed or chose. ``None`` or ``...`` means not attempted."""
    if answer is None or answer is Ellipsis:
        verdict = Verdict(exercise, None, "not answered yet: replace the placeholder and re-run.")
    elif _close(answer, expected, rtol, atol):
        verdict = Verdict(exercise, True, f"correct: {answer!r}.")
    else:
        tip = _wrong_type(answer, expected) or (f" Hint: {hint}" if hint else "")
        verdict = Verdict(exercise, False, f"{answer!r} is not right.{tip}")
    if verbose:
        print(verdict)
    return verdict


def check_mapping(
    exercise: str,
    answers: Any,
    expected: dict[str, str],
    choices: Sequence[str],
    hints: dict[str, str],
    *,
    verbose: bool = True,
) -> Verdict:
    """Check a dict that maps each item of ``expected`` to one of ``choices``.

    The learner's dict must have exactly the expected keys; a value outside ``choices``
    is named as a typo before anything is marked wrong, and a wrong answer gets the hint
    for the first item that is wrong (one hint at a time: the rest stay for the learner
    to find). ``None`` or ``...`` means not attempted.

    >>> check_mapping("demo", {"a": "x"}, {"a": "y"}, ("x", "y"), {"a": "think again"},
    ...               verbose=False).message
    "1 of 1 not yet right; e.g. 'a': think again"
    """
    if answers is None or answers is Ellipsis:
        verdict = Verdict(exercise, None, "not answered yet: fill in the dict and re-run.")
    elif not isinstance(answers, dict) or set(answers) != set(expected):
        verdict = Verdict(
            exercise,
            False,
            f"give a dict with exactly the keys {sorted(expected)}, each mapped to one of "
            f"{list(choices)}.",
        )
    else:
        unknown = [k for k in expected if answers[k] not in choices]
        wrong = [k for k, v in expected.items() if answers[k] != v]
        if unknown:
            key = unknown[0]
            verdict = Verdict(
                exercise, False, f"{key!r}: {answers[key]!r} is not one of {tuple(choices)}."
            )
        elif wrong:
            verdict = Verdict(
                exercise,
                False,
                f"{len(wrong)} of {len(expected)} not yet right; e.g. {wrong[0]!r}: "
                f"{hints[wrong[0]]}",
            )
        else:
            verdict = Verdict(exercise, True, f"all {len(expected)} right.")
    if verbose:
        print(verdict)
    return verdict


__all__ = ["Case", "Verdict", "check_function", "check_mapping", "check_value"]
