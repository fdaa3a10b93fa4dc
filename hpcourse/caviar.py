"""Caviar and what lies between it and babysitting: many models, judged against each other.

Babysitting spends a person's attention on one run; *caviar* spends compute on many runs
at once and keeps the best. Between the two, successive halving spends most of the
compute on the configurations that look good early, and population-based training (PBT)
lets the population babysit itself. This module holds the measurements lesson 06 makes
of them, on the population engine (:mod:`hpcourse.population`):

* :func:`best_of_n` / :func:`best_of_n_table`: what the best of ``n`` random
  configurations is worth, read off one population of ``K >= n`` (members of a
  population do not influence each other, so any ``n`` of them are what a population of
  ``n`` would have given);
* :func:`repeat_configs` / :func:`train_repeats`: the same experiment repeated on fresh
  configurations and seeds, trained to full length: the ground truth of each repeat;
* :func:`halving_vs_full`, :func:`simulate_halving`, :func:`halving_tradeoff`,
  :func:`halving_epochs`: did successive halving keep the configuration that is best
  at full length, and what did it save;
* :func:`pbt_vs_random`, :func:`exploit_jumps`: PBT against random search with the same
  total epochs, and what each exploit did to the member that was overwritten.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.halving import HalvingResult, successive_halving
from hpcourse.pbt import PBTResult, pbt
from hpcourse.progress import progress as progress_bar
from hpcourse.results import History
from hpcourse.seeding import resolve_seed
from hpcourse.space import Float, Int, SearchSpace
from hpcourse.validation import check_number


def step_drop_space(
    lr: tuple[float, float] = (0.01, 1.0),
    step_epochs: tuple[int, int] = (4, 20),
    gamma: tuple[float, float] = (0.03, 0.5),
) -> SearchSpace:
    """The babysitter's three decisions as a search space, for ``schedule="step"``: the
    starting lr, after how many epochs to lower it, and by what factor (``gamma``; the
    drop repeats every ``step_epochs``). Caviar tries them all at once instead of
    deciding them one look at a time."""
    return SearchSpace(
        {
            "lr": Float(lr[0], lr[1], "log"),
            "step_epochs": Int(step_epochs[0], step_epochs[1]),
            "gamma": Float(gamma[0], gamma[1], "log"),
        }
    )


# --------------------------------------------------------------------------- best of n


def best_of_n(values: Sequence[float], n: int, q: float = 0.5) -> float:
    """The ``q``-quantile of the best (lowest) of ``n`` values drawn without replacement
    from ``values``: with ``q=0.5``, the best that ``n`` random picks typically give.

    Exact, by order statistics: the best of ``n`` is at most the ``i``-th smallest value
    unless all ``n`` picks come from the ``K - i`` larger ones, so its distribution function
    there is ``1 - C(K - i, n) / C(K, n)``. A quantile rather than a mean because a
    diverged run's loss is infinite, and a single one would make a mean infinite.

    >>> best_of_n([1.0, 2.0, 3.0], 1), best_of_n([1.0, 2.0, 3.0], 2), best_of_n([3.0, 1.0], 2)
    (2.0, 1.0, 1.0)
    """
    ordered = sorted(float(v) for v in values)
    k = len(ordered)
    if k == 0:
        raise ValueError("values=[] is not allowed: give at least one value.")
    check_number("n", n, low=1, high=k, integer=True)
    check_number("q", q, low=0, high=1, low_open=True)
    total = math.comb(k, n)
    for i, value in enumerate(ordered, start=1):
        if 1 - math.comb(k - i, n) / total >= q - 1e-12:
            return value
    return ordered[-1]


def best_of_n_table(
    histories: Sequence[History], seconds: float, reference_seconds: float
) -> pd.DataFrame:
    """For ``n = 1..K``: the best final validation loss that ``n`` of these runs typically
    give (median, with the quartiles ``best_q25`` and ``best_q75``), and what ``n`` of them
    cost in wall time at the population's measured cost per member (``seconds / K``), also
    in units of ``reference_seconds`` (one babysat run).

    The cost is proportional to ``n``: a small population is a little less efficient per
    member than a large one, so the table flatters caviar at small ``n``.
    """
    check_number("seconds", seconds, low=0, low_open=True)
    check_number("reference_seconds", reference_seconds, low=0, low_open=True)
    losses = [h.final_val_loss for h in histories]
    per_model = seconds / len(losses)
    rows = [
        {
            "n": n,
            "typical_best": best_of_n(losses, n),
            "best_q25": best_of_n(losses, n, 0.25),
            "best_q75": best_of_n(losses, n, 0.75),
            "seconds": n * per_model,
            "in_babysat_runs": n * per_model / reference_seconds,
        }
        for n in range(1, len(losses) + 1)
    ]
    return pd.DataFrame(rows)


def caviar_table(
    babysat: History, babysat_seconds: float, population: Sequence[History], seconds: float
) -> pd.DataFrame:
    """One row for the babysat run and one for the population: models, wall time, time
    per model, and the best final validation loss and accuracy."""
    best = min(population, key=lambda h: h.final_val_loss)
    return pd.DataFrame(
        [
            {
                "method": "babysat run",
                "models": 1,
                "seconds": babysat_seconds,
                "seconds_per_model": babysat_seconds,
                "best_val_loss": babysat.final_val_loss,
                "best_val_acc": babysat.final_val_acc,
            },
            {
                "method": "population (caviar)",
                "models": len(population),
                "seconds": seconds,
                "seconds_per_model": seconds / len(population),
                "best_val_loss": best.final_val_loss,
                "best_val_acc": best.final_val_acc,
            },
        ]
    )


# --------------------------------------------------------------------------- repeats


def repeat_configs(
    space: SearchSpace,
    base: TrainConfig | dict[str, Any] | None,
    n_configs: int,
    repeats: int,
    rng: np.random.Generator,
    *,
    seed: int | None = None,
) -> list[list[TrainConfig]]:
    """``repeats`` groups of ``n_configs`` configurations drawn from ``space`` into ``base``.

    Repeat ``r`` trains with seed ``seed + r`` (default: the course seed + r), so repeats
    differ in their configurations, initial weights and batch order alike.
    """
    check_number("n_configs", n_configs, low=1, integer=True)
    check_number("repeats", repeats, low=1, integer=True)
    first = resolve_seed(seed)
    start = as_config(base)
    return [
        [start.replace(**values, seed=first + r) for values in space.sample(n_configs, rng)]
        for r in range(repeats)
    ]


def train_repeats(
    groups: Sequence[Sequence[TrainConfig]], data: Dataset, *, progress: bool = True
) -> list[list[History]]:
    """Train every configuration of every repeat to full length (one ``train_many`` call,
    so configurations that share an architecture train as one population)."""
    from hpcourse.training import train_many

    flat = [c for group in groups for c in group]
    runs = train_many(flat, data, progress=progress, desc="full-length runs")
    out, start = [], 0
    for group in groups:
        out.append(runs[start : start + len(group)])
        start += len(group)
    return out


def winner(histories: Sequence[History]) -> int:
    """Index of the run with the lowest final validation loss (diverged runs sort last)."""
    return int(np.argmin([h.final_val_loss for h in histories]))


# --------------------------------------------------------------------------- halving


def halving_epochs(n_configs: int, rungs: Sequence[int], eta: int) -> int:
    """Epochs successive halving spends when nothing diverges: at each rung the
    configurations still in train on from the previous rung (they are not restarted), and
    ``ceil(n / eta)`` of them go on to the next.

    >>> halving_epochs(9, [1, 3, 9], 3), halving_epochs(10, [2, 6, 18], 3)
    (21, 60)
    """
    check_number("n_configs", n_configs, low=1, integer=True)
    check_number("eta", eta, low=2, integer=True)
    _check_rungs(rungs)
    alive, previous, total = n_configs, 0, 0
    for i, epoch in enumerate(rungs):
        total += alive * (epoch - previous)
        previous = epoch
        if i < len(rungs) - 1:
            alive = max(1, math.ceil(alive / eta))
    return total


def _check_rungs(rungs: Sequence[int]) -> None:
    if len(rungs) == 0:
        raise ValueError("rungs=[] is not allowed: give at least one rung epoch.")
    for i, epoch in enumerate(rungs):
        check_number(f"rungs[{i}]", epoch, low=1, integer=True)
    if list(rungs) != sorted(set(rungs)):
        raise ValueError(f"rungs={list(rungs)!r} is not allowed: rungs must strictly increase.")


def _alive_at(history: History, epoch: int) -> bool:
    """Whether a run was still training once ``epoch`` had been measured."""
    return history.epochs_run > epoch or (history.epochs_run == epoch and not history.diverged)


def simulate_halving(
    histories: Sequence[History], rungs: Sequence[int], eta: int
) -> tuple[list[int], int]:
    """Successive halving replayed on full-length curves: the indices of the runs that
    reach the last rung, and the epochs it would have spent.

    Exact for the population engine, where a survivor continues where it was: its curve in
    a halving run is the beginning of its full-length curve. So one set of full runs tells
    what every rung schedule would have done, for free.
    """
    check_number("eta", eta, low=2, integer=True)
    _check_rungs(rungs)
    alive = list(range(len(histories)))
    trained_to = dict.fromkeys(alive, rungs[-1])
    for epoch in rungs[:-1]:
        alive = [i for i in alive if _alive_at(histories[i], epoch)]
        alive.sort(key=lambda i: histories[i].val_loss[epoch])
        keep = max(1, math.ceil(len(alive) / eta))
        for i in alive[keep:]:
            trained_to[i] = epoch
        alive = alive[:keep]
    for i in range(len(histories)):
        trained_to[i] = min(trained_to[i], histories[i].epochs_run)
    survivors = [i for i in alive if _alive_at(histories[i], rungs[-1])]
    return sorted(survivors), int(sum(trained_to.values()))


def halving_vs_full(
    groups: Sequence[Sequence[TrainConfig]],
    truth: Sequence[Sequence[History]],
    data: Dataset,
    *,
    rungs: Sequence[int],
    eta: int = 3,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[HalvingResult]]:
    """Run :func:`~hpcourse.halving.successive_halving` on each repeat and judge it by the
    full-length runs ``truth`` of the same configurations.

    One row per repeat: the full-length winner and its loss, the configuration halving
    picked and its loss, whether the winner reached the last rung (``kept``), the loss
    given up (``regret``), and the epochs each approach spent.
    """
    if len(groups) != len(truth):
        raise ValueError(
            f"truth has {len(truth)} repeats, groups {len(groups)}: they must be the same runs."
        )
    rows, results = [], []
    pairs = list(enumerate(zip(groups, truth, strict=True)))
    for r, (group, full) in progress_bar(pairs, desc="successive halving", enabled=progress):
        best = winner(full)
        result = successive_halving(
            group, data, max_epochs=rungs[-1], eta=eta, rungs=list(rungs), progress=False
        )
        last = result.table["rung"] == result.table["rung"].max()
        survivors = result.table.index[last].tolist()
        pick = int(result.table.loc[last, "val_loss"].idxmin())
        rows.append(
            {
                "repeat": r,
                "winner_lr": full[best].config.lr,
                "winner_loss": full[best].final_val_loss,
                "pick_lr": result.histories[pick].config.lr,
                "pick_loss": result.histories[pick].final_val_loss,
                "kept": best in survivors,
                "regret": result.histories[pick].final_val_loss - full[best].final_val_loss,
                "halving_epochs": result.total_epochs,
                "full_epochs": int(sum(h.epochs_run for h in full)),
            }
        )
        results.append(result)
    return pd.DataFrame(rows), results


def halving_tradeoff(
    truth: Sequence[Sequence[History]], schedules: Mapping[str, Sequence[int]], eta: int = 3
) -> pd.DataFrame:
    """For each rung schedule (by name): in what share of the repeats the full-length
    winner reaches the last rung, and the share of the full-length epochs it spends,
    replayed on the full-length runs (:func:`simulate_halving`)."""
    rows = []
    for name, rungs in schedules.items():
        kept, spent, full = 0, 0, 0
        for runs in truth:
            survivors, epochs = simulate_halving(runs, rungs, eta)
            kept += winner(runs) in survivors
            spent += epochs
            full += sum(h.epochs_run for h in runs)
        rows.append(
            {
                "schedule": name,
                "first_rung": int(rungs[0]),
                "last_rung_size": len(simulate_halving(truth[0], rungs, eta)[0]),
                "kept_rate": kept / len(truth),
                "epochs_share": spent / full,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- PBT


def pbt_vs_random(
    groups: Sequence[Sequence[TrainConfig]],
    truth: Sequence[Sequence[History]],
    data: Dataset,
    *,
    interval: int,
    fraction: float = 0.25,
    seed: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[PBTResult]]:
    """PBT on each repeat's configurations against random search on the same ones.

    Random search is ``truth``: every configuration trained on its own for the full
    length, so both are given the same epochs (``budget_epochs``; a member that diverges
    stops early and uses fewer, hence ``random_epochs`` and ``pbt_epochs``, the epochs
    each really trained). One row per repeat: the best final validation loss of each,
    ``gain`` (random's minus PBT's: positive when PBT is better) and the number of
    exploits. PBT of repeat ``r`` draws with seed ``seed + r``.
    """
    if len(groups) != len(truth):
        raise ValueError(
            f"truth has {len(truth)} repeats, groups {len(groups)}: they must be the same runs."
        )
    first = resolve_seed(seed)
    rows, results = [], []
    pairs = list(enumerate(zip(groups, truth, strict=True)))
    for r, (group, full) in progress_bar(pairs, desc="PBT", enabled=progress):
        result = pbt(
            group, data, interval=interval, fraction=fraction, seed=first + r, progress=False
        )
        random_best = min(h.final_val_loss for h in full)
        pbt_best = result.best.final_val_loss
        rows.append(
            {
                "repeat": r,
                "random_best": random_best,
                "pbt_best": pbt_best,
                "gain": random_best - pbt_best,
                "exploits": len(result.lineage),
                "budget_epochs": int(sum(c.epochs for c in group)),
                "random_epochs": int(sum(h.epochs_run for h in full)),
                "pbt_epochs": int(sum(h.epochs_run for h in result.histories)),
            }
        )
        results.append(result)
    return pd.DataFrame(rows), results


def exploit_jumps(result: PBTResult) -> pd.DataFrame:
    """What each exploit did: the validation-loss gap between the overwritten member and
    its donor at the epoch of the copy (``gap_before``) and one epoch later
    (``gap_after``). A real copy closes the gap at once: the two then differ only by the
    explored learning rate. NaN where either run had stopped (diverged) by then."""
    rows = []
    for row in result.lineage.itertuples():
        member, donor = result.histories[int(row.member)], result.histories[int(row.copied_from)]
        e = int(row.epoch)

        def gap(at: int, a: History = member, b: History = donor) -> float:
            if at >= len(a.val_loss) or at >= len(b.val_loss):
                return math.nan
            return abs(a.val_loss[at] - b.val_loss[at])

        rows.append(
            {
                "epoch": e,
                "member": int(row.member),
                "donor": int(row.copied_from),
                "gap_before": gap(e),
                "gap_after": gap(e + 1),
            }
        )
    return pd.DataFrame(rows, columns=["epoch", "member", "donor", "gap_before", "gap_after"])


__all__ = [
    "best_of_n",
    "best_of_n_table",
    "caviar_table",
    "exploit_jumps",
    "halving_epochs",
    "halving_tradeoff",
    "halving_vs_full",
    "pbt_vs_random",
    "repeat_configs",
    "simulate_halving",
    "step_drop_space",
    "train_repeats",
    "winner",
]
