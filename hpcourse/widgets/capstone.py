"""The budget planner: pick how many configs to try and how long to train each, and see
what the capstone's budget would let a search train, before spending anything.

Nothing is trained when a control moves: the plan is judged by the same rules the
capstone applies (:func:`hpcourse.capstone.configs_that_fit` and ``Budget.check``), so a
redraw is instant.

    ex = budget_explorer(capstone)
    ex.controls["n_configs"].value = 6
    ex.state["trained"], ex.state["refusal"]
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.capstone import Budget, BudgetExceeded, Capstone, configs_that_fit, epochs_trained
from hpcourse.plots.capstone import plot_budget
from hpcourse.validation import check_choice, check_number
from hpcourse.widgets.base import Explorer

STARTS = ("after the runs already made", "an unspent budget")


class BudgetExplorer(Explorer):
    """Controls ``n_configs``, ``epochs`` (per config) and ``start`` (the capstone's spend
    so far, or a fresh budget). ``state``: ``planned`` model-epochs, ``trained`` (configs a
    search would train), ``remaining`` (model-epochs left before the plan), ``refusal``
    (the budget's message if not even the first config fits, else "")."""

    def __init__(self, capstone: Capstone, n_configs: int, epochs: int, start: str) -> None:
        self.capstone = capstone
        self.spent = [(f"run {i}", epochs_trained(h)) for i, h in enumerate(capstone.runs)]
        super().__init__(
            {
                "n_configs": widgets.IntSlider(
                    value=n_configs, min=1, max=12, description="configs", continuous_update=False
                ),
                "epochs": widgets.IntSlider(
                    value=epochs,
                    min=5,
                    max=100,
                    step=5,
                    description="epochs each",
                    continuous_update=False,
                ),
                "start": widgets.Dropdown(options=STARTS, value=start, description="start"),
            }
        )

    def compute(self, n_configs: int, epochs: int, start: str) -> dict[str, Any]:
        limit = self.capstone.budget.epochs
        spent = self.spent if start == STARTS[0] else []
        budget = Budget(limit, self.capstone.budget.seconds)
        budget.charge(sum(e for _, e in spent), 0.0)
        remaining = budget.remaining_epochs
        trained = configs_that_fit(remaining, [epochs] * n_configs)
        try:
            budget.check(epochs)
            refusal = ""
        except BudgetExceeded as err:
            refusal = str(err)
        return {
            "limit": limit,
            "spent": spent,
            "remaining": remaining,
            "planned": n_configs * epochs,
            "trained": trained,
            "n_configs": n_configs,
            "epochs": epochs,
            "refusal": refusal,
        }

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(9, 2.4), layout="constrained")
        plot_budget(
            state["spent"],
            state["limit"],
            plan=state["planned"],
            plan_fits=state["trained"] * state["epochs"],
            ax=ax,
        )
        ax.set_title(f"{state['n_configs']} configs x {state['epochs']} epochs")
        return fig

    def describe(self, state: dict[str, Any]) -> str:
        if state["refusal"]:
            return f"<b>refused</b>: {state['refusal']}"
        left = state["remaining"] - state["trained"] * state["epochs"]
        if state["trained"] == state["n_configs"]:
            return (
                f"fits: all {state['n_configs']} configs train; {left:g} model-epochs would remain."
            )
        return (
            f"a search would train {state['trained']} of {state['n_configs']} configs and stop "
            f"at the limit ({left:g} model-epochs left unused)."
        )


def budget_explorer(
    capstone: Capstone, n_configs: int = 4, epochs: int = 20, start: str = STARTS[1]
) -> BudgetExplorer:
    """A :class:`BudgetExplorer` over ``capstone``'s budget and the runs it already made."""
    check_number("n_configs", n_configs, low=1, high=12, integer=True)
    check_number("epochs", epochs, low=5, high=100, integer=True)
    check_choice("start", start, STARTS)
    return BudgetExplorer(capstone, n_configs, epochs, start)


__all__ = ["BudgetExplorer", "budget_explorer"]
