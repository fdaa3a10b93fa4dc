"""The rules every training engine applies in the same way: when a run has diverged,
which epoch is the best so far, and when patience has run out.

Written once, here, so that the single-model trainer, the population trainer and the
searches cannot drift apart on what "diverged" or "best epoch" means. No PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def step_diverged(loss: float, first_loss: float, diverge_factor: float) -> bool:
    """A step's loss marks the run as diverged when it is not finite, or when it exceeds
    ``diverge_factor`` times the loss of the run's first step.

    Why relative to the first step: a healthy run only goes down from there, and a run
    whose loss is a hundred times its starting value is not coming back in any useful time.

    >>> step_diverged(float("nan"), 2.3, 100), step_diverged(231.0, 2.3, 100)
    (True, True)
    >>> step_diverged(5.0, 2.3, 100)
    False
    """
    return not math.isfinite(loss) or loss > diverge_factor * first_loss


@dataclass
class BestEpoch:
    """Tracks the best validation loss so far and the epochs since it last improved.

    An epoch *improves* when its validation loss is lower than the best so far by more
    than ``min_delta``. ``patience`` (None = never stop) is how many epochs in a row
    without improvement end the run.

    >>> best = BestEpoch(initial_loss=2.0, patience=2)
    >>> [best.update(e, v) for e, v in enumerate([1.5, 1.6, 1.4, 1.45, 1.5], start=1)]
    [True, False, True, False, False]
    >>> best.epoch, best.should_stop
    (3, True)
    """

    initial_loss: float
    min_delta: float = 0.0
    patience: int | None = None
    epoch: int = 0
    epochs_without_gain: int = 0

    def __post_init__(self) -> None:
        self.loss = self.initial_loss

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record one epoch's validation loss; True when it is the new best."""
        if val_loss < self.loss - self.min_delta:
            self.epoch, self.loss, self.epochs_without_gain = epoch, val_loss, 0
            return True
        self.epochs_without_gain += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row have not improved."""
        return self.patience is not None and self.epochs_without_gain >= self.patience


__all__ = ["BestEpoch", "step_diverged"]
