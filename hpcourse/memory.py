"""Memory per training step: what grows with the batch size, and what does not.

A step keeps the parameters, their gradients and the optimizer's state (independent of
the batch), plus the activations saved for the backward pass, which grow linearly with
the batch. :func:`memory_per_step` counts them from the layer sizes;
:func:`saved_activation_bytes` measures what autograd really saves, to check the count, and
:func:`step_activation_bytes` does so on the batches the trainer really slices.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from hpcourse.config import OPTIMIZERS
from hpcourse.gradient_noise import _check_batch_sizes, trainer_batch_indices
from hpcourse.validation import check_choice, check_number

_STATE_PER_PARAM = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def memory_per_step(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    batch_sizes: Sequence[int],
    *,
    optimizer: str = "sgd",
    bytes_per_float: int = 4,
) -> pd.DataFrame:
    """Bytes one training step of a ReLU MLP keeps in memory, split by what grows with ``B``.

    * ``parameters``, ``gradients``: one float per parameter each; independent of ``B``.
    * ``optimizer_state``: 0 floats per parameter for SGD, 1 for momentum, 2 for Adam.
    * ``activations``: what the forward pass saves for backward, per example: the
      input, each hidden layer's ReLU output and the log-probabilities of the loss
      (``n_inputs + sum(hidden) + n_outputs`` floats), plus the int64 label. This is
      the only part that grows with ``B``, linearly: there is nothing special about a
      power of two here.

    >>> memory_per_step(40, [128], 10, [1, 100])["activations"].tolist()  # 4*(178)+8 per ex.
    [720, 72000]
    """
    check_number("n_inputs", n_inputs, low=1, integer=True)
    check_number("n_outputs", n_outputs, low=1, integer=True)
    for i, w in enumerate(hidden):
        check_number(f"hidden[{i}]", w, low=1, integer=True)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_number("bytes_per_float", bytes_per_float, low=1, integer=True)
    sizes = [n_inputs, *hidden, n_outputs]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    per_example = bytes_per_float * sum(sizes) + 8  # + the int64 label
    rows = []
    for b in _check_batch_sizes(batch_sizes, 2**40):
        row = {
            "batch_size": b,
            "parameters": n_params * bytes_per_float,
            "gradients": n_params * bytes_per_float,
            "optimizer_state": _STATE_PER_PARAM[optimizer] * n_params * bytes_per_float,
            "activations": per_example * b,
        }
        row["total"] = sum(v for k, v in row.items() if k != "batch_size")
        rows.append(row)
    return pd.DataFrame(rows)


def saved_activation_bytes(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Measure what autograd actually stores for backward in one forward pass (bytes).

    Hooks into ``torch.autograd.graph.saved_tensors_hooks`` and adds up the size of every
    distinct saved tensor, leaving out the model's own parameters (they exist anyway).
    Compare with the ``activations`` column of :func:`memory_per_step`.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model={model!r} is not allowed: model must be a torch nn.Module.")
    param_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        # Count the tensor itself, not its whole storage: x[:B] is a view into the dataset.
        # The same tensor saved twice (ReLU's output is also the next layer's input) counts once.
        if t.untyped_storage().data_ptr() not in param_storages:
            seen[(t.data_ptr(), t.numel())] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(model(x), y)
    return int(sum(seen.values()))


def step_activation_bytes(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_sizes: Sequence[int],
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """What autograd saves for one training step at each batch size, measured.

    For each ``B``, the minibatch is the first one the trainer would slice for an epoch
    (:func:`hpcourse.gradient_noise.trainer_batch_indices`), so the measurement is of a
    real training step's batch, not of ``x[:B]``. Columns: ``batch_size`` (asked),
    ``examples`` (in the batch measured), ``saved_bytes``.
    """
    sizes = _check_batch_sizes(batch_sizes, len(y))
    rows = []
    for b in sizes:
        idx = trainer_batch_indices(len(y), b, 1, seed=seed)[0]
        saved = saved_activation_bytes(model, x[idx], y[idx])
        rows.append({"batch_size": b, "examples": len(idx), "saved_bytes": saved})
    return pd.DataFrame(rows)


__all__ = ["memory_per_step", "saved_activation_bytes", "step_activation_bytes"]
