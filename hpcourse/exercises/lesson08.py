"""Exercise checkers for lesson 08 (capacity and regularization).

1. :func:`check_dropout`: inverted dropout, as ``torch.nn.Dropout`` does it: during
   training, zero the dropped units and scale the kept ones by ``1 / (1 - p)``; at
   evaluation, do nothing.
2. :func:`check_decay_factor`: how much AdamW's decoupled decay alone shrinks a weight in
   a number of steps (hpcourse's own version: :func:`hpcourse.capacity.decay_factor`).

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hpcourse.exercises import Case, Verdict, check_function

SCALE_HINT = (
    "the kept units are divided by the share kept, 1 - p, so that the expected value of "
    "each unit is the same in training and at evaluation."
)
EVAL_HINT = "at evaluation (training=False) dropout does nothing: return h unchanged."
MASK_HINT = "a unit whose mask entry is 0 is dropped: its output is 0."


def _case(h: list[float], mask: list[int], p: float, training: bool, hint: str) -> Case:
    hv, mv = np.array(h, dtype=float), np.array(mask, dtype=float)
    expected = hv * mv / (1 - p) if training else hv.copy()
    return Case((hv, mv, p, training), expected, hint=hint)


def check_dropout(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(h, mask, p, training)`` -> the layer's output. ``h``: activations
    (a NumPy array), ``mask``: 1 for a kept unit and 0 for a dropped one (drawn with
    probability ``p`` of a 0), ``training``: True while training. Cases include two rates
    (so that scaling by ``1 - p`` or ``p`` fails), evaluation mode, and ``p = 0``."""
    cases = [
        _case([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1], 0.25, True, SCALE_HINT),
        _case([0.5, -1.0, 2.0, 0.0, 3.0], [0, 1, 1, 0, 1], 0.4, True, SCALE_HINT),
        _case([2.0, 2.0, 2.0, 2.0], [0, 0, 1, 0], 0.75, True, MASK_HINT),
        _case([1.0, -2.0, 3.0], [1, 0, 1], 0.5, False, EVAL_HINT),
        _case([1.5, 2.5], [1, 1], 0.0, True, SCALE_HINT),
        _case([4.0, 1.0, -3.0], [0, 1, 0], 0.2, False, EVAL_HINT),
    ]
    return check_function("inverted dropout", attempt, cases, verbose=verbose)


DECAY_HINT = (
    "each step multiplies the weight by (1 - lr * weight_decay); after n steps that is the "
    "n-th power. exp(-lr * weight_decay * n) is only close when lr * weight_decay is small."
)
LR_HINT = "PyTorch's AdamW multiplies the decay by the learning rate: the step is lr * wd * w."


def check_decay_factor(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(lr, weight_decay, steps)`` -> the factor by which AdamW's decoupled
    decay alone (no gradient) multiplies a weight after ``steps`` steps at a constant lr.
    Cases include a large ``lr * weight_decay`` (where ``exp(-lr*wd*steps)`` is off by
    several percent), ``steps = 0`` and ``weight_decay = 0``."""
    cases = [
        Case((0.1, 1.0, 10), 0.9**10, hint=DECAY_HINT),
        Case((0.003, 1.0, 500), 0.997**500, hint=DECAY_HINT),
        Case((0.5, 0.6, 4), 0.7**4, hint=DECAY_HINT),
        Case((0.01, 0.1, 1), 0.999, hint=LR_HINT),
        Case((0.3, 2.0, 3), 0.4**3, hint=LR_HINT),
        Case((0.001, 0.05, 0), 1.0, hint="no step, no decay: the factor is 1."),
        Case((0.01, 0.0, 100), 1.0, hint="weight_decay=0 means no decay: the factor is 1."),
    ]
    return check_function("AdamW's decay factor", attempt, cases, rtol=1e-4, verbose=verbose)


__all__ = ["check_decay_factor", "check_dropout"]
