"""The map of hyperparameters: which exist, at which stage of the pipeline, in which family.

Every stage of a training pipeline has settings chosen before training: preprocessing
and augmentation, data loading, the model, the loss, the optimizer, the training length.
Two ways to sort them are taught here:

* by **family**: *model* hyperparameters (what we fit: depth, width, activation,
  dropout) versus *optimizer / training* ones (how we fit: learning rate, batch size,
  epochs, momentum, weight decay, schedule), plus fields that describe a run but are
  not tuned (seed, threads);
* by **role in one study** (the Deep Learning Tuning Playbook's vocabulary), which
  depends on the question asked: see :func:`study_roles`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config

#: The family of each :class:`~hpcourse.config.TrainConfig` field.
CONFIG_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        (
            "lr",
            "batch_size",
            "epochs",
            "optimizer",
            "momentum",
            "nesterov",
            "betas",
            "eps",
            "weight_decay",
            "schedule",
            "warmup_epochs",
            "step_epochs",
            "gamma",
            "grad_clip",
            "patience",
            "min_delta",
            "restore_best",
            "shuffle",
        ),
        "optimizer/training",
    ),
    **dict.fromkeys(("hidden", "activation", "dropout"), "model"),
    **dict.fromkeys(("seed", "threads", "diverge_factor", "tags"), "not tuned"),
}


def config_families(config: TrainConfig | dict[str, Any] | None = None) -> pd.DataFrame:
    """The config as a table: one row per field with its value (as text) and its family.

    Families: ``"optimizer/training"`` (how we fit), ``"model"`` (what we fit) and
    ``"not tuned"`` (seed, thread count, bookkeeping: they describe the run but you do
    not search over them).

    >>> config_families({"lr": 0.05}).set_index("field").loc["lr", "family"]
    'optimizer/training'
    """
    cfg = as_config(config).to_dict()
    rows = [
        {"field": k, "value": repr(v), "family": CONFIG_FAMILIES.get(k, "other")}
        for k, v in cfg.items()
    ]
    order = {"model": 0, "optimizer/training": 1, "not tuned": 2, "other": 3}
    table = pd.DataFrame(rows, columns=["field", "value", "family"])
    return table.sort_values("family", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


_OT = "optimizer/training"
_PIPELINE = [
    # stage, hyperparameter, family, typical starting value, TrainConfig field
    ("preprocessing", "feature scaling", "data", "standardize with train mean/std", ""),
    ("preprocessing", "input size (resize)", "data", "native size (8x8 digits)", ""),
    ("augmentation", "rotation degrees", "data", "0-15 for digits", ""),
    ("augmentation", "flip type", "data", "none for digits; horizontal for photos", ""),
    ("data loading", "batch size", _OT, "32-256", "batch_size"),
    ("data loading", "shuffle", _OT, "on", "shuffle"),
    ("data loading", "num_workers", "speed only", "0 for tiny in-memory data", ""),
    ("data loading", "pin_memory", "speed only", "on when training on a GPU", ""),
    ("model", "depth (hidden layers)", "model", "1-3 for an MLP", "hidden (its length)"),
    ("model", "width (units per layer)", "model", "64-512", "hidden (its values)"),
    ("model", "activation", "model", "relu", "activation"),
    ("model", "dropout", "model", "0 (0.2-0.5 if overfitting)", "dropout"),
    ("model", "kernel size (CNNs)", "model", "3x3", ""),
    ("loss", "loss function, label smoothing", _OT, "cross-entropy, 0", ""),
    ("optimizer", "optimizer", _OT, "adam, or sgd + momentum", "optimizer"),
    ("optimizer", "learning rate", _OT, "1e-3 (Adam), 0.01-0.1 (SGD)", "lr"),
    ("optimizer", "momentum", _OT, "0.9", "momentum"),
    ("optimizer", "weight decay", _OT, "0 or 1e-5-1e-4", "weight_decay"),
    ("optimizer", "lr schedule", _OT, "constant, then cosine", "schedule"),
    ("training length", "epochs", _OT, "until validation stalls", "epochs"),
    ("training length", "early-stopping patience", _OT, "5-10", "patience"),
]


def pipeline_hyperparameters() -> pd.DataFrame:
    """Every stage of the pipeline with its hyperparameters, family and a starting value.

    The ``effect`` column separates settings that change what the model learns
    (``"result"``) from those that only change how fast it gets there
    (``"speed only"``). ``config_field`` names the :class:`TrainConfig` field that holds
    it in this course, or is empty where our small trainer has no such knob.
    """
    cols = ["stage", "hyperparameter", "family", "typical start", "config_field"]
    table = pd.DataFrame(_PIPELINE, columns=cols)
    table["effect"] = np.where(table["family"] == "speed only", "speed only", "result")
    return table


__all__ = ["CONFIG_FAMILIES", "config_families", "pipeline_hyperparameters"]
