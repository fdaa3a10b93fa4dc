"""Pictures for lesson 03 (batch size and gradient noise). Each takes data computed by
the batch-size modules (a table, an array, a list of histories) and an optional ``ax``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from hpcourse.gradient_noise import LogLogFit
from hpcourse.results import History


def _ax(ax: Axes | None, size: tuple[float, float] = (5.5, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def batch_colors(batch_sizes: Sequence[int]) -> dict[int, tuple[float, float, float, float]]:
    """One colour per batch size, ordered (dark = small, light = large) on a log scale,
    so that the order of the colours is the order of the batch sizes."""
    sizes = sorted({int(b) for b in batch_sizes})
    cmap = plt.get_cmap("viridis")
    if len(sizes) == 1:
        return {sizes[0]: cmap(0.0)}
    logs = np.log2(sizes)
    span = logs[-1] - logs[0]
    return {b: cmap(0.85 * (v - logs[0]) / span) for b, v in zip(sizes, logs, strict=True)}


def _legend_outside(ax: Axes, **kwargs: object) -> None:
    """A legend to the right of the axes, where it cannot cover any data."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, **kwargs)


def _plain_ticks(ax: Axes, which: str = "x") -> None:
    """Label a log axis with plain numbers (0.25, 0.5, 1, 2; 32, 128) instead of 2^k."""
    formatter = FuncFormatter(lambda value, _pos: f"{value:.3g}")
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(formatter)


def _require(table: pd.DataFrame, columns: Sequence[str], name: str = "table") -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}: it must have {list(columns)} "
            "(build it with the matching hpcourse function)."
        )


def plot_gradient_variance(
    table: pd.DataFrame, fit: LogLogFit | None = None, ax: Axes | None = None
) -> Axes:
    """Mean squared error of minibatch gradients against batch size, on log-log axes.

    Draws the measured values (with standard-error bars), the finite-population-
    corrected values when sampling was without replacement, the sampling-theory line
    and, if given, the fitted power law with its slope.
    """
    _require(table, ["batch_size", "variance", "sem", "fpc", "corrected", "theory", "replace"])
    ax = _ax(ax)
    # Without replacement the noise at B = N is exactly 0 (up to rounding): no place on a log axis.
    t = table[(table["fpc"] > 0) & (table["variance"] > 0)]
    ax.errorbar(t["batch_size"], t["variance"], yerr=t["sem"], fmt="o", ms=4, label="measured")
    if not bool(table["replace"].iloc[0]):
        ax.plot(t["batch_size"], t["corrected"], "s", ms=4, mfc="none", label="measured / FPC")
    ax.plot(t["batch_size"], t["theory"], "k:", lw=1, label="theory tr(Σ)/B × FPC")
    if fit is not None:
        xs = np.array([t["batch_size"].min(), t["batch_size"].max()], dtype=float)
        ax.plot(xs, fit.predict(xs), "-", color="C3", lw=1.2, label=f"fit: slope {fit.slope:.2f}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("E |g_B − G|²")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_step_losses(histories: Sequence[History], ax: Axes | None = None) -> Axes:
    """The training loss of every step, one curve per run, against epochs (examples seen).

    Putting epochs on the x axis lines runs up by how much data they have seen, so a
    batch of 32 (100 steps per epoch) and one of 2048 (2 steps) can be compared. Colours
    are ordered by batch size.
    """
    if not histories:
        raise ValueError("histories=[] is not allowed: give at least one run.")
    ax = _ax(ax, (6.5, 3.8))
    colors = batch_colors([h.config.batch_size for h in histories])
    for h in sorted(histories, key=lambda h: h.config.batch_size):
        steps = np.arange(1, len(h.step_loss) + 1) / max(h.steps_per_epoch, 1)
        marker = "o" if len(h.step_loss) < 40 else None
        ax.plot(
            steps,
            h.step_loss,
            lw=0.8,
            marker=marker,
            ms=3,
            color=colors[h.config.batch_size],
            label=f"B={h.config.batch_size} ({h.steps_per_epoch} steps/epoch)",
        )
    ax.set_xlabel("epochs (examples seen / training-set size)")
    ax.set_ylabel("minibatch loss")
    ax.set_title(f"per-step training loss, plain SGD, lr={histories[0].config.lr:g}", fontsize=10)
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return ax


def plot_lr_sweep(
    sweep: pd.DataFrame | Sequence[History], ax: Axes | None = None, title: str = ""
) -> Axes:
    """Final validation loss (mean over seeds) against learning rate, one curve per batch.

    ``sweep`` is a table from :func:`hpcourse.lr_scaling.sweep_table` (or the runs
    themselves). Each batch size's best lr is starred. An lr that diverged (on at least
    one seed) has no loss to draw: it gets a cross in a strip above the plot, one row per
    batch size, so no marker hides another. A loss that blew up without being flagged
    (more than twice the median loss of the sweep) would flatten every curve: it gets a
    triangle in the same strip instead.
    """
    from hpcourse.lr_scaling import sweep_table

    table = sweep if isinstance(sweep, pd.DataFrame) else sweep_table(sweep)
    _require(table, ["batch_size", "lr", "mean_val_loss"])
    ax = _ax(ax)
    loss_all = table["mean_val_loss"].to_numpy(dtype=float)
    finite = loss_all[np.isfinite(loss_all)]
    cap = 2.0 * float(np.median(finite)) if len(finite) else 1.0
    shown = finite[finite <= cap]
    low, high = (float(shown.min()), float(shown.max())) if len(shown) else (0.0, 1.0)
    step = 0.07 * max(high - low, 1e-3)
    sizes = sorted(table["batch_size"].unique())
    colors = batch_colors(sizes)
    strip = False
    for i, b in enumerate(sizes):
        t = table[table["batch_size"] == b].sort_values("lr")
        lrs, loss = t["lr"].to_numpy(), t["mean_val_loss"].to_numpy(dtype=float)
        ok = np.isfinite(loss) & (loss <= cap)
        ax.plot(lrs[ok], loss[ok], "-o", ms=4, color=colors[b], label=f"B={b}")
        row = high + step * (i + 1.5)
        for marker, bad in (("x", ~np.isfinite(loss)), ("^", np.isfinite(loss) & ~ok)):
            if bad.any():
                ax.plot(lrs[bad], np.full(bad.sum(), row), marker, color=colors[b], ms=7, mew=1.5)
                strip = True
        if ok.any():
            j = int(np.argmin(np.where(ok, loss, np.inf)))
            ax.plot(lrs[j], loss[j], "*", color=colors[b], ms=15, mec="k", zorder=3)
    if strip:
        ax.axhline(high + step * 0.8, color="grey", lw=0.6)
        ax.text(
            0.01,
            high + step * (len(sizes) + 1.6),
            "x diverged, ^ blew up (off the scale): one row per batch size",
            transform=ax.get_yaxis_transform(),  # x in axes fraction, y in data units
            fontsize=7,
            va="bottom",
            color="grey",
        )
        ax.set_ylim(low - step, high + step * (len(sizes) + 2.8))
    ax.set_xscale("log", base=2)
    _plain_ticks(ax, "x")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("final validation loss (mean over seeds)")
    ax.set_title(title or "★ = best lr for that batch size", fontsize=9)
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return ax


def plot_best_lr(
    table: pd.DataFrame,
    noise_scale: float | None = None,
    ax: Axes | None = None,
    rules: Sequence[str] = ("linear",),
) -> Axes:
    """Best learning rate against batch size (log-log) beside the scaling rules' predictions.

    ``table`` comes from :func:`hpcourse.lr_scaling.best_lr_over_seeds` (or
    :func:`hpcourse.results.best_lr_per_batch`); ``rules`` picks the predictions drawn
    (``"linear"``, ``"sqrt"``), both started from the smallest batch's best lr. A best lr
    on the edge of its grid is drawn hollow: it is a bound, not a measurement. Give
    ``noise_scale`` (``B_simple``) to mark it with a vertical line.
    """
    _require(table, ["batch_size", "best_lr", "linear_rule_lr"])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    ax.plot(t["batch_size"], t["best_lr"], "-", color="C0")
    edge = t["on_edge"].to_numpy(dtype=bool) if "on_edge" in t else np.zeros(len(t), bool)
    ax.plot(t["batch_size"][~edge], t["best_lr"][~edge], "o", color="C0", label="best lr")
    if edge.any():
        ax.plot(
            t["batch_size"][edge],
            t["best_lr"][edge],
            "o",
            mfc="none",
            color="C0",
            label="best lr on the grid's edge",
        )
    styles = {
        "linear": ("linear_rule_lr", "k--", "linear rule (x k)"),
        "sqrt": ("sqrt_rule_lr", "k:", "square-root rule (x √k)"),
    }
    for rule in rules:
        column, style, label = styles[rule]
        if column in t:
            ax.plot(t["batch_size"], t[column], style, lw=1, label=label)
    if noise_scale is not None and np.isfinite(noise_scale):
        ax.axvline(noise_scale, color="C3", ls=":", label=f"B_simple ≈ {noise_scale:.0f}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    _plain_ticks(ax, "x")
    _plain_ticks(ax, "y")
    ax.set_xlabel("batch size")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_steps_to_target(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Steps needed to reach the target against batch size, with the 'perfect scaling' line.

    ``table`` has ``batch_size`` and ``steps`` (from
    :func:`hpcourse.time_to_target.fewest_steps`), optionally ``steps_at_epoch_best_lr``
    (the steps with the lr that was best after a fixed number of epochs), drawn hollow.
    Perfect scaling (doubling the batch halves the steps) is drawn from the smallest
    batch; where the measured curve flattens above it, bigger batches stop paying off.
    """
    _require(table, ["batch_size", "steps"])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    ax.plot(t["batch_size"], t["steps"], "-o", color="C0", label="lr tuned for this target")
    if "steps_at_epoch_best_lr" in t:
        ax.plot(
            t["batch_size"],
            t["steps_at_epoch_best_lr"],
            "o",
            mfc="none",
            color="C1",
            label="lr best after 5 epochs",
        )
    b0, s0 = t["batch_size"].iloc[0], t["steps"].iloc[0]
    if np.isfinite(s0):
        ax.plot(t["batch_size"], s0 * b0 / t["batch_size"], "k--", lw=1, label="perfect scaling")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _plain_ticks(ax, "x")
    for _, row in t[~np.isfinite(t["steps"].astype(float))].iterrows():
        ax.annotate(
            "not reached",
            (row["batch_size"], 1.0),
            xycoords=("data", "axes fraction"),
            fontsize=8,
            ha="center",
            va="top",
            color="C3",
        )
    ax.set_xlabel("batch size")
    ax.set_ylabel("optimizer steps to the target")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_throughput(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Training examples per second against batch size (log-log), from
    :func:`hpcourse.throughput.measure_throughput`; the fastest batch size is starred."""
    _require(table, ["batch_size", "examples_per_sec"])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    ax.plot(t["batch_size"], t["examples_per_sec"], "-o", color="C2", label="measured")
    top = t.loc[t["examples_per_sec"].idxmax()]
    ax.plot(
        top["batch_size"],
        top["examples_per_sec"],
        "*",
        ms=15,
        color="C2",
        mec="k",
        label=f"fastest: B={int(top['batch_size'])}",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _plain_ticks(ax, "x")
    ax.set_xlabel("batch size")
    ax.set_ylabel("training examples per second")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_noise_scale(
    table: pd.DataFrame,
    batch_sizes: Sequence[int] = (),
    ax: Axes | None = None,
    rule_window: tuple[float, float] | None = None,
) -> Axes:
    """``B_simple`` measured during training (log scale), with optional batch sizes marked.

    ``rule_window`` = ``(held_up_to, broke_at)`` from :func:`hpcourse.lr_scaling.rule_break`
    shades the batch sizes between the last one where the linear rule held and the first
    where it broke.
    """
    _require(table, ["epoch", "b_simple"])
    ax = _ax(ax)
    if rule_window is not None and all(np.isfinite(rule_window)):
        ax.axhspan(*rule_window, color="C0", alpha=0.12, label="linear rule: held → broke")
    ax.plot(table["epoch"], table["b_simple"], "-o", color="C3", label="B_simple")
    ax.axhline(float(table["b_simple"].median()), color="C3", lw=0.8, ls="--", label="median")
    for b in batch_sizes:
        ax.axhline(b, color="grey", lw=0.7, ls=":")
        ax.annotate(f"B={b}", (table["epoch"].max(), b), fontsize=7, va="bottom", ha="right")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel("gradient noise scale")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return ax


def plot_accumulation(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Seconds per epoch of each run in :func:`hpcourse.accumulation.accumulation_table`,
    as bars labelled with the run's final validation loss: same result, different speed."""
    _require(table, ["run", "sec_per_epoch", "final_val_loss", "examples_per_step"])
    ax = _ax(ax, (6.0, 3.2))
    y = np.arange(len(table))
    ax.barh(y, table["sec_per_epoch"] * 1000, color="C0", alpha=0.8)
    for i, row in enumerate(table.itertuples()):
        ax.annotate(
            f" val loss {row.final_val_loss:.4f}",
            (row.sec_per_epoch * 1000, i),
            va="center",
            fontsize=8,
        )
    ax.set_yticks(
        y, [f"{r.run}\n({r.examples_per_step} examples/step)" for r in table.itertuples()]
    )
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds per epoch (fastest of the run)")
    ax.set_xlim(0, float(table["sec_per_epoch"].max()) * 1000 * 1.45)
    ax.grid(alpha=0.3, axis="x")
    return ax


_MEMORY_PARTS = ("parameters", "gradients", "optimizer_state", "activations")


def plot_memory(
    table: pd.DataFrame, measured: pd.DataFrame | None = None, ax: Axes | None = None
) -> Axes:
    """Memory per training step (kB) against batch size, stacked by what it is made of.

    ``measured`` (optional) is a table with ``batch_size`` and ``saved_bytes`` (from
    :func:`hpcourse.memory.step_activation_bytes`), drawn as points on the activations.
    Parts that are zero at every batch size (SGD keeps no optimizer state) are left out.
    """
    _require(table, ["batch_size", *_MEMORY_PARTS])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    parts = [p for p in _MEMORY_PARTS if (t[p] > 0).any()]  # e.g. no optimizer state for SGD
    colors = [f"C{_MEMORY_PARTS.index(p)}" for p in parts]  # each part keeps its colour
    kb = [t[p].to_numpy() / 1024 for p in parts]
    labels = [p.replace("_", " ") for p in parts]
    ax.stackplot(t["batch_size"], *kb, labels=labels, colors=colors, alpha=0.8)
    if measured is not None:
        _require(measured, ["batch_size", "saved_bytes"], "measured")
        fixed = sum(t[p].to_numpy() for p in _MEMORY_PARTS[:3]) / 1024
        at = np.interp(measured["batch_size"], t["batch_size"], fixed)
        ax.plot(
            measured["batch_size"],
            at + measured["saved_bytes"] / 1024,
            "ko",
            ms=4,
            label="measured (autograd hooks)",
        )
    ax.set_xlabel("batch size")
    ax.set_ylabel("memory per step (kB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_gradient_cloud(
    points: np.ndarray,
    grad_norm: float,
    batch_size: int,
    ax: Axes | None = None,
    limit: float | None = None,
) -> Axes:
    """Minibatch gradients seen in 2-D: along ``G`` (x) and along the main noise direction (y).

    ``points`` comes from :func:`hpcourse.gradient_cloud.minibatch_gradient_cloud`; the full
    gradient sits at ``(grad_norm, 0)``. Points left of 0 point uphill for the full loss.
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points of shape {pts.shape} is not allowed: points must be (n, 2).")
    ax = _ax(ax, (4.2, 4.0))
    lim = limit if limit is not None else float(np.abs(pts).max() * 1.1 + 1e-12)
    ax.axvspan(-lim, 0, color="C3", alpha=0.08, label="points uphill")
    ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.5, label=f"g_B, B={batch_size}")
    ax.plot([grad_norm], [0], "k*", ms=14, label="full gradient G")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("component along G")
    ax.set_ylabel("component along main noise direction")
    ax.legend(fontsize=7, loc="upper left")
    return ax


__all__ = [
    "batch_colors",
    "plot_accumulation",
    "plot_best_lr",
    "plot_gradient_cloud",
    "plot_gradient_variance",
    "plot_lr_sweep",
    "plot_memory",
    "plot_noise_scale",
    "plot_step_losses",
    "plot_steps_to_target",
    "plot_throughput",
]
