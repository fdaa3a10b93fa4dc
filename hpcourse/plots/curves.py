"""Learning curves: loss and accuracy per epoch, and the raw per-step loss."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from hpcourse.results import History
from hpcourse.validation import check_choice

METRICS = ("loss", "acc", "step_loss")


def plot_history(history: History, metric: str = "loss", ax: Axes | None = None) -> Axes:
    """Train and validation ``metric`` ("loss" or "acc") per epoch, or the per-step loss.

    A diverged run is drawn up to where it blew up and labelled as diverged.
    """
    check_choice("metric", metric, METRICS)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    if metric == "step_loss":
        ax.plot(history.step_loss, lw=0.8, label="train (each step)")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
    else:
        train = history.train_loss if metric == "loss" else history.train_acc
        val = history.val_loss if metric == "loss" else history.val_acc
        ax.plot(history.epoch, train, "-o", ms=3, label="train")
        ax.plot(history.epoch, val, "-o", ms=3, label="validation")
        ax.set_xlabel("epoch (0 = before training)")
        ax.set_ylabel("cross-entropy loss" if metric == "loss" else "accuracy")
        if history.best_epoch and metric == "loss":
            ax.axvline(history.best_epoch, color="grey", ls=":", lw=1, label="best epoch")
    title = f"lr={history.config.lr:g}, batch={history.config.batch_size}"
    ax.set_title(title + (" (DIVERGED)" if history.diverged else ""), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_histories(
    histories: Sequence[History],
    labels: Sequence[str] | None = None,
    metric: str = "val_loss",
    ax: Axes | None = None,
) -> Axes:
    """One curve per run for a per-epoch metric (``val_loss``, ``val_acc``, ``train_loss``...)."""
    check_choice("metric", metric, ("train_loss", "train_acc", "val_loss", "val_acc"))
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    labels = labels or [f"lr={h.config.lr:g}" for h in histories]
    for h, label in zip(histories, labels, strict=True):
        ax.plot(
            h.epoch, getattr(h, metric), "-", label=label + (" (diverged)" if h.diverged else "")
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
