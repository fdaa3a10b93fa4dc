"""Exercise checkers for lesson 12 (the capstone).

1. :func:`check_configs_trained`: how many configs of a list a budgeted search trains
   (hpcourse's own version: :func:`hpcourse.capstone.configs_that_fit`).

It prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable

from hpcourse.exercises import Case, Verdict, check_function

STOP_HINT = (
    "the search trains configs in order and stops at the first one that would overspend; "
    "it does not skip it to try a shorter one after it."
)
EXACT_HINT = "a config that uses exactly the epochs that remain still fits."
ORDER_HINT = "configs can have different lengths: add up the epochs of each in turn."


def check_configs_trained(attempt: Callable[..., int], verbose: bool = True) -> Verdict:
    """Check ``attempt(remaining, epochs)``: how many configs of the list (their epochs in
    order) a search with ``remaining`` model-epochs trains before it stops. Cases include
    an exact fit, a long config followed by short ones (stop, do not skip), configs of
    different lengths, and fractional epochs left over from runs stopped early."""
    cases = [
        Case((100, [20, 20, 20]), 3),
        Case((50, [20, 20, 20]), 2, hint=ORDER_HINT),
        Case((60, [20, 20, 20, 20]), 3, hint=EXACT_HINT),
        Case((45, [30, 30, 5, 5]), 1, hint=STOP_HINT),
        Case((70, [10, 40, 30]), 2, hint=ORDER_HINT),
        Case((80, [40, 10, 30, 5]), 3, hint=EXACT_HINT),
        Case((12.5, [4, 4, 4, 4]), 3, hint="12.5 remain: the fourth would need 16."),
        Case((10, [15, 2]), 0, hint=STOP_HINT),
        Case((10, []), 0, hint="no configs, nothing trained."),
    ]
    return check_function("configs a budgeted search trains", attempt, cases, verbose=verbose)


__all__ = ["check_configs_trained"]
