"""Exercise checkers for lesson 09 (optimizer hyperparameters and schedules).

1. :func:`check_momentum_steps`: the step lengths of SGD with momentum on a gradient that
   never changes (hpcourse's own version: :func:`hpcourse.optimizers.momentum_step_lengths`).
2. :func:`check_warmup_cosine`: the lr factor of a linear warmup followed by a cosine
   decay (hpcourse's own version: :func:`hpcourse.schedules.lr_factor` with
   ``schedule="cosine"`` and ``warmup_steps``).

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcourse.exercises import Case, Verdict, check_function
from hpcourse.optimizers import momentum_step_lengths
from hpcourse.schedules import lr_factor

VELOCITY_HINT = (
    "the velocity starts at 0 and each step does v = momentum * v + gradient, then moves "
    "lr * v; the first step is lr * gradient."
)
EMA_HINT = (
    "PyTorch's SGD momentum adds the whole gradient (v = momentum * v + g), it does not "
    "average it with weights (1 - momentum): the steps grow towards lr * g / (1 - momentum)."
)
SCALE_HINT = "every step is proportional to lr and to the gradient."
LIMIT_HINT = "the step grows over the first steps; it only approaches lr * g / (1 - momentum)."


def _momentum(lr: float, momentum: float, gradient: float, n: int) -> list[float]:
    return [float(x) for x in momentum_step_lengths(momentum, n, lr=lr, gradient=gradient)]


def check_momentum_steps(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(lr, momentum, gradient, n)`` -> the list of the first ``n`` step
    lengths of SGD with momentum on a steady gradient, velocity starting at 0."""
    cases = [
        Case((0.1, 0.0, 1.0, 3), _momentum(0.1, 0.0, 1.0, 3), hint=SCALE_HINT),
        Case((1.0, 0.5, 1.0, 4), _momentum(1.0, 0.5, 1.0, 4), hint=VELOCITY_HINT),
        Case((0.01, 0.9, 2.0, 5), _momentum(0.01, 0.9, 2.0, 5), hint=EMA_HINT),
        Case((0.003, 0.99, 0.5, 3), _momentum(0.003, 0.99, 0.5, 3), hint=LIMIT_HINT),
        Case((0.2, 0.75, 3.0, 6), _momentum(0.2, 0.75, 3.0, 6), hint=VELOCITY_HINT),
        Case((0.05, 0.9, 1.0, 60), _momentum(0.05, 0.9, 1.0, 60), hint=LIMIT_HINT),
    ]
    return check_function("momentum's step lengths", attempt, cases, verbose=verbose)


START_HINT = (
    "the warmup's first step already has a small lr: (step + 1) / warmup_steps, not "
    "step / warmup_steps (an lr of 0 wastes a step)."
)
OFFSET_HINT = (
    "the cosine starts when the warmup ends: measure its progress from warmup_steps, over "
    "the total_steps - warmup_steps steps that remain."
)
NO_WARMUP_HINT = "with warmup_steps = 0 there is no warmup: the cosine starts at 1 on step 0."
COSINE_HINT = "after the warmup the factor is 0.5 * (1 + cos(pi * progress)), progress in [0, 1)."


def _warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    return lr_factor("cosine", step, total_steps, warmup_steps=warmup_steps)


def check_warmup_cosine(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(step, total_steps, warmup_steps)`` -> the factor of the peak lr at
    ``step`` (0-based) of a linear warmup followed by a cosine decay to 0."""
    args = [
        (0, 100, 10, START_HINT),
        (4, 100, 10, START_HINT),
        (9, 100, 10, START_HINT),
        (10, 100, 10, OFFSET_HINT),
        (55, 100, 10, OFFSET_HINT),
        (99, 100, 10, OFFSET_HINT),
        (0, 50, 0, NO_WARMUP_HINT),
        (25, 50, 0, COSINE_HINT),
        (37, 40, 4, OFFSET_HINT),
        (3, 7, 3, OFFSET_HINT),
    ]
    cases = [Case((s, t, w), _warmup_cosine(s, t, w), hint=h) for s, t, w, h in args]
    return check_function("warmup + cosine", attempt, cases, verbose=verbose)


__all__ = ["check_momentum_steps", "check_warmup_cosine"]
