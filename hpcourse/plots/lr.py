"""Pictures for the learning-rate lesson: the bowl, the sweep's U, the range test, schedules.

Every function takes data computed elsewhere (a :class:`~hpcourse.bowl.BowlRun`, a list
of :class:`~hpcourse.training.History`, a :class:`~hpcourse.lr_finder.RangeTestResult`,
learning-rate lists) and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from hpcourse.bowl import BowlRun, bowl_loss, contraction_factors, stability_threshold
from hpcourse.lr_finder import RangeTestResult
from hpcourse.results import History, sweep_points

REGIME_COLORS = {"crawl": "tab:gray", "smooth": "tab:green", "zig-zag": "tab:orange"}
REGIME_COLORS["diverge"] = "tab:red"


def plot_bowl(
    run: BowlRun, ax: Axes | None = None, window: tuple[float, float] | None = None
) -> Axes:
    """Contours of the 2-D bowl and the path gradient descent took across it.

    ``window`` is the half-width of the view along each axis (default: a little more
    than the start point). A diverging path leaves the view; the title says so.
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
) -> Axes:
    """Final ``metric`` against learning rate on a log axis: the U of a learning-rate sweep.

    Diverged runs have no meaningful final value; they are drawn as red crosses at the
    top of the plot, labelled "diverged", so they are visible rather than silently missing.
    The best run (lowest loss, or highest accuracy) gets a star.
    """
    table = sweep_points(histories, metric)
    pts = {k: table[k].to_numpy() for k in ("lr", "value", "diverged")}
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ok = ~pts["diverged"] & np.isfinite(pts["value"])
    line = ax.plot(pts["lr"][ok], pts["value"][ok], "-o", label=label or "final " + metric)[0]
    if ok.any():
        values = pts["value"][ok]
        best = int(np.argmin(values) if "loss" in metric else np.argmax(values))
        ax.plot(pts["lr"][ok][best], values[best], "*", color=line.get_color(), ms=16, mec="k")
    if (~ok).any():
        top = max(ax.get_ylim()[1], float(np.nanmax(pts["value"][ok])) if ok.any() else 1.0)
        bad = pts["lr"][~ok]
        ax.plot(bad, np.full(len(bad), top), "x", color="tab:red", ms=10, mew=2.5)
        ax.annotate(
            "diverged",
            (float(np.exp(np.log(bad).mean())), top),
            textcoords="offset points",
            xytext=(0, -16),
            ha="center",
            color="tab:red",
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(metric.replace("_", " ") + " at the end")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
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
    suggestion = f"suggestion ({result.rule}) = {result.suggestion:.2g}"
    ax.axvline(result.suggestion, color="tab:green", lw=2.5, label=suggestion)
    if result.stopped_at is not None:
        stop = f"stopped (blew up) at {result.stopped_at:.2g}"
        ax.axvline(result.stopped_at, color="tab:red", ls="--", lw=1, label=stop)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale), growing every step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower left")
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
