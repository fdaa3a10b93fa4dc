"""Does the best learning rate stay put when the model gets wider?

Tune the learning rate on a small model, train a wide one with it: that only works if the
best learning rate does not depend on the width. In the *standard parameterization* (SP:
PyTorch's default initialization, one learning rate for every layer) it does. With Adam
each weight moves by about ``lr`` per step whatever its gradient, so a layer with ``w``
inputs changes its outputs about ``w`` times as much when ``w`` grows: the wide model needs
a smaller learning rate. *muP* (Yang et al. 2022, "Tensor Programs V") rescales the layers so
that, ideally, one learning rate fits every width; :class:`hpcourse.config.TrainConfig`
implements a simple version with ``mup_base_width`` (see its docstring).

This module runs the measurement: an lr sweep at each width, in both parameterizations, on
a few seeds, each (parameterization, width) trained as one population
(:func:`hpcourse.training.train_many`), then the best lr per width read off the seed-mean
training loss (:func:`best_lr_per_width`) and the factor by which it moved
(:func:`lr_drift`). Training loss, not validation loss, because the question is how fast
each width *optimizes*; a wide model's validation loss adds overfitting on top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.seeding import course_seed
from hpcourse.validation import check_number

PARAMETERIZATIONS = ("SP", "muP")


def width_configs(
    base: TrainConfig | dict[str, Any],
    widths: Sequence[int],
    lrs: Sequence[float],
    *,
    base_width: int,
    seeds: Sequence[int] | None = None,
    depth: int = 2,
    parameterizations: Sequence[str] = PARAMETERIZATIONS,
) -> list[TrainConfig]:
    """Every (parameterization, width, lr, seed) of the sweep as a config, ``depth`` hidden
    layers of ``width`` each; ``tags`` holds ``parameterization`` and ``width``.

    ``seeds`` default to the course seed and the next one (``[s, s + 1]``), so the whole
    sweep changes with ``HPCOURSE_SEED``.
    """
    base = as_config(base)
    if base.optimizer not in ("adam", "adamw"):
        raise ValueError(
            f"optimizer={base.optimizer!r} is not allowed: the muP recipe here is for Adam, "
            "so the sweep needs base.optimizer 'adam' or 'adamw'."
        )
    check_number("base_width", base_width, low=1, integer=True)
    check_number("depth", depth, low=1, integer=True)
    for name in parameterizations:
        if name not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterizations item={name!r} is not allowed: choose from {PARAMETERIZATIONS}."
            )
    if len(widths) == 0 or len(lrs) == 0:
        raise ValueError("widths and lrs are not allowed to be empty: give at least one of each.")
    for w in widths:
        check_number("widths item", w, low=1, integer=True)
    seeds = [course_seed(), course_seed() + 1] if seeds is None else list(seeds)
    return [
        base.replace(
            hidden=[int(w)] * depth,
            lr=float(lr),
            seed=int(s),
            mup_base_width=base_width if name == "muP" else None,
            tags={"parameterization": name, "width": int(w)},
        )
        for name in parameterizations
        for w in widths
        for lr in lrs
        for s in seeds
    ]


def sweep_table(histories: Sequence[Any], metric: str = "train_loss") -> pd.DataFrame:
    """One row per run: ``parameterization``, ``width``, ``lr``, ``seed``, ``loss`` (the final
    ``metric``; ``inf`` for a diverged run) and ``diverged``."""
    rows = []
    for h in histories:
        tags = h.config.tags
        if "parameterization" not in tags:
            raise ValueError(
                "histories are not allowed without tags['parameterization']: build the "
                "configs with width_configs."
            )
        rows.append(
            {
                "parameterization": tags["parameterization"],
                "width": max(h.config.hidden),
                "lr": h.config.lr,
                "seed": h.config.seed,
                "loss": math.inf if h.diverged else float(getattr(h, metric)[-1]),
                "diverged": h.diverged,
            }
        )
    return pd.DataFrame(rows)


def width_sweep(
    data: Any,
    base: TrainConfig | dict[str, Any],
    widths: Sequence[int],
    lrs: Sequence[float],
    *,
    base_width: int,
    seeds: Sequence[int] | None = None,
    depth: int = 2,
    parameterizations: Sequence[str] = PARAMETERIZATIONS,
    progress: bool = True,
) -> pd.DataFrame:
    """Train the sweep of :func:`width_configs` (one population per parameterization and
    width) and return :func:`sweep_table` of its final training losses."""
    from hpcourse.training import train_many

    configs = width_configs(
        base,
        widths,
        lrs,
        base_width=base_width,
        seeds=seeds,
        depth=depth,
        parameterizations=parameterizations,
    )
    return sweep_table(train_many(configs, data, progress=progress, desc="widths"))


def refine_minimum(log_lrs: Sequence[float], losses: Sequence[float]) -> tuple[float, bool]:
    """The minimum of a loss curve over an evenly spaced log-lr grid, to a fraction of a grid
    step: the vertex of the parabola through the lowest point and its two neighbours.

    Returns ``(log_lr, on_edge)``. A minimum at either end of the grid is returned as is,
    with ``on_edge=True``: the best lr may lie outside the grid. The vertex of three points
    whose middle one is lowest lies within half a grid step of it, so the refinement never
    moves the answer past a neighbour.

    >>> refine_minimum([0.0, 1.0, 2.0], [1.0, 0.0, 1.0])
    (1.0, False)
    >>> refine_minimum([0.0, 1.0, 2.0], [2.0, 0.0, 1.0])
    (1.1666666666666667, False)
    """
    x, y = np.asarray(log_lrs, dtype=float), np.asarray(losses, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(
            f"log_lrs and losses of lengths {len(x)} and {len(y)} are not allowed: give the "
            "same number of points, at least 3."
        )
    i = int(np.argmin(np.where(np.isfinite(y), y, np.inf)))
    if i in (0, len(y) - 1) or not np.all(np.isfinite(y[i - 1 : i + 2])):
        return float(x[i]), i in (0, len(y) - 1)
    a, b, c = y[i - 1 : i + 2]
    curvature = a - 2 * b + c
    offset = 0.0 if curvature <= 0 else 0.5 * (a - c) / curvature
    return float(x[i] + offset * (x[i + 1] - x[i - 1]) / 2), False


def best_lr_per_width(table: pd.DataFrame) -> pd.DataFrame:
    """Per parameterization and width: the lr with the lowest seed-mean loss on the grid
    (``grid_lr``), the refined estimate between grid points (``best_lr``, see
    :func:`refine_minimum`), that mean loss, and ``on_edge``.

    A run that diverged makes its lr's mean ``inf``: an lr that blows up on one seed in
    two is not a good lr.
    """
    rows = []
    for (name, width), runs in table.groupby(["parameterization", "width"], sort=False):
        mean = runs.groupby("lr")["loss"].mean().sort_index()
        log_lr, edge = refine_minimum(np.log2(mean.index.to_numpy()), mean.to_numpy())
        rows.append(
            {
                "parameterization": name,
                "width": int(width),
                "grid_lr": float(mean.idxmin()),
                "best_lr": float(2.0**log_lr),
                "loss": float(mean.min()),
                "on_edge": edge,
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values(["parameterization", "width"], kind="stable").reset_index(drop=True)


def lr_drift(best: pd.DataFrame) -> dict[str, float]:
    """Per parameterization: best lr at the smallest width divided by best lr at the largest.
    2 means the widest model wanted half the learning rate; 1 means the lr transferred."""
    out = {}
    for name, rows in best.groupby("parameterization", sort=False):
        rows = rows.sort_values("width")
        out[str(name)] = float(rows["best_lr"].iloc[0] / rows["best_lr"].iloc[-1])
    return out


__all__ = [
    "PARAMETERIZATIONS",
    "best_lr_per_width",
    "lr_drift",
    "refine_minimum",
    "sweep_table",
    "width_configs",
    "width_sweep",
]
