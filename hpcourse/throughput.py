"""Throughput: how many training examples per second each batch size gets through.

The Deep Learning Tuning Playbook (Godbole et al. 2023) treats the batch size as a
question of *speed*, not of accuracy: once the learning rate (and regularization) is
re-tuned for each batch size and training gets enough steps, about the same result is
reachable with any of them. So pick the batch size the hardware processes fastest
(examples per second), up to the point where more examples per step stop saving steps
(the critical batch size), and within memory. Measuring throughput takes a few
seconds; tuning the batch size for accuracy takes a sweep.

:func:`measure_throughput` times real training epochs with :func:`hpcourse.train`, so
what it measures is what training does, and counts the steps each epoch really took.
Timings are of this machine, now: another laptop, a busy CPU or a GPU gives other
numbers, and only large ratios measured side by side mean much.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.validation import check_number


def throughput_table(histories: Iterable[History], n_examples: int) -> pd.DataFrame:
    """Examples per second per batch size, from the fastest epoch of its runs.

    ``n_examples`` is the size of the training set (the examples in one epoch). Several
    runs with the same batch size are pooled. Why the fastest epoch: on a shared machine
    other programs slow some epochs down at random; the fastest epoch is the one they
    disturbed least (the usual way to benchmark). Only training steps are timed (a
    History's epoch time leaves out the evaluation after each epoch).

    Columns: ``batch_size``, ``steps_per_epoch`` (counted from the runs' step records),
    ``sec_per_epoch`` (the fastest epoch), ``sec_per_step``, ``examples_per_sec``,
    ``epochs_timed``.
    """
    check_number("n_examples", n_examples, low=1, integer=True)
    times: dict[int, list[float]] = {}
    steps: dict[int, float] = {}
    for h in histories:
        if h.epochs_run < 1 or h.diverged:
            raise ValueError(
                f"history {h!r} is not allowed: it must have finished at least one epoch "
                "without diverging."
            )
        b = h.config.batch_size
        times.setdefault(b, []).extend(h.epoch_time[1:])
        steps[b] = len(h.step_loss) / h.epochs_run
    if not times:
        raise ValueError("histories=[] is not allowed: give at least one run.")
    rows = []
    for b in sorted(times):
        sec = float(np.min(times[b]))
        rows.append(
            {
                "batch_size": b,
                "steps_per_epoch": steps[b],
                "sec_per_epoch": sec,
                "sec_per_step": sec / steps[b],
                "examples_per_sec": n_examples / sec,
                "epochs_timed": len(times[b]),
            }
        )
    return pd.DataFrame(rows)


def measure_throughput(
    data: Dataset,
    batch_sizes: Sequence[int],
    *,
    repeats: int = 3,
    lr: float = 0.1,
) -> pd.DataFrame:
    """Time one training epoch at each batch size, ``repeats`` times, and report the
    examples per second of the fastest (:func:`throughput_table`).

    The repeats are interleaved (every batch size once, then again, ...) so that a burst
    of other work on the machine slows one epoch of several batch sizes rather than
    every epoch of one. A small, safe ``lr`` keeps every run from diverging (a diverged
    run would stop early and time nothing); the learning rate does not change the cost
    of a step.
    """
    from hpcourse.training import train

    check_number("repeats", repeats, low=1, integer=True)
    check_number("lr", lr, low=0, low_open=True)
    n = len(data.y_train)
    sizes = list(batch_sizes)
    if not sizes:
        raise ValueError("batch_sizes=[] is not allowed: give at least one batch size.")
    for b in sizes:
        check_number("batch_size", b, low=1, high=n, integer=True)
    runs = [
        train({"lr": lr, "batch_size": int(b), "epochs": 1}, data)
        for _ in range(repeats)
        for b in sizes
    ]
    return throughput_table(runs, n)


__all__ = ["measure_throughput", "throughput_table"]
