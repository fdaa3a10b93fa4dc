"""A process-wide count of the training done: how many model-epochs ran in this process.

Why: a budget that only counts what goes through its own door can be walked around (call
``hp.train`` directly, then submit). Every training engine of the course adds what it ran
here (:func:`hpcourse.train`, the population engine), so the capstone can compare what
was charged to its budget with what was really trained. No PyTorch here.
"""

from __future__ import annotations

_model_epochs = 0.0


def record(steps: int, steps_per_epoch: int) -> None:
    """Add a run's optimizer steps, as a fraction of its epochs (a diverged run counts the
    part of the epoch it did)."""
    global _model_epochs
    if steps_per_epoch > 0 and steps > 0:
        _model_epochs += steps / steps_per_epoch


def model_epochs() -> float:
    """Model-epochs trained in this process so far (one model for one epoch = 1)."""
    return _model_epochs


__all__ = ["model_epochs", "record"]
