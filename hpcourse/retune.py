"""Why tuning intuitions go stale: the same sweep, before and after the data or code changed.

A learning rate that was best last month is a measurement of last month's data, model
and code. Change any of them and the measurement may no longer hold. The cleanest
example is a change nobody thinks of as a hyperparameter: input standardization. Drop it
in a refactor and the features of the digits go from mean 0, std 1 to raw pixel
intensities 0..16; the curvature of the loss grows with the scale of the inputs, so
the largest learning rate that trains falls by about the same factor, and yesterday's
best learning rate now blows up.

* :func:`without_standardization`: the dataset as the raw features would give it;
* :func:`lr_sweep_table`: one row per learning rate and setting, for a plot;
* :func:`retune_table`: per setting, the best learning rate and the largest one that
  still trains (final validation loss below a threshold).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.validation import check_number


def without_standardization(data: Dataset) -> Dataset:
    """A copy of ``data`` whose features are the raw values (the standardization undone),
    as a pipeline that forgot to standardize would deliver them. Same split, same labels.

    >>> from hpcourse.data import load_dataset
    >>> raw = without_standardization(load_dataset("digits", seed=0))
    >>> raw.name, round(float(raw.x_train.max()), 4), bool(raw.x_train.min() > -1e-4)
    ('digits (raw)', 16.0, True)
    """
    if data.feature_mean is None or data.feature_std is None:
        raise ValueError(f"data={data!r} is not allowed: it records no standardization to undo.")

    def raw(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(data.unstandardize(x), dtype=np.float32))

    return dataclasses.replace(
        data,
        name=f"{data.name} (raw)",
        x_train=raw(data.x_train),
        x_val=raw(data.x_val),
        x_test=raw(data.x_test),
        feature_mean=None,
        feature_std=None,
    )


def lr_sweep_table(sweeps: Mapping[str, Sequence[History]]) -> pd.DataFrame:
    """One row per run of each sweep (by setting name): lr, final validation loss (inf if
    it diverged) and whether it diverged, sorted by lr within each setting."""
    rows = [
        {
            "setting": name,
            "lr": h.config.lr,
            "val_loss": h.final_val_loss,
            "diverged": h.diverged,
        }
        for name, runs in sweeps.items()
        for h in sorted(runs, key=lambda h: h.config.lr)
    ]
    return pd.DataFrame(rows, columns=["setting", "lr", "val_loss", "diverged"])


def retune_table(sweeps: Mapping[str, Sequence[History]], max_loss: float) -> pd.DataFrame:
    """Per setting: the lr with the lowest final validation loss, whether it sits on the
    edge of the swept range, and the largest lr whose final validation loss is below
    ``max_loss`` ("still trains"; NaN if none)."""
    check_number("max_loss", max_loss, low=0, low_open=True)
    rows = []
    for name, runs in sweeps.items():
        lrs = sorted(h.config.lr for h in runs)
        best = min(runs, key=lambda h: h.final_val_loss)
        ok = [h.config.lr for h in runs if h.final_val_loss < max_loss]
        rows.append(
            {
                "setting": name,
                "best_lr": best.config.lr,
                "best_val_loss": best.final_val_loss,
                "best_on_edge": best.config.lr in (lrs[0], lrs[-1]),
                "largest_lr_that_trains": max(ok) if ok else math.nan,
            }
        )
    return pd.DataFrame(rows)


__all__ = ["lr_sweep_table", "retune_table", "without_standardization"]
