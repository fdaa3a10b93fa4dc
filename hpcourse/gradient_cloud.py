"""A picture of gradient noise: every example's gradient in two well-chosen directions.

A gradient has thousands of coordinates; to *see* minibatch noise we project every
per-example gradient onto two directions: the full-batch gradient ``G``, and the
direction along which single examples disagree most. Projection is linear, so the
projection of a minibatch gradient is the average of its examples' projections, which
makes redrawing the cloud for a new batch size cheap (the batch-size explorer does it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hpcourse.gradient_noise import _as_matrix, _batch_means, _draw_batches, _mean_and_trace
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number


def gradient_basis(
    per_example_grads: Any, *, seed: int | None = None, iters: int = 5
) -> torch.Tensor:
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
    seed = resolve_seed(seed)
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
    per_example_grads: Any, basis: torch.Tensor | None = None, *, seed: int | None = None
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
    seed: int | None = None,
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
    seed = resolve_seed(seed)
    idx = _draw_batches(n, batch_size, n_draws, replace, torch.Generator().manual_seed(seed))
    return _batch_means(rows, idx).numpy()


__all__ = ["gradient_basis", "minibatch_gradient_cloud", "project_gradients"]
