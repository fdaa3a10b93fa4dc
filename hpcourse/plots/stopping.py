"""Pictures for lesson 07: the validation curve that turns up, where patience stops, how
optimistic a chosen score is, and the best learning rate at two training lengths.

Every function takes data computed elsewhere (Histories, a :class:`~hpcourse.stopping.Replay`,
the tables of :mod:`hpcourse.stopping`) and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hpcourse.results import History
from hpcourse.stopping import Replay

TRAIN_STYLE: dict[str, Any] = {"color": "tab:blue", "lw": 1.6}
VAL_STYLE: dict[str, Any] = {"color": "tab:orange", "lw": 2.0}
SCHEDULE_COLORS = {"constant": "tab:blue", "cosine": "tab:green"}


def _ax(ax: Axes | None, size: tuple[float, float] = (6.5, 3.8)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _plain_log_ticks(axis: object) -> None:
    """Tick labels such as 0.01 and 0.3 on a log axis, instead of powers of ten."""
    axis.set_major_locator(LogLocator(subs=(1.0, 3.0)))  # type: ignore[attr-defined]
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))  # type: ignore[attr-defined]
    axis.set_minor_formatter(NullFormatter())  # type: ignore[attr-defined]


def plot_overfitting(full: History, stopped: History | None = None, ax: Axes | None = None) -> Axes:
    """Training and validation loss of ``full`` per epoch; its best epoch (star) and the
    epochs it trained after it (shaded). With ``stopped`` (an early-stopped run of the same
    config and seed), the epoch where patience ended it (dashed line)."""
    ax = _ax(ax)
    ax.plot(full.epoch, full.train_loss, label="training loss", **TRAIN_STYLE)
    ax.plot(full.epoch, full.val_loss, label="validation loss", **VAL_STYLE)
    best = full.best_epoch
    ax.axvspan(best, full.epochs_run, color="0.85", alpha=0.6, lw=0)
    ax.plot(
        [best],
        [full.val_loss[best]],
        marker="*",
        ms=14,
        color="tab:red",
        ls="none",
        label=f"lowest validation loss (epoch {best})",
    )
    ax.text(
        (best + full.epochs_run) / 2,
        0.97,
        f"{full.epochs_run - best} epochs after the best",
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=8,
        color="0.3",
    )
    if stopped is not None:
        ax.axvline(
            stopped.epochs_run,
            color="black",
            ls="--",
            lw=1.2,
            label=f"early stopping ends (patience {stopped.config.patience})",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_replay(
    val_loss: Sequence[float],
    replay: Replay,
    *,
    min_delta: float = 0.0,
    ax: Axes | None = None,
) -> Axes:
    """A recorded validation curve and where early stopping would stop on it.

    Solid up to the stop, faint after it (epochs never trained); the record to beat
    (best loss so far minus ``min_delta``) as a staircase; the restored epoch (star); the
    patience window from the best epoch to the stop (shaded); the lowest loss anywhere on
    the curve (circle) when it lies after the stop."""
    ax = _ax(ax)
    values = np.asarray(val_loss, dtype=float)
    epochs = np.arange(len(values))
    stop, best = replay.stop_epoch, replay.best_epoch
    ax.plot(epochs[: stop + 1], values[: stop + 1], label="validation loss (trained)", **VAL_STYLE)
    if stop < len(values) - 1:
        ax.plot(
            epochs[stop:],
            values[stop:],
            color=VAL_STYLE["color"],
            lw=1.2,
            alpha=0.35,
            ls=":",
            label="epochs not trained",
        )
    record = np.minimum.accumulate(values[: stop + 1])
    ax.step(
        epochs[: stop + 1],
        record - min_delta,
        where="post",
        color="0.35",
        lw=1.0,
        ls="--",
        label="to beat: best so far" + (f" - {min_delta:g}" if min_delta else ""),
    )
    ax.axvspan(best, stop, color="tab:orange", alpha=0.12, lw=0)
    ax.plot([best], [values[best]], marker="*", ms=14, color="tab:red", ls="none",
            label=f"restored: epoch {best}")  # fmt: skip
    lowest = int(np.nanargmin(values))
    if lowest > stop:
        ax.plot([lowest], [values[lowest]], marker="o", ms=8, mfc="none", color="tab:red",
                ls="none", label=f"lowest anywhere: epoch {lowest}")  # fmt: skip
    ax.axvline(stop, color="black", lw=1.0)
    finite = values[np.isfinite(values)][1:]
    if len(finite):
        spread = finite.max() - finite.min()
        ax.set_ylim(finite.min() - 0.1 * spread - min_delta, finite.max() + 0.05 * spread)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_optimism(
    chosen: pd.DataFrame, fixed: pd.DataFrame | None = None, ax: Axes | None = None
) -> Axes:
    """Histogram over random halvings of the validation set: fresh-half score minus
    selection-half score of the chosen candidate (and, given ``fixed``, of a candidate fixed
    in advance), with each mean marked."""
    ax = _ax(ax, (6.0, 3.6))
    series = [("epoch chosen on the selection half", chosen, "tab:red")]
    if fixed is not None:
        series.insert(0, ("epoch fixed in advance", fixed, "0.5"))
    values = np.concatenate([t["optimism"].to_numpy() for _, t, _ in series])
    bins = np.linspace(values.min(), values.max(), 31).tolist()
    for label, table, color in series:
        gap = table["optimism"].to_numpy()
        ax.hist(gap, bins=bins, color=color, alpha=0.45, label=label)
        ax.axvline(gap.mean(), color=color, lw=2, label=f"mean {gap.mean():+.3f}")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("fresh-half loss minus selection-half loss")
    ax.set_ylabel("random halvings")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_horizon_sweep(
    table: pd.DataFrame,
    schedule: str,
    *,
    metric: str = "final_val_loss",
    ax: Axes | None = None,
) -> Axes:
    """``metric`` against the lr for one schedule: one line per training length (mean over
    seeds; each seed faint), the best lr of each length marked. Diverged runs are left out
    (their loss has no value)."""
    ax = _ax(ax, (5.5, 3.8))
    rows = table[table["schedule"] == schedule]
    if rows.empty:
        raise ValueError(f"schedule={schedule!r} is not allowed: the table has no such runs.")
    lengths = sorted(rows["epochs"].unique())
    cmap = plt.get_cmap("viridis")
    for i, epochs in enumerate(lengths):
        color = cmap(0.15 + 0.7 * i / max(len(lengths) - 1, 1))  # ordered: longer = lighter
        part = rows[rows["epochs"] == epochs].replace(math.inf, np.nan)
        for _, seed_rows in part.groupby("seed"):
            seed_rows = seed_rows.sort_values("lr")
            ax.plot(seed_rows["lr"], seed_rows[metric], color=color, lw=0.8, alpha=0.35)
        mean = rows[rows["epochs"] == epochs].groupby("lr")[metric].mean()
        shown = mean.replace(math.inf, np.nan)
        ax.plot(shown.index, shown.to_numpy(), color=color, lw=2.2, marker="o", ms=3,
                label=f"{epochs} epochs")  # fmt: skip
        best = float(mean.idxmin())
        ax.plot([best], [mean.min()], marker="*", ms=15, color=color, mec="black", ls="none")
        ax.annotate(f"best {best:.2g}", (best, mean.min()), textcoords="offset points",
                    xytext=(0, -14), ha="center", fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("learning rate (peak)" if schedule != "constant" else "learning rate")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{schedule} schedule", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center")
    return ax


__all__ = ["plot_horizon_sweep", "plot_optimism", "plot_overfitting", "plot_replay"]
