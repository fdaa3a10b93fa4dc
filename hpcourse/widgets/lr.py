"""The quadratic-bowl explorer: move a learning-rate slider, watch gradient descent change.

The slider is logarithmic (``FloatLogSlider``) because learning rates matter by their order
of magnitude: the interesting values span three decades. Four preset buttons jump to one
example of each regime (crawl, smooth, zig-zag, diverge), and the status line states the
stability threshold ``lr < 2 / L_max`` next to the current value.

Usage, as a cell's last line::

    from hpcourse.widgets.lr import bowl_explorer
    bowl_explorer()

From Python (as the tests do): ``ex = bowl_explorer(); ex.controls["lr"].value = 0.3``
recomputes ``ex.state`` (with the :class:`~hpcourse.bowl.BowlRun`), ``ex.status`` and the
figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.bowl import (
    DEFAULT_CURVATURES,
    BowlRun,
    contraction_factors,
    regime_lrs,
    run_bowl,
    stability_threshold,
)
from hpcourse.plots.lr import REGIME_COLORS, plot_bowl, plot_bowl_losses, plot_contraction
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer

EXPLANATIONS = {
    "crawl": "each step is so small that the loss has not even halved: training crawls.",
    "smooth": "every coordinate shrinks a little each step without overshooting.",
    "zig-zag": "the steep coordinate overshoots and flips sign every step, but still shrinks "
    "(lr is between 1/L_max and 2/L_max).",
    "diverge": "each step overshoots by more than it corrects: the loss grows without bound.",
}


class BowlExplorer(Explorer):
    """A learning-rate slider, four presets, a status line and the redrawn figure.

    Follows the explorer convention (:mod:`hpcourse.widgets.base`): ``controls["lr"]`` is
    the slider, ``presets`` the buttons, ``state["run"]`` the latest
    :class:`~hpcourse.bowl.BowlRun`. The slider's range spans every preset of the bowl
    it was built for, so a narrow valley such as ``(1, 100)`` can still crawl.
    """

    def __init__(
        self,
        curvatures: Sequence[float] = DEFAULT_CURVATURES,
        lr: float | None = None,
        steps: int = 30,
    ) -> None:
        self.curvatures = tuple(float(c) for c in curvatures)
        self.threshold = stability_threshold(self.curvatures)
        presets = regime_lrs(self.curvatures)
        low = math.floor(math.log10(min(presets.values())) - 0.5)
        high = math.ceil(math.log10(10 * self.threshold))
        lr = presets["smooth"] if lr is None else lr
        check_number("lr", lr, low=10.0**low, high=10.0**high)
        check_number("steps", steps, low=1, high=1000, integer=True)
        self.steps = steps
        slider = widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=low,
            max=high,
            step=0.01,
            description="lr",
            readout_format=".3g",
            continuous_update=False,
            layout=widgets.Layout(width="520px"),
        )
        self.presets = []
        for name, value in presets.items():
            button = widgets.Button(description=f"{name} ({value:g})")
            button.on_click(lambda _b, v=value: setattr(slider, "value", v))
            self.presets.append(button)
        super().__init__({"lr": slider}, extra=[widgets.HBox(self.presets)])

    @property
    def run(self) -> BowlRun:
        """The latest run (the same object as ``state["run"]``)."""
        return self.state["run"]

    def compute(self, lr: float) -> dict[str, Any]:
        run = run_bowl(float(lr), curvatures=self.curvatures, steps=self.steps)
        factors = contraction_factors(float(lr), self.curvatures)
        return {"lr": float(lr), "run": run, "regime": run.regime, "factors": factors}

    def describe(self, state: dict[str, Any]) -> str:
        lr, run = state["lr"], state["run"]
        if math.isclose(lr, self.threshold, rel_tol=1e-9):
            side = "exactly at"
        else:
            side = "below" if lr < self.threshold else "ABOVE"
        factors = ", ".join(f"{f:.2f}" for f in state["factors"])
        color = REGIME_COLORS[run.regime]
        return (
            f"<b>lr = {lr:.3g}</b> is {side} the stability threshold "
            f"<b>2 / L_max = 2 / {max(self.curvatures):g} = {self.threshold:.3g}</b>. "
            f"Regime: <b style='color:{color}'>{run.regime}</b>: {EXPLANATIONS[run.regime]} "
            f"Per-step factors |1 - lr L| = {factors}; loss {run.losses[0]:.3g} → "
            f"{run.losses[-1]:.3g} after {run.steps} steps."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        plot_bowl(state["run"], axes[0])
        plot_bowl_losses([state["run"]], axes[1])
        plot_contraction(self.curvatures, state["lr"], axes[2])
        fig.tight_layout()
        return fig


def bowl_explorer(
    curvatures: Sequence[float] = DEFAULT_CURVATURES, lr: float | None = None, steps: int = 30
) -> BowlExplorer:
    """Build the explorer: gradient descent on ``1/2 sum L_i w_i^2`` for a learning rate you pick.

    ``lr`` (the starting value; default: the "smooth" preset) must lie on the slider, which
    spans from below the "crawl" preset to ten times the threshold ``2 / L_max``.
    """
    return BowlExplorer(curvatures, lr, steps)
