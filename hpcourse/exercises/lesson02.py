"""Exercise checkers for notebook 02 (learning rate).

1. :func:`check_max_stable_lr`: the largest stable learning rate on a quadratic bowl,
   given its curvatures (hpcourse's own version: ``hpcourse.bowl.stability_threshold``).
2. :func:`check_exponential_lrs`: the geometric learning-rate ramp of a range test
   (hpcourse's own version: ``hpcourse.schedules.exponential_lrs``).

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hpcourse.exercises import Case, Verdict, check_function

STABLE_LR_HINT = (
    "one step multiplies the coordinate along curvature L by (1 - lr*L); it must stay "
    "between -1 and 1 for every L, and the largest L breaks first: the limit is 2 / max(L)."
)

RAMP_HINT = (
    "equal ratios, not equal differences: step i of n uses "
    "lr_min * (lr_max / lr_min) ** (i / (n - 1)), so the first is lr_min and the last lr_max."
)


def check_max_stable_lr(attempt: Callable[..., float], verbose: bool = True) -> Verdict:
    """Check ``attempt(curvatures) -> float``: the largest lr for which GD converges."""
    cases = [
        Case(((1.0, 10.0),), 0.2, hint=STABLE_LR_HINT),
        Case(((4.0,),), 0.5, hint=STABLE_LR_HINT),
        Case(((8.0, 0.5, 2.0),), 0.25, hint=STABLE_LR_HINT),
        Case(((100.0, 100.0),), 0.02, hint=STABLE_LR_HINT),
        # limits with many decimals (a rounded answer fails) and the largest in the middle
        Case(((3.0,),), 2 / 3, hint=STABLE_LR_HINT),
        Case(((0.3, 7.0, 6.5, 1.1),), 2 / 7, hint=STABLE_LR_HINT),
    ]
    return check_function("largest stable learning rate", attempt, cases, verbose=verbose)


def check_exponential_lrs(attempt: Callable[..., object], verbose: bool = True) -> Verdict:
    """Check ``attempt(lr_min, lr_max, steps)``: ``steps`` geometric lrs from lr_min to lr_max."""
    cases = [
        Case((1e-3, 1e-1, 3), [1e-3, 1e-2, 1e-1], hint=RAMP_HINT),
        Case((0.1, 1.6, 5), [0.1, 0.2, 0.4, 0.8, 1.6], hint=RAMP_HINT),
        Case((1e-6, 10.0, 8), list(1e-6 * 10.0 ** np.arange(8)), hint=RAMP_HINT),
        Case((0.5, 2.0, 2), [0.5, 2.0], hint=RAMP_HINT),
        # a ratio that is not a round number, and values a rounded answer would miss
        Case((2e-4, 0.3, 7), list(2e-4 * 1500.0 ** (np.arange(7) / 6)), hint=RAMP_HINT),
    ]
    return check_function("exponential lr ramp", attempt, cases, rtol=1e-6, verbose=verbose)


__all__ = ["check_exponential_lrs", "check_max_stable_lr"]
