"""Batch size and gradient noise: measure how noisy a minibatch gradient is, and what follows.

A minibatch gradient ``g_B`` is the average of ``B`` per-example gradients drawn from the
training set. Its average over all possible minibatches is the full-batch gradient ``G``,
so it is an *unbiased but noisy* estimate of ``G``. How noisy is the whole story of batch
size:

* the noise (mean squared distance ``E|g_B - G|^2``) falls like ``1/B``
  (:func:`minibatch_gradient_variance`, :func:`fit_loglog_slope`);
* small batches give jagged loss curves but many cheap steps per epoch
  (:func:`step_loss_jitter`, :func:`steps_per_epoch`, :func:`steps_to_target`);
* a larger batch tolerates a larger learning rate, roughly in proportion (the linear
  scaling rule, :func:`linear_scaled_lr`, :func:`best_lr_per_batch`) until the batch
  passes the *gradient noise scale* ``B_simple = tr(Sigma) / |G|^2``
  (:func:`noise_scale`, :func:`noise_scale_two_batch`);
* the memory a step needs grows linearly with ``B`` (:func:`memory_per_step`).

Everything works from a matrix of per-example gradients (one row per example, one
column per parameter, from :func:`per_example_gradients`), so the experiments measure
real gradients of a real model, and the unit tests can feed in synthetic rows whose
noise is known exactly.
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

from hpcourse.config import OPTIMIZERS, TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.training import History, build_model, evaluate, results_table, train
from hpcourse.validation import check_choice, check_number

# Gather at most this many numbers at once when averaging rows (keeps memory flat).
_CHUNK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------- basics


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``n_examples`` with batches of ``batch_size``.

    The last batch may be smaller than the others but is still a step, so we round up.

    >>> steps_per_epoch(3200, 32), steps_per_epoch(3200, 2048)
    (100, 2)
    """
    check_number("n_examples", n_examples, low=1, integer=True)
    check_number("batch_size", batch_size, low=1, high=n_examples, integer=True)
    return math.ceil(n_examples / batch_size)


def linear_scaled_lr(base_lr: float, base_batch: int, new_batch: int) -> float:
    """The linear scaling rule (Goyal et al. 2017): multiply the batch by k, the lr by k.

    Why it works for small batches: with ``k`` times the batch, one step averages ``k``
    times as many examples, so it can move ``k`` times as far and stay about as
    accurate as ``k`` small steps would have been. It stops working once the step is
    limited by the curvature of the loss rather than by gradient noise.

    >>> linear_scaled_lr(0.1, 256, 1024)
    0.4
    """
    check_number("base_lr", base_lr, low=0, low_open=True)
    check_number("base_batch", base_batch, low=1, integer=True)
    check_number("new_batch", new_batch, low=1, integer=True)
    return base_lr * new_batch / base_batch


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


# --------------------------------------------------------------------------- gradients


def _flat_params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach() for name, p in model.named_parameters()}


def per_example_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, chunk: int = 1024
) -> torch.Tensor:
    """The gradient of the cross-entropy loss of *each* example, one row per example.

    Returns an ``(N, P)`` float32 tensor (``P`` = number of parameters, in the order of
    ``model.named_parameters()``). The average of the rows is the full-batch gradient;
    the average of any ``B`` rows is a minibatch gradient. We use ``torch.func``
    (``vmap`` over ``grad``), which computes all rows in one vectorized pass instead of
    ``N`` separate backward passes.

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
    params = _flat_params(model)

    def loss_one(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(functional_call(model, p, (xi[None],)), yi[None])

    per_example = vmap(grad(loss_one), in_dims=(None, 0, 0))
    rows = []
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
    seed: int = 0,
) -> pd.DataFrame:
    """Measure ``E|g_B - G|^2``, the noise of minibatch gradients, for each batch size.

    For each ``B`` we draw ``n_draws`` seeded minibatches (without replacement inside a
    batch by default, like one batch of a shuffled epoch), average their per-example
    gradients into ``g_B`` and take the mean squared distance to the full-batch
    gradient ``G``.

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
    check_number("seed", seed, low=0, integer=True)
    if not isinstance(replace, bool):
        raise ValueError(f"replace={replace!r} is not allowed: replace must be True or False.")

    full, trace = _mean_and_trace(g)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for b in sizes:
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


# --------------------------------------------------------------------------- noise scale


@dataclass(frozen=True)
class NoiseScale:
    """The gradient noise scale ``B_simple = tr(Sigma) / |G|^2`` (McCandlish et al. 2018).

    ``trace_sigma`` is the total variance of a *single* example's gradient (the sum
    of the per-parameter variances); ``grad_sq_norm`` is ``|G|^2``. Their ratio is the
    batch size at which the noise in ``g_B`` (``tr(Sigma)/B``) equals the signal
    (``|G|^2``): below it, steps are noise-dominated and doubling the batch nearly
    halves the steps needed; far above it, extra examples per step are mostly wasted.
    """

    trace_sigma: float
    grad_sq_norm: float
    method: str

    @property
    def b_simple(self) -> float:
        """``tr(Sigma) / |G|^2``; infinite if the gradient is (estimated as) zero."""
        return self.trace_sigma / self.grad_sq_norm if self.grad_sq_norm > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """The estimate as a flat dict (one row of a comparison table)."""
        return {
            "method": self.method,
            "trace_sigma": self.trace_sigma,
            "grad_sq_norm": self.grad_sq_norm,
            "b_simple": self.b_simple,
        }


def noise_scale(per_example_grads: Any) -> NoiseScale:
    """``B_simple`` straight from per-example gradients (the direct estimator).

    We treat the training set as the population SGD samples from, so ``G`` is the mean
    row (exact), and ``tr(Sigma)`` is the mean squared distance of a row to ``G`` (the
    population covariance trace, dividing by ``N``), the same quantity for which
    ``E|g_B - G|^2 = tr(Sigma)/B`` holds exactly under sampling with replacement.

    >>> ns = noise_scale(torch.tensor([[1.0], [3.0]]))  # G = 2, Sigma = 1
    >>> ns.trace_sigma, ns.grad_sq_norm, ns.b_simple
    (1.0, 4.0, 0.25)
    """
    full, trace = _mean_and_trace(_as_matrix(per_example_grads))
    return NoiseScale(trace, float(full @ full), "direct (per-example gradients)")


def noise_scale_from_norms(
    sq_norm_small: float, sq_norm_big: float, b_small: int, b_big: int
) -> NoiseScale:
    """McCandlish et al. (2018, appendix A): ``B_simple`` from gradient norms at two batch sizes.

    With replacement, ``E|g_B|^2 = |G|^2 + tr(Sigma)/B``. Two batch sizes give two
    equations in two unknowns, solved by:

    * ``|G|^2  ~ (b_big |g_big|^2 - b_small |g_small|^2) / (b_big - b_small)``
    * ``tr(S) ~ (|g_small|^2 - |g_big|^2) / (1/b_small - 1/b_big)``

    Each is unbiased; pass *averages* of ``|g|^2`` over many batches, since a single
    pair is very noisy (and can even give a negative ``|G|^2``). This needs no
    per-example gradients, which is why it is used in large-scale training, where the
    small batch is one device's gradient and the big one the all-reduced average.

    >>> ns = noise_scale_from_norms(4 + 8 / 2, 4 + 8 / 8, 2, 8)  # |G|^2 = 4, tr = 8
    >>> ns.grad_sq_norm, ns.trace_sigma, ns.b_simple
    (4.0, 8.0, 2.0)
    """
    check_number("sq_norm_small", sq_norm_small, low=0)
    check_number("sq_norm_big", sq_norm_big, low=0)
    check_number("b_small", b_small, low=1, integer=True)
    check_number("b_big", b_big, low=b_small + 1, integer=True)
    grad_sq = (b_big * sq_norm_big - b_small * sq_norm_small) / (b_big - b_small)
    trace = (sq_norm_small - sq_norm_big) / (1 / b_small - 1 / b_big)
    return NoiseScale(trace, grad_sq, f"two batch sizes ({b_small} and {b_big})")


def noise_scale_two_batch(
    per_example_grads: Any, b_small: int, b_big: int, *, n_draws: int = 64, seed: int = 0
) -> NoiseScale:
    """``B_simple`` by the two-batch-size estimator, on minibatches drawn from the rows.

    Draws ``n_draws`` batches of each size *with* replacement (so the formula of
    :func:`noise_scale_from_norms` holds exactly, with no finite-population term),
    averages ``|g_B|^2`` for each size, and solves. It should agree with the direct
    :func:`noise_scale` up to sampling error.
    """
    g = _as_matrix(per_example_grads)
    n = g.shape[0]
    check_number("b_small", b_small, low=1, integer=True)
    check_number("b_big", b_big, low=b_small + 1, integer=True)
    check_number("n_draws", n_draws, low=2, integer=True)
    check_number("seed", seed, low=0, integer=True)
    gen = torch.Generator().manual_seed(seed)
    norms = []
    for b in (b_small, b_big):
        idx = _draw_batches(n, b, n_draws, True, gen)
        norms.append(float((_batch_means(g, idx).double() ** 2).sum(dim=1).mean()))
    return noise_scale_from_norms(norms[0], norms[1], b_small, b_big)


def noise_scale_during_training(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    *,
    at_epochs: Sequence[int] | None = None,
    max_examples: int | None = None,
) -> tuple[pd.DataFrame, History]:
    """Train one model and measure ``B_simple`` (direct) before training and after epochs.

    Returns a table (``epoch``, ``trace_sigma``, ``grad_sq_norm``, ``b_simple``,
    ``val_acc``) and the run's History. McCandlish et al. (2018) found that on large
    problems ``|G|^2`` shrinks faster than ``tr(Sigma)`` as training goes on, so the noise
    scale (and the batch size that can be used efficiently) grows; on a small problem it
    mostly jumps around within the same order of magnitude.

    ``max_examples`` measures on the first that many training examples only (faster);
    the full-batch gradient is then that subset's.
    """
    config = as_config(config)
    epochs = list(at_epochs) if at_epochs is not None else list(range(config.epochs + 1))
    for e in epochs:
        check_number("at_epochs", e, low=0, high=config.epochs, integer=True)
    n = len(data.y_train)
    if max_examples is not None:
        check_number("max_examples", max_examples, low=2, integer=True)
        n = min(n, max_examples)
    x, y = data.x_train[:n], data.y_train[:n]
    model = build_model(config, data)
    rows: list[dict[str, float]] = []

    def measure(epoch: int, val_acc: float) -> None:
        ns = noise_scale(per_example_gradients(model, x, y))
        rows.append(
            {
                "epoch": epoch,
                "trace_sigma": ns.trace_sigma,
                "grad_sq_norm": ns.grad_sq_norm,
                "b_simple": ns.b_simple,
                "val_acc": val_acc,
            }
        )

    def on_epoch(h: History, _opt: torch.optim.Optimizer) -> None:
        if h.epoch[-1] in epochs:
            measure(h.epoch[-1], h.val_acc[-1])

    if 0 in epochs:
        measure(0, evaluate(model, data.x_val, data.y_val)[1])
    history = train(config, data, model=model, on_epoch=on_epoch)
    return pd.DataFrame(rows), history


# --------------------------------------------------------------------------- training runs


def step_loss_jitter(step_loss: Sequence[float], *, last_fraction: float = 0.5) -> float:
    """How jagged a per-step loss curve is: the std of step-to-step changes.

    Taken over the last ``last_fraction`` of the steps, where the downward trend is slow,
    so what remains is mostly minibatch noise (the std of differences also ignores a
    steady trend). Larger batches average more examples per step: lower jitter.

    >>> round(step_loss_jitter([2.0, 1.9, 1.8, 1.7, 1.6, 1.5]), 12)  # steady trend, no noise
    0.0
    """
    check_number("last_fraction", last_fraction, low=0, high=1, low_open=True)
    values = np.asarray(step_loss, dtype=float)
    tail = values[int(len(values) * (1 - last_fraction)) :]
    if len(tail) < 3:
        raise ValueError(
            f"step_loss with {len(values)} values is not allowed: the last {last_fraction:g} "
            "of the run must hold at least 3 steps."
        )
    return float(np.diff(tail).std(ddof=1))


def steps_to_target(history: History, target_acc: float) -> dict[str, float]:
    """Epochs, steps and training seconds until validation accuracy first reached a target.

    Validation is measured once per epoch, so the answer is rounded up to whole epochs
    (the count of steps at the end of the first epoch that reached ``target_acc``).
    NaN where the run never reached it.
    """
    check_number("target_acc", target_acc, low=0, high=1)
    hit = next(
        (e for e, a in zip(history.epoch, history.val_acc, strict=True) if a >= target_acc), None
    )
    if hit is None or history.diverged:
        return {"epochs": math.nan, "steps": math.nan, "seconds": math.nan}
    return {
        "epochs": float(hit),
        "steps": float(hit * history.steps_per_epoch),
        "seconds": float(sum(history.epoch_time[1 : hit + 1])),
    }


def train_to_target(
    config: TrainConfig | dict[str, Any], data: Dataset, target_acc: float
) -> History:
    """Train until validation accuracy reaches ``target_acc`` (or ``config.epochs`` run out).

    Used to compare batch sizes by *steps to target* (Shallue et al. 2019) without paying
    for epochs after the target was reached.
    """
    check_number("target_acc", target_acc, low=0, high=1)

    def stop(h: History, _opt: torch.optim.Optimizer) -> str | None:
        return "stop" if h.val_acc[-1] >= target_acc else None

    return train(config, data, on_epoch=stop)


def batch_run_table(
    histories: Sequence[History], *, target_acc: float | None = None
) -> pd.DataFrame:
    """One row per run: batch size, lr, steps per epoch, median seconds per epoch, jitter,
    final accuracy, and (given ``target_acc``) steps / examples / seconds to reach it."""
    rows = []
    for h in histories:
        row = {
            "batch_size": h.config.batch_size,
            "lr": h.config.lr,
            "steps_per_epoch": h.steps_per_epoch,
            "sec_per_epoch": float(np.median(h.epoch_time[1:])) if len(h.epoch_time) > 1 else 0,
            "jitter": step_loss_jitter(h.step_loss) if len(h.step_loss) >= 6 else math.nan,
            "final_val_acc": h.final_val_acc,
            "diverged": h.diverged,
        }
        if target_acc is not None:
            hit = steps_to_target(h, target_acc)
            row.update({f"{k}_to_target": v for k, v in hit.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def best_lr_per_batch(histories: Sequence[History]) -> pd.DataFrame:
    """From an lr x batch-size sweep: the lr with the lowest final validation loss per batch.

    Adds ``linear_rule_lr``: the lr the linear scaling rule predicts from the smallest
    batch's best lr. Where ``best_lr`` stays well below it, the rule has broken down.
    Diverged runs count as infinitely bad.
    """
    if not histories:
        raise ValueError("histories=[] is not allowed: give the runs of a sweep.")
    table = results_table(histories, columns=["batch_size", "lr"])
    best = table.loc[table.groupby("batch_size")["final_val_loss"].idxmin()]
    best = best.sort_values("batch_size").reset_index(drop=True)
    out = best[["batch_size", "lr", "final_val_loss", "final_val_acc"]].rename(
        columns={"lr": "best_lr"}
    )
    b0, lr0 = out["batch_size"].iloc[0], out["best_lr"].iloc[0]
    out["linear_rule_lr"] = [linear_scaled_lr(lr0, int(b0), int(b)) for b in out["batch_size"]]
    out["n_lrs_tried"] = table.groupby("batch_size")["lr"].nunique().sort_index().to_numpy()
    return out


# --------------------------------------------------------------------------- memory

_STATE_PER_PARAM = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def memory_per_step(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    batch_sizes: Sequence[int],
    *,
    optimizer: str = "sgd",
    bytes_per_float: int = 4,
) -> pd.DataFrame:
    """Bytes one training step of a ReLU MLP keeps in memory, split by what grows with ``B``.

    * ``parameters``, ``gradients``: one float per parameter each; independent of ``B``.
    * ``optimizer_state``: 0 floats per parameter for SGD, 1 for momentum, 2 for Adam.
    * ``activations``: what the forward pass saves for backward, per example: the
      input, each hidden layer's ReLU output and the log-probabilities of the loss
      (``n_inputs + sum(hidden) + n_outputs`` floats), plus the int64 label. This is
      the only part that grows with ``B``, linearly: there is nothing special about a
      power of two here.

    >>> memory_per_step(40, [128], 10, [1, 100])["activations"].tolist()  # 4*(178)+8 per ex.
    [720, 72000]
    """
    check_number("n_inputs", n_inputs, low=1, integer=True)
    check_number("n_outputs", n_outputs, low=1, integer=True)
    for i, w in enumerate(hidden):
        check_number(f"hidden[{i}]", w, low=1, integer=True)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_number("bytes_per_float", bytes_per_float, low=1, integer=True)
    sizes = [n_inputs, *hidden, n_outputs]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    per_example = bytes_per_float * sum(sizes) + 8  # + the int64 label
    rows = []
    for b in _check_batch_sizes(batch_sizes, 2**40):
        row = {
            "batch_size": b,
            "parameters": n_params * bytes_per_float,
            "gradients": n_params * bytes_per_float,
            "optimizer_state": _STATE_PER_PARAM[optimizer] * n_params * bytes_per_float,
            "activations": per_example * b,
        }
        row["total"] = sum(v for k, v in row.items() if k != "batch_size")
        rows.append(row)
    return pd.DataFrame(rows)


def saved_activation_bytes(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Measure what autograd actually stores for backward in one forward pass (bytes).

    Hooks into ``torch.autograd.graph.saved_tensors_hooks`` and adds up the size of every
    distinct saved tensor, leaving out the model's own parameters (they exist anyway).
    Compare with the ``activations`` column of :func:`memory_per_step`.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model={model!r} is not allowed: model must be a torch nn.Module.")
    param_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        # Count the tensor itself, not its whole storage: x[:B] is a view into the dataset.
        # The same tensor saved twice (ReLU's output is also the next layer's input) counts once.
        if t.untyped_storage().data_ptr() not in param_storages:
            seen[(t.data_ptr(), t.numel())] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(model(x), y)
    return int(sum(seen.values()))


# --------------------------------------------------------------------------- pictures


def gradient_basis(per_example_grads: Any, *, seed: int = 0, iters: int = 5) -> torch.Tensor:
    """Two orthonormal directions to look at gradients in: ``G``'s, and the main noise one.

    Column 0 is ``G / |G|``. Column 1 is the direction in which per-example gradients
    vary most once the part along ``G`` is removed (their top principal component),
    found by a few rounds of seeded subspace iteration that never copy the matrix.
    Shape ``(P, 2)``, float64.
    """
    g = _as_matrix(per_example_grads)
    if g.shape[1] < 2:
        raise ValueError(
            f"per_example_grads with {g.shape[1]} column is not allowed: a 2-D picture needs "
            "at least 2 parameters."
        )
    check_number("seed", seed, low=0, integer=True)
    check_number("iters", iters, low=1, integer=True)
    full, _ = _mean_and_trace(g)
    u = (full / full.norm().clamp_min(1e-300)).to(g.dtype)
    center = full.to(g.dtype)
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(g.shape[1], min(4, g.shape[1]), generator=gen, dtype=g.dtype)

    def drop_u(m: torch.Tensor) -> torch.Tensor:
        return m - u[:, None] * (u @ m)[None, :]

    for _ in range(iters):  # v <- C^T C v, with C = (g - G) projected off u
        r = g @ drop_u(v) - (center @ drop_u(v))[None, :]
        back = (r.T @ g).T  # = g^T r, but r^T g reads g in its stored order: much faster
        v, _ = torch.linalg.qr(drop_u(back - center[:, None] * r.sum(dim=0)[None, :]))
    r = g @ v - (center @ v)[None, :]
    _, _, vh = torch.linalg.svd(r.double(), full_matrices=False)
    w = drop_u(v @ vh[0].to(v.dtype)[:, None])[:, 0].double()
    return torch.stack([u.double(), w / w.norm().clamp_min(1e-300)], dim=1)


def project_gradients(
    per_example_grads: Any, basis: torch.Tensor | None = None, *, seed: int = 0
) -> np.ndarray:
    """Each example's gradient in a 2-D ``basis`` (default :func:`gradient_basis`): ``(N, 2)``.

    Projecting is linear, so the projection of a minibatch gradient is the average of
    its examples' projections: project once, then averaging is cheap (see
    :func:`minibatch_gradient_cloud`). With the default basis the full gradient sits
    at ``(|G|, 0)``.
    """
    g = _as_matrix(per_example_grads)
    basis = gradient_basis(g, seed=seed) if basis is None else torch.as_tensor(basis)
    if basis.ndim != 2 or basis.shape[0] != g.shape[1]:
        raise ValueError(
            f"basis of shape {tuple(basis.shape)} is not allowed: it must be (P, k) with "
            f"P = {g.shape[1]}, the number of columns of per_example_grads."
        )
    return (g @ basis.to(g.dtype)).double().numpy()


def minibatch_gradient_cloud(
    coords: Any,
    batch_size: int,
    *,
    n_draws: int = 300,
    replace: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """``n_draws`` minibatch gradients, each the average of ``batch_size`` random rows.

    ``coords`` holds one row per example, usually the projected gradients from
    :func:`project_gradients`; the result has one row per drawn minibatch. In the
    default basis, a row with a negative first coordinate is a minibatch gradient that
    points *uphill* for the full training loss.

    >>> cloud = minibatch_gradient_cloud(np.eye(4), 4, n_draws=3)  # B = N: always the mean
    >>> cloud.round(2).tolist()[0]
    [0.25, 0.25, 0.25, 0.25]
    """
    rows = _as_matrix(coords, "coords").double()
    n = rows.shape[0]
    check_number("batch_size", batch_size, low=1, high=n, integer=True)
    check_number("n_draws", n_draws, low=2, integer=True)
    check_number("seed", seed, low=0, integer=True)
    idx = _draw_batches(n, batch_size, n_draws, replace, torch.Generator().manual_seed(seed))
    return _batch_means(rows, idx).numpy()


__all__ = [
    "LogLogFit",
    "NoiseScale",
    "batch_run_table",
    "best_lr_per_batch",
    "finite_population_correction",
    "fit_loglog_slope",
    "gradient_basis",
    "linear_scaled_lr",
    "memory_per_step",
    "minibatch_gradient_cloud",
    "minibatch_gradient_variance",
    "noise_scale",
    "noise_scale_during_training",
    "noise_scale_from_norms",
    "noise_scale_two_batch",
    "per_example_gradients",
    "project_gradients",
    "saved_activation_bytes",
    "step_loss_jitter",
    "steps_per_epoch",
    "steps_to_target",
    "train_to_target",
]
