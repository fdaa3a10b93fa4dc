"""Exercise checkers for notebook 05 (grid vs random search).

1. :func:`check_grid_values_per_axis`: how many values of each hyperparameter a full grid
   of ``n_trials`` tries (hpcourse's own version:
   ``hpcourse.effective_dimension.grid_values_per_axis``).
2. :func:`check_trials_needed`: the fewest random trials that give a chance ``probability``
   of at least one in the best ``fraction`` (hpcourse's own version:
   ``hpcourse.search.trials_for_top_fraction``).

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable

from hpcourse.exercises import Case, Verdict, check_function

GRID_HINT = (
    "a full grid with k values per axis over d axes has k ** d trials, so k is the d-th "
    "root of n_trials. Floating-point roots are inexact (64 ** (1/3) is 3.9999999999999996): "
    "round to the nearest whole number, do not cut the decimals off with int()."
)

TRIALS_HINT = (
    "each trial misses the best fraction with probability (1 - fraction), all n of them "
    "with (1 - fraction) ** n; solve 1 - (1 - fraction) ** n >= probability for the "
    "smallest whole n: n >= log(1 - probability) / log(1 - fraction), rounded UP."
)


def check_grid_values_per_axis(attempt: Callable[[int, int], int], verbose: bool = True) -> Verdict:
    """Check ``attempt(n_trials, n_axes)``: distinct values per axis of a full grid.

    Exact answers only (no tolerance): a count of values is a whole number, and the cube
    roots of 64, 125 and 1000 are where truncating a float root goes wrong.
    """
    cases = [
        Case((9, 2), 3, hint=GRID_HINT),
        Case((16, 2), 4, hint=GRID_HINT),
        Case((27, 3), 3, hint=GRID_HINT),
        Case((64, 3), 4, hint=GRID_HINT),
        Case((125, 3), 5, hint=GRID_HINT),
        Case((1000, 3), 10, hint=GRID_HINT),
        Case((81, 4), 3, hint=GRID_HINT),
        Case((7, 1), 7, hint=GRID_HINT + " With one axis, every trial is a value of its own."),
        Case((1, 5), 1, hint=GRID_HINT),
        Case((1024, 10), 2, hint=GRID_HINT),
    ]
    return check_function(
        "grid values per axis", attempt, cases, rtol=0.0, atol=0.0, verbose=verbose
    )


def check_trials_needed(attempt: Callable[[float, float], int], verbose: bool = True) -> Verdict:
    """Check ``attempt(probability, fraction)``: the fewest random trials for a chance
    ``probability`` that one lands in the best ``fraction`` of the space.

    The cases include answers that are exact whole numbers (0.875 with 0.5 needs exactly
    3), so that ``floor(x) + 1`` fails where ``ceil`` does not, and small fractions where
    the approximation ``log(1 - f) ~ -f`` gives one trial too many.
    """
    cases = [
        Case((0.95, 0.05), 59, hint=TRIALS_HINT + " (The famous '60' is 3 / 0.05, rounded up.)"),
        Case((0.99, 0.05), 90, hint=TRIALS_HINT),
        Case((0.9, 0.1), 22, hint=TRIALS_HINT),
        Case((0.875, 0.5), 3, hint=TRIALS_HINT + " Here the answer is exactly 3: 1 - 0.5**3."),
        Case((0.75, 0.5), 2, hint=TRIALS_HINT),
        Case((0.5, 0.01), 69, hint=TRIALS_HINT),
        Case((0.95, 0.001), 2995, hint=TRIALS_HINT),
        Case((0.1, 0.2), 1, hint=TRIALS_HINT),
    ]
    return check_function(
        "random trials needed", attempt, cases, rtol=0.0, atol=0.0, verbose=verbose
    )


__all__ = ["check_grid_values_per_axis", "check_trials_needed"]
