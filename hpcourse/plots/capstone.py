"""Drawings for the capstone: where a budget went, and where a plan would take it."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from hpcourse.results import History


def plot_budget(
    spent: Sequence[tuple[str, float]],
    limit: float,
    plan: float = 0.0,
    plan_fits: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One horizontal bar of model-epochs: each run already charged (grey shades, labelled),
    then a plan (green where it fits, red where it would overspend), and the limit.

    ``plan_fits``: the part of the plan a search would really train (default: all of it
    if it fits, else none)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.2), layout="constrained")
    left = 0.0
    shades = plt.get_cmap("Greys")
    for i, (label, epochs) in enumerate(spent):
        ax.barh(0, epochs, left=left, color=shades(0.35 + 0.4 * (i % 2)), edgecolor="white")
        if epochs >= 0.06 * limit:
            ax.text(left + epochs / 2, 0, label, ha="center", va="center", fontsize=8)
        left += epochs
    if plan > 0:
        fits = plan if plan_fits is None and left + plan <= limit + 1e-9 else (plan_fits or 0.0)
        if fits > 0:
            ax.barh(0, fits, left=left, color="tab:green", alpha=0.8, label="plan: trained")
        if plan - fits > 0:
            ax.barh(
                0,
                plan - fits,
                left=left + fits,
                color="tab:red",
                alpha=0.45,
                hatch="//",
                label="plan: refused or not started",
            )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=2, frameon=False)
    ax.axvline(limit, color="black", lw=2)
    ax.text(limit, 0.5, f" limit {limit:g}", va="bottom", ha="left", fontsize=9)
    ax.set_xlim(0, max(limit, left + plan) * 1.08)
    ax.set_ylim(-0.6, 0.8)
    ax.set_yticks([])
    ax.set_xlabel("model-epochs (one model trained for one epoch = 1)")
    return ax


def plot_runs(runs: dict[str, History], ax: Axes | None = None) -> Axes:
    """Validation accuracy per epoch of each run, named by the dict's keys."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for name, h in runs.items():
        ax.plot(range(len(h.val_acc)), h.val_acc, label=f"{name} ({h.final_val_acc:.3f})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


__all__ = ["plot_budget", "plot_runs"]
