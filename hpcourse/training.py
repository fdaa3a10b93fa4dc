"""One entry point, :func:`train`: a config and a dataset in, a :class:`History` out.

Built for sweeps of dozens of tiny models on a laptop CPU, where the cost of a run
is mostly per-step overhead, not arithmetic. So the loop:

* slices minibatches out of tensors already in memory (one shuffle-gather per epoch)
  instead of going through a ``DataLoader``, which builds every batch example by
  example in Python;
* uses one CPU thread (threads only pay off for larger matrices);
* computes an MLP's gradients with a hand-written backward pass
  (:mod:`hpcourse.backprop`), skipping autograd's bookkeeping, which costs more than
  the arithmetic at this size; other models go through autograd as usual;
* reads the loss once per step and does nothing else per step that can be skipped.

The set-up (seeds, model, optimizer, lr per step, batches) comes from
:mod:`hpcourse.runs` and the rules (diverged, best epoch, patience) from
:mod:`hpcourse.rules`, shared with every other engine of the course.

A run that blows up (NaN, inf, or a loss far above where it started) is stopped and
returned marked ``diverged=True``; it never raises, so a sweep can include learning
rates that are too large, which is exactly what a sweep is for.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hpcourse import ledger
from hpcourse.backprop import mlp_gradients, mlp_layers
from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.progress import progress as progress_bar
from hpcourse.results import History, results_table
from hpcourse.rules import BestEpoch, step_diverged
from hpcourse.runs import Run, check_dataset, is_scheduled, lr_at, prepare_run

EpochCallback = Callable[[History, torch.optim.Optimizer], Any]
StepCallback = Callable[[History, nn.Module, int], Any]


@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``(x, y)``, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(y), 8192):  # chunks keep memory flat on larger datasets
        logits = model(x[start : start + 8192])
        yb = y[start : start + 8192]
        total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == yb).sum())
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def train(
    config: TrainConfig | dict[str, Any] | None,
    data: Dataset,
    *,
    model: nn.Module | None = None,
    log: Any = None,
    progress: bool = False,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
    fast: bool = True,
) -> History:
    """Train one model and return its :class:`History`.

    Args:
        config: a :class:`TrainConfig`, or a dict of fields to change from the defaults.
        data: a dataset from :func:`hpcourse.data.load_dataset`.
        model: train this model instead of building the MLP the config describes.
        log: an :class:`hpcourse.tracking.ExperimentLog` (or a path to one); the run's
            record is appended as soon as it finishes.
        progress: show a progress bar over epochs.
        on_epoch: called after every epoch with ``(history, optimizer)``; it may change
            ``optimizer.param_groups[i]["lr"]`` (babysitting; with a schedule the
            schedule overrides it at the next step) or return ``"stop"``.
        on_step: called after every optimizer step with ``(history, model, examples)``,
            ``examples`` being the training examples seen so far; it may return ``"stop"``
            (e.g. to measure steps to a target more finely than once per epoch). The
            model is in training mode; a callback that evaluates must put it back.
        fast: use the hand-written MLP backward pass when the model allows it
            (``False`` forces autograd; results agree to rounding error).

    Same config, same seed, same machine: same history, number for number. Training
    draws its random numbers from its own generators, so the global ones are left as
    they were.

    >>> from hpcourse.data import load_dataset
    >>> h = train({"epochs": 2}, load_dataset("digits"))
    >>> h.diverged, h.final_val_acc > 0.8
    (False, True)
    """
    config = as_config(config)
    check_dataset(data, config.batch_size)
    with prepare_run(config, data, model) as run:
        return _train(run, data, log, progress, on_epoch, on_step, fast)


def _train(
    run: Run,
    data: Dataset,
    log: Any,
    progress: bool,
    on_epoch: EpochCallback | None,
    on_step: StepCallback | None,
    fast: bool,
) -> History:
    config, model, optimizer = run.config, run.model, run.optimizer
    group = optimizer.param_groups[0]
    by_hand = mlp_layers(model) if fast else None
    output_scale = float(getattr(model, "output_scale", 1.0))
    params = [p for p in model.parameters() if p.requires_grad]
    scheduled = is_scheduled(config)

    h = History(config=config, steps_per_epoch=run.steps_per_epoch, dataset=data.name)
    h.n_params = sum(p.numel() for p in model.parameters())
    best_state = copy.deepcopy(model.state_dict()) if config.restore_best else None
    record_epoch(h, model, data, 0, 0.0)
    best = BestEpoch(h.val_loss[0], min_delta=config.min_delta, patience=config.patience)
    first_loss: float | None = None
    start = time.perf_counter()

    model.train()
    step = seen = 0
    stop = False
    epochs = range(1, config.epochs + 1)
    for epoch in progress_bar(epochs, desc="epochs", enabled=progress):
        t0 = time.perf_counter()
        for xb, yb in run.batches(data.x_train, data.y_train):
            if scheduled:
                lr = lr_at(config, step, run.steps_per_epoch)
                for g in optimizer.param_groups:  # muP: some groups run at a scaled lr
                    g["lr"] = lr * g.get("lr_scale", 1.0)
            if by_hand is not None:
                value = mlp_gradients(*by_hand, xb, yb, output_scale=output_scale)
            else:
                loss = F.cross_entropy(model(xb), yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                value = loss.item()
            if config.grad_clip is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                h.step_grad_norm.append(float(norm))
            optimizer.step()
            h.step_loss.append(value)
            h.step_lr.append(group["lr"])
            step += 1
            if first_loss is None:
                first_loss = value
            if step_diverged(value, first_loss, config.diverge_factor):
                h.diverged = True
                break
            seen += len(yb)
            if on_step is not None and on_step(h, model, seen) == "stop":
                stop = True
                break
        if h.diverged or stop:
            break
        record_epoch(h, model, data, epoch, time.perf_counter() - t0)
        # the epoch's training loss, measured after its last step, obeys the same rule
        # (e.g. weights that overflowed on the last step)
        if step_diverged(h.train_loss[-1], first_loss or math.inf, config.diverge_factor):
            h.diverged = True
            break
        if best.update(epoch, h.val_loss[-1]) and best_state is not None:
            best_state = copy.deepcopy(model.state_dict())
        h.best_epoch = best.epoch
        if on_epoch is not None and on_epoch(h, optimizer) == "stop":
            break
        if best.should_stop:
            h.stopped_early = True
            break

    h.wall_time = time.perf_counter() - start
    ledger.record(len(h.step_loss), h.steps_per_epoch)
    if best_state is not None and not h.diverged:
        model.load_state_dict(best_state)
    h.model = model
    if log is not None:
        from hpcourse.tracking import as_log

        as_log(log).append(h.to_record())
    return h


def record_epoch(h: History, model: nn.Module, data: Dataset, epoch: int, seconds: float) -> None:
    """Measure loss and accuracy on the training and validation splits; append them to
    ``h`` as epoch ``epoch`` (with the epoch's training ``seconds``)."""
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train)
    val_loss, val_acc = evaluate(model, data.x_val, data.y_val)
    h.epoch.append(epoch)
    h.train_loss.append(train_loss)
    h.train_acc.append(train_acc)
    h.val_loss.append(val_loss)
    h.val_acc.append(val_acc)
    h.epoch_time.append(seconds)


ENGINES = ("auto", "single", "population")


def train_many(
    configs: Iterable[TrainConfig | dict[str, Any]],
    data: Dataset,
    *,
    log: Any = None,
    progress: bool = True,
    desc: str = "runs",
    engine: str = "auto",
) -> list[History]:
    """Train one model per config and return their Histories, in the order given.

    ``engine``: ``"single"`` trains one model after another with :func:`train`;
    ``"population"`` trains configs that share an architecture, a batch size and an
    optimizer family all at once (:mod:`hpcourse.population`), one population per group;
    ``"auto"`` (default) does that for every group of two or more, and trains the rest one
    at a time. Both engines give the same Histories, to float rounding.

    Diverged runs are kept (marked ``diverged``), so a sweep's table shows them. Each
    finished run is appended to ``log`` at once, so a crash loses at most the runs in
    progress.
    """
    from hpcourse.validation import check_choice

    checked = [as_config(c) for c in configs]
    if not checked:
        raise ValueError("configs=[] is not allowed: give at least one config.")
    check_choice("engine", engine, ENGINES)
    if engine == "single":
        bar = progress_bar(checked, desc=desc, enabled=progress)
        return [train(c, data, log=log) for c in bar]

    from hpcourse.population import population_key, train_population

    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, c in enumerate(checked):
        groups.setdefault(population_key(c), []).append(i)
    out: list[History | None] = [None] * len(checked)
    several = len(groups) > 1  # one bar over groups, and one over each population's epochs
    for members in progress_bar(list(groups.values()), desc=desc, enabled=progress and several):
        if engine == "auto" and len(members) == 1:
            out[members[0]] = train(checked[members[0]], data, log=log)
            continue
        group = [checked[i] for i in members]
        trained = train_population(group, data, log=log, progress=progress)
        for i, h in zip(members, trained, strict=True):
            out[i] = h
    return [h for h in out if h is not None]


def train_to_target(
    config: TrainConfig | dict[str, Any], data: Dataset, target_acc: float
) -> History:
    """Train until validation accuracy reaches ``target_acc`` (or ``config.epochs`` run out).

    Used to compare batch sizes by *steps to target* (Shallue et al. 2019) without paying
    for epochs after the target was reached.
    """
    from hpcourse.validation import check_number

    check_number("target_acc", target_acc, low=0, high=1)

    def stop(h: History, _opt: torch.optim.Optimizer) -> str | None:
        return "stop" if h.val_acc[-1] >= target_acc else None

    return train(config, data, on_epoch=stop)


__all__ = [
    "ENGINES",
    "History",
    "evaluate",
    "results_table",
    "train",
    "train_many",
    "train_to_target",
]
