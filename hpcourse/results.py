"""What a run measured, and the tables a sweep of runs turns into. No PyTorch here.

:class:`History` is the one result type of the course: the single-model trainer, the
population trainer and every search return it, and the experiment log stores it. Because
this module imports no PyTorch, a History can be read back from a log, tabled and
plotted in a process that never trains anything.

The sweep helpers below all take a list of Histories and return a ``DataFrame`` (compute
first; ``hpcourse.plots`` draws them):

* :func:`results_table`: one row per run, the chosen config fields and the headline numbers;
* :func:`sweep_points`: lr, final metric and diverged flag per run, for the U of an lr sweep;
* :func:`batch_run_table`, :func:`best_lr_per_batch`, :func:`steps_to_target`: batch-size
  lessons (steps per epoch, jitter, the best lr per batch, steps to reach a target);
* two rules of thumb with formulas: :func:`steps_per_epoch`, :func:`linear_scaled_lr`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig
from hpcourse.validation import check_choice, check_number

METRICS = ("val_loss", "val_acc", "train_loss", "train_acc")


@dataclass
class History:
    """Everything a run measured. Entry 0 of the per-epoch lists is *before* training.

    ``step_loss`` holds the training loss of every minibatch step and ``step_lr`` the
    learning rate used for it; ``step_grad_norm`` the gradient norm of every step, before
    clipping (recorded only when ``config.grad_clip`` is set). ``best_epoch`` is the epoch
    with the lowest validation loss (by more than ``config.min_delta``). ``model`` is the
    trained model (not saved in logs).

    A run that diverged has no meaningful final numbers: ``final_val_loss`` is ``inf`` (so
    it sorts last) and ``final_val_acc`` is NaN, never the accuracy of the untrained model.
    """

    config: TrainConfig
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    wall_time: float = 0.0
    best_epoch: int = 0
    diverged: bool = False
    stopped_early: bool = False
    n_params: int = 0
    dataset: str = ""
    model: Any = field(default=None, repr=False)

    @property
    def final_val_loss(self) -> float:
        """Validation loss at the end; ``inf`` for a diverged run, so it sorts last."""
        return math.inf if self.diverged else self.val_loss[-1]

    @property
    def final_val_acc(self) -> float:
        """Validation accuracy at the end; NaN for a diverged run (nothing was measured)."""
        return math.nan if self.diverged else self.val_acc[-1]

    @property
    def _best_is_measured(self) -> bool:
        # A run that blew up before improving on its starting point has no best epoch to
        # report: epoch 0 is the untrained model, not a result of the run.
        return not (self.diverged and self.best_epoch == 0)

    @property
    def best_val_loss(self) -> float:
        """Validation loss at ``best_epoch`` (what ``restore_best`` gives back)."""
        return self.val_loss[self.best_epoch] if self._best_is_measured else math.inf

    @property
    def best_val_acc(self) -> float:
        """Validation accuracy *at* ``best_epoch`` (not the highest accuracy of any epoch)."""
        return self.val_acc[self.best_epoch] if self._best_is_measured else math.nan

    @property
    def epochs_run(self) -> int:
        """Epochs completed (a diverged run stops in the middle of the next one)."""
        return self.epoch[-1] if self.epoch else 0

    def to_frame(self) -> pd.DataFrame:
        """Per-epoch metrics as a table (one row per epoch, epoch 0 = before training)."""
        return pd.DataFrame(
            {
                "epoch": self.epoch,
                "train_loss": self.train_loss,
                "train_acc": self.train_acc,
                "val_loss": self.val_loss,
                "val_acc": self.val_acc,
            }
        )

    def summary(self) -> dict[str, Any]:
        """The headline numbers of the run, flat, for tables and logs."""
        return {
            "dataset": self.dataset,
            "final_val_loss": self.final_val_loss,
            "final_val_acc": self.final_val_acc,
            "best_val_loss": self.best_val_loss,
            "best_val_acc": self.best_val_acc,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "diverged": self.diverged,
            "stopped_early": self.stopped_early,
            "wall_time": self.wall_time,
            "n_params": self.n_params,
        }

    def to_record(self) -> dict[str, Any]:
        """A JSON-friendly record: config, summary and per-epoch curves (no step data)."""
        return {
            "config": self.config.to_dict(),
            "metrics": self.summary(),
            "curves": self.to_frame().to_dict(orient="list"),
        }

    def __repr__(self) -> str:
        state = "DIVERGED" if self.diverged else f"val_acc={self.final_val_acc:.3f}"
        return (
            f"History(lr={self.config.lr:g}, batch_size={self.config.batch_size}, "
            f"epochs_run={self.epochs_run}, {state}, wall_time={self.wall_time:.2f}s)"
        )


# --------------------------------------------------------------------------- tables


def results_table(histories: Iterable[History], columns: Iterable[str] = ()) -> pd.DataFrame:
    """One row per run: the chosen config fields followed by the run's summary.

    >>> h = History(TrainConfig(lr=0.5), epoch=[0, 1], val_loss=[2.3, 1.0], val_acc=[.1, .7])
    >>> results_table([h], columns=["lr"])[["lr", "final_val_acc"]].values.tolist()
    [[0.5, 0.7]]
    """
    columns = list(columns)
    rows = []
    for h in histories:
        cfg = h.config.to_dict()
        for c in columns:
            if c not in cfg:
                raise ValueError(
                    f"columns={columns!r} is not allowed: {c!r} is not a TrainConfig field."
                )
        rows.append({**{c: cfg[c] for c in columns}, **h.summary()})
    return pd.DataFrame(rows)


def sweep_points(histories: Sequence[History], metric: str = "val_loss") -> pd.DataFrame:
    """The numbers behind an lr-sweep plot, sorted by lr: ``lr``, final ``value``, ``diverged``.

    A diverged run's value is NaN: it has no final value, only the fact that it blew up.
    """
    check_choice("metric", metric, METRICS)
    rows = [
        {
            "lr": h.config.lr,
            "value": math.nan if h.diverged else float(getattr(h, metric)[-1]),
            "diverged": h.diverged,
        }
        for h in histories
    ]
    table = pd.DataFrame(rows, columns=["lr", "value", "diverged"])
    return table.sort_values("lr", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- batch size


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``n_examples`` with batches of ``batch_size``.

    The last batch may be smaller than the others but is still a step, so we round up.

    >>> steps_per_epoch(3200, 32), steps_per_epoch(3200, 2048)
    (100, 2)
    """
    check_number("n_examples", n_examples, low=1, integer=True)
    check_number("batch_size", batch_size, low=1, high=n_examples, integer=True)
    return math.ceil(n_examples / batch_size)


def linear_scaled_lr(base_lr: float, base_batch: int, new_batch: int) -> float:
    """The linear scaling rule (Goyal et al. 2017): multiply the batch by k, the lr by k.

    Why it works for small batches: with ``k`` times the batch, one step averages ``k``
    times as many examples, so it can move ``k`` times as far and stay about as
    accurate as ``k`` small steps would have been. It stops working once the step is
    limited by the curvature of the loss rather than by gradient noise.

    >>> linear_scaled_lr(0.1, 256, 1024)
    0.4
    """
    check_number("base_lr", base_lr, low=0, low_open=True)
    check_number("base_batch", base_batch, low=1, integer=True)
    check_number("new_batch", new_batch, low=1, integer=True)
    return base_lr * new_batch / base_batch


def step_loss_jitter(step_loss: Sequence[float], *, last_fraction: float = 0.5) -> float:
    """How jagged a per-step loss curve is: the std of step-to-step changes.

    Taken over the last ``last_fraction`` of the steps, where the downward trend is slow,
    so what remains is mostly minibatch noise (the std of differences also ignores a
    steady trend). Larger batches average more examples per step: lower jitter.

    >>> round(step_loss_jitter([2.0, 1.9, 1.8, 1.7, 1.6, 1.5]), 12)  # steady trend, no noise
    0.0
    """
    check_number("last_fraction", last_fraction, low=0, high=1, low_open=True)
    values = np.asarray(step_loss, dtype=float)
    tail = values[int(len(values) * (1 - last_fraction)) :]
    if len(tail) < 3:
        raise ValueError(
            f"step_loss with {len(values)} values is not allowed: the last {last_fraction:g} "
            "of the run must hold at least 3 steps."
        )
    return float(np.diff(tail).std(ddof=1))


def steps_to_target(history: History, target_acc: float) -> dict[str, float]:
    """Epochs, steps and training seconds until validation accuracy first reached a target.

    Validation is measured once per epoch, so the answer is rounded up to whole epochs.
    Steps are *counted* from the run's own per-step record, not computed from a formula.
    NaN where the run never reached the target (or diverged).
    """
    check_number("target_acc", target_acc, low=0, high=1)
    hit = next(
        (e for e, a in zip(history.epoch, history.val_acc, strict=True) if a >= target_acc), None
    )
    if hit is None or history.diverged:
        return {"epochs": math.nan, "steps": math.nan, "seconds": math.nan}
    return {
        "epochs": float(hit),
        "steps": float(min(hit * history.steps_per_epoch, len(history.step_loss))),
        "seconds": float(sum(history.epoch_time[1 : hit + 1])),
    }


def batch_run_table(
    histories: Sequence[History], *, target_acc: float | None = None
) -> pd.DataFrame:
    """One row per run: batch size, lr, steps per epoch, median seconds per epoch, jitter,
    final accuracy, and (given ``target_acc``) steps / epochs / seconds to reach it."""
    rows = []
    for h in histories:
        row = {
            "batch_size": h.config.batch_size,
            "lr": h.config.lr,
            "steps_per_epoch": h.steps_per_epoch,
            "sec_per_epoch": float(np.median(h.epoch_time[1:])) if len(h.epoch_time) > 1 else 0,
            "jitter": step_loss_jitter(h.step_loss) if len(h.step_loss) >= 6 else math.nan,
            "final_val_acc": h.final_val_acc,
            "diverged": h.diverged,
        }
        if target_acc is not None:
            hit = steps_to_target(h, target_acc)
            row.update({f"{k}_to_target": v for k, v in hit.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def best_lr_per_batch(histories: Sequence[History]) -> pd.DataFrame:
    """From an lr x batch-size sweep: the lr with the lowest final validation loss per batch.

    Adds ``linear_rule_lr`` (the lr the linear scaling rule predicts from the smallest
    batch's best lr), ``n_lrs_tried`` and ``on_edge`` (the best lr is the smallest or the
    largest tried for that batch: the grid may be too narrow to say where the best is).
    Diverged runs count as infinitely bad.
    """
    if not histories:
        raise ValueError("histories=[] is not allowed: give the runs of a sweep.")
    table = results_table(histories, columns=["batch_size", "lr"])
    best = table.loc[table.groupby("batch_size")["final_val_loss"].idxmin()]
    best = best.sort_values("batch_size").reset_index(drop=True)
    out = best[["batch_size", "lr", "final_val_loss", "final_val_acc"]].rename(
        columns={"lr": "best_lr"}
    )
    b0, lr0 = out["batch_size"].iloc[0], out["best_lr"].iloc[0]
    out["linear_rule_lr"] = [linear_scaled_lr(lr0, int(b0), int(b)) for b in out["batch_size"]]
    grouped = table.groupby("batch_size")["lr"]
    out["n_lrs_tried"] = grouped.nunique().sort_index().to_numpy()
    lo, hi = grouped.min().sort_index().to_numpy(), grouped.max().sort_index().to_numpy()
    out["on_edge"] = (out["best_lr"].to_numpy() == lo) | (out["best_lr"].to_numpy() == hi)
    return out


__all__ = [
    "METRICS",
    "History",
    "batch_run_table",
    "best_lr_per_batch",
    "linear_scaled_lr",
    "results_table",
    "step_loss_jitter",
    "steps_per_epoch",
    "steps_to_target",
    "sweep_points",
]
