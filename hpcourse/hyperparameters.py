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

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.validation import check_choice

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
            "decay_epochs",
            "grad_clip",
            "patience",
            "min_delta",
            "restore_best",
            "shuffle",
        ),
        "optimizer/training",
    ),
    **dict.fromkeys(("hidden", "activation", "dropout", "mup_base_width"), "model"),
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


ROLES = ("scientific", "nuisance", "fixed")

#: Nuisance hyperparameters when a study does not name its own: the learning rate almost
#: always interacts with whatever is being compared, and weight decay often does.
DEFAULT_NUISANCE = ("lr", "weight_decay")

_ROLE_MEANING = {
    "scientific": "vary it: the question is about its effect",
    "nuisance": "re-tune it for every value of the scientific ones, so each gets its best shot",
    "fixed": "hold it at this value; the answer is only known for this value",
}


def study_roles(
    scientific: Sequence[str],
    nuisance: Sequence[str] | None = None,
    config: TrainConfig | dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The role each hyperparameter plays in one study (the Deep Learning Tuning Playbook's
    split, Godbole et al., 2023).

    A study answers one question, e.g. "does a second hidden layer help?". Relative to
    that question every hyperparameter is

    * **scientific**: the one(s) whose effect you measure (here ``hidden``);
    * **nuisance**: ones that must be re-tuned for each value of the scientific ones,
      because the best value moves with them (the best learning rate for one layer is not
      the best for two); comparing at one shared value would be unfair to one side;
    * **fixed**: held constant; cheap, but the answer then holds only at those values.

    The same hyperparameter changes role with the question: the learning rate is a
    nuisance in a study of depth and the scientific one in a study of learning rates.
    ``nuisance`` defaults to :data:`DEFAULT_NUISANCE` minus the scientific ones. Fields
    that are not tuned at all (seed, threads) are left out. Returns one row per field:
    its value in ``config``, family, role and what the role asks of you.

    >>> roles = study_roles(["hidden"]).set_index("field")["role"]
    >>> roles["hidden"], roles["lr"], roles["batch_size"]
    ('scientific', 'nuisance', 'fixed')
    """
    fields = [f for f, family in CONFIG_FAMILIES.items() if family != "not tuned"]
    chosen = {}
    for arg, names in (("scientific", scientific), ("nuisance", nuisance)):
        if names is None:
            continue
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise ValueError(
                f"{arg}={names!r} is not allowed: {arg} must be a list of config fields, "
                "e.g. ['hidden']."
            )
        for i, name in enumerate(names):
            check_choice(f"{arg}[{i}]", name, fields)
        chosen[arg] = list(names)
    if not chosen.get("scientific"):
        raise ValueError(
            f"scientific={scientific!r} is not allowed: name at least one field, the one "
            "the study's question is about."
        )
    sci = chosen["scientific"]
    nui = chosen.get("nuisance", [n for n in DEFAULT_NUISANCE if n not in sci])
    both = sorted(set(sci) & set(nui))
    if both:
        raise ValueError(
            f"nuisance={nui!r} is not allowed: {both} cannot be scientific and nuisance at once."
        )
    table = config_families(config)
    table = table[table["family"] != "not tuned"].reset_index(drop=True)
    table["role"] = [
        "scientific" if f in sci else "nuisance" if f in nui else "fixed" for f in table["field"]
    ]
    table["what to do"] = table["role"].map(_ROLE_MEANING)
    order = {role: i for i, role in enumerate(ROLES)}
    return table.sort_values("role", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


__all__ = [
    "CONFIG_FAMILIES",
    "DEFAULT_NUISANCE",
    "ROLES",
    "config_families",
    "pipeline_hyperparameters",
    "study_roles",
]
