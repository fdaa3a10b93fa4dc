"""Lesson 04 (sampling on the right scale): shares per decade, averaging windows, the gap
between scales, the lr-sweep comparison, plots, explorer, exercise checkers (with the wrong
answers they must reject) and the search-space faults of the claims harness."""

import json
import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

import hpcourse as hp
from hpcourse import sampling, space
from hpcourse.exercises import lesson04
from hpcourse.plots import sampling as sampling_plots
from hpcourse.results import History
from hpcourse.widgets.sampling import SamplingExplorer, sampling_explorer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- shares


def test_decade_edges_cover_the_range():
    assert sampling.decade_edges(1e-4, 1.0).tolist() == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert sampling.decade_edges(0.003, 0.3).tolist() == [0.003, 0.01, 0.1, 0.3]
    assert sampling.decade_edges(2.0, 5.0).tolist() == [2.0, 5.0]
    with pytest.raises(ValueError, match=r"low=0 is not allowed: low must be > 0"):
        sampling.decade_edges(0, 1)
    with pytest.raises(ValueError, match=r"low=1.0 is not allowed: low must be < high"):
        sampling.decade_edges(1.0, 1.0)


def test_exact_shares_of_the_two_scales():
    assert sampling.uniform_share(1e-4, 1.0, 0.1, 1.0) == pytest.approx(0.9 / 0.9999)
    assert sampling.uniform_share(0, 10, -5, 5) == 0.5
    assert sampling.uniform_share(0, 10, 20, 30) == 0.0
    assert sampling.uniform_share(0, 10, -1, 11) == 1.0
    for k in range(-4, 0):
        assert sampling.log_uniform_share(1e-4, 1.0, 10.0**k, 10.0 ** (k + 1)) == pytest.approx(
            0.25
        )
    assert sampling.log_uniform_share(1e-4, 1.0, 2.0, 3.0) == 0.0
    with pytest.raises(ValueError, match=r"low=-1 is not allowed: low must be > 0"):
        sampling.log_uniform_share(-1, 1, 0.1, 0.5)
    with pytest.raises(ValueError, match=r"low=0.5 is not allowed: low must be < high \(0.1\)"):
        sampling.uniform_share(0, 1, 0.5, 0.1)


def test_decade_shares_of_samples_approach_the_exact_ones():
    rng = np.random.default_rng(0)
    samples = {
        "linear": space.Float(1e-4, 1.0, "linear").sample(50_000, rng),
        "log": space.Float(1e-4, 1.0, "log").sample(50_000, rng),
    }
    table = sampling.decade_shares(samples, 1e-4, 1.0)
    assert list(table["decade"]) == ["[0.0001, 0.001)", "[0.001, 0.01)", "[0.01, 0.1)", "[0.1, 1)"]
    assert table["linear"].sum() == pytest.approx(1.0)
    assert np.allclose(table["linear"], table["exact_linear"], atol=0.01)
    assert np.allclose(table["log"], table["exact_log"], atol=0.01)
    bare = sampling.decade_shares(samples, 1e-4, 1.0, n_expected=False)
    assert "exact_log" not in bare.columns


def test_the_top_edge_counts_in_the_last_decade():
    table = sampling.decade_shares({"x": [1e-4, 0.5, 1.0]}, 1e-4, 1.0, n_expected=False)
    assert table["x"].tolist() == pytest.approx([1 / 3, 0, 0, 2 / 3])


def test_share_between_is_a_closed_interval():
    assert sampling.share_between([0.05, 0.1, 0.5, 1.0], 0.1, 1.0) == 0.75
    with pytest.raises(ValueError, match=r"values=\[\] is not allowed"):
        sampling.share_between([], 0, 1)


# --------------------------------------------------------------------------- beta


def test_averaging_window():
    assert sampling.averaging_window(0.9) == pytest.approx(10)
    assert sampling.averaging_window(np.array([0.0, 0.99])).tolist() == pytest.approx([1, 100])
    for bad in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match=r"beta=.* is not allowed: beta must be in \[0, 1\)"):
            sampling.averaging_window(bad)


def test_window_table_shows_the_sensitivity_near_one():
    table = sampling.window_table([0.9, 0.999], nudge=0.0005)
    assert table["window grows by"].tolist() == pytest.approx([0.1 / 0.0995, 2.0])
    with pytest.raises(ValueError, match=r"beta=0.9999 is not allowed with nudge=0.001"):
        sampling.window_table([0.9999], nudge=0.001)
    with pytest.raises(ValueError, match=r"nudge=0 is not allowed"):
        sampling.window_table([0.9], nudge=0)


def test_momentum_table_reads_the_runs():
    from hpcourse.config import TrainConfig

    h = History(TrainConfig(optimizer="momentum", momentum=0.99, lr=0.003))
    h.epoch, h.val_loss, h.val_acc, h.best_epoch = [0, 1], [2.3, 1.3], [0.1, 0.5], 1
    row = sampling.momentum_table([h]).iloc[0]
    assert row["window"] == pytest.approx(100)
    assert row["effective_lr"] == pytest.approx(0.3)
    assert row["best_val_loss"] == 1.3 and row["best_val_acc"] == 0.5


# --------------------------------------------------------------------------- scales compared


def test_scale_gap_matches_large_samples_and_depends_on_the_ratio_only():
    assert sampling.scale_gap(50, 100) == pytest.approx(sampling.scale_gap(2, 4))
    assert sampling.scale_gap(50, 100) == pytest.approx(0.0861, abs=1e-4)
    rng = np.random.default_rng(1)
    lin = space.Float(1e-4, 1.0, "linear").sample(40_000, rng)
    log = space.Float(1e-4, 1.0, "log").sample(40_000, rng)
    assert sampling.ks_distance(lin, log) == pytest.approx(sampling.scale_gap(1e-4, 1.0), abs=0.02)
    assert sampling.scale_gap(1, 1.001) < 1e-3


def test_ks_distance():
    assert sampling.ks_distance([1, 2, 3], [1, 2, 3]) == 0
    assert sampling.ks_distance([1, 2], [3, 4]) == 1
    assert sampling.ks_distance([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least one value"):
        sampling.ks_distance([], [1])


# --------------------------------------------------------------------------- the lr sweep


def test_sweep_trials_map_the_same_numbers_through_each_scale():
    trials = sampling.sweep_trials(5, 3, seed=7)
    assert len(trials) == 2 * 5 * 3
    lin = trials[trials["scale"] == "linear"].reset_index(drop=True)
    log = trials[trials["scale"] == "log"].reset_index(drop=True)
    u_lin = space.Float(1e-4, 1.0, "linear").to_unit(lin["lr"])
    u_log = space.Float(1e-4, 1.0, "log").to_unit(log["lr"])
    assert np.allclose(u_lin, u_log)  # same random numbers, two scales
    assert (lin["seed"] == 7 + lin["repeat"]).all()
    assert not np.allclose(u_lin[:5], u_lin[5:10])  # repeats differ
    again = sampling.sweep_trials(5, 3, seed=7)
    pd.testing.assert_frame_equal(trials, again)


def test_sweep_trials_follow_the_course_seed(monkeypatch):
    monkeypatch.setenv("HPCOURSE_SEED", "3")
    assert (sampling.sweep_trials(2, 1)["seed"] == 3).all()
    monkeypatch.setenv("HPCOURSE_SEED", "4")
    assert (sampling.sweep_trials(2, 1)["seed"] == 4).all()


def test_sweep_trials_reject_bad_arguments():
    with pytest.raises(ValueError, match="n_trials=0 is not allowed"):
        sampling.sweep_trials(0, 1)
    with pytest.raises(ValueError, match="scales item='one_minus_log' is not allowed"):
        sampling.sweep_trials(2, 1, scales=("one_minus_log",))
    with pytest.raises(ValueError, match=r"scales=\(\) is not allowed"):
        sampling.sweep_trials(2, 1, scales=())


def _results(losses_linear, losses_log):
    rows = []
    for repeat, (a, b) in enumerate(zip(losses_linear, losses_log, strict=True)):
        rows += [
            {"scale": "linear", "repeat": repeat, "lr": 0.5, "best_val_loss": a},
            {"scale": "linear", "repeat": repeat, "lr": 0.05, "best_val_loss": a + 0.1},
            {"scale": "log", "repeat": repeat, "lr": 0.003, "best_val_loss": b},
            {"scale": "log", "repeat": repeat, "lr": 0.3, "best_val_loss": b + 0.5},
        ]
    return pd.DataFrame(rows)


def test_compare_sweeps_counts_ties_as_not_worse():
    table = sampling.compare_sweeps(_results([2.0, 1.0, 1.5], [1.2, 1.1, 1.5]))
    assert table["uniform_worse"].tolist() == [True, False, False]
    assert table["uniform_no_better"].tolist() == [True, False, True]
    assert table["uniform_best_lr"].tolist() == [0.5, 0.5, 0.5]
    assert table["log_uniform_best_lr"].tolist() == [0.003] * 3
    assert table["uniform_above_0.1"].tolist() == [0.5] * 3


def test_compare_sweeps_rejects_incomplete_tables():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['best_val_loss'\]"):
        sampling.compare_sweeps(pd.DataFrame({"scale": [], "repeat": [], "lr": []}))
    only_log = _results([1.0], [1.0])
    with pytest.raises(ValueError, match="needs both 'linear' and 'log'"):
        sampling.compare_sweeps(only_log[only_log["scale"] == "log"])


def test_run_lr_sweeps_trains_every_trial_with_its_lr_and_seed():
    data = hp.load_dataset("digits")
    trials = sampling.sweep_trials(2, 2, seed=5)
    base = {"hidden": [16], "epochs": 1, "batch_size": 64}
    table, histories = sampling.run_lr_sweeps(trials, data, base, progress=False)
    assert [h.config.lr for h in histories] == trials["lr"].tolist()
    assert [h.config.seed for h in histories] == trials["seed"].tolist()
    assert table["best_val_loss"].tolist() == [h.best_val_loss for h in histories]
    single = hp.train({**base, "lr": trials["lr"][0], "seed": int(trials["seed"][0])}, data)
    assert single.best_val_loss == pytest.approx(table["best_val_loss"][0], rel=1e-4)
    with pytest.raises(ValueError, match=r"base\['lr'\]=0.1 is not allowed"):
        sampling.run_lr_sweeps(trials, data, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"missing column\(s\) \['seed'\]"):
        sampling.run_lr_sweeps(trials.drop(columns="seed"), data)


def _parabola_results(optimum=0.008, noise=0.0, seed=0):
    gen = np.random.default_rng(seed)
    lrs = 10 ** gen.uniform(-4, 0, 60)
    loss = 1.2 + 0.3 * (np.log10(lrs) - np.log10(optimum)) ** 2 + noise * gen.normal(size=60)
    return pd.DataFrame({"scale": "log", "lr": lrs, "best_val_loss": loss})


def test_fit_best_lr_finds_the_optimum_between_samples():
    fit = sampling.fit_best_lr(_parabola_results(0.008))
    assert fit["lr"] == pytest.approx(0.008, rel=1e-6)
    assert fit["coefficients"][0] == pytest.approx(0.3)
    best = fit["best_trial_lr"]
    assert fit["low"] >= best / 10 * 0.999 and fit["high"] <= best * 10 * 1.001
    noisy = sampling.fit_best_lr(_parabola_results(0.003, noise=0.02))
    assert noisy["lr"] == pytest.approx(0.003, rel=0.3)


def test_fit_best_lr_reports_no_minimum_on_flat_or_falling_losses():
    flat = _parabola_results().assign(best_val_loss=1.0)
    assert math.isnan(sampling.fit_best_lr(flat)["lr"])
    cap = _parabola_results().assign(best_val_loss=lambda t: -((np.log10(t["lr"]) + 2) ** 2))
    assert math.isnan(sampling.fit_best_lr(cap)["lr"])


def test_fit_best_lr_rejects_bad_input():
    with pytest.raises(ValueError, match="scale='linear' is not allowed: results has no finite"):
        sampling.fit_best_lr(_parabola_results(), scale="linear")
    with pytest.raises(ValueError, match="width=0 is not allowed"):
        sampling.fit_best_lr(_parabola_results(), width=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['lr'\]"):
        sampling.fit_best_lr(pd.DataFrame({"scale": [], "best_val_loss": []}))


# --------------------------------------------------------------------------- plots


def test_plots_return_axes():
    rng = np.random.default_rng(0)
    samples = {"linear": rng.uniform(1e-4, 1, 300), "log": 10 ** rng.uniform(-4, 0, 300)}
    table = sampling.decade_shares(samples, 1e-4, 1.0)
    assert isinstance(sampling_plots.plot_sample_histograms(samples, 1e-4, 1.0), Axes)
    assert isinstance(sampling_plots.plot_decade_shares(table, ["linear", "log"]), Axes)
    assert isinstance(sampling_plots.plot_cdfs(samples, log=True), Axes)
    betas = {"linear": rng.uniform(0.9, 0.999, 100)}
    assert isinstance(sampling_plots.plot_averaging_window(betas), Axes)
    results = _results([2.0, 1.0], [1.2, 1.1]).assign(best_val_loss=[2, 2.1, 1.2, math.inf] * 2)
    assert isinstance(sampling_plots.plot_sweep_trials(results), Axes)
    fit = sampling.fit_best_lr(_parabola_results())
    ax = sampling_plots.plot_sweep_trials(_parabola_results(), fit=fit)
    assert any("fitted best lr" in t.get_text() for t in ax.get_legend().get_texts())
    comparison = sampling.compare_sweeps(_results([2.0, 1.0], [1.2, 1.1]))
    ax = sampling_plots.plot_sweep_bests(comparison)
    assert len(ax.get_legend().get_texts()) == 2


def test_momentum_plot_orders_colours_by_window():
    from hpcourse.config import TrainConfig

    runs = []
    for beta in (0.999, 0.9, 0.99):
        h = History(TrainConfig(optimizer="momentum", momentum=beta))
        h.epoch, h.val_loss = [0, 1], [2.3, 1.5]
        runs.append(h)
    ax = sampling_plots.plot_momentum_runs(runs)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [lab.split()[2] for lab in labels] == ["0.9", "0.99", "0.999"]


def test_plots_reject_bad_input():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['log'\]"):
        sampling_plots.plot_decade_shares(pd.DataFrame({"decade": ["a"]}), ["log"])
    with pytest.raises(ValueError, match=r"samples=\{\} is not allowed"):
        sampling_plots.plot_sample_histograms({}, 1e-4, 1)
    with pytest.raises(ValueError, match=r"histories=\[\] is not allowed"):
        sampling_plots.plot_momentum_runs([])


# --------------------------------------------------------------------------- explorer


def test_explorer_redraws_and_reports_the_shares():
    ex = sampling_explorer(seed=0)
    assert isinstance(ex, SamplingExplorer) and ex.redraws == 1
    assert ex.state["top_share"] == pytest.approx(0.9, abs=0.03)
    assert "90" in ex.status.value or "89" in ex.status.value
    ex.controls["scale"].value = "log"
    assert ex.redraws == 2
    assert np.allclose(ex.state["table"]["log"], 0.25, atol=0.04)
    ex.controls["exponents"].value = (-6, 0)
    assert len(ex.state["table"]) == 6
    assert ex.state["values"].min() >= 1e-6


def test_explorer_beta_mode_shows_windows():
    ex = sampling_explorer(seed=0)
    ex.controls["quantity"].value = "beta"
    ex.controls["exponents"].value = (-3, -1)
    assert ex.state["values"].min() >= 0.9 and ex.state["values"].max() <= 0.999
    assert ex.state["bottom_share"] == pytest.approx(0.909, abs=0.03)  # uniform β
    ex.controls["scale"].value = "log"
    assert ex.state["bottom_share"] == pytest.approx(0.5, abs=0.04)
    assert "one-minus-log" in ex.status.value and "windows" in ex.status.value


def test_explorer_widens_an_empty_range():
    ex = sampling_explorer(seed=0)
    ex.controls["exponents"].value = (0, 0)
    assert ex.state["exponents"] == (-1, 0)
    ex.controls["exponents"].value = (-3, -3)
    assert ex.state["exponents"] == (-3, -2)


def test_explorer_rejects_a_bad_sample_size():
    with pytest.raises(ValueError, match=r"n=300 is not allowed: n must be one of"):
        sampling_explorer(n=300)


# --------------------------------------------------------------------------- exercises


def _share(low, high, a, b):
    return max(0.0, min(b, high) - max(a, low)) / (high - low)


def test_uniform_share_checker_accepts_the_formula():
    assert lesson04.check_uniform_share(_share).passed is True
    assert lesson04.check_uniform_share(sampling.uniform_share).passed is True


@pytest.mark.parametrize(
    "wrong",
    [
        lambda low, high, a, b: (b - a) / (high - low),  # no clipping
        lambda low, high, a, b: (min(b, high) - max(a, low)) / (high - low),  # negative overlap
        lambda low, high, a, b: (b - a) / high,  # forgets low
        lambda low, high, a, b: round(_share(low, high, a, b), 2),  # rounded
        lambda low, high, a, b: 0.9,  # the one number from the text
        lambda low, high, a, b: math.log(b / a) / math.log(high / low),  # the log-uniform share
        lambda low, high, a, b: str(_share(low, high, a, b)),  # text, not a number
    ],
)
def test_uniform_share_checker_rejects_wrong_answers(wrong):
    assert lesson04.check_uniform_share(wrong).passed is False


def test_uniform_share_checker_reports_a_skipped_exercise():
    def stub(low, high, a, b):
        raise NotImplementedError

    assert lesson04.check_uniform_share(stub).passed is None


def _log_uniform(low, high, n, rng):
    return 10 ** rng.uniform(math.log10(low), math.log10(high), n)


def _beta(low, high, n, rng):
    return 1 - 10 ** rng.uniform(math.log10(1 - high), math.log10(1 - low), n)


def test_sampler_checkers_accept_right_answers():
    assert lesson04.check_log_uniform_sampler(_log_uniform).passed is True
    natural = lambda low, high, n, rng: np.exp(rng.uniform(np.log(low), np.log(high), n))  # noqa: E731
    assert lesson04.check_log_uniform_sampler(natural).passed is True
    assert lesson04.check_beta_sampler(_beta).passed is True
    by_space = lambda low, high, n, rng: space.Float(low, high, "one_minus_log").sample(n, rng)  # noqa: E731
    assert lesson04.check_beta_sampler(by_space).passed is True


def test_sampler_checkers_accept_right_answers_on_other_course_seeds():
    for seed in (1, 2, 3, 11):
        assert lesson04.check_log_uniform_sampler(_log_uniform, seed=seed).passed is True
        assert lesson04.check_beta_sampler(_beta, seed=seed).passed is True


def _decade_then_uniform(low, high, n, rng):
    k = rng.integers(round(math.log10(low)), round(math.log10(high)), n)
    return 10.0**k * rng.uniform(1, 10, n)


WRONG_LOG_UNIFORM = {
    "linear": lambda low, high, n, rng: rng.uniform(low, high, n),
    "exponent hard-wired to [-4, 0]": lambda low, high, n, rng: 10 ** rng.uniform(-4, 0, n),
    "a fixed grid": lambda low, high, n, rng: np.logspace(np.log10(low), np.log10(high), n),
    "global generator": lambda low, high, n, rng: (
        10 ** np.random.uniform(np.log10(low), np.log10(high), n)  # noqa: NPY002
    ),
    "bounds not logged": lambda low, high, n, rng: 10 ** rng.uniform(low, high, n),
    "exponent not raised": lambda low, high, n, rng: rng.uniform(np.log10(low), np.log10(high), n),
    "decade, then uniform inside it": _decade_then_uniform,
    "a few grid values": lambda low, high, n, rng: rng.choice(
        np.logspace(np.log10(low), np.log10(high), 50), n
    ),
    "whole decades only": lambda low, high, n, rng: (
        10.0 ** rng.integers(round(np.log10(low)), round(np.log10(high)), n)
    ),
    "one value": lambda low, high, n, rng: 10 ** rng.uniform(np.log10(low), np.log10(high)),
}


@pytest.mark.parametrize("name", list(WRONG_LOG_UNIFORM))
def test_log_uniform_checker_rejects_wrong_answers(name):
    assert lesson04.check_log_uniform_sampler(WRONG_LOG_UNIFORM[name]).passed is False


WRONG_BETA = {
    "uniform beta": lambda low, high, n, rng: rng.uniform(low, high, n),
    "log-uniform beta": lambda low, high, n, rng: (
        10 ** rng.uniform(np.log10(max(low, 1e-3)), np.log10(high), n)
    ),
    "log of beta, not of 1 - beta": lambda low, high, n, rng: (
        1 - 10 ** rng.uniform(np.log10(max(low, 1e-3)), np.log10(high), n)
    ),
    "exponent hard-wired to [-3, -1]": lambda low, high, n, rng: 1 - 10 ** rng.uniform(-3, -1, n),
    "swapped bounds": lambda low, high, n, rng: (
        1 - 10 ** rng.uniform(np.log10(1 - low), np.log10(1 - high), n)
    ),
}


@pytest.mark.parametrize("name", list(WRONG_BETA))
def test_beta_checker_rejects_wrong_answers(name):
    assert lesson04.check_beta_sampler(WRONG_BETA[name]).passed is False


def test_sampler_checker_messages_say_what_is_wrong(capsys):
    lesson04.check_log_uniform_sampler(WRONG_LOG_UNIFORM["linear"])
    out = capsys.readouterr().out
    assert "[0.1, 1): 90% (expected 25%)" in out and "10**r" in out
    lesson04.check_log_uniform_sampler(WRONG_LOG_UNIFORM["global generator"])
    assert "from the rng argument" in capsys.readouterr().out
    lesson04.check_log_uniform_sampler(WRONG_LOG_UNIFORM["a fixed grid"])
    assert "not a fixed list" in capsys.readouterr().out
    lesson04.check_beta_sampler(WRONG_BETA["uniform beta"])
    assert "window [10, 100): 91% (expected 50%)" in capsys.readouterr().out


def test_sampler_checker_reports_a_skipped_exercise():
    def stub(low, high, n, rng):
        raise NotImplementedError

    assert lesson04.check_log_uniform_sampler(stub).passed is None
    assert lesson04.check_beta_sampler(stub).passed is None


# --------------------------------------------------------------------------- faults


FAULT_CHECK = """
import sys, json
sys.path.insert(0, {tools!r})
import faults
faults.apply({fault!r})
import numpy as np
from hpcourse import space
rng = np.random.default_rng(0)
lin = space.Float(1e-4, 1.0, "linear").sample(4000, rng)
log = space.Float(1e-4, 1.0, "log").sample(4000, rng)
beta = space.Float(0.9, 0.999, "one_minus_log").sample(4000, rng)
depth = space.Int(2, 4).sample(4000, rng)
by_function = space.log_uniform(1e-4, 1.0, 4000, rng)
print(json.dumps({{
    "linear_top": float(np.mean(lin >= 0.1)),
    "log_top": float(np.mean(log >= 0.1)),
    "beta_short": float(np.mean(beta < 0.99)),
    "depths": sorted(set(depth.tolist())),
    "function_top": float(np.mean(by_function >= 0.1)),
}}))
"""


def _fault_check(fault):
    code = FAULT_CHECK.format(tools=str(ROOT / "tools"), fault=fault)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("fault", "key", "value"),
    [
        ("log_scale_ignored", "log_top", 0.9),
        ("log_scale_ignored", "function_top", 0.9),
        ("scales_swapped", "linear_top", 0.25),
        ("scales_swapped", "log_top", 0.9),
        ("one_minus_log_ignored", "beta_short", 0.91),
    ],
)
def test_search_space_faults_change_the_samplers(fault, key, value):
    assert _fault_check(fault)[key] == pytest.approx(value, abs=0.03)


def test_int_high_excluded_never_draws_the_top():
    assert _fault_check("int_high_excluded")["depths"] == [2, 3]
