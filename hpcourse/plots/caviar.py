"""Pictures for lesson 06: a babysat run, a population, successive halving, PBT, retuning.

Every function takes data computed elsewhere (Histories, the tables of
:mod:`hpcourse.caviar` and :mod:`hpcourse.retune`, a :class:`~hpcourse.pbt.PBTResult`)
and an optional ``ax``, and returns the ``ax``. Runs that differ by an ordered value
(their learning rate) are coloured along one colormap, with a colour bar for the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hpcourse.babysit import epoch_lrs
from hpcourse.pbt import PBTResult
from hpcourse.results import History

LR_CMAP = "viridis"
BABYSAT_STYLE: dict[str, Any] = {"color": "black", "lw": 2.2, "ls": "--"}


def _ax(ax: Axes | None, size: tuple[float, float] = (5.5, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}, which is not allowed.")


def _lr_colors(histories: Sequence[History], ax: Axes) -> Callable[[float], Any]:
    """A colour per learning rate on a log scale, and its colour bar on ``ax``."""
    lrs = [h.config.lr for h in histories]
    low, high = min(lrs), max(lrs)
    norm = LogNorm(low, high if high > low else low * 1.0001)
    cmap = plt.get_cmap(LR_CMAP)
    bar = plt.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02)
    bar.set_label("learning rate (start)")
    _plain_log_ticks(bar.ax.yaxis)
    return lambda lr: cmap(norm(lr))


def _plain_log_ticks(axis: Any) -> None:
    """Tick labels such as 0.01 and 0.3 on a log axis, instead of powers of ten."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _loss_limits(ax: Axes, values: Sequence[float], top: float | None = None) -> None:
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low = min(finite)
        high = top if top is not None else max(finite)
        ax.set_ylim(low - 0.05 * (high - low), high)


# --------------------------------------------------------------------------- babysitting


def plot_intervention(
    runs: Mapping[str, History], at_epoch: int | None = None, ax: Axes | None = None
) -> Axes:
    """Validation loss per epoch of each labelled run, with the intervention epoch marked."""
    ax = _ax(ax)
    everything: list[float] = []
    for label, h in runs.items():
        style: dict[str, Any] = BABYSAT_STYLE if label.startswith("babysat") else {"lw": 1.6}
        ax.plot(h.epoch, h.val_loss, label=label + (" (diverged)" if h.diverged else ""), **style)
        everything += h.val_loss[1:]
    if at_epoch is not None:
        ax.axvline(
            at_epoch, color="tab:red", ls=":", lw=1.2, label=f"intervention (epoch {at_epoch})"
        )
    _loss_limits(ax, everything)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_epoch_lrs(runs: Mapping[str, History], ax: Axes | None = None) -> Axes:
    """The learning rate of every epoch of each labelled run (log scale), as a staircase."""
    ax = _ax(ax, (4.2, 3.6))
    for label, h in runs.items():
        style: dict[str, Any] = BABYSAT_STYLE if label.startswith("babysat") else {"lw": 1.6}
        lrs = epoch_lrs(h)
        ax.stairs(lrs, range(len(lrs) + 1), baseline=None, label=label, **style)
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate (during the epoch)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    return ax


# --------------------------------------------------------------------------- caviar


def plot_population(
    histories: Sequence[History], babysat: History | None = None, ax: Axes | None = None
) -> Axes:
    """Validation loss of every member of a population, coloured by its starting lr; the
    babysat run (dashed, black) for comparison. Diverged members end where they blew up."""
    ax = _ax(ax, (6.2, 3.8))
    color_of = _lr_colors(histories, ax)
    everything: list[float] = []
    for h in sorted(histories, key=lambda h: h.config.lr):
        ax.plot(h.epoch, h.val_loss, color=color_of(h.config.lr), lw=0.9, alpha=0.85)
        everything += h.val_loss[1:]
    best = min(histories, key=lambda h: h.final_val_loss)
    ax.plot(best.epoch, best.val_loss, color="tab:red", lw=2.0, label="population's best")
    if babysat is not None:
        ax.plot(babysat.epoch, babysat.val_loss, label="babysat run", **BABYSAT_STYLE)
        everything += babysat.val_loss[1:]
    _loss_limits(ax, everything, top=2.4)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.set_title(f"{len(histories)} configurations trained at once", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_best_of_n(
    table: pd.DataFrame,
    babysat_loss: float,
    same_time_n: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The best validation loss ``n`` random configurations typically give (median, with
    the quartiles shaded) against ``n``; the babysat run as a horizontal line, and the
    ``n`` that fits in one babysat run's wall time as a vertical one."""
    _require(table, ["n", "typical_best", "best_q25", "best_q75"], "table")
    ax = _ax(ax, (5.2, 3.8))
    finite = table[np.isfinite(table["best_q75"])]
    ax.fill_between(
        finite["n"],
        finite["best_q25"],
        finite["best_q75"],
        color="tab:red",
        alpha=0.2,
        label="best of n: middle half of draws",
    )
    shown = table[np.isfinite(table["typical_best"])]
    ax.plot(
        shown["n"], shown["typical_best"], "-o", ms=3, color="tab:red", label="best of n: median"
    )
    ax.axhline(babysat_loss, label="babysat run", **BABYSAT_STYLE)
    if same_time_n is not None and math.isfinite(same_time_n):
        ax.axvline(same_time_n, color="grey", ls=":", lw=1.5, label="n in one babysat run's time")
    ax.set_xlabel("n: random configurations trained (caviar's compute)")
    ax.set_ylabel("final validation loss of the best")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


# --------------------------------------------------------------------------- halving


def plot_halving(
    full: Sequence[History], stopped_at: Sequence[int], rungs: Sequence[int], ax: Axes | None = None
) -> Axes:
    """One repeat of successive halving drawn on the full-length curves: each curve is
    solid up to the epoch halving trained it to, faint beyond (what it would have done);
    rungs as vertical lines; the full-length winner outlined in red."""
    if len(stopped_at) != len(full):
        raise ValueError(
            f"stopped_at has {len(stopped_at)} entries for {len(full)} runs, which is not allowed."
        )
    ax = _ax(ax, (6.2, 3.8))
    color_of = _lr_colors(full, ax)
    everything: list[float] = []
    for h, stop in zip(full, stopped_at, strict=True):
        color = color_of(h.config.lr)
        ax.plot(h.epoch[: stop + 1], h.val_loss[: stop + 1], color=color, lw=1.6)
        ax.plot(h.epoch[stop:], h.val_loss[stop:], color=color, lw=0.8, alpha=0.3)
        everything += h.val_loss[1:]
    best = min(full, key=lambda h: h.final_val_loss)
    ax.plot(
        best.epoch, best.val_loss, color="tab:red", lw=3, alpha=0.35, label="full-length winner"
    )
    for epoch in rungs[:-1]:
        ax.axvline(epoch, color="grey", ls=":", lw=1.2)
    ax.plot([], [], color="grey", ls=":", label="rung: keep the best 1/eta")
    _loss_limits(ax, everything, top=2.4)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_halving_tradeoff(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """For each rung schedule: the share of repeats in which the full-length winner was
    kept, against the share of the full-length epochs spent."""
    _require(table, ["schedule", "kept_rate", "epochs_share"], "table")
    ax = _ax(ax, (4.8, 3.8))
    ax.plot(table["epochs_share"], table["kept_rate"], "o", color="tab:blue", ms=7)
    ordered = table.sort_values("epochs_share").reset_index(drop=True)
    for i, row in enumerate(ordered.itertuples()):  # labels alternate below and above
        ax.annotate(
            f"rungs {row.schedule}",
            (row.epochs_share, row.kept_rate),
            fontsize=8,
            xytext=(0, -15 if i % 2 == 0 else 9),
            textcoords="offset points",
            ha="center",
        )
    ax.set_xlim(0, 1.05)
    ax.set_ylim(-0.05, 1.1)
    ax.set_xlabel("epochs spent / epochs of training all to full length")
    ax.set_ylabel("repeats in which the winner was kept")
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- PBT


def _member_color(i: int) -> Any:
    """One colour per member (members are not ordered: a qualitative palette)."""
    return plt.get_cmap("tab10")(i % 10)


def plot_pbt(result: PBTResult, ax: Axes | None = None) -> Axes:
    """Validation loss of every PBT member; a marker where a member was overwritten by a
    copy of a better one (exploit), at the loss it had just before."""
    ax = _ax(ax, (6.0, 3.8))
    everything: list[float] = []
    for i, h in enumerate(result.histories):
        ax.plot(h.epoch, h.val_loss, lw=1.2, color=_member_color(i))
        everything += h.val_loss[1:]
    copies = result.lineage
    if len(copies):
        xs = [int(e) for e in copies["epoch"]]
        ys = [
            result.histories[int(m)].val_loss[int(e)]
            for e, m in zip(copies["epoch"], copies["member"], strict=True)
        ]
        ax.plot(xs, ys, "kv", ms=6, label="overwritten by a copy (exploit)")
        ax.legend(fontsize=8, loc="upper right")
    _loss_limits(ax, everything, top=2.4)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3)
    return ax


def plot_pbt_lrs(result: PBTResult, ax: Axes | None = None) -> Axes:
    """The learning rate of every PBT member, epoch by epoch (log scale): explore moves it
    by a factor at each exploit; a member's colour matches :func:`plot_pbt`."""
    ax = _ax(ax, (4.5, 3.8))
    for i, h in enumerate(result.histories):
        lrs = epoch_lrs(h)
        ax.stairs(lrs, range(len(lrs) + 1), baseline=None, lw=1.2, color=_member_color(i))
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate (during the epoch)")
    ax.grid(alpha=0.3, which="both")
    return ax


# --------------------------------------------------------------------------- retuning


def plot_retune(table: pd.DataFrame, max_loss: float | None = None, ax: Axes | None = None) -> Axes:
    """Final validation loss against the learning rate, one curve per setting; a diverged
    run is an ``x`` at the top of the axes; the "still trains" threshold dotted."""
    _require(table, ["setting", "lr", "val_loss", "diverged"], "table")
    ax = _ax(ax, (5.5, 3.8))
    finite = table[np.isfinite(table["val_loss"])]
    top = float(finite["val_loss"].max()) * 1.08 if len(finite) else 3.0
    for i, (setting, rows) in enumerate(table.groupby("setting", sort=False)):
        color = plt.get_cmap("tab10")(i)
        ok = rows[np.isfinite(rows["val_loss"])]
        ax.plot(ok["lr"], ok["val_loss"], "-o", ms=4, color=color, label=setting)
        bad = rows[~np.isfinite(rows["val_loss"])]
        if len(bad):
            ax.plot(bad["lr"], [top] * len(bad), "x", ms=8, mew=2, color=color)
    if (~np.isfinite(table["val_loss"])).any():
        ax.plot([], [], "kx", label="diverged")
    if max_loss is not None:
        ax.axhline(
            max_loss, color="grey", ls=":", lw=1.2, label=f"still trains: below {max_loss:g}"
        )
    ax.set_xscale("log")
    ax.set_ylim(0, top * 1.05)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final validation loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center")
    return ax


__all__ = [
    "plot_best_of_n",
    "plot_epoch_lrs",
    "plot_halving",
    "plot_halving_tradeoff",
    "plot_intervention",
    "plot_pbt",
    "plot_pbt_lrs",
    "plot_population",
    "plot_retune",
]
