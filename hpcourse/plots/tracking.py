"""Pictures of many runs: parallel coordinates of a sweep, and best-so-far curves.

Both take tables (from :meth:`hpcourse.tracking.ExperimentLog.compare`,
:func:`hpcourse.search.run_search` or :func:`hpcourse.tuning.study_table`) and an
optional ``ax``, and return the ``ax``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes


def parallel_coordinates_data(
    table: pd.DataFrame, columns: Sequence[str], log_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Each column rescaled to [0, 1] (on a log scale for ``log_columns``): the numbers a
    parallel-coordinates plot draws. Non-finite values become NaN (drawn as gaps)."""
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"columns={list(columns)!r} is not allowed: the table lacks {missing}.")
    out = pd.DataFrame(index=table.index)
    for c in columns:
        values = pd.to_numeric(table[c], errors="coerce").astype(float)
        values = values.where(np.isfinite(values))
        if c in log_columns:
            values = np.log10(values.where(values > 0))
        lo, hi = values.min(), values.max()
        out[c] = (values - lo) / (hi - lo) if hi > lo else 0.5
    return out


def plot_parallel_coordinates(
    table: pd.DataFrame,
    columns: Sequence[str],
    color_by: str,
    *,
    log_columns: Sequence[str] = (),
    ax: Axes | None = None,
) -> Axes:
    """One line per run across ``columns`` (each axis scaled to its own range), coloured by
    ``color_by`` (darker = lower, e.g. a loss); the best run is drawn last, thickest."""
    data = parallel_coordinates_data(table, columns, log_columns)
    if color_by not in table:
        raise ValueError(f"color_by={color_by!r} is not allowed: the table has no such column.")
    score = pd.to_numeric(table[color_by], errors="coerce").astype(float)
    finite = score[np.isfinite(score)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * len(columns) + 2, 3.6))
    cmap = plt.get_cmap("viridis")
    lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    order = score.fillna(np.inf).sort_values(ascending=False).index  # best drawn last
    xs = np.arange(len(columns))
    for i in order:
        s = score[i]
        color = (
            "lightgrey" if not np.isfinite(s) else cmap((s - lo) / (hi - lo) if hi > lo else 0.5)
        )
        ax.plot(xs, data.loc[i, list(columns)], color=color, lw=1.0, alpha=0.8)
    if len(finite):
        best = finite.idxmin()
        ax.plot(xs, data.loc[best, list(columns)], color="crimson", lw=2.5, label="best run")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xticks(xs, [f"{c}\n(log)" if c in log_columns else c for c in columns], fontsize=8)
    ax.set_yticks([0, 1], ["low", "high"])
    ax.set_title(f"one line per run, coloured by {color_by} (dark = low; grey = none)", fontsize=10)
    ax.grid(axis="x", alpha=0.4)
    return ax


def best_so_far_spread(curves: Sequence[Sequence[float]]) -> pd.DataFrame:
    """Median and range, trial by trial, of several best-so-far curves (one per seed)."""
    length = min(len(c) for c in curves)
    matrix = np.array([list(c)[:length] for c in curves], dtype=float)
    with warnings.catch_warnings():  # a point where no seed has a result yet stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.DataFrame(
            {
                "trial": np.arange(1, length + 1),
                "median": np.nanmedian(matrix, axis=0),
                "low": np.nanmin(matrix, axis=0),
                "high": np.nanmax(matrix, axis=0),
            }
        )


def plot_best_so_far(
    curves: Mapping[str, Sequence[Sequence[float]]],
    *,
    ylabel: str = "best validation loss so far",
    x: Sequence[float] | None = None,
    xlabel: str = "trial",
    colors: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Best-so-far against trial number (or against ``x``, e.g. epochs spent, one value per
    point of the curves) for each method: the median over seeds as a line, the range over
    seeds as a band. ``colors`` fixes a colour per method (the same in every figure)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, runs in curves.items():
        spread = best_so_far_spread(runs)
        xs = spread["trial"] if x is None else np.asarray(x, dtype=float)[: len(spread)]
        color = None if colors is None else colors.get(name)
        line = ax.plot(xs, spread["median"], lw=2, color=color, label=f"{name} (median)")[0]
        ax.fill_between(xs, spread["low"], spread["high"], color=line.get_color(), alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


__all__ = [
    "best_so_far_spread",
    "parallel_coordinates_data",
    "plot_best_so_far",
    "plot_parallel_coordinates",
]
