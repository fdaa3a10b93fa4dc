"""Gradient descent on a quadratic bowl: the one place where the best learning rate has a formula.

The bowl is ``f(w) = 1/2 * sum_i L_i * w_i**2``. Each ``L_i`` is a *curvature*: how
steeply the loss rises along axis ``i``. Its gradient is ``L_i * w_i``, so one step of
gradient descent with learning rate ``lr`` does, independently on every axis,

    w_i  <-  w_i - lr * L_i * w_i  =  (1 - lr * L_i) * w_i.

Everything follows from that multiplier ``r_i = 1 - lr * L_i``:

* ``0 < r_i < 1`` (``lr < 1/L_i``): the coordinate shrinks smoothly toward 0;
  with a tiny ``lr`` it shrinks so slowly that training *crawls*.
* ``-1 < r_i < 0`` (``1/L_i < lr < 2/L_i``): it overshoots and flips sign every step
  (a *zig-zag*) but still shrinks.
* ``|r_i| > 1`` (``lr > 2/L_i``): every step overshoots by more than it corrects, and the
  coordinate grows geometrically: gradient descent *diverges*.

So gradient descent is stable only when ``lr < 2 / L_max``: the steepest direction sets the
limit for all of them, and the flattest direction then sets how slowly the rest converges.

With heavy-ball momentum ``beta`` (PyTorch's ``SGD(momentum=beta)``) a coordinate follows
``v <- beta v + L w;  w <- w - lr v``, and the limit becomes ``lr < 2 (1 + beta) / L_max``:
momentum *raises* the largest stable lr (to 3.8 / L_max for beta = 0.9), because the
velocity of a coordinate that flips sign every step partly cancels itself.
A neural network's loss is not a bowl, but near a minimum it looks like one, with ``L_max``
the largest eigenvalue of the Hessian, which is why too-large learning rates blow up.

>>> stability_threshold((1.0, 10.0))
0.2
>>> run_bowl(0.21, steps=100).diverged, run_bowl(0.19, steps=100).diverged
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hpcourse.validation import check_number

DEFAULT_CURVATURES = (1.0, 10.0)
DEFAULT_START = (-3.0, 1.0)
REGIMES = ("crawl", "smooth", "zig-zag", "diverge")


Curvatures = Sequence[float] | np.ndarray


def _check_curvatures(curvatures: Curvatures) -> np.ndarray:
    if isinstance(curvatures, (str, bytes)) or not isinstance(curvatures, (Sequence, np.ndarray)):
        raise ValueError(
            f"curvatures={curvatures!r} is not allowed: curvatures must be a sequence of "
            "positive numbers, e.g. (1.0, 10.0)."
        )
    if len(curvatures) == 0:
        raise ValueError("curvatures=() is not allowed: give at least one curvature.")
    for i, value in enumerate(curvatures):
        check_number(f"curvatures[{i}]", value, low=0, low_open=True)
    return np.asarray(curvatures, dtype=float)


def bowl_loss(w: np.ndarray, curvatures: Curvatures = DEFAULT_CURVATURES) -> np.ndarray:
    """``1/2 * sum_i L_i * w_i**2`` over the last axis of ``w`` (so it works on a grid too).

    >>> float(bowl_loss(np.array([1.0, 1.0]), (1.0, 10.0)))
    5.5
    """
    L = _check_curvatures(curvatures)
    w = np.asarray(w, dtype=float)
    return 0.5 * np.sum(L * w**2, axis=-1)


def stability_threshold(
    curvatures: Sequence[float] = DEFAULT_CURVATURES, momentum: float = 0.0
) -> float:
    """The largest stable learning rate, ``2 (1 + momentum) / L_max``: above it, gradient
    descent diverges (``2 / L_max`` without momentum).

    >>> stability_threshold((0.5, 2.0, 8.0))
    0.25
    >>> round(stability_threshold((1.0, 10.0), momentum=0.9), 12)
    0.38
    """
    check_number("momentum", momentum, low=0, high=1, high_open=True)
    return float(2.0 * (1.0 + momentum) / _check_curvatures(curvatures).max())


def contraction_factors(lr: float, curvatures: Sequence[float] = DEFAULT_CURVATURES) -> np.ndarray:
    """``|1 - lr * L_i|`` per axis: how much one step scales each coordinate (> 1 = grows).

    >>> contraction_factors(0.15, (1.0, 10.0)).round(2).tolist()
    [0.85, 0.5]
    """
    check_number("lr", lr, low=0, low_open=True)
    return np.abs(1.0 - lr * _check_curvatures(curvatures))


@dataclass
class BowlRun:
    """One run of gradient descent on the bowl: the data to plot and to check claims on.

    ``path[k]`` is the point after ``k`` steps (``path[0]`` is the start) and ``losses[k]``
    its loss. A run that blows up is cut short, so ``path`` may hold fewer than
    ``steps + 1`` points. ``diverged`` means the loss ended *higher* than it started.
    """

    lr: float
    curvatures: np.ndarray
    path: np.ndarray
    losses: np.ndarray
    diverged: bool

    @property
    def threshold(self) -> float:
        """``2 / L_max`` for this bowl."""
        return float(2.0 / self.curvatures.max())

    @property
    def steps(self) -> int:
        """Number of steps actually taken (fewer than asked if the run blew up)."""
        return len(self.losses) - 1

    @property
    def regime(self) -> str:
        """``"diverge"``, ``"zig-zag"``, ``"crawl"`` or ``"smooth"``.

        ``diverge`` and ``zig-zag`` come from the measured run (loss went up; the steep
        coordinate changed sign between steps). ``crawl`` means the loss lost less than
        half its starting value in the steps taken; anything else converged ``smooth``-ly.
        """
        if self.diverged:
            return "diverge"
        steep = self.path[:, int(np.argmax(self.curvatures))]
        if len(steep) > 2 and np.any(steep[1:] * steep[:-1] < 0):
            return "zig-zag"
        if self.losses[-1] > 0.5 * self.losses[0]:
            return "crawl"
        return "smooth"


def run_bowl(
    lr: float,
    *,
    curvatures: Sequence[float] = DEFAULT_CURVATURES,
    start: Sequence[float] = DEFAULT_START,
    steps: int = 30,
    blowup: float = 1e6,
) -> BowlRun:
    """Run ``steps`` steps of plain gradient descent on the bowl, from ``start``.

    Args:
        lr: the learning rate (> 0).
        curvatures: ``L_i`` per axis; ``(1, 10)`` makes a long, narrow valley, where the
            steep axis limits the learning rate and the flat axis sets the speed.
        start: the starting point (same length as ``curvatures``, not the minimum).
        steps: how many steps to take.
        blowup: stop early once the loss exceeds ``blowup`` times its starting value
            (the run has clearly diverged and the numbers would only overflow).

    Deterministic: there is no noise on a bowl, so no seed is needed.

    >>> run = run_bowl(0.05, steps=10)
    >>> run.path.shape, run.regime
    ((11, 2), 'smooth')
    """
    check_number("lr", lr, low=0, low_open=True)
    L = _check_curvatures(curvatures)
    check_number("steps", steps, low=1, high=100_000, integer=True)
    check_number("blowup", blowup, low=1, low_open=True)
    w = np.asarray(start, dtype=float)
    if w.shape != L.shape:
        raise ValueError(
            f"start={tuple(start)!r} is not allowed: start must have one value per curvature "
            f"({len(L)} values)."
        )
    if not np.all(np.isfinite(w)) or not np.any(w != 0):
        raise ValueError(
            f"start={tuple(start)!r} is not allowed: start must be finite and not the minimum 0."
        )
    path = [w.copy()]
    losses = [float(bowl_loss(w, L))]
    for _ in range(steps):
        w = w - lr * L * w  # the gradient of 1/2 L w^2 is L w
        path.append(w.copy())
        losses.append(float(bowl_loss(w, L)))
        if losses[-1] > blowup * losses[0]:
            break
    losses_arr = np.asarray(losses)
    return BowlRun(
        lr=float(lr),
        curvatures=L,
        path=np.asarray(path),
        losses=losses_arr,
        diverged=bool(losses_arr[-1] > losses_arr[0]),
    )


def run_bowl_torch(
    lr: float,
    *,
    curvatures: Sequence[float] = DEFAULT_CURVATURES,
    start: Sequence[float] = DEFAULT_START,
    steps: int = 30,
    momentum: float = 0.0,
    blowup: float = 1e6,
) -> BowlRun:
    """The same run as :func:`run_bowl`, but stepped by the optimizer every training run of
    the course uses (:func:`hpcourse.runs.make_optimizer`: PyTorch's SGD, with ``momentum``
    when it is > 0), on a tensor of weights whose loss is the bowl.

    Why a second runner: :func:`run_bowl` *is* the formula, so checking it against
    ``2 / L_max`` proves nothing about real code. Here the formula's prediction meets the
    optimizer that trains the networks: an lr applied wrongly, or momentum silently
    dropped, shows up as a run that diverges where the theory says it converges.

    >>> run_bowl_torch(0.19, steps=100).diverged, run_bowl_torch(0.21, steps=100).diverged
    (False, True)
    >>> run_bowl_torch(0.36, momentum=0.9, steps=300).diverged  # below 2 (1 + 0.9) / 10
    False
    """
    import torch

    from hpcourse.config import TrainConfig
    from hpcourse.runs import make_optimizer

    check_number("lr", lr, low=0, low_open=True)
    L = _check_curvatures(curvatures)
    check_number("steps", steps, low=1, high=100_000, integer=True)
    check_number("momentum", momentum, low=0, high=1, high_open=True)
    check_number("blowup", blowup, low=1, low_open=True)
    start_arr = np.asarray(start, dtype=float)
    if start_arr.shape != L.shape or not np.all(np.isfinite(start_arr)) or not start_arr.any():
        raise ValueError(
            f"start={tuple(start)!r} is not allowed: start must have one finite value per "
            f"curvature ({len(L)} values) and not be the minimum 0."
        )
    config = TrainConfig(
        lr=float(lr),
        optimizer="momentum" if momentum > 0 else "sgd",
        momentum=float(momentum) if momentum > 0 else 0.9,
    )
    curv = torch.tensor(L, dtype=torch.float64)
    w = torch.nn.Parameter(torch.tensor(start_arr, dtype=torch.float64))
    optimizer = make_optimizer(config, [w])
    path = [start_arr.copy()]
    losses = [float(bowl_loss(start_arr, L))]
    for _ in range(steps):
        loss = 0.5 * (curv * w**2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        point = w.detach().numpy().copy()
        path.append(point)
        losses.append(float(bowl_loss(point, L)))
        if not losses[-1] <= blowup * losses[0]:  # also stops on NaN
            break
    losses_arr = np.asarray(losses)
    return BowlRun(
        lr=float(lr),
        curvatures=L,
        path=np.asarray(path),
        losses=losses_arr,
        diverged=bool(not losses_arr[-1] <= losses_arr[0]),
    )


def regime_lrs(curvatures: Sequence[float] = DEFAULT_CURVATURES) -> dict[str, float]:
    """One example learning rate per regime, placed relative to ``L_max``.

    Handy for presets: crawl at ``0.01/L_max``, smooth at ``0.5/L_max``, zig-zag at
    ``1.5/L_max`` and diverge at ``2.1/L_max`` (just past the threshold ``2/L_max``).

    >>> regime_lrs((1.0, 10.0))
    {'crawl': 0.001, 'smooth': 0.05, 'zig-zag': 0.15, 'diverge': 0.21}
    """
    L_max = float(_check_curvatures(curvatures).max())
    return {
        name: round(mult / L_max, 12)
        for name, mult in zip(REGIMES, (0.01, 0.5, 1.5, 2.1), strict=True)
    }
