"""Which hyperparameters mattered in a sweep: each one's share of the variance of the result.

A rule of thumb ranks hyperparameters by how much they usually matter (learning rate
first; then momentum, hidden units and batch size; then depth and learning-rate decay;
Adam's betas and epsilon rarely). Our own sweeps can check it. For each hyperparameter we
ask: if we only knew *its* value, how much of the spread of the results could we
predict? That is the *main effect* of functional ANOVA (fANOVA, Hutter et al. 2014), here
estimated the simple way:

1. rank the trials by the metric (a diverged run gets the worst rank, so one ``inf``
   cannot swamp the variance);
2. cut the hyperparameter's values into a few equal-count bins on its own scale (log for
   a learning rate; each option of a choice is a bin of its own);
3. share = the part of the variance of the ranks explained by the bin means, minus what
   chance alone gives with that many bins (the adjusted ``epsilon^2`` of ANOVA), at least 0.

The shares do not add up to 1: the rest is interactions (momentum and learning rate act
together, through ``lr / (1 - momentum)``) and noise. With a few dozen trials each share
is rough, within about 0.1; the ranking of a clear winner is what to read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hpcourse.space import Choice, Dimension, SearchSpace
from hpcourse.validation import check_number

#: The usual ranking (1 = matters most) as the course states it (lesson 05): learning rate;
#: then momentum, hidden units, batch size; then depth and learning-rate decay; Adam's betas
#: and epsilon last. It does not rank weight decay or dropout, so neither do we.
RULE_OF_THUMB: dict[str, int] = {
    "lr": 1,
    "momentum": 2,
    "width": 2,
    "batch_size": 2,
    "depth": 3,
    "schedule": 3,
    "betas": 4,
    "eps": 4,
}


def metric_ranks(values: Sequence[float] | pd.Series, minimize: bool = True) -> np.ndarray:
    """Ranks of a metric, 1 = best; NaN and infinite values (diverged runs) share the worst.

    >>> metric_ranks([0.5, float("inf"), 0.2, float("nan")]).tolist()
    [2.0, 3.5, 1.0, 3.5]
    """
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    v = np.where(bad, np.inf, v if minimize else -v)
    return pd.Series(v).rank(method="average").to_numpy()


def _groups(values: Sequence[object], dim: Dimension, bins: int) -> np.ndarray:
    if isinstance(dim, Choice):
        return np.array([dim.options.index(v) for v in values])
    unit = np.asarray(dim.to_unit(list(values)), dtype=float)
    order = np.argsort(np.argsort(unit, kind="stable"), kind="stable")
    return (order * bins) // len(unit)  # equal-count bins along the hyperparameter's scale


def main_effect_shares(
    trials: pd.DataFrame,
    space: SearchSpace | Mapping[str, Dimension],
    *,
    metric: str = "final_val_loss",
    minimize: bool = True,
    bins: int = 4,
) -> pd.DataFrame:
    """Each hyperparameter's share of the variance of the (ranked) metric, largest first.

    Columns: ``hyperparameter``, ``share`` (adjusted for chance, >= 0), ``raw`` (the plain
    between-bin share, ``eta^2``), ``groups`` (bins or options), ``rule_of_thumb`` (the usual
    rank, NaN if the rule says nothing about it).
    """
    check_number("bins", bins, low=2, integer=True)
    if metric not in trials:
        raise ValueError(f"metric={metric!r} is not allowed: trials has no such column.")
    space = space if isinstance(space, SearchSpace) else SearchSpace(space)
    missing = [name for name in space if name not in trials]
    if missing:
        raise ValueError(f"trials is not allowed: it has no column {missing[0]!r}.")
    if "status" in trials:
        trials = trials[trials["status"] == "ok"]
    n = len(trials)
    if n < 2 * bins:
        raise ValueError(f"trials with {n} rows is not allowed: give at least {2 * bins}.")
    y = metric_ranks(trials[metric], minimize)
    total = float(((y - y.mean()) ** 2).sum())
    rows = []
    for name, dim in space.items():
        groups = _groups(trials[name].tolist(), dim, bins)
        labels = np.unique(groups)
        between = sum((groups == g).sum() * (y[groups == g].mean() - y.mean()) ** 2 for g in labels)
        k = len(labels)
        within = (total - between) / max(n - k, 1)
        share = max(0.0, (between - (k - 1) * within) / total) if total > 0 else 0.0
        rows.append(
            {
                "hyperparameter": name,
                "share": share,
                "raw": between / total if total > 0 else 0.0,
                "groups": k,
                "rule_of_thumb": RULE_OF_THUMB.get(name, np.nan),
            }
        )
    table = pd.DataFrame(rows).sort_values("share", ascending=False, kind="stable")
    return table.reset_index(drop=True)


__all__ = ["RULE_OF_THUMB", "main_effect_shares", "metric_ranks"]
