"""Pictures for lesson 08: the train-validation gap against width, depth and the strength of
each regularizer, and the curves of one run next to its unregularized twin.

Every function takes a table of :mod:`hpcourse.capacity` (or Histories) and an optional
``ax``, and returns the ``ax``.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from hpcourse.results import History

TRAIN: dict[str, Any] = {"color": "tab:blue", "marker": "o", "lw": 1.6}
VAL: dict[str, Any] = {"color": "tab:orange", "marker": "s", "lw": 2.0}
KIND_COLORS = {"dropout": "tab:purple", "L2": "tab:red", "decoupled": "tab:green"}
KIND_LABELS = {
    "dropout": "dropout rate",
    "L2": "L2 in the loss (Adam)",
    "decoupled": "decoupled decay (AdamW)",
}


def _ax(ax: Axes | None, size: tuple[float, float] = (6.0, 3.8)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _plain_ticks(axis: object, values: list[float]) -> None:
    axis.set_ticks(values)  # type: ignore[attr-defined]
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))  # type: ignore[attr-defined]
    axis.set_minor_formatter(NullFormatter())  # type: ignore[attr-defined]


def plot_gap(table: pd.DataFrame, x: str, ax: Axes | None = None, log: bool = False) -> Axes:
    """Final training and validation accuracy against column ``x`` (mean over seeds where
    there are several), with the gap between them shaded."""
    ax = _ax(ax)
    means = table.groupby(x)[["train_acc", "val_acc"]].mean().sort_index()
    xs = [float(v) for v in means.index]
    ax.fill_between(xs, means["val_acc"], means["train_acc"], color="0.85", label="gap")
    ax.plot(xs, means["train_acc"], label="training accuracy", **TRAIN)
    ax.plot(xs, means["val_acc"], label="validation accuracy", **VAL)
    if table.groupby(x)["seed"].nunique().max() > 1:  # show each seed's validation score
        ax.plot(table[x], table["val_acc"], ls="none", marker=".", color="tab:orange", alpha=0.5)
    if log:
        ax.set_xscale("log", base=2)
    _plain_ticks(ax.xaxis, xs)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("accuracy after the last epoch")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_strengths(strengths: pd.DataFrame, kind: str, ax: Axes | None = None) -> Axes:
    """Gap and validation accuracy against the strength of one regularizer (a row per
    strength of :func:`hpcourse.capacity.strength_table`); weight decay on a log axis, with
    the unregularized run drawn at the left edge and marked "none"."""
    ax = _ax(ax, (4.6, 3.6))
    part = strengths[strengths["kind"] == kind].sort_values("strength")
    xs = list(part["strength"])
    labels = [f"{v:g}" for v in xs]
    if kind != "dropout":  # a log axis has no 0: put "none" one decade below the smallest
        xs[0] = min(v for v in xs if v > 0) / 10
        labels[0] = "none"
        ax.set_xscale("log")
    color = KIND_COLORS[kind]
    ax.plot(xs, part["gap"], color=color, marker="o", lw=2, label="gap (train - val)")
    ax.plot(xs, part["val_acc"], color=color, marker="s", ls="--", label="validation accuracy")
    ax.plot(xs, part["train_acc"], color=color, marker="^", ls=":", label="training accuracy")
    ax.set_xticks(xs)
    ax.set_xticklabels(labels)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1)
    ax.set_xlabel(KIND_LABELS[kind])
    ax.set_title(KIND_LABELS[kind], fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_run(run: History, twin: History | None = None, ax: Axes | None = None) -> Axes:
    """Training and validation accuracy of ``run`` per epoch; with ``twin`` (the same width
    without regularization) its two curves faded, for comparison."""
    ax = _ax(ax, (7.0, 3.6))
    if twin is not None and twin is not run:
        ax.plot(twin.epoch, twin.train_acc, color="tab:blue", alpha=0.3, lw=1, ls="--")
        ax.plot(twin.epoch, twin.val_acc, color="tab:orange", alpha=0.3, lw=1, ls="--")
        ax.plot([], [], color="0.5", alpha=0.5, ls="--", label="same width, no regularization")
    ax.plot(run.epoch, run.train_acc, color="tab:blue", lw=1.8, label="training accuracy")
    ax.plot(run.epoch, run.val_acc, color="tab:orange", lw=2.2, label="validation accuracy")
    ax.fill_between(run.epoch, run.val_acc, run.train_acc, color="0.85", alpha=0.7)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


__all__ = ["plot_gap", "plot_run", "plot_strengths"]
