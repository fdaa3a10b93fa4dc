"""The early-stopping explorer: try patience and ``min_delta`` on validation curves that
were already recorded, and see where training would have stopped and what it would keep.

Nothing is trained when a control moves: the course's patience rule
(:func:`hpcourse.stopping.replay_early_stopping`, the same rule both trainers apply) is
replayed on the recorded curve, which is exactly where a run with that patience and the
same seed would have stopped.

    ex = stopping_explorer({"lr 0.01": history})
    ex.controls["patience"].value = 2
    ex.state["replay"].stop_epoch, ex.state["saved"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.plots.stopping import plot_replay
from hpcourse.results import History
from hpcourse.stopping import replay_early_stopping
from hpcourse.validation import check_choice, check_number
from hpcourse.widgets.base import Explorer

MIN_DELTAS = (0.0, 0.003, 0.01, 0.03, 0.1)
MAX_PATIENCE = 20


class StoppingExplorer(Explorer):
    """Controls ``patience``, ``min_delta`` and ``run`` (which recorded curve). ``state``
    holds the ``replay``, the curve (``val_loss``), the epochs the full record ran
    (``recorded``), the epochs early stopping saves (``saved``) and what the restored
    weights give up against the lowest loss anywhere on the curve (``regret``)."""

    def __init__(
        self, runs: Mapping[str, History], patience: int, min_delta: float, run: str
    ) -> None:
        self.runs = dict(runs)
        super().__init__(
            {
                "patience": widgets.IntSlider(
                    value=patience,
                    min=1,
                    max=MAX_PATIENCE,
                    description="patience",
                    continuous_update=False,
                ),
                "min_delta": widgets.SelectionSlider(
                    options=MIN_DELTAS,
                    value=min_delta,
                    description="min_delta",
                    continuous_update=False,
                ),
                "run": widgets.Dropdown(options=list(self.runs), value=run, description="curve"),
            }
        )

    def compute(self, patience: int, min_delta: float, run: str) -> dict[str, Any]:
        h = self.runs[run]
        replay = replay_early_stopping(h.val_loss, int(patience), float(min_delta))
        return {
            "run": run,
            "patience": int(patience),
            "min_delta": float(min_delta),
            "val_loss": list(h.val_loss),
            "replay": replay,
            "recorded": h.epochs_run,
            "saved": h.epochs_run - replay.stop_epoch,
            "regret": replay.regret,
        }

    def describe(self, state: dict[str, Any]) -> str:
        r = state["replay"]
        if not r.stopped_early:
            where = f"patience never ran out: it trains all {state['recorded']} epochs"
        else:
            where = (
                f"stops after epoch <b>{r.stop_epoch}</b> of {state['recorded']} "
                f"(saves {state['saved']} epochs)"
            )
        kept = (
            "the lowest of the whole curve"
            if r.regret <= 0
            else f"<b>{r.regret:.3f} above</b> the lowest of the whole curve"
        )
        return (
            f"{state['run']}: {where}; restores epoch <b>{r.best_epoch}</b> "
            f"(validation loss {r.restored_loss:.3f}, {kept}); "
            f"{r.wasted} epochs trained after the restored one."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(9, 3.8))
        plot_replay(state["val_loss"], state["replay"], min_delta=state["min_delta"], ax=ax)
        ax.set_title(state["run"], fontsize=10)
        fig.tight_layout()
        return fig


def stopping_explorer(
    runs: Mapping[str, History],
    *,
    patience: int = 5,
    min_delta: float = 0.0,
    run: str | None = None,
) -> StoppingExplorer:
    """Build the explorer over recorded runs (name -> History, each trained without early
    stopping so its whole curve is known). ``min_delta`` must be one of :data:`MIN_DELTAS`."""
    if not runs:
        raise ValueError("runs={} is not allowed: give at least one recorded run.")
    check_number("patience", patience, low=1, high=MAX_PATIENCE, integer=True)
    check_choice("min_delta", min_delta, MIN_DELTAS)
    names = list(runs)
    chosen = names[0] if run is None else run
    check_choice("run", chosen, names)
    for name, h in runs.items():
        if h.stopped_early or h.diverged:
            raise ValueError(
                f"runs[{name!r}] is not allowed: it stopped early or diverged, so its whole "
                "curve was never recorded."
            )
    return StoppingExplorer(runs, patience, min_delta, chosen)


__all__ = ["MIN_DELTAS", "StoppingExplorer", "stopping_explorer"]
