"""Population-based training (Jaderberg et al. 2017): babysitting, automated, in parallel.

A population trains side by side. Every ``interval`` epochs the members are ranked by
validation loss; each member in the bottom ``fraction`` *exploits* a member of the top
``fraction`` (takes over its weights and optimizer state) and then *explores* (multiplies
its hyperparameters by a random factor, such as 0.8 or 1.25). So hyperparameters change
during training, as a person babysitting a run would change them, and compute moves from
bad members to copies of good ones. The result is not one configuration but a schedule:
the path of hyperparameters the winner inherited (``lineage``).
"""

from __future__ import annotations

from collections.abc import Sequence
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
class PBTResult:
    """The population's Histories, and every exploit/explore decision (``lineage``)."""

    histories: list[History]
    lineage: pd.DataFrame

    @property
    def best(self) -> History:
        return min(self.histories, key=lambda h: h.final_val_loss)


def pbt(
    configs: Sequence[TrainConfig | dict[str, Any]],
    data: Dataset,
    *,
    interval: int = 2,
    fraction: float = 0.25,
    explore: Sequence[str] = ("lr",),
    factors: tuple[float, float] = (0.8, 1.25),
    seed: int | None = None,
    log: Any = None,
    progress: bool = True,
) -> PBTResult:
    """Train ``configs`` as one population with exploit/explore every ``interval`` epochs.

    ``explore`` names the float fields that are perturbed (by a factor drawn from
    ``factors``, each equally likely); fields bounded by 1 (momentum, dropout) are kept
    inside their allowed range. Every member trains ``config.epochs`` (they must agree).

    >>> from hpcourse.data import load_dataset
    >>> res = pbt([{"lr": lr, "epochs": 4} for lr in (0.001, 0.01, 0.1, 1.0)],
    ...           load_dataset("digits"), interval=2, fraction=0.25, seed=0)
    >>> len(res.histories), set(res.lineage.columns) >= {"epoch", "member", "copied_from"}
    (4, True)
    """
    check_number("interval", interval, low=1, integer=True)
    check_number("fraction", fraction, low=0, high=0.5, low_open=True)
    if len(factors) != 2 or not all(f > 0 for f in factors):
        raise ValueError(f"factors={factors!r} is not allowed: give two positive factors.")
    full = [as_config(c) for c in configs]
    if len({c.epochs for c in full}) > 1:
        raise ValueError("configs with different epochs are not allowed: PBT members share one.")
    fields = TrainConfig.__dataclass_fields__
    for name in explore:
        if name not in fields or not isinstance(getattr(full[0], name), float):
            raise ValueError(f"explore item {name!r} is not allowed: it must be a float field.")
    rng = np.random.default_rng(resolve_seed(seed))
    population = Population(full, data, log=log)
    epochs = full[0].epochs
    rows = []
    for until in range(interval, epochs, interval):
        population.run(until_epoch=until, progress=progress)
        alive = sorted(population.alive, key=lambda i: population.members[i].history.val_loss[-1])
        if len(alive) < 2:
            break
        k = max(1, int(round(fraction * len(alive))))
        top, bottom = alive[:k], alive[-k:]
        for target in bottom:
            source = int(rng.choice(top))
            population.copy_member(source, target)
            donor = population.members[source].config
            changes = {name: _perturb(name, getattr(donor, name), rng, factors) for name in explore}
            population.set_config(target, donor.replace(**changes, seed=full[target].seed))
            rows.append({"epoch": until, "member": target, "copied_from": source, **changes})
    population.run(progress=progress)
    histories = population.finish()
    lineage = pd.DataFrame(rows, columns=["epoch", "member", "copied_from", *explore])
    return PBTResult(histories, lineage)


def _perturb(
    name: str, value: float, rng: np.random.Generator, factors: tuple[float, float]
) -> float:
    new = float(value) * float(rng.choice(factors))
    if name in ("momentum", "dropout"):  # must stay below 1
        new = min(new, 0.999 if name == "momentum" else 0.9)
    return new


__all__ = ["PBTResult", "pbt"]
