"""Checkers for notebook 00 (start here): a first taste of the exercise pattern."""

from __future__ import annotations

from collections.abc import Callable

from hpcourse.exercises import Case, Verdict, check_function

CHANCE_HINT = (
    "a uniform guess among n equally common classes is right once in n tries: return "
    "exactly 1 / n_classes, as a number (no rounding, no text)."
)


def check_chance_accuracy(attempt: Callable[[int], float], verbose: bool = True) -> Verdict:
    """The accuracy of guessing uniformly at random among ``n_classes`` balanced classes.

    The cases include class counts whose 1/n has no short decimal form (3, 7, 1000), so an
    answer rounded to two places, or one that only knows the cases 2, 4 and 10, fails.

    >>> check_chance_accuracy(lambda n: 1 / n, verbose=False).passed
    True
    >>> check_chance_accuracy(lambda n: round(1 / n, 2), verbose=False).passed
    False
    """
    cases = [
        Case(
            (10,), 0.1, hint="with 10 equally likely classes a random guess is right 1 time in 10."
        ),
        Case((2,), 0.5, hint=CHANCE_HINT),
        Case((4,), 0.25, hint=CHANCE_HINT),
        Case((3,), 1 / 3, hint=CHANCE_HINT),
        Case((7,), 1 / 7, hint=CHANCE_HINT),
        Case((1000,), 0.001, hint=CHANCE_HINT),
        Case((1,), 1.0, hint=CHANCE_HINT),
    ]
    return check_function("chance accuracy", attempt, cases, verbose=verbose)


__all__ = ["check_chance_accuracy"]
