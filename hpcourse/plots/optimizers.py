"""Plots of lesson 09: momentum's growing step, Adam's epsilon, weight decay two ways,
schedules on one budget, the first steps with and without warmup, and the best lr per
width in two parameterizations.

Each takes the data a function of :mod:`hpcourse.optimizers`, :mod:`hpcourse.schedule_budget`
or :mod:`hpcourse.width_transfer` returned, and an optional ``ax``; each returns the ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from hpcourse.optimizers import effective_lr


def _ax(ax: Axes | None, size: tuple[float, float] = (6.0, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"{name} is not allowed without the column(s) {missing}.")


def _ordered_colors(values: Sequence[float], cmap: str = "viridis", log: bool = True) -> list[Any]:
    """One colour per value, ordered along a colormap (log-spaced values by default)."""
    v = np.log10(np.asarray(values, dtype=float)) if log else np.asarray(values, dtype=float)
    span = float(v.max() - v.min()) or 1.0
    return [plt.get_cmap(cmap)(0.9 * (x - v.min()) / span) for x in v]


def plot_momentum_steps(
    steps: Mapping[float, Sequence[float]], lr: float, ax: Axes | None = None
) -> Axes:
    """Measured step length against step number on a steady gradient, one line per momentum,
    each with its limit ``lr / (1 - momentum)`` dashed (log y axis: the limits are decades
    apart)."""
    if not steps:
        raise ValueError("steps={} is not allowed: give at least one momentum's steps.")
    ax = _ax(ax)
    betas = sorted(steps)
    colors = _ordered_colors([1.0 / (1.0 - b) for b in betas])
    for beta, color in zip(betas, colors, strict=True):
        y = np.asarray(steps[beta], dtype=float)
        x = np.arange(1, len(y) + 1)
        ax.plot(x, y, color=color, lw=2, label=f"momentum {beta:g}")
        ax.axhline(effective_lr(lr, beta), color=color, ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("step length (gradient = 1)")
    ax.set_title(f"SGD on a steady gradient, lr={lr:g}; dashed: lr / (1 - momentum)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_loss_curves(
    runs: Mapping[str, Any], metric: str = "train_loss", ax: Axes | None = None
) -> Axes:
    """One per-epoch curve per named run (a diverged run stops where it blew up)."""
    if not runs:
        raise ValueError("runs={} is not allowed: give at least one run.")
    ax = _ax(ax)
    for name, h in runs.items():
        values = np.asarray(getattr(h, metric), dtype=float)
        ax.plot(h.epoch[: len(values)], values, lw=2, marker="o", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_eps_sweep(table: pd.DataFrame, gradient_scale: float, ax: Axes | None = None) -> Axes:
    """Final training loss against Adam's epsilon (log x), with the measured gradient scale
    (the median ``sqrt(v)``) marked: epsilon matters once it nears that line."""
    _require(table, ["eps", "final_train_loss"], "table")
    ax = _ax(ax, (5.5, 3.4))
    ax.plot(table["eps"], table["final_train_loss"], "o-", color="tab:blue", lw=2)
    ax.axvline(gradient_scale, color="tab:red", ls="--", lw=1.2)
    ax.text(
        gradient_scale * 0.8,
        float(table["final_train_loss"].max()),
        "gradient scale",
        color="tab:red",
        ha="right",
        va="top",
        fontsize=8,
    )
    ax.set_xscale("log")
    ax.set_xlabel("Adam's epsilon")
    ax.set_ylabel("final training loss")
    ax.grid(alpha=0.3)
    return ax


def plot_decay(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The share of the weights' norm each decay keeps, against ``weight_decay`` (log x), one
    line per kind of decay; the usual ranges shaded in the line's colour."""
    from hpcourse.optimizers import DECAY_RANGES

    _require(table, ["decay", "weight_decay", "kept"], "table")
    ax = _ax(ax, (5.5, 3.4))
    styles = {
        "L2": ("tab:orange", "L2 (SGD, Adam)"),
        "decoupled": ("tab:green", "decoupled (AdamW)"),
    }
    for kind, (color, key) in styles.items():
        rows = table[(table["decay"] == kind) & (table["weight_decay"] > 0)]
        if rows.empty:
            continue
        rows = rows.sort_values("weight_decay")
        label = "Adam + L2" if kind == "L2" else "AdamW (decoupled)"
        ax.plot(rows["weight_decay"], rows["kept"], "o-", color=color, lw=2, label=label)
        low, high = DECAY_RANGES[key]
        ax.axvspan(low, high, color=color, alpha=0.12)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("weight_decay (shaded: each kind's usual range)")
    ax.set_ylabel("weight norm kept (vs no decay)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_schedule_sweep(
    table: pd.DataFrame, metric: str = "final_train_loss", ax: Axes | None = None
) -> Axes:
    """``metric`` against the peak lr (log x), one line per schedule; constant is drawn
    black and dashed so the others read against it."""
    _require(table, ["schedule", "lr", metric], "table")
    ax = _ax(ax, (6.5, 3.8))
    for name in dict.fromkeys(table["schedule"]):
        rows = table[table["schedule"] == name].sort_values("lr")
        style: dict[str, Any] = {"color": "black", "ls": "--"} if name == "constant" else {}
        ax.plot(rows["lr"], rows[metric], marker="o", ms=4, lw=1.8, label=name, **style)
    ax.set_xscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_run_lrs(runs: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """The learning rate each run really used at every step (``History.step_lr``), as a
    share of its peak, against epochs."""
    if not runs:
        raise ValueError("runs={} is not allowed: give at least one run.")
    ax = _ax(ax, (6.5, 3.4))
    for name, h in runs.items():
        lrs = np.asarray(h.step_lr, dtype=float) / h.config.lr
        x = np.arange(1, len(lrs) + 1) / max(h.steps_per_epoch, 1)
        style: dict[str, Any] = {"color": "black", "ls": "--"} if name == "constant" else {}
        ax.plot(x, lrs, lw=1.8, label=name, **style)
    ax.set_xlabel("epoch")
    ax.set_ylabel("lr / peak lr")
    ax.set_ylim(0, 1.08)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_first_steps(runs: Mapping[str, Any], steps: int, ax: Axes | None = None) -> Axes:
    """The training loss of the first ``steps`` steps of each named run, relative to the
    first step's loss; the line at 1 is where the loss started."""
    if not runs:
        raise ValueError("runs={} is not allowed: give at least one run.")
    ax = _ax(ax, (6.5, 3.6))
    for name, h in runs.items():
        loss = np.asarray(h.step_loss[:steps], dtype=float)
        ax.plot(np.arange(1, len(loss) + 1), loss / loss[0], lw=1.8, label=name)
    ax.axhline(1.0, color="0.5", lw=1, ls=":")
    ax.set_xlabel("step")
    ax.set_ylabel("loss / first step's loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_width_sweep(
    table: pd.DataFrame, best: pd.DataFrame, parameterization: str, ax: Axes | None = None
) -> Axes:
    """Seed-mean final training loss against lr (log x), one line per width (colours
    ordered by width), the best lr of each width marked by a star."""
    _require(table, ["parameterization", "width", "lr", "loss"], "table")
    _require(best, ["parameterization", "width", "best_lr", "loss"], "best")
    ax = _ax(ax, (5.5, 3.6))
    rows = table[table["parameterization"] == parameterization]
    if rows.empty:
        raise ValueError(
            f"parameterization={parameterization!r} is not allowed: the table has "
            f"{sorted(set(table['parameterization']))}."
        )
    widths = sorted(set(rows["width"]))
    colors = _ordered_colors(widths, cmap="plasma")
    marks = best[best["parameterization"] == parameterization].set_index("width")
    for width, color in zip(widths, colors, strict=True):
        mean = rows[rows["width"] == width].groupby("lr")["loss"].mean().sort_index()
        finite = mean[np.isfinite(mean)]
        ax.plot(
            finite.index, finite.to_numpy(), "o-", color=color, ms=3, lw=1.8, label=f"width {width}"
        )
        if width in marks.index:
            ax.plot(
                marks.loc[width, "best_lr"],
                marks.loc[width, "loss"],
                "*",
                color=color,
                ms=14,
                mec="k",
            )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final training loss (seed mean)")
    ax.set_title(parameterization, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    return ax


def plot_adam_memory(
    steps: Mapping[tuple[float, float], Sequence[float]], jump_at: int, ax: Axes | None = None
) -> Axes:
    """Adam's step (as a multiple of lr) around a sudden growth of the gradient at step
    ``jump_at``, one line per ``(beta1, beta2)``; the line at 1 is a step of exactly lr."""
    if not steps:
        raise ValueError("steps={} is not allowed: give at least one pair of betas' steps.")
    ax = _ax(ax, (6.5, 3.4))
    for betas, values in steps.items():
        y = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(y) + 1), y, lw=2, label=f"beta1 {betas[0]:g}, beta2 {betas[1]:g}")
    ax.axhline(1.0, color="0.5", lw=1, ls=":")
    ax.axvline(jump_at + 0.5, color="tab:red", lw=1, ls="--")
    ax.text(jump_at + 2, 0.1, "gradient x10", color="tab:red", fontsize=8)
    ax.set_ylim(0, None)
    ax.set_xlabel("step")
    ax.set_ylabel("step / lr")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax


__all__ = [
    "plot_adam_memory",
    "plot_decay",
    "plot_eps_sweep",
    "plot_first_steps",
    "plot_loss_curves",
    "plot_momentum_steps",
    "plot_run_lrs",
    "plot_schedule_sweep",
    "plot_width_sweep",
]
