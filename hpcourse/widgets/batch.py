"""Explorer for lesson 03: move a batch-size slider and watch minibatch gradients tighten.

Left panel: a cloud of minibatch gradients seen in 2-D (along the full gradient ``G``,
and along the direction where examples disagree most). Right panel: the noise
``E|g_B - G|^2`` against ``B`` next to the signal ``|G|^2``; they cross at the gradient
noise scale ``B_simple``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hpcourse.gradient_cloud import minibatch_gradient_cloud, project_gradients
from hpcourse.gradient_noise import finite_population_correction
from hpcourse.noise_scale import NoiseScale, noise_scale
from hpcourse.plots.batch import plot_gradient_cloud
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer


def _default_batch_sizes(n: int) -> list[int]:
    sizes = [2**k for k in range(int(np.log2(n)) + 1) if 2**k < n]
    return [*sizes, n]


class GradientNoiseExplorer(Explorer):
    """A batch-size slider (``controls["batch_size"]``), a status line and the two panels.

    ``state`` holds the numbers behind the figure on screen (batch size, share of uphill
    minibatch gradients, noise and signal), which is what the tests check.
    """

    def __init__(
        self,
        coords: np.ndarray,
        scale: NoiseScale,
        batch_sizes: Sequence[int],
        *,
        n_draws: int,
        seed: int,
    ) -> None:
        self.coords = np.asarray(coords, dtype=float)
        self.scale = scale
        self.n = len(self.coords)
        self.n_draws = n_draws
        self.seed = seed
        self.sizes = list(batch_sizes)
        start = min(self.sizes, key=lambda b: abs(b - 16))
        slider = widgets.SelectionSlider(
            options=self.sizes,
            value=start,
            description="batch size",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="520px"),
        )
        super().__init__({"batch_size": slider})

    def noise_at(self, batch_size: int) -> float:
        """Expected ``E|g_B - G|^2`` for sampling without replacement (as in an epoch)."""
        return (
            self.scale.trace_sigma / batch_size * finite_population_correction(self.n, batch_size)
        )

    def compute(self, batch_size: int) -> dict[str, Any]:
        b = int(batch_size)
        cloud = minibatch_gradient_cloud(self.coords, b, n_draws=self.n_draws, seed=self.seed)
        return {
            "batch_size": b,
            "cloud": cloud,
            "uphill_share": float((cloud[:, 0] < 0).mean()),
            "noise": self.noise_at(b),
            "signal": self.scale.grad_sq_norm,
        }

    def describe(self, state: dict[str, Any]) -> str:
        b, noise, signal = state["batch_size"], state["noise"], state["signal"]
        return (
            f"<b>B = {b}</b>: noise E|g<sub>B</sub> − G|² = {noise:.3g}, "
            f"signal |G|² = {signal:.3g}, noise / signal = {noise / signal:.2f}; "
            f"{100 * state['uphill_share']:.0f}% of {self.n_draws} minibatch gradients "
            "point uphill."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        b, cloud, noise, signal = (state[k] for k in ("batch_size", "cloud", "noise", "signal"))
        fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4))
        spread = float(np.abs(cloud - cloud.mean(axis=0)).max())
        limit = max(2.0 * np.sqrt(signal), 1.1 * (np.sqrt(signal) + spread))
        plot_gradient_cloud(cloud, np.sqrt(signal), b, ax=left, limit=limit)
        bs = np.array(self.sizes[:-1] if self.sizes[-1] == self.n else self.sizes, dtype=float)
        right.plot(bs, [self.noise_at(int(x)) for x in bs], "-", label="noise tr(Σ)/B × FPC")
        right.axhline(signal, color="k", ls="--", lw=1, label="signal |G|²")
        if b < self.n:
            right.plot([b], [noise], "o", color="C3", ms=9, label=f"B = {b}")
        right.axvline(
            self.scale.b_simple,
            color="C3",
            ls=":",
            lw=1,
            label=f"B_simple ≈ {self.scale.b_simple:.0f}",
        )
        right.set_xscale("log", base=2)
        right.set_yscale("log")
        right.set_xlabel("batch size B")
        right.grid(alpha=0.3, which="both")
        right.legend(fontsize=8)
        fig.tight_layout()
        return fig


def gradient_noise_explorer(
    per_example_grads: Any = None,
    *,
    coords: np.ndarray | None = None,
    scale: NoiseScale | None = None,
    batch_sizes: Sequence[int] | None = None,
    n_draws: int = 300,
    seed: int | None = None,
) -> GradientNoiseExplorer:
    """Build the explorer from per-example gradients (or from their already computed
    2-D projection ``coords`` and :class:`~hpcourse.noise_scale.NoiseScale`, to save time).

    In a notebook cell, ``gradient_noise_explorer(grads)`` as the last line shows it;
    from Python, ``w.controls["batch_size"].value = 32`` redraws and ``w.state["batch_size"]``
    is then 32. ``seed`` (default: the course's seed) draws the minibatches of the cloud.
    """
    if per_example_grads is None and (coords is None or scale is None):
        raise ValueError(
            "per_example_grads=None is not allowed without both coords and scale: give the "
            "per-example gradients, or their projection and noise scale."
        )
    if coords is None:
        coords = project_gradients(per_example_grads, seed=seed)
    if scale is None:
        scale = noise_scale(per_example_grads)
    n = len(coords)
    sizes = list(batch_sizes) if batch_sizes is not None else _default_batch_sizes(n)
    if not sizes:
        raise ValueError("batch_sizes=[] is not allowed: give at least one batch size.")
    for b in sizes:
        check_number("batch_size", b, low=1, high=n, integer=True)
    check_number("n_draws", n_draws, low=2, integer=True)
    seed = resolve_seed(seed)
    return GradientNoiseExplorer(coords, scale, sorted(set(sizes)), n_draws=n_draws, seed=seed)


__all__ = ["GradientNoiseExplorer", "gradient_noise_explorer"]
