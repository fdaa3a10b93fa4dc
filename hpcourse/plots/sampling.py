"""Pictures for lesson 04 (sampling on the right scale). Each takes data computed by
:mod:`hpcourse.sampling` or :mod:`hpcourse.space` (arrays of samples, tables, Histories)
and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm

from hpcourse.results import History
from hpcourse.sampling import LABELS, averaging_window, decade_edges

#: One colour per scale, the same in every figure of the lesson.
SCALE_COLORS = {"linear": "tab:orange", "log": "tab:blue", "one_minus_log": "tab:blue"}


def _ax(ax: Axes | None, size: tuple[float, float] = (5.5, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}: build it with the matching "
            "hpcourse.sampling function."
        )


def _label(name: str) -> str:
    return LABELS.get(name, name)


def plot_sample_histograms(
    samples: Mapping[str, Any], low: float, high: float, ax: Axes | None = None
) -> Axes:
    """Where the samples of each scale land, on a log axis: one outline histogram per
    scale with bins a quarter of a decade wide, and a dotted line at each power of ten.

    On a log axis a log-uniform sample is flat; a uniform one is a ramp that piles up in
    the top decade.
    """
    if not samples:
        raise ValueError("samples={} is not allowed: give at least one named sample.")
    ax = _ax(ax)
    edges = decade_edges(low, high)
    bins = np.geomspace(low, high, 4 * (len(edges) - 1) + 1).tolist()
    for name, values in samples.items():
        v = np.asarray(values, dtype=float)
        ax.hist(
            v,
            bins=bins,
            weights=np.full(v.size, 1 / v.size),
            histtype="step",
            lw=2,
            color=SCALE_COLORS.get(name),
            label=f"{_label(name)} ({v.size:,})",
        )
    for edge in edges[1:-1]:
        ax.axvline(edge, color="0.6", ls=":", lw=1)
    tallest = max(
        float(np.histogram(np.asarray(v, dtype=float), bins=bins)[0].max()) / np.size(v)
        for v in samples.values()
    )
    ax.set_ylim(0, 1.35 * tallest)  # headroom: the legend sits above the bars, not on them
    ax.set_xscale("log")
    ax.set_xlabel("sampled value (log scale)")
    ax.set_ylabel("share of samples per bin")
    ax.legend(fontsize=8, loc="upper center", ncols=len(samples))
    ax.grid(alpha=0.3, axis="y")
    return ax


def plot_decade_shares(table: pd.DataFrame, names: Sequence[str], ax: Axes | None = None) -> Axes:
    """Side-by-side bars: the share of each named sample in each decade (a table from
    :func:`hpcourse.sampling.decade_shares`), with a dashed line at the equal share
    ``1 / number of decades`` that a log-uniform sampler aims at."""
    _require(table, ["decade", *names], "table")
    ax = _ax(ax)
    x = np.arange(len(table))
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        offset = (k - (len(names) - 1) / 2) * width
        bars = ax.bar(
            x + offset, table[name], width, color=SCALE_COLORS.get(name), label=_label(name)
        )
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in table[name]], fontsize=7, padding=1)
    ax.axhline(1 / len(table), color="k", ls="--", lw=1, label="equal share")
    ax.set_xticks(x, table["decade"], fontsize=8)
    ax.set_xlabel("decade")
    ax.set_ylabel("share of samples")
    ax.set_ylim(0, 1.08)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def plot_averaging_window(
    samples: Mapping[str, Any] | None = None,
    low: float = 0.9,
    high: float = 0.999,
    ax: Axes | None = None,
) -> Axes:
    """The averaging window ``1 / (1 - beta)`` against ``beta`` (log y axis), and, below
    the curve, where each named sample of betas landed (one short tick per sample).

    The curve is nearly flat at 0.9 and shoots up near 1: equal steps in ``beta`` are far
    from equal steps in the window.
    """
    ax = _ax(ax)
    beta = np.linspace(low, high, 400)
    ax.plot(beta, averaging_window(beta), "k-", lw=2, label="window 1/(1 − β)")
    for k, (name, values) in enumerate((samples or {}).items()):
        v = np.asarray(values, dtype=float)
        y = averaging_window(low) * 0.7 ** (k + 1)  # a row of ticks per sample, below
        ax.plot(
            v,
            np.full(v.size, y),
            "|",
            ms=10,
            alpha=0.25,
            color=SCALE_COLORS.get(name),
            label=f"β samples, {_label(name)} ({np.mean(v < 0.99):.0%} below 0.99)",
        )
    for window in (10, 100, 1000):
        if 1 / (1 - low) <= window <= 1 / (1 - high):
            ax.axhline(window, color="0.6", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("β (linear scale)")
    ax.set_ylabel("averaging window (steps, log scale)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_cdfs(
    samples: Mapping[str, Any], *, log: bool = False, xlabel: str = "value", ax: Axes | None = None
) -> Axes:
    """The cumulative share of each named sample (the share of samples at or below each
    value). The largest vertical gap between two curves is their Kolmogorov-Smirnov
    distance (:func:`hpcourse.sampling.ks_distance`)."""
    if not samples:
        raise ValueError("samples={} is not allowed: give at least one named sample.")
    ax = _ax(ax, (4.5, 3.4))
    for name, values in samples.items():
        v = np.sort(np.asarray(values, dtype=float))
        ax.step(
            v,
            np.arange(1, v.size + 1) / v.size,
            where="post",
            lw=2,
            color=SCALE_COLORS.get(name),
            label=_label(name),
        )
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of samples at or below")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")  # cumulative curves start low: the corner is free
    return ax


def plot_momentum_runs(histories: Sequence[History], ax: Axes | None = None) -> Axes:
    """Validation loss per epoch of runs that differ only in momentum, coloured in order of
    their averaging window (dark = short, light = long, on a log colour scale)."""
    if not histories:
        raise ValueError("histories=[] is not allowed: give at least one run.")
    ax = _ax(ax)
    windows = [averaging_window(h.config.momentum) for h in histories]
    norm = LogNorm(min(windows) / 1.5, max(windows) * 1.2)
    cmap = plt.get_cmap("viridis")
    for h, window in sorted(zip(histories, windows, strict=True), key=lambda p: p[1]):
        ax.plot(
            h.epoch,
            h.val_loss,
            "-o",
            ms=3,
            color=cmap(norm(window)),
            label=f"β = {h.config.momentum:g} (window {window:.0f})"
            + (" diverged" if h.diverged else ""),
        )
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel("validation loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def plot_sweep_trials(
    results: pd.DataFrame,
    threshold: float = 0.1,
    fit: Mapping[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Every trial of the lr sweeps: its best validation loss against its learning rate
    (log axis), one colour per scale, with the region above ``threshold`` shaded. Diverged
    trials are crosses along the top. ``fit`` (from :func:`hpcourse.sampling.fit_best_lr`)
    adds the fitted parabola over the trials it used and a line at its lowest point."""
    _require(results, ["scale", "lr", "best_val_loss"], "results")
    ax = _ax(ax)
    finite = results[np.isfinite(results["best_val_loss"])]
    top = float(finite["best_val_loss"].max()) * 1.05 if len(finite) else 1.0
    for scale, group in results.groupby("scale", sort=False):
        ok = np.isfinite(group["best_val_loss"])
        color = SCALE_COLORS.get(str(scale))
        ax.plot(
            group.loc[ok, "lr"],
            group.loc[ok, "best_val_loss"],
            "o",
            ms=5,
            alpha=0.7,
            color=color,
            label=f"{_label(str(scale))} trials ({(group['lr'] > threshold).mean():.0%} "
            f"above {threshold:g})",
        )
        if (~ok).any():
            ax.plot(group.loc[~ok, "lr"], np.full(int((~ok).sum()), top), "x", color=color)
    if fit is not None and np.isfinite(fit["lr"]):
        xs = np.linspace(math.log10(fit["low"]), math.log10(fit["high"]), 100)
        ax.plot(10**xs, np.polyval(fit["coefficients"], xs), "k--", lw=1.5, label="parabola fit")
        ax.axvline(fit["lr"], color="k", ls=":", lw=1.5, label=f"fitted best lr {fit['lr']:.2g}")
    low = min(float(results["lr"].min()), threshold) / 1.5
    high = max(float(results["lr"].max()), threshold) * 1.5
    ax.axvspan(threshold, high, color="0.85", zorder=0, label=f"lr > {threshold:g}")
    ax.set_xlim(low, high)
    bottom = float(finite["best_val_loss"].min()) if len(finite) else 0.0
    span = max(top - bottom, 1e-3)
    ax.set_ylim(bottom - 0.05 * span, top + 0.45 * span)  # room for the legend above the data
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("best validation loss of the trial")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center", ncols=2)
    return ax


def plot_sweep_bests(comparison: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Per repeat, the best validation loss the uniform sweep found and the one the
    log-uniform sweep found with the same budget, joined by a line (lower is better)."""
    _require(comparison, ["repeat", "uniform_best_loss", "log_uniform_best_loss"], "comparison")
    ax = _ax(ax, (4.5, 3.6))
    x = comparison["repeat"].to_numpy()
    uni, log = comparison["uniform_best_loss"], comparison["log_uniform_best_loss"]
    ax.vlines(x, np.minimum(uni, log), np.maximum(uni, log), color="0.6", lw=1)
    ax.plot(x, uni, "o", color=SCALE_COLORS["linear"], label="uniform sweep's best")
    ax.plot(x, log, "s", color=SCALE_COLORS["log"], label="log-uniform sweep's best")
    ax.set_xticks(x)
    ax.set_xlabel("repeat (same random numbers, same training seed)")
    ax.set_ylabel("best validation loss")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


__all__ = [
    "SCALE_COLORS",
    "plot_averaging_window",
    "plot_cdfs",
    "plot_decade_shares",
    "plot_momentum_runs",
    "plot_sample_histograms",
    "plot_sweep_bests",
    "plot_sweep_trials",
]
