"""Babysitting one model: train, look at the curves, change the learning rate, continue.

The "panda" way of tuning (Andrew Ng's name for it; CS231n speaks of babysitting the
learning process): one run, watched by a person who steps
in when the curves ask for it. The commonest intervention is the one here: the validation
loss has stopped improving, so the learning rate is lowered (say 10x) and training goes
on from where it was, with the weights and the optimizer's momentum kept, as if resumed
from the checkpoint of that epoch.

:func:`train_with_intervention` is that run, automated so that a notebook can repeat it:
:func:`hpcourse.training.train` with an ``on_epoch`` callback that multiplies the
optimizer's learning rate by ``factor`` once epoch ``at_epoch`` has ended. Epochs
``1..at_epoch`` are exactly the run without intervention (same seed, same batches), so
the two curves share their beginning and part at the intervention.

Why the intervention is recorded in ``config.tags``: a babysat run is not described by
its config alone. Two runs with the same config and different interventions end
differently, so the log must keep the interventions too, or the run cannot be repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.validation import check_number


def check_intervention(config: TrainConfig, at_epoch: Any, factor: Any) -> None:
    """Raise ``ValueError`` unless ``factor`` can be applied after epoch ``at_epoch``.

    The epoch must leave at least one epoch to train with the new learning rate, and the
    config's schedule must be ``"constant"`` without warmup: a schedule sets the learning
    rate at every step, which would undo the intervention at the next step.
    """
    check_number("at_epoch", at_epoch, low=1, high=max(1, config.epochs - 1), integer=True)
    if at_epoch >= config.epochs:
        raise ValueError(
            f"at_epoch={at_epoch!r} is not allowed: at_epoch must be below epochs="
            f"{config.epochs}, so that some epochs train with the new learning rate."
        )
    check_number("factor", factor, low=0, low_open=True)
    if config.schedule != "constant" or config.warmup_epochs:
        raise ValueError(
            f"schedule={config.schedule!r} (warmup_epochs={config.warmup_epochs}) is not "
            "allowed for a babysat run: schedule must be 'constant' without warmup, because "
            "a schedule resets the learning rate at every step and would undo the intervention."
        )


def train_with_intervention(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    at_epoch: int,
    factor: float,
    *,
    log: Any = None,
    progress: bool = False,
) -> History:
    """Train ``config``, and multiply the learning rate by ``factor`` after epoch ``at_epoch``.

    The babysitter's move, made reproducible: epochs ``1..at_epoch`` use ``config.lr``,
    the rest ``config.lr * factor`` (``History.step_lr`` shows the step). Weights and
    optimizer state carry on, as when training resumes from the checkpoint of that epoch.
    The History's ``config.tags["intervention"]`` records ``{"at_epoch", "factor"}``.

    >>> from hpcourse.data import load_dataset
    >>> h = train_with_intervention({"epochs": 3, "lr": 0.1}, load_dataset("digits"), 2, 0.1)
    >>> sorted({round(lr, 6) for lr in h.step_lr}), h.config.tags["intervention"]
    ([0.01, 0.1], {'at_epoch': 2, 'factor': 0.1})
    """
    from hpcourse.training import train

    base = as_config(config)
    check_intervention(base, at_epoch, factor)
    tags = {**base.tags, "intervention": {"at_epoch": int(at_epoch), "factor": float(factor)}}
    tagged = base.replace(tags=tags)

    def intervene(history: History, optimizer: Any) -> None:
        if history.epoch[-1] == at_epoch:
            for group in optimizer.param_groups:
                group["lr"] = group["lr"] * factor

    return train(tagged, data, on_epoch=intervene, log=log, progress=progress)


def lr_in_epoch(lr: float, interventions: Mapping[int, float], epoch: int) -> float:
    """The learning rate used while training epoch ``epoch`` (counted from 1) of a run that
    started at ``lr`` and was multiplied by ``factor`` after each epoch in ``interventions``
    (``{after_epoch: factor}``). Interventions compound, in any order they were written.

    >>> [round(lr_in_epoch(0.1, {8: 0.5, 12: 0.1}, e), 6) for e in (8, 9, 12, 13)]
    [0.1, 0.05, 0.05, 0.005]
    """
    check_number("lr", lr, low=0, low_open=True)
    check_number("epoch", epoch, low=1, integer=True)
    value = float(lr)
    for after, factor in interventions.items():
        check_number("interventions key", after, low=0, integer=True)
        check_number(f"interventions[{after}]", factor, low=0, low_open=True)
        if epoch > after:
            value *= factor
    return value


def epoch_lrs(history: History) -> list[float]:
    """The learning rate of each epoch of a run (that of its last step), epoch 1 first.

    Read from ``History.step_lr``, which records the rate each step really asked for."""
    n = history.steps_per_epoch
    if n < 1:
        raise ValueError(
            f"history with steps_per_epoch={n} is not allowed: it must record its steps "
            "per epoch (a History from a training run does)."
        )
    return [history.step_lr[min(len(history.step_lr), e * n) - 1] for e in history.epoch[1:]]


__all__ = ["check_intervention", "epoch_lrs", "lr_in_epoch", "train_with_intervention"]
