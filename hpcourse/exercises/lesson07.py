"""Exercise checkers for lesson 07 (epochs and early stopping).

1. :func:`check_early_stopping`: the patience rule with ``min_delta``, on a recorded
   validation curve (hpcourse's own version:
   :func:`hpcourse.stopping.replay_early_stopping`).
2. :func:`check_which_split`: which split each decision of a project may read.

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcourse.exercises import Case, Verdict, check_function, check_mapping

BEST_HINT = (
    "an epoch improves only if its loss is below the best so far minus min_delta; compare "
    "with the best so far, not with the previous epoch."
)
TIE_HINT = "a loss equal to the best so far is not an improvement (use <, not <=)."
DELTA_HINT = "min_delta is how much lower than the best so far a loss must be to count."
PATIENCE_HINT = (
    "training stops at the epoch where the count of epochs without improvement reaches "
    "patience: best epoch + patience when nothing improves after it."
)
SCALE_HINT = (
    "min_delta is in the units of the loss (subtract it), not a fraction of the best so far."
)
START_HINT = "entry 0 is the loss before training: epoch 1 must beat it to count."
END_HINT = "if patience never runs out, the run ends at the last epoch of the curve."


def check_early_stopping(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(val_loss, patience, min_delta)`` -> ``(best_epoch, stop_epoch)`` on a
    curve whose entry 0 is the loss before training. Cases include a tie, a curve that
    improves on the previous epoch but not on the best, ``min_delta`` measured from the
    best (not from the previous epoch), an epoch 1 worse than the start, and a curve that
    ends before patience runs out, and a curve of small losses, where a ``min_delta``
    taken as a fraction of the best would give another answer."""
    wave = [2.0, 1.5, 1.2, 1.25, 1.3, 1.1, 1.4, 1.5]
    cases = [
        Case((wave, 2, 0.0), (2, 4), hint=PATIENCE_HINT),
        Case((wave, 3, 0.0), (5, 7), hint=END_HINT),
        Case(([2.0, 1.0, 1.5, 1.4, 1.3, 1.2], 2, 0.0), (1, 3), hint=BEST_HINT),
        Case(([2.0, 1.0, 1.0, 1.0, 0.9], 2, 0.0), (1, 3), hint=TIE_HINT),
        Case(([2.0, 1.0, 0.99, 0.98, 0.97, 0.5], 3, 0.05), (1, 4), hint=DELTA_HINT),
        Case(([2.0, 1.0, 0.97, 0.94, 0.91], 2, 0.05), (3, 4), hint=BEST_HINT),
        Case(([2.0, 2.1, 2.2, 1.5], 2, 0.0), (0, 2), hint=START_HINT),
        Case(([2.0, 1.8, 1.6, 1.4], 1, 0.0), (3, 3), hint=END_HINT),
        Case(([2.3, 1.9, 1.7, 1.72, 1.69, 1.71, 1.7, 1.6], 2, 0.02), (2, 4), hint=DELTA_HINT),
        Case(([0.3, 0.2, 0.15, 0.12, 0.11, 0.105], 2, 0.02), (3, 5), hint=SCALE_HINT),
    ]
    return check_function("the patience rule", attempt, cases, verbose=verbose)


#: Each decision of a project and the split it may read.
WHICH_SPLIT = {
    "weights": "train",
    "standardize": "train",
    "epoch": "validation",
    "learning_rate": "validation",
    "finalist": "validation",
    "report": "test",
}

DECISIONS = {
    "weights": "the values of the weights (each gradient step)",
    "standardize": "the mean and standard deviation used to standardize the inputs",
    "epoch": "the epoch whose weights restore_best gives back",
    "learning_rate": "the learning rate of the model you ship",
    "finalist": "which of your two best models you ship",
    "report": "the accuracy you write in the report, once, at the very end",
}

SPLITS = ("train", "validation", "test")

_HINTS = {
    "weights": "gradients come from the training examples only.",
    "standardize": "statistics from validation or test would leak them into training.",
    "epoch": "choosing the epoch is tuning: it reads the validation split.",
    "learning_rate": "any hyperparameter is chosen on validation, never on test.",
    "finalist": "choosing between finalists is still a choice: the test score would then "
    "be the winner of a contest, optimistic like any chosen score.",
    "report": "the one number nothing was chosen by: the test split, read once.",
}


def check_which_split(answers: Any, verbose: bool = True) -> Verdict:
    """Check a dict mapping each decision of :data:`DECISIONS` to one of :data:`SPLITS`."""
    return check_mapping(
        "which split each decision reads", answers, WHICH_SPLIT, SPLITS, _HINTS, verbose=verbose
    )


__all__ = [
    "DECISIONS",
    "SPLITS",
    "WHICH_SPLIT",
    "check_early_stopping",
    "check_which_split",
]
