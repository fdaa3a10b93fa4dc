"""Explorer for lesson 05: trials, how much the second axis matters, and the method.

Left panel: the landscape (x always matters; the slider sets how much y matters) and the
trials of the chosen method, with a rug of the distinct x values tried. Right panel: how
often each method beats the grid over many landscapes of this shape at this budget, the
number that decides which method to use.
"""

from __future__ import annotations

import warnings
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse import search
from hpcourse.effective_dimension import Landscape, distinct_values, grid_vs_random, win_rates
from hpcourse.plots.search import METHOD_STYLE, plot_landscape
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer

BUDGETS = (4, 9, 16, 25, 36, 49, 64)


class SearchExplorer(Explorer):
    """Controls ``n_trials`` (a square number, so a grid exists), ``y_weight`` (how much y
    matters; x matters with weight 1) and ``method``.

    ``state`` holds the numbers behind the figure: ``distinct_x``, ``distinct_y``,
    ``best_loss`` and ``win_rates`` (random's and Sobol's share of repeats won against the
    grid, on ``repeats`` landscapes of this shape).
    """

    def __init__(self, centre: tuple[float, float], *, repeats: int, seed: int) -> None:
        self.centre = centre
        self.repeats = repeats
        self.seed = seed
        style = {"description_width": "initial"}
        controls = {
            "n_trials": widgets.SelectionSlider(
                options=list(BUDGETS), value=9, description="trials", style=style
            ),
            "y_weight": widgets.FloatSlider(
                value=0.0,
                min=0.0,
                max=1.0,
                step=0.05,
                description="how much y matters (x = 1)",
                continuous_update=False,
                style=style,
            ),
            "method": widgets.Dropdown(
                options=list(search.METHODS), value="random", description="method"
            ),
        }
        super().__init__(controls)

    def compute(self, n_trials: int, y_weight: float, method: str) -> dict[str, Any]:
        land = Landscape((1.0, float(y_weight)), self.centre)
        with warnings.catch_warnings():  # Sobol prefers powers of 2; the squares 9, 25... are not
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            trials = search.propose(land.space(), method, int(n_trials), seed=self.seed)
            duels = grid_vs_random(
                (1.0, float(y_weight)),
                budgets=[int(n_trials)],
                repeats=self.repeats,
                methods=("grid", "random", "sobol"),
                seed=self.seed,
            )
        rates = {
            m: float(win_rates(duels, method=m)["win_rate"].iloc[0]) for m in ("random", "sobol")
        }
        return {
            "landscape": land,
            "trials": trials,
            "method": method,
            "n_trials": int(n_trials),
            "y_weight": float(y_weight),
            "distinct_x": distinct_values(trials, "x"),
            "distinct_y": distinct_values(trials, "y"),
            "best_loss": float(land.loss_of(trials).min()),
            "win_rates": rates,
        }

    def describe(self, state: dict[str, Any]) -> str:
        rates = state["win_rates"]
        return (
            f"<b>{state['method']}, {state['n_trials']} trials</b>: "
            f"{state['distinct_x']} distinct values of x, {state['distinct_y']} of y; "
            f"best loss {state['best_loss']:.3f}. Over {self.repeats} landscapes of this "
            f"shape, random beats the grid in {100 * rates['random']:.0f}% and Sobol in "
            f"{100 * rates['sobol']:.0f}%."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, (left, right) = plt.subplots(
            1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.25, 1]}
        )
        plot_landscape(state["landscape"], state["trials"], method=state["method"], ax=left)
        names = ["random", "sobol"]
        values = [state["win_rates"][m] for m in names]
        right.bar(names, values, color=[METHOD_STYLE[m]["color"] for m in names])
        right.axhline(0.5, color="k", ls=":", lw=1)
        for i, v in enumerate(values):
            right.text(i, v + 0.02, f"{100 * v:.0f}%", ha="center", fontsize=9)
        right.set_ylim(0, 1)
        right.set_ylabel("share of landscapes it beats the grid")
        right.set_title(
            f"{self.repeats} landscapes, y weight {state['y_weight']:g}, "
            f"{state['n_trials']} trials",
            fontsize=10,
        )
        fig.tight_layout()
        return fig


def search_explorer(
    landscape: Landscape | None = None,
    *,
    repeats: int = 200,
    seed: int | None = None,
) -> SearchExplorer:
    """Build the explorer around ``landscape``'s best point (default: one drawn from the
    course seed). ``repeats`` landscapes give the win rates on the right (200 take a
    fraction of a second per move).

    In a notebook cell, ``search_explorer(land)`` as the last line shows it; from Python,
    ``w.controls["method"].value = "grid"`` redraws and ``w.state["distinct_x"]`` is then
    the grid's count.
    """
    check_number("repeats", repeats, low=10, integer=True)
    seed = resolve_seed(seed)
    if landscape is None:
        landscape = Landscape.draw((1.0, 0.0), seed)
    if landscape.dims != 2:
        raise ValueError(
            f"landscape with {landscape.dims} axes is not allowed: the explorer draws 2-D ones."
        )
    centre = (landscape.centre[0], landscape.centre[1])
    return SearchExplorer(centre, repeats=repeats, seed=seed)


__all__ = ["BUDGETS", "SearchExplorer", "search_explorer"]
