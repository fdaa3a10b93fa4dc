"""Sharpness: the largest eigenvalue of a loss's Hessian, the real network's ``L_max``.

Near a point ``w``, any smooth loss looks like a quadratic bowl whose curvatures are the
eigenvalues of the Hessian ``H`` (the matrix of second derivatives) at ``w``. Plain
gradient descent on that bowl is stable only for ``lr < 2 / lambda_max``, where
``lambda_max``, the largest eigenvalue, is called the *sharpness*. So measuring it turns the
bowl's formula into a prediction about a real network: which learning rate makes plain
gradient descent blow up.

The Hessian of even a small network is too large to build (ten thousand parameters give
a hundred million entries), but its product with a vector costs about two gradients
(Pearlmutter 1994): differentiate ``g(w) . v`` once more, where ``g`` is the gradient.
*Power iteration* needs nothing else: multiply a random vector by ``H`` again and again,
normalising each time, and it turns towards the eigenvector whose eigenvalue is largest in
magnitude; the Rayleigh quotient ``v . H v`` then reads off that eigenvalue.

A Hessian can have negative eigenvalues (directions curving down). If the largest in
magnitude is negative, :func:`top_eigenvalue` shifts the spectrum by it and iterates again,
so it always returns the largest *algebraic* eigenvalue, the one that limits the step.

>>> import torch
>>> H = torch.diag(torch.tensor([3.0, -5.0, 1.0], dtype=torch.float64))
>>> round(top_eigenvalue(lambda v: H @ v, 3, seed=0).value, 4)
3.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from hpcourse.results import History
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number

MatVec = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Eigen:
    """The result of power iteration: ``value`` (the eigenvalue), ``vector`` (unit norm),
    ``iterations`` used, and ``estimates``, the eigenvalue estimate after each iteration
    (to see that it settled)."""

    value: float
    vector: torch.Tensor = field(repr=False)
    iterations: int
    estimates: list[float] = field(default_factory=list, repr=False)


def power_iteration(
    matvec: MatVec,
    dim: int,
    *,
    iters: int = 200,
    tol: float = 1e-3,
    seed: int | None = None,
    shift: float = 0.0,
) -> Eigen:
    """The eigenvalue of largest magnitude of the symmetric operator ``v -> matvec(v) - shift v``.

    ``matvec`` receives float64 vectors (power iteration needs the precision) and may
    compute in its own dtype, as :func:`hessian_matvec` does.

    Stops once the residual ``|A v - value v|`` is below ``tol * |value|`` (then an
    eigenvalue lies within that distance of ``value``, and the value itself is usually far
    closer), or after ``iters`` products. The start vector is drawn from its own generator
    (``seed``; default the course's seed), so the global random state is left alone.
    The returned ``value`` includes the shift back: it is an eigenvalue of ``matvec``.
    """
    check_number("dim", dim, low=1, integer=True)
    check_number("iters", iters, low=1, high=100_000, integer=True)
    check_number("tol", tol, low=0, low_open=True)
    check_number("shift", shift)
    generator = torch.Generator().manual_seed(resolve_seed(seed))
    v = torch.randn(dim, generator=generator, dtype=torch.float64)
    v = v / v.norm()
    estimates: list[float] = []
    for _ in range(iters):
        av = matvec(v).to(torch.float64) - shift * v
        estimate = float(v @ av)  # Rayleigh quotient of the unit vector v
        estimates.append(estimate)
        residual = float((av - estimate * v).norm())
        norm = av.norm()
        if residual <= tol * abs(estimate) or norm == 0:  # converged, or v is in the null space
            break
        v = av / norm
    return Eigen(estimates[-1] + shift, v, len(estimates), [e + shift for e in estimates])


def top_eigenvalue(
    matvec: MatVec, dim: int, *, iters: int = 200, tol: float = 1e-3, seed: int | None = None
) -> Eigen:
    """The largest (most positive) eigenvalue of a symmetric operator, by power iteration.

    Power iteration finds the eigenvalue of largest *magnitude*. When that one is
    negative, iterating on ``matvec - value * I`` (whose spectrum is then >= 0) finds the
    largest algebraic eigenvalue.
    """
    first = power_iteration(matvec, dim, iters=iters, tol=tol, seed=seed)
    if first.value >= 0:
        return first
    second = power_iteration(matvec, dim, iters=iters, tol=tol, seed=seed, shift=first.value)
    return Eigen(
        second.value,
        second.vector,
        first.iterations + second.iterations,
        first.estimates + second.estimates,
    )


def hessian_matvec(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> MatVec:
    """``v -> H v`` for the Hessian of ``loss`` with respect to ``params`` (flattened).

    The gradient is built once with a graph; each product differentiates ``g . v`` again,
    which costs about one more backward pass and never forms ``H``.
    """
    params = list(params)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])

    def matvec(v: torch.Tensor) -> torch.Tensor:
        hv = torch.autograd.grad(flat_grad @ v.to(flat_grad.dtype), params, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).detach()

    return matvec


def sharpness(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    iters: int = 200,
    tol: float = 1e-3,
    seed: int | None = None,
) -> Eigen:
    """The largest Hessian eigenvalue of the mean cross-entropy of ``model`` on ``(x, y)``.

    Use the whole training split for ``(x, y)``: that is the loss full-batch gradient
    descent follows, and the one whose ``2 / sharpness`` limits its learning rate. The
    model is evaluated in eval mode (no dropout) and its weights are not changed.

    >>> torch.manual_seed(0) and None
    >>> model = nn.Linear(3, 2)
    >>> x, y = torch.randn(50, 3), torch.randint(0, 2, (50,))
    >>> result = sharpness(model, x, y, seed=0)
    >>> result.value > 0
    True
    """
    check_number("iters", iters, low=1, high=100_000, integer=True)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            f"model={type(model).__name__} is not allowed: it has no trainable weights."
        )
    was_training = model.training
    model.eval()
    try:
        loss = F.cross_entropy(model(x), y)
        matvec = hessian_matvec(loss, params)
        dim = sum(p.numel() for p in params)
        return top_eigenvalue(matvec, dim, iters=iters, tol=tol, seed=seed)
    finally:
        model.train(was_training)


def stable_lr_limit(sharpness_value: float, momentum: float = 0.0) -> float:
    """The largest stable learning rate on a bowl of curvature ``sharpness_value``.

    Plain gradient descent: ``2 / lambda``. Heavy-ball momentum ``beta`` (PyTorch's SGD
    momentum): ``2 (1 + beta) / lambda``; momentum *raises* the limit, because the
    velocity of an oscillating coordinate partly cancels from one step to the next.

    >>> stable_lr_limit(10.0), round(stable_lr_limit(10.0, momentum=0.9), 6)
    (0.2, 0.38)
    """
    check_number("sharpness_value", sharpness_value, low=0, low_open=True)
    check_number("momentum", momentum, low=0, high=1, high_open=True)
    return 2.0 * (1.0 + momentum) / sharpness_value


def loss_rise(history: History) -> float:
    """The highest step loss of a run divided by its first: > 1 means the loss went *up*.

    With full-batch gradient descent the step loss is the training loss itself, so a
    value of 1.0 says the run never rose above where it started. A run that produced
    NaN or inf gives ``inf``.

    >>> from hpcourse.config import TrainConfig
    >>> loss_rise(History(TrainConfig(), step_loss=[2.0, 1.5, 2.5, 1.0]))
    1.25
    """
    losses = history.step_loss
    if not losses:
        raise ValueError("history has no step losses: it is not allowed here (train it first).")
    if not all(math.isfinite(v) for v in losses):
        return math.inf
    return max(losses) / losses[0]


def stability_table(histories: Sequence[History], limit: float) -> pd.DataFrame:
    """One row per run: its lr, the lr as a multiple of ``limit`` (e.g. ``2 / sharpness``),
    :func:`loss_rise`, and the first step whose loss is above the first step's (or -1).
    """
    check_number("limit", limit, low=0, low_open=True)
    rows = []
    for h in histories:
        above = [i for i, v in enumerate(h.step_loss) if not v <= h.step_loss[0]]
        rows.append(
            {
                "lr": h.config.lr,
                "lr / limit": h.config.lr / limit,
                "max loss / first loss": loss_rise(h),
                "first step above start": above[0] if above else -1,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "Eigen",
    "hessian_matvec",
    "loss_rise",
    "power_iteration",
    "sharpness",
    "stability_table",
    "stable_lr_limit",
    "top_eigenvalue",
]
