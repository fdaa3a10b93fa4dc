"""The babysitting explorer: pick when to step in and by what factor, watch the run change.

Two sliders: the epoch after which the learning rate changes, and the factor it is
multiplied by (below 1 lowers it, above 1 raises it). Each move trains the run again
with that intervention (:func:`hpcourse.babysit.train_with_intervention`, a fraction of
a second on MNIST-1D) and draws it over the same run without intervention. Both start
from the same seed, so their curves agree up to the intervention and part there.

    ex = babysit_explorer(config, data)
    ex.controls["at_epoch"].value = 6
    ex.state["gap_end"]      # final validation loss without minus with the intervention
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.babysit import check_intervention, train_with_intervention
from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.plots.caviar import plot_epoch_lrs, plot_intervention
from hpcourse.results import History
from hpcourse.validation import check_choice
from hpcourse.widgets.base import Explorer

FACTORS = (0.01, 0.03, 0.1, 0.3, 0.5, 2.0, 3.0)


class BabysitExplorer(Explorer):
    """Sliders ``at_epoch`` and ``factor``; ``state`` holds the run (``"run"``), the run
    without intervention (``"baseline"``) and the validation-loss gaps between them three
    epochs after the intervention (``"gap_3"``) and at the end (``"gap_end"``); positive
    means the intervention helped."""

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        at_epoch: int,
        factor: float,
        baseline: History | None,
        known: Mapping[tuple[int, float], History] | None,
    ) -> None:
        self.config, self.data = config, data
        check_intervention(config, at_epoch, factor)
        check_choice("factor", factor, FACTORS)
        from hpcourse.training import train

        self.baseline = baseline if baseline is not None else train(config, data)
        self.cache: dict[tuple[int, float], History] = dict(known or {})
        super().__init__(
            {
                "at_epoch": widgets.IntSlider(
                    value=at_epoch,
                    min=1,
                    max=config.epochs - 1,
                    description="after epoch",
                    continuous_update=False,
                ),
                "factor": widgets.SelectionSlider(
                    options=FACTORS,
                    value=factor,
                    description="lr × factor",
                    continuous_update=False,
                ),
            }
        )

    def compute(self, at_epoch: int, factor: float) -> dict[str, Any]:
        key = (int(at_epoch), float(factor))
        if key not in self.cache:
            self.cache[key] = train_with_intervention(self.config, self.data, *key)
        run, base = self.cache[key], self.baseline
        look = min(at_epoch + 3, len(run.val_loss) - 1, len(base.val_loss) - 1)
        return {
            "at_epoch": key[0],
            "factor": key[1],
            "run": run,
            "baseline": base,
            "look_epoch": look,
            "gap_3": base.val_loss[look] - run.val_loss[look],
            "gap_end": base.final_val_loss - run.final_val_loss,
        }

    def describe(self, state: dict[str, Any]) -> str:
        run, base = state["run"], state["baseline"]
        lr = self.config.lr
        if run.diverged:
            return (
                f"lr {lr:g} → <b>{lr * state['factor']:g}</b> after epoch {state['at_epoch']}: "
                "the run <b>diverged</b>: raising the lr this much blew it up."
            )
        verdict = "helped" if state["gap_end"] > 0 else "did not help"
        gap3, look = state["gap_3"], state["look_epoch"]
        return (
            f"lr {lr:g} → <b>{lr * state['factor']:g}</b> after epoch {state['at_epoch']}. "
            f"At epoch {look} the validation loss is {run.val_loss[look]:.3f} "
            f"({'lower' if gap3 > 0 else 'higher'} by {abs(gap3):.3f} than without); at the end "
            f"{run.final_val_loss:.3f} against {base.final_val_loss:.3f}: the intervention "
            f"<b>{verdict}</b>."
            + ("" if math.isfinite(state["gap_end"]) else " (one of the runs diverged)")
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        runs = {"no intervention": state["baseline"], "babysat": state["run"]}
        fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), width_ratios=[3, 2])
        plot_intervention(runs, state["at_epoch"], ax=axes[0])
        plot_epoch_lrs(runs, ax=axes[1])
        fig.tight_layout()
        return fig


def babysit_explorer(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    *,
    at_epoch: int = 12,
    factor: float = 0.1,
    baseline: History | None = None,
    known: Mapping[tuple[int, float], History] | None = None,
) -> BabysitExplorer:
    """Build the explorer for ``config`` (constant lr) on ``data``.

    ``baseline``: the run without intervention, if already trained; ``known``: runs
    already trained, by ``(at_epoch, factor)``, so the first drawing costs nothing.
    ``factor`` must be one of :data:`FACTORS`.
    """
    return BabysitExplorer(as_config(config), data, at_epoch, factor, baseline, known)


__all__ = ["FACTORS", "BabysitExplorer", "babysit_explorer"]
