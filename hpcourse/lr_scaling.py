"""Re-tuning the learning rate when the batch size changes, measured over several seeds.

When the batch grows ``k``-fold, the linear scaling rule (Goyal et al. 2017) multiplies
plain SGD's learning rate by ``k``; for Adam a square-root rule (``sqrt(k)``) is the
usual guess (Malladi et al. 2022 derive it). Both are rules of thumb with limits, so the
batch-size lesson *measures* the best lr per batch size. Two things make that
measurement trustworthy, and this module does both:

* **several seeds.** Near its best, final validation loss is flat in the lr, so the
  argmin of a single run jumps between neighbouring grid points from seed to seed. We
  average the loss over seeds first and take the argmin of the average
  (:func:`sweep_table`, :func:`best_lr_over_seeds`);
* **a bracket.** A best lr on the edge of the grid says only "at least this" or "at most
  this": :func:`best_lr_over_seeds` flags it (``on_edge``), and the lesson extends the
  grid until no best value sits there (notebook 02's rule).

No PyTorch here: everything works on :class:`~hpcourse.results.History` objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.results import History, linear_scaled_lr
from hpcourse.validation import check_number


def lr_grid(low: float, high: float, per_octave: int = 2) -> list[float]:
    """Learning rates from ``low`` to ``high``, evenly spaced on a log axis.

    ``per_octave`` points per doubling: 2 gives steps of ``sqrt(2)``, fine enough that
    the best lr is pinned to within a factor 1.4. The last point is the largest grid
    value that does not exceed ``high`` by more than 5% of a step (so a rounded ``high``
    such as 0.045 for ``0.004 * 2**3.5`` still counts).

    >>> [round(lr, 3) for lr in lr_grid(0.25, 1.0)]
    [0.25, 0.354, 0.5, 0.707, 1.0]
    """
    check_number("low", low, low=0, low_open=True)
    check_number("high", high, low=low)
    check_number("per_octave", per_octave, low=1, integer=True)
    n = math.floor(per_octave * math.log2(high / low) + 0.05)
    return [low * 2 ** (k / per_octave) for k in range(n + 1)]


def sweep_configs(
    batch_sizes: Sequence[int],
    lrs: Sequence[float],
    seeds: Sequence[int],
    **fixed: Any,
) -> list[dict[str, Any]]:
    """One config dict per (batch size, lr, seed), with the ``fixed`` fields added to each.

    >>> len(sweep_configs([32, 128], [0.1, 0.2, 0.4], [0, 1], epochs=5))
    12
    """
    for name, values in (("batch_sizes", batch_sizes), ("lrs", lrs), ("seeds", seeds)):
        if len(values) == 0:
            raise ValueError(f"{name}=[] is not allowed: give at least one value.")
    return [
        {**fixed, "batch_size": int(b), "lr": float(lr), "seed": int(s)}
        for b in batch_sizes
        for lr in lrs
        for s in seeds
    ]


def run_sweep(
    configs: Sequence[dict[str, Any]],
    data: Any,
    *,
    reuse: Iterable[History] = (),
    progress: bool = True,
) -> list[History]:
    """Train every config of a sweep, in order, reusing runs that were already made.

    A run in ``reuse`` whose config equals one of ``configs`` (same fields, same seed)
    is taken as it is instead of being trained again: same config, same result.
    """
    from hpcourse.config import as_config
    from hpcourse.training import train_many

    wanted = [as_config(c) for c in configs]
    if not wanted:
        raise ValueError("configs=[] is not allowed: give at least one config.")
    done = {h.config: h for h in reuse}
    missing = [c for c in wanted if c not in done]
    if missing:
        done.update(zip(missing, train_many(missing, data, progress=progress), strict=True))
    return [done[c] for c in wanted]


def sweep_table(histories: Iterable[History]) -> pd.DataFrame:
    """One row per (optimizer, batch size, lr): final validation loss averaged over seeds.

    Columns: ``optimizer``, ``batch_size``, ``lr``, ``mean_val_loss`` (``inf`` if any
    seed diverged: an lr that blows up on one seed in three is not a safe choice),
    ``mean_val_acc`` (NaN likewise), ``n_seeds``, ``n_diverged``.
    """
    rows = [
        {
            "optimizer": h.config.optimizer,
            "batch_size": h.config.batch_size,
            "lr": h.config.lr,
            "seed": h.config.seed,
            "loss": h.final_val_loss,
            "acc": h.final_val_acc,
            "diverged": bool(h.diverged),
        }
        for h in histories
    ]
    if not rows:
        raise ValueError("histories=[] is not allowed: give the runs of a sweep.")
    runs = pd.DataFrame(rows)
    # a NaN loss (a blown-up run the divergence rule missed) counts as diverged, too
    bad = runs["diverged"] | ~np.isfinite(runs["loss"])
    runs = runs.assign(loss=runs["loss"].where(~bad, math.inf), diverged=bad)
    grouped = runs.groupby(["optimizer", "batch_size", "lr"], sort=True)
    table = grouped.agg(
        mean_val_loss=("loss", "mean"),
        mean_val_acc=("acc", "mean"),
        n_seeds=("seed", "nunique"),
        n_diverged=("diverged", "sum"),
    ).reset_index()
    table.loc[table["n_diverged"] > 0, "mean_val_acc"] = math.nan
    table["n_diverged"] = table["n_diverged"].astype(int)
    return table


def sqrt_scaled_lr(base_lr: float, base_batch: int, new_batch: int) -> float:
    """The square-root scaling rule, often used for Adam: batch x k -> lr x sqrt(k).

    >>> sqrt_scaled_lr(0.001, 32, 512)
    0.004
    """
    check_number("base_lr", base_lr, low=0, low_open=True)
    check_number("base_batch", base_batch, low=1, integer=True)
    check_number("new_batch", new_batch, low=1, integer=True)
    return base_lr * math.sqrt(new_batch / base_batch)


def best_lr_over_seeds(histories: Iterable[History]) -> pd.DataFrame:
    """The best lr per batch size, from the seed-averaged final validation loss.

    One row per (optimizer, batch size): ``best_lr``, ``mean_val_loss``, ``mean_val_acc``
    at it, ``n_lrs_tried``, ``n_seeds``, ``on_edge`` (the best is the smallest or the
    largest lr tried: the grid does not bracket it), ``ratio`` (best lr / the smallest
    batch's best lr), ``batch_ratio`` (batch / smallest batch), and the two rules'
    predictions from the smallest batch's best lr: ``linear_rule_lr``, ``sqrt_rule_lr``.
    """
    table = sweep_table(histories)
    rows = []
    for (optimizer, b), group in table.groupby(["optimizer", "batch_size"], sort=True):
        group = group.sort_values("lr")
        best = group.loc[group["mean_val_loss"].idxmin()]
        rows.append(
            {
                "optimizer": optimizer,
                "batch_size": int(b),
                "best_lr": float(best["lr"]),
                "mean_val_loss": float(best["mean_val_loss"]),
                "mean_val_acc": float(best["mean_val_acc"]),
                "n_lrs_tried": len(group),
                "n_seeds": int(group["n_seeds"].min()),
                "on_edge": bool(best["lr"] in (group["lr"].iloc[0], group["lr"].iloc[-1])),
            }
        )
    out = pd.DataFrame(rows)
    parts = []
    for _, group in out.groupby("optimizer", sort=False):
        b0, lr0 = int(group["batch_size"].iloc[0]), float(group["best_lr"].iloc[0])
        group = group.assign(
            batch_ratio=group["batch_size"] / b0,
            ratio=group["best_lr"] / lr0,
            linear_rule_lr=[linear_scaled_lr(lr0, b0, int(b)) for b in group["batch_size"]],
            sqrt_rule_lr=[sqrt_scaled_lr(lr0, b0, int(b)) for b in group["batch_size"]],
        )
        parts.append(group)
    return pd.concat(parts, ignore_index=True)


def rule_break(best: pd.DataFrame, tolerance: float = 2.0) -> dict[str, float]:
    """Where the linear scaling rule stopped working, read from :func:`best_lr_over_seeds`.

    The rule *holds* at a batch size while the measured best lr is within ``tolerance``
    of the rule's prediction (one grid step of a factor 2 either way); it *breaks* at
    the first batch size where the best lr falls below ``prediction / tolerance``.
    Returns ``held_up_to`` (the largest batch before the break) and ``broke_at`` (NaN if
    it never broke). Use one optimizer's rows.

    >>> t = pd.DataFrame({"batch_size": [32, 128, 512], "best_lr": [0.5, 2.0, 2.0],
    ...                   "linear_rule_lr": [0.5, 2.0, 8.0]})
    >>> rule_break(t)
    {'held_up_to': 128.0, 'broke_at': 512.0}
    """
    check_number("tolerance", tolerance, low=1, low_open=True)
    t = best.sort_values("batch_size")
    held = float(t["batch_size"].iloc[0])
    for b, lr, rule in zip(t["batch_size"], t["best_lr"], t["linear_rule_lr"], strict=True):
        if lr < rule / tolerance:
            return {"held_up_to": held, "broke_at": float(b)}
        held = float(b)
    return {"held_up_to": held, "broke_at": math.nan}


__all__ = [
    "best_lr_over_seeds",
    "lr_grid",
    "rule_break",
    "run_sweep",
    "sqrt_scaled_lr",
    "sweep_configs",
    "sweep_table",
]
