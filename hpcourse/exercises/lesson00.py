"""Checkers for notebook 00 (start here): a first taste of the exercise pattern."""

from __future__ import annotations

from collections.abc import Callable

from hpcourse.exercises import Case, Verdict, check_function


def check_chance_accuracy(attempt: Callable[[int], float], verbose: bool = True) -> Verdict:
    """The accuracy of guessing uniformly at random among ``n_classes`` balanced classes."""
    cases = [
        Case(
            (10,), 0.1, hint="with 10 equally likely classes a random guess is right 1 time in 10."
        ),
        Case((2,), 0.5),
        Case((4,), 0.25),
    ]
    return check_function("chance accuracy", attempt, cases, verbose=verbose)
