"""Pictures for lesson 10: a loss that blows up and a clipped one that does not, the
gradient norms behind them, and accuracy against a recurrent model's sizes.

Every function takes data computed elsewhere (Histories, :func:`hpcourse.sequence.run_table`)
and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from hpcourse.results import History

TRAIN_STYLE: dict[str, Any] = {"color": "tab:blue", "lw": 1.8, "marker": "o", "ms": 5}
VAL_STYLE: dict[str, Any] = {"color": "tab:orange", "lw": 1.8, "marker": "s", "ms": 5}


def _ax(ax: Axes | None, size: tuple[float, float] = (6.5, 3.8)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _legend_below(ax: Axes) -> None:
    """The legend under the axes, so that no curve hides behind it (per-step curves fill
    the whole panel)."""
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)


def _smooth(values: list[float], window: int) -> np.ndarray:
    """A running mean over ``window`` steps (shorter at the start), so that a noisy
    per-step curve shows its trend; NaN and inf are kept as they are."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) < 2:
        return v
    out = np.empty_like(v)
    for i in range(len(v)):
        out[i] = v[max(0, i - window + 1) : i + 1].mean()
    return out


def plot_step_losses(
    runs: Mapping[str, History],
    *,
    window: int = 5,
    chance: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Training loss of every step of each run (a running mean over ``window`` steps), on a
    log axis: a blow-up is a jump of a decade or more. ``chance``: the loss of guessing
    uniformly, ``log(n_classes)``, drawn as a dotted line."""
    ax = _ax(ax)
    colors = plt.get_cmap("tab10")
    for k, (name, h) in enumerate(runs.items()):
        ax.plot(_smooth(h.step_loss, window), color=colors(k), lw=1.6, label=name)
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1.2, label="guessing (log of classes)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (mean of {window} steps)")
    _legend_below(ax)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_grad_norms(
    runs: Mapping[str, History], *, clip: float | None = None, ax: Axes | None = None
) -> Axes:
    """The gradient norm of every step before clipping, on a log axis; ``clip`` (the
    threshold of the clipped runs) as a dashed line: above it, clipping shortens the step."""
    ax = _ax(ax)
    colors = plt.get_cmap("tab10")
    for k, (name, h) in enumerate(runs.items()):
        ax.plot(h.step_grad_norm, color=colors(k), lw=1.0, alpha=0.85, label=name)
    if clip is not None:
        ax.axhline(clip, color="k", ls="--", lw=1.2, label=f"clip threshold {clip:g}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm before clipping")
    _legend_below(ax)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_size_sweep(
    table: pd.DataFrame, column: str, *, chance: float | None = None, ax: Axes | None = None
) -> Axes:
    """Final training and validation accuracy against one size (``column`` of a
    :func:`~hpcourse.sequence.run_table`, e.g. ``"embedding_dim"``), on a log2 axis. The
    training accuracy is the one that shows underfitting: a model that cannot fit the
    examples it trains on is too small, whatever validation says."""
    ax = _ax(ax, (5.5, 3.6))
    rows = table.sort_values(column)
    x = rows[column].astype(float).to_numpy()
    ax.plot(x, rows["train_acc"], label="training accuracy", **TRAIN_STYLE)
    ax.plot(x, rows["val_acc"], label="validation accuracy", **VAL_STYLE)
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1.2, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(column)
    ax.set_ylabel("final accuracy")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.9)
    ax.grid(alpha=0.3)
    return ax


def plot_accuracy_curves(
    history: History,
    *,
    reference: History | None = None,
    chance: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Training and validation accuracy per epoch of ``history``; ``reference`` (another
    run, e.g. the lesson's default model) in grey for comparison."""
    ax = _ax(ax)
    if reference is not None:
        grey: dict[str, Any] = {"color": "0.6", "lw": 1.2}
        ax.plot(reference.epoch, reference.train_acc, ls="--", label="reference, training", **grey)
        ax.plot(reference.epoch, reference.val_acc, label="reference, validation", **grey)
    ax.plot(history.epoch, history.train_acc, label="training", **TRAIN_STYLE)
    ax.plot(history.epoch, history.val_acc, label="validation", **VAL_STYLE)
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1.2, label="chance")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.grid(alpha=0.3)
    return ax


def chance_loss(n_classes: int) -> float:
    """Cross-entropy of a uniform guess over ``n_classes``: ``log(n_classes)``."""
    return math.log(n_classes)


__all__ = [
    "chance_loss",
    "plot_accuracy_curves",
    "plot_grad_norms",
    "plot_size_sweep",
    "plot_step_losses",
]
