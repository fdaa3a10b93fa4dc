"""The gradient noise scale ``B_simple = tr(Sigma) / |G|^2`` (McCandlish et al. 2018).

It is the batch size at which the noise of a minibatch gradient (``tr(Sigma)/B``) equals
its signal (``|G|^2``). Well below it, steps are noise-dominated and a bigger batch
nearly buys a proportional speed-up (and the linear lr scaling rule holds); well above
it, extra examples per step are mostly wasted. Two estimators are here (from
per-example gradients, and from gradient norms at two batch sizes, the one used at
scale), and a measurement of how the scale changes during training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.gradient_noise import (
    SAMPLERS,
    _as_matrix,
    _batch_means,
    _draw_batches,
    _mean_and_trace,
    per_example_gradients,
    trainer_batch_indices,
)
from hpcourse.results import History
from hpcourse.runs import build_model
from hpcourse.seeding import resolve_seed
from hpcourse.training import evaluate, train
from hpcourse.validation import check_choice, check_number


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
    grad_sq, trace = _solve_two_batch(sq_norm_small, sq_norm_big, b_small, b_big)
    return NoiseScale(trace, grad_sq, f"two batch sizes ({b_small} and {b_big})")


def _solve_two_batch(
    sq_small: float, sq_big: float, b_small: float, b_big: float
) -> tuple[float, float]:
    """``(|G|^2, tr(Sigma))`` from ``E|g_B|^2 = |G|^2 + tr(Sigma)/B`` at two batch sizes."""
    grad_sq = (b_big * sq_big - b_small * sq_small) / (b_big - b_small)
    trace = (sq_small - sq_big) / (1 / b_small - 1 / b_big)
    return grad_sq, trace


def noise_scale_two_batch(
    per_example_grads: Any,
    b_small: int,
    b_big: int,
    *,
    n_draws: int = 64,
    sampler: str = "random",
    seed: int | None = None,
) -> NoiseScale:
    """``B_simple`` by the two-batch-size estimator, on minibatches drawn from the rows.

    Averages ``|g_B|^2`` over ``n_draws`` batches of each size and solves the two
    equations of :func:`noise_scale_from_norms`. ``sampler="random"`` draws the batches
    *with* replacement, so the formula holds as it stands. ``sampler="trainer"`` takes
    the batches the trainer itself slices (distinct examples, see
    :func:`hpcourse.gradient_noise.trainer_batch_indices`): that is the estimator as
    used in practice, on the gradients of real training batches. Without replacement
    the noise term is ``tr(Sigma)/B`` times ``(N - B)/(N - 1)``, which is the same as
    with replacement at the *effective* batch size ``B (N - 1)/(N - B)``; we solve with
    those. Either way it should agree with the direct :func:`noise_scale` up to sampling
    error, unless the batches are not the size they are said to be.
    """
    g = _as_matrix(per_example_grads)
    n = g.shape[0]
    check_number("b_small", b_small, low=1, integer=True)
    check_number(
        "b_big", b_big, low=b_small + 1, high=n - 1 if sampler == "trainer" else None, integer=True
    )
    check_number("n_draws", n_draws, low=2, integer=True)
    check_choice("sampler", sampler, SAMPLERS)
    seed = resolve_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    norms, effective = [], []
    for b in (b_small, b_big):
        if sampler == "trainer":
            idx = trainer_batch_indices(n, b, n_draws, seed=seed + b)
            effective.append(b * (n - 1) / (n - b))
        else:
            idx = _draw_batches(n, b, n_draws, True, gen)
            effective.append(float(b))
        norms.append(float((_batch_means(g, idx).double() ** 2).sum(dim=1).mean()))
    grad_sq, trace = _solve_two_batch(norms[0], norms[1], effective[0], effective[1])
    where = ", trainer batches" if sampler == "trainer" else ""
    method = f"two batch sizes ({b_small} and {b_big}{where})"
    return NoiseScale(trace, grad_sq, method)


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
        # seeded per epoch, in a scope of its own: measuring never changes the run itself
        grads = per_example_gradients(model, x, y, seed=config.seed + epoch)
        ns = noise_scale(grads)
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


__all__ = [
    "NoiseScale",
    "noise_scale",
    "noise_scale_during_training",
    "noise_scale_from_norms",
    "noise_scale_two_batch",
]
