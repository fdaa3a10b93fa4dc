"""One run set-up for every engine: seeds, model, optimizer, learning rate and batches.

Every piece of code that trains (``hpcourse.train``, the learning-rate range test, the
DataLoader demo, the noise measurements) enters a run through :func:`prepare_run`, so
there is exactly one place that decides

* **which random numbers a run sees.** A run draws from its own seeded state: the
  initial weights and the dropout masks from PyTorch's generator *inside*
  :func:`run_scope` (which saves the global generator first and puts it back after),
  the shuffle order from a separate ``torch.Generator``. So a run is reproducible from
  its config alone, and training leaves the learner's global random state untouched;
* **how the model and the optimizer are built** from a :class:`TrainConfig`;
* **which learning rate a step uses** (:func:`lr_at`) and **which examples a batch
  holds** (:func:`epoch_batches`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from hpcourse.config import TrainConfig
from hpcourse.data import Dataset
from hpcourse.models import MLP
from hpcourse.schedules import lr_factor
from hpcourse.validation import check_number


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


def _cpu_times() -> tuple[float, float] | None:
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0.0), sum(fields)


def free_cores(sample_seconds: float = 0.1) -> int:
    """How many of this process's CPU cores are idle right now (at least 1).

    Why: a batched population is up to twice as fast on two cores, but if another
    process keeps one of them busy, a second PyTorch thread makes every step wait for it
    and runs many times *slower* (measured here: 30x). So engines that may use several
    threads look first. ``$HPCOURSE_THREADS`` overrides the answer. Reads ``/proc/stat``
    over ``sample_seconds`` (Linux); elsewhere it uses the load average.
    """
    from_env = os.environ.get("HPCOURSE_THREADS", "").strip()
    if from_env:
        if not from_env.isdigit() or int(from_env) < 1:
            raise ValueError(
                f"HPCOURSE_THREADS={from_env!r} is not allowed: HPCOURSE_THREADS must be an "
                "integer >= 1."
            )
        return int(from_env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    first = _cpu_times()
    if first is not None:
        time.sleep(sample_seconds)
        second = _cpu_times()
        assert second is not None
        idle, total = second[0] - first[0], second[1] - first[1]
        busy = (os.cpu_count() or cores) * (1 - idle / total) if total > 0 else 0.0
    else:
        busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else float(cores - 1)
    return max(1, min(cores, int(cores - busy + 0.25)))


@contextmanager
def run_scope(seed: int, threads: int | None = None) -> Iterator[None]:
    """Run the block on PyTorch's generator seeded with ``seed``, then restore the old state.

    Why: code inside draws the same numbers every time (reproducible), and code outside
    never notices that anything was drawn (a run does not shift the learner's own
    ``torch.rand`` calls). ``threads`` also sets the CPU thread count for the block.

    >>> _ = torch.manual_seed(0); first = torch.rand(1)
    >>> _ = torch.manual_seed(0)
    >>> with run_scope(seed=123):
    ...     _ = torch.rand(1000)
    >>> bool(torch.rand(1) == first)  # as if the block had not run
    True
    """
    check_number("seed", seed, low=0, integer=True)
    with torch.random.fork_rng(devices=[]):
        # the CPU generator only: torch.manual_seed would also queue seeds for every
        # accelerator backend, recording a stack trace each time (slow in a loop of runs)
        torch.default_generator.manual_seed(seed)
        if threads is None:
            yield
        else:
            with torch_threads(threads):
                yield


def build_model(config: TrainConfig, data: Dataset) -> nn.Module:
    """The MLP the config describes, sized for the dataset, initialised from ``config.seed``.

    Same config, same initial weights, and the global generator is left as it was. Under
    muP (``config.mup_base_width``) the readout layer starts at zero and its output is
    multiplied by ``base / width``: a wider model's logits then grow no faster in training
    than a narrower one's.
    """
    scale = 1.0 if config.mup_base_width is None else config.mup_base_width / max(config.hidden)
    with run_scope(config.seed):
        model = MLP(
            data.n_features,
            config.hidden,
            data.n_classes,
            config.activation,
            config.dropout,
            output_scale=scale,
        )
    if config.mup_base_width is not None:
        readout = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            readout.weight.zero_()
            readout.bias.zero_()
    return model


def param_groups(config: TrainConfig, model: nn.Module) -> list[dict[str, Any]]:
    """The model's parameters in groups, each with an ``lr_scale`` (its lr = lr x scale).

    One group in the standard parameterization. Under muP the hidden-to-hidden layers get
    their own group with ``lr_scale = base / width`` (Adam's updates have a fixed size per
    weight, so a layer with ``width`` inputs would otherwise change its outputs ``width``
    times as much). The group with scale 1 is always first.
    """
    params = list(model.parameters())
    if config.mup_base_width is None or not isinstance(model, MLP):
        return [{"params": params, "lr_scale": 1.0}]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    inner = [p for layer in linears[1:-1] for p in layer.parameters()]
    outer = [p for p in params if all(p is not q for q in inner)]
    groups = [{"params": outer, "lr_scale": 1.0}]
    if inner:
        groups.append({"params": inner, "lr_scale": config.mup_base_width / max(config.hidden)})
    return groups


def make_optimizer(
    config: TrainConfig, params: Iterable[nn.Parameter] | list[dict[str, Any]]
) -> torch.optim.Optimizer:
    """The torch optimizer named by ``config.optimizer`` with the config's settings.

    ``params`` are parameters, or groups from :func:`param_groups` (each group's lr is
    ``config.lr`` times its ``lr_scale``).

    ``"sgd"`` is plain SGD (no momentum), ``"momentum"`` SGD with ``config.momentum``
    (and ``nesterov``), ``"adam"`` Adam with L2 ``weight_decay`` added to the gradient,
    ``"adamw"`` AdamW with decoupled weight decay. We ask for the fused CPU implementation
    (one kernel updates every tensor), which saves about a tenth of the time per step for
    small models; torch versions without it fall back to the default implementation.
    """
    items: list[Any] = list(params)
    for group in items:
        if isinstance(group, dict):
            group["lr"] = config.lr * group.get("lr_scale", 1.0)
    opt, wd = config.optimizer, config.weight_decay
    if opt in ("sgd", "momentum"):
        cls: Any = torch.optim.SGD  # the classes take different keyword arguments
        kwargs: dict[str, Any] = {"weight_decay": wd}
        if opt == "momentum":
            kwargs.update(momentum=config.momentum, nesterov=config.nesterov)
    else:
        cls = torch.optim.Adam if opt == "adam" else torch.optim.AdamW
        kwargs = {"betas": config.betas, "eps": config.eps, "weight_decay": wd}
    try:
        return cls(items, lr=config.lr, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(items, lr=config.lr, **kwargs)


def is_scheduled(config: TrainConfig) -> bool:
    """True when the learning rate changes during the run (a schedule or a warmup)."""
    return config.schedule != "constant" or config.warmup_epochs > 0


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate of step ``step`` (0-based) of a run with this config.

    >>> cfg = TrainConfig(lr=0.1, epochs=2, schedule="step", step_epochs=1, gamma=0.5)
    >>> [lr_at(cfg, s, steps_per_epoch=2) for s in range(4)]
    [0.1, 0.1, 0.05, 0.05]
    """
    if not is_scheduled(config):
        return config.lr
    return config.lr * lr_factor(
        config.schedule,
        step,
        config.epochs * steps_per_epoch,
        warmup_steps=config.warmup_epochs * steps_per_epoch,
        step_size=config.step_epochs * steps_per_epoch,
        gamma=config.gamma,
        decay_steps=None if config.decay_epochs is None else config.decay_epochs * steps_per_epoch,
    )


def epoch_order(n: int, *, shuffle: bool, generator: torch.Generator) -> torch.Tensor:
    """The order in which one epoch visits the ``n`` training examples.

    A fresh permutation from ``generator`` when ``shuffle``, else ``0, 1, ..., n-1``. Every
    engine draws its epochs here, so a member of a population sees exactly the batches a
    single run with the same seed would.
    """
    if shuffle:
        return torch.randperm(n, generator=generator)
    return torch.arange(n)


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each minibatch of an epoch: ``ceil(n / batch_size)`` of them, the
    last one shorter when ``batch_size`` does not divide ``n``.

    >>> batch_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def epoch_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The minibatches of one epoch, in :func:`epoch_order`, cut at :func:`batch_bounds`.

    One gather per epoch, then every batch is a view: much cheaper than building each batch
    example by example.
    """
    order = epoch_order(len(y), shuffle=shuffle, generator=generator)
    if shuffle:
        x, y = x[order], y[order]
    for start, stop in batch_bounds(len(y), batch_size):
        yield x[start:stop], y[start:stop]


@dataclass
class Run:
    """A run ready to train: its model, optimizer and shuffle generator, and its step counts."""

    config: TrainConfig
    model: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    steps_per_epoch: int

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.config.epochs

    def batches(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of minibatches of ``(x, y)``, in this run's shuffle order."""
        return epoch_batches(
            x, y, self.config.batch_size, shuffle=self.config.shuffle, generator=self.generator
        )


@contextmanager
def prepare_run(
    config: TrainConfig, data: Dataset, model: nn.Module | None = None
) -> Iterator[Run]:
    """Set up a run inside its own random scope: ``with prepare_run(cfg, data) as run: ...``.

    The model is the config's MLP (or ``model``, trained as given), the optimizer the
    config's, and inside the block PyTorch's generator is seeded with ``config.seed``
    (dropout masks) and runs on ``config.threads`` threads. On leaving, the global
    generator and the thread count are restored.
    """
    check_dataset(data, config.batch_size)
    with run_scope(config.seed, config.threads):
        if model is None:
            model = build_model(config, data)
        yield Run(
            config=config,
            model=model,
            optimizer=make_optimizer(config, param_groups(config, model)),
            generator=torch.Generator().manual_seed(config.seed),
            steps_per_epoch=math.ceil(len(data.y_train) / config.batch_size),
        )


__all__ = [
    "Run",
    "batch_bounds",
    "build_model",
    "check_dataset",
    "epoch_batches",
    "epoch_order",
    "free_cores",
    "is_scheduled",
    "lr_at",
    "make_optimizer",
    "param_groups",
    "prepare_run",
    "run_scope",
    "torch_threads",
]
