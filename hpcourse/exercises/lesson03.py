"""Exercise checkers for lesson 03 (batch size and gradient noise).

Each checker prints a verdict and returns a :class:`~hpcourse.exercises.Verdict`
(``passed`` is True, False, or None when the exercise was skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcourse.exercises import Case, Verdict, check_function, check_value


def check_steps_per_epoch(attempt: Callable[[int, int], int]) -> Verdict:
    """Check ``steps_per_epoch(n_examples, batch_size)``: optimizer steps in one epoch."""
    hint = "the last, smaller batch is still a step of its own: round up, e.g. math.ceil."
    cases = [
        Case((3200, 32), 100),
        Case((3200, 2048), 2, hint=hint),
        Case((1000, 3), 334, hint=hint),
        Case((10, 10), 1),
        Case((7, 1), 7),
        Case((1078, 100), 11, hint=hint),
    ]
    return check_function("steps per epoch", attempt, cases)


def check_variance_ratio(answer: Any) -> Verdict:
    """Check the factor by which gradient noise E|g_B - G|^2 changes when B goes 16 -> 64."""
    return check_value(
        "variance ratio, batch 16 -> 64",
        answer,
        0.25,
        rtol=0.01,
        hint="the noise of an average of B examples is proportional to 1/B; "
        "the ratio asked for is variance at 64 divided by variance at 16.",
    )


def check_scaled_lr(attempt: Callable[[float, int, int], float]) -> Verdict:
    """Check ``scaled_lr(base_lr, base_batch, new_batch)`` under the linear scaling rule."""
    hint = "the lr changes by the same factor as the batch size: new_batch / base_batch."
    cases = [
        Case((0.1, 256, 1024), 0.4, hint=hint),
        Case((0.5, 32, 128), 2.0, hint=hint),
        Case((0.2, 64, 16), 0.05, hint=hint + " This works when the batch shrinks, too."),
        Case((0.3, 100, 100), 0.3),
    ]
    return check_function("linear scaling rule", attempt, cases)


__all__ = ["check_scaled_lr", "check_steps_per_epoch", "check_variance_ratio"]
