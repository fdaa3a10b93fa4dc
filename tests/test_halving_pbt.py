"""Successive halving, Hyperband and PBT on the population engine: the bookkeeping of rungs
and budgets, survivors that continue exactly where they were, and exploit/explore that
really copies weights and changes the learning rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import hpcourse as hp
from hpcourse.halving import hyperband, hyperband_brackets, rung_epochs, successive_halving
from hpcourse.pbt import pbt
from hpcourse.population import Population
from hpcourse.space import Float, SearchSpace


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def test_nine_configs_three_rungs_and_the_budget_they_cost(digits):
    configs = [{"lr": lr, "hidden": [32]} for lr in np.geomspace(1e-3, 1.0, 9)]
    res = successive_halving(configs, digits, max_epochs=9, eta=3)
    assert res.rungs == [1, 3, 9]
    reached = res.table["rung"].value_counts().sort_index().tolist()
    stopped = res.table[~res.table["diverged"]]
    assert reached[-1] == 1 and res.table["rung"].max() == 2
    assert sorted(stopped["epochs_run"].unique().tolist()) <= [1, 3, 9]
    assert res.total_epochs <= 9 * 1 + 3 * 3 + 1 * 9 < 9 * 9
    assert res.best.epochs_run == 9


def test_a_survivor_continues_exactly_where_it_was(digits):
    configs = [{"lr": lr, "optimizer": "momentum", "hidden": [32]} for lr in (0.003, 0.03, 0.1)]
    res = successive_halving(configs, digits, max_epochs=4, eta=3, rungs=[2, 4])
    winner = res.best
    alone = hp.train(winner.config, digits)  # the full run of the winning config
    assert winner.step_loss == pytest.approx(alone.step_loss, rel=1e-4)
    assert winner.val_loss == pytest.approx(alone.val_loss, rel=1e-4)


def test_hyperband_brackets_and_a_small_run(digits):
    table = hyperband_brackets(9, eta=3)
    assert table[["n_configs", "first_rung"]].values.tolist() == [[9, 1], [5, 3], [3, 9]]
    space = SearchSpace({"lr": Float(1e-3, 0.5, "log")})
    results = hyperband(space.sample, digits, {"hidden": [16]}, max_epochs=3, eta=3, seed=0)
    assert [len(r.histories) for r in results] == [3, 2]
    assert all(r.best.epochs_run == 3 for r in results)


def test_copy_member_and_set_config(digits):
    configs = [{"lr": 0.05, "epochs": 4, "hidden": [16], "seed": s} for s in (0, 1)]
    pop = Population(configs, digits)
    pop.run(until_epoch=1)
    pop.copy_member(0, 1)
    assert all(torch.equal(w[0], w[1]) for w in pop.state.weights)
    pop.set_config(1, hp.TrainConfig.from_dict(configs[1]).replace(lr=0.2))
    pop.run()
    histories = pop.finish()
    steps = histories[1].steps_per_epoch
    assert histories[1].step_lr[steps - 1] == pytest.approx(0.05)
    assert histories[1].step_lr[steps] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="member=0 is not allowed: it is not training"):
        pop.stop([0])
    with pytest.raises(ValueError, match="config=.* is not allowed: a member keeps"):
        Population(configs, digits).set_config(0, {"hidden": [8]})


def test_pbt_exploits_and_explores(digits):
    configs = [{"lr": lr, "epochs": 6, "hidden": [16]} for lr in (1e-4, 1e-3, 0.03, 0.3)]
    res = pbt(configs, digits, interval=2, fraction=0.25, seed=0)
    assert len(res.lineage) == 2  # one bottom member, at epochs 2 and 4
    assert set(res.lineage["epoch"]) == {2, 4}
    first = res.lineage.iloc[0]
    assert first["member"] != first["copied_from"]
    donor_lr = configs[int(first["copied_from"])]["lr"]
    assert first["lr"] == pytest.approx(donor_lr * 0.8) or first["lr"] == pytest.approx(
        donor_lr * 1.25
    )
    assert res.best.final_val_loss <= min(h.final_val_loss for h in res.histories)
    with pytest.raises(ValueError, match="explore item 'hidden' is not allowed"):
        pbt(configs, digits, explore=["hidden"])


def test_rung_epochs_and_bad_input():
    assert rung_epochs(27, 27) == [1, 3, 9, 27]
    assert rung_epochs(1, 10) == [10]
    with pytest.raises(ValueError, match="eta=1 is not allowed"):
        rung_epochs(9, 9, eta=1)
