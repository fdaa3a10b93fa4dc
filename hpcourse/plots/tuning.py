"""Pictures of automated tuning: several methods racing on the same epoch budget.

Optuna draws the rest itself (``optuna.visualization.matplotlib``: optimization history,
parameter importances, intermediate values of pruned trials, the workers' timeline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from hpcourse.plots.tracking import plot_best_so_far

#: One colour per tuning method, the same in every figure of lesson 11.
METHOD_COLORS = {
    "random": "tab:grey",
    "tpe": "tab:blue",
    "random + halving": "tab:orange",
    "tpe + halving": "tab:purple",
    "random + median": "tab:green",
}


def plot_race(
    race: Any,
    *,
    methods: Sequence[str] | None = None,
    budget: int | None = None,
    each_seed: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Best validation loss so far against epochs spent (the compute, whatever the number
    of trials it bought), per method: median over seeds with the range as a band, or
    (``each_seed``) one thin line per seed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    names = list(dict.fromkeys(race.table["method"])) if methods is None else list(methods)
    budget = race.epoch_budget if budget is None else int(budget)
    grid = np.arange(1, budget + 1)
    curves = {k: v for k, v in race.curves(grid).items() if k in names}
    curves = {k: curves[k] for k in names if k in curves}
    if each_seed:
        for name, runs in curves.items():
            for i, run in enumerate(runs):
                label = name if i == 0 else None
                ax.plot(grid, run, color=METHOD_COLORS.get(name), lw=1.2, label=label)
        ax.set_xlabel("epochs spent")
        ax.set_ylabel("best validation loss so far")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title="one line per seed", title_fontsize=8)
    else:
        plot_best_so_far(
            curves, x=grid.tolist(), xlabel="epochs spent", colors=METHOD_COLORS, ax=ax
        )
    ax.set_xlim(0, budget)
    return ax


__all__ = ["METHOD_COLORS", "plot_race"]
