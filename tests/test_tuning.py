"""The Optuna bridge of lesson 11: pruned trials charged for the epochs they trained, studies
stopped at an epoch budget, methods raced on seeds, workers that sign their trials."""

from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import search, tuning, workers
from hpcourse.space import Choice, Float, SearchSpace

SPACE = SearchSpace({"lr": Float(1e-3, 1.0, "log"), "width": Choice((16, 32))})
BASE = {"epochs": 3, "hidden": [16], "optimizer": "momentum"}


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def test_pruned_objective_translates_and_records_epochs(digits):
    objective = tuning.pruned_objective(digits, BASE, SPACE, translate=search.width_as_hidden)
    study = tuning.run_study(objective, 4, sampler="random", seed=0)
    table = tuning.with_epochs_spent(tuning.study_table(study))
    assert set(table["width"]) <= {16, 32}
    assert table["epochs"].between(1, 3).all()
    assert table["epochs_spent"].tolist() == table["epochs"].cumsum().tolist()


def test_a_study_stops_at_its_epoch_budget(digits):
    objective = tuning.pruned_objective(digits, BASE, SPACE, translate=search.width_as_hidden)
    study = tuning.run_study(objective, 50, sampler="random", seed=1, epoch_budget=7)
    spent = sum(t.user_attrs["epochs"] for t in study.trials)
    assert 7 <= spent < 7 + 3 and len(study.trials) < 50
    with pytest.raises(ValueError, match="epoch_budget=0 is not allowed"):
        tuning.run_study(objective, 1, epoch_budget=0)


def test_race_gives_every_method_the_same_budget_and_a_pruner_stops_trials(digits):
    methods = {"random": ("random", "none"), "pruned": ("random", "median")}
    result = tuning.race(
        digits,
        {**BASE, "epochs": 4},
        SPACE,
        seeds=[0, 1],
        epoch_budget=40,
        methods=methods,
        translate=search.width_as_hidden,
        progress=False,
    )
    final = result.final()
    assert len(final) == 4 and (final["epochs"] >= 40).all() and (final["epochs"] < 44).all()
    pruned = result.table[result.table["method"] == "pruned"]
    assert (pruned["state"] == "PRUNED").any()
    assert final.set_index("method").loc["pruned", "trials"].min() > 10  # 40 / 4 without pruning
    curves = result.curves([0, 20, 40])
    assert set(curves) == {"random", "pruned"} and all(len(c) == 2 for c in curves.values())
    assert math.isnan(curves["random"][0][0]) and curves["random"][0][2] <= curves["random"][0][1]
    with pytest.raises(ValueError, match="sampler='cmaes' is not allowed"):
        tuning.race(
            digits, BASE, SPACE, seeds=[0], epoch_budget=3, methods={"x": ("cmaes", "none")}
        )
    with pytest.raises(ValueError, match="seeds=\\[\\] is not allowed"):
        tuning.race(digits, BASE, SPACE, seeds=[], epoch_budget=3)


def test_same_seed_random_sampler_proposes_the_same_configs_with_or_without_pruning(digits):
    """The premise of lesson 11's pruning comparison: random proposals ignore the results."""
    objective = tuning.pruned_objective(digits, BASE, SPACE, translate=search.width_as_hidden)
    plain = tuning.run_study(objective, 6, sampler="random", seed=3)
    pruned = tuning.run_study(objective, 6, sampler="random", pruner="median", seed=3)
    assert [t.params for t in plain.trials] == [t.params for t in pruned.trials]


def test_best_at_epochs_and_bad_tables():
    table = pd.DataFrame({"epochs_spent": [3, 6], "best_so_far": [1.0, 0.5]})
    assert tuning.best_at_epochs(table, [2, 3, 7])[1:] == [1.0, 0.5]
    with pytest.raises(ValueError, match="no 'attr.epochs' column"):
        tuning.with_epochs_spent(pd.DataFrame({"trial": [0]}))


def test_workers_sign_their_trials(tmp_path):
    url = f"journal://{tmp_path / 'signed.log'}"
    workers.create_study(workers.storage_from_url(url), "signed")
    procs = workers.start_workers(2, url, "signed", "quadratic", 5)
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    study = optuna.load_study(study_name="signed", storage=workers.storage_from_url(url))
    names = [t.user_attrs["worker"] for t in study.trials]
    assert sorted(names) == ["worker-1"] * 5 + ["worker-2"] * 5


def test_best_so_far_plot_on_an_epoch_axis():
    from hpcourse.plots.tracking import plot_best_so_far

    ax = plot_best_so_far(
        {"tpe": [[math.nan, 2.0, 1.0]], "random": [[3.0, 3.0, 2.5]]},
        x=[5, 10, 15],
        xlabel="epochs spent",
        colors={"tpe": "tab:blue"},
    )
    assert ax.get_xlabel() == "epochs spent"
    assert list(ax.lines[0].get_xdata()) == [5, 10, 15]
    assert ax.lines[0].get_color() == "tab:blue"


FAULT_CHECK = """
import sys, json, tempfile, pathlib
sys.path.insert(0, {tools!r})
import faults
if {fault!r}:
    faults.apply({fault!r})
import optuna
from hpcourse import tuning, workers
optuna.logging.set_verbosity(optuna.logging.ERROR)

def stepped(trial):
    x = trial.suggest_float("x", -3.0, 3.0)
    for step in range(5):
        trial.report((x - 1.0) ** 2 + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return (x - 1.0) ** 2

pruned = {{}}
for name in ("median", "halving"):
    study = tuning.run_study(stepped, 30, sampler="random", pruner=name, seed=0)
    pruned[name] = sum(t.state.name == "PRUNED" for t in study.trials)
proposals = {{}}
for name in ("tpe", "random"):
    study = tuning.run_study(lambda t: (t.suggest_float("x", -3.0, 3.0) - 1.0) ** 2, 12,
                             sampler=name, seed=0)
    proposals[name] = [t.params["x"] for t in study.trials]
url = "journal://" + str(pathlib.Path(tempfile.mkdtemp()) / "s.log")
workers.create_study(workers.storage_from_url(url), "s")
for proc in workers.start_workers(2, url, "s", "quadratic", 3):
    proc.communicate(timeout=120)
shared = optuna.load_study(study_name="s", storage=workers.storage_from_url(url))
print(json.dumps({{"pruned": pruned, "same": proposals["tpe"] == proposals["random"],
                  "trials": len(shared.trials)}}))
"""


def _fault_check(fault: str) -> dict:
    import json
    import subprocess
    import sys
    from pathlib import Path

    tools = Path(__file__).resolve().parents[1] / "tools"
    code = FAULT_CHECK.format(tools=str(tools), fault=fault)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_the_tuning_faults_break_what_they_say_and_nothing_else():
    clean = _fault_check("")
    assert clean["pruned"]["median"] > 0 and clean["pruned"]["halving"] > 0
    assert not clean["same"] and clean["trials"] == 6
    never = _fault_check("pruner_never_prunes")
    assert never["pruned"] == {"median": 0, "halving": 0} and never["trials"] == 6
    tpe = _fault_check("tpe_is_random")
    assert tpe["same"] and tpe["pruned"] == clean["pruned"]
    dropped = _fault_check("worker_trials_dropped")
    assert dropped["trials"] == 3 and dropped["pruned"] == clean["pruned"]
