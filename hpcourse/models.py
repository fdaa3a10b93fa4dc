"""Small models whose size is set by hyperparameters, and tools to count their parameters.

The model hyperparameters (depth and width via ``hidden``, ``activation``, ``dropout``)
are chosen before training and never change; the parameters (weights and biases)
are what training learns.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from hpcourse.config import check_model_hyperparameters
from hpcourse.validation import check_number

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
}


class MLP(nn.Sequential):
    """A multilayer perceptron: ``Linear -> activation -> Dropout`` per hidden layer.

    ``hidden=[]`` gives plain multinomial logistic regression (one linear layer),
    which is handy as the "too small" model when demonstrating underfitting.
    ``output_scale`` multiplies the last layer's output (1 in the standard
    parameterization; ``base / width`` under muP, see :func:`hpcourse.runs.build_model`).

    >>> model = MLP(64, [128], 10)
    >>> sum(p.numel() for p in model.parameters())  # (64*128 + 128) + (128*10 + 10)
    9610
    """

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int],
        n_outputs: int,
        activation: str = "relu",
        dropout: float = 0.0,
        output_scale: float = 1.0,
    ) -> None:
        check_number("n_inputs", n_inputs, low=1, integer=True)
        check_number("output_scale", output_scale, low=0, low_open=True)
        check_number("n_outputs", n_outputs, low=1, integer=True)
        check_model_hyperparameters(hidden, activation, dropout)
        layers: list[nn.Module] = []
        width = n_inputs
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_outputs))
        super().__init__(*layers)
        self.output_scale = float(output_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out * self.output_scale if self.output_scale != 1.0 else out


def count_parameters(model: nn.Module) -> pd.DataFrame:
    """One row per parameter tensor: its name, shape, count and whether it is trainable.

    >>> count_parameters(MLP(64, [128], 10))["count"].tolist()
    [8192, 128, 1280, 10]
    """
    rows = [
        {
            "name": name,
            "shape": tuple(p.shape),
            "count": p.numel(),
            "trainable": p.requires_grad,
        }
        for name, p in model.named_parameters()
    ]
    return pd.DataFrame(rows, columns=["name", "shape", "count", "trainable"])


def snapshot_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of every parameter, to compare before and after training."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}
