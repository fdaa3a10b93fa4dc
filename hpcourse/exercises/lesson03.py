"""Exercise checkers for lesson 03 (batch size and gradient noise).

Each checker prints a verdict and returns a :class:`~hpcourse.exercises.Verdict`
(``passed`` is True, False, or None when the exercise was skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcourse.exercises import Case, Verdict, check_function, check_value


def check_steps_per_epoch(attempt: Callable[[int, int], int]) -> Verdict:
    """Check ``steps_per_epoch(n_examples, batch_size)``: optimizer steps in one epoch.

    The cases include divisions that leave a tiny remainder (one example left over out of
    a million), so that rounding tricks such as ``round(n / b + 0.49)``, which are right
    whenever the remainder is not tiny, are told apart from rounding up.
    """
    hint = "the last, smaller batch is still a step of its own: round up, e.g. math.ceil."
    tiny = (
        "even one example left over makes one more (tiny) batch: round up, whatever the "
        "remainder; adding a constant below 1/2 before round() is not the same thing."
    )
    cases = [
        Case((3200, 32), 100),
        Case((3200, 2048), 2, hint=hint),
        Case((1000, 3), 334, hint=hint),
        Case((10, 10), 1),
        Case((7, 1), 7),
        Case((1078, 100), 11, hint=hint),
        Case((1001, 100), 11, hint=tiny),
        Case((64, 63), 2, hint=tiny),
        Case((1_000_001, 1_000_000), 2, hint=tiny),
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
    """Check ``scaled_lr(base_lr, base_batch, new_batch)`` under the linear scaling rule.

    Includes a batch ratio that is not a power of two (3x) and an answer with more than
    two decimals, so that rounding the ratio or the result does not pass.
    """
    hint = "the lr changes by the same factor as the batch size: new_batch / base_batch."
    cases = [
        Case((0.1, 256, 1024), 0.4, hint=hint),
        Case((0.5, 32, 128), 2.0, hint=hint),
        Case((0.2, 64, 16), 0.05, hint=hint + " This works when the batch shrinks, too."),
        Case((0.3, 100, 100), 0.3),
        Case((0.1, 100, 300), 0.1 * 300 / 100, hint=hint + " The factor need not be a power of 2."),
        Case((0.07, 30, 100), 0.07 * 100 / 30, hint=hint + " Do not round the result."),
    ]
    return check_function("linear scaling rule", attempt, cases)


__all__ = ["check_scaled_lr", "check_steps_per_epoch", "check_variance_ratio"]
