"""Learning-rate schedules as plain functions of the step number.

A schedule multiplies the base learning rate by a factor that depends on how far
training has got. Writing them as pure functions (step in, factor out) makes them
easy to plot, to test against ``torch.optim.lr_scheduler`` and to reason about.

* ``constant``: factor 1 throughout.
* ``step``: multiply by ``gamma`` every ``step_size`` steps (like ``StepLR``).
* ``exponential``: multiply by ``gamma`` every ``step_size`` steps, smoothly (like
  ``ExponentialLR`` stepped every step with ``gamma ** (1 / step_size)``).
* ``cosine``: half a cosine from 1 down to 0 over training (like ``CosineAnnealingLR``
  with ``eta_min=0``).
* ``wsd`` (warmup-stable-decay): after the warmup, hold the base lr, then fall linearly to
  0 over the last ``decay_steps`` (default: the last fifth of training). Used for large
  language models because the stable phase can be extended without retraining; only the
  short decay has to be rerun.
* ``onecycle``: the 1cycle policy (Smith & Topin 2019, like ``OneCycleLR`` with its
  defaults): over the first 30% of the steps the lr rises along half a cosine from
  ``1/25`` of the base lr (the peak) to the peak, then falls along half a cosine to
  ``1/25e4`` of the peak. The big middle part acts as a regularizer and the long
  descent lets the weights settle; it has its own warm-up, so ``warmup_steps`` must be 0.
  Only the learning rate follows the cycle: torch's ``OneCycleLR`` also cycles momentum by
  default (``cycle_momentum=True``), hpcourse keeps the config's momentum fixed.
* ``warmup_steps`` (any other schedule): grow the factor linearly from ``1/warmup_steps`` to 1
  over the first steps; large learning rates are often unstable while the weights are
  still random, and a short warmup lets training survive them. The decay that follows
  starts after the warmup.

And one schedule that is not for training but for *finding* a learning rate:
:func:`exponential_lrs`, the geometric ramp of a learning-rate range test
(see ``hpcourse.lr_finder``).
"""

from __future__ import annotations

import math

import numpy as np

from hpcourse.validation import check_choice, check_number

SCHEDULES = ("constant", "step", "exponential", "cosine", "wsd", "onecycle")

#: Share of training that warmup-stable-decay spends decaying, unless told otherwise.
WSD_DECAY_FRACTION = 0.2

# The 1cycle policy's shape, as in torch's OneCycleLR defaults.
ONECYCLE_PCT_START = 0.3
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4


def lr_factor(
    schedule: str,
    step: int,
    total_steps: int,
    *,
    warmup_steps: int = 0,
    step_size: int = 1,
    gamma: float = 0.1,
    decay_steps: int | None = None,
) -> float:
    """The multiplier of the base learning rate at ``step`` (0-based) of ``total_steps``.

    >>> [round(lr_factor("cosine", s, 4), 3) for s in range(4)]
    [1.0, 0.854, 0.5, 0.146]
    >>> [lr_factor("step", s, 6, step_size=2, gamma=0.5) for s in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    >>> [lr_factor("constant", s, 4, warmup_steps=2) for s in range(4)]
    [0.5, 1.0, 1.0, 1.0]
    >>> [round(lr_factor("onecycle", s, 10), 3) for s in (0, 2, 9)]  # start, peak, end
    [0.04, 1.0, 0.0]
    >>> [lr_factor("exponential", s, 5, step_size=2, gamma=0.25) for s in range(5)]
    [1.0, 0.5, 0.25, 0.125, 0.0625]
    >>> [lr_factor("wsd", s, 10, decay_steps=4) for s in range(10)]
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    check_choice("schedule", schedule, SCHEDULES)
    check_number("total_steps", total_steps, low=1, integer=True)
    check_number("step", step, low=0, integer=True)
    check_number("warmup_steps", warmup_steps, low=0, high=total_steps, integer=True)
    if schedule == "onecycle":
        if warmup_steps:
            raise ValueError(
                f"warmup_steps={warmup_steps!r} is not allowed with schedule='onecycle': "
                "warmup_steps must be 0 (1cycle has its own warm-up phase)."
            )
        return _onecycle(step, total_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    t = step - warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule in ("step", "exponential"):
        check_number("step_size", step_size, low=1, integer=True)
        check_number("gamma", gamma, low=0, high=1, low_open=True)
        return gamma ** (t // step_size) if schedule == "step" else gamma ** (t / step_size)
    if schedule == "wsd":
        after_warmup = total_steps - warmup_steps
        if decay_steps is None:
            decay_steps = max(1, round(WSD_DECAY_FRACTION * after_warmup))
        check_number("decay_steps", decay_steps, low=1, high=max(after_warmup, 1), integer=True)
        into_decay = step - (total_steps - decay_steps)  # the last step reaches exactly 0
        return 1.0 if into_decay < 0 else 1.0 - (into_decay + 1) / decay_steps
    span = max(total_steps - warmup_steps, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(t, span) / span))


def _cosine_between(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1.0)


def _onecycle(step: int, total_steps: int) -> float:
    """torch's OneCycleLR (two phases, cosine annealing) as a factor of the peak lr."""
    low = 1.0 / ONECYCLE_DIV
    end_up = ONECYCLE_PCT_START * total_steps - 1  # the step at which the peak is reached
    if step <= end_up:
        return _cosine_between(low, 1.0, step / end_up)
    last = total_steps - 1
    fraction = (step - end_up) / (last - end_up) if last > end_up else 1.0
    return _cosine_between(1.0, low / ONECYCLE_FINAL_DIV, min(fraction, 1.0))


def lr_curve(
    schedule: str,
    base_lr: float,
    total_steps: int,
    *,
    warmup_steps: int = 0,
    step_size: int = 1,
    gamma: float = 0.1,
    decay_steps: int | None = None,
) -> list[float]:
    """The learning rate at every step, ready to plot."""
    check_number("base_lr", base_lr, low=0, low_open=True)
    return [
        base_lr
        * lr_factor(
            schedule,
            s,
            total_steps,
            warmup_steps=warmup_steps,
            step_size=step_size,
            gamma=gamma,
            decay_steps=decay_steps,
        )
        for s in range(total_steps)
    ]


def exponential_lrs(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    """``steps`` learning rates growing by the same factor each step, from lr_min to lr_max.

    Why geometric and not linear: learning rates matter by their order of magnitude.
    A linear ramp from 1e-6 to 10 would spend 90% of its steps above 1 and skip the
    small decades entirely; a geometric ramp gives every decade the same number of steps.
    Step ``i`` uses ``lr_min * (lr_max / lr_min) ** (i / (steps - 1))``.

    >>> exponential_lrs(1e-3, 1e-1, 3).tolist()
    [0.001, 0.01, 0.1]
    """
    check_number("lr_min", lr_min, low=0, low_open=True)
    check_number("lr_max", lr_max, low=lr_min, low_open=True)
    check_number("steps", steps, low=2, integer=True)
    exponents = np.arange(steps) / (steps - 1)
    lrs = lr_min * (lr_max / lr_min) ** exponents
    lrs[-1] = lr_max  # exact end point, no rounding drift
    return lrs
