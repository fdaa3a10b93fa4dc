"""Search spaces: the scales sample what they promise, map the unit interval both ways,
and refuse bounds that make no sense with a message naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from hpcourse.space import (
    Choice,
    Float,
    Int,
    SearchSpace,
    categorical,
    integers,
    log_uniform,
    one_minus_log_uniform,
    uniform,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_uniform_lr_puts_about_90_percent_in_the_top_decade():
    x = uniform(1e-4, 1.0, 20_000, rng())
    assert abs(np.mean(x >= 0.1) - 0.9) < 0.01


def test_log_uniform_gives_each_decade_an_equal_share():
    x = log_uniform(1e-4, 1.0, 20_000, rng())
    shares = [np.mean((x >= 10.0**k) & (x < 10.0 ** (k + 1))) for k in range(-4, 0)]
    assert np.allclose(shares, 0.25, atol=0.015), shares


def test_one_minus_log_gives_each_averaging_window_band_an_equal_share():
    beta = one_minus_log_uniform(0.9, 0.9999, 20_000, rng())
    windows = 1 / (1 - beta)  # 10 to 10,000 steps
    shares = [np.mean((windows >= 10.0**k) & (windows < 10.0 ** (k + 1))) for k in (1, 2, 3)]
    assert np.allclose(shares, 1 / 3, atol=0.015), shares
    assert beta.min() >= 0.9 and beta.max() < 0.9999


def test_integers_and_choices():
    k = integers(16, 512, 30_000, rng(), scale="log")
    assert k.min() == 16 and k.max() == 512 and k.dtype.kind == "i"
    low_band, high_band = np.mean((k >= 16) & (k < 64)), np.mean((k >= 128) & (k < 512))
    assert abs(low_band - high_band) < 0.03  # two octaves each: equal shares on a log scale
    layers = integers(2, 4, 3000, rng())
    assert sorted(set(layers.tolist())) == [2, 3, 4]
    assert abs(np.mean(layers == 3) - 1 / 3) < 0.03
    picks = categorical(["sgd", "adam"], 1000, rng())
    assert set(picks) == {"sgd", "adam"} and 400 < picks.count("adam") < 600


@pytest.mark.parametrize(
    "dim",
    [
        Float(1e-5, 1.0, "log"),
        Float(0.0, 0.6),
        Float(0.5, 0.999, "one_minus_log"),
        Int(8, 512, "log"),
    ],
)
def test_unit_coordinates_round_trip(dim):
    u = np.linspace(0.01, 0.99, 25)
    values = dim.from_unit(u)
    assert values[0] >= dim.low and values[-1] <= dim.high
    back = dim.from_unit(dim.to_unit(values))
    assert np.allclose(back, values)
    assert dim.from_unit([0.0])[0] == dim.low and dim.from_unit([1.0])[0] == dim.high


def test_a_space_maps_points_to_configs_and_back():
    space = SearchSpace({"lr": Float(1e-4, 1, "log"), "optimizer": Choice(("sgd", "adam"))})
    configs = space.from_unit([[0.5, 0.1], [0.25, 0.9]])
    assert configs[0] == {"lr": pytest.approx(1e-2), "optimizer": "sgd"}
    assert configs[1]["optimizer"] == "adam" and configs[1]["lr"] == pytest.approx(1e-3)
    u = space.to_unit(configs)
    assert u[:, 0] == pytest.approx([0.5, 0.25])
    assert len(space.sample(7, rng())) == 7


def test_a_space_over_config_fields_reads_the_config_metadata():
    space = SearchSpace.for_config(["lr", "momentum", "dropout"], hidden_width=Int(32, 256))
    assert space["lr"] == Float(1e-5, 1.0, "log")
    assert space["momentum"].scale == "one_minus_log"
    assert list(space) == ["lr", "momentum", "dropout", "hidden_width"]
    with pytest.raises(ValueError, match="fields item 'seed' is not allowed"):
        SearchSpace.for_config(["seed"])


BAD = [
    (lambda: Float(1.0, 0.1), r"low=1.0 is not allowed: low must be < high"),
    (lambda: Float(0.0, 1.0, "log"), r"low=0.0 is not allowed: a log scale needs low > 0"),
    (lambda: Float(0.9, 1.0, "one_minus_log"), r"needs 0 <= low < high < 1"),
    (lambda: Float(0.1, 1.0, "cubic"), r"scale='cubic' is not allowed"),
    (lambda: Int(10, 5), r"low=10 is not allowed: low must be <= high"),
    (lambda: Int(0, 5, "log"), r"low=0 is not allowed: a log scale needs low >= 1"),
    (lambda: Int(1.5, 5), r"low=1.5 is not allowed"),
    (lambda: Choice(()), r"options=\(\) is not allowed"),
    (lambda: SearchSpace({}), r"dimensions=\{\} is not allowed"),
    (lambda: SearchSpace({"lr": (0, 1)}), r"dimensions\['lr'\]=\(0, 1\) is not allowed"),
    (lambda: log_uniform(1e-3, 1, 10, np.random), r"rng=.* is not allowed"),
    (lambda: uniform(0, 1, 0, rng()), r"n=0 is not allowed"),
    (lambda: one_minus_log_uniform(0.5, 1.5, 3, rng()), r"needs 0 <= low < high < 1"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_bounds_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()
