"""Epochs and early stopping: when to stop training, what stopping costs, and what it hides.

Three ideas of lesson 07, each a few functions (data in, data out; plots in
:mod:`hpcourse.plots.stopping`):

* **the patience rule, replayed.** :func:`replay_early_stopping` applies the course's own
  rule (:class:`hpcourse.rules.BestEpoch`, the one both training engines use) to a
  validation curve that was already recorded, so every ``patience`` and ``min_delta`` can
  be tried on one run without training again; :func:`stopping_table` lines up a full run
  and early-stopped runs (epochs trained, epochs spent after the best one).
* **the chosen score is optimistic.** The epoch (or configuration) with the lowest
  validation loss was chosen *because* its loss was lowest, partly by luck of the sample.
  :func:`example_losses` records the loss of every validation example, and
  :func:`selection_optimism` splits the validation set in random halves: choose on one
  half, score the choice on the other, fresh half.
* **the best learning rate depends on the training length.** :func:`horizon_configs`
  builds an lr sweep at several lengths and schedules and :func:`best_lr_by_horizon` reads
  the best lr of each (averaged over seeds first, since the argmin of a single seed jumps
  between neighbouring grid points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.results import History
from hpcourse.rules import BestEpoch
from hpcourse.validation import check_choice, check_number

# --------------------------------------------------------------------------- patience


@dataclass(frozen=True)
class Replay:
    """Where early stopping would have stopped on a recorded validation curve.

    ``best_epoch``: the epoch whose weights ``restore_best`` gives back; ``stop_epoch``: the
    last epoch trained; ``stopped_early``: patience ran out before the curve did;
    ``restored_loss``: the validation loss at ``best_epoch``; ``lowest_loss``: the lowest
    validation loss anywhere on the curve (what a run that never stopped could have
    restored); ``wasted``: epochs trained after ``best_epoch``.
    """

    best_epoch: int
    stop_epoch: int
    stopped_early: bool
    restored_loss: float
    lowest_loss: float

    @property
    def wasted(self) -> int:
        return self.stop_epoch - self.best_epoch

    @property
    def regret(self) -> float:
        """How much worse the restored loss is than the lowest on the whole curve."""
        return self.restored_loss - self.lowest_loss


def replay_early_stopping(
    val_loss: Sequence[float], patience: int | None, min_delta: float = 0.0
) -> Replay:
    """Apply the patience rule to ``val_loss`` (entry 0 = before training, as in a History).

    The rule is :class:`hpcourse.rules.BestEpoch`, the very one :func:`hpcourse.train` and
    the population trainer use, so a replay on a run's recorded curve stops where the run
    itself would have stopped with that ``patience`` and ``min_delta`` (same seed, same
    epochs until then).

    >>> r = replay_early_stopping([2.0, 1.5, 1.2, 1.25, 1.3, 1.1, 1.4, 1.5], patience=2)
    >>> r.best_epoch, r.stop_epoch, r.stopped_early
    (2, 4, True)
    >>> replay_early_stopping([2.0, 1.5, 1.2, 1.25, 1.3, 1.1], patience=4).best_epoch
    5
    """
    values = [float(v) for v in val_loss]
    if len(values) < 2:
        raise ValueError(
            f"val_loss with {len(values)} values is not allowed: give the loss before "
            "training (entry 0) and at least one epoch."
        )
    if patience is not None:
        check_number("patience", patience, low=1, integer=True)
    check_number("min_delta", min_delta, low=0)
    best = BestEpoch(values[0], min_delta=min_delta, patience=patience)
    stop, stopped = len(values) - 1, False
    for epoch in range(1, len(values)):
        best.update(epoch, values[epoch])
        if best.should_stop:  # as in the trainers: patience may run out on the last epoch
            stop, stopped = epoch, True
            break
    finite = [v for v in values if math.isfinite(v)]
    return Replay(
        best_epoch=best.epoch,
        stop_epoch=stop,
        stopped_early=stopped,
        restored_loss=values[best.epoch],
        lowest_loss=min(finite) if finite else math.inf,
    )


def replay_table(
    val_loss: Sequence[float],
    patiences: Sequence[int],
    min_deltas: Sequence[float] = (0.0,),
) -> pd.DataFrame:
    """One row per (patience, min_delta): the :class:`Replay` of ``val_loss`` with them."""
    rows = []
    for min_delta in min_deltas:
        for patience in patiences:
            r = replay_early_stopping(val_loss, patience, min_delta)
            rows.append(
                {
                    "patience": patience,
                    "min_delta": min_delta,
                    "best_epoch": r.best_epoch,
                    "stop_epoch": r.stop_epoch,
                    "wasted": r.wasted,
                    "restored_loss": r.restored_loss,
                    "regret": r.regret,
                }
            )
    return pd.DataFrame(rows)


def stopping_table(runs: Mapping[str, History]) -> pd.DataFrame:
    """One row per run: epochs trained, best epoch, epochs spent after it (``wasted``), the
    validation loss and accuracy at the end of training and of the weights the run hands
    back (``kept_*``: the best epoch's with ``restore_best``, else the last epoch's)."""
    rows = []
    for name, h in runs.items():
        kept = h.best_epoch if h.config.restore_best else h.epochs_run
        rows.append(
            {
                "run": name,
                "patience": h.config.patience,
                "epochs_run": h.epochs_run,
                "best_epoch": h.best_epoch,
                "wasted": h.epochs_run - h.best_epoch,
                "last_val_loss": h.final_val_loss,
                "kept_epoch": kept,
                "kept_val_loss": h.val_loss[kept],
                "kept_val_acc": h.val_acc[kept],
            }
        )
    return pd.DataFrame(rows).set_index("run")


# --------------------------------------------------------------------------- optimism


def example_losses(models: Sequence[Any], x: Any, y: Any) -> np.ndarray:
    """The cross-entropy of every example of ``(x, y)`` under each model, in eval mode:
    an array of shape ``(len(models), len(y))``."""
    import torch
    import torch.nn.functional as F

    rows = []
    with torch.inference_mode():
        for model in models:
            was_training = model.training
            model.eval()
            rows.append(F.cross_entropy(model(x), y, reduction="none").double().numpy())
            model.train(was_training)
    return np.stack(rows)


def train_recording_examples(config: Any, data: Any) -> tuple[History, np.ndarray]:
    """Train ``config`` with :func:`hpcourse.train` and record, after every epoch, the loss
    of every validation example: returns the History and an array of shape
    ``(epochs_run, n_val)`` whose row ``e - 1`` belongs to epoch ``e``.

    Why per example: the mean over any subset of the validation set (a random half, say)
    can then be computed afterwards for every epoch, without training again.
    """
    from hpcourse.config import as_config
    from hpcourse.training import train

    config = as_config(config)
    n_train = len(data.y_train)
    rows: list[np.ndarray] = []

    def at_step(_h: History, model: Any, seen: int) -> None:
        if seen % n_train == 0:  # the last step of an epoch
            rows.append(example_losses([model], data.x_val, data.y_val)[0])

    h = train(config, data, on_step=at_step)
    return h, np.stack(rows[: h.epochs_run])


def selection_optimism(
    losses: np.ndarray, *, n_splits: int = 200, seed: int | None = None
) -> pd.DataFrame:
    """How optimistic the score of a choice made on validation is, measured on fresh data.

    ``losses[c, i]`` is the loss of candidate ``c`` (an epoch, a configuration) on
    validation example ``i``. The examples are cut ``n_splits`` times into two random
    halves, and each half takes its turn as the *selection* half: the candidate with the
    lowest mean loss on it is chosen, then scored on both halves. One row per (split,
    turn): ``chosen``, ``selection_score``, ``fresh_score`` and ``optimism`` = fresh minus
    selection.

    Why this isolates the effect of choosing: a candidate fixed in advance (one row of
    ``losses``) scores ``B - A`` on one turn and ``A - B`` on the other, so its mean
    optimism is exactly zero. A chosen candidate's is never below zero: over the two turns
    it is ``[B(c_A) - B(c_B)] + [A(c_B) - A(c_A)]``, where ``c_A`` is the choice on half A,
    and both brackets are >= 0. So the point is its size, not its sign.

    >>> fixed = np.arange(20.0).reshape(1, 20)
    >>> float(selection_optimism(fixed, n_splits=5, seed=0)["optimism"].mean())
    0.0
    """
    from hpcourse.seeding import resolve_seed

    values = np.asarray(losses, dtype=float)
    if values.ndim != 2 or values.shape[1] < 4:
        raise ValueError(
            f"losses of shape {values.shape} is not allowed: give (candidates, examples) "
            "with at least 4 examples."
        )
    check_number("n_splits", n_splits, low=1, integer=True)
    rng = np.random.default_rng(resolve_seed(seed))
    n = values.shape[1]
    rows = []
    for split in range(n_splits):
        half = np.zeros(n, dtype=bool)
        half[rng.permutation(n)[: n // 2]] = True
        for selection in (half, ~half):
            on_selection = values[:, selection].mean(axis=1)
            on_fresh = values[:, ~selection].mean(axis=1)
            chosen = int(np.argmin(on_selection))
            rows.append(
                {
                    "split": split,
                    "chosen": chosen,
                    "selection_score": on_selection[chosen],
                    "fresh_score": on_fresh[chosen],
                    "optimism": on_fresh[chosen] - on_selection[chosen],
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- training length

METRICS = ("final_val_loss", "best_val_loss", "final_train_loss")


def horizon_configs(
    base: Mapping[str, Any],
    lrs: Sequence[float],
    *,
    epochs: Sequence[int],
    schedules: Sequence[str],
    seeds: Sequence[int],
) -> list[dict[str, Any]]:
    """One config per (schedule, epochs, lr, seed), each ``base`` with those fields set.

    >>> len(horizon_configs({}, [0.01, 0.1], epochs=[5, 40], schedules=["constant"], seeds=[0]))
    4
    """
    for name, values in (("lrs", lrs), ("epochs", epochs), ("schedules", schedules)):
        if len(values) == 0:
            raise ValueError(f"{name}=[] is not allowed: give at least one value.")
    if len(seeds) == 0:
        raise ValueError("seeds=[] is not allowed: give at least one seed.")
    return [
        {**base, "schedule": s, "epochs": int(e), "lr": float(lr), "seed": int(seed)}
        for s in schedules
        for e in epochs
        for lr in lrs
        for seed in seeds
    ]


def _metric(h: History, metric: str) -> float:
    if h.diverged:
        return math.inf
    if metric == "final_val_loss":
        return h.final_val_loss
    if metric == "best_val_loss":
        return h.best_val_loss
    return h.train_loss[-1]


def horizon_table(histories: Sequence[History]) -> pd.DataFrame:
    """One row per run of a :func:`horizon_configs` sweep: schedule, epochs, lr, seed and
    the three metrics of :data:`METRICS` (``inf`` for a run that diverged)."""
    if not histories:
        raise ValueError("histories=[] is not allowed: give the runs of a sweep.")
    rows = [
        {
            "schedule": h.config.schedule,
            "epochs": h.config.epochs,
            "lr": h.config.lr,
            "seed": h.config.seed,
            "diverged": h.diverged,
            **{m: _metric(h, m) for m in METRICS},
        }
        for h in histories
    ]
    return pd.DataFrame(rows)


def fitted_best_lr(lrs: Sequence[float], values: Sequence[float]) -> float:
    """The lr at the bottom of a parabola through the best grid point and its two
    neighbours, in log lr: a finer estimate than the grid's argmin.

    Why: a grid spaced 1.8x apart moves its argmin only when the true optimum has moved by
    about that much; the parabola's vertex moves with it continuously, so a learning rate
    applied 1.5x or 2x off shows. NaN when the best grid point is on the edge, a neighbour
    has no finite value, or the three points do not bend upwards.

    >>> round(fitted_best_lr([0.001, 0.01, 0.1], [2.0, 1.0, 2.0]), 6)
    0.01
    >>> fitted_best_lr([0.001, 0.01, 0.1], [1.0, 2.0, 3.0])
    nan
    """
    x = np.log10(np.asarray(lrs, dtype=float))
    y = np.asarray(values, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError(
            f"lrs and values of lengths {len(x)} and {len(y)} are not allowed: give the same "
            "number of values as lrs, at least 3."
        )
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"lrs={list(lrs)!r} is not allowed: give them in increasing order.")
    i = int(np.nanargmin(np.where(np.isfinite(y), y, np.nan)))
    if i in (0, len(x) - 1) or not np.all(np.isfinite(y[i - 1 : i + 2])):
        return math.nan
    a, b, _ = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    if a <= 0:
        return math.nan
    return float(10 ** (-b / (2 * a)))


def best_lr_by_horizon(table: pd.DataFrame, metric: str = "final_val_loss") -> pd.DataFrame:
    """The best lr per (schedule, epochs): the argmin of ``metric`` averaged over seeds.

    Columns: ``schedule``, ``epochs``, ``best_lr``, ``value`` (the mean metric there),
    ``fitted_lr`` (:func:`fitted_best_lr` on the seed means: between grid points),
    ``on_edge`` (the best is the smallest or largest lr tried: the grid does not bracket
    it) and ``seed_best_lrs`` (each seed's own argmin, to show how much it jumps).
    """
    check_choice("metric", metric, METRICS)
    rows = []
    for (schedule, epochs), group in table.groupby(["schedule", "epochs"], sort=True):
        mean = group.groupby("lr")[metric].mean().sort_index()
        best = float(mean.idxmin())
        per_seed = group.loc[group.groupby("seed")[metric].idxmin(), "lr"]
        rows.append(
            {
                "schedule": schedule,
                "epochs": int(epochs),
                "best_lr": best,
                "value": float(mean.min()),
                "fitted_lr": fitted_best_lr(mean.index.to_numpy(), mean.to_numpy()),
                "on_edge": best in (float(mean.index[0]), float(mean.index[-1])),
                "seed_best_lrs": [float(v) for v in per_seed],
            }
        )
    return pd.DataFrame(rows)


def best_lr_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The best lr (seed mean) of every (schedule, epochs) under each metric of
    :data:`METRICS`: one row per (schedule, epochs), one column per metric."""
    columns = {
        metric: best_lr_by_horizon(table, metric).set_index(["schedule", "epochs"])["best_lr"]
        for metric in METRICS
    }
    return pd.DataFrame(columns)


def horizon_shift(best: pd.DataFrame, short: int, long: int) -> pd.DataFrame:
    """Per schedule: the best lr of the ``short`` sweep divided by that of the ``long``
    sweep (``> 1``: the short sweep picks a larger lr), overall and seed by seed
    (``seed_ratios``, pairing each seed's argmin at the two lengths)."""
    rows = []
    for schedule, group in best.groupby("schedule", sort=False):
        by_epochs = group.set_index("epochs")
        for e in (short, long):
            if e not in by_epochs.index:
                raise ValueError(
                    f"epochs={e!r} is not allowed: the sweep ran {sorted(by_epochs.index)}."
                )
        s, lng = by_epochs.loc[short], by_epochs.loc[long]
        rows.append(
            {
                "schedule": schedule,
                f"best_lr_{short}": s["best_lr"],
                f"best_lr_{long}": lng["best_lr"],
                "ratio": s["best_lr"] / lng["best_lr"],
                "seed_ratios": [
                    a / b for a, b in zip(s["seed_best_lrs"], lng["seed_best_lrs"], strict=True)
                ],
            }
        )
    return pd.DataFrame(rows)


def short_run_cost(table: pd.DataFrame, short: int, long: int) -> pd.DataFrame:
    """What trusting a short sweep costs, per schedule: the lr that won at ``short`` epochs,
    trained for ``long`` epochs, against the lr that won at ``long`` (seed means).

    ``cost_final``: its final validation loss minus the long winner's; ``cost_best_epoch``:
    the same read at each run's best epoch (what early stopping with ``restore_best``
    keeps), against the lr that is best when read that way.
    """
    rows = []
    for schedule, group in table.groupby("schedule", sort=False):
        means = group.groupby(["epochs", "lr"])[["final_val_loss", "best_val_loss"]].mean()
        for e in (short, long):
            if e not in means.index.get_level_values("epochs"):
                raise ValueError(f"epochs={e!r} is not allowed: the sweep has no such runs.")
        short_means, long_means = means.loc[short], means.loc[long]
        winner = float(short_means["final_val_loss"].idxmin())
        rows.append(
            {
                "schedule": schedule,
                f"best_lr_{short}": winner,
                f"best_lr_{long}": float(long_means["final_val_loss"].idxmin()),
                "cost_final": float(
                    long_means.loc[winner, "final_val_loss"] - long_means["final_val_loss"].min()
                ),
                "cost_best_epoch": float(
                    long_means.loc[winner, "best_val_loss"] - long_means["best_val_loss"].min()
                ),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "METRICS",
    "Replay",
    "best_lr_by_horizon",
    "best_lr_summary",
    "example_losses",
    "fitted_best_lr",
    "horizon_configs",
    "horizon_shift",
    "horizon_table",
    "replay_early_stopping",
    "replay_table",
    "selection_optimism",
    "short_run_cost",
    "stopping_table",
    "train_recording_examples",
]
