"""Gradient noise: how far a minibatch gradient is from the full-batch gradient.

A minibatch gradient ``g_B`` is the average of ``B`` per-example gradients drawn from the
training set. Its average over all possible minibatches is the full-batch gradient ``G``,
so it is an *unbiased but noisy* estimate of ``G``, and sampling theory says how noisy:
``E|g_B - G|^2 = tr(Sigma) / B`` times the finite-population correction
``(N - B) / (N - 1)`` when a batch holds distinct examples. The batch-size lesson measures
this on real gradients of a real model:

* :func:`per_example_gradients`: one row per example, one column per parameter;
* :func:`trainer_batch_indices`: minibatches exactly as the trainer slices them, so that
  what is measured is the noise of the batches training really takes;
* :func:`minibatch_gradient_variance`: the measured noise for each batch size;
* :func:`fit_loglog_slope`: the slope of noise against batch size on log-log axes.

The gradient noise *scale* built on these rows lives in :mod:`hpcourse.noise_scale`,
and the 2-D picture of the gradient cloud in :mod:`hpcourse.gradient_cloud`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from hpcourse.runs import run_scope
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_bool, check_choice, check_number

# Gather at most this many numbers at once when averaging rows (keeps memory flat).
_CHUNK_ELEMENTS = 1 << 22

#: How minibatches are drawn: each on its own, or exactly as the trainer slices them.
SAMPLERS = ("random", "trainer")


def finite_population_correction(n_examples: int, batch_size: int) -> float:
    """``(N - B) / (N - 1)``: how much less noisy sampling *without* replacement is.

    Drawing ``B`` distinct examples out of ``N`` leaves less to chance than drawing with
    replacement: at ``B = N`` the minibatch *is* the dataset and the noise is zero. The
    variance of the minibatch mean is ``sigma^2 / B`` times this factor. It is close to
    1 while ``B`` is a small fraction of ``N``.

    >>> finite_population_correction(1000, 1), finite_population_correction(1000, 1000)
    (1.0, 0.0)
    """
    check_number("n_examples", n_examples, low=2, integer=True)
    check_number("batch_size", batch_size, low=1, high=n_examples, integer=True)
    return (n_examples - batch_size) / (n_examples - 1)


def _flat_params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach() for name, p in model.named_parameters()}


def per_example_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    chunk: int = 1024,
    seed: int | None = None,
) -> torch.Tensor:
    """The gradient of the cross-entropy loss of *each* example, one row per example.

    Returns an ``(N, P)`` float32 tensor (``P`` = number of parameters, in the order of
    ``model.named_parameters()``). The average of the rows is the full-batch gradient;
    the average of any ``B`` rows is a minibatch gradient. We use ``torch.func``
    (``vmap`` over ``grad``), which computes all rows in one vectorized pass instead of
    ``N`` separate backward passes.

    A model in training mode with dropout gets an independent dropout mask per example,
    as in a real training step, drawn from ``seed`` (default: the course's seed) in a
    scope of its own, so the global generator and a run in progress are left untouched.

    >>> from hpcourse.models import MLP
    >>> x, y = torch.zeros(5, 4), torch.zeros(5, dtype=torch.long)
    >>> per_example_gradients(MLP(4, [3], 2), x, y).shape  # 5 examples, 4*3+3 + 3*2+2 params
    torch.Size([5, 23])
    """
    from torch.func import functional_call, grad, vmap

    if not isinstance(model, nn.Module):
        raise ValueError(f"model={model!r} is not allowed: model must be a torch nn.Module.")
    if x.ndim < 2 or y.ndim != 1 or len(x) != len(y) or len(y) == 0:
        raise ValueError(
            f"x of shape {tuple(x.shape)} and y of shape {tuple(y.shape)} are not allowed: "
            "x must be (N, features...) and y must be (N,), with N >= 1."
        )
    check_number("chunk", chunk, low=1, integer=True)
    seed = resolve_seed(seed)
    params = _flat_params(model)

    def loss_one(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(functional_call(model, p, (xi[None],)), yi[None])

    # "different": each example draws its own dropout mask, as it would in a batch.
    per_example = vmap(grad(loss_one), in_dims=(None, 0, 0), randomness="different")
    rows = []
    with run_scope(seed):
        for start in range(0, len(y), chunk):
            g = per_example(params, x[start : start + chunk], y[start : start + chunk])
            rows.append(torch.cat([g[name].reshape(len(g[name]), -1) for name in params], dim=1))
    return torch.cat(rows).float()


def _as_matrix(per_example_grads: Any, name: str = "per_example_grads") -> torch.Tensor:
    """Accept a tensor or an array of shape (N, P) with N >= 2 (a 1-D input is one column)."""
    if torch.is_tensor(per_example_grads):
        g = per_example_grads.detach()
    else:
        g = torch.as_tensor(np.asarray(per_example_grads))
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or g.shape[0] < 2 or g.shape[1] < 1:
        raise ValueError(
            f"{name} of shape {tuple(g.shape)} is not allowed: {name} must be a matrix "
            "(N, P) with one row per example and N >= 2."
        )
    if not torch.is_floating_point(g):
        g = g.double()
    if not math.isfinite(float(g.sum())):  # one cheap pass catches any NaN or inf
        raise ValueError(f"{name} is not allowed: it contains NaN or infinite values.")
    return g


def _draw_batches(
    n: int, batch_size: int, n_draws: int, replace: bool, generator: torch.Generator
) -> torch.Tensor:
    """An ``(n_draws, batch_size)`` matrix of example indices, one minibatch per row."""
    if replace:
        return torch.randint(0, n, (n_draws, batch_size), generator=generator)
    return torch.rand(n_draws, n, generator=generator).argsort(dim=1)[:, :batch_size]


def trainer_batch_indices(
    n: int, batch_size: int, n_draws: int, *, seed: int | None = None
) -> torch.Tensor:
    """``n_draws`` minibatches exactly as the trainer slices them: ``(n_draws, size)`` indices.

    Why: measuring the noise of *some* random subsets says nothing about the batches
    training really takes. So we ask :func:`hpcourse.runs.epoch_batches`, the function
    that slices every batch of a training epoch, to slice the indices ``0 .. n-1``:
    one shuffled epoch after another, keeping the batches of the epoch's full size (the
    short last batch of an epoch has another size). If the trainer slices batches of
    another size than asked, that is the size you get back, and the measurement shows it.

    >>> trainer_batch_indices(10, 4, 3, seed=0).shape  # 2 full batches per epoch
    torch.Size([3, 4])
    """
    from hpcourse import runs  # looked up at call time: the trainer's own slicing

    check_number("n", n, low=1, integer=True)
    check_number("batch_size", batch_size, low=1, high=n, integer=True)
    check_number("n_draws", n_draws, low=1, integer=True)
    gen = torch.Generator().manual_seed(resolve_seed(seed))
    index = torch.arange(n)
    rows: list[torch.Tensor] = []
    while len(rows) < n_draws:
        epoch = [
            xb
            for xb, _ in runs.epoch_batches(index, index, batch_size, shuffle=True, generator=gen)
        ]
        full = len(epoch[0])
        rows += [xb for xb in epoch if len(xb) == full][: n_draws - len(rows)]
    return torch.stack(rows)


def _batch_means(values: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Row ``d`` = mean of ``values[idx[d]]``. Gathers the rows when that is cheap (small
    batches, or few columns); otherwise multiplies by a (draws x N) matrix of weights
    1/B, which for wide rows is much faster than copying B rows per draw."""
    n_draws, batch_size = idx.shape
    n, p = values.shape
    if batch_size <= 64 or p <= 16:
        per_chunk = max(1, _CHUNK_ELEMENTS // (batch_size * p))
        return torch.cat([values[c].mean(dim=1) for c in idx.split(per_chunk)])
    weights = torch.zeros(n_draws, n, dtype=values.dtype)
    weights.scatter_add_(1, idx, torch.full(idx.shape, 1.0 / batch_size, dtype=values.dtype))
    return weights @ values


def _mean_and_trace(g: torch.Tensor, chunk: int = 512) -> tuple[torch.Tensor, float]:
    """The mean row ``G`` (float64) and ``tr(Sigma) = mean_i |g_i - G|^2``, chunk by chunk,
    so that no second copy of the (possibly large) matrix is ever made."""
    full = g.sum(dim=0, dtype=torch.float64) / g.shape[0]
    center = full.to(g.dtype)
    total = 0.0
    for rows in g.split(chunk):
        d = rows - center
        total += float((d * d).sum(dim=1, dtype=torch.float64).sum())
    return full, total / g.shape[0]


def _check_batch_sizes(batch_sizes: Iterable[int], n: int) -> list[int]:
    sizes = list(batch_sizes)
    if not sizes:
        raise ValueError("batch_sizes=[] is not allowed: give at least one batch size.")
    for b in sizes:
        check_number("batch_size", b, low=1, high=n, integer=True)
    return [int(b) for b in sizes]


def minibatch_gradient_variance(
    per_example_grads: Any,
    batch_sizes: Sequence[int],
    *,
    n_draws: int = 64,
    replace: bool = False,
    sampler: str = "random",
    seed: int | None = None,
) -> pd.DataFrame:
    """Measure ``E|g_B - G|^2``, the noise of minibatch gradients, for each batch size.

    For each ``B`` we draw ``n_draws`` seeded minibatches, average their per-example
    gradients into ``g_B`` and take the mean squared distance to the full-batch
    gradient ``G``. ``sampler="random"`` draws each batch on its own (without
    replacement inside a batch by default, like one batch of a shuffled epoch);
    ``sampler="trainer"`` takes the batches the trainer itself slices
    (:func:`trainer_batch_indices`), so the table describes the minibatches that
    training really uses (``replace`` must then be False).

    Columns: ``batch_size``, ``variance`` (measured), ``sem`` (its standard error over
    draws), ``fpc`` (the finite-population correction, 1 with replacement),
    ``corrected`` (``variance / fpc``: what sampling with replacement would give; NaN
    at ``B = N`` where both are 0), ``theory`` (``tr(Sigma) / B * fpc``, with
    ``tr(Sigma)`` the mean squared distance of single examples to ``G``), ``replace``.

    Sampling theory says ``corrected`` falls exactly like ``1/B``: a log-log slope of -1.

    >>> rows = torch.arange(10.0)[:, None]  # ten examples, one parameter
    >>> df = minibatch_gradient_variance(rows, [1, 10], n_draws=200)
    >>> float(df["variance"].iloc[1])  # B = N: the minibatch is the whole dataset
    0.0
    """
    g = _as_matrix(per_example_grads)
    n = g.shape[0]
    sizes = _check_batch_sizes(batch_sizes, n)
    check_number("n_draws", n_draws, low=2, integer=True)
    seed = resolve_seed(seed)
    check_bool("replace", replace)
    check_choice("sampler", sampler, SAMPLERS)
    if sampler == "trainer" and replace:
        raise ValueError(
            "replace=True is not allowed with sampler='trainer': the trainer's batches hold "
            "distinct examples (replace must be False)."
        )

    full, trace = _mean_and_trace(g)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for b in sizes:
        if sampler == "trainer":
            idx = trainer_batch_indices(n, b, n_draws, seed=seed + b)
        else:
            idx = _draw_batches(n, b, n_draws, replace, gen)
        dist2 = ((_batch_means(g, idx).double() - full) ** 2).sum(dim=1).numpy()
        fpc = 1.0 if replace else finite_population_correction(n, b)
        variance = float(dist2.mean())
        rows.append(
            {
                "batch_size": b,
                "variance": variance,
                "sem": float(dist2.std(ddof=1) / math.sqrt(n_draws)),
                "fpc": fpc,
                "corrected": variance / fpc if fpc > 0 else math.nan,
                "theory": trace / b * fpc,
                "replace": replace,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class LogLogFit:
    """A straight line on log-log axes: ``log10(y) = slope * log10(x) + intercept``."""

    slope: float
    intercept: float
    n_points: int

    def predict(self, x: Any) -> np.ndarray:
        """The fitted ``y`` at ``x``."""
        return 10 ** (self.intercept + self.slope * np.log10(np.asarray(x, dtype=float)))


def fit_loglog_slope(x: Sequence[float], y: Sequence[float]) -> LogLogFit:
    """Least-squares slope of ``log10(y)`` against ``log10(x)``.

    Points where ``y`` is 0 or NaN (e.g. the variance at ``B = N`` without replacement)
    cannot sit on a log axis and are left out; at least two must remain. A power law
    ``y = c * x**k`` has slope ``k``: for gradient noise against batch size, -1.

    >>> round(fit_loglog_slope([1, 10, 100], [5.0, 0.5, 0.05]).slope, 6)
    -1.0
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(
            f"x and y of shapes {xs.shape} and {ys.shape} are not allowed: "
            "x and y must be 1-D and of the same length."
        )
    keep = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    if keep.sum() < 2 or np.unique(xs[keep]).size < 2:
        raise ValueError(
            f"x={xs.tolist()}, y={ys.tolist()} are not allowed: a log-log fit needs at least "
            "two points with distinct x > 0 and y > 0."
        )
    slope, intercept = np.polyfit(np.log10(xs[keep]), np.log10(ys[keep]), 1)
    return LogLogFit(float(slope), float(intercept), int(keep.sum()))


__all__ = [
    "SAMPLERS",
    "LogLogFit",
    "finite_population_correction",
    "fit_loglog_slope",
    "minibatch_gradient_variance",
    "per_example_gradients",
    "trainer_batch_indices",
]
