"""Pictures for lesson 03 (batch size and gradient noise). Each takes data computed by
the batch-size modules (a table, an array, a list of histories) and an optional ``ax``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from hpcourse.gradient_noise import LogLogFit
from hpcourse.results import History


def _ax(ax: Axes | None, size: tuple[float, float] = (5.5, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


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
    batch of 32 (100 steps per epoch) and one of 2048 (2 steps) can be compared.
    """
    if not histories:
        raise ValueError("histories=[] is not allowed: give at least one run.")
    ax = _ax(ax, (6.5, 3.8))
    for h in sorted(histories, key=lambda h: h.config.batch_size):
        steps = np.arange(1, len(h.step_loss) + 1) / max(h.steps_per_epoch, 1)
        marker = "o" if len(h.step_loss) < 40 else None
        ax.plot(
            steps,
            h.step_loss,
            lw=0.8,
            marker=marker,
            ms=3,
            label=f"B={h.config.batch_size} ({h.steps_per_epoch} steps/epoch)",
        )
    ax.set_xlabel("epochs (examples seen / training-set size)")
    ax.set_ylabel("minibatch loss")
    ax.set_title(f"per-step training loss, lr={histories[0].config.lr:g}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_lr_sweep(histories: Sequence[History], ax: Axes | None = None) -> Axes:
    """Final validation loss against learning rate, one curve per batch size.

    Diverged runs are drawn as crosses on the top edge; each curve's best lr is starred.
    """
    if not histories:
        raise ValueError("histories=[] is not allowed: give the runs of a sweep.")
    ax = _ax(ax)
    finite = [h.final_val_loss for h in histories if np.isfinite(h.final_val_loss)]
    top = max(finite) * 1.05 if finite else 1.0
    sizes = sorted({h.config.batch_size for h in histories})
    for i, b in enumerate(sizes):
        runs = sorted((h for h in histories if h.config.batch_size == b), key=lambda h: h.config.lr)
        lrs = np.array([h.config.lr for h in runs])
        loss = np.array([h.final_val_loss for h in runs])
        ok = np.isfinite(loss)
        ax.plot(lrs[ok], loss[ok], "-o", ms=4, color=f"C{i}", label=f"B={b}")
        # diverged runs: crosses along the top edge, nudged apart so no colour hides another
        ax.plot(lrs[~ok], np.full((~ok).sum(), top * (1 + 0.012 * i)), "x", color=f"C{i}", ms=7)
        if ok.any():
            j = int(np.nanargmin(np.where(ok, loss, np.nan)))
            ax.plot(lrs[j], loss[j], "*", color=f"C{i}", ms=14, mec="k")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("final validation loss")
    ax.set_title("x on top = diverged, ★ = best lr for that batch", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_best_lr(
    table: pd.DataFrame, noise_scale: float | None = None, ax: Axes | None = None
) -> Axes:
    """Best learning rate against batch size (log-log) beside the linear-scaling prediction.

    ``table`` comes from :func:`hpcourse.results.best_lr_per_batch`. Give ``noise_scale``
    (``B_simple``) to mark it with a vertical line.
    """
    _require(table, ["batch_size", "best_lr", "linear_rule_lr"])
    ax = _ax(ax)
    ax.plot(table["batch_size"], table["best_lr"], "-o", label="best lr (measured)")
    ax.plot(table["batch_size"], table["linear_rule_lr"], "k--", lw=1, label="linear scaling rule")
    if noise_scale is not None and np.isfinite(noise_scale):
        ax.axvline(noise_scale, color="C3", ls=":", label=f"B_simple ≈ {noise_scale:.0f}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_steps_to_target(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Steps needed to reach the target against batch size, with the 'perfect scaling' line.

    Perfect scaling (doubling the batch halves the steps) is drawn from the smallest
    batch; where the measured curve flattens above it, bigger batches stop paying off.
    """
    _require(table, ["batch_size", "steps_to_target"])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    ax.plot(t["batch_size"], t["steps_to_target"], "-o", label="measured")
    b0, s0 = t["batch_size"].iloc[0], t["steps_to_target"].iloc[0]
    if np.isfinite(s0):
        ax.plot(t["batch_size"], s0 * b0 / t["batch_size"], "k--", lw=1, label="perfect scaling")
    for _, row in t[~np.isfinite(t["steps_to_target"])].iterrows():
        ax.annotate(
            "not reached",
            (row["batch_size"], ax.get_ylim()[1]),
            fontsize=8,
            ha="center",
            va="top",
            color="C3",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("steps to target")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_noise_scale(
    table: pd.DataFrame, batch_sizes: Sequence[int] = (), ax: Axes | None = None
) -> Axes:
    """``B_simple`` measured during training (log scale), with optional batch sizes marked."""
    _require(table, ["epoch", "b_simple"])
    ax = _ax(ax)
    ax.plot(table["epoch"], table["b_simple"], "-o", color="C3", label="B_simple")
    for b in batch_sizes:
        ax.axhline(b, color="grey", lw=0.7, ls=":")
        ax.annotate(f"B={b}", (table["epoch"].max(), b), fontsize=7, va="bottom", ha="right")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel("gradient noise scale")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


_MEMORY_PARTS = ("parameters", "gradients", "optimizer_state", "activations")


def plot_memory(
    table: pd.DataFrame, measured: pd.DataFrame | None = None, ax: Axes | None = None
) -> Axes:
    """Memory per training step (kB) against batch size, stacked by what it is made of.

    ``measured`` (optional) is a table with ``batch_size`` and ``saved_bytes`` (from
    :func:`hpcourse.memory.saved_activation_bytes`), drawn as points on the activations.
    """
    _require(table, ["batch_size", *_MEMORY_PARTS])
    ax = _ax(ax)
    t = table.sort_values("batch_size")
    kb = [t[p].to_numpy() / 1024 for p in _MEMORY_PARTS]
    labels = [p.replace("_", " ") for p in _MEMORY_PARTS]
    ax.stackplot(t["batch_size"], *kb, labels=labels, alpha=0.8)
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
    "plot_best_lr",
    "plot_gradient_cloud",
    "plot_gradient_variance",
    "plot_lr_sweep",
    "plot_memory",
    "plot_noise_scale",
    "plot_step_losses",
    "plot_steps_to_target",
]
