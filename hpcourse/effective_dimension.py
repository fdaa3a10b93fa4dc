"""Effective dimensionality: why random search beats a grid when few hyperparameters matter.

Bergstra & Bengio (2012) noticed that on most problems only one or two hyperparameters
change the result much, and which ones differ from one dataset to the next. A grid
spends its budget badly on such a problem: a 3 x 3 grid runs 9 trials but tries only 3
values of the hyperparameter that matters, each one three times (once per value of the
one that does not). Nine random trials try 9 different values of *every* hyperparameter,
so whichever one matters, it was explored 9 times.

This module gives lesson 05 a problem with a known answer: a :class:`Landscape` on the
unit square (or cube) whose loss is a sum of one bump per axis, each axis weighted by how
much it matters, with the best point placed at random. On it we count distinct values
(:func:`distinct_values`), measure how often random search beats the grid over many
landscapes (:func:`grid_vs_random`, :func:`win_rates`), how evenly random and Sobol points
fill the space (:func:`spread_table`), and how often 60 random trials land in the best 5%
(:func:`top_fraction_hits`). :func:`real_grid_vs_random` repeats the comparison on real
training. Every proposal comes from :func:`hpcourse.search.propose`, so the lesson
measures the course's own search code, not a copy of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpcourse import search
from hpcourse.seeding import resolve_seed
from hpcourse.space import Dimension, Float, SearchSpace
from hpcourse.validation import check_choice, check_number

AXES = ("x", "y", "z", "w")

# Landscapes and lr ranges draw from their own streams of a repeat's seed, apart from
# the stream a search with that seed draws its trials from.
_LANDSCAPE_STREAM = 1
_RANGE_STREAM = 2


@dataclass(frozen=True)
class Landscape:
    """A synthetic loss on ``[0, 1]^d``: one bump per axis, weighted by how much it matters.

    ``loss(u) = sum_j weights[j] * (1 - exp(-(u_j - centre_j)^2 / (2 width^2)))``. It is 0 at
    ``centre`` and grows towards ``sum(weights)`` far from it. An axis with weight 0 does not
    matter at all; the ranking of trials then depends on the other axes only.

    >>> land = Landscape(weights=(1.0, 0.0), centre=(0.3, 0.8))
    >>> float(land.loss([[0.3, 0.0]])[0])
    0.0
    """

    weights: tuple[float, ...]
    centre: tuple[float, ...]
    width: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= len(self.weights) <= len(AXES):
            raise ValueError(
                f"weights={self.weights!r} is not allowed: give 1 to {len(AXES)} weights."
            )
        for w in self.weights:
            check_number("weights item", w, low=0)
        if sum(self.weights) <= 0:
            raise ValueError(
                f"weights={self.weights!r} is not allowed: at least one axis must matter (> 0)."
            )
        if len(self.centre) != len(self.weights):
            raise ValueError(
                f"centre={self.centre!r} is not allowed: it needs {len(self.weights)} "
                "coordinates, one per weight."
            )
        for c in self.centre:
            check_number("centre item", c, low=0, high=1)
        check_number("width", self.width, low=0, low_open=True)

    @property
    def dims(self) -> int:
        return len(self.weights)

    @property
    def names(self) -> tuple[str, ...]:
        return AXES[: self.dims]

    @classmethod
    def draw(
        cls, weights: Sequence[float], seed: int | None = None, width: float = 0.1
    ) -> Landscape:
        """A landscape with its best point anywhere in the unit square, drawn from ``seed``:
        the searcher does not know in advance where the good values are.

        The centre comes from its own stream of ``seed`` (not ``default_rng(seed)``), so a
        random search run with the same seed does not start on the answer."""
        gen = np.random.default_rng([resolve_seed(seed), _LANDSCAPE_STREAM])
        centre = tuple(float(c) for c in gen.uniform(0, 1, len(weights)))
        return cls(tuple(float(w) for w in weights), centre, width)

    def space(self) -> SearchSpace:
        """The search space of this landscape: one ``Float(0, 1)`` per axis."""
        return SearchSpace({name: Float(0.0, 1.0) for name in self.names})

    def loss(self, points: Any) -> np.ndarray:
        """The loss at each row of ``points`` (unit coordinates, shape ``(n, dims)``)."""
        u = np.atleast_2d(np.asarray(points, dtype=float))
        if u.shape[1] != self.dims:
            raise ValueError(
                f"points with {u.shape[1]} columns are not allowed: the landscape has "
                f"{self.dims} axes."
            )
        gap = (u - np.asarray(self.centre)) / self.width
        return (np.asarray(self.weights) * (1 - np.exp(-0.5 * gap**2))).sum(axis=1)

    def loss_of(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The loss of configurations (dicts with one value per axis name)."""
        return self.loss(self.space().to_unit(configs))

    def top_threshold(self, fraction: float = 0.05, resolution: int = 400) -> float:
        """The loss below which lies the best ``fraction`` of the space, measured on a fine
        even grid (``resolution`` points per axis in 2-D; fewer in more dimensions)."""
        check_number("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
        per_axis = max(20, int(resolution ** (2 / self.dims)))
        ticks = (np.arange(per_axis) + 0.5) / per_axis
        mesh = np.stack(np.meshgrid(*[ticks] * self.dims, indexing="ij"), axis=-1)
        return float(np.quantile(self.loss(mesh.reshape(-1, self.dims)), fraction))


def repeat_seeds(repeats: int, seed: int | None = None) -> list[int]:
    """``repeats`` seeds drawn from ``seed`` (default: the course seed), one per repeat.

    Drawn rather than counted (``seed + k``), so that the repeats of seed 0 and of seed 1
    share nothing: a claim that holds on both has been tested on independent repeats.
    """
    check_number("repeats", repeats, low=1, integer=True)
    gen = np.random.default_rng(resolve_seed(seed))
    return [int(s) for s in gen.integers(0, 2**31 - 1, repeats)]


def distinct_values(configs: Sequence[Mapping[str, Any]], name: str) -> int:
    """How many different values of hyperparameter ``name`` the configurations tried.

    >>> distinct_values([{"lr": 0.1, "wd": 0.0}, {"lr": 0.1, "wd": 0.1}], "lr")
    1
    """
    if not configs:
        raise ValueError("configs=[] is not allowed: give at least one configuration.")
    missing = [i for i, c in enumerate(configs) if name not in c]
    if missing:
        raise ValueError(
            f"name={name!r} is not allowed: configuration {missing[0]} has no such key."
        )
    return len({c[name] for c in configs})


def summarize_trials(
    landscape: Landscape, trials: Mapping[str, Sequence[Mapping[str, Any]]]
) -> pd.DataFrame:
    """One row per method: its number of trials, distinct values of each axis, best loss.

    ``trials`` maps a method name to its configurations (as :func:`search.propose` gives).
    """
    rows = []
    for method, configs in trials.items():
        row: dict[str, Any] = {"method": method, "trials": len(configs)}
        for name in landscape.names:
            row[f"values of {name}"] = distinct_values(configs, name)
        row["best loss"] = float(landscape.loss_of(configs).min())
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def grid_values_per_axis(n_trials: int, n_axes: int) -> int:
    """How many values of *each* hyperparameter a full grid of ``n_trials`` tries.

    A grid with ``k`` values per axis over ``d`` axes runs ``k ** d`` trials, so ``k`` is
    the ``d``-th root, which a float root only approximates (``64 ** (1/3)`` is
    3.9999999999999996, which ``int()`` would cut to 3): round, then check.

    >>> grid_values_per_axis(9, 2), grid_values_per_axis(64, 3)
    (3, 4)
    """
    check_number("n_trials", n_trials, low=1, integer=True)
    check_number("n_axes", n_axes, low=1, integer=True)
    k = round(n_trials ** (1 / n_axes))
    if k**n_axes != n_trials:
        raise ValueError(
            f"n_trials={n_trials!r} is not allowed: a full grid over {n_axes} axes has k ** "
            f"{n_axes} trials for a whole k (e.g. {k**n_axes} or {(k + 1) ** n_axes})."
        )
    return int(k)


def grid_vs_random(
    weights: Sequence[float] | Mapping[str, Sequence[float]],
    budgets: Sequence[int] = (9,),
    *,
    repeats: int = 400,
    methods: Sequence[str] = ("grid", "random"),
    width: float = 0.1,
    seed: int | None = None,
) -> pd.DataFrame:
    """Each method's best loss on ``repeats`` landscapes, at each budget of trials.

    Repeat ``r`` draws a landscape (its best point placed at random) and runs every method
    on it with the repeat's seed, so the methods meet on the same problem. ``weights`` is
    one landscape shape, or several by name (``{"y does not matter": (1, 0), ...}``: the
    same best points and trials, so the shapes differ only in how much each axis matters).
    Budgets must be ``k ** dims`` for a grid.

    One row per (landscape, repeat, budget, method): ``best_loss`` and ``distinct`` (how
    many values of the first, most important, axis it tried).
    """
    shapes = dict(weights) if isinstance(weights, Mapping) else {"": weights}
    if not shapes:
        raise ValueError("weights={} is not allowed: give at least one landscape shape.")
    dims = {len(w) for w in shapes.values()}
    if len(dims) != 1:
        raise ValueError(
            f"weights={weights!r} is not allowed: every shape needs the same number of axes."
        )
    for method in methods:
        check_choice("methods item", method, search.METHODS)
    if not budgets:
        raise ValueError("budgets=[] is not allowed: give at least one number of trials.")
    rows = []
    fixed: dict[int, list[dict[str, Any]]] = {}  # a grid does not depend on the seed
    for r, s in enumerate(repeat_seeds(repeats, seed)):
        lands = {name: Landscape.draw(w, s, width) for name, w in shapes.items()}
        space = next(iter(lands.values())).space()
        first = AXES[0]
        for n in budgets:
            for method in methods:
                if method == "grid":
                    configs = fixed.setdefault(n, search.propose(space, method, n))
                else:
                    configs = search.propose(space, method, n, seed=s)
                unit = space.to_unit(configs)
                distinct = distinct_values(configs, first)
                for name, land in lands.items():
                    rows.append(
                        {
                            "landscape": name,
                            "repeat": r,
                            "n_trials": n,
                            "method": method,
                            "best_loss": float(land.loss(unit).min()),
                            "distinct": distinct,
                        }
                    )
    table = pd.DataFrame(rows)
    return table if isinstance(weights, Mapping) else table.drop(columns="landscape")


def win_rates(
    table: pd.DataFrame, method: str = "random", against: str = "grid", metric: str = "best_loss"
) -> pd.DataFrame:
    """How often ``method`` found a strictly lower ``metric`` than ``against``, per budget
    (and per landscape shape, when the table has a ``landscape`` column).

    Columns: [``landscape``,] ``n_trials``, ``wins``, ``repeats``, ``win_rate`` and
    ``stderr`` (the binomial standard error of the rate, to judge whether two rates
    really differ).
    """
    for name in ("repeat", "n_trials", "method", metric):
        if name not in table:
            raise ValueError(f"table is not allowed: it has no {name!r} column.")
    keys = ["landscape", "n_trials"] if "landscape" in table else ["n_trials"]
    wide = table.pivot_table(index=[*keys, "repeat"], columns="method", values=metric)
    for name in (method, against):
        if name not in wide:
            raise ValueError(f"method {name!r} is not allowed: the table has no such method.")
    won = (wide[method] < wide[against]).groupby(level=keys, sort=False)
    out = pd.DataFrame({"wins": won.sum().astype(int), "repeats": won.size()})
    out["win_rate"] = out["wins"] / out["repeats"]
    out["stderr"] = np.sqrt(out["win_rate"] * (1 - out["win_rate"]) / out["repeats"])
    out = out.reset_index()
    if "landscape" in out:  # keep the shapes in the order given (pivoting sorted them)
        order = {name: i for i, name in enumerate(pd.unique(table["landscape"]))}
        out = out.sort_values(
            ["landscape", "n_trials"], key=lambda c: c.map(order) if c.name == "landscape" else c
        )
        out = out.reset_index(drop=True)
    return out


def spread_table(
    space: SearchSpace,
    n: int = 64,
    *,
    repeats: int = 200,
    methods: Sequence[str] = ("random", "sobol"),
    seed: int | None = None,
) -> pd.DataFrame:
    """The discrepancy (unevenness; lower is more even) of ``n`` points of each method,
    on ``repeats`` seeds. One row per (repeat, method)."""
    check_number("n", n, low=2, integer=True)
    for method in methods:
        check_choice("methods item", method, search.METHODS)
    rows = []
    for r, s in enumerate(repeat_seeds(repeats, seed)):
        for method in methods:
            configs = search.propose(space, method, n, seed=s)
            rows.append(
                {"repeat": r, "method": method, "discrepancy": search.discrepancy(space, configs)}
            )
    return pd.DataFrame(rows)


def top_fraction_hits(
    landscape: Landscape,
    *,
    n_max: int = 100,
    repeats: int = 2000,
    fraction: float = 0.05,
    seed: int | None = None,
) -> pd.DataFrame:
    """Simulated chance that at least one of ``n`` random trials lands in the best
    ``fraction`` of the space, for ``n = 1 .. n_max``, next to ``1 - (1 - fraction)**n``.

    Each repeat is one random search of ``n_max`` trials (its own seed) on the same
    landscape; its first ``n`` trials are the search of budget ``n``. Columns: ``n_trials``,
    ``simulated``, ``theory``, ``stderr``.
    """
    check_number("n_max", n_max, low=1, integer=True)
    threshold = landscape.top_threshold(fraction)
    space = landscape.space()
    first_hit = np.full(repeats, np.inf)
    for r, s in enumerate(repeat_seeds(repeats, seed)):
        inside = np.flatnonzero(
            landscape.loss_of(search.propose(space, "random", n_max, s)) <= threshold
        )
        if inside.size:
            first_hit[r] = inside[0] + 1  # trials are counted from 1
    n = np.arange(1, n_max + 1)
    simulated = (first_hit[None, :] <= n[:, None]).mean(axis=1)
    return pd.DataFrame(
        {
            "n_trials": n,
            "simulated": simulated,
            "theory": [search.chance_of_top_fraction(int(k), fraction) for k in n],
            "stderr": np.sqrt(simulated * (1 - simulated) / repeats),
        }
    )


# --------------------------------------------------------------------------- real training


def shifted_ranges(
    repeats: int,
    *,
    decades: float = 4.0,
    lowest: float = 1e-4,
    highest: float = 1000.0,
    seed: int | None = None,
) -> list[tuple[float, float]]:
    """``repeats`` log ranges of ``decades`` decades each, placed at random inside
    ``[lowest, highest]``: where a learner who does not know the good values yet might put
    the learning-rate range.

    The defaults (4 decades inside 1e-4 .. 1000) always contain 0.1 .. 1, where plain SGD
    on our data trains well, just as a landscape's best point always lies in its square:
    the comparison is about searching a space that holds the answer, not about a space
    that misses it (that is the edge warning's job, :func:`hpcourse.search.zoom`).

    >>> [(round(lo, 6), round(hi, 2)) for lo, hi in shifted_ranges(1, seed=0)]
    [(0.000786, 7.86)]
    """
    check_number("decades", decades, low=0, low_open=True)
    check_number("lowest", lowest, low=0, low_open=True)
    check_number("highest", highest, low=lowest * 10**decades)
    top = math.log10(highest) - decades
    out = []
    for s in repeat_seeds(repeats, seed):
        a = float(np.random.default_rng([s, _RANGE_STREAM]).uniform(math.log10(lowest), top))
        out.append((10**a, 10 ** (a + decades)))
    return out


def real_grid_vs_random(
    data: Any,
    base: Mapping[str, Any],
    knob: tuple[str, Dimension],
    *,
    n_trials: int = 9,
    repeats: int = 8,
    decades: float = 4.0,
    lowest: float = 1e-4,
    highest: float = 1000.0,
    seed: int | None = None,
) -> pd.DataFrame:
    """Grid and random search of ``lr`` x ``knob`` on real training, ``repeats`` times.

    Repeat ``r`` searches the learning rate over a range of ``decades`` placed at random
    (:func:`shifted_ranges`) and ``knob`` (name, dimension) over its range, once with a
    grid and once with random search (seeded by the repeat), ``n_trials`` each. All the
    runs train at once as populations (:class:`hpcourse.search.TrainObjective`). One row per
    run: ``repeat``, ``method``, ``lr_low``, ``lr_high``, the config and the run's metrics.
    """
    name, dimension = knob
    seeds = repeat_seeds(repeats, seed)
    ranges = shifted_ranges(repeats, decades=decades, lowest=lowest, highest=highest, seed=seed)
    meta, configs = [], []
    for r, (s, (low, high)) in enumerate(zip(seeds, ranges, strict=True)):
        space = SearchSpace({"lr": Float(low, high, "log"), name: dimension})
        for method in ("grid", "random"):
            for config in search.propose(space, method, n_trials, seed=s):
                meta.append({"repeat": r, "method": method, "lr_low": low, "lr_high": high})
                configs.append(config)
    metrics = search.TrainObjective(data, dict(base)).many(configs)
    rows = [{**m, **c, **x} for m, c, x in zip(meta, configs, metrics, strict=True)]
    return pd.DataFrame(rows)


def best_per_repeat(
    table: pd.DataFrame, metric: str = "final_val_loss", minimize: bool = True
) -> pd.DataFrame:
    """Each method's best ``metric`` per repeat (rows: repeats, columns: methods), with a
    diverged run's NaN counted as the worst possible value, next to the repeat's lr range
    (``lr_low``, ``lr_high``) when the table has it."""
    for name in ("repeat", "method", metric):
        if name not in table:
            raise ValueError(f"table is not allowed: it has no {name!r} column.")
    worst = np.inf if minimize else -np.inf
    values = table[metric].astype(float).fillna(worst)
    best = values.groupby([table["repeat"], table["method"]])
    wide = (best.min() if minimize else best.max()).unstack("method")
    wide.columns.name = None
    ranges = [c for c in ("lr_low", "lr_high") if c in table]
    if ranges:
        wide = table.groupby("repeat")[ranges].first().join(wide)
    return wide


def grid_spreads(
    table: pd.DataFrame, knob: str, metric: str = "final_val_loss"
) -> dict[str, float]:
    """How much each axis of the grids moved ``metric``: for ``"lr"``, the median over
    (repeat, knob value) of the range (max - min) of the metric across the grid's
    learning rates; for ``knob``, the median over (repeat, lr) of its range across the
    knob's values. A row where some runs diverged and others did not counts as an
    infinite range (a divergence is a large effect); one where all diverged, as 0 (they
    agree). Read: which axis of the grid changed the result, and by how much.
    """
    for name in ("repeat", "method", "lr", knob, metric):
        if name not in table:
            raise ValueError(f"table is not allowed: it has no {name!r} column.")
    grid = table[table["method"] == "grid"]
    if grid.empty:
        raise ValueError("table is not allowed: it has no grid runs (method == 'grid').")
    values = grid[metric].astype(float).fillna(np.inf)

    def spread(fixed: str) -> float:
        def one(v: pd.Series) -> float:
            finite = np.isfinite(v)
            if finite.all():
                return float(v.max() - v.min())
            return 0.0 if not finite.any() else np.inf  # all diverged: they agree

        ranges = values.groupby([grid["repeat"], grid[fixed]]).agg(one)
        return float(ranges.median())

    return {"lr": spread(knob), knob: spread("lr")}


def divergence_edge(table: pd.DataFrame) -> dict[str, float]:
    """Where training starts to diverge, as bracketed by a sweep's runs: the largest
    learning rate that trained and the smallest that diverged (``inf`` if none did).
    Many distinct learning rates (random search) give a tight bracket; a grid's few
    give a loose one."""
    for name in ("lr", "diverged"):
        if name not in table:
            raise ValueError(f"table is not allowed: it has no {name!r} column.")
    diverged = table["diverged"].astype(bool)
    trained = table.loc[~diverged, "lr"]
    gone = table.loc[diverged, "lr"]
    return {
        "largest_trained": float(trained.max()) if len(trained) else 0.0,
        "smallest_diverged": float(gone.min()) if len(gone) else np.inf,
    }


def rounds_table(
    rounds: Mapping[str, pd.DataFrame], metric: str = "final_val_loss"
) -> pd.DataFrame:
    """One row per round of a search (coarse to fine): its trials, learning-rate range,
    best and median ``metric`` (a diverged run counts as infinite) and diverged runs."""
    rows = []
    for name, table in rounds.items():
        values = table[metric].astype(float).fillna(np.inf)
        rows.append(
            {
                "round": name,
                "trials": len(table),
                "lr_min": float(table["lr"].min()),
                "lr_max": float(table["lr"].max()),
                "best": float(values.min()),
                "median": float(values.median()),
                "diverged": int(table["diverged"].astype(bool).sum()) if "diverged" in table else 0,
            }
        )
    return pd.DataFrame(rows).set_index("round")


__all__ = [
    "AXES",
    "Landscape",
    "best_per_repeat",
    "distinct_values",
    "divergence_edge",
    "grid_values_per_axis",
    "grid_spreads",
    "grid_vs_random",
    "real_grid_vs_random",
    "repeat_seeds",
    "rounds_table",
    "shifted_ranges",
    "spread_table",
    "summarize_trials",
    "top_fraction_hits",
    "win_rates",
]
