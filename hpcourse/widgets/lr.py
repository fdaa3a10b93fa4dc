"""The quadratic-bowl explorer: move a learning-rate slider, watch gradient descent change.

The slider is logarithmic (``FloatLogSlider``) because learning rates matter by their order
of magnitude: the interesting values span three decades. Four preset buttons jump to one
example of each regime (crawl, smooth, zig-zag, diverge), and the status line states the
stability threshold ``lr < 2 / L_max`` next to the current value.

Usage, as a cell's last line::

    from hpcourse.widgets.lr import bowl_explorer
    bowl_explorer()

From Python (as the tests do): ``ex = bowl_explorer(); ex.slider.value = 0.3`` recomputes
``ex.run`` (the :class:`~hpcourse.bowl.BowlRun`), ``ex.status`` and the figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

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

EXPLANATIONS = {
    "crawl": "each step is so small that the loss has not even halved: training crawls.",
    "smooth": "every coordinate shrinks a little each step without overshooting.",
    "zig-zag": "the steep coordinate overshoots and flips sign every step, but still shrinks "
    "(lr is between 1/L_max and 2/L_max).",
    "diverge": "each step overshoots by more than it corrects: the loss grows without bound.",
}


class BowlExplorer(widgets.VBox):
    """A learning-rate slider, four presets, a status line and the redrawn figure.

    Attributes a test (or a curious learner) can read: ``slider``, ``presets`` (buttons),
    ``status`` (an HTML widget), ``out`` (the Output holding the figure), ``run`` (the
    latest :class:`BowlRun`) and ``redraws`` (how many times it recomputed).
    """

    def __init__(
        self,
        curvatures: Sequence[float] = DEFAULT_CURVATURES,
        lr: float = 0.05,
        steps: int = 30,
    ) -> None:
        check_number("lr", lr, low=1e-3, high=1.0)
        check_number("steps", steps, low=1, high=1000, integer=True)
        self.curvatures = tuple(float(c) for c in curvatures)
        self.threshold = stability_threshold(self.curvatures)
        self.steps = steps
        self.slider = widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-3,
            max=0,
            step=0.01,
            description="lr",
            readout_format=".3g",
            continuous_update=False,
            layout=widgets.Layout(width="520px"),
        )
        self.presets = []
        for name, value in regime_lrs(self.curvatures).items():
            button = widgets.Button(description=f"{name} ({value:g})")
            button.on_click(lambda _b, v=value: setattr(self.slider, "value", v))
            self.presets.append(button)
        self.status = widgets.HTML()
        self.out = widgets.Output()
        self.run: BowlRun | None = None
        self.redraws = 0
        super().__init__([self.slider, widgets.HBox(self.presets), self.status, self.out])
        self.slider.observe(lambda _change: self.redraw(), names="value")
        self.redraw()

    def redraw(self) -> None:
        """Recompute the run for the slider's learning rate and draw it again."""
        lr = float(self.slider.value)
        self.run = run = run_bowl(lr, curvatures=self.curvatures, steps=self.steps)
        factors = ", ".join(f"{f:.2f}" for f in contraction_factors(lr, self.curvatures))
        color = REGIME_COLORS[run.regime]
        side = "below" if lr < self.threshold else "ABOVE"
        self.status.value = (
            f"<b>lr = {lr:.3g}</b> is {side} the stability threshold "
            f"<b>2 / L_max = 2 / {max(self.curvatures):g} = {self.threshold:.3g}</b>. "
            f"Regime: <b style='color:{color}'>{run.regime}</b>: {EXPLANATIONS[run.regime]} "
            f"Per-step factors |1 - lr L| = {factors}; loss {run.losses[0]:.3g} → "
            f"{run.losses[-1]:.3g} after {run.steps} steps."
        )
        with self.out:
            self.out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
            plot_bowl(run, axes[0])
            plot_bowl_losses([run], axes[1])
            plot_contraction(self.curvatures, lr, axes[2])
            fig.tight_layout()
            display(fig)
            plt.close(fig)
        self.redraws += 1


def bowl_explorer(
    curvatures: Sequence[float] = DEFAULT_CURVATURES, lr: float = 0.05, steps: int = 30
) -> BowlExplorer:
    """Build the explorer: gradient descent on ``1/2 sum L_i w_i^2`` for a learning rate you pick.

    ``lr`` (the starting value) must be in the slider's range [0.001, 1].
    """
    return BowlExplorer(curvatures, lr, steps)
