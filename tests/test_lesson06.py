"""Lesson 06 (babysitting vs caviar): the babysat run, best-of-n, halving and PBT judged by
full-length runs, retuning after a data change, plots, the explorer, the exercises, and
the two faults the lesson's claims name (halving keeping the worst, PBT not copying)."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import hpcourse as hp
from hpcourse import babysit, caviar, retune
from hpcourse.config import TrainConfig
from hpcourse.exercises import lesson06
from hpcourse.halving import successive_halving
from hpcourse.plots import caviar as caviar_plots
from hpcourse.population import Population
from hpcourse.results import History
from hpcourse.space import Float, SearchSpace
from hpcourse.widgets.babysit import FACTORS, BabysitExplorer, babysit_explorer

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"hidden": [16], "batch_size": 64, "optimizer": "momentum", "weight_decay": 1e-3}


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def fake(lr: float, val_loss: list[float], diverged: bool = False) -> History:
    """A History with given validation losses (epoch 0 first), for table and plot tests."""
    n = len(val_loss)
    return History(
        config=TrainConfig(lr=lr, epochs=max(1, n - 1)),
        epoch=list(range(n)),
        val_loss=list(val_loss),
        val_acc=[0.5] * n,
        train_loss=list(val_loss),
        train_acc=[0.5] * n,
        step_lr=[lr] * (n - 1),
        steps_per_epoch=1,
        diverged=diverged,
    )


# --------------------------------------------------------------------------- babysitting


def test_intervention_changes_the_lr_after_the_epoch_and_nothing_before(digits):
    config = {**SMALL, "lr": 0.1, "epochs": 4}
    alone = hp.train(config, digits)
    cut = babysit.train_with_intervention(config, digits, at_epoch=2, factor=0.1)
    n = cut.steps_per_epoch
    assert cut.step_lr[: 2 * n] == pytest.approx([0.1] * 2 * n)
    assert cut.step_lr[2 * n :] == pytest.approx([0.01] * 2 * n)
    assert cut.val_loss[:3] == alone.val_loss[:3]  # same seed: identical up to the cut
    assert cut.val_loss[3] != alone.val_loss[3]
    assert babysit.epoch_lrs(cut) == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert cut.config.tags["intervention"] == {"at_epoch": 2, "factor": 0.1}
    assert cut.config.lr == 0.1


def test_a_lower_lr_continues_with_the_momentum_it_had(digits):
    """A factor of 1 is the run left alone, step for step: nothing is reset at the cut."""
    config = {**SMALL, "lr": 0.05, "epochs": 3}
    alone = hp.train(config, digits)
    same = babysit.train_with_intervention(config, digits, at_epoch=1, factor=1.0)
    assert same.step_loss == pytest.approx(alone.step_loss, rel=1e-6)


def test_intervention_rejects_bad_input(digits):
    config = {**SMALL, "epochs": 4}
    with pytest.raises(ValueError, match=r"at_epoch=0 is not allowed: at_epoch must be an int"):
        babysit.train_with_intervention(config, digits, 0, 0.1)
    with pytest.raises(ValueError, match="at_epoch=4 is not allowed"):
        babysit.train_with_intervention(config, digits, 4, 0.1)
    with pytest.raises(ValueError, match="at_epoch=2.5 is not allowed"):
        babysit.train_with_intervention(config, digits, 2.5, 0.1)
    with pytest.raises(ValueError, match="factor=0 is not allowed: factor must be > 0"):
        babysit.train_with_intervention(config, digits, 2, 0)
    with pytest.raises(ValueError, match="schedule='cosine' .* is not allowed for a babysat run"):
        babysit.train_with_intervention({**config, "schedule": "cosine"}, digits, 2, 0.1)
    with pytest.raises(ValueError, match="warmup_epochs=1"):
        babysit.train_with_intervention({**config, "warmup_epochs": 1}, digits, 2, 0.1)


def test_lr_in_epoch():
    assert babysit.lr_in_epoch(0.1, {12: 0.1}, 12) == 0.1
    assert babysit.lr_in_epoch(0.1, {12: 0.1}, 13) == pytest.approx(0.01)
    assert babysit.lr_in_epoch(0.1, {12: 0.1, 8: 0.5}, 30) == pytest.approx(0.005)
    assert babysit.lr_in_epoch(0.3, {}, 1) == 0.3
    with pytest.raises(ValueError, match="epoch=0 is not allowed"):
        babysit.lr_in_epoch(0.1, {}, 0)
    with pytest.raises(ValueError, match=r"interventions\[3\]=-1 is not allowed"):
        babysit.lr_in_epoch(0.1, {3: -1}, 5)


def test_epoch_lrs_needs_steps():
    with pytest.raises(ValueError, match="steps_per_epoch=0 is not allowed"):
        babysit.epoch_lrs(History(config=TrainConfig()))


# --------------------------------------------------------------------------- best of n


def test_best_of_n_matches_brute_force():
    values = [1.3, 0.7, 2.0, 0.9, 1.1, math.inf]
    for n in range(1, 6):
        bests = sorted(min(c) for c in itertools.combinations(values, n))
        for q in (0.25, 0.5, 0.75):
            expected = bests[math.ceil(q * len(bests) - 1e-9) - 1]
            assert caviar.best_of_n(values, n, q) == expected, (n, q)
    assert caviar.best_of_n(values, 6) == 0.7
    assert caviar.best_of_n([math.inf, math.inf, 1.0], 1) == math.inf  # 2 of 3 draws diverged


def test_best_of_n_rejects_bad_input():
    with pytest.raises(ValueError, match="values=\\[\\] is not allowed"):
        caviar.best_of_n([], 1)
    with pytest.raises(ValueError, match=r"n=3 is not allowed: n must be an integer in \[1, 2\]"):
        caviar.best_of_n([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="q=0 is not allowed"):
        caviar.best_of_n([1.0, 2.0], 1, q=0)


def test_best_of_n_table_and_caviar_table():
    runs = [fake(0.1, [2.3, 1.0]), fake(0.3, [2.3, 0.5]), fake(1.0, [2.3], diverged=True)]
    table = caviar.best_of_n_table(runs, seconds=3.0, reference_seconds=2.0)
    assert table["n"].tolist() == [1, 2, 3]
    assert table["typical_best"].tolist() == [1.0, 0.5, 0.5]
    assert table["in_babysat_runs"].tolist() == pytest.approx([0.5, 1.0, 1.5])
    compare = caviar.caviar_table(runs[0], 2.0, runs, 3.0)
    assert compare["best_val_loss"].tolist() == [1.0, 0.5]
    assert compare["seconds_per_model"].tolist() == pytest.approx([2.0, 1.0])
    with pytest.raises(ValueError, match="reference_seconds=0 is not allowed"):
        caviar.best_of_n_table(runs, 1.0, 0)


# --------------------------------------------------------------------------- repeats, halving


def test_repeat_configs_draw_fresh_configs_and_seeds():
    space = SearchSpace({"lr": Float(1e-3, 1.0, "log")})
    groups = caviar.repeat_configs(space, {"epochs": 3}, 4, 3, np.random.default_rng(0), seed=10)
    assert [len(g) for g in groups] == [4, 4, 4]
    assert [g[0].seed for g in groups] == [10, 11, 12]
    assert all(c.epochs == 3 for g in groups for c in g)
    assert len({c.lr for g in groups for c in g}) == 12
    with pytest.raises(ValueError, match="repeats=0 is not allowed"):
        caviar.repeat_configs(space, None, 4, 0, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("n", "rungs", "eta", "expected"),
    [
        (9, [1, 3, 9], 3, 21),
        (27, [1, 3, 9, 27], 3, 81),
        (10, [2, 6, 18], 3, 60),
        (7, [1, 3], 2, 15),
        (5, [4], 3, 20),
        (1, [1, 5], 3, 5),
    ],
)
def test_halving_epochs(n, rungs, eta, expected):
    assert caviar.halving_epochs(n, rungs, eta) == expected


def test_halving_epochs_rejects_bad_rungs():
    with pytest.raises(ValueError, match=r"rungs=\[\] is not allowed"):
        caviar.halving_epochs(9, [], 3)
    with pytest.raises(ValueError, match="rungs must strictly increase"):
        caviar.halving_epochs(9, [3, 3, 9], 3)
    with pytest.raises(ValueError, match="eta=1 is not allowed"):
        caviar.halving_epochs(9, [3, 9], 1)


@pytest.fixture(scope="module")
def repeats(digits):
    space = SearchSpace({"lr": Float(1e-3, 3.0, "log")})
    base = {**SMALL, "epochs": 6}
    groups = caviar.repeat_configs(space, base, 6, 2, np.random.default_rng(1), seed=0)
    return groups, caviar.train_repeats(groups, digits)


def test_train_repeats_equals_training_each_config(digits, repeats):
    groups, truth = repeats
    assert [len(g) for g in truth] == [6, 6]
    alone = hp.train(groups[1][2], digits)
    assert truth[1][2].val_loss == pytest.approx(alone.val_loss, rel=1e-4)


def test_replayed_halving_is_what_successive_halving_does(digits, repeats):
    groups, truth = repeats
    assert any(h.diverged for g in truth for h in g)  # lr up to 3: some blow up
    for rungs in ([2, 6], [1, 3, 6]):
        for group, full in zip(groups, truth, strict=True):
            real = successive_halving(group, digits, max_epochs=6, eta=2, rungs=rungs)
            top = real.table.index[real.table["rung"] == real.table["rung"].max()].tolist()
            survivors, epochs = caviar.simulate_halving(full, rungs, eta=2)
            assert survivors == sorted(top)
            assert epochs == real.total_epochs


def test_halving_vs_full_and_tradeoff(digits, repeats):
    groups, truth = repeats
    table, results = caviar.halving_vs_full(groups, truth, digits, rungs=[2, 6], eta=3)
    assert len(results) == 2
    for row, full in zip(table.itertuples(), truth, strict=True):
        assert row.winner_loss == min(h.final_val_loss for h in full)
        assert row.regret >= 0 and (row.regret == 0) == row.kept
        assert row.halving_epochs < row.full_epochs
    trade = caviar.halving_tradeoff(truth, {"late": [5, 6], "none": [6]}, eta=3)
    assert trade.loc[trade["schedule"] == "none", "kept_rate"].item() == 1.0
    assert trade.loc[trade["schedule"] == "none", "epochs_share"].item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="truth has 1 repeats, groups 2"):
        caviar.halving_vs_full(groups, truth[:1], digits, rungs=[2, 6])


def test_pbt_vs_random_spends_the_same_epochs_and_exploits_copy(digits, repeats):
    groups, truth = repeats
    table, results = caviar.pbt_vs_random(groups, truth, digits, interval=2, fraction=0.34)
    assert (table["budget_epochs"] == 6 * 6).all()
    assert (table[["random_epochs", "pbt_epochs"]] <= 36).all().all()
    for row, full, res in zip(table.itertuples(), truth, results, strict=True):
        assert row.random_best == min(h.final_val_loss for h in full)
        assert row.gain == pytest.approx(row.random_best - res.best.final_val_loss)
    jumps = pd.concat([caviar.exploit_jumps(r) for r in results]).dropna()
    far = jumps[jumps["gap_before"] > 0.1]
    assert len(far) and (far["gap_after"] < 0.5 * far["gap_before"]).all()


# --------------------------------------------------------------------------- retuning


def test_without_standardization_undoes_the_scaling(digits):
    raw = retune.without_standardization(digits)
    assert raw.name == "digits (raw)"
    assert float(raw.x_train.min()) == pytest.approx(0.0, abs=1e-4)
    assert float(raw.x_val.max()) == pytest.approx(16.0, abs=1e-4)
    assert torch.equal(raw.y_train, digits.y_train) and raw.feature_mean is None
    assert float(raw.x_test.round().sub(raw.x_test).abs().max()) < 1e-4  # whole intensities
    with pytest.raises(ValueError, match="records no standardization"):
        retune.without_standardization(raw)


def test_retune_tables():
    runs = {
        "a": [fake(0.01, [2.3, 0.9]), fake(0.1, [2.3, 0.4]), fake(1.0, [2.3], diverged=True)],
        "b": [fake(0.01, [2.3, 0.5]), fake(0.1, [2.3, 1.5]), fake(1.0, [2.3, 2.0])],
    }
    table = retune.retune_table(runs, max_loss=1.0)
    assert table["best_lr"].tolist() == [0.1, 0.01]
    assert table["best_on_edge"].tolist() == [False, True]
    assert table["largest_lr_that_trains"].tolist() == [0.1, 0.01]
    sweep = retune.lr_sweep_table(runs)
    assert len(sweep) == 6 and sweep["diverged"].sum() == 1
    nothing = retune.retune_table({"c": [fake(0.1, [2.3, 2.0])]}, max_loss=1.0)
    assert math.isnan(nothing["largest_lr_that_trains"].item())
    with pytest.raises(ValueError, match="max_loss=0 is not allowed"):
        retune.retune_table(runs, max_loss=0)


# --------------------------------------------------------------------------- plots


def test_plots_return_their_axes(digits, repeats):
    groups, truth = repeats
    runs = {"left alone": fake(0.1, [2.3, 1.2, 1.1]), "babysat": fake(0.1, [2.3, 1.2, 0.9])}
    for draw in (
        lambda ax: caviar_plots.plot_intervention(runs, 1, ax=ax),
        lambda ax: caviar_plots.plot_epoch_lrs(runs, ax=ax),
        lambda ax: caviar_plots.plot_population(truth[0], runs["babysat"], ax=ax),
        lambda ax: caviar_plots.plot_best_of_n(
            caviar.best_of_n_table(truth[0], 1.0, 0.5), 0.3, 2.0, ax=ax
        ),
        lambda ax: caviar_plots.plot_halving(truth[0], [6] * 6, [2, 6], ax=ax),
        lambda ax: caviar_plots.plot_halving_tradeoff(
            caviar.halving_tradeoff(truth, {"2, 6": [2, 6]}), ax=ax
        ),
        lambda ax: caviar_plots.plot_retune(
            retune.lr_sweep_table({"a": truth[0]}), max_loss=1.0, ax=ax
        ),
    ):
        fig, ax = plt.subplots()
        assert draw(ax) is ax
        plt.close(fig)


def test_pbt_plots_draw_every_member(digits):
    from hpcourse.pbt import pbt

    configs = [{**SMALL, "lr": lr, "epochs": 4} for lr in (0.003, 0.03, 0.1, 0.3)]
    result = pbt(configs, digits, interval=2, fraction=0.25, seed=0, progress=False)
    fig, axes = plt.subplots(1, 2)
    assert caviar_plots.plot_pbt(result, ax=axes[0]) is axes[0]
    assert caviar_plots.plot_pbt_lrs(result, ax=axes[1]) is axes[1]
    assert len(axes[1].patches) == 4  # one staircase of learning rates per member
    plt.close(fig)


def test_plots_reject_bad_tables(repeats):
    _, truth = repeats
    with pytest.raises(ValueError, match="lacks the columns"):
        caviar_plots.plot_best_of_n(pd.DataFrame({"n": [1]}), 0.5)
    with pytest.raises(ValueError, match="stopped_at has 2 entries for 6 runs"):
        caviar_plots.plot_halving(truth[0], [1, 2], [2, 6])


# --------------------------------------------------------------------------- explorer


def test_explorer_retrains_when_a_control_moves(digits):
    config = {**SMALL, "lr": 0.2, "epochs": 5}
    baseline = hp.train(config, digits)
    known = {(3, 0.1): babysit.train_with_intervention(config, digits, 3, 0.1)}
    ex = babysit_explorer(config, digits, at_epoch=3, baseline=baseline, known=known)
    assert isinstance(ex, BabysitExplorer) and ex.redraws == 1
    assert ex.state["run"] is known[(3, 0.1)]  # the first drawing reused the known run
    assert "after epoch 3" in ex.status.value
    ex.controls["at_epoch"].value = 2
    assert ex.redraws == 2 and ex.state["at_epoch"] == 2
    assert ex.state["run"].config.tags["intervention"] == {"at_epoch": 2, "factor": 0.1}
    assert ex.state["gap_end"] == pytest.approx(
        baseline.final_val_loss - ex.state["run"].final_val_loss
    )
    ex.controls["factor"].value = FACTORS[-1]
    assert ex.redraws == 3 and ex.state["factor"] == FACTORS[-1]


def test_explorer_rejects_bad_input(digits):
    config = {**SMALL, "epochs": 5}
    with pytest.raises(ValueError, match="factor=0.2 is not allowed: factor must be one of"):
        babysit_explorer(config, digits, at_epoch=2, factor=0.2)
    with pytest.raises(ValueError, match="at_epoch=5 is not allowed"):
        babysit_explorer(config, digits, at_epoch=5)


# --------------------------------------------------------------------------- exercises


def test_lr_in_epoch_checker_accepts_the_right_answer_only():
    assert lesson06.check_lr_in_epoch(babysit.lr_in_epoch, verbose=False).passed is True

    def on_the_epoch_itself(lr, interventions, epoch):
        return lr * math.prod(f for e, f in interventions.items() if epoch >= e)

    def last_change_only(lr, interventions, epoch):
        done = [e for e in interventions if epoch > e]
        return lr * interventions[max(done)] if done else lr

    def stops_at_first_later_key(lr, interventions, epoch):  # assumes the dict is sorted
        for e, f in interventions.items():
            if epoch <= e:
                break
            lr *= f
        return lr

    def rounded(lr, interventions, epoch):
        return round(babysit.lr_in_epoch(lr, interventions, epoch), 3)

    def ignores_raises(lr, interventions, epoch):
        return lr * math.prod(min(f, 1.0) for e, f in interventions.items() if epoch > e)

    wrong = [on_the_epoch_itself, last_change_only, stops_at_first_later_key, rounded]
    for attempt in [*wrong, ignores_raises, lambda lr, i, e: str(lr)]:
        assert lesson06.check_lr_in_epoch(attempt, verbose=False).passed is False, attempt

    def stub(lr, interventions, epoch):
        raise NotImplementedError

    assert lesson06.check_lr_in_epoch(stub, verbose=False).passed is None


def test_halving_epochs_checker_accepts_the_right_answer_only():
    assert lesson06.check_halving_epochs(caviar.halving_epochs, verbose=False).passed is True

    def no_halving(n, rungs, eta):
        return n * rungs[-1]

    def restarts_survivors(n, rungs, eta):
        total = 0
        for i, epoch in enumerate(rungs):
            total += n * epoch
            n = math.ceil(n / eta) if i < len(rungs) - 1 else n
        return total

    def rounds_down(n, rungs, eta):
        total, previous = 0, 0
        for i, epoch in enumerate(rungs):
            total += n * (epoch - previous)
            previous = epoch
            n = max(1, n // eta) if i < len(rungs) - 1 else n
        return total

    def divides_exactly(n, rungs, eta):
        total, previous = 0.0, 0
        for i, epoch in enumerate(rungs):
            total += n * (epoch - previous)
            previous = epoch
            n = n / eta if i < len(rungs) - 1 else n
        return total

    for attempt in (no_halving, restarts_survivors, rounds_down, divides_exactly):
        assert lesson06.check_halving_epochs(attempt, verbose=False).passed is False, attempt


def test_which_fits_checker():
    assert lesson06.check_which_fits(dict(lesson06.WHICH_FITS), verbose=False).passed is True
    assert lesson06.check_which_fits(..., verbose=False).passed is None
    assert lesson06.check_which_fits(None, verbose=False).passed is None
    all_caviar = dict.fromkeys(lesson06.WHICH_FITS, "caviar")
    verdict = lesson06.check_which_fits(all_caviar, verbose=False)
    assert verdict.passed is False and "3 of 4 not yet right" in verdict.message
    swapped = {**lesson06.WHICH_FITS, "early_signal": "pbt", "schedule_matters": "halving"}
    assert lesson06.check_which_fits(swapped, verbose=False).passed is False
    assert lesson06.check_which_fits({"one_big_model": "babysit"}, verbose=False).passed is False
    typo = {**lesson06.WHICH_FITS, "one_big_model": "panda"}
    verdict = lesson06.check_which_fits(typo, verbose=False)
    assert verdict.passed is False and "'panda' is not one of" in verdict.message
    assert lesson06.check_which_fits(list(lesson06.CHOICES), verbose=False).passed is False


# --------------------------------------------------------------------------- faults


FAULT_CHECK = """
import sys
sys.path.insert(0, {tools!r})
import faults
faults.apply({fault!r})
import hpcourse as hp
from hpcourse.halving import successive_halving
from hpcourse.pbt import pbt
from hpcourse import caviar
data = hp.load_dataset("digits", seed=0)
base = {{"hidden": [16], "batch_size": 64, "optimizer": "momentum", "weight_decay": 1e-3,
        "epochs": 4}}
lrs = (0.001, 0.003, 0.03, 0.1, 0.2, 0.3)
if {fault!r} == "halving_keeps_worst":
    res = successive_halving([{{**base, "lr": lr}} for lr in lrs], data, max_epochs=4, eta=3,
                             rungs=[2, 4], progress=False)
    print(sorted(res.table.index[res.table["rung"] == 1].tolist()))
else:
    res = pbt([{{**base, "lr": lr}} for lr in lrs], data, interval=2, fraction=0.34, seed=0,
              progress=False)
    print(round(float(caviar.exploit_jumps(res)["gap_after"].max()), 4))
"""


def _faulted(fault: str) -> str:
    code = FAULT_CHECK.format(tools=str(ROOT / "tools"), fault=fault)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_fault_halving_keeps_worst_keeps_the_slowest(digits):
    assert _faulted("halving_keeps_worst") == "[0, 1]"  # the two smallest lrs go on
    configs = [{**SMALL, "hidden": [16], "lr": lr} for lr in (0.001, 0.003, 0.03, 0.1, 0.2, 0.3)]
    fine = successive_halving(configs, digits, max_epochs=4, eta=3, rungs=[2, 4], progress=False)
    kept = fine.table.index[fine.table["rung"] == 1].tolist()
    assert len(kept) == 2 and 0 not in kept and 1 not in kept


def test_fault_pbt_exploit_ignored_leaves_the_gap(digits):
    from hpcourse.pbt import pbt

    configs = [{**SMALL, "hidden": [16], "epochs": 4, "lr": lr} for lr in (0.001, 0.003, 0.03)]
    configs += [{**SMALL, "hidden": [16], "epochs": 4, "lr": lr} for lr in (0.1, 0.2, 0.3)]
    fine = pbt(configs, digits, interval=2, fraction=0.34, seed=0, progress=False)
    copied = caviar.exploit_jumps(fine)["gap_after"].max()
    assert copied < 0.05  # a real copy: the member sits on its donor's curve
    assert float(_faulted("pbt_exploit_ignored")) > 0.1  # no copy: it is still far behind
    assert Population.copy_member.__module__ == "hpcourse.population"  # untouched here
