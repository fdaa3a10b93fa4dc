"""The run configuration: every hyperparameter of one training run, in one explicit record.

A :class:`TrainConfig` is fixed before training starts and never changes during it;
that is what makes its fields *hyperparameters*. It converts to and from a plain
dict, so a run can be logged, compared and reproduced from its record alone.

This module imports no PyTorch: a config can be built, checked, logged and searched
over (``hpcourse.search``, Optuna) in a process that never trains anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hpcourse.schedules import SCHEDULES
from hpcourse.seeding import course_seed
from hpcourse.space import Choice, Dimension, Float, Int
from hpcourse.validation import check_bool, check_choice, check_number

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")

#: Activation functions by name (``hpcourse.models`` maps them onto torch modules).
ACTIVATIONS = ("relu", "tanh", "gelu", "sigmoid", "leaky_relu")


def _search(dimension: Dimension) -> dict[str, Dimension]:
    """Field metadata: the range and scale a search over this field uses by default
    (read by :meth:`hpcourse.space.SearchSpace.for_config`)."""
    return {"search": dimension}


def check_model_hyperparameters(hidden: Sequence[int], activation: str, dropout: float) -> None:
    """Validate model hyperparameters with messages that name the field."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ValueError(
            f"hidden={hidden!r} is not allowed: hidden must be a list of layer widths, "
            "e.g. [128] or [256, 128] (use [] for a linear model)."
        )
    for i, width in enumerate(hidden):
        check_number(f"hidden[{i}]", width, low=1, integer=True)
    check_choice("activation", activation, ACTIVATIONS)
    check_number("dropout", dropout, low=0, high=1, high_open=True)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run. Every field is checked on creation.

    Optimizer and training: ``lr``, ``batch_size``, ``epochs``, ``optimizer``
    (``"sgd"``, ``"momentum"`` = SGD with momentum, ``"adam"``, ``"adamw"``),
    ``momentum``, ``nesterov``, ``betas``, ``eps``, ``weight_decay``, ``schedule``
    (``"constant"``, ``"step"``, ``"exponential"``, ``"cosine"``, ``"wsd"``,
    ``"onecycle"``) with ``warmup_epochs``, ``step_epochs``, ``gamma`` and (for
    warmup-stable-decay) ``decay_epochs`` (None = the last fifth of training);
    ``grad_clip`` (``None`` = off) rescales any gradient whose norm exceeds it; early
    stopping with ``patience`` (``None`` = off) and ``min_delta``; ``restore_best`` puts
    back the weights of the epoch with the lowest validation loss.

    Model: ``hidden`` (width of each hidden layer; its length is the depth),
    ``activation``, ``dropout``; ``mup_base_width`` (None = the standard
    parameterization) switches to a simple muP (Yang et al. 2022) for Adam: relative to a
    model of that width, the readout starts at zero and its output is divided by
    ``width / base``, and the hidden-to-hidden layers' learning rate is divided by it too,
    so that (ideally) the best learning rate stays put as the model widens.

    Reproducibility and speed (not hyperparameters of the result): ``seed`` (initial
    weights, shuffle order and dropout masks; by default the course's seed, see
    :mod:`hpcourse.seeding`), ``threads``. ``diverge_factor``: a run counts as diverged
    when a step's loss is not finite or exceeds ``diverge_factor`` times the first
    step's loss.

    >>> TrainConfig(lr=0.05, hidden=[64, 64]).hidden
    (64, 64)
    >>> TrainConfig(lr=-1)
    Traceback (most recent call last):
    ...
    ValueError: lr=-1 is not allowed: lr must be > 0.
    """

    lr: float = field(default=0.1, metadata=_search(Float(1e-5, 1.0, "log")))
    batch_size: int = field(default=32, metadata=_search(Int(8, 512, "log")))
    epochs: int = field(default=20, metadata=_search(Int(1, 100, "log")))
    optimizer: str = field(default="sgd", metadata=_search(Choice(OPTIMIZERS)))
    momentum: float = field(default=0.9, metadata=_search(Float(0.5, 0.999, "one_minus_log")))
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = field(default=1e-8, metadata=_search(Float(1e-10, 1e-4, "log")))
    weight_decay: float = field(default=0.0, metadata=_search(Float(1e-6, 0.1, "log")))
    schedule: str = field(default="constant", metadata=_search(Choice(SCHEDULES)))
    warmup_epochs: int = field(default=0, metadata=_search(Int(0, 5)))
    step_epochs: int = 10
    gamma: float = field(default=0.1, metadata=_search(Float(0.01, 0.5, "log")))
    decay_epochs: int | None = None
    grad_clip: float | None = field(default=None, metadata=_search(Float(0.1, 10.0, "log")))
    patience: int | None = None
    min_delta: float = 0.0
    restore_best: bool = False
    hidden: tuple[int, ...] = (128,)
    activation: str = field(default="relu", metadata=_search(Choice(ACTIVATIONS)))
    dropout: float = field(default=0.0, metadata=_search(Float(0.0, 0.6)))
    mup_base_width: int | None = None
    shuffle: bool = True
    seed: int = field(default_factory=course_seed)
    threads: int = 1
    diverge_factor: float = 100.0
    tags: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Lists are accepted for convenience and stored as tuples so the config stays hashable.
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        if isinstance(self.betas, list):
            object.__setattr__(self, "betas", tuple(self.betas))
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("epochs", self.epochs, low=1, high=100_000, integer=True)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        check_bool("nesterov", self.nesterov)
        if not isinstance(self.betas, tuple) or len(self.betas) != 2:
            raise ValueError(
                f"betas={self.betas!r} is not allowed: betas must be a pair (beta1, beta2)."
            )
        check_number("betas[0]", self.betas[0], low=0, high=1, high_open=True)
        check_number("betas[1]", self.betas[1], low=0, high=1, high_open=True)
        check_number("eps", self.eps, low=0, low_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_number("warmup_epochs", self.warmup_epochs, low=0, high=self.epochs, integer=True)
        check_number("step_epochs", self.step_epochs, low=1, integer=True)
        check_number("gamma", self.gamma, low=0, high=1, low_open=True)
        if self.schedule == "onecycle" and self.warmup_epochs:
            raise ValueError(
                f"warmup_epochs={self.warmup_epochs!r} is not allowed with schedule='onecycle': "
                "warmup_epochs must be 0 there (1cycle has its own warm-up phase)."
            )
        if self.decay_epochs is not None:
            if self.schedule != "wsd":
                raise ValueError(
                    f"decay_epochs={self.decay_epochs!r} is not allowed with schedule="
                    f"{self.schedule!r}: decay_epochs belongs to schedule='wsd'."
                )
            check_number(
                "decay_epochs",
                self.decay_epochs,
                low=1,
                high=max(self.epochs - self.warmup_epochs, 1),
                integer=True,
            )
        if self.grad_clip is not None:
            check_number("grad_clip", self.grad_clip, low=0, low_open=True)
        if self.patience is not None:
            check_number("patience", self.patience, low=1, integer=True)
        check_number("min_delta", self.min_delta, low=0)
        check_bool("restore_best", self.restore_best)
        check_bool("shuffle", self.shuffle)
        check_model_hyperparameters(self.hidden, self.activation, self.dropout)
        if self.mup_base_width is not None:
            check_number("mup_base_width", self.mup_base_width, low=1, integer=True)
            if self.optimizer not in ("adam", "adamw") or not self.hidden:
                raise ValueError(
                    f"mup_base_width={self.mup_base_width!r} is not allowed with optimizer="
                    f"{self.optimizer!r} and hidden={list(self.hidden)}: the muP recipe here is "
                    "for Adam/AdamW and a model with at least one hidden layer."
                )
        check_number("seed", self.seed, low=0, integer=True)
        check_number("threads", self.threads, low=1, integer=True)
        check_number("diverge_factor", self.diverge_factor, low=1, low_open=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build a config from a plain dict; an unknown key is an error, not ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise ValueError(
                    f"config key {key!r} is not a TrainConfig field: allowed keys are "
                    + ", ".join(sorted(known))
                    + "."
                )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["betas"] = list(self.betas)
        return d

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (and checked), e.g. ``cfg.replace(lr=0.01)``."""
        return self.from_dict({**self.to_dict(), **changes})


def as_config(config: TrainConfig | dict[str, Any] | None) -> TrainConfig:
    """Accept a TrainConfig, a dict of overrides, or None (all defaults)."""
    if config is None:
        return TrainConfig()
    if isinstance(config, TrainConfig):
        return config
    if isinstance(config, dict):
        return TrainConfig.from_dict(config)
    raise ValueError(
        f"config={config!r} is not allowed: config must be a TrainConfig, a dict or None."
    )
