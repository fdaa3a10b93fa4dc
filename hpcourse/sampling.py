"""Sampling on the right scale (lesson 04): where samples land, and what it costs a sweep.

The samplers themselves live in :mod:`hpcourse.space` (``Float(low, high, scale)``); this
module measures what they do, so the lesson can show it with numbers instead of words:

* :func:`decade_shares`: the share of samples in each decade (order of magnitude) of a
  range. A learning rate acts by its order of magnitude, so this is the table that shows
  a uniform sampler spending ~90% of its samples in the top decade of ``[1e-4, 1]``;
* :func:`uniform_share` and :func:`log_uniform_share`: the exact shares of an interval
  under the two scales (what the sampled shares should approach);
* :func:`averaging_window` and :func:`window_table`: a momentum or EMA factor ``beta``
  averages about ``1 / (1 - beta)`` steps, which is why ``beta`` lives on a
  one-minus-log scale;
* :func:`scale_gap`: how different a linear and a log scale really are on a range: tiny
  for hidden units between 50 and 100, huge for learning rates between 1e-4 and 1;
* :func:`sweep_trials`, :func:`run_lr_sweeps`, :func:`compare_sweeps`: the same random
  numbers mapped onto an lr range by two scales, trained for real, and compared repeat by
  repeat.

No plotting here (``hpcourse.plots.sampling`` draws these tables).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.seeding import resolve_seed
from hpcourse.space import Float
from hpcourse.validation import check_choice, check_number

#: How the lesson names each scale of :class:`hpcourse.space.Float`.
LABELS = {"linear": "uniform", "log": "log-uniform", "one_minus_log": "one-minus-log"}


def _check_positive_range(low: float, high: float) -> None:
    check_number("low", low, low=0, low_open=True)
    check_number("high", high, low=0, low_open=True)
    if not low < high:
        raise ValueError(f"low={low!r} is not allowed: low must be < high ({high!r}).")


def _check_interval(low: float, high: float) -> None:
    check_number("low", low)
    check_number("high", high)
    if not low < high:
        raise ValueError(f"low={low!r} is not allowed: low must be < high ({high!r}).")


# --------------------------------------------------------------------------- shares


def decade_edges(low: float, high: float) -> np.ndarray:
    """The edges of the decades that cover ``[low, high]``: ``low``, the powers of ten
    strictly between, and ``high``.

    >>> decade_edges(1e-4, 1.0).tolist()
    [0.0001, 0.001, 0.01, 0.1, 1.0]
    >>> decade_edges(0.003, 0.3).tolist()
    [0.003, 0.01, 0.1, 0.3]
    """
    _check_positive_range(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    inner = [10.0**k for k in range(first, last + 1) if low < 10.0**k < high]
    return np.array([low, *inner, high], dtype=float)


def share_between(values: Any, a: float, b: float) -> float:
    """The fraction of ``values`` in the closed interval ``[a, b]``.

    >>> share_between([0.05, 0.2, 0.5, 1.0], 0.1, 1.0)
    0.75
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError("values=[] is not allowed: give at least one value.")
    _check_interval(a, b)
    return float(((v >= a) & (v <= b)).mean())


def decade_shares(
    samples: Mapping[str, Any], low: float, high: float, *, n_expected: bool = True
) -> pd.DataFrame:
    """One row per decade of ``[low, high]``: its bounds, then the share of each named
    sample that fell in it (and, with ``n_expected``, the exact share of each scale).

    ``samples`` maps a name (e.g. ``"linear"``, ``"log"``) to an array of values. The
    columns ``exact_linear`` and ``exact_log`` are what the shares approach as the number
    of samples grows, so the table shows at a glance whether a sampler does its job.
    """
    edges = decade_edges(low, high)
    rows = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        row: dict[str, Any] = {"decade": f"[{a:g}, {b:g})", "low": a, "high": b}
        for name, values in samples.items():
            v = np.asarray(values, dtype=float)
            top = v == high  # the top edge belongs to the last decade
            row[name] = float((((v >= a) & (v < b)) | (top & (b == high))).mean())
        if n_expected:
            row["exact_linear"] = uniform_share(low, high, a, b)
            row["exact_log"] = log_uniform_share(low, high, a, b)
        rows.append(row)
    return pd.DataFrame(rows)


def uniform_share(low: float, high: float, a: float, b: float) -> float:
    """The exact share of a uniform distribution on ``[low, high]`` that lies in ``[a, b]``.

    Length of the overlap over length of the range: the top decade of ``[1e-4, 1]`` is
    90% of its length, hence 90% of uniform samples.

    >>> round(uniform_share(1e-4, 1.0, 0.1, 1.0), 4)
    0.9001
    >>> uniform_share(0, 10, -5, 5), uniform_share(0, 10, 20, 30)
    (0.5, 0.0)
    """
    _check_interval(low, high)
    _check_interval(a, b)
    overlap = max(0.0, min(b, high) - max(a, low))
    return overlap / (high - low)


def log_uniform_share(low: float, high: float, a: float, b: float) -> float:
    """The exact share of a log-uniform distribution on ``[low, high]`` that lies in
    ``[a, b]``: the overlap measured in logarithms. Every decade inside the range gets
    ``1 / (number of decades)``.

    >>> log_uniform_share(1e-4, 1.0, 0.1, 1.0)
    0.25
    """
    _check_positive_range(low, high)
    _check_interval(a, b)
    a, b = max(a, low), min(b, high)
    if a >= b:
        return 0.0
    return math.log(b / a) / math.log(high / low)


# --------------------------------------------------------------------------- beta


def averaging_window(beta: Any) -> Any:
    """How many recent steps an exponential average with factor ``beta`` effectively
    averages: ``1 / (1 - beta)`` (its weights ``(1 - beta) beta**k`` sum to 1 and have
    this mean length, up to one step). Works on a number or an array.

    >>> round(averaging_window(0.9), 6), round(averaging_window(0.99), 6)
    (10.0, 100.0)
    """
    b = np.asarray(beta, dtype=float)
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any((b < 0) | (b >= 1)):
        raise ValueError(f"beta={beta!r} is not allowed: beta must be in [0, 1).")
    window = 1.0 / (1.0 - b)
    return float(window) if window.ndim == 0 else window


def window_table(betas: Sequence[float], nudge: float = 0.0005) -> pd.DataFrame:
    """For each ``beta``: its averaging window, and the window after adding ``nudge``.

    The last column, the factor by which the nudge changes the window, is the point of the
    table: the same small step in ``beta`` does almost nothing at 0.9 and doubles the
    window at 0.999. That is what "very sensitive near 1" means in numbers.
    """
    check_number("nudge", nudge, low=0, low_open=True, high=1, high_open=True)
    rows = []
    for beta in betas:
        check_number("beta", beta, low=0, high=1, high_open=True)
        if beta + nudge >= 1:
            raise ValueError(
                f"beta={beta!r} is not allowed with nudge={nudge!r}: beta + nudge must be < 1."
            )
        before, after = averaging_window(beta), averaging_window(beta + nudge)
        rows.append(
            {
                "beta": beta,
                "window": before,
                f"window at beta + {nudge:g}": after,
                "window grows by": after / before,
            }
        )
    return pd.DataFrame(rows)


def momentum_table(histories: Sequence[Any]) -> pd.DataFrame:
    """One row per momentum run: beta, its averaging window, the effective step size
    ``lr / (1 - beta)`` (how far SGD with momentum moves per unit gradient once the
    velocity has built up), and the run's best validation loss and the accuracy there."""
    rows = []
    for h in histories:
        beta, lr = h.config.momentum, h.config.lr
        rows.append(
            {
                "momentum": beta,
                "window": averaging_window(beta),
                "effective_lr": lr / (1 - beta),
                "best_val_loss": h.best_val_loss,
                "best_val_acc": h.best_val_acc,
                "diverged": h.diverged,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- scales compared


def scale_gap(low: float, high: float) -> float:
    """The largest difference between the cumulative distributions of a uniform and a
    log-uniform sample on ``[low, high]`` (their Kolmogorov distance), in closed form.

    It depends only on ``high / low``: about 0.09 for hidden units in ``[50, 100]`` (a
    factor of 2: either scale is fine), 0.65 for learning rates in ``[1e-4, 1]`` (four
    decades: at 0.11, the uniform distribution has put 11% of its samples below, the
    log-uniform one 76%).

    >>> round(scale_gap(50, 100), 3), round(scale_gap(1e-4, 1.0), 3)
    (0.086, 0.65)
    """
    _check_positive_range(low, high)
    log_ratio = math.log(high / low)
    x = (high - low) / log_ratio  # where the two densities are equal
    return math.log(x / low) / log_ratio - (x - low) / (high - low)


def ks_distance(a: Any, b: Any) -> float:
    """The two-sample Kolmogorov-Smirnov distance: the largest gap between the empirical
    cumulative distributions of ``a`` and ``b`` (0 = same sample, 1 = no overlap)."""
    x, y = np.sort(np.asarray(a, dtype=float).ravel()), np.sort(np.asarray(b, dtype=float).ravel())
    if x.size == 0 or y.size == 0:
        raise ValueError("a and b must each hold at least one value.")
    grid = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, grid, side="right") / x.size
    cdf_y = np.searchsorted(y, grid, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))


# --------------------------------------------------------------------------- the lr sweep


def sweep_trials(
    n_trials: int,
    repeats: int,
    *,
    low: float = 1e-4,
    high: float = 1.0,
    scales: Sequence[str] = ("linear", "log"),
    seed: int | None = None,
) -> pd.DataFrame:
    """The learning rates of ``repeats`` sweeps of ``n_trials`` each, on every scale.

    Within one repeat every scale maps *the same* ``n_trials`` random numbers in [0, 1]
    onto the range (via :meth:`hpcourse.space.Float.sample` with identically seeded
    generators), and the trials share one training seed, so the sweeps of a repeat differ
    only in the scale. ``seed`` (default: the course seed) seeds repeat ``k`` with
    ``(seed, k)`` and its training runs with ``seed + k``.

    Columns: ``scale``, ``repeat``, ``trial``, ``lr``, ``seed``.
    """
    check_number("n_trials", n_trials, low=1, integer=True)
    check_number("repeats", repeats, low=1, integer=True)
    if not scales:
        raise ValueError("scales=() is not allowed: give at least one scale.")
    for scale in scales:
        check_choice("scales item", scale, ("linear", "log"))
    base = resolve_seed(seed)
    rows = []
    for repeat in range(repeats):
        for scale in scales:
            lrs = Float(low, high, scale).sample(n_trials, np.random.default_rng([base, repeat]))
            for trial, lr in enumerate(lrs):
                rows.append(
                    {
                        "scale": scale,
                        "repeat": repeat,
                        "trial": trial,
                        "lr": float(lr),
                        "seed": base + repeat,
                    }
                )
    return pd.DataFrame(rows)


def run_lr_sweeps(
    trials: pd.DataFrame,
    data: Any,
    base: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[Any]]:
    """Train every trial of :func:`sweep_trials` (``base`` config plus its ``lr`` and
    ``seed``) with :func:`hpcourse.training.train_many`, which runs configs of one
    architecture as populations, so a hundred short runs take seconds.

    Returns the trial table with each run's ``best_val_loss`` (the validation loss at its
    best epoch, what early stopping with ``restore_best`` keeps), ``best_val_acc`` and
    ``diverged``, and the Histories in the same order.
    """
    from hpcourse.training import train_many

    missing = [c for c in ("scale", "repeat", "lr", "seed") if c not in trials.columns]
    if missing:
        raise ValueError(
            f"trials is missing column(s) {missing}: build it with hpcourse.sampling.sweep_trials."
        )
    settings = dict(base or {})
    for key in ("lr", "seed"):
        if key in settings:
            raise ValueError(
                f"base[{key!r}]={settings[key]!r} is not allowed: each trial sets its own {key}."
            )
    configs = [
        {**settings, "lr": lr, "seed": int(s)}
        for lr, s in zip(trials["lr"], trials["seed"], strict=True)
    ]
    histories = train_many(configs, data, progress=progress, desc="lr sweeps")
    table = trials.copy()
    table["best_val_loss"] = [h.best_val_loss for h in histories]
    table["best_val_acc"] = [h.best_val_acc for h in histories]
    table["diverged"] = [h.diverged for h in histories]
    return table, histories


def compare_sweeps(results: pd.DataFrame, *, threshold: float = 0.1) -> pd.DataFrame:
    """One row per repeat: for each scale, the best validation loss of its sweep and the
    lr that reached it, and the share of its trials above ``threshold``; then whether the
    uniform sweep's best was no better (``uniform_no_better``: loss >= the log-uniform
    sweep's) or strictly worse (``uniform_worse``).

    With continuous random learning rates two sweeps essentially never tie, so a tie
    means the two scales drew the same learning rates: a broken sampler.
    """
    needed = ("scale", "repeat", "lr", "best_val_loss")
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise ValueError(
            f"results is missing column(s) {missing}: build it with hpcourse.sampling."
            "run_lr_sweeps."
        )
    check_number("threshold", threshold, low=0, low_open=True)
    scales = set(results["scale"])
    if not {"linear", "log"} <= scales:
        raise ValueError(
            f"results has scales {sorted(scales)}, which is not allowed: compare_sweeps needs "
            "both 'linear' and 'log'."
        )
    rows = []
    for repeat, group in results.groupby("repeat", sort=True):
        row: dict[str, Any] = {"repeat": int(repeat)}
        for scale in ("linear", "log"):
            sweep = group[group["scale"] == scale]
            best = sweep.loc[sweep["best_val_loss"].idxmin()]
            name = LABELS[scale].replace("-", "_")
            row[f"{name}_best_loss"] = float(best["best_val_loss"])
            row[f"{name}_best_lr"] = float(best["lr"])
            row[f"{name}_above_{threshold:g}"] = float((sweep["lr"] > threshold).mean())
        row["uniform_no_better"] = row["uniform_best_loss"] >= row["log_uniform_best_loss"]
        row["uniform_worse"] = row["uniform_best_loss"] > row["log_uniform_best_loss"]
        rows.append(row)
    return pd.DataFrame(rows)


def fit_best_lr(results: pd.DataFrame, *, scale: str = "log", width: float = 1.0) -> dict[str, Any]:
    """Locate the best learning rate from a sweep's trials, between the sampled values.

    Takes the trials of ``scale`` within ``width`` decades of the best trial, fits a
    parabola to their best validation loss against ``log10(lr)``, and returns its lowest
    point: ``lr`` (NaN when the parabola does not open upwards, i.e. there is no minimum
    to read), the ``coefficients`` (highest power first), the number of trials used
    ``n`` and the range of lr they span (``low``, ``high``).

    Why a fit: the single best trial of a random sweep jumps around with the draw (it can
    only be one of the sampled values), while a curve through all nearby trials averages
    their noise. A log-uniform sweep has trials on both sides of the optimum to fit;
    a uniform one has almost none below 0.1.
    """
    needed = ("scale", "lr", "best_val_loss")
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise ValueError(
            f"results is missing column(s) {missing}: build it with hpcourse.sampling."
            "run_lr_sweeps."
        )
    check_number("width", width, low=0, low_open=True)
    trials = results[(results["scale"] == scale) & np.isfinite(results["best_val_loss"])]
    if trials.empty:
        raise ValueError(f"scale={scale!r} is not allowed: results has no finite trial of it.")
    best = float(trials.loc[trials["best_val_loss"].idxmin(), "lr"])
    log_lr = np.log10(trials["lr"].to_numpy(dtype=float))
    near = np.abs(log_lr - math.log10(best)) <= width
    x, y = log_lr[near], trials["best_val_loss"].to_numpy(dtype=float)[near]
    coefficients = np.polyfit(x, y, 2) if near.sum() >= 3 else np.array([0.0, 0.0, np.nan])
    curvature = float(coefficients[0])
    opens_upwards = curvature > 1e-9  # not merely rounding noise on flat losses
    lr = 10 ** (-coefficients[1] / (2 * curvature)) if opens_upwards else math.nan
    return {
        "lr": float(lr),
        "coefficients": coefficients,
        "n": int(near.sum()),
        "low": float(10 ** x.min()),
        "high": float(10 ** x.max()),
        "best_trial_lr": best,
    }


__all__ = [
    "LABELS",
    "averaging_window",
    "compare_sweeps",
    "decade_edges",
    "decade_shares",
    "fit_best_lr",
    "ks_distance",
    "log_uniform_share",
    "momentum_table",
    "run_lr_sweeps",
    "scale_gap",
    "share_between",
    "sweep_trials",
    "uniform_share",
    "window_table",
]
