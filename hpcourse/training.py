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

A run that blows up (NaN, inf, or a loss far above where it started) is stopped and
returned marked ``diverged=True``; it never raises, so a sweep can include learning
rates that are too large, which is exactly what a sweep is for.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from hpcourse.backprop import mlp_gradients, mlp_layers
from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.models import MLP
from hpcourse.schedules import lr_factor
from hpcourse.validation import check_number


@dataclass
class History:
    """Everything a run measured. Entry 0 of the per-epoch lists is *before* training.

    ``step_loss`` holds the training loss of every minibatch step and ``step_lr``
    the learning rate used for it. ``best_epoch`` is the epoch with the lowest
    validation loss. ``model`` is the trained model (not saved in logs).
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
    steps_per_epoch: int = 0
    wall_time: float = 0.0
    best_epoch: int = 0
    diverged: bool = False
    stopped_early: bool = False
    n_params: int = 0
    dataset: str = ""
    model: nn.Module | None = field(default=None, repr=False)

    @property
    def final_val_loss(self) -> float:
        """Validation loss at the end; ``inf`` for a diverged run, so it sorts last."""
        return math.inf if self.diverged else self.val_loss[-1]

    @property
    def final_val_acc(self) -> float:
        return self.val_acc[-1]

    @property
    def best_val_loss(self) -> float:
        return self.val_loss[self.best_epoch]

    @property
    def best_val_acc(self) -> float:
        return max(self.val_acc)

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
            "epochs_run": self.epoch[-1],
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
        s = self.summary()
        state = "DIVERGED" if self.diverged else f"val_acc={s['final_val_acc']:.3f}"
        return (
            f"History(lr={self.config.lr:g}, batch_size={self.config.batch_size}, "
            f"epochs_run={s['epochs_run']}, {state}, wall_time={self.wall_time:.2f}s)"
        )


def build_model(config: TrainConfig, data: Dataset) -> nn.Module:
    """The MLP the config describes, sized for the dataset, initialised from ``config.seed``."""
    torch.manual_seed(config.seed)
    return MLP(data.n_features, config.hidden, data.n_classes, config.activation, config.dropout)


def make_optimizer(config: TrainConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The torch optimizer named by ``config.optimizer`` with the config's settings.

    We ask for the fused CPU implementation (one kernel updates every tensor), which
    saves about a tenth of the time per step for small models; older torch versions
    without it fall back to the default implementation.
    """
    params = list(params)
    opt, wd = config.optimizer, config.weight_decay
    if opt in ("sgd", "momentum"):
        cls = torch.optim.SGD
        kwargs: dict[str, Any] = {"weight_decay": wd}
        if opt == "momentum":
            kwargs.update(momentum=config.momentum, nesterov=config.nesterov)
    else:
        cls = torch.optim.Adam if opt == "adam" else torch.optim.AdamW
        kwargs = {"betas": config.betas, "eps": config.eps, "weight_decay": wd}
    try:
        return cls(params, lr=config.lr, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr=config.lr, **kwargs)


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


EpochCallback = Callable[["History", torch.optim.Optimizer], Any]


def train(
    config: TrainConfig | dict[str, Any] | None,
    data: Dataset,
    *,
    model: nn.Module | None = None,
    log: Any = None,
    progress: bool = False,
    on_epoch: EpochCallback | None = None,
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
            ``optimizer.param_groups[i]["lr"]`` (babysitting) or return ``"stop"``.
        fast: use the hand-written MLP backward pass when the model allows it
            (``False`` forces autograd; results agree to rounding error).

    Same config, same seed, same machine: same history, number for number.

    >>> from hpcourse.data import load_dataset
    >>> h = train({"epochs": 2}, load_dataset("digits"))
    >>> h.diverged, h.final_val_acc > 0.8
    (False, True)
    """
    config = as_config(config)
    check_dataset(data, config.batch_size)
    with torch_threads(config.threads):
        return _train(config, data, model, log, progress, on_epoch, fast)


def check_dataset(data: Any, batch_size: int | None = None) -> None:
    """Raise ``ValueError`` unless ``data`` is a Dataset and ``batch_size`` fits its train split."""
    if not isinstance(data, Dataset):
        raise ValueError(f"data={data!r} is not allowed: data must be a hpcourse Dataset.")
    if batch_size is not None:
        n = len(data.y_train)
        check_number("batch_size", batch_size, low=1, high=n, integer=True)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with PyTorch using ``threads`` CPU threads, then restore the old count."""
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)


def _train(
    config: TrainConfig,
    data: Dataset,
    model: nn.Module | None,
    log: Any,
    progress: bool,
    on_epoch: EpochCallback | None,
    fast: bool,
) -> History:
    if model is None:
        model = build_model(config, data)
    torch.manual_seed(config.seed)  # dropout masks depend on the global generator
    shuffler = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(config, model.parameters())
    group = optimizer.param_groups[0]
    by_hand = mlp_layers(model) if fast else None

    x, y, B = data.x_train, data.y_train, config.batch_size
    n = len(y)
    steps_per_epoch = math.ceil(n / B)
    total_steps = steps_per_epoch * config.epochs
    scheduled = config.schedule != "constant" or config.warmup_epochs > 0
    warmup_steps = config.warmup_epochs * steps_per_epoch
    step_size = config.step_epochs * steps_per_epoch

    h = History(config=config, steps_per_epoch=steps_per_epoch, dataset=data.name)
    h.n_params = sum(p.numel() for p in model.parameters())
    best_state = copy.deepcopy(model.state_dict()) if config.restore_best else None
    _record_epoch(h, model, data, 0, 0.0)
    first_loss: float | None = None
    epochs_without_gain = 0
    start = time.perf_counter()

    model.train()
    step = 0
    bar = tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        if config.shuffle:
            order = torch.randperm(n, generator=shuffler)
            xs, ys = x[order], y[order]  # one gather per epoch; batches below are views
        else:
            xs, ys = x, y
        for i in range(0, n, B):
            if scheduled:
                group["lr"] = config.lr * lr_factor(
                    config.schedule,
                    step,
                    total_steps,
                    warmup_steps=warmup_steps,
                    step_size=step_size,
                    gamma=config.gamma,
                )
            if by_hand is not None:
                value = mlp_gradients(*by_hand, xs[i : i + B], ys[i : i + B])
            else:
                loss = F.cross_entropy(model(xs[i : i + B]), ys[i : i + B])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                value = loss.item()
            optimizer.step()
            h.step_loss.append(value)
            h.step_lr.append(group["lr"])
            step += 1
            if first_loss is None:
                first_loss = value
            if not math.isfinite(value) or value > config.diverge_factor * first_loss:
                h.diverged = True
                break
        if h.diverged:
            break
        _record_epoch(h, model, data, epoch, time.perf_counter() - t0)
        if not math.isfinite(h.train_loss[-1]):  # e.g. weights overflowed on the last step
            h.diverged = True
            break
        if h.val_loss[-1] < h.val_loss[h.best_epoch] - config.min_delta:
            h.best_epoch = epoch
            epochs_without_gain = 0
            if best_state is not None:
                best_state = copy.deepcopy(model.state_dict())
        else:
            epochs_without_gain += 1
        bar.set_postfix(val_acc=f"{h.val_acc[-1]:.3f}")
        if on_epoch is not None and on_epoch(h, optimizer) == "stop":
            break
        if config.patience is not None and epochs_without_gain >= config.patience:
            h.stopped_early = True
            break

    h.wall_time = time.perf_counter() - start
    if best_state is not None and not h.diverged:
        model.load_state_dict(best_state)
    h.model = model
    if log is not None:
        from hpcourse.tracking import as_log

        as_log(log).append(h.to_record())
    return h


def _record_epoch(h: History, model: nn.Module, data: Dataset, epoch: int, seconds: float) -> None:
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train)
    val_loss, val_acc = evaluate(model, data.x_val, data.y_val)
    h.epoch.append(epoch)
    h.train_loss.append(train_loss)
    h.train_acc.append(train_acc)
    h.val_loss.append(val_loss)
    h.val_acc.append(val_acc)
    h.epoch_time.append(seconds)


def train_many(
    configs: Iterable[TrainConfig | dict[str, Any]],
    data: Dataset,
    *,
    log: Any = None,
    progress: bool = True,
    desc: str = "runs",
) -> list[History]:
    """Train one model per config, in order, with a progress bar over runs.

    Diverged runs are kept (marked ``diverged``), so a sweep's table shows them.
    Each finished run is appended to ``log`` at once, so a crash loses at most the
    run in progress.
    """
    configs = [as_config(c) for c in configs]
    if not configs:
        raise ValueError("configs=[] is not allowed: give at least one config.")
    return [
        train(c, data, log=log) for c in tqdm(configs, desc=desc, disable=not progress, leave=False)
    ]


def results_table(histories: Iterable[History], columns: Iterable[str] = ()) -> pd.DataFrame:
    """One row per run: the chosen config fields followed by the run's summary."""
    rows = []
    for h in histories:
        cfg = h.config.to_dict()
        rows.append({**{c: cfg[c] for c in columns}, **h.summary()})
    return pd.DataFrame(rows)
