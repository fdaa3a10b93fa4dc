"""Successive halving and Hyperband: spend epochs on the configurations that earn them.

Successive halving (Jamieson & Talwalkar 2016; Li et al. 2018 build Hyperband on it)
trains many configurations for a few epochs, keeps the best ``1/eta`` of them, trains
those ``eta`` times longer, and so on, until one or a few reach the full budget. Bad
configurations are usually bad early, so most of the compute goes to promising ones.
Its bet is that early rankings predict late ones; Hyperband hedges that bet by running
several *brackets*, from "many configurations, aggressive halving" to "few
configurations, each trained in full" (plain random search).

Here the survivors of a rung keep training from where they were (their weights and
optimizer state are kept in a :class:`~hpcourse.population.Population`), so a
configuration that reaches the top rung costs exactly its full length once. Each member's
``config.epochs`` is the full length, so its learning-rate schedule is the one a full run
would have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.population import Population
from hpcourse.results import History
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number


@dataclass
class HalvingResult:
    """What a successive-halving (or Hyperband) run did.

    ``table``: one row per configuration with the rung it reached, the epochs it trained
    and its last validation loss and accuracy; ``histories`` in the same order;
    ``rungs``: the epoch at which each rung ended; ``total_epochs``: the epochs spent,
    summed over configurations (the budget to compare with other methods).
    """

    table: pd.DataFrame
    histories: list[History]
    rungs: list[int]

    @property
    def total_epochs(self) -> int:
        return int(self.table["epochs_run"].sum())

    @property
    def best(self) -> History:
        """The configuration with the lowest validation loss among those that reached the
        last rung (an early loss at a low rung is not comparable with a full run)."""
        top = self.table[self.table["rung"] == self.table["rung"].max()]
        return self.histories[int(top["val_loss"].idxmin())]


def rung_epochs(n_configs: int, max_epochs: int, eta: int = 3) -> list[int]:
    """The epochs at which successive halving judges ``n_configs`` configurations.

    As many rungs as halving by ``eta`` allows before one configuration is left, the last
    at ``max_epochs``, each ``eta`` times shorter than the next (at least one epoch).

    >>> rung_epochs(27, 27, eta=3)
    [1, 3, 9, 27]
    >>> rung_epochs(9, 20, eta=3)
    [2, 7, 20]
    """
    check_number("n_configs", n_configs, low=1, integer=True)
    check_number("max_epochs", max_epochs, low=1, integer=True)
    check_number("eta", eta, low=2, integer=True)
    n_rungs = int(math.floor(math.log(n_configs, eta) + 1e-9)) + 1
    epochs = [max(1, round(max_epochs / eta ** (n_rungs - 1 - i))) for i in range(n_rungs)]
    return sorted(set(epochs))


def successive_halving(
    configs: Sequence[TrainConfig | dict[str, Any]],
    data: Dataset,
    *,
    max_epochs: int,
    eta: int = 3,
    rungs: Sequence[int] | None = None,
    log: Any = None,
    progress: bool = True,
) -> HalvingResult:
    """Successive halving over ``configs`` (one population: same architecture, batch size
    and optimizer family), up to ``max_epochs``; keep the best ``1/eta`` at each rung.

    >>> from hpcourse.data import load_dataset
    >>> res = successive_halving([{"lr": lr} for lr in (0.003, 0.03, 0.3, 3.0)],
    ...                          load_dataset("digits"), max_epochs=4, eta=2)
    >>> res.rungs, int(res.table["rung"].max()), res.total_epochs <= 4 * 4
    ([1, 2, 4], 2, True)
    """
    check_number("max_epochs", max_epochs, low=1, integer=True)
    check_number("eta", eta, low=2, integer=True)
    full = [as_config(c).replace(epochs=max_epochs) for c in configs]
    if not full:
        raise ValueError("configs=[] is not allowed: give at least one config.")
    marks = list(rungs) if rungs is not None else rung_epochs(len(full), max_epochs, eta)
    for i, e in enumerate(marks):
        check_number(f"rungs[{i}]", e, low=1, high=max_epochs, integer=True)
    population = Population(full, data, log=log)
    for epoch in marks[:-1]:
        population.run(until_epoch=epoch, progress=progress)
        alive = sorted(population.alive, key=lambda i: population.members[i].history.val_loss[-1])
        keep = max(1, math.ceil(len(alive) / eta))
        population.stop(alive[keep:])
    population.run(until_epoch=marks[-1], progress=progress)
    histories = population.finish()
    # the last rung each configuration completed (a diverged run: before it blew up)
    reached = [
        max((r for r, e in enumerate(marks) if e <= h.epochs_run), default=-1) for h in histories
    ]
    table = pd.DataFrame(
        {
            "config": [h.config.to_dict() for h in histories],
            "rung": reached,
            "epochs_run": [h.epochs_run for h in histories],
            "diverged": [h.diverged for h in histories],
            "val_loss": [h.final_val_loss for h in histories],
            "val_acc": [h.final_val_acc for h in histories],
        }
    )
    return HalvingResult(table, histories, marks)


def hyperband_brackets(max_epochs: int, eta: int = 3, min_epochs: int = 1) -> pd.DataFrame:
    """Hyperband's brackets (Li et al. 2018): for each, how many configurations start and
    at how many epochs the first rung judges them.

    >>> hyperband_brackets(27, eta=3)[["n_configs", "first_rung"]].values.tolist()
    [[27, 1], [12, 3], [6, 9], [4, 27]]
    """
    check_number("max_epochs", max_epochs, low=1, integer=True)
    check_number("eta", eta, low=2, integer=True)
    check_number("min_epochs", min_epochs, low=1, high=max_epochs, integer=True)
    s_max = int(math.floor(math.log(max_epochs / min_epochs, eta) + 1e-9))
    rows = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        rows.append({"bracket": s_max - s, "n_configs": n, "first_rung": max_epochs // eta**s})
    return pd.DataFrame(rows)


def hyperband(
    sample: Callable[[int, np.random.Generator], list[dict[str, Any]]],
    data: Dataset,
    base: TrainConfig | dict[str, Any] | None = None,
    *,
    max_epochs: int,
    eta: int = 3,
    seed: int | None = None,
    log: Any = None,
    progress: bool = True,
) -> list[HalvingResult]:
    """Hyperband: one successive-halving run per bracket, with configurations drawn by
    ``sample(n, rng)`` (e.g. ``space.sample``) and merged into ``base``."""
    rng = np.random.default_rng(resolve_seed(seed))
    base_config = as_config(base)
    results = []
    for row in hyperband_brackets(max_epochs, eta).itertuples():
        trials = [base_config.replace(**t) for t in sample(int(row.n_configs), rng)]
        marks = [int(row.first_rung) * eta**i for i in range(50)]
        marks = [m for m in marks if m < max_epochs] + [max_epochs]
        results.append(
            successive_halving(
                trials,
                data,
                max_epochs=max_epochs,
                eta=eta,
                rungs=marks,
                log=log,
                progress=progress,
            )
        )
    return results


__all__ = [
    "HalvingResult",
    "hyperband",
    "hyperband_brackets",
    "rung_epochs",
    "successive_halving",
]
