"""Data loading: settings that change speed but not the result, shown with a real DataLoader.

``batch_size`` and ``shuffle`` change what a model learns. ``num_workers`` and
``pin_memory`` only change *how* batches are made, so with a seeded generator the final
weights are identical, bit for bit: :func:`train_with_loader` trains the same config
through ``torch.utils.data.DataLoader`` with any of them, and :func:`same_result`
compares two runs exactly.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.runs import prepare_run
from hpcourse.training import evaluate
from hpcourse.validation import check_bool, check_number


@dataclass
class LoaderRun:
    """One training run fed by a ``torch.utils.data.DataLoader``, and what it produced."""

    num_workers: int
    pin_memory: bool
    persistent_workers: bool = False
    epoch_loss: list[float] = field(default_factory=list)
    val_loss: float = math.nan
    val_acc: float = math.nan
    wall_time: float = 0.0
    final_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)


class NoisyTensorDataset(TensorDataset):
    """A ``TensorDataset`` that adds fresh Gaussian noise to each example it hands out.

    A stand-in for random augmentation: every access draws random numbers, from the
    generator of whichever process builds the batch (the main process, or a worker).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, noise_std: float) -> None:
        super().__init__(x, y)
        self.noise_std = noise_std

    def __getitem__(self, index: Any) -> tuple[torch.Tensor, ...]:
        x, y = super().__getitem__(index)
        return x + self.noise_std * torch.randn_like(x), y


def train_with_loader(
    config: TrainConfig | dict[str, Any] | None,
    data: Dataset,
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    persistent_workers: bool = False,
    noise_std: float = 0.0,
) -> LoaderRun:
    """Train the config's MLP with minibatches from a DataLoader; return losses and weights.

    The set-up is :func:`hpcourse.runs.prepare_run`'s, as for :func:`hpcourse.train`: the
    same initial weights, and the batch order drawn from the run's generator (seeded with
    ``config.seed``) handed to the DataLoader, so it does not depend on how many worker
    processes build the batches. ``num_workers`` and ``pin_memory`` then decide only *how*
    batches are made (in the main process or in worker processes; in ordinary or
    page-locked memory), never *which* examples they hold, so the final weights are
    identical, bit for bit.

    Two caveats, both about random draws rather than speed:

    * this holds because the dataset draws no random numbers. With ``noise_std > 0`` each
      example gets fresh random noise (a stand-in for random augmentation); worker ``i``
      draws it from its own generator, seeded with a base seed plus ``i``, so the result
      then depends on ``num_workers``;
    * ``persistent_workers=True`` (keep the workers alive between epochs) makes the
      DataLoader draw its worker seed from the generator once per run instead of once
      per epoch, so from epoch 2 on the shuffle order differs (torch 2.x). The run is
      just as good, but not the same numbers.

    Workers need a picklable dataset; a ``TensorDataset`` is. ``pin_memory`` does nothing
    without a GPU (torch warns about it; we silence that warning here).
    """
    config = as_config(config)
    check_number("num_workers", num_workers, low=0, high=16, integer=True)
    check_bool("pin_memory", pin_memory)
    check_bool("persistent_workers", persistent_workers)
    check_number("noise_std", noise_std, low=0)
    if persistent_workers and num_workers == 0:
        raise ValueError(
            "persistent_workers=True is not allowed with num_workers=0: there are no worker "
            "processes to keep alive; use num_workers >= 1."
        )

    result = LoaderRun(num_workers, pin_memory, persistent_workers)
    with prepare_run(config, data) as run:
        model, optimizer = run.model, run.optimizer
        dataset = (
            NoisyTensorDataset(data.x_train, data.y_train, noise_std)
            if noise_std > 0
            else TensorDataset(data.x_train, data.y_train)
        )
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size,
            shuffle=config.shuffle,
            num_workers=num_workers,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers,
            generator=run.generator,
        )
        start = time.perf_counter()
        model.train()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pin_memory.*", category=UserWarning)
            for _ in range(config.epochs):
                total, count = 0.0, 0
                for xb, yb in loader:
                    loss = F.cross_entropy(model(xb), yb)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(yb)
                    count += len(yb)
                result.epoch_loss.append(total / count)
        result.wall_time = time.perf_counter() - start
        result.val_loss, result.val_acc = evaluate(model, data.x_val, data.y_val)
        result.final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return result


def same_result(a: LoaderRun, b: LoaderRun) -> bool:
    """True when two runs ended with exactly equal weights and per-epoch losses."""
    if a.epoch_loss != b.epoch_loss or set(a.final_state) != set(b.final_state):
        return False
    return all(torch.equal(a.final_state[k], b.final_state[k]) for k in a.final_state)


def loader_table(runs: Sequence[LoaderRun]) -> pd.DataFrame:
    """One row per run: the loader settings, final numbers, wall time, and whether the
    weights are bit-identical to those of the first run."""
    if not runs:
        raise ValueError("runs=[] is not allowed: give at least one LoaderRun.")
    first = runs[0]
    return pd.DataFrame(
        [
            {
                "num_workers": r.num_workers,
                "pin_memory": r.pin_memory,
                "persistent_workers": r.persistent_workers,
                "final_train_loss": r.epoch_loss[-1] if r.epoch_loss else math.nan,
                "val_acc": r.val_acc,
                "wall_time_s": r.wall_time,
                "identical_to_first": same_result(first, r),
            }
            for r in runs
        ]
    )


__all__ = [
    "LoaderRun",
    "NoisyTensorDataset",
    "loader_table",
    "same_result",
    "train_with_loader",
]
