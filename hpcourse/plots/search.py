"""Pictures for lesson 05 (grid vs random search). Each takes data computed by
:mod:`hpcourse.effective_dimension`, :mod:`hpcourse.search` or :mod:`hpcourse.importance`
and an optional ``ax``, and returns the ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from hpcourse.effective_dimension import Landscape

METHOD_STYLE: dict[str, dict[str, Any]] = {
    "grid": {"marker": "s", "color": "tab:blue"},
    "random": {"marker": "o", "color": "tab:orange"},
    "sobol": {"marker": "^", "color": "tab:green"},
}


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


def _legend_outside(ax: Axes, **kwargs: Any) -> None:
    """A legend to the right of the axes, where it cannot cover any data."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, **kwargs)


def plot_landscape(
    landscape: Landscape,
    trials: Sequence[Mapping[str, Any]] = (),
    *,
    method: str = "",
    ax: Axes | None = None,
    resolution: int = 150,
) -> Axes:
    """A 2-D landscape as a heat map (dark = low loss), its best point (white star), the
    trials (markers; the best one circled in red) and, along the bottom edge, one tick per
    distinct x value tried: the values of the axis that matters that the search tested.
    No legend (it would cover the map): the notebook text names the markers."""
    if landscape.dims != 2:
        raise ValueError(
            f"landscape with {landscape.dims} axes is not allowed: plot_landscape draws 2-D ones."
        )
    ax = _ax(ax, (4.6, 4.2))
    ticks = (np.arange(resolution) + 0.5) / resolution
    gx, gy = np.meshgrid(ticks, ticks)
    loss = landscape.loss(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    image = ax.imshow(
        loss, origin="lower", extent=(0, 1, 0, 1), cmap="magma", vmin=0, vmax=sum(landscape.weights)
    )
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="loss")
    ax.plot(*landscape.centre, "*", color="white", ms=14, mec="black")
    weights = ", ".join(
        f"{n} {w:g}" for n, w in zip(landscape.names, landscape.weights, strict=True)
    )
    title = f"how much each axis matters: {weights}"
    if trials:
        unit = landscape.space().to_unit(trials)
        style: dict[str, Any] = METHOD_STYLE.get(method, {"marker": "o", "color": "tab:orange"})
        ax.scatter(unit[:, 0], unit[:, 1], s=36, edgecolor="white", zorder=3, **style)
        best = int(np.argmin(landscape.loss(unit)))
        ax.plot(*unit[best], "o", ms=14, mfc="none", mec="red", mew=2)
        for x in np.unique(unit[:, 0]):  # a rug of the x values tried, inside the frame
            ax.plot([x, x], [0.0, 0.05], color=style["color"], lw=2.5)
        n_x = len(np.unique(unit[:, 0]))
        title = f"{method or 'trials'}: {len(unit)} trials, {n_x} values of x\n{title}"
    ax.set_title(title, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (unit scale)")
    ax.set_ylabel("y (unit scale)")
    return ax


def plot_win_rates(rates: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Random search's win rate over the grid against the number of trials, one line per
    landscape shape (ordered colours: the more the second axis matters, the lighter), with
    standard-error bars; the dotted line is a coin flip."""
    _require(rates, ["n_trials", "win_rate", "stderr"], "rates")
    ax = _ax(ax, (6.5, 3.8))
    groups = list(rates.groupby("landscape", sort=False)) if "landscape" in rates else [("", rates)]
    cmap = plt.get_cmap("viridis")
    for i, (name, g) in enumerate(groups):
        color = cmap(0.85 * i / max(len(groups) - 1, 1))
        ax.errorbar(
            g["n_trials"], g["win_rate"], yerr=g["stderr"], fmt="-o", ms=4, color=color, label=name
        )
    ax.axhline(0.5, color="k", ls=":", lw=1, label="coin flip")
    ax.set_ylim(0, 1)
    ax.set_xticks(sorted(rates["n_trials"].unique()))
    ax.set_xlabel("trials (grid: k × k)")
    ax.set_ylabel("share of repeats random wins")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return ax


def plot_real_search(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Validation loss against learning rate for every run of every repeat: grid runs as
    squares, random runs as dots; diverged runs as crosses along the top."""
    _require(table, ["lr", "method", "final_val_loss", "diverged"])
    ax = _ax(ax, (7, 3.8))
    ok = table[~table["diverged"].astype(bool)]
    top = float(ok["final_val_loss"].max()) * 1.08 if len(ok) else 3.0
    for method in ("grid", "random"):
        style = METHOD_STYLE[method]
        rows = ok[ok["method"] == method]
        ax.scatter(rows["lr"], rows["final_val_loss"], s=18, alpha=0.7, label=f"{method}", **style)
        gone = table[(table["method"] == method) & table["diverged"].astype(bool)]
        if len(gone):
            ax.scatter(
                gone["lr"],
                np.full(len(gone), top),
                marker="x",
                color=style["color"],
                s=22,
                label=f"{method}: diverged",
            )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final validation loss")
    ax.grid(alpha=0.3, which="both")
    _legend_outside(ax)
    return ax


def plot_spread(
    unit_points: Mapping[str, np.ndarray], ax: Axes | None = None, *, title: str = ""
) -> Axes:
    """Points of one or more methods in the unit square (equal aspect), to see clumps and
    holes; ``unit_points`` maps a method name to an ``(n, 2)`` array."""
    ax = _ax(ax, (4, 4))
    for method, points in unit_points.items():
        p = np.asarray(points, dtype=float)
        style: dict[str, Any] = METHOD_STYLE.get(method, {"marker": "o", "color": "k"})
        ax.scatter(p[:, 0], p[:, 1], s=16, label=method, **style)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks(np.linspace(0, 1, 5))
    ax.set_yticks(np.linspace(0, 1, 5))
    ax.grid(alpha=0.4)
    ax.set_title(title, fontsize=10)
    return ax


def plot_discrepancy(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Histograms of the discrepancy of each method's point sets (log scale: lower is
    more even)."""
    _require(table, ["method", "discrepancy"])
    ax = _ax(ax, (5, 3.6))
    values = table["discrepancy"].astype(float)
    edges = np.geomspace(values.min() * 0.9, values.max() * 1.1, 40).tolist()
    for method, g in table.groupby("method", sort=False):
        ax.hist(g["discrepancy"], bins=edges, alpha=0.7, label=str(method), **_hist_color(method))
    ax.set_xscale("log")
    ax.set_xlabel("discrepancy (lower = more even)")
    ax.set_ylabel("point sets")
    ax.legend(fontsize=8)
    return ax


def _hist_color(method: Any) -> dict[str, Any]:
    style = METHOD_STYLE.get(str(method))
    return {"color": style["color"]} if style else {}


def plot_rounds(
    rounds: Mapping[str, pd.DataFrame],
    ax: Axes | None = None,
    *,
    zoomed: tuple[float, float] | None = None,
    metric: str = "final_val_loss",
) -> Axes:
    """Coarse to fine: the metric against learning rate for each round of a search
    (ordered colours, first round darkest), diverged runs as crosses along the top, and
    the zoomed learning-rate range shaded."""
    ax = _ax(ax, (7, 3.8))
    finite = pd.concat([r[metric] for r in rounds.values()]).replace(np.inf, np.nan).dropna()
    top = float(finite.max()) * 1.08 if len(finite) else 3.0
    cmap = plt.get_cmap("viridis")
    for i, (name, table) in enumerate(rounds.items()):
        _require(table, ["lr", metric], name)
        color = cmap(0.85 * i / max(len(rounds) - 1, 1))
        values = table[metric].replace(np.inf, np.nan)
        ok = values.notna()
        ax.scatter(table["lr"][ok], values[ok], s=22, color=color, label=name)
        if (~ok).any():
            ax.scatter(
                table["lr"][~ok], np.full(int((~ok).sum()), top), marker="x", s=22, color=color
            )
    if zoomed is not None:
        ax.axvspan(*zoomed, color="tab:green", alpha=0.12, label="zoomed range")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric.replace("_", " ") + " (× = diverged)")
    ax.grid(alpha=0.3, which="both")
    _legend_outside(ax)
    return ax


def plot_top_fraction(hits: pd.DataFrame, ax: Axes | None = None, *, mark: int = 60) -> Axes:
    """Chance that at least one of n random trials is in the best 5%: the simulation
    (dots, with a band of two standard errors) on top of ``1 - 0.95 ** n`` (line)."""
    _require(hits, ["n_trials", "simulated", "theory", "stderr"], "hits")
    ax = _ax(ax, (6, 3.6))
    n = hits["n_trials"]
    ax.plot(n, hits["theory"], "k-", lw=1.2, label="1 − 0.95ⁿ")
    ax.fill_between(
        n,
        hits["simulated"] - 2 * hits["stderr"],
        hits["simulated"] + 2 * hits["stderr"],
        color="tab:orange",
        alpha=0.25,
        lw=0,
    )
    ax.plot(n, hits["simulated"], "o", ms=2.5, color="tab:orange", label="simulated (± 2 s.e.)")
    if mark in set(n):
        row = hits[n == mark].iloc[0]
        ax.axvline(mark, color="0.5", ls=":", lw=1)
        ax.annotate(
            f"n = {mark}: {row['theory']:.3f}",
            (mark, row["theory"]),
            xytext=(8, -28),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("random trials n")
    ax.set_ylabel("P(one in the best 5%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_importance(shares: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each hyperparameter's share of the variance (bars, largest on top), labelled with
    the rank the usual rule of thumb gives it."""
    _require(shares, ["hyperparameter", "share", "rule_of_thumb"], "shares")
    ax = _ax(ax, (6, 3.2))
    rows = shares.iloc[::-1]
    ax.barh(rows["hyperparameter"], rows["share"], color="tab:blue")
    for y, (share, rank) in enumerate(zip(rows["share"], rows["rule_of_thumb"], strict=True)):
        rule = f"rule of thumb: tier {int(rank)}" if pd.notna(rank) else "rule of thumb: none"
        label = f"{share:.2f} · {rule}"
        ax.text(share + 0.01, y, label, va="center", fontsize=8)
    ax.set_xlim(0, max(0.5, float(shares["share"].max()) + 0.3))
    ax.set_xlabel("share of the variance explained alone (main effect)")
    ax.grid(alpha=0.3, axis="x")
    return ax


__all__ = [
    "METHOD_STYLE",
    "plot_discrepancy",
    "plot_importance",
    "plot_landscape",
    "plot_real_search",
    "plot_rounds",
    "plot_spread",
    "plot_top_fraction",
    "plot_win_rates",
]
