"""Pictures for the learning-rate lesson: the bowl, the sweep's U, the range test, schedules.

Every function takes data computed elsewhere (a :class:`~hpcourse.bowl.BowlRun`, a list
of :class:`~hpcourse.training.History`, a :class:`~hpcourse.lr_finder.RangeTestResult`,
learning-rate lists) and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm

from hpcourse.bowl import BowlRun, bowl_loss, contraction_factors, stability_threshold
from hpcourse.lr_finder import RangeTestResult
from hpcourse.results import History, sweep_points
from hpcourse.validation import check_choice, check_number

REGIME_COLORS = {"crawl": "tab:gray", "smooth": "tab:green", "zig-zag": "tab:orange"}
REGIME_COLORS["diverge"] = "tab:red"


def plot_bowl(
    run: BowlRun, ax: Axes | None = None, window: tuple[float, float] | None = None
) -> Axes:
    """Contours of the 2-D bowl and the path gradient descent took across it.

    ``window`` is the half-width of the view along each axis (default: a little more
    than the start point). A diverging path leaves the view; the title says so. The axes
    have equal aspect, so the contours show how much narrower the steep direction is.
    """
    if run.path.shape[1] != 2:
        raise ValueError(
            f"run has {run.path.shape[1]} dimensions, which is not allowed: "
            "plot_bowl draws 2-D bowls only."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    start = np.abs(run.path[0])
    wx, wy = window if window is not None else (1.25 * start[0] or 1.0, 1.6 * start[1] or 1.0)
    gx, gy = np.meshgrid(np.linspace(-wx, wx, 201), np.linspace(-wy, wy, 161))
    z = bowl_loss(np.stack([gx, gy], axis=-1), run.curvatures)
    ax.contour(gx, gy, z, levels=np.geomspace(z.max() / 300, z.max(), 10), colors="0.75")
    color = REGIME_COLORS[run.regime]
    ax.plot(run.path[:, 0], run.path[:, 1], "-o", color=color, ms=3, lw=1)
    ax.plot(*run.path[0], "ks", ms=6, label="start")
    ax.plot(0, 0, "k*", ms=10, label="minimum")
    ax.set_xlim(-wx, wx)
    ax.set_ylim(-wy, wy)
    ax.set_aspect("equal")  # one unit is as long on both axes: the valley's true shape
    ax.set_xlabel(f"$w_1$ (flat, $L_1$={run.curvatures[0]:g})")
    ax.set_ylabel(f"$w_2$ (steep, $L_2$={run.curvatures[1]:g})")
    ax.set_title(f"lr={run.lr:.3g}: {run.regime}", fontsize=10, color=color)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_bowl_losses(runs: Sequence[BowlRun], ax: Axes | None = None) -> Axes:
    """Loss per step of each run, on a log axis (geometric convergence is a straight line)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    for run in runs:
        color = REGIME_COLORS[run.regime]
        ax.semilogy(run.losses, "-", color=color, label=f"lr={run.lr:.3g} ({run.regime})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return ax


def plot_contraction(
    curvatures: Sequence[float],
    lr: float | None = None,
    ax: Axes | None = None,
    lr_range: tuple[float, float] = (1e-3, 1.0),
) -> Axes:
    """``|1 - lr*L_i|`` against lr: the factor each step multiplies each coordinate by.

    Above the horizontal line at 1 that coordinate grows: the run diverges. The steepest
    curvature crosses it first, at the dashed line ``lr = 2 / L_max``. The optional ``lr``
    is marked, as in the explorer.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    lrs = np.geomspace(*lr_range, 400)
    factors = np.array([contraction_factors(v, curvatures) for v in lrs])
    for i, curvature in enumerate(curvatures):
        ax.plot(lrs, factors[:, i], label=f"axis {i + 1}: L={curvature:g}")
    threshold = stability_threshold(curvatures)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axvline(threshold, color="tab:red", ls="--", lw=1.2)
    ax.axvspan(threshold, lr_range[1], color="tab:red", alpha=0.08)
    ax.text(threshold, 1.75, f" 2/L_max = {threshold:.3g}\n diverges", color="tab:red", fontsize=8)
    if lr is not None:
        ax.axvline(lr, color="tab:blue", lw=2, alpha=0.6, label=f"your lr = {lr:.3g}")
    ax.set_xscale("log")
    ax.set_ylim(0, 2.2)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("|1 - lr L|  (per-step factor)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_lr_sweep(
    histories: Sequence[History],
    ax: Axes | None = None,
    metric: str = "val_loss",
    label: str | None = None,
    color: str | None = None,
) -> Axes:
    """Final ``metric`` against learning rate on a log axis: the U of a learning-rate sweep.

    Diverged runs have no final value; they are drawn as crosses (in the series' colour)
    along the top of the plot, labelled "diverged", so they are visible rather than
    silently missing. The best run (lowest loss, or highest accuracy) gets a star. Call it
    again on the same ``ax`` with a ``label`` per sweep to compare them; the legend then
    sits outside the axes, off the data.
    """
    table = sweep_points(histories, metric)
    pts = {k: table[k].to_numpy() for k in ("lr", "value", "diverged")}
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ok = ~pts["diverged"] & np.isfinite(pts["value"])
    line = ax.plot(pts["lr"][ok], pts["value"][ok], "-o", color=color, label=label)[0]
    if ok.any():
        values = pts["value"][ok]
        best = int(np.argmin(values) if "loss" in metric else np.argmax(values))
        ax.plot(pts["lr"][ok][best], values[best], "*", color=line.get_color(), ms=16, mec="k")
    if (~ok).any():
        top = max(ax.get_ylim()[1], float(np.nanmax(pts["value"][ok])) if ok.any() else 1.0)
        bad = pts["lr"][~ok]
        ax.plot(bad, np.full(len(bad), top), "x", color=line.get_color(), ms=10, mew=2.5)
        ax.annotate(
            "diverged",
            (float(np.exp(np.log(bad).mean())), top),
            textcoords="offset points",
            xytext=(0, -16),
            ha="center",
            color=line.get_color(),
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(metric.replace("_", " ") + " at the end")
    ax.grid(alpha=0.3, which="both")
    if label is not None:  # a named series is compared with others: legend outside the data
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax


def plot_sweep_curves(
    histories: Sequence[History],
    ax: Axes | None = None,
    metric: str = "val_loss",
    cmap: str = "viridis",
) -> Axes:
    """One curve per run of an lr sweep, coloured in lr order along a colormap (small = dark).

    Ordered colours for ordered values: the colour bar reads like the lr axis, so no
    legend has to be matched by eye. The colours are spread evenly over the runs' *rank*
    (not their log lr), so neighbouring learning rates stay easy to tell apart. A run that
    diverged in its first epoch has no curve to draw; it is listed in the title instead of
    getting a colour for nothing.
    """
    check_choice("metric", metric, ("train_loss", "train_acc", "val_loss", "val_acc"))
    if not histories:
        raise ValueError("histories=[] is not allowed: give at least one run.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    runs = sorted(histories, key=lambda run: run.config.lr)
    drawn = [h for h in runs if not (h.diverged and len(getattr(h, metric)) < 2)]
    gone = [f"{h.config.lr:g}" for h in runs if h not in drawn]
    if drawn:
        colours = plt.get_cmap(cmap)(np.linspace(0.0, 0.9, len(drawn)))
        for h, colour in zip(drawn, colours, strict=True):
            style = ":" if h.diverged else "-"  # diverged later: drawn up to the blow-up
            ax.plot(h.epoch, getattr(h, metric), style, color=colour, lw=2)
        bounds = np.arange(len(drawn) + 1) - 0.5
        mappable = ScalarMappable(
            norm=BoundaryNorm(bounds, len(drawn)), cmap=ListedColormap(colours)
        )
        bar = ax.figure.colorbar(
            mappable, ax=ax, ticks=np.arange(len(drawn)), label="learning rate"
        )
        bar.ax.set_yticklabels([f"{h.config.lr:g}" for h in drawn])
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    if gone:
        ax.set_title(f"diverged in epoch 1 (no curve): lr = {', '.join(gone)}", fontsize=9)
    return ax


def plot_range_test(result: RangeTestResult, ax: Axes | None = None) -> Axes:
    """Smoothed loss against lr (log axis), with the minimum, the suggestion and the stop."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    finite = np.isfinite(result.raw_losses)
    ax.plot(result.lrs[finite], result.raw_losses[finite], color="0.8", lw=0.8, label="raw loss")
    ax.plot(result.lrs, result.losses, color="tab:blue", lw=2, label="smoothed loss")
    finite_smoothed = result.losses[np.isfinite(result.losses)]
    low = float(finite_smoothed.min())
    start = float(finite_smoothed[: max(5, len(finite_smoothed) // 10)].max())
    ax.set_ylim(0.9 * low, max(1.3 * start, 1.1 * low))  # the blow-up itself is off the chart
    ax.axvline(result.min_lr, color="k", ls=":", lw=1, label=f"minimum at {result.min_lr:.2g}")
    steep = f"steepest at {result.steepest_lr:.2g}"
    ax.axvline(result.steepest_lr, color="tab:purple", ls="-.", lw=1, label=steep)
    valley = f"valley at {result.valley_lr:.2g}"
    ax.axvline(result.valley_lr, color="tab:orange", ls="--", lw=1, label=valley)
    suggestion = f"suggestion ({result.rule}) = {result.suggestion:.2g}"
    ax.axvline(result.suggestion, color="tab:green", lw=2.5, label=suggestion)
    if result.stopped_at is not None:
        stop = f"stopped (blew up) at {result.stopped_at:.2g}"
        ax.axvline(result.stopped_at, color="tab:red", ls="--", lw=1, label=stop)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale), growing every step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # outside: no overlap
    return ax


def plot_schedules(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    steps_per_epoch: int | None = None,
) -> Axes:
    """Learning rate against step, one line per named schedule (e.g. from ``lr_curve``).

    With ``steps_per_epoch`` the x axis is in epochs, which is how schedules are set.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, lrs in curves.items():
        x = np.arange(len(lrs), dtype=float)
        if steps_per_epoch:
            x = x / steps_per_epoch
        ax.plot(x, lrs, lw=2, label=name)
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # outside: no overlap
    return ax


def plot_stability_probe(
    histories: Sequence[History], limit: float, ax: Axes | None = None, steps: int | None = None
) -> Axes:
    """Full-batch loss per step, divided by the first step's, one curve per lr.

    Colours run from blue (lr below ``limit``, e.g. ``2 / sharpness``) through grey (at
    it) to red (above it), so "which side of the limit" is read off the colour; the
    dashed line at 1 is where the run started.
    """
    check_number("limit", limit, low=0, low_open=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    factors = [h.config.lr / limit for h in histories]
    low, high = min(min(factors), 0.99), max(max(factors), 1.01)
    norm = TwoSlopeNorm(vcenter=1.0, vmin=low, vmax=high)
    colormap = plt.get_cmap("coolwarm")
    for h, factor in sorted(zip(histories, factors, strict=True), key=lambda pair: pair[1]):
        losses = np.asarray(h.step_loss[:steps] if steps else h.step_loss)
        ax.plot(losses / losses[0], "-", color=colormap(norm(factor)), lw=2, label=f"{factor:.2g}")
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_xlabel("full-batch step")
    ax.set_ylabel("training loss / loss at step 0")
    ax.grid(alpha=0.3)
    ax.legend(title="lr x sharpness / 2", fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax


def plot_seed_spread(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Final validation loss against lr, one thin line per seed and their mean in black.

    ``table`` has columns ``seed``, ``lr`` and ``final_val_loss`` (diverged runs, whose
    loss is ``inf``, are left out). The vertical spread at one lr is the run-to-run noise
    that a single run cannot show.
    """
    for column in ("seed", "lr", "final_val_loss"):
        if column not in table.columns:
            raise ValueError(
                f"table is missing column {column!r}, which is not allowed: it needs "
                "seed, lr and final_val_loss."
            )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    finite = table[np.isfinite(table["final_val_loss"])]
    for seed, runs in finite.groupby("seed"):
        runs = runs.sort_values("lr")
        ax.plot(
            runs["lr"], runs["final_val_loss"], "-o", lw=1, ms=4, alpha=0.7, label=f"seed {seed}"
        )
    mean = finite.groupby("lr")["final_val_loss"].mean()
    ax.plot(mean.index, mean.values, "k-", lw=2.5, label="mean over seeds")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("val loss at the end")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax
