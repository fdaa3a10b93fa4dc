"""Learning-rate schedules side by side on one budget, and the two stability knobs: warmup
and gradient clipping.

Comparing schedules is only fair when every run gets the same number of epochs and the
same peak learning rate; then the one thing that differs is the *shape* of the lr over
time. :func:`schedule_presets` gives each schedule of :mod:`hpcourse.schedules` settings
scaled to the budget (step decay at 40% and 80% of it, the exponential decay that loses as
much by the end, warmup-stable-decay with its last fifth decaying, ...), and
:func:`schedule_table` sums each run up, with the *lr area* (the sum of the lr over all
steps, relative to a constant lr: how far the schedule lets the weights travel).

Two measurements of stability:

* :func:`early_spike`: the highest training loss of the first steps relative to the first
  step's. At a learning rate too high for the random initial weights, the loss jumps
  *above* where it started within a few steps; warmup starts small and removes the jump.
* :func:`clip_table`: for a sweep of gradient-clipping thresholds, whether each run
  survived, its final loss, and how often clipping acted. A threshold far above the usual
  gradient norm never acts; one far below it acts on every step and turns SGD into
  normalized gradient descent with step ``lr * threshold``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.validation import check_number


def schedule_presets(epochs: int) -> dict[str, dict[str, Any]]:
    """Config changes for each schedule, scaled to ``epochs`` (same peak lr for all).

    ``step`` multiplies the lr by 0.3 at 40% and 80% of training; ``exponential`` decays
    smoothly by the same factor 0.3 per 40%, ``cosine`` glides to zero, ``warmup + cosine``
    adds a warmup of a tenth of the budget (at least one epoch), ``wsd`` warms up the same
    way, holds, and decays linearly to zero over the last fifth, ``1cycle`` rises over the
    first 30% and anneals to almost zero.

    >>> schedule_presets(10)["step"]
    {'schedule': 'step', 'step_epochs': 4, 'gamma': 0.3}
    """
    check_number("epochs", epochs, low=5, integer=True)
    step_epochs = max(1, round(0.4 * epochs))
    warmup = max(1, epochs // 10)
    return {
        "constant": {},
        "step": {"schedule": "step", "step_epochs": step_epochs, "gamma": 0.3},
        "exponential": {"schedule": "exponential", "step_epochs": step_epochs, "gamma": 0.3},
        "cosine": {"schedule": "cosine"},
        "warmup + cosine": {"schedule": "cosine", "warmup_epochs": warmup},
        "wsd": {
            "schedule": "wsd",
            "warmup_epochs": warmup,
            "decay_epochs": max(1, round(0.2 * epochs)),
        },
        "1cycle": {"schedule": "onecycle"},
    }


def lr_area(step_lrs: Sequence[float], base_lr: float) -> float:
    """Sum of the learning rate over the steps, relative to a constant ``base_lr``: 1 for a
    constant schedule, 0.5 for cosine, less for schedules that decay early.

    >>> lr_area([1.0, 0.5, 0.0, 0.5], 1.0)
    0.5
    """
    check_number("base_lr", base_lr, low=0, low_open=True)
    if len(step_lrs) == 0:
        raise ValueError("step_lrs=[] is not allowed: give the lr of at least one step.")
    return float(np.sum(step_lrs) / (base_lr * len(step_lrs)))


def schedule_table(runs: Mapping[str, Any]) -> pd.DataFrame:
    """One row per named run: final training and validation loss, the lowest validation
    loss of any epoch, the lr of the last step and the lr area. A diverged run's losses
    are ``inf``."""
    rows = []
    for name, h in runs.items():
        rows.append(
            {
                "schedule": name,
                "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
                "final_val_loss": h.final_val_loss,
                "best_val_loss": h.best_val_loss,
                "last_lr": h.step_lr[-1] if h.step_lr else math.nan,
                "lr_area": lr_area(h.step_lr, h.config.lr) if h.step_lr else math.nan,
            }
        )
    return pd.DataFrame(rows).set_index("schedule")


def early_spike(history: Any, steps: int) -> float:
    """The highest training loss over steps 2 to ``steps`` divided by the first step's loss
    (the untrained model's). Above 1: the loss jumped above where it started. A run that
    diverged within these steps gives ``inf``.

    >>> from types import SimpleNamespace
    >>> early_spike(SimpleNamespace(step_loss=[2.0, 3.0, 1.0], diverged=False), 3)
    1.5
    """
    check_number("steps", steps, low=2, integer=True)
    losses = np.asarray(history.step_loss[:steps], dtype=float)
    if len(losses) < steps:
        if history.diverged:
            return math.inf
        raise ValueError(f"steps={steps!r} is not allowed: the run has only {len(losses)} steps.")
    if not np.all(np.isfinite(losses)):
        return math.inf
    return float(losses[1:].max() / losses[0])


def clip_table(runs: Sequence[Any]) -> pd.DataFrame:
    """One row per run of a clipping sweep: ``grad_clip`` (None = off), ``diverged``, the
    final training loss, the median gradient norm before clipping, and ``clipped``: the
    share of steps whose norm exceeded the threshold (so clipping acted)."""
    rows = []
    for h in runs:
        threshold = h.config.grad_clip
        norms = np.asarray(h.step_grad_norm, dtype=float)
        rows.append(
            {
                "grad_clip": threshold,
                "diverged": h.diverged,
                "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
                "median_grad_norm": float(np.median(norms)) if len(norms) else math.nan,
                "clipped": float((norms > threshold).mean())
                if threshold is not None and len(norms)
                else 0.0,
            }
        )
    return pd.DataFrame(rows)


def sweep_configs(base: Any, lrs: Sequence[float], epochs: int) -> list[Any]:
    """Every schedule of :func:`schedule_presets` at every peak lr, as configs on the same
    budget (``epochs``); ``tags["schedule"]`` holds the schedule's name."""
    from hpcourse.config import as_config

    base = as_config(base).replace(epochs=epochs)
    return [
        base.replace(lr=float(lr), **changes, tags={"schedule": name})
        for name, changes in schedule_presets(epochs).items()
        for lr in lrs
    ]


def sweep_table(histories: Sequence[Any]) -> pd.DataFrame:
    """One row per run of :func:`sweep_configs`: schedule, peak lr, final training and
    validation loss (``inf`` if diverged) and the lr area."""
    rows = []
    for h in histories:
        if "schedule" not in h.config.tags:
            raise ValueError(
                "histories is not allowed without tags['schedule']: build them with sweep_configs."
            )
        rows.append(
            {
                "schedule": h.config.tags["schedule"],
                "lr": h.config.lr,
                "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
                "final_val_loss": h.final_val_loss,
                "lr_area": lr_area(h.step_lr, h.config.lr) if h.step_lr else math.nan,
            }
        )
    return pd.DataFrame(rows)


def best_per_schedule(table: pd.DataFrame, metric: str = "final_train_loss") -> pd.DataFrame:
    """Per schedule (in the order of the table): the peak lr with the lowest ``metric`` and
    that value, and the schedule's ``metric`` at each peak lr tried."""
    order = list(dict.fromkeys(table["schedule"]))
    wide = table.pivot(index="schedule", columns="lr", values=metric).loc[order]
    out = pd.DataFrame({"best_lr": wide.idxmin(axis=1), "best": wide.min(axis=1)})
    return out.join(wide)


def torch_schedule_lrs(config: Any, steps_per_epoch: int) -> list[float] | None:
    """The lr of every step of ``config``'s run as torch's own schedulers compute it
    (stepped once per step), or None for ``wsd``, which torch has no scheduler for.

    constant: ``ConstantLR(factor=1)``; step: ``StepLR``; exponential: ``ExponentialLR``
    with ``gamma ** (1 / step_size)``; cosine: ``CosineAnnealingLR``; a warmup goes first
    as ``LinearLR`` from ``1 / warmup_steps`` inside ``SequentialLR``; onecycle:
    ``OneCycleLR`` with its defaults and the momentum cycle off. Why: training runs record
    the lr they used (``History.step_lr``); comparing it with torch's schedulers checks the
    schedule that really ran against an independent implementation.
    """
    import torch
    from torch.optim import lr_scheduler as ls

    from hpcourse.config import as_config

    config = as_config(config)
    check_number("steps_per_epoch", steps_per_epoch, low=1, integer=True)
    if config.schedule == "wsd":
        return None
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_epochs * steps_per_epoch
    size = config.step_epochs * steps_per_epoch
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    if config.schedule == "onecycle":
        sched: Any = ls.OneCycleLR(opt, max_lr=config.lr, total_steps=total, cycle_momentum=False)
    else:
        decay: Any = {
            "constant": lambda: ls.ConstantLR(opt, factor=1.0, total_iters=0),
            "step": lambda: ls.StepLR(opt, step_size=size, gamma=config.gamma),
            "exponential": lambda: ls.ExponentialLR(opt, gamma=config.gamma ** (1 / size)),
            "cosine": lambda: ls.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=0.0),
        }[config.schedule]
        if warmup >= 2:
            ramp = ls.LinearLR(opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
            sched = ls.SequentialLR(opt, [ramp, decay()], milestones=[warmup])
        else:
            sched = decay()
    lrs = []
    for step in range(total):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if step < total - 1:  # OneCycleLR refuses a step past total_steps
            sched.step()
    return lrs


def torch_mismatch(history: Any) -> float | None:
    """The largest relative difference between the lrs a run recorded and torch's
    schedulers' (:func:`torch_schedule_lrs`); None for ``wsd``."""
    theirs = torch_schedule_lrs(history.config, history.steps_per_epoch)
    if theirs is None:
        return None
    ours = np.asarray(history.step_lr, dtype=float)
    if len(ours) != len(theirs):
        return math.inf
    return float(
        np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12 * history.config.lr))
    )


__all__ = [
    "best_per_schedule",
    "clip_table",
    "early_spike",
    "lr_area",
    "schedule_presets",
    "schedule_table",
    "sweep_configs",
    "sweep_table",
    "torch_mismatch",
    "torch_schedule_lrs",
]
