"""Search spaces: which values each hyperparameter may take, and on which scale to sample.

The scale is the whole lesson of notebook 04. A learning rate matters by its order of
magnitude, so it is sampled *log-uniformly* (every decade gets the same share); a
momentum or an averaging factor beta matters by how close it is to 1, because the
averaging window is ``1 / (1 - beta)``, so it is sampled as ``1 - 10**r`` with ``r``
uniform (*one minus log*); a count of hidden units is fine on a plain linear scale; a
number of layers is a small integer grid.

Every dimension maps the unit interval onto its values (:meth:`Float.from_unit`), so one
mapping serves random search (uniform numbers in), grids (evenly spaced numbers in),
quasi-random Sobol points and coarse-to-fine zooming (which shrinks the interval in the
unit coordinates, so a log scale stays log). Sampling always takes an explicit
``numpy.random.Generator``. No PyTorch here: a search space can be built, sampled and
handed to Optuna in a process that never trains.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpcourse.validation import check_choice, check_number

SCALES = ("linear", "log", "one_minus_log")


# --------------------------------------------------------------------------- distributions


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng={rng!r} is not allowed: rng must be a numpy.random.Generator, "
            "e.g. numpy.random.default_rng(0)."
        )
    return rng


def _check_bounds(low: float, high: float, scale: str) -> None:
    check_number("low", low)
    check_number("high", high)
    if not low < high:
        raise ValueError(f"low={low!r} is not allowed: low must be < high ({high!r}).")
    if scale == "log" and low <= 0:
        raise ValueError(f"low={low!r} is not allowed: a log scale needs low > 0.")
    if scale == "one_minus_log" and not 0 <= low < high < 1:
        raise ValueError(
            f"low={low!r}, high={high!r} are not allowed: a one-minus-log scale (for momentum "
            "or beta) needs 0 <= low < high < 1."
        )


def uniform(low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` numbers drawn uniformly from ``[low, high)``."""
    _check_bounds(low, high, "linear")
    check_number("n", n, low=1, integer=True)
    return _check_rng(rng).uniform(low, high, n)


def log_uniform(low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` numbers whose logarithm is uniform: every decade of ``[low, high)`` gets an
    equal share.

    >>> x = log_uniform(1e-4, 1.0, 40_000, np.random.default_rng(0))
    >>> [round(float(np.mean((x >= 10.0**k) & (x < 10.0 ** (k + 1)))), 2) for k in range(-4, 0)]
    [0.25, 0.25, 0.25, 0.25]
    """
    _check_bounds(low, high, "log")
    check_number("n", n, low=1, integer=True)
    return np.exp(_check_rng(rng).uniform(math.log(low), math.log(high), n))


def one_minus_log_uniform(low: float, high: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of a beta in ``[low, high)`` with ``1 - beta`` log-uniform.

    Why: the averaging window of momentum or an EMA is ``1 / (1 - beta)``. From 0.9 to
    0.99 the window grows from 10 to 100 steps, as much as from 0.99 to 0.999 (100 to
    1000), so each such band should get the same share of samples.

    >>> b = one_minus_log_uniform(0.9, 0.999, 30_000, np.random.default_rng(0))
    >>> round(float(np.mean(b < 0.99)), 2)
    0.5
    """
    _check_bounds(low, high, "one_minus_log")
    check_number("n", n, low=1, integer=True)
    return 1 - log_uniform(1 - high, 1 - low, n, rng)


def integers(
    low: int, high: int, n: int, rng: np.random.Generator, *, scale: str = "linear"
) -> np.ndarray:
    """``n`` integers from ``low`` to ``high`` inclusive, uniform or (``scale="log"``)
    uniform in the logarithm (so 16-32 gets as many draws as 256-512)."""
    check_number("low", low, integer=True)
    check_number("high", high, integer=True)
    check_choice("scale", scale, ("linear", "log"))
    return Int(low, high, scale).sample(n, rng)


def categorical(options: Sequence[Any], n: int, rng: np.random.Generator) -> list[Any]:
    """``n`` draws from ``options``, each equally likely."""
    return Choice(tuple(options)).sample(n, rng)


# --------------------------------------------------------------------------- dimensions


@dataclass(frozen=True)
class Float:
    """A real hyperparameter in ``[low, high]`` on a ``"linear"``, ``"log"`` or
    ``"one_minus_log"`` scale."""

    low: float
    high: float
    scale: str = "linear"

    def __post_init__(self) -> None:
        check_choice("scale", self.scale, SCALES)
        _check_bounds(self.low, self.high, self.scale)

    def _ends(self) -> tuple[float, float]:
        if self.scale == "log":
            return math.log(self.low), math.log(self.high)
        if self.scale == "one_minus_log":  # coordinate 0 at low, 1 at high
            return math.log(1 - self.low), math.log(1 - self.high)
        return self.low, self.high

    def from_unit(self, u: Any) -> np.ndarray:
        """Values at positions ``u`` in [0, 1] of the scale (0 = low, 1 = high)."""
        a, b = self._ends()
        u = np.clip(np.asarray(u, dtype=float), 0, 1)
        t = a + u * (b - a)
        if self.scale == "log":
            t = np.exp(t)
        elif self.scale == "one_minus_log":
            t = 1 - np.exp(t)
        return np.where(u == 0, self.low, np.where(u == 1, self.high, t))  # exact ends

    def to_unit(self, value: Any) -> np.ndarray:
        """Where ``value`` sits on the scale, as a number in [0, 1]."""
        v = np.asarray(value, dtype=float)
        a, b = self._ends()
        if self.scale == "log":
            v = np.log(v)
        elif self.scale == "one_minus_log":
            v = np.log(1 - v)
        return (v - a) / (b - a)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_number("n", n, low=1, integer=True)
        return self.from_unit(_check_rng(rng).uniform(0, 1, n))

    def narrowed(self, lo_unit: float, hi_unit: float) -> Float:
        """The part of this dimension between two unit positions (same scale)."""
        lo, hi = (float(x) for x in self.from_unit([lo_unit, hi_unit]))
        return Float(min(lo, hi), max(lo, hi), self.scale)


@dataclass(frozen=True)
class Int:
    """An integer hyperparameter from ``low`` to ``high`` inclusive, linear or log scale."""

    low: int
    high: int
    scale: str = "linear"

    def __post_init__(self) -> None:
        check_number("low", self.low, integer=True)
        check_number("high", self.high, integer=True)
        check_choice("scale", self.scale, ("linear", "log"))
        if self.low > self.high:
            raise ValueError(f"low={self.low!r} is not allowed: low must be <= high ({self.high}).")
        if self.scale == "log" and self.low < 1:
            raise ValueError(f"low={self.low!r} is not allowed: a log scale needs low >= 1.")

    def from_unit(self, u: Any) -> np.ndarray:
        """Integers at positions ``u``: each integer owns an equal share of the scale."""
        u = np.clip(np.asarray(u, dtype=float), 0, 1)
        if self.scale == "log":
            lo, hi = math.log(self.low - 0.5 if self.low > 1 else 0.5), math.log(self.high + 0.5)
            values = np.exp(lo + u * (hi - lo))
        else:
            values = self.low - 0.5 + u * (self.high - self.low + 1)
        return np.clip(np.round(values), self.low, self.high).astype(int)

    def to_unit(self, value: Any) -> np.ndarray:
        v = np.asarray(value, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low - 0.5 if self.low > 1 else 0.5), math.log(self.high + 0.5)
            return (np.log(v) - lo) / (hi - lo)
        return (v - self.low + 0.5) / (self.high - self.low + 1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        check_number("n", n, low=1, integer=True)
        return self.from_unit(_check_rng(rng).uniform(0, 1, n))

    def narrowed(self, lo_unit: float, hi_unit: float) -> Int:
        lo, hi = (int(x) for x in self.from_unit([lo_unit, hi_unit]))
        return Int(min(lo, hi), max(lo, hi), self.scale)


@dataclass(frozen=True)
class Choice:
    """One of a few options (an optimizer, an activation, a depth), each equally likely."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.options, tuple) or len(self.options) == 0:
            raise ValueError(
                f"options={self.options!r} is not allowed: options must be a non-empty tuple."
            )

    def from_unit(self, u: Any) -> list[Any]:
        k = len(self.options)
        idx = np.minimum((np.clip(np.asarray(u, dtype=float), 0, 1) * k).astype(int), k - 1)
        return [self.options[i] for i in np.atleast_1d(idx)]

    def to_unit(self, value: Any) -> np.ndarray:
        values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
        return np.array([(self.options.index(v) + 0.5) / len(self.options) for v in values])

    def sample(self, n: int, rng: np.random.Generator) -> list[Any]:
        check_number("n", n, low=1, integer=True)
        return self.from_unit(_check_rng(rng).uniform(0, 1, n))

    def narrowed(self, lo_unit: float, hi_unit: float) -> Choice:
        return self  # no order among options: a choice is never narrowed


Dimension = Float | Int | Choice


class SearchSpace(Mapping[str, Dimension]):
    """Named dimensions, in a fixed order; configurations are plain dicts.

    >>> space = SearchSpace({"lr": Float(1e-4, 1, "log"), "hidden_width": Int(32, 256)})
    >>> space.from_unit([[0.0, 0.0], [1.0, 1.0]])
    [{'lr': 0.0001, 'hidden_width': 32}, {'lr': 1.0, 'hidden_width': 256}]
    """

    def __init__(self, dimensions: Mapping[str, Dimension]) -> None:
        if not dimensions:
            raise ValueError("dimensions={} is not allowed: give at least one dimension.")
        for name, dim in dimensions.items():
            if not isinstance(dim, (Float, Int, Choice)):
                raise ValueError(
                    f"dimensions[{name!r}]={dim!r} is not allowed: a dimension must be a "
                    "Float, Int or Choice."
                )
        self._dims = dict(dimensions)

    def __getitem__(self, name: str) -> Dimension:
        return self._dims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __repr__(self) -> str:
        return f"SearchSpace({self._dims!r})"

    def from_unit(self, points: Any) -> list[dict[str, Any]]:
        """One configuration per row of ``points`` (shape ``(n, len(space))``, in [0, 1])."""
        u = np.atleast_2d(np.asarray(points, dtype=float))
        if u.shape[1] != len(self):
            raise ValueError(
                f"points with {u.shape[1]} columns are not allowed: the space has {len(self)} "
                "dimensions."
            )
        columns = {name: list(dim.from_unit(u[:, j])) for j, (name, dim) in enumerate(self.items())}
        return [{name: _plain(columns[name][i]) for name in self} for i in range(u.shape[0])]

    def to_unit(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The unit coordinates of configurations (one row each)."""
        return np.column_stack(
            [dim.to_unit([c[name] for c in configs]) for name, dim in self.items()]
        )

    def sample(self, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
        """``n`` random configurations (independent, each dimension on its own scale)."""
        check_number("n", n, low=1, integer=True)
        return self.from_unit(_check_rng(rng).uniform(0, 1, (n, len(self))))

    @classmethod
    def for_config(cls, fields: Sequence[str], **overrides: Dimension) -> SearchSpace:
        """A space over :class:`~hpcourse.config.TrainConfig` fields, with the ranges and
        scales the config itself declares (its fields' ``search`` metadata).

        >>> SearchSpace.for_config(["lr", "momentum"])["momentum"].scale
        'one_minus_log'
        """
        from hpcourse.config import TrainConfig

        declared: dict[str, Dimension] = {
            f.name: f.metadata["search"]
            for f in dataclasses.fields(TrainConfig)
            if "search" in f.metadata
        }
        dims: dict[str, Dimension] = {}
        for name in fields:
            if name in overrides:
                dims[name] = overrides[name]
            elif name in declared:
                dims[name] = declared[name]
            else:
                searchable = sorted(declared)
                raise ValueError(
                    f"fields item {name!r} is not allowed: TrainConfig declares no search range "
                    f"for it; give one as {name}=Float(...), or use one of {searchable}."
                )
        for name, dim in overrides.items():
            dims.setdefault(name, dim)
        return cls(dims)


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers, so configs print and log cleanly."""
    return value.item() if isinstance(value, np.generic) else value


__all__ = [
    "SCALES",
    "Choice",
    "Dimension",
    "Float",
    "Int",
    "SearchSpace",
    "categorical",
    "integers",
    "log_uniform",
    "one_minus_log_uniform",
    "uniform",
]
