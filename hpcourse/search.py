"""Searching a space: grid, random, quasi-random (Sobol) and coarse-to-fine.

A *study* asks a question; each *trial* trains one configuration and reports metrics.
The shape of an objective here is the one Optuna and Ray Tune users know: a function of
a config dict that returns a dict of metrics. So the same objective runs under
:func:`run_search`, under Optuna (notebook 11), or by hand.

Methods that fix every trial in advance (grid, random, Sobol) hand all their trials to
the objective at once when it can take a batch (:class:`TrainObjective` can: it trains
them as populations), which is how a laptop affords a real sweep.

* :func:`propose`: the configurations a method would try, ``n`` of them;
* :func:`run_search`: run the trials, return one row per trial (config, metrics, status,
  wall time, best-so-far); a trial that raises is recorded as failed and the search goes
  on; every trial goes to the experiment log;
* :func:`zoom`: coarse-to-fine: a smaller space around the best trials (same scales), and
  a warning when the best trial sits on the edge of the space, where the Tuning Playbook
  says the space, not the model, is what to fix first.
"""

from __future__ import annotations

import itertools
import math
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.progress import progress as progress_bar
from hpcourse.seeding import resolve_seed
from hpcourse.space import Choice, SearchSpace
from hpcourse.validation import check_choice, check_number

METHODS = ("grid", "random", "sobol")

Objective = Callable[[dict[str, Any]], Mapping[str, Any]]


# --------------------------------------------------------------------------- proposals


def grid_points(space: SearchSpace, per_dimension: int) -> list[dict[str, Any]]:
    """``per_dimension ** len(space)`` configurations on an even grid of each scale.

    The grid points sit at the centres of equal cells of the unit interval (never on the
    bounds themselves), so a 3-point grid of lr in 1e-4..1 tries about 4.6e-4, 1e-2, 0.22.
    """
    check_number("per_dimension", per_dimension, low=1, integer=True)
    ticks = (np.arange(per_dimension) + 0.5) / per_dimension
    return space.from_unit(np.array(list(itertools.product(ticks, repeat=len(space)))))


def random_points(space: SearchSpace, n: int, seed: int | None = None) -> list[dict[str, Any]]:
    """``n`` independent random configurations, each dimension on its own scale."""
    return space.sample(n, np.random.default_rng(resolve_seed(seed)))


def sobol_points(space: SearchSpace, n: int, seed: int | None = None) -> list[dict[str, Any]]:
    """``n`` quasi-random configurations from a scrambled, seeded Sobol sequence.

    Quasi-random points fill the space more evenly than independent random ones (no
    clumps, no large holes) while keeping random search's virtue: every trial tries a new
    value of every dimension. ``n`` a power of two keeps the sequence's balance properties.
    """
    from scipy.stats import qmc

    check_number("n", n, low=1, integer=True)
    sampler = qmc.Sobol(d=len(space), scramble=True, seed=resolve_seed(seed))
    return space.from_unit(sampler.random(n))


def propose(
    space: SearchSpace, method: str, n: int, seed: int | None = None
) -> list[dict[str, Any]]:
    """The ``n`` configurations ``method`` tries. A grid needs ``n = k ** len(space)``."""
    check_choice("method", method, METHODS)
    check_number("n", n, low=1, integer=True)
    if method == "grid":
        k = round(n ** (1 / len(space)))
        if k ** len(space) != n:
            raise ValueError(
                f"n={n!r} is not allowed for a grid over {len(space)} dimensions: n must be "
                f"k ** {len(space)} for a whole k (e.g. {k ** len(space)} or "
                f"{(k + 1) ** len(space)})."
            )
        return grid_points(space, k)
    if method == "random":
        return random_points(space, n, seed)
    return sobol_points(space, n, seed)


def discrepancy(space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> float:
    """How unevenly configurations fill the space (centred L2 discrepancy in unit
    coordinates; lower is more even). Compare random and Sobol points with it."""
    from scipy.stats import qmc

    return float(qmc.discrepancy(np.clip(space.to_unit(configs), 0, 1)))


# --------------------------------------------------------------------------- running


class TrainObjective:
    """Train ``base`` with a trial's config merged in; report the run's metrics.

    Call it on one config (``objective(config) -> metrics``, the Optuna shape), or hand it a
    list with :meth:`many`, which trains them together as populations where it can. A
    config key that is not a :class:`~hpcourse.config.TrainConfig` field must be handled
    by ``translate`` (e.g. ``"width"`` becoming ``hidden=[width]``).
    """

    def __init__(
        self,
        data: Any,
        base: Any = None,
        *,
        translate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        log: Any = None,
    ) -> None:
        from hpcourse.config import as_config

        self.data = data
        self.base = as_config(base)
        self.translate = translate
        self.log = log

    def config(self, trial: Mapping[str, Any]) -> Any:
        values = dict(trial)
        if self.translate is not None:
            values = self.translate(values)
        return self.base.replace(**values)

    def __call__(self, trial: Mapping[str, Any]) -> dict[str, Any]:
        from hpcourse.training import train

        return train(self.config(trial), self.data, log=self.log).summary()

    def many(self, trials: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        from hpcourse.training import train_many

        configs = [self.config(t) for t in trials]
        runs = train_many(configs, self.data, log=self.log, progress=False)
        return [h.summary() for h in runs]


def width_as_hidden(trial: Mapping[str, Any]) -> dict[str, Any]:
    """A ``translate`` for :class:`TrainObjective`: a search's ``"width"`` (one number,
    easy to sample) becomes the config's ``hidden=(width,)`` (one hidden layer).

    >>> width_as_hidden({"lr": 0.1, "width": 64})
    {'lr': 0.1, 'hidden': (64,)}
    """
    config = dict(trial)
    if "width" in config:
        config["hidden"] = (int(config.pop("width")),)
    return config


def run_search(
    objective: Objective,
    space: SearchSpace,
    *,
    method: str = "random",
    budget: int = 20,
    seed: int | None = None,
    metric: str = "final_val_loss",
    minimize: bool = True,
    log: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``budget`` trials of ``method`` over ``space``; one row per trial.

    Columns: ``trial``, the space's dimensions, the metrics the objective returned,
    ``status`` (``"ok"`` or ``"failed"``), ``error``, ``seconds``, and ``best_so_far`` (the
    best ``metric`` among trials up to this one). With an objective that has a ``many``
    method the trials run as one batch (their ``seconds`` are then each an equal share).
    A trial that raises is kept as failed, with its error, and the search goes on; each
    trial is appended to ``log`` (an :class:`~hpcourse.tracking.ExperimentLog` or a path).
    """
    check_number("budget", budget, low=1, integer=True)
    if not callable(objective):
        raise ValueError(f"objective={objective!r} is not allowed: it must be callable.")
    configs = propose(space, method, budget, seed)
    rows: list[dict[str, Any]] = []
    batch = getattr(objective, "many", None)
    if batch is not None:
        start = time.perf_counter()
        try:
            results: list[Any] = list(batch(configs))
            error = None
        except Exception as err:  # one failure in a batch: fall back to one at a time
            results, error = [], err
        share = (time.perf_counter() - start) / len(configs)
        if error is None:
            pairs = enumerate(zip(configs, results, strict=True))
            rows = [_row(i, c, m, None, share) for i, (c, m) in pairs]
    if not rows:
        for i, config in enumerate(progress_bar(configs, desc=method, enabled=progress)):
            start = time.perf_counter()
            try:
                metrics: Mapping[str, Any] | None = objective(config)
                failure = None
            except Exception as err:  # the objective is the learner's code: keep going
                metrics, failure = None, err
            rows.append(_row(i, config, metrics, failure, time.perf_counter() - start))
    table = pd.DataFrame(rows)
    if metric in table:
        values = table[metric].where(table["status"] == "ok")
        values = values if minimize else -values
        best = values.cummin().ffill()  # a failed trial keeps the best so far
        table["best_so_far"] = best if minimize else -best
    if log is not None:
        from hpcourse.tracking import as_log

        study = {"method": method, "budget": budget, "seed": resolve_seed(seed)}
        for row, config in zip(rows, configs, strict=True):
            metrics_only = {k: v for k, v in row.items() if k not in config and k != "trial"}
            as_log(log).append({"config": config, "metrics": metrics_only, "study": study})
    return table


def _row(
    index: int,
    config: Mapping[str, Any],
    metrics: Mapping[str, Any] | None,
    failure: BaseException | None,
    seconds: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {"trial": index, **config}
    if failure is None and isinstance(metrics, Mapping):
        row.update(metrics)
        row.update(status="ok", error="")
    else:
        reason = (
            failure
            if failure is not None
            else TypeError(f"the objective returned {metrics!r}, not a dict of metrics")
        )
        message = "".join(traceback.format_exception_only(type(reason), reason)).strip()
        row.update(status="failed", error=message)
    row["seconds"] = seconds
    return row


# --------------------------------------------------------------------------- coarse to fine


@dataclass(frozen=True)
class Zoom:
    """A narrower space around the best trials, and which dimensions hit the old edges."""

    space: SearchSpace
    on_boundary: dict[str, str]  # dimension -> "low" or "high"

    def warning(self) -> str:
        """A sentence for the learner, empty when no best value sits on an edge."""
        if not self.on_boundary:
            return ""
        parts = [f"{name} at its {side} end" for name, side in self.on_boundary.items()]
        return (
            "The best trial sits on the edge of the space (" + ", ".join(parts) + "): the "
            "best value may lie outside it. Widen the space in that direction before zooming in."
        )


def zoom(
    space: SearchSpace,
    trials: pd.DataFrame,
    *,
    metric: str = "final_val_loss",
    minimize: bool = True,
    top: int = 5,
    margin: float = 0.1,
    edge: float = 0.05,
) -> Zoom:
    """Coarse-to-fine: the box (in each scale's unit coordinates) around the ``top`` best
    trials, widened by ``margin`` on each side; choices keep all their options.

    ``on_boundary`` names every dimension whose *best* value lies within ``edge`` of the
    old space's end (in unit coordinates).
    """
    check_number("top", top, low=1, integer=True)
    check_number("margin", margin, low=0, high=0.5)
    check_number("edge", edge, low=0, high=0.5)
    ok = trials[trials["status"] == "ok"] if "status" in trials else trials
    if metric not in ok or ok[metric].notna().sum() == 0:
        raise ValueError(
            f"trials is not allowed: it has no finished trial with a {metric!r} column."
        )
    ranked = ok.dropna(subset=[metric]).sort_values(metric, ascending=minimize)
    best = ranked.head(top)
    configs = best[list(space)].to_dict(orient="records")
    unit = space.to_unit(configs)
    dims, flags = {}, {}
    for j, (name, dim) in enumerate(space.items()):
        lo = max(0.0, float(unit[:, j].min()) - margin)
        hi = min(1.0, float(unit[:, j].max()) + margin)
        dims[name] = dim.narrowed(lo, hi) if hi > lo else dim
        first = float(unit[0, j])
        if isinstance(dim, Choice):  # options have no order, hence no edge
            continue
        if first <= edge:
            flags[name] = "low"
        elif first >= 1 - edge:
            flags[name] = "high"
    return Zoom(SearchSpace(dims), flags)


def chance_of_top_fraction(n_trials: int, fraction: float = 0.05) -> float:
    """Probability that at least one of ``n_trials`` random trials lands in the best
    ``fraction`` of the space: ``1 - (1 - fraction) ** n_trials``.

    >>> round(chance_of_top_fraction(60, 0.05), 3)
    0.954
    """
    check_number("n_trials", n_trials, low=1, integer=True)
    check_number("fraction", fraction, low=0, high=1, low_open=True)
    return 1 - (1 - fraction) ** n_trials


def trials_for_top_fraction(probability: float = 0.95, fraction: float = 0.05) -> int:
    """The fewest random trials with at least ``probability`` of one in the best ``fraction``.

    >>> trials_for_top_fraction(0.95, 0.05)
    59
    """
    check_number("probability", probability, low=0, high=1, low_open=True, high_open=True)
    check_number("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
    return math.ceil(math.log(1 - probability) / math.log(1 - fraction))


__all__ = [
    "METHODS",
    "TrainObjective",
    "Zoom",
    "chance_of_top_fraction",
    "discrepancy",
    "grid_points",
    "propose",
    "random_points",
    "run_search",
    "sobol_points",
    "trials_for_top_fraction",
    "width_as_hidden",
    "zoom",
]
