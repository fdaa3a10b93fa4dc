"""The schedule explorer: pick a schedule and its knobs, see the learning rate over a run.

Every schedule of :mod:`hpcourse.schedules` with its own parameters: the peak lr, warmup
epochs, the decay length (``wsd``'s decay phase, or the interval of ``step`` and
``exponential`` decay) and ``gamma``. Left: the lr at every step, with a constant lr dashed
for comparison. Right: the *lr area* accumulated so far (the sum of the lr over the steps
taken, as a share of what a constant lr sums to over the whole run), a rough measure of
how far the schedule lets the weights travel. The status line states the numbers.

Usage, as a cell's last line::

    from hpcourse.widgets.optimizers import schedule_explorer
    schedule_explorer()

From Python: ``ex = schedule_explorer(); ex.controls["schedule"].value = "wsd"``;
``ex.state["lrs"]`` holds the curve, ``ex.state["area"]`` its area.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hpcourse.schedule_budget import lr_area
from hpcourse.schedules import SCHEDULES, lr_curve
from hpcourse.validation import check_choice, check_number
from hpcourse.widgets.base import Explorer

#: What the decay slider means for each schedule (the others ignore it).
DECAY_MEANING = {
    "step": "epochs between two decays",
    "exponential": "epochs per factor gamma",
    "wsd": "epochs of the final decay",
}


class ScheduleExplorer(Explorer):
    """Controls ``lr`` (log slider, the peak), ``schedule``, ``warmup`` and ``decay`` (epochs),
    ``gamma``; ``state`` holds ``lrs`` (one per step), ``area``, ``peak_step`` and
    ``ignored`` (the controls the chosen schedule does not use)."""

    def __init__(
        self,
        schedule: str = "cosine",
        lr: float = 0.01,
        epochs: int = 20,
        steps_per_epoch: int = 25,
    ) -> None:
        check_choice("schedule", schedule, SCHEDULES)
        check_number("lr", lr, low=1e-5, high=1.0)
        check_number("epochs", epochs, low=2, high=1000, integer=True)
        check_number("steps_per_epoch", steps_per_epoch, low=1, high=10_000, integer=True)
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        style = {"description_width": "initial"}
        controls = {
            "lr": widgets.FloatLogSlider(
                value=lr,
                base=10,
                min=-5,
                max=0,
                step=0.1,
                description="peak lr",
                readout_format=".2g",
                continuous_update=False,
                style=style,
            ),
            "schedule": widgets.Dropdown(
                options=list(SCHEDULES), value=schedule, description="schedule", style=style
            ),
            "warmup": widgets.IntSlider(
                value=0,
                min=0,
                max=epochs // 2,
                description="warmup epochs",
                continuous_update=False,
                style=style,
            ),
            "decay": widgets.IntSlider(
                value=max(1, epochs // 5),
                min=1,
                max=epochs // 2,
                description="decay epochs",
                continuous_update=False,
                style=style,
            ),
            "gamma": widgets.FloatSlider(
                value=0.3,
                min=0.05,
                max=0.95,
                step=0.05,
                description="gamma",
                continuous_update=False,
                style=style,
            ),
        }
        super().__init__(controls)

    def compute(
        self, lr: float, schedule: str, warmup: int, decay: int, gamma: float
    ) -> dict[str, Any]:
        spe, total = self.steps_per_epoch, self.epochs * self.steps_per_epoch
        ignored = []
        if schedule == "onecycle" and warmup:
            ignored.append("warmup")  # 1cycle has its own warm-up phase
        if schedule not in DECAY_MEANING:
            ignored.append("decay")
        if schedule not in ("step", "exponential"):
            ignored.append("gamma")
        warmup_steps = 0 if schedule == "onecycle" else warmup * spe
        decay_epochs = min(decay, self.epochs - warmup) if schedule == "wsd" else decay
        lrs = lr_curve(
            schedule,
            float(lr),
            total,
            warmup_steps=warmup_steps,
            step_size=decay * spe,
            gamma=float(gamma),
            decay_steps=max(1, decay_epochs) * spe,
        )
        return {
            "lr": float(lr),
            "schedule": schedule,
            "lrs": np.asarray(lrs),
            "area": lr_area(lrs, float(lr)),
            "peak_step": int(np.argmax(lrs)),
            "final_lr": float(lrs[-1]),
            "ignored": ignored,
        }

    def describe(self, state: dict[str, Any]) -> str:
        spe = self.steps_per_epoch
        peak_epoch = (state["peak_step"] + 1) / spe
        text = (
            f"<b>{state['schedule']}</b>: peak lr {state['lr']:.2g} reached at epoch "
            f"{peak_epoch:.1f} of {self.epochs}; last step's lr {state['final_lr']:.2g}; "
            f"<b>lr area {state['area']:.2f}</b> of a constant lr's."
        )
        if state["ignored"]:
            text += f" (This schedule ignores: {', '.join(state['ignored'])}.)"
        elif state["schedule"] in DECAY_MEANING:
            text += f" The decay slider sets the {DECAY_MEANING[state['schedule']]}."
        return text

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
        lrs, spe = state["lrs"], self.steps_per_epoch
        epochs = (np.arange(len(lrs)) + 1) / spe
        left.plot(epochs, np.full_like(lrs, state["lr"]), "--", color="0.6", label="constant")
        left.plot(epochs, lrs, color="tab:blue", lw=2, label=state["schedule"])
        left.set_xlabel("epoch")
        left.set_ylabel("learning rate")
        left.set_ylim(0, state["lr"] * 1.1)
        left.legend(fontsize=8, loc="upper right")
        left.grid(alpha=0.3)
        total = state["lr"] * len(lrs)
        right.plot(epochs, np.cumsum(np.full_like(lrs, state["lr"])) / total, "--", color="0.6")
        right.plot(epochs, np.cumsum(lrs) / total, color="tab:blue", lw=2)
        right.set_xlabel("epoch")
        right.set_ylabel("lr area so far (share of constant's)")
        right.set_ylim(0, 1.05)
        right.grid(alpha=0.3)
        return fig


def schedule_explorer(
    schedule: str = "cosine", lr: float = 0.01, epochs: int = 20, steps_per_epoch: int = 25
) -> ScheduleExplorer:
    """Build the explorer for a run of ``epochs`` epochs of ``steps_per_epoch`` steps."""
    return ScheduleExplorer(schedule, lr, epochs, steps_per_epoch)


__all__ = ["DECAY_MEANING", "ScheduleExplorer", "schedule_explorer"]
