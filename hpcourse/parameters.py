"""Parameters: the numbers training learns. Count them, and see which ones training moved.

An MLP layer ``Linear(n_in, n_out)`` holds ``n_in * n_out`` weights and ``n_out`` biases;
activations and dropout hold none. Training changes these numbers thousands of times,
while the hyperparameters that describe the run (its config) stay exactly as they were:
:func:`config_diff` is how a lesson shows the second half of that sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from hpcourse.validation import check_number


def mlp_n_params(layer_sizes: Sequence[int]) -> int:
    """Number of learned numbers in an MLP with these layer sizes (inputs first, outputs last).

    Each ``Linear(n_in, n_out)`` layer holds an ``n_out x n_in`` weight matrix and one
    bias per output, so it contributes ``n_in * n_out + n_out``. The activation and
    dropout layers have no parameters at all.

    >>> mlp_n_params([64, 128, 10])  # (64*128 + 128) + (128*10 + 10)
    9610
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise ValueError(
            f"layer_sizes={layer_sizes!r} is not allowed: layer_sizes must be a list of "
            "layer widths, inputs first and outputs last, e.g. [64, 128, 10]."
        )
    if len(layer_sizes) < 2:
        raise ValueError(
            f"layer_sizes={list(layer_sizes)!r} is not allowed: layer_sizes needs at least "
            "two entries (the input size and the output size)."
        )
    for i, size in enumerate(layer_sizes):
        check_number(f"layer_sizes[{i}]", size, low=1, integer=True)
    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=False)))


def parameter_changes(
    before: Mapping[str, torch.Tensor], after: Mapping[str, torch.Tensor]
) -> pd.DataFrame:
    """Compare two parameter snapshots (from ``hpcourse.models.snapshot_parameters``).

    One row per tensor: its size, the fraction of its entries that changed at all, and
    the relative change ``||after - before|| / ||before||``. Why both: a tensor can move
    a lot overall while a few entries stay frozen (a first-layer weight that only sees a
    pixel which is blank in every image gets a zero gradient, so it never moves).
    """
    if set(before) != set(after):
        raise ValueError(
            f"after={sorted(after)!r} is not allowed: after must hold the same parameter "
            f"names as before ({sorted(before)!r})."
        )
    rows = []
    for name, b in before.items():
        a = after[name]
        if a.shape != b.shape:
            raise ValueError(
                f"after[{name!r}] has shape {tuple(a.shape)}, which is not allowed: it must "
                f"have the shape of before[{name!r}], {tuple(b.shape)}."
            )
        diff = (a - b).float()
        norm = float(b.float().norm())
        rows.append(
            {
                "name": name,
                "count": b.numel(),
                "changed_fraction": float((a != b).float().mean()),
                "relative_change": float(diff.norm()) / norm if norm > 0 else float(diff.norm()),
            }
        )
    return pd.DataFrame(rows, columns=["name", "count", "changed_fraction", "relative_change"])


def config_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between two config dicts, as ``{field: (old, new)}``.

    An empty dict means the run description did not change, which is what we expect of
    hyperparameters during training.

    >>> config_diff({"lr": 0.1, "epochs": 5}, {"lr": 0.1, "epochs": 9})
    {'epochs': (5, 9)}
    """
    keys = list(before) + [k for k in after if k not in before]
    return {
        k: (before.get(k), after.get(k))
        for k in keys
        if k not in before or k not in after or before[k] != after[k]
    }


__all__ = ["config_diff", "mlp_n_params", "parameter_changes"]
