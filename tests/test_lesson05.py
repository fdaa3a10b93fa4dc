"""Lesson 05 (grid vs random search): synthetic landscapes with a known answer, win rates,
spread, the 60-trial simulation, importance shares, real-training helpers, plots, explorer,
exercises (with the wrong answers learners give), and the search faults of tools/faults.py."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import effective_dimension as ed
from hpcourse import importance, search
from hpcourse.exercises.lesson05 import check_grid_values_per_axis, check_trials_needed
from hpcourse.plots import search as search_plots
from hpcourse.space import Choice, Float, SearchSpace
from hpcourse.widgets.search import SearchExplorer, search_explorer

TOOLS = Path(__file__).resolve().parents[1] / "tools"


# --- landscapes -------------------------------------------------------------------------------


def test_landscape_loss_is_zero_at_the_centre_and_ignores_an_axis_of_weight_zero():
    land = ed.Landscape((1.0, 0.0), (0.3, 0.8), width=0.1)
    assert land.loss([[0.3, 0.0], [0.3, 1.0]]) == pytest.approx([0.0, 0.0])
    far = land.loss([[0.9, 0.8]])[0]
    assert far == pytest.approx(1 - math.exp(-0.5 * 36))  # 6 widths away: almost the full 1
    both = ed.Landscape((1.0, 0.5), (0.5, 0.5))
    assert both.loss([[0.5, 0.6]])[0] == pytest.approx(0.5 * (1 - math.exp(-0.5)))
    assert land.names == ("x", "y") and list(land.space()) == ["x", "y"]


def test_landscape_draw_uses_its_own_stream_not_the_search_stream():
    land = ed.Landscape.draw((1.0, 0.0), seed=5)
    first_trial = np.random.default_rng(5).uniform(0, 1, 2)
    assert not np.allclose(land.centre, first_trial)  # a search with seed 5 does not start on it
    assert ed.Landscape.draw((1.0, 0.0), seed=5) == land
    hp.setup(seed=7)
    try:
        assert ed.Landscape.draw((1.0, 0.0)) == ed.Landscape.draw((1.0, 0.0), seed=7)
    finally:
        hp.setup(seed=0)


def test_landscape_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one axis must matter"):
        ed.Landscape((0.0, 0.0), (0.5, 0.5))
    with pytest.raises(ValueError, match="weights item=-1.0 is not allowed"):
        ed.Landscape((1.0, -1.0), (0.5, 0.5))
    with pytest.raises(ValueError, match="centre=.* is not allowed: it needs 2 coordinates"):
        ed.Landscape((1.0, 0.0), (0.5,))
    with pytest.raises(ValueError, match=r"centre item=1.5 is not allowed"):
        ed.Landscape((1.0,), (1.5,))
    with pytest.raises(ValueError, match="width=0 is not allowed"):
        ed.Landscape((1.0,), (0.5,), width=0)
    with pytest.raises(ValueError, match="points with 3 columns are not allowed"):
        ed.Landscape((1.0, 0.0), (0.5, 0.5)).loss(np.zeros((2, 3)))


def test_top_threshold_cuts_off_the_requested_share_of_the_space():
    land = ed.Landscape((1.0, 0.0), (0.5, 0.5), width=0.1)
    threshold = land.top_threshold(0.05)
    u = np.random.default_rng(0).uniform(0, 1, (200_000, 2))
    assert float((land.loss(u) <= threshold).mean()) == pytest.approx(0.05, abs=0.003)
    with pytest.raises(ValueError, match="fraction=1 is not allowed"):
        land.top_threshold(1)


# --- counting distinct values ---------------------------------------------------------------


def test_distinct_values_counts_the_values_of_one_axis():
    land = ed.Landscape((1.0, 0.0), (0.5, 0.5))
    grid = search.propose(land.space(), "grid", 9)
    rand = search.propose(land.space(), "random", 9, seed=0)
    assert ed.distinct_values(grid, "x") == 3 and ed.distinct_values(rand, "x") == 9
    table = ed.summarize_trials(land, {"grid": grid, "random": rand})
    assert table.loc["grid", "values of x"] == 3 and table.loc["random", "values of y"] == 9
    assert table.loc["grid", "best loss"] == pytest.approx(land.loss_of(grid).min())
    with pytest.raises(ValueError, match="configs=\\[\\] is not allowed"):
        ed.distinct_values([], "x")
    with pytest.raises(ValueError, match="name='z' is not allowed: configuration 0"):
        ed.distinct_values(grid, "z")


@pytest.mark.parametrize(("n", "d", "k"), [(9, 2, 3), (64, 3, 4), (125, 3, 5), (1000, 3, 10)])
def test_grid_values_per_axis_is_an_exact_root(n, d, k):
    assert ed.grid_values_per_axis(n, d) == k and isinstance(ed.grid_values_per_axis(n, d), int)


def test_grid_values_per_axis_rejects_a_number_that_is_not_a_power():
    with pytest.raises(ValueError, match=r"n_trials=10 is not allowed: a full grid over 2 axes"):
        ed.grid_values_per_axis(10, 2)
    with pytest.raises(ValueError, match="n_axes=0 is not allowed"):
        ed.grid_values_per_axis(9, 0)


# --- grid vs random over many landscapes -----------------------------------------------------


def test_random_beats_the_grid_when_one_axis_does_not_matter():
    duels = ed.grid_vs_random((1.0, 0.0), budgets=[9, 36], repeats=300, seed=11)
    assert set(duels.columns) == {"repeat", "n_trials", "method", "best_loss", "distinct"}
    distinct = duels.groupby(["n_trials", "method"])["distinct"].agg(["min", "max"])
    assert distinct.loc[(9, "grid")].tolist() == [3, 3]
    assert distinct.loc[(36, "random")].tolist() == [36, 36]
    rates = ed.win_rates(duels).set_index("n_trials")
    # theory for a 1-D optimum far from the edges: 1 - k/(n+1) (1 - (1-1/k)^(n+1))
    assert 0.6 <= rates.loc[9, "win_rate"] <= 0.8
    assert rates.loc[36, "win_rate"] >= 0.78
    assert (rates["repeats"] == 300).all()
    assert rates.loc[9, "stderr"] == pytest.approx(
        math.sqrt(rates.loc[9, "win_rate"] * (1 - rates.loc[9, "win_rate"]) / 300)
    )


def test_several_shapes_share_their_best_points_and_trials():
    shapes = {"flat y": (1.0, 0.0), "alike": (1.0, 1.0)}
    duels = ed.grid_vs_random(shapes, budgets=[16], repeats=200, seed=3)
    assert set(duels["landscape"]) == set(shapes)
    rates = ed.win_rates(duels).set_index("landscape")["win_rate"]
    assert rates["flat y"] > 0.65 > 0.5 > rates["alike"]  # a 2-D grid wins when both matter
    with pytest.raises(ValueError, match="every shape needs the same number of axes"):
        ed.grid_vs_random({"a": (1.0, 0.0), "b": (1.0, 0.0, 0.0)})
    with pytest.raises(ValueError, match="methods item='bayes' is not allowed"):
        ed.grid_vs_random((1.0, 0.0), methods=("grid", "bayes"))
    with pytest.raises(ValueError, match="budgets=\\[\\] is not allowed"):
        ed.grid_vs_random((1.0, 0.0), budgets=[])


def test_win_rates_counts_strict_wins_and_checks_its_table():
    table = pd.DataFrame(
        {
            "repeat": [0, 0, 1, 1, 2, 2],
            "n_trials": [9] * 6,
            "method": ["grid", "random"] * 3,
            "best_loss": [0.5, 0.4, 0.2, 0.2, 0.1, 0.3],
        }
    )
    row = ed.win_rates(table).iloc[0]
    assert (row["wins"], row["repeats"]) == (1, 3)  # a tie is not a win
    with pytest.raises(ValueError, match="it has no 'best_loss' column"):
        ed.win_rates(table.drop(columns="best_loss"))
    with pytest.raises(ValueError, match="method 'sobol' is not allowed"):
        ed.win_rates(table, method="sobol")


def test_repeat_seeds_are_drawn_from_the_course_seed():
    assert ed.repeat_seeds(3, seed=1) == ed.repeat_seeds(3, seed=1)
    assert not set(ed.repeat_seeds(20, seed=0)) & set(ed.repeat_seeds(20, seed=1))
    with pytest.raises(ValueError, match="repeats=0 is not allowed"):
        ed.repeat_seeds(0)


# --- spread and the 60-trial rule ------------------------------------------------------------


def test_sobol_is_more_even_than_random():
    space = ed.Landscape((1.0, 0.0), (0.5, 0.5)).space()
    table = ed.spread_table(space, 64, repeats=30, seed=2)
    wide = table.pivot(index="repeat", columns="method", values="discrepancy")
    assert (wide["sobol"] < wide["random"]).all()
    with pytest.raises(ValueError, match="n=1 is not allowed"):
        ed.spread_table(space, 1)


def test_simulated_top_fraction_hits_follow_the_formula():
    land = ed.Landscape((1.0, 0.5), (0.4, 0.7))
    hits = ed.top_fraction_hits(land, n_max=60, repeats=1500, seed=4)
    assert hits["n_trials"].tolist() == list(range(1, 61))
    assert hits["simulated"].is_monotonic_increasing
    gap = (hits["simulated"] - hits["theory"]).abs() / np.maximum(hits["stderr"], 1e-3)
    assert gap.max() < 4.5  # within the binomial noise everywhere
    assert hits.iloc[-1]["theory"] == pytest.approx(1 - 0.95**60)


# --- real-training helpers (tables built by hand: no training here) --------------------------


def _real_table() -> pd.DataFrame:
    rows = []
    for r, (low, high) in enumerate([(1e-3, 10.0), (1e-2, 100.0)]):
        grid_lrs = [low * (high / low) ** f for f in (1 / 6, 1 / 2, 5 / 6)]
        for method, lrs in (("grid", grid_lrs), ("random", [0.5, 3.0, 0.01])):
            for i, lr in enumerate(lrs):
                for wd in (1e-6, 1e-5, 1e-4) if method == "grid" else (1e-5,):
                    gone = lr > 2.7
                    loss = np.nan if gone else 2.3 - 0.9 * min(lr, 1.0) + 1e-3 * wd
                    rows.append(
                        {
                            "repeat": r,
                            "method": method,
                            "lr_low": low,
                            "lr_high": high,
                            "lr": lr,
                            "weight_decay": wd,
                            "final_val_loss": np.inf if gone else loss,
                            "diverged": gone,
                            "i": i,
                        }
                    )
    return pd.DataFrame(rows)


def test_best_per_repeat_counts_diverged_runs_as_worst():
    table = _real_table()
    best = ed.best_per_repeat(table)
    assert list(best.columns) == ["lr_low", "lr_high", "grid", "random"]
    assert best.loc[0, "random"] == pytest.approx(2.3 - 0.45, abs=1e-6)
    nan_table = table.assign(final_val_loss=table["final_val_loss"].replace(np.inf, np.nan))
    assert ed.best_per_repeat(nan_table).loc[0, "random"] == best.loc[0, "random"]
    with pytest.raises(ValueError, match="it has no 'repeat' column"):
        ed.best_per_repeat(table.drop(columns="repeat"))


def test_grid_spreads_and_divergence_edge():
    table = _real_table()
    spreads = ed.grid_spreads(table, "weight_decay")
    assert spreads["weight_decay"] == pytest.approx(0.0, abs=1e-6)  # rows agree, diverged or not
    assert spreads["lr"] > 0.3
    edge = ed.divergence_edge(table)
    assert edge == {"largest_trained": pytest.approx(2.15443469), "smallest_diverged": 3.0}
    assert ed.divergence_edge(table[~table["diverged"]])["smallest_diverged"] == math.inf
    with pytest.raises(ValueError, match="it has no grid runs"):
        ed.grid_spreads(table[table["method"] == "random"], "weight_decay")


def test_shifted_ranges_hold_the_good_learning_rates():
    ranges = ed.shifted_ranges(50, seed=0)
    assert all(hi / lo == pytest.approx(1e4) for lo, hi in ranges)
    assert all(1e-4 <= lo <= 0.1 and 1.0 <= hi <= 1000 for lo, hi in ranges)
    with pytest.raises(ValueError, match="highest=0.5 is not allowed"):
        ed.shifted_ranges(2, lowest=1e-4, highest=0.5)


def test_real_grid_vs_random_trains_both_methods_on_each_range():
    data = hp.load_dataset("digits")
    knob = ("weight_decay", Float(1e-6, 1e-4, "log"))
    table = ed.real_grid_vs_random(data, {"epochs": 1, "hidden": (8,)}, knob, repeats=2, seed=0)
    assert len(table) == 2 * 2 * 9
    assert table.groupby(["repeat", "method"])["lr"].nunique().to_dict() == {
        (0, "grid"): 3,
        (0, "random"): 9,
        (1, "grid"): 3,
        (1, "random"): 9,
    }
    assert ((table["lr"] >= table["lr_low"]) & (table["lr"] <= table["lr_high"])).all()
    assert {"final_val_loss", "diverged", "weight_decay"} <= set(table.columns)


def test_rounds_table_summarizes_each_round():
    first = pd.DataFrame({"lr": [0.1, 1.0], "final_val_loss": [1.5, np.nan], "diverged": [0, 1]})
    second = pd.DataFrame({"lr": [0.3, 0.5], "final_val_loss": [1.2, 1.4]})
    table = ed.rounds_table({"a": first, "b": second})
    assert table.loc["a", "best"] == 1.5 and table.loc["a", "median"] == math.inf
    assert table.loc["a", "diverged"] == 1 and table.loc["b", "diverged"] == 0
    assert table.loc["b", "lr_max"] == 0.5


# --- importance --------------------------------------------------------------------------------


def test_main_effect_shares_find_the_hyperparameter_that_matters():
    gen = np.random.default_rng(0)
    n = 64
    lr = 10 ** gen.uniform(-4, 0, n)
    trials = pd.DataFrame(
        {
            "lr": lr,
            "dropout": gen.uniform(0, 0.5, n),
            "width": gen.choice([32, 128], n),
            "final_val_loss": (np.log10(lr) + 2) ** 2 + 0.05 * gen.normal(size=n),
        }
    )
    trials.loc[lr > 0.5, "final_val_loss"] = np.inf  # diverged: worst rank, no inf variance
    space = SearchSpace(
        {"lr": Float(1e-4, 1.0, "log"), "dropout": Float(0.0, 0.5), "width": Choice((32, 128))}
    )
    shares = importance.main_effect_shares(trials, space)
    assert shares["hyperparameter"].iloc[0] == "lr" and shares["share"].iloc[0] > 0.6
    assert (shares.set_index("hyperparameter").loc[["dropout", "width"], "share"] < 0.1).all()
    assert shares.set_index("hyperparameter").loc["width", "groups"] == 2
    assert shares.set_index("hyperparameter").loc["lr", "rule_of_thumb"] == 1


def test_main_effect_shares_rejects_bad_tables():
    space = SearchSpace({"lr": Float(1e-4, 1.0, "log")})
    table = pd.DataFrame({"lr": [0.1] * 10, "final_val_loss": np.arange(10.0)})
    with pytest.raises(ValueError, match="metric='acc' is not allowed"):
        importance.main_effect_shares(table, space, metric="acc")
    with pytest.raises(ValueError, match="it has no column 'lr'"):
        importance.main_effect_shares(table.drop(columns="lr"), space)
    with pytest.raises(ValueError, match="trials with 6 rows is not allowed"):
        importance.main_effect_shares(table.head(6), space)
    with pytest.raises(ValueError, match="bins=1 is not allowed"):
        importance.main_effect_shares(table, space, bins=1)


def test_metric_ranks_put_diverged_runs_last():
    assert importance.metric_ranks([0.3, np.nan, 0.1]).tolist() == [2.0, 3.0, 1.0]
    assert importance.metric_ranks([0.3, 0.9, 0.1], minimize=False).tolist() == [2.0, 1.0, 3.0]


def test_width_as_hidden_translates_a_search_width():
    assert search.width_as_hidden({"lr": 0.1, "width": 64}) == {"lr": 0.1, "hidden": (64,)}
    assert search.width_as_hidden({"lr": 0.1}) == {"lr": 0.1}


# --- plots -------------------------------------------------------------------------------------


def test_plots_return_their_axes():
    land = ed.Landscape((1.0, 0.3), (0.4, 0.6))
    trials = search.propose(land.space(), "random", 9, seed=0)
    ax = search_plots.plot_landscape(land, trials, method="random")
    assert "9 values of x" in ax.get_title() and ax.get_aspect() == 1.0
    duels = ed.grid_vs_random({"a": (1.0, 0.0), "b": (1.0, 1.0)}, budgets=[9, 16], repeats=20)
    ax = search_plots.plot_win_rates(ed.win_rates(duels))
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"a", "b", "coin flip"}
    real = _real_table()
    ax = search_plots.plot_real_search(real)
    assert ax.get_xscale() == "log"
    rounds = {"1": real[real["repeat"] == 0], "2": real[real["repeat"] == 1]}
    assert search_plots.plot_rounds(rounds, zoomed=(0.1, 1.0)).get_xscale() == "log"
    hits = ed.top_fraction_hits(land, n_max=60, repeats=50, seed=0)
    assert search_plots.plot_top_fraction(hits).get_ylim()[1] == pytest.approx(1.02)
    table = ed.spread_table(land.space(), 16, repeats=5, seed=0)
    assert search_plots.plot_discrepancy(table).get_xscale() == "log"
    assert search_plots.plot_spread({"random": np.zeros((3, 2))}).get_aspect() == 1.0
    shares = pd.DataFrame(
        {"hyperparameter": ["lr", "eps2"], "share": [0.3, 0.0], "rule_of_thumb": [1, np.nan]}
    )
    ax = search_plots.plot_importance(shares)
    assert any("tier 1" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="is missing column"):
        search_plots.plot_win_rates(pd.DataFrame({"n_trials": [9]}))
    with pytest.raises(ValueError, match="landscape with 3 axes is not allowed"):
        search_plots.plot_landscape(ed.Landscape((1, 0, 0), (0.5, 0.5, 0.5)))
    plt.close("all")


# --- explorer ----------------------------------------------------------------------------------


def test_explorer_counts_values_and_redraws_on_every_control():
    w = search_explorer(ed.Landscape((1.0, 0.0), (0.3, 0.6)), repeats=60, seed=0)
    assert isinstance(w, SearchExplorer) and w.redraws == 1
    assert w.state["method"] == "random" and w.state["distinct_x"] == 9
    assert "9 distinct values of x" in w.status.value
    w.controls["method"].value = "grid"
    assert w.state["distinct_x"] == 3 and w.redraws == 2
    w.controls["n_trials"].value = 64
    assert w.state["distinct_x"] == 8 and w.state["n_trials"] == 64
    flat = w.state["win_rates"]["random"]
    w.controls["y_weight"].value = 1.0
    assert w.state["win_rates"]["random"] < flat  # random's edge shrinks when y matters
    assert w.redraws == 4
    plt.close("all")


def test_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="repeats=5 is not allowed"):
        search_explorer(repeats=5)
    with pytest.raises(ValueError, match="landscape with 3 axes is not allowed"):
        search_explorer(ed.Landscape((1, 0, 0), (0.5, 0.5, 0.5)))


# --- exercises: the right answer passes, the wrong answers learners give fail ----------------

GRID_RIGHT = {
    "round(root)": lambda n, d: round(n ** (1 / d)),
    "hpcourse": ed.grid_values_per_axis,
    "search by counting": lambda n, d: next(k for k in range(1, n + 1) if k**d >= n),
}
GRID_WRONG = {
    "int(root)": lambda n, d: int(n ** (1 / d)),
    "float root": lambda n, d: n ** (1 / d),
    "square root always": lambda n, d: round(n**0.5),
    "n // d": lambda n, d: n // d,
    "n / d": lambda n, d: n / d,
    "n (random search's count)": lambda n, d: n,
    "str": lambda n, d: str(round(n ** (1 / d))),
}


@pytest.mark.parametrize("name", GRID_RIGHT)
def test_grid_values_checker_accepts_right_answers(name, capsys):
    assert check_grid_values_per_axis(GRID_RIGHT[name]).passed is True
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("name", GRID_WRONG)
def test_grid_values_checker_rejects_wrong_answers(name):
    verdict = check_grid_values_per_axis(GRID_WRONG[name], verbose=False)
    assert verdict.passed is False, name


def test_grid_values_checker_says_why_truncation_fails():
    verdict = check_grid_values_per_axis(lambda n, d: int(n ** (1 / d)), verbose=False)
    assert "(64, 3)" in verdict.message and "int()" in verdict.message


def _ceil_of_logs(p: float, f: float) -> int:
    return math.ceil(math.log(1 - p) / math.log(1 - f))


def _count_up(p: float, f: float) -> int:
    n = 1
    while 1 - (1 - f) ** n < p:
        n += 1
    return n


TRIALS_RIGHT = {
    "ceil of logs": _ceil_of_logs,
    "count up": _count_up,
    "hpcourse": search.trials_for_top_fraction,
}
TRIALS_WRONG = {
    "round": lambda p, f: round(math.log(1 - p) / math.log(1 - f)),
    "int": lambda p, f: int(math.log(1 - p) / math.log(1 - f)),
    "floor + 1": lambda p, f: math.floor(math.log(1 - p) / math.log(1 - f)) + 1,
    "3 / f (the '60' rule)": lambda p, f: math.ceil(3 / f),
    "-ln(1-p) / f": lambda p, f: math.ceil(-math.log(1 - p) / f),
    "float": lambda p, f: math.log(1 - p) / math.log(1 - f),
    "log(p) / log(f)": lambda p, f: math.ceil(math.log(p) / math.log(f)),
    "always 60": lambda p, f: 60,
    "p / f": lambda p, f: math.ceil(p / f),
}


@pytest.mark.parametrize("name", TRIALS_RIGHT)
def test_trials_checker_accepts_right_answers(name):
    assert check_trials_needed(TRIALS_RIGHT[name], verbose=False).passed is True


@pytest.mark.parametrize("name", TRIALS_WRONG)
def test_trials_checker_rejects_wrong_answers(name):
    assert check_trials_needed(TRIALS_WRONG[name], verbose=False).passed is False, name


def test_checkers_report_a_skipped_exercise():
    def stub(*args):
        raise NotImplementedError

    assert check_grid_values_per_axis(stub, verbose=False).passed is None
    assert check_trials_needed(stub, verbose=False).passed is None


# --- the search faults of tools/faults.py break what their names say ---------------------------


@pytest.fixture
def fresh_search():
    """Apply faults, then put back what they replaced (module functions, a class method)."""
    sys.path.insert(0, str(TOOLS))
    import faults

    import hpcourse.space as space_module

    saved = {name: getattr(search, name) for name in ("random_points", "sobol_points")}
    narrowed = space_module.Float.narrowed
    yield faults
    for name, function in saved.items():
        setattr(search, name, function)
    space_module.Float.narrowed = narrowed  # type: ignore[method-assign]
    sys.path.remove(str(TOOLS))


def test_random_is_grid_fault_snaps_random_trials(fresh_search):
    space = ed.Landscape((1.0, 0.0), (0.5, 0.5)).space()
    fresh_search.apply("random_is_grid")
    trials = search.propose(space, "random", 9, seed=0)
    assert ed.distinct_values(trials, "x") <= 3


def test_search_seed_ignored_fault_repeats_the_same_trials(fresh_search):
    space = ed.Landscape((1.0, 0.0), (0.5, 0.5)).space()
    fresh_search.apply("search_seed_ignored")
    assert search.propose(space, "random", 5, seed=1) == search.propose(space, "random", 5, seed=2)
    assert search.propose(space, "sobol", 8, seed=1) == search.propose(space, "sobol", 8, seed=2)


def test_sobol_is_random_fault_and_zoom_ignores_scale_fault(fresh_search):
    space = SearchSpace({"lr": Float(1e-5, 100.0, "log")})
    fresh_search.apply("sobol_is_random")
    fresh_search.apply("zoom_ignores_scale")
    assert search.propose(space, "sobol", 8, seed=3) == search.propose(space, "random", 8, seed=3)
    trials = pd.DataFrame({"lr": [0.3, 1.0, 2.0], "final_val_loss": [1.3, 1.2, 1.25]})
    box = search.zoom(space, trials, top=3).space["lr"]
    assert box.low > 10  # positions on the log axis read as fractions of the raw range
