"""Explorer for lesson 11: how far each tuning method got for a given number of epochs.

It redraws from a finished :class:`hpcourse.tuning.Race` (no training when a control
moves): best validation loss so far against epochs spent, up to the budget you choose,
for the two methods you pick, as the median over seeds with the range as a band, or one
line per seed.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hpcourse.plots.tuning import METHOD_COLORS, plot_race
from hpcourse.tuning import Race
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer

VIEWS = ("median and range", "each seed")


class TuningExplorer(Explorer):
    """Controls ``budget`` (epochs spent), ``method`` and ``against`` (two methods of the
    race) and ``view``.

    ``state`` holds, for the two methods at that budget: ``best`` (mean over seeds of the
    best validation loss found), ``trials`` (mean trials started) and ``wins`` (seeds on
    which ``method`` found a strictly lower loss than ``against``).
    """

    def __init__(self, race: Race, *, step: int) -> None:
        self.race = race
        methods = list(dict.fromkeys(race.table["method"]))
        budget = race.epoch_budget
        style = {"description_width": "initial"}
        controls = {
            "budget": widgets.IntSlider(
                value=max(step, (budget * 3 // 5) // step * step),
                min=step,
                max=budget,
                step=step,
                description="epochs spent",
                continuous_update=False,
                style=style,
            ),
            "method": widgets.Dropdown(options=methods, value=methods[-1], description="method"),
            "against": widgets.Dropdown(options=methods, value=methods[0], description="against"),
            "view": widgets.ToggleButtons(options=list(VIEWS), value=VIEWS[0]),
        }
        super().__init__(controls)

    def compute(self, budget: int, method: str, against: str, view: str) -> dict[str, Any]:
        table = self.race.table
        shown = list(dict.fromkeys([method, against]))
        best: dict[str, list[float]] = {}
        trials: dict[str, float] = {}
        for name in shown:
            rows = table[table["method"] == name]
            per_seed = [self.race.best_at(name, seed, budget) for seed in rows["seed"].unique()]
            best[name] = per_seed
            started = rows.groupby("seed").apply(
                lambda g, b=budget: int((g["epochs_spent"] - g["epochs"] < b).sum()),
                include_groups=False,
            )
            trials[name] = float(started.mean())
        a, b = np.array(best[method]), np.array(best[against])
        return {
            "budget": int(budget),
            "methods": shown,
            "view": view,
            "best": {k: float(np.nanmean(v)) for k, v in best.items()},
            "per_seed": best,
            "trials": trials,
            "wins": int(np.sum(a < b)),
            "seeds": len(a),
        }

    def describe(self, state: dict[str, Any]) -> str:
        parts = [
            f"<b>{name}</b>: best loss {state['best'][name]:.3f} (mean over seeds), "
            f"{state['trials'][name]:.0f} trials"
            for name in state["methods"]
        ]
        line = f"After {state['budget']} epochs: " + "; ".join(parts) + "."
        if len(state["methods"]) == 2:
            first, second = state["methods"]
            line += (
                f" {first} found a lower loss than {second} on {state['wins']} of "
                f"{state['seeds']} seeds."
            )
        return line

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(7.5, 4))
        plot_race(
            self.race,
            methods=state["methods"],
            budget=state["budget"],
            each_seed=state["view"] == "each seed",
            ax=ax,
        )
        ax.set_title(f"best-so-far up to {state['budget']} epochs", fontsize=10)
        fig.tight_layout()
        return fig


def tuning_explorer(race: Race, *, step: int = 5) -> TuningExplorer:
    """Build the explorer over a finished race (``step``: the slider's step in epochs).

    From Python: ``w.controls["budget"].value = 40`` redraws, and ``w.state["best"]`` is
    then each method's mean best loss after 40 epochs.
    """
    check_number("step", step, low=1, high=race.epoch_budget, integer=True)
    return TuningExplorer(race, step=step)


__all__ = ["METHOD_COLORS", "TuningExplorer", "tuning_explorer"]
