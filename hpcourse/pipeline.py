"""The training pipeline, stage by stage: what is learned and what is set beforehand.

A model's *parameters* (weights and biases) are learned by training. Everything else
is a *hyperparameter*, chosen before training and fixed during it, and every stage of
the pipeline has some: preprocessing and augmentation, data loading, the model, the
loss, the optimizer and the training length. A few settings look like hyperparameters
but only change speed (DataLoader workers, pinned memory): this module shows that with
a real run.

What is here:

* counting parameters: :func:`mlp_n_params` (the formula), :func:`parameter_changes`
  (what training moved), :func:`config_diff` (what it did not);
* the map of hyperparameters: :func:`pipeline_hyperparameters`, :func:`config_families`;
* augmentation with torchvision's transforms v2: :func:`make_augmentation`,
  :func:`digit_images`, :func:`augmentation_grid`;
* the DataLoader demo: :func:`train_with_loader`, :func:`loader_table`,
  :func:`same_result`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.training import build_model, check_dataset, evaluate, make_optimizer, torch_threads
from hpcourse.validation import check_choice, check_number

# --------------------------------------------------------------------------------------
# Parameters: count them, and see which ones training changed
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# The map: which hyperparameters exist, at which stage, in which family
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Augmentation: random, label-preserving changes to the training images
# --------------------------------------------------------------------------------------

FLIPS = ("none", "horizontal", "vertical")


def make_augmentation(rotation_degrees: float = 0.0, flip: str = "none") -> Any:
    """A torchvision ``transforms.v2`` pipeline: random rotation, then an optional random flip.

    ``rotation_degrees=15`` rotates each image by an angle drawn uniformly from
    [-15, 15]. ``flip`` is ``"none"``, ``"horizontal"`` or ``"vertical"`` (each applied
    with probability 0.5). Both are hyperparameters of the data stage, and they must keep
    the label true: a mirrored "2" is no longer a 2, so flips suit photos of cats, not digits.

    >>> t = make_augmentation(rotation_degrees=10, flip="horizontal")
    >>> [type(s).__name__ for s in t.transforms]
    ['RandomRotation', 'RandomHorizontalFlip']
    """
    from torchvision.transforms import v2

    check_number("rotation_degrees", rotation_degrees, low=0, high=180)
    check_choice("flip", flip, FLIPS)
    steps: list[Any] = [
        v2.RandomRotation(float(rotation_degrees), interpolation=v2.InterpolationMode.BILINEAR)
    ]
    if flip == "horizontal":
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    elif flip == "vertical":
        steps.append(v2.RandomVerticalFlip(p=0.5))
    return v2.Compose(steps)


def digit_images(n: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` raw digit images, shape ``(n, 1, 8, 8)``, scaled to [0, 1], with their labels.

    Raw, not standardized: augmentation acts on pictures, before any feature scaling.
    The first ten are one example of each digit 0-9 (which example depends on ``seed``).
    """
    from sklearn.datasets import load_digits

    check_number("n", n, low=1, high=100, integer=True)
    check_number("seed", seed, low=0, integer=True)
    bunch = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bunch.target))
    # one example of each class first, in order 0, 1, 2, ..., so a small grid shows
    # different digits; after ten, any further examples in the generator's order
    first = [int(order[bunch.target[order] == digit][0]) for digit in range(10)]
    taken = set(first)
    picks = (first + [int(i) for i in order if int(i) not in taken])[:n]
    images = torch.tensor(bunch.images[picks] / 16.0, dtype=torch.float32).unsqueeze(1)
    return images, torch.tensor(bunch.target[picks], dtype=torch.int64)


def augmentation_grid(
    images: torch.Tensor,
    rotation_degrees: float = 15.0,
    flip: str = "none",
    n_variants: int = 6,
    seed: int = 0,
) -> torch.Tensor:
    """Augmented copies of each image: shape ``(n_images, n_variants + 1, H, W)``.

    Column 0 is the original, the others are random draws of the augmentation. v2
    transforms draw one random angle per call, so we call them image by image. The
    draws come from ``seed`` inside a forked random state, so the global torch
    generator is left exactly as it was.
    """
    check_number("n_variants", n_variants, low=1, high=50, integer=True)
    check_number("seed", seed, low=0, integer=True)
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"images with shape {shape} is not allowed: images must be a tensor of shape "
            "(n, 1, height, width), e.g. from digit_images()."
        )
    transform = make_augmentation(rotation_degrees, flip)
    rows = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for img in images:
            row = [img[0]] + [transform(img)[0] for _ in range(n_variants)]
            rows.append(torch.stack(row))
    return torch.stack(rows)


# --------------------------------------------------------------------------------------
# Data loading: settings that change speed but not the result
# --------------------------------------------------------------------------------------


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


def train_with_loader(
    config: TrainConfig | dict[str, Any] | None,
    data: Dataset,
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    persistent_workers: bool = False,
    seed: int = 0,
) -> LoaderRun:
    """Train the config's MLP with minibatches from a DataLoader; return losses and weights.

    The batch order comes from a ``torch.Generator`` seeded with ``seed`` and handed to
    the DataLoader, so it does not depend on how many worker processes build the
    batches. ``num_workers`` and ``pin_memory`` then decide only *how* batches are made
    (in the main process or in worker processes; in ordinary or page-locked memory),
    never *which* examples they hold, so the final weights are identical, bit for bit.

    Two caveats, both about random draws rather than speed:

    * this holds because the dataset draws no random numbers. With random augmentation
      inside the workers, each worker has its own random stream, and the result then
      also depends on ``num_workers``;
    * ``persistent_workers=True`` (keep the workers alive between epochs) makes the
      DataLoader draw its worker seed from the generator once per run instead of once
      per epoch, so from epoch 2 on the shuffle order differs (torch 2.x). The run is
      just as good, but not the same numbers.

    Workers need a picklable dataset; a ``TensorDataset`` is. ``pin_memory`` does nothing
    without a GPU (torch warns about it; we silence that warning here).
    """
    config = as_config(config)
    check_number("num_workers", num_workers, low=0, high=16, integer=True)
    for name, value in (("pin_memory", pin_memory), ("persistent_workers", persistent_workers)):
        if not isinstance(value, bool):
            raise ValueError(f"{name}={value!r} is not allowed: {name} must be True or False.")
    if persistent_workers and num_workers == 0:
        raise ValueError(
            "persistent_workers=True is not allowed with num_workers=0: there are no worker "
            "processes to keep alive; use num_workers >= 1."
        )
    check_number("seed", seed, low=0, integer=True)
    check_dataset(data)

    run = LoaderRun(num_workers, pin_memory, persistent_workers)
    with torch_threads(config.threads):
        model = build_model(config, data)
        torch.manual_seed(config.seed)  # dropout masks, as in hpcourse.train
        optimizer = make_optimizer(config, model.parameters())
        loader = DataLoader(
            TensorDataset(data.x_train, data.y_train),
            batch_size=config.batch_size,
            shuffle=config.shuffle,
            num_workers=num_workers,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers,
            generator=torch.Generator().manual_seed(seed),
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
                run.epoch_loss.append(total / count)
        run.wall_time = time.perf_counter() - start
        run.val_loss, run.val_acc = evaluate(model, data.x_val, data.y_val)
        run.final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return run


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
    "CONFIG_FAMILIES",
    "FLIPS",
    "LoaderRun",
    "augmentation_grid",
    "config_diff",
    "config_families",
    "digit_images",
    "loader_table",
    "make_augmentation",
    "mlp_n_params",
    "parameter_changes",
    "pipeline_hyperparameters",
    "same_result",
    "train_with_loader",
]
