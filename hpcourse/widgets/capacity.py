"""The capacity explorer: pick a width, a dropout rate and a decoupled weight decay, and see
the training and validation accuracy of that MLP, next to the same width unregularized.

Runs that the notebook already trained are reused (passed in as ``known``); any other
combination is trained when its control moves (a second or two) and kept, so moving back
is instant. Every run has the same seed, data and budget; only the three knobs differ.

    ex = capacity_explorer(data, base, known=histories)
    ex.controls["dropout"].value = 0.4
    ex.state["gap"], ex.state["trained"]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.config import TrainConfig, as_config
from hpcourse.results import History
from hpcourse.validation import check_choice
from hpcourse.widgets.base import Explorer

WIDTHS = (32, 64, 128, 256)
DROPOUTS = (0.0, 0.2, 0.4, 0.6)
DECAYS = (0.0, 0.1, 1.0, 3.0)

Key = tuple[int, float, float]


def explorer_config(base: TrainConfig, width: int, dropout: float, weight_decay: float) -> Any:
    """The config the explorer trains: ``base`` with two hidden layers of ``width``, the
    dropout rate, and AdamW's decoupled decay (plain Adam when the decay is 0, which is
    the same optimizer)."""
    optimizer = "adamw" if weight_decay > 0 else "adam"
    return base.replace(
        hidden=[width, width], dropout=dropout, weight_decay=weight_decay, optimizer=optimizer
    )


def _key(config: TrainConfig) -> Key | None:
    if len(config.hidden) != 2 or config.hidden[0] != config.hidden[1]:
        return None
    if config.weight_decay > 0 and config.optimizer != "adamw":
        return None  # an L2 run is another regularizer than the explorer's
    return (config.hidden[0], float(config.dropout), float(config.weight_decay))


class CapacityExplorer(Explorer):
    """Controls ``width``, ``dropout`` and ``weight_decay`` (AdamW). ``state`` holds the
    ``run`` (a History), its ``twin`` (same width, no regularization, when known), the final
    ``train_acc``, ``val_acc``, ``gap``, the twin's ``twin_gap``, and ``trained`` (whether
    this redraw had to train)."""

    def __init__(self, data: Any, base: TrainConfig, known: Mapping[Key, History]) -> None:
        self.data, self.base = data, base
        self.cache: dict[Key, History] = dict(known)
        self.trainings = 0

        def slider(name: str, options: tuple[Any, ...], value: Any) -> widgets.Widget:
            return widgets.SelectionSlider(
                options=options, value=value, description=name, continuous_update=False
            )

        super().__init__(
            {
                "width": slider("width", WIDTHS, 128),
                "dropout": slider("dropout", DROPOUTS, 0.0),
                "weight_decay": slider("AdamW decay", DECAYS, 0.0),
            }
        )

    def _run(self, key: Key) -> tuple[History, bool]:
        if key in self.cache:
            return self.cache[key], False
        from hpcourse.training import train

        history = train(explorer_config(self.base, *key), self.data)
        self.cache[key] = history
        self.trainings += 1
        return history, True

    def compute(self, width: int, dropout: float, weight_decay: float) -> dict[str, Any]:
        key = (int(width), float(dropout), float(weight_decay))
        run, trained = self._run(key)
        twin = self.cache.get((key[0], 0.0, 0.0))
        gap = run.train_acc[-1] - run.val_acc[-1]
        return {
            "key": key,
            "run": run,
            "twin": twin,
            "train_acc": run.train_acc[-1],
            "val_acc": run.val_acc[-1],
            "gap": gap,
            "twin_gap": None if twin is None else twin.train_acc[-1] - twin.val_acc[-1],
            "trained": trained,
        }

    def describe(self, state: dict[str, Any]) -> str:
        width, dropout, wd = state["key"]
        text = (
            f"width {width}x{width}, dropout {dropout:g}, AdamW decay {wd:g}: training "
            f"{state['train_acc']:.1%}, validation <b>{state['val_acc']:.1%}</b>, "
            f"gap <b>{state['gap']:.1%}</b>"
        )
        if state["twin_gap"] is not None and (dropout, wd) != (0.0, 0.0):
            text += f" (unregularized at this width: gap {state['twin_gap']:.1%})"
        return text + ("; trained just now." if state["trained"] else ".")

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        from hpcourse.plots.capacity import plot_run

        plot_run(state["run"], state["twin"], ax=ax)
        width, dropout, wd = state["key"]
        ax.set_title(f"[{width}, {width}], dropout {dropout:g}, AdamW decay {wd:g}", fontsize=10)
        fig.tight_layout()
        return fig


def capacity_explorer(
    data: Any, base: TrainConfig | dict[str, Any], known: Iterable[History] = ()
) -> CapacityExplorer:
    """Build the explorer on ``data`` around ``base`` (its optimizer settings and budget).
    ``known``: Histories already trained; those with two equal hidden layers, and an
    AdamW decay or none, on ``base``'s seed, fill the cache so they are not trained again."""
    config = as_config(base)
    check_choice("base optimizer", config.optimizer, ("adam", "adamw"))
    cache: dict[Key, History] = {}
    for h in known:
        key = _key(h.config)
        same = h.config.replace(hidden=list(config.hidden), dropout=0.0, weight_decay=0.0)
        plain = config.replace(dropout=0.0, weight_decay=0.0)
        if key is None or key[0] not in WIDTHS or key[1] not in DROPOUTS or key[2] not in DECAYS:
            continue
        if same.replace(optimizer=plain.optimizer, tags={}) == plain.replace(tags={}):
            cache.setdefault(key, h)
    return CapacityExplorer(data, config, cache)


__all__ = ["DECAYS", "DROPOUTS", "WIDTHS", "CapacityExplorer", "capacity_explorer"]
