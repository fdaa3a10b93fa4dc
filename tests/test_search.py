"""Search: proposals on the right scales, a search loop that survives failing trials and logs
every trial, coarse-to-fine zooming that warns at the edge of the space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import search
from hpcourse.space import Choice, Float, Int, SearchSpace

SPACE = SearchSpace({"lr": Float(1e-4, 1.0, "log"), "momentum": Float(0.5, 0.99, "one_minus_log")})


def test_a_3x3_grid_tests_3_values_per_axis_and_random_tests_9():
    grid = search.propose(SPACE, "grid", 9)
    rand = search.propose(SPACE, "random", 9, seed=0)
    assert len({c["lr"] for c in grid}) == 3 and len({c["momentum"] for c in grid}) == 3
    assert len({c["lr"] for c in rand}) == 9
    assert sorted({round(np.log10(c["lr"]), 6) for c in grid}) == pytest.approx(
        [-4 + 4 / 6, -2, -4 / 6]
    )  # cell centres of a log axis


def test_proposals_are_seeded_and_sobol_is_more_even_than_random():
    assert search.propose(SPACE, "random", 5, seed=3) == search.propose(SPACE, "random", 5, seed=3)
    assert search.propose(SPACE, "sobol", 8, seed=3) != search.propose(SPACE, "sobol", 8, seed=4)
    worse = [
        search.discrepancy(SPACE, search.random_points(SPACE, 64, s))
        > search.discrepancy(SPACE, search.sobol_points(SPACE, 64, s))
        for s in range(10)
    ]
    assert all(worse)


def test_a_grid_needs_a_whole_number_of_points_per_axis():
    with pytest.raises(ValueError, match=r"n=10 is not allowed for a grid over 2 dimensions"):
        search.propose(SPACE, "grid", 10)
    with pytest.raises(ValueError, match="method='bayes' is not allowed"):
        search.propose(SPACE, "bayes", 4)


def test_run_search_keeps_failed_trials_and_tracks_the_best(tmp_path):
    def objective(config):
        if config["lr"] > 0.1:
            raise RuntimeError("too hot")
        return {"final_val_loss": abs(np.log10(config["lr"]) + 2)}

    log = hp.ExperimentLog(tmp_path / "trials.jsonl")
    table = search.run_search(objective, SPACE, budget=12, seed=0, log=log, progress=False)
    failed = table[table["status"] == "failed"]
    assert len(failed) >= 1 and failed["error"].str.contains("too hot").all()
    ok = table[table["status"] == "ok"]
    assert table["best_so_far"].iloc[-1] == ok["final_val_loss"].min()
    assert table["best_so_far"].is_monotonic_decreasing
    assert len(log) == 12 and {r["study"]["method"] for r in log.records()} == {"random"}


def test_an_objective_that_returns_no_dict_is_a_failed_trial():
    table = search.run_search(lambda c: 3.0, SPACE, budget=2, seed=0, progress=False)
    assert (table["status"] == "failed").all()
    assert table["error"].str.contains("not a dict of metrics").all()


def test_train_objective_runs_a_batch_as_populations_with_the_same_results():
    data = hp.load_dataset("digits")
    objective = search.TrainObjective(data, {"optimizer": "momentum", "epochs": 2})
    batch = search.run_search(objective, SPACE, method="sobol", budget=4, seed=1)
    one_by_one = [objective(c) for c in search.propose(SPACE, "sobol", 4, seed=1)]
    assert batch["final_val_loss"].tolist() == pytest.approx(
        [m["final_val_loss"] for m in one_by_one], rel=1e-4
    )


def test_zoom_narrows_around_the_best_and_warns_at_an_edge():
    space = SearchSpace(
        {"lr": Float(1e-4, 1.0, "log"), "width": Int(16, 256), "act": Choice(("relu", "tanh"))}
    )
    rng = np.random.default_rng(0)
    trials = pd.DataFrame(space.sample(40, rng))
    trials["final_val_loss"] = np.abs(np.log10(trials["lr"]) + 2)  # best lr = 1e-2
    zoomed = search.zoom(space, trials, top=4)
    assert zoomed.space["lr"].low > 1e-4 and zoomed.space["lr"].high < 1.0
    assert zoomed.space["lr"].low < 1e-2 < zoomed.space["lr"].high
    assert zoomed.space["lr"].scale == "log" and zoomed.space["act"] == space["act"]
    assert zoomed.on_boundary == {} and zoomed.warning() == ""
    trials["final_val_loss"] = -np.log10(trials["lr"])  # best = the largest lr tried
    edge = search.zoom(space, trials, top=4)
    assert edge.on_boundary == {"lr": "high"} and "edge of the space" in edge.warning()


def test_the_sixty_trial_rule():
    assert search.chance_of_top_fraction(60) == pytest.approx(1 - 0.95**60)
    assert search.trials_for_top_fraction(0.95, 0.05) == 59
    assert search.chance_of_top_fraction(59) >= 0.95 > search.chance_of_top_fraction(58)
