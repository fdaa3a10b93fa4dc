"""Steps (and seconds) to reach a target validation accuracy, measured finely.

Shallue et al. (2019) compare batch sizes by the number of optimizer steps each needs to
reach a fixed validation score, each with its own tuned learning rate. Measured once per
epoch, that count is rounded up to whole epochs: 100 steps at a time for batch 32 on
3,200 examples, too coarse to tell "half the steps" from "a third". :func:`run_to_target`
therefore checks the validation accuracy every ``eval_every`` training examples (a tenth
of an epoch by default) and stops at the first check that reaches the target.

Steps are *counted* (one per optimizer step taken), not computed from the batch size,
and the seconds are training time only: the validation checks are not counted, since a
real run would check far less often.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from torch import nn

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.training import evaluate, train
from hpcourse.validation import check_number


@dataclass
class TargetRun:
    """One run to a target: when (if ever) it got there, and what it checked on the way.

    ``steps``, ``examples`` and ``seconds`` are NaN when the target was not reached within
    ``config.epochs`` epochs (or the run diverged). ``checks`` holds ``(step, val_acc)``
    for every validation check.
    """

    config: TrainConfig
    target_acc: float
    steps: float = math.nan
    examples: float = math.nan
    seconds: float = math.nan
    diverged: bool = False
    steps_taken: int = 0
    checks: list[tuple[int, float]] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return not math.isnan(self.steps)


def run_to_target(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    target_acc: float,
    *,
    eval_every: int | None = None,
) -> TargetRun:
    """Train until validation accuracy reaches ``target_acc``; at most ``config.epochs`` epochs.

    Validation accuracy is checked after the first step at which the examples seen pass
    another multiple of ``eval_every`` (default: a tenth of the training set), so for any
    batch size the count is exact to within ``eval_every`` examples (or one step, if a
    step is larger than that).

    >>> from hpcourse.data import load_dataset
    >>> run = run_to_target({"lr": 0.1, "epochs": 10}, load_dataset("digits"), 0.8)
    >>> run.reached, run.steps <= 10 * 36
    (True, True)
    """
    config = as_config(config)
    check_number("target_acc", target_acc, low=0, high=1)
    n = len(data.y_train)
    every = max(1, n // 10) if eval_every is None else eval_every
    check_number("eval_every", every, low=1, integer=True)
    result = TargetRun(config=config, target_acc=float(target_acc))
    # Seconds of training only: the validation checks and hpcourse.train's own per-epoch
    # measurements are timed and left out.
    clock = {"start": time.perf_counter(), "not_training": 0.0, "seen": 0, "last": 0.0}

    def check(h: History, model: nn.Module, seen: int) -> str | None:
        now = time.perf_counter()
        before, clock["seen"], clock["last"] = clock["seen"], seen, now
        if seen // every == before // every:
            return None
        acc = evaluate(model, data.x_val, data.y_val)[1]  # evaluate() restores train mode
        step = len(h.step_loss)
        result.checks.append((step, acc))
        if acc >= target_acc:
            result.steps, result.examples = step, seen
            result.seconds = now - clock["start"] - clock["not_training"]
            return "stop"
        clock["last"] = time.perf_counter()
        clock["not_training"] += clock["last"] - now
        return None

    def epoch_measured(h: History, optimizer: Any) -> None:
        clock["not_training"] += time.perf_counter() - clock["last"]
        clock["last"] = time.perf_counter()

    # The training itself is hpcourse.train's, step for step; only the checks are added.
    history = train(config, data, on_step=check, on_epoch=epoch_measured)
    result.diverged = history.diverged
    result.steps_taken = len(history.step_loss)
    return result


def target_table(runs: Iterable[TargetRun]) -> pd.DataFrame:
    """One row per run: ``batch_size``, ``lr``, ``steps``, ``examples``, ``seconds``,
    ``reached``, ``diverged``."""
    rows = [
        {
            "batch_size": r.config.batch_size,
            "lr": r.config.lr,
            "steps": r.steps,
            "examples": r.examples,
            "seconds": r.seconds,
            "reached": r.reached,
            "diverged": r.diverged,
        }
        for r in runs
    ]
    if not rows:
        raise ValueError("runs=[] is not allowed: give at least one TargetRun.")
    return pd.DataFrame(rows)


def fewest_steps(table: pd.DataFrame) -> pd.DataFrame:
    """Per batch size, the row of :func:`target_table` with the fewest steps to the target.

    This is the learning rate tuned *for this objective* (steps to target), which need
    not be the one that is best after a fixed number of epochs. A batch size where no
    run reached the target keeps one row with NaN steps.
    """
    missing = [c for c in ("batch_size", "lr", "steps") if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing column(s) {missing}: build it with target_table.")
    rows = []
    for _, group in table.groupby("batch_size", sort=True):
        reached = group[group["steps"].notna()]
        rows.append(reached.loc[reached["steps"].idxmin()] if len(reached) else group.iloc[0])
    return pd.DataFrame(rows).reset_index(drop=True)


__all__ = ["TargetRun", "fewest_steps", "run_to_target", "target_table"]
