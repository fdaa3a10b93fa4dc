"""What an optimizer's own hyperparameters do to the step: momentum, Adam's betas and epsilon,
and the two kinds of weight decay.

The clearest way to see what a setting does is to hand the optimizer the simplest possible
problem: a gradient that never changes. Then

* plain SGD steps ``lr * g`` every time;
* SGD with momentum ``beta`` builds up a velocity ``v <- beta v + g`` and steps ``lr * v``,
  which grows towards ``lr * g / (1 - beta)``: momentum 0.9 is a tenfold larger *effective*
  learning rate once it has had ~1 / (1 - beta) steps to build up (:func:`effective_lr`);
* Adam divides its running mean of the gradient by the root of its running mean of the
  squared gradient, so on a steady gradient it steps ``lr`` per weight *whatever the size
  of g*, until ``g`` falls to the order of ``eps``, below which it steps about
  ``lr * g / eps``. That is why epsilon hardly matters while it is far below the gradients'
  size, and why beta1 does not multiply Adam's step the way momentum multiplies SGD's.

:func:`constant_gradient_steps` runs the course's real optimizer (the one
:func:`hpcourse.runs.make_optimizer` builds for a config) on that problem and measures each
step, so a wrong momentum or a wrong learning rate inside the optimizer shows up in the
numbers. :func:`adam_gradient_scale` reads the size Adam's denominator really has in a
training run, the yardstick against which an epsilon is small or large.

Weight decay, two ways (Loshchilov & Hutter 2019). *L2 in the loss* (``optimizer="adam"``
with ``weight_decay``, and SGD's ``weight_decay``) adds ``wd * w`` to the gradient; Adam then
divides it by its denominator like any gradient, so weights with small gradients are pulled
to zero hard. *Decoupled* decay (``"adamw"``) shrinks every weight by ``lr * wd`` per step,
outside Adam's scaling: over ``T`` steps a weight keeps ``(1 - lr * wd) ** T`` of itself
(:func:`decoupled_shrink`). The same number ``wd`` therefore means very different strengths
in the two, which is why their usual ranges differ by two decades (:data:`DECAY_RANGES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.validation import check_number

#: Usual starting ranges of weight decay (course spec, notebook 08): as an L2 penalty with SGD
#: or Adam, and as AdamW's decoupled decay for runs of tens of thousands of steps.
DECAY_RANGES: dict[str, tuple[float, float]] = {
    "L2 (SGD, Adam)": (1e-5, 5e-4),
    "decoupled (AdamW)": (0.01, 0.1),
}


def effective_lr(lr: float, momentum: float) -> float:
    """The step a steady gradient gets from SGD with momentum, per unit of gradient.

    >>> effective_lr(0.01, 0.9)
    0.1
    >>> effective_lr(0.1, 0.0)
    0.1
    """
    check_number("lr", lr, low=0, low_open=True)
    check_number("momentum", momentum, low=0, high=1, high_open=True)
    return round(lr / (1.0 - momentum), 15)


def momentum_step_lengths(
    momentum: float, steps: int, lr: float = 1.0, gradient: float = 1.0
) -> np.ndarray:
    """The formula for heavy-ball steps on a constant gradient: step ``t`` (0-based) is
    ``lr * g * (1 - beta ** (t + 1)) / (1 - beta)``; it reaches 63% of the limit after about
    ``1 / (1 - beta)`` steps.

    >>> momentum_step_lengths(0.5, 3).tolist()
    [1.0, 1.5, 1.75]
    """
    check_number("momentum", momentum, low=0, high=1, high_open=True)
    check_number("steps", steps, low=1, integer=True)
    check_number("lr", lr, low=0, low_open=True)
    t = np.arange(steps)
    return lr * abs(gradient) * (1.0 - momentum ** (t + 1)) / (1.0 - momentum)


def constant_gradient_steps(
    config: TrainConfig | dict[str, Any], steps: int = 100, gradient: float = 1.0
) -> np.ndarray:
    """Measured length of each step the config's optimizer takes on a gradient that never
    changes (the linear loss ``g * w`` of a single weight starting at 0).

    The optimizer is the course's own (:func:`hpcourse.runs.make_optimizer`), at the config's
    base learning rate (schedules do not apply here). Why measure rather than use the
    formula: the measurement is what an optimizer really does, so it catches a momentum or
    a learning rate that the code silently drops or changes.

    >>> steps = constant_gradient_steps({"optimizer": "momentum", "lr": 0.1}, steps=60)
    >>> round(float(steps[-1]), 3)  # lr / (1 - 0.9)
    0.998
    """
    check_number("steps", steps, low=1, high=100_000, integer=True)
    check_number("gradient", gradient, low=0, low_open=True)
    return gradient_sequence_steps(config, [gradient] * steps)


def gradient_sequence_steps(
    config: TrainConfig | dict[str, Any], gradients: Sequence[float]
) -> np.ndarray:
    """Measured length of each step the config's optimizer takes when one weight's gradient
    at step ``t`` is ``gradients[t]``.

    Why: a gradient that suddenly grows shows what Adam's two memories do. The average
    gradient (``beta1``) catches up within about ``1 / (1 - beta1)`` steps, the average
    squared gradient (``beta2``) within about ``1 / (1 - beta2)``; while the second lags, the
    step overshoots ``lr``. A shorter ``beta2`` memory (0.95 rather than 0.999) limits that
    overshoot, which is why large models use it.

    >>> steps = gradient_sequence_steps({"optimizer": "adam", "lr": 0.01}, [1.0] * 3 + [10.0])
    >>> [round(float(x), 4) for x in steps / 0.01][:3]
    [1.0, 1.0, 1.0]
    """
    import torch

    from hpcourse.runs import make_optimizer, run_scope

    config = as_config(config)
    if len(gradients) == 0 or len(gradients) > 100_000:
        raise ValueError(
            f"gradients of length {len(gradients)} is not allowed: give 1 to 100,000 values."
        )
    lengths = np.empty(len(gradients))
    with run_scope(config.seed, config.threads):
        weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        optimizer = make_optimizer(config, [weight])
        for t, g in enumerate(gradients):
            before = float(weight.detach())
            weight.grad = torch.full_like(weight, float(g))
            optimizer.step()
            lengths[t] = abs(float(weight.detach()) - before)
    return lengths


def decoupled_shrink(lr: float, weight_decay: float, steps: int) -> float:
    """The fraction of a weight that ``steps`` steps of decoupled decay leave, with no
    gradient: ``(1 - lr * weight_decay) ** steps``.

    Why it matters: AdamW's ``weight_decay`` acts through the product ``lr * wd * steps``.
    A wd of 0.1 that shrinks the weights substantially over 100,000 steps at lr 1e-3 does
    almost nothing in a 250-step run.

    >>> round(decoupled_shrink(1e-3, 0.1, 250), 4)
    0.9753
    >>> round(decoupled_shrink(1e-3, 0.1, 100_000), 6)
    4.5e-05
    """
    check_number("lr", lr, low=0, low_open=True)
    check_number("weight_decay", weight_decay, low=0)
    check_number("steps", steps, low=0, integer=True)
    if lr * weight_decay >= 1:
        raise ValueError(
            f"lr * weight_decay={lr * weight_decay!r} is not allowed: it must be < 1, or one "
            "step would flip or zero every weight."
        )
    return (1.0 - lr * weight_decay) ** steps


def adam_gradient_scale(optimizer: Any) -> float:
    """The median over all weights of Adam's bias-corrected ``sqrt(v)``: the typical size of
    the gradient that Adam divides by, and the yardstick for epsilon (``eps`` matters once it
    is no longer small next to this). Read it from an ``on_epoch`` callback of
    :func:`hpcourse.train`; NaN for an optimizer without Adam's state.
    """
    beta2 = optimizer.param_groups[0].get("betas", (0.0, math.nan))[1]
    values = []
    for state in optimizer.state.values():
        if "exp_avg_sq" not in state:
            continue
        step = float(state["step"])
        corrected = state["exp_avg_sq"] / (1.0 - beta2**step)
        values.append(corrected.sqrt().flatten())
    if not values:
        return math.nan
    import torch

    return float(torch.cat(values).median())


def measure_gradient_scale(
    config: TrainConfig | dict[str, Any], data: Any
) -> tuple[Any, list[float]]:
    """Train ``config`` (an Adam config) and read :func:`adam_gradient_scale` after every
    epoch. Returns the History and the list of scales."""
    from hpcourse.training import train

    config = as_config(config)
    if config.optimizer not in ("adam", "adamw"):
        raise ValueError(
            f"optimizer={config.optimizer!r} is not allowed: the gradient scale is read from "
            "Adam's state, so the optimizer must be 'adam' or 'adamw'."
        )
    scales: list[float] = []

    def read(_history: Any, optimizer: Any) -> None:
        scales.append(adam_gradient_scale(optimizer))

    return train(config, data, on_epoch=read), scales


def final_losses(
    histories: Sequence[Any], key: str, metric: str = "train_loss"
) -> dict[Any, float]:
    """``{config value of key: final metric}`` for a sweep over one config field; a diverged
    run maps to ``inf``."""
    out: dict[Any, float] = {}
    for h in histories:
        value = getattr(h.config, key)
        out[value] = math.inf if h.diverged else float(getattr(h, metric)[-1])
    return out


def weight_norm(model: Any) -> float:
    """The L2 norm of all weight matrices of a model (biases left out): the quantity weight
    decay pulls down."""
    import torch

    with torch.no_grad():
        total = sum(
            float((p.detach() ** 2).sum()) for n, p in model.named_parameters() if "weight" in n
        )
    return math.sqrt(total)


def momentum_table(histories: Sequence[Any]) -> pd.DataFrame:
    """One row per run of a momentum comparison: optimizer, momentum (0 for plain SGD),
    lr, the effective lr ``lr / (1 - momentum)`` and the final training and validation loss
    (``inf`` when the run diverged)."""
    rows = []
    for h in histories:
        c = h.config
        beta = c.momentum if c.optimizer == "momentum" else 0.0
        rows.append(
            {
                "optimizer": c.optimizer,
                "momentum": beta,
                "lr": c.lr,
                "effective_lr": effective_lr(c.lr, beta),
                "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
                "final_val_loss": h.final_val_loss,
            }
        )
    return pd.DataFrame(rows)


def adam_step_table(
    lr: float, gradients: Sequence[float], epsilons: Sequence[float]
) -> pd.DataFrame:
    """Adam's measured step on a steady gradient, for every (gradient, eps) pair, as a
    multiple of ``lr``: 1 while eps is far below the gradient, about ``g / eps`` once it is
    far above. The last of 20 steps is reported (bias correction makes them all equal)."""
    rows = []
    for g in gradients:
        for eps in epsilons:
            steps = constant_gradient_steps(
                {"optimizer": "adam", "lr": lr, "eps": eps}, steps=20, gradient=g
            )
            rows.append({"gradient": g, "eps": eps, "step / lr": float(steps[-1] / lr)})
    return pd.DataFrame(rows)


def eps_table(histories: Sequence[Any], gradient_scale: float) -> pd.DataFrame:
    """One row per run of an epsilon sweep: eps, eps relative to Adam's measured gradient
    scale, final training loss and its change from the smallest eps of the sweep."""
    rows = [
        {
            "eps": h.config.eps,
            "eps / gradient scale": h.config.eps / gradient_scale,
            "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
        }
        for h in histories
    ]
    table = pd.DataFrame(rows).sort_values("eps").reset_index(drop=True)
    table["change"] = table["final_train_loss"] - table["final_train_loss"].iloc[0]
    return table


def decay_table(histories: Sequence[Any]) -> pd.DataFrame:
    """One row per run of a weight-decay sweep: the kind of decay (``L2`` for Adam or SGD,
    ``decoupled`` for AdamW), ``weight_decay``, the final norm of the weights, ``kept``: that
    norm as a share of the same optimizer's run without decay (which the sweep must
    contain), and the final training and validation loss."""
    rows = []
    for h in histories:
        c = h.config
        rows.append(
            {
                "decay": "decoupled" if c.optimizer == "adamw" else "L2",
                "optimizer": c.optimizer,
                "weight_decay": c.weight_decay,
                "weight_norm": weight_norm(h.model),
                "final_train_loss": math.inf if h.diverged else h.train_loss[-1],
                "final_val_loss": h.final_val_loss,
            }
        )
    table = pd.DataFrame(rows)
    plain = table[table["weight_decay"] == 0].set_index("optimizer")["weight_norm"]
    missing = set(table["optimizer"]) - set(plain.index)
    if missing:
        raise ValueError(
            f"histories is not allowed without a weight_decay=0 run of {sorted(missing)}: "
            "'kept' compares each run with it."
        )
    table["kept"] = table["weight_norm"] / table["optimizer"].map(plain)
    return table


def adam_trial(trial: Mapping[str, Any]) -> dict[str, Any]:
    """A ``translate`` for :class:`hpcourse.search.TrainObjective`: a search's ``beta1`` and
    ``beta2`` (two numbers, each sampled on its own scale) become the config's ``betas``
    pair, and ``width`` becomes one hidden layer.

    >>> adam_trial({"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "width": 64})
    {'lr': 0.01, 'betas': (0.9, 0.99), 'hidden': (64,)}
    """
    config = dict(trial)
    if "beta1" in config or "beta2" in config:
        config["betas"] = (float(config.pop("beta1", 0.9)), float(config.pop("beta2", 0.999)))
    if "width" in config:
        config["hidden"] = (int(config.pop("width")),)
    return config


#: The rule of thumb's tier for the names this lesson's sweep uses (1 = matters most):
#: Adam's two betas share the tier the rule gives "betas".
RULE_TIERS: dict[str, int] = {"beta1": 4, "beta2": 4}


__all__ = [
    "DECAY_RANGES",
    "RULE_TIERS",
    "adam_step_table",
    "adam_trial",
    "decay_table",
    "eps_table",
    "gradient_sequence_steps",
    "momentum_table",
    "weight_norm",
    "adam_gradient_scale",
    "constant_gradient_steps",
    "decoupled_shrink",
    "effective_lr",
    "final_losses",
    "measure_gradient_scale",
    "momentum_step_lengths",
]
