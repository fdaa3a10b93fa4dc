"""The learning-rate range test (Smith 2017): one short run that sweeps lr over many decades.

Instead of training one model per learning rate, train *one* model for a few hundred
steps while the learning rate grows by the same factor every step, from far too small to
far too large, and record the loss at every step. The curve tells the story of a sweep in
the time of one short run:

* at tiny learning rates the loss stays flat (training crawls);
* then it starts to fall, faster and faster;
* then it bottoms out and blows up: the learning rate has crossed the stability limit.

We stop as soon as the smoothed loss exceeds ``stop_factor`` times the best seen so far
(the run is diverging and the rest would be noise), put the model's initial weights back
(the test must not leave a half-trained, possibly exploded model behind), and suggest a
learning rate.

Which rule suggests the lr, and why. Two rules are common:

* ``"min/10"`` (our default): a tenth of the learning rate at which the smoothed loss was
  lowest. At the minimum the learning rate is already close to the edge of stability
  (the loss stops falling because steps start to overshoot), and the learning rate keeps
  growing during the test, so the model saw it only briefly. Backing off by one decade
  gives a safety margin that a whole training run needs. It is also stable: the position
  of a minimum barely moves when the noise changes.
* ``"steepest"``: the learning rate at which the smoothed loss falls fastest per decade,
  looked for *before* the minimum (at the minimum itself the slope is zero, not steep).
  Sensible, but it is the derivative of a noisy curve; we compute it (``steepest_lr``)
  so you can compare.
* ``"valley"`` (the default of the fastai library's finder): find the longest stretch
  of the curve along which the loss keeps reaching new lows, and take the lr halfway
  along it. It uses the whole descent, not one point of it, so one noisy batch moves
  it little.

All three are heuristics, read off a curve measured in a few hundred steps with weights
that change under it, and each moves from one seed to the next (:func:`rules_over_seeds`
measures by how much). Treat the suggestion as the centre of a small search, not as the
answer.

Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.runs import prepare_run
from hpcourse.schedules import exponential_lrs
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_choice, check_number

RULES = ("min/10", "steepest", "valley")

LossFn = Callable[[nn.Module, int], torch.Tensor]


@dataclass
class RangeTestResult:
    """What a range test measured.

    ``lrs[k]`` is the learning rate of step ``k``; ``losses[k]`` the smoothed training
    loss after it (an exponential moving average with bias correction, as in Adam) and
    ``raw_losses[k]`` the raw minibatch loss. ``stopped_at`` is the learning rate at which
    the test stopped because the loss blew up, or ``None`` if it reached ``lr_max``
    without blowing up (then the suggestion is less trustworthy: widen the range).
    ``suggestion`` follows ``rule``; ``min_lr``, ``steepest_lr`` and ``valley_lr`` are the
    rules' ingredients, kept so they can be compared and plotted.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    stopped_at: float | None
    rule: str
    min_lr: float
    steepest_lr: float
    valley_lr: float

    def __repr__(self) -> str:
        stop = "never stopped" if self.stopped_at is None else f"stopped_at={self.stopped_at:.3g}"
        return (
            f"RangeTestResult(steps={len(self.lrs)}, {stop}, min_lr={self.min_lr:.3g}, "
            f"steepest_lr={self.steepest_lr:.3g}, valley_lr={self.valley_lr:.3g}, "
            f"suggestion={self.suggestion:.3g} "
            f"[{self.rule}])"
        )


def suggest_lr(lrs: np.ndarray, losses: np.ndarray, rule: str = "min/10") -> float:
    """Read a learning rate off a range-test curve (see the module docstring for the rules).

    >>> lrs = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    >>> losses = np.array([2.3, 2.2, 1.5, 1.2, 3.0])
    >>> suggest_lr(lrs, losses, "min/10"), suggest_lr(lrs, losses, "steepest")
    (0.01, 0.01)
    """
    check_choice("rule", rule, RULES)
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if lrs.shape != losses.shape or lrs.ndim != 1 or len(lrs) < 3:
        raise ValueError(
            f"lrs and losses (lengths {lrs.size} and {losses.size}) are not allowed: "
            "they must be 1-D, of equal length, with at least 3 points."
        )
    best = _argmin(losses)
    if rule == "min/10":
        return float(lrs[best] / 10)
    if rule == "valley":
        start, end = _longest_descent(losses[: best + 1])
        return float(lrs[(start + end) // 2])
    # Slope per decade, between the first tenth of the points (where the moving average
    # is still settling and one noisy batch can look like a steep fall) and the minimum.
    # The minimum itself is not a candidate: its one-sided slope (from the point before)
    # is always negative, which would make the loss minimum look "steep".
    lo = min(len(lrs) // 10, max(best - 2, 0))
    if best - lo < 2:
        return float(lrs[max(best - 1, 0)])
    slopes = np.gradient(losses[lo : best + 1], np.log10(lrs[lo : best + 1]))[:-1]
    return float(lrs[lo + int(np.argmin(slopes))])


def _longest_descent(losses: np.ndarray) -> tuple[int, int]:
    """Start and end index of the longest run of points that each set a new low, allowing
    points in between that do not (the longest decreasing subsequence). O(n^2), n <= a few
    hundred points."""
    n = len(losses)
    length = np.ones(n, dtype=int)  # length of the longest decreasing chain ending at i
    first = np.arange(n)  # where that chain starts
    for i in range(1, n):
        for j in range(i):
            if losses[j] > losses[i] and length[j] + 1 > length[i]:
                length[i], first[i] = length[j] + 1, first[j]
    end = int(np.argmax(length))
    return int(first[end]), end


def _argmin(losses: np.ndarray) -> int:
    return int(np.argmin(np.where(np.isfinite(losses), losses, np.inf)))


def range_test(
    model: nn.Module,
    loss_fn: LossFn,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
    rule: str = "min/10",
) -> RangeTestResult:
    """Run a learning-rate range test on any model and loss.

    Args:
        model: the model to probe. Its weights are restored when the test ends, so
            the same model can be trained afterwards from its initial state.
        loss_fn: ``loss_fn(model, step)`` returns the loss of one step as a tensor
            (for a dataset: the loss of the step's minibatch).
        optimizer: an optimizer over ``model``'s parameters; its learning rate is
            overwritten every step. Default: plain SGD. Its state (e.g. momentum
            buffers) is left as the test made it; build a fresh one for training.
        lr_min, lr_max: the range, swept geometrically (equal steps per decade).
        steps: number of steps from ``lr_min`` to ``lr_max``.
        smoothing: the moving-average factor beta of the recorded loss, in [0, 1)
            (0 = raw loss). 0.9 averages over about 10 steps: enough to tame minibatch
            noise, short enough not to lag the curve by more than a few steps.
        stop_factor: stop when the smoothed loss exceeds this multiple of the best.
        rule: how to suggest a learning rate: ``"min/10"``, ``"steepest"`` or ``"valley"``.

    Example, a 1-D bowl ``f(w) = 5 w**2`` (curvature 10, stability limit 2/10 = 0.2):

    >>> w = nn.Parameter(torch.ones(1))
    >>> model = nn.Module(); model.w = w
    >>> res = range_test(model, lambda m, s: 5 * (m.w**2).sum(), lr_min=1e-3, lr_max=10,
    ...                  steps=100, smoothing=0)
    >>> 0.2 <= res.stopped_at <= 0.4, model.w.item()  # weights restored afterwards
    (True, 1.0)
    """
    check_number("lr_min", lr_min, low=0, low_open=True)
    check_number("lr_max", lr_max, low=lr_min, low_open=True)
    check_number("steps", steps, low=3, high=100_000, integer=True)
    check_number("smoothing", smoothing, low=0, high=1, high_open=True)
    check_number("stop_factor", stop_factor, low=1, low_open=True)
    check_choice("rule", rule, RULES)
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr_min)

    initial = copy.deepcopy(model.state_dict())
    was_training = model.training
    model.train()
    schedule = exponential_lrs(lr_min, lr_max, steps)
    lrs: list[float] = []
    raw: list[float] = []
    smoothed: list[float] = []
    avg, best = 0.0, math.inf
    stopped_at: float | None = None
    try:
        for step, lr in enumerate(schedule):
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            loss = loss_fn(model, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            lrs.append(float(lr))
            raw.append(value)
            if not math.isfinite(value):
                smoothed.append(math.inf)
                stopped_at = float(lr)
                break
            avg = smoothing * avg + (1 - smoothing) * value
            current = avg / (1 - smoothing ** (step + 1))  # bias correction: no slow start at 0
            smoothed.append(current)
            best = min(best, current)
            if current > stop_factor * best:
                stopped_at = float(lr)
                break
    finally:
        model.load_state_dict(initial)
        model.train(was_training)

    lrs_arr, losses_arr = np.asarray(lrs), np.asarray(smoothed)
    if len(lrs_arr) < 3:
        raise ValueError(
            f"the range test stopped after {len(lrs_arr)} steps at lr={lrs_arr[-1]:.3g}: "
            f"lr_min={lr_min!r} is already too large. Try a smaller lr_min."
        )
    return RangeTestResult(
        lrs=lrs_arr,
        losses=losses_arr,
        raw_losses=np.asarray(raw),
        suggestion=suggest_lr(lrs_arr, losses_arr, rule),
        stopped_at=stopped_at,
        rule=rule,
        min_lr=float(lrs_arr[_argmin(losses_arr)]),
        steepest_lr=suggest_lr(lrs_arr, losses_arr, "steepest"),
        valley_lr=suggest_lr(lrs_arr, losses_arr, "valley"),
    )


def lr_range_test(
    data: Dataset,
    config: TrainConfig | dict[str, Any] | None = None,
    *,
    model: nn.Module | None = None,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    steps: int = 200,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
    rule: str = "min/10",
) -> RangeTestResult:
    """A range test on a dataset, with the model and optimizer a :class:`TrainConfig` describes.

    The model is the one :func:`hpcourse.train` would build for ``config`` (same seed, so
    the same initial weights) and the optimizer is the config's (``config.lr`` itself is
    ignored: the test sets the learning rate), set up by the same
    :func:`hpcourse.runs.prepare_run` as a training run. Minibatches of
    ``config.batch_size`` come in the run's shuffled order. After the test, train with
    ``config.replace(lr=result.suggestion)``.

    >>> from hpcourse.data import load_dataset
    >>> res = lr_range_test(load_dataset("digits"), {"optimizer": "momentum"}, steps=60)
    >>> 1e-4 < res.suggestion < 1
    True
    """
    config = as_config(config).replace(lr=lr_min)
    B = config.batch_size

    with prepare_run(config, data, model) as run:
        full_batches: list[tuple[torch.Tensor, torch.Tensor]] = []

        def loss_fn(m: nn.Module, step: int) -> torch.Tensor:
            if not full_batches:  # a new epoch, in the run's own shuffle order
                # full batches only: a short last batch would add a noisy blip
                full_batches.extend(b for b in run.batches(data.x_train, data.y_train))
                if len(full_batches[-1][1]) < B:
                    full_batches.pop()
                full_batches.reverse()
            xb, yb = full_batches.pop()
            return F.cross_entropy(m(xb), yb)

        return range_test(
            run.model,
            loss_fn,
            optimizer=run.optimizer,
            lr_min=lr_min,
            lr_max=lr_max,
            steps=steps,
            smoothing=smoothing,
            stop_factor=stop_factor,
            rule=rule,
        )


def rules_over_seeds(
    data: Dataset,
    config: TrainConfig | dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Run the range test once per seed and table what each rule suggests.

    Why: one range test is one noisy curve. Repeating it with other seeds (other initial
    weights and batch order) shows how far each rule's answer moves by chance alone, which
    is the precision any of them can claim. ``seeds`` defaults to the course's seed and the
    next two; ``kwargs`` go to :func:`lr_range_test`. Columns: ``seed``, ``min_lr``,
    ``min/10``, ``steepest``, ``valley``, ``stopped_at``.
    """
    config = as_config(config)
    if seeds is None:
        first = resolve_seed(None)
        seeds = [first, first + 1, first + 2]
    seeds = [resolve_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds=[] is not allowed: give at least one seed.")
    rows = []
    for seed in seeds:
        res = lr_range_test(data, config.replace(seed=seed), **kwargs)
        rows.append(
            {
                "seed": seed,
                "min_lr": res.min_lr,
                "min/10": res.min_lr / 10,
                "steepest": res.steepest_lr,
                "valley": res.valley_lr,
                "stopped_at": res.stopped_at,
            }
        )
    return pd.DataFrame(rows)
