"""Gradient accumulation: the gradient of a large batch, computed a few examples at a time.

When the batch you want does not fit in memory, split it: run ``k`` micro-batches of
``b`` examples through forward and backward, let their gradients add up in ``.grad``
(PyTorch adds on every ``backward()`` until you zero the gradients), and take *one*
optimizer step. If each micro-batch's mean loss is weighted by its share of the
examples, the sum is exactly the mean-loss gradient of the ``k * b`` examples together:
the gradient is linear in the loss. So the run follows the same path as training
with batch ``k * b``, up to float rounding.

What accumulation does *not* give is the speed of a large batch. It still runs ``k``
small forward and backward passes per step, one after another, so an epoch costs about
what an epoch at batch ``b`` costs. It buys memory (only ``b`` examples' activations at a
time), never throughput.

:func:`train_accumulated` is the course's small accumulation trainer. The loader slices
*micro*-batches (``config.batch_size``), as a ``DataLoader`` with the micro-batch size
would; every ``accumulation_steps`` of them make one optimizer step. Set-up (seed, model,
optimizer, lr per step, batches) comes from :mod:`hpcourse.runs`, like every engine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch.nn.functional as F

from hpcourse import ledger
from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.rules import BestEpoch, step_diverged
from hpcourse.runs import is_scheduled, lr_at, prepare_run
from hpcourse.training import record_epoch
from hpcourse.validation import check_number


def accumulated_steps_per_epoch(n_examples: int, micro_batch: int, accumulation_steps: int) -> int:
    """Optimizer steps in one epoch with accumulation: micro-batches, grouped ``k`` at a time.

    >>> accumulated_steps_per_epoch(3200, 32, 4), accumulated_steps_per_epoch(100, 32, 2)
    (25, 2)
    """
    check_number("n_examples", n_examples, low=1, integer=True)
    check_number("micro_batch", micro_batch, low=1, high=n_examples, integer=True)
    check_number("accumulation_steps", accumulation_steps, low=1, integer=True)
    return math.ceil(math.ceil(n_examples / micro_batch) / accumulation_steps)


def train_accumulated(
    config: TrainConfig | dict[str, Any], data: Dataset, accumulation_steps: int
) -> History:
    """Train with gradient accumulation; ``config.batch_size`` is the *micro*-batch.

    Each optimizer step adds up the gradients of ``accumulation_steps`` micro-batches
    (each weighted by its share of the step's examples), steps once, and zeroes the
    gradients. The History records one ``step_loss`` per optimizer step (the mean loss
    over the step's examples) and ``steps_per_epoch`` counts optimizer steps; the
    accumulation factor is in ``config.tags["accumulation_steps"]``.

    Plain training loop: no early stopping, best-weight restoring or gradient clipping
    (a config asking for them is refused). Gradients go through autograd, so compare
    its *speed* with another run of this function (``accumulation_steps=1``), not with
    :func:`hpcourse.train`, which uses a faster hand-written backward pass for MLPs.

    >>> from hpcourse.data import load_dataset
    >>> h = train_accumulated({"batch_size": 16, "epochs": 1}, load_dataset("digits"), 4)
    >>> h.steps_per_epoch, len(h.step_loss), h.config.tags["accumulation_steps"]
    (18, 18, 4)
    """
    config = as_config(config)
    check_number("accumulation_steps", accumulation_steps, low=1, integer=True)
    for name, value in (("patience", config.patience), ("grad_clip", config.grad_clip)):
        if value is not None:
            raise ValueError(
                f"{name}={value!r} is not allowed here: train_accumulated has no {name} "
                f"({name} must be None)."
            )
    if config.restore_best:
        raise ValueError("restore_best=True is not allowed here: restore_best must be False.")
    config = config.replace(tags={**config.tags, "accumulation_steps": int(accumulation_steps)})
    with prepare_run(config, data) as run:
        return _train_accumulated(run.config, run, data, int(accumulation_steps))


def _train_accumulated(config: TrainConfig, run: Any, data: Dataset, k: int) -> History:
    model, optimizer = run.model, run.optimizer
    group = optimizer.param_groups[0]
    steps_per_epoch = accumulated_steps_per_epoch(len(data.y_train), config.batch_size, k)
    h = History(config=config, steps_per_epoch=steps_per_epoch, dataset=data.name)
    h.n_params = sum(p.numel() for p in model.parameters())
    record_epoch(h, model, data, 0, 0.0)
    best = BestEpoch(h.val_loss[0])
    first_loss: float | None = None
    start = time.perf_counter()
    step = 0
    model.train()
    optimizer.zero_grad(set_to_none=True)
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        micro = list(run.batches(data.x_train, data.y_train))
        for i in range(0, len(micro), k):
            chunk = micro[i : i + k]
            total = sum(len(yb) for _, yb in chunk)
            value = 0.0
            for xb, yb in chunk:  # gradients add up in .grad until the step
                loss = F.cross_entropy(model(xb), yb) * (len(yb) / total)
                loss.backward()
                value += loss.item()
            if is_scheduled(config):
                group["lr"] = lr_at(config, step, steps_per_epoch)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            h.step_loss.append(value)
            h.step_lr.append(group["lr"])
            step += 1
            first_loss = value if first_loss is None else first_loss
            if step_diverged(value, first_loss, config.diverge_factor):
                h.diverged = True
                break
        if h.diverged:
            break
        record_epoch(h, model, data, epoch, time.perf_counter() - t0)
        best.update(epoch, h.val_loss[-1])
        h.best_epoch = best.epoch
    h.wall_time = time.perf_counter() - start
    ledger.record(len(h.step_loss), h.steps_per_epoch)
    h.model = model
    return h


def accumulation_table(runs: Mapping[str, History]) -> pd.DataFrame:
    """One row per named run: how its steps were made, how long an epoch took, the result.

    Columns: ``run`` (the name), ``micro_batch`` (examples per forward/backward pass),
    ``accumulation_steps``, ``examples_per_step``, ``steps_per_epoch`` (counted from the
    run's step record), ``sec_per_epoch`` (the fastest epoch: on a shared machine, the
    one other programs disturbed least), ``final_val_loss``. Works for
    :func:`hpcourse.train` runs too (one pass per step).
    """
    rows = []
    for name, h in runs.items():
        k = int(h.config.tags.get("accumulation_steps", 1))
        epochs = max(h.epochs_run, 1)
        rows.append(
            {
                "run": name,
                "micro_batch": h.config.batch_size,
                "accumulation_steps": k,
                "examples_per_step": h.config.batch_size * k,
                "steps_per_epoch": len(h.step_loss) / epochs,
                "sec_per_epoch": float(np.min(h.epoch_time[1:])) if h.epochs_run else np.nan,
                "final_val_loss": h.final_val_loss,
            }
        )
    if not rows:
        raise ValueError("runs={} is not allowed: give at least one named run.")
    return pd.DataFrame(rows)


__all__ = ["accumulated_steps_per_epoch", "accumulation_table", "train_accumulated"]
