"""The sequence-model explorer: change a recurrent model's sizes and its truncation, and
watch one short run train on the recall task.

Each move of a control trains one small model from scratch (the task is small enough that
a run takes well under a second on one core), with the same seed and the same batches as
the lesson's runs, so the only difference is the setting that moved. The lesson's
default model is drawn in grey behind it.

    ex = sequence_explorer(data, config)
    ex.controls["embedding_dim"].value = 1
    ex.state["train_acc"], ex.state["seconds"]
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.plots.sequence import plot_accuracy_curves
from hpcourse.results import History
from hpcourse.sequence import KINDS, is_token_data, train_sequence
from hpcourse.validation import check_choice
from hpcourse.widgets.base import Explorer

EMBEDDING_DIMS = (1, 2, 4, 8, 16, 32)
HIDDEN_SIZES = (2, 4, 8, 16, 32, 64)


class SequenceExplorer(Explorer):
    """Controls ``embedding_dim``, ``hidden``, ``bptt`` (0 = the whole sequence) and
    ``kind``. ``state`` holds the run's ``history``, its final ``train_acc`` and
    ``val_acc``, and the ``seconds`` it took to train."""

    def __init__(
        self,
        data: Dataset,
        config: TrainConfig,
        start: Mapping[str, Any],
        reference: History | None,
    ) -> None:
        self.data, self.config, self.reference = data, config, reference
        steps = int(data.x_train.shape[1])
        self.chance = 1.0 / data.n_classes
        super().__init__(
            {
                "embedding_dim": widgets.SelectionSlider(
                    options=EMBEDDING_DIMS,
                    value=start["embedding_dim"],
                    description="embedding",
                    continuous_update=False,
                ),
                "hidden": widgets.SelectionSlider(
                    options=HIDDEN_SIZES,
                    value=start["hidden"],
                    description="hidden",
                    continuous_update=False,
                ),
                "bptt": widgets.SelectionSlider(
                    options=[("full", 0), *[(str(k), k) for k in range(1, steps)]],
                    value=start["bptt"] or 0,
                    description="bptt",
                    continuous_update=False,
                ),
                "kind": widgets.Dropdown(options=KINDS, value=start["kind"], description="kind"),
            }
        )

    def compute(self, embedding_dim: int, hidden: int, bptt: int, kind: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        h = train_sequence(
            self.config,
            self.data,
            kind=kind,
            hidden=int(hidden),
            embedding_dim=int(embedding_dim),
            bptt=int(bptt) or None,
        )
        return {
            "history": h,
            "embedding_dim": int(embedding_dim),
            "hidden": int(hidden),
            "bptt": int(bptt) or None,
            "kind": kind,
            "train_acc": h.train_acc[-1],
            "val_acc": h.final_val_acc,
            "params": h.n_params,
            "seconds": time.perf_counter() - t0,
        }

    def describe(self, state: dict[str, Any]) -> str:
        bptt = "the whole sequence" if state["bptt"] is None else f"{state['bptt']} steps"
        verdict = (
            "it fits most of its training examples"
            if state["train_acc"] >= 0.7
            else "it <b>underfits</b>: many of its own training examples stay wrong"
        )
        return (
            f"{state['kind'].upper()}, embedding {state['embedding_dim']}, hidden "
            f"{state['hidden']}, gradient through {bptt} ({state['params']:,} weights): "
            f"training accuracy <b>{state['train_acc']:.0%}</b>, validation "
            f"<b>{state['val_acc']:.0%}</b> (chance {self.chance:.0%}); {verdict}. "
            f"Trained in {state['seconds']:.1f} s."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(9, 3.6))
        plot_accuracy_curves(state["history"], reference=self.reference, chance=self.chance, ax=ax)
        fig.tight_layout()
        return fig


def sequence_explorer(
    data: Dataset,
    config: TrainConfig | dict[str, Any],
    *,
    kind: str = "rnn",
    hidden: int = 32,
    embedding_dim: int = 16,
    bptt: int | None = None,
    reference: History | None = None,
) -> SequenceExplorer:
    """Build the explorer on a token dataset (:func:`hpcourse.tokens.make_token_task`),
    training with ``config``; the starting values must be among the sliders' options
    (:data:`EMBEDDING_DIMS`, :data:`HIDDEN_SIZES`, ``bptt`` from 1 to the length - 1)."""
    if not is_token_data(data):
        raise ValueError(
            f"data={data.name!r} is not allowed: the explorer needs token data "
            "(hpcourse.tokens.make_token_task)."
        )
    check_choice("kind", kind, KINDS)
    check_choice("hidden", hidden, HIDDEN_SIZES)
    check_choice("embedding_dim", embedding_dim, EMBEDDING_DIMS)
    steps = int(data.x_train.shape[1])
    if bptt is not None:
        check_choice("bptt", bptt, tuple(range(1, steps)))
    start = {"kind": kind, "hidden": hidden, "embedding_dim": embedding_dim, "bptt": bptt}
    return SequenceExplorer(data, as_config(config), start, reference)


__all__ = ["EMBEDDING_DIMS", "HIDDEN_SIZES", "SequenceExplorer", "sequence_explorer"]
