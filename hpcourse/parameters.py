"""Parameters: the numbers training learns. Count them, and see which ones training moved.

An MLP layer ``Linear(n_in, n_out)`` holds ``n_in * n_out`` weights and ``n_out`` biases;
activations and dropout hold none. Training changes these numbers thousands of times,
while the hyperparameters that describe the run (its config) stay exactly as they were:
:func:`config_diff` is how a lesson shows the second half of that sentence.
"""

from __future__ import annotations

import math
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


def width_growth(
    n_inputs: int, n_outputs: int, width: int, depths: Sequence[int] = (1, 2, 3)
) -> pd.DataFrame:
    """What doubling the width does to the parameter count, for MLPs of several depths.

    One row per depth: the count at ``width`` and at ``2 * width``, each from the formula
    (:func:`mlp_n_params`) and from the model hpcourse builds (``hpcourse.MLP``), and the
    ratio of the two built counts. Why the ratio depends on depth: a matrix between two
    hidden layers holds width x width numbers, which doubling the width multiplies by 4,
    while the first and last matrices only double.

    >>> width_growth(64, 10, 128, depths=[1])["ratio"].round(2).tolist()
    [2.0]
    """
    from hpcourse.models import MLP, count_parameters

    check_number("n_inputs", n_inputs, low=1, integer=True)
    check_number("n_outputs", n_outputs, low=1, integer=True)
    check_number("width", width, low=1, integer=True)
    rows = []
    for i, depth in enumerate(depths):
        check_number(f"depths[{i}]", depth, low=1, high=10, integer=True)
        counts = {}
        for suffix, w in (("", width), (" x2", 2 * width)):
            hidden = [w] * depth
            counts["formula" + suffix] = mlp_n_params([n_inputs, *hidden, n_outputs])
            model = MLP(n_inputs, hidden, n_outputs)
            counts["pytorch" + suffix] = int(count_parameters(model)["count"].sum())
        rows.append(
            {
                "depth": depth,
                "hidden": [width] * depth,
                **counts,
                "ratio": counts["pytorch x2"] / counts["pytorch"],
            }
        )
    return pd.DataFrame(rows)


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


def loss_gradients(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The gradient of the mean cross-entropy loss on ``(x, y)`` for every parameter.

    For each number the model holds, its gradient says how fast the loss grows when
    that number is nudged up: the sign says which way is downhill, the size how steep
    it is. The model itself is left as it was (no gradient is stored on it).
    """
    import torch.nn.functional as F

    params = dict(model.named_parameters())
    was_training = model.training
    model.eval()  # no dropout: the gradient of the model as it is
    try:
        loss = F.cross_entropy(model(x), y)
        grads = torch.autograd.grad(loss, list(params.values()))
    finally:
        model.train(was_training)
    return {name: g.detach().clone() for name, g in zip(params, grads, strict=True)}


def step_table(
    before: Mapping[str, torch.Tensor],
    after: Mapping[str, torch.Tensor],
    gradients: Mapping[str, torch.Tensor],
) -> pd.DataFrame:
    """How one optimizer step moved each parameter tensor, compared with its gradient.

    Plain gradient descent moves every number by ``-lr * gradient``. So for each tensor
    this reports ``step_over_gradient`` = ``||before - after|| / ||gradient||`` (the
    learning rate the step actually used, whatever the config claimed) and
    ``direction``, the cosine between the move and ``-gradient`` (1.0: straight
    downhill). A tensor whose gradient is zero everywhere reports NaN for both.

    >>> import torch
    >>> w = {"w": torch.tensor([1.0, 2.0])}
    >>> g = {"w": torch.tensor([0.5, -1.0])}
    >>> step_table(w, {"w": w["w"] - 0.1 * g["w"]}, g)["step_over_gradient"].round(6).tolist()
    [0.1]
    """
    for name, other in (("after", after), ("gradients", gradients)):
        if set(other) != set(before):
            raise ValueError(
                f"{name}={sorted(other)!r} is not allowed: {name} must hold the same "
                f"parameter names as before ({sorted(before)!r})."
            )
    rows = []
    for key, b in before.items():
        move, g = (b - after[key]).double().flatten(), gradients[key].double().flatten()
        g_norm = float(g.norm())
        rows.append(
            {
                "name": key,
                "gradient_norm": g_norm,
                "step_norm": float(move.norm()),
                "step_over_gradient": float(move.norm()) / g_norm if g_norm > 0 else math.nan,
                "direction": float(move @ g) / (float(move.norm()) * g_norm)
                if g_norm > 0 and float(move.norm()) > 0
                else math.nan,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "config_diff",
    "loss_gradients",
    "mlp_n_params",
    "parameter_changes",
    "step_table",
    "width_growth",
]
