"""Lesson 07 (epochs and early stopping): the patience rule replayed on recorded curves and
in both engines, the stopping table, the optimism of a chosen score, the training-length
sweep and its tables, plots, the explorer, the exercise checkers (with wrong answers) and
the fault the lesson adds (restore_best ignored)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import stopping
from hpcourse.config import TrainConfig
from hpcourse.exercises import lesson07
from hpcourse.plots import stopping as stopping_plots
from hpcourse.results import History
from hpcourse.widgets.stopping import MIN_DELTAS, StoppingExplorer, stopping_explorer

ROOT = Path(__file__).resolve().parents[1]
# Adam at a large lr on digits: the validation loss turns up within a dozen epochs.
OVERFIT = {"optimizer": "adam", "lr": 0.01, "hidden": [64], "batch_size": 64, "epochs": 14}
WAVE = [2.0, 1.5, 1.2, 1.25, 1.3, 1.1, 1.4, 1.5]


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def full_run(digits):
    return hp.train({**OVERFIT, "seed": 0}, digits)


def fake(val_loss, *, lr=0.01, epochs=None, seed=0, schedule="constant", diverged=False, **cfg):
    """A History with given validation losses (epoch 0 first), for table and plot tests."""
    n = len(val_loss)
    config = TrainConfig(lr=lr, epochs=epochs or max(1, n - 1), seed=seed, schedule=schedule, **cfg)
    return History(
        config=config,
        epoch=list(range(n)),
        val_loss=list(val_loss),
        val_acc=[0.5] * n,
        train_loss=[v * 0.9 for v in val_loss],
        train_acc=[0.5] * n,
        step_lr=[lr] * (n - 1),
        steps_per_epoch=1,
        diverged=diverged,
    )


# --------------------------------------------------------------------------- the patience rule


def reference_rule(val_loss, patience, min_delta):
    """The rule written out once more, independently of hpcourse.rules."""
    best, best_loss, without = 0, val_loss[0], 0
    for epoch in range(1, len(val_loss)):
        if val_loss[epoch] < best_loss - min_delta:
            best, best_loss, without = epoch, val_loss[epoch], 0
        else:
            without += 1
            if patience is not None and without >= patience:
                return best, epoch
    return best, len(val_loss) - 1


def test_replay_on_known_curves():
    r = stopping.replay_early_stopping(WAVE, patience=2)
    assert (r.best_epoch, r.stop_epoch, r.stopped_early) == (2, 4, True)
    assert r.restored_loss == 1.2 and r.lowest_loss == 1.1
    assert r.wasted == 2 and r.regret == pytest.approx(0.1)
    r = stopping.replay_early_stopping(WAVE, patience=3)
    assert (r.best_epoch, r.stop_epoch, r.stopped_early, r.regret) == (5, 7, False, 0.0)
    never = stopping.replay_early_stopping(WAVE, patience=None)
    assert (never.best_epoch, never.stop_epoch, never.stopped_early) == (5, 7, False)
    # min_delta is measured from the best so far: 1.1 beats 1.2 by 0.1, not by more
    assert stopping.replay_early_stopping(WAVE, patience=5, min_delta=0.1).best_epoch == 2
    # a curve whose first epoch is worse than the untrained model keeps epoch 0
    start = stopping.replay_early_stopping([2.0, 2.1, 2.2, 1.5], patience=2)
    assert (start.best_epoch, start.stop_epoch) == (0, 2)


@pytest.mark.parametrize("seed", range(20))
def test_replay_agrees_with_an_independent_rule_on_random_curves(seed):
    gen = np.random.default_rng(seed)
    curve = list(2.0 - np.cumsum(gen.normal(0.02, 0.05, size=30)))
    for patience in (1, 2, 3, 7, None):
        for min_delta in (0.0, 0.01, 0.05):
            r = stopping.replay_early_stopping(curve, patience, min_delta)
            assert (r.best_epoch, r.stop_epoch) == reference_rule(curve, patience, min_delta)


@pytest.mark.parametrize("seed", range(10))
def test_more_patience_never_restores_a_worse_epoch(seed):
    gen = np.random.default_rng(100 + seed)
    curve = list(2.0 - np.cumsum(gen.normal(0.01, 0.06, size=40)))
    table = stopping.replay_table(curve, [1, 2, 3, 5, 10, 20], [0.0, 0.02])
    for _, group in table.groupby("min_delta"):
        assert group["restored_loss"].is_monotonic_decreasing
        assert group["stop_epoch"].is_monotonic_increasing
    assert (table["regret"] >= 0).all()
    assert list(table.columns) == [
        "patience", "min_delta", "best_epoch", "stop_epoch", "wasted", "restored_loss", "regret"
    ]  # fmt: skip


def test_replay_rejects_bad_input():
    with pytest.raises(ValueError, match="val_loss with 1 values"):
        stopping.replay_early_stopping([2.0], patience=2)
    with pytest.raises(ValueError, match="patience"):
        stopping.replay_early_stopping(WAVE, patience=0)
    with pytest.raises(ValueError, match="patience"):
        stopping.replay_early_stopping(WAVE, patience=1.5)
    with pytest.raises(ValueError, match="min_delta"):
        stopping.replay_early_stopping(WAVE, patience=2, min_delta=-0.1)


def test_replay_stops_where_both_engines_stop(digits, full_run):
    """Same seed, same epochs until the stop: a replay of the full curve is the real run."""
    assert full_run.best_epoch < full_run.epochs_run - 2, "the run must overfit for this test"
    configs = [{**OVERFIT, "seed": 0, "patience": p, "restore_best": True} for p in (1, 2, 3)]
    single = [hp.train(c, digits) for c in configs]
    population = hp.train_many(configs, digits, engine="population", progress=False)
    for config, one, member in zip(configs, single, population, strict=True):
        r = stopping.replay_early_stopping(full_run.val_loss, config["patience"])
        for h in (one, member):
            assert (h.best_epoch, h.epochs_run, h.stopped_early) == (
                r.best_epoch,
                r.stop_epoch,
                r.stopped_early,
            )
            kept = hp.evaluate(h.model, digits.x_val, digits.y_val)[0]
            assert kept == pytest.approx(full_run.val_loss[r.best_epoch], abs=1e-4)
    assert any(h.stopped_early for h in single)


def test_stopping_table_counts_epochs_and_reads_the_kept_weights():
    full = fake([2.0, 1.5, 1.2, 1.3, 1.4, 1.5])
    full.best_epoch = 2
    stopped = fake([2.0, 1.5, 1.2, 1.3, 1.4], patience=2, restore_best=True, epochs=5)
    stopped.best_epoch, stopped.stopped_early = 2, True
    forgot = fake([2.0, 1.5, 1.2, 1.3, 1.4], patience=2, epochs=5)
    forgot.best_epoch = 2
    table = stopping.stopping_table({"full": full, "stopped": stopped, "forgot": forgot})
    assert table.loc["full", "wasted"] == 3 and table.loc["full", "kept_epoch"] == 5
    assert table.loc["stopped", "kept_epoch"] == 2
    assert table.loc["stopped", "kept_val_loss"] == 1.2
    assert table.loc["forgot", "kept_val_loss"] == 1.4  # no restore_best: the last epoch
    assert table.loc["stopped", "patience"] == 2


# --------------------------------------------------------------------------- optimism


def test_a_candidate_fixed_in_advance_has_no_optimism():
    gen = np.random.default_rng(0)
    fixed = gen.gamma(2.0, 0.5, size=(1, 100))
    table = stopping.selection_optimism(fixed, n_splits=50, seed=3)
    assert len(table) == 100 and (table["chosen"] == 0).all()
    assert abs(table["optimism"].mean()) < 1e-12
    assert table["optimism"].std() > 0  # each cut alone may favour either half


def test_choosing_among_equal_candidates_is_optimistic():
    """Forty candidates with the same true loss: any lead on the selection half is luck."""
    gen = np.random.default_rng(1)
    equal = gen.gamma(2.0, 0.5, size=(40, 200))
    table = stopping.selection_optimism(equal, n_splits=50, seed=0)
    assert table["optimism"].mean() > 0.05
    assert table["chosen"].nunique() > 5  # a different "winner" on different halves
    # one clearly better candidate is chosen every time, and shows almost no optimism
    clear = equal.copy()
    clear[7] -= 0.5
    table = stopping.selection_optimism(clear, n_splits=50, seed=0)
    assert (table["chosen"] == 7).all() and abs(table["optimism"].mean()) < 1e-12


def test_optimism_follows_the_seed():
    losses = np.random.default_rng(2).gamma(2.0, 0.5, size=(5, 60))
    a = stopping.selection_optimism(losses, n_splits=10, seed=1)
    b = stopping.selection_optimism(losses, n_splits=10, seed=1)
    c = stopping.selection_optimism(losses, n_splits=10, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_optimism_rejects_bad_input():
    with pytest.raises(ValueError, match="losses of shape"):
        stopping.selection_optimism(np.ones(10))
    with pytest.raises(ValueError, match="losses of shape"):
        stopping.selection_optimism(np.ones((3, 3)))
    with pytest.raises(ValueError, match="n_splits"):
        stopping.selection_optimism(np.ones((2, 10)), n_splits=0)


def test_example_losses_average_to_the_evaluated_loss(digits, full_run):
    losses = stopping.example_losses([full_run.model], digits.x_val, digits.y_val)
    assert losses.shape == (1, len(digits.y_val))
    assert losses.mean() == pytest.approx(full_run.final_val_loss, rel=1e-5)
    model = full_run.model.train()
    stopping.example_losses([model], digits.x_val, digits.y_val)
    assert model.training  # put back as it was
    model.eval()


def test_recorded_example_losses_are_each_epochs_validation_loss(digits):
    config = {**OVERFIT, "seed": 0, "epochs": 3}
    h, per_example = stopping.train_recording_examples(config, digits)
    assert per_example.shape == (3, len(digits.y_val))
    assert per_example.mean(axis=1) == pytest.approx(h.val_loss[1:], rel=1e-5)
    plain = hp.train(config, digits)
    assert plain.val_loss == pytest.approx(h.val_loss, rel=1e-6)  # recording changes nothing


# --------------------------------------------------------------------------- training length


def sweep_table(curves, *, seeds=(0, 1)):
    """A horizon table from {(schedule, epochs): values over LRS}; seed k adds 0.01 * k."""
    rows = []
    for (schedule, epochs), values in curves.items():
        for seed in seeds:
            for lr, v in zip(LRS, values, strict=True):
                rows.append(
                    {
                        "schedule": schedule,
                        "epochs": epochs,
                        "lr": lr,
                        "seed": seed,
                        "diverged": not math.isfinite(v),
                        "final_val_loss": v + 0.01 * seed,
                        "best_val_loss": min(v, 1.3) + 0.01 * seed,
                        "final_train_loss": v / 2,
                    }  # fmt: skip
                )
    return pd.DataFrame(rows)


LRS = [0.001, 0.003, 0.01, 0.03, 0.1]
CURVES = {
    ("constant", 5): [2.0, 1.6, 1.3, 1.2, 1.5],
    ("constant", 40): [1.3, 1.1, 1.4, 1.9, math.inf],
    ("cosine", 5): [2.1, 1.7, 1.4, 1.2, 1.1],
    ("cosine", 40): [1.4, 1.2, 1.1, 1.6, 2.0],
}


def test_horizon_configs_cover_every_combination():
    configs = stopping.horizon_configs(
        {"hidden": [8]}, [0.01, 0.1], epochs=[5, 40], schedules=["constant", "cosine"], seeds=[3]
    )
    assert len(configs) == 8
    assert {(c["schedule"], c["epochs"], c["lr"]) for c in configs} == {
        (s, e, lr) for s in ("constant", "cosine") for e in (5, 40) for lr in (0.01, 0.1)
    }
    assert all(c["hidden"] == [8] and c["seed"] == 3 for c in configs)
    for name in ("lrs", "epochs", "schedules", "seeds"):
        kwargs = {"epochs": [5], "schedules": ["constant"], "seeds": [0], name: []}
        lrs = [] if name == "lrs" else [0.1]
        kwargs.pop("lrs", None)
        with pytest.raises(ValueError, match=f"{name}="):
            stopping.horizon_configs({}, lrs, **kwargs)


def test_horizon_table_marks_diverged_runs_as_infinitely_bad():
    ok = fake([2.0, 1.5, 1.4], lr=0.01, seed=1, schedule="cosine")
    ok.best_epoch = 2
    bad = fake([2.0, 1.5, math.nan], lr=1.0, seed=1, diverged=True)
    table = stopping.horizon_table([ok, bad])
    assert table.loc[0, "final_val_loss"] == 1.4 and table.loc[0, "schedule"] == "cosine"
    assert table.loc[0, "final_train_loss"] == pytest.approx(1.4 * 0.9)
    assert table.loc[1, list(stopping.METRICS)].tolist() == [math.inf] * 3
    with pytest.raises(ValueError, match="histories=\\[\\]"):
        stopping.horizon_table([])


def test_best_lr_by_horizon_reads_the_seed_mean_argmin():
    best = stopping.best_lr_by_horizon(sweep_table(CURVES)).set_index(["schedule", "epochs"])
    assert best["best_lr"].to_dict() == {
        ("constant", 5): 0.03, ("constant", 40): 0.003, ("cosine", 5): 0.1, ("cosine", 40): 0.01
    }  # fmt: skip
    assert best.loc[("cosine", 5), "on_edge"] and not best.loc[("constant", 5), "on_edge"]
    assert best.loc[("constant", 40), "value"] == pytest.approx(1.105)
    assert best.loc[("constant", 40), "seed_best_lrs"] == [0.003, 0.003]
    assert math.isnan(best.loc[("cosine", 5), "fitted_lr"])  # on the edge: no parabola
    assert 0.01 < best.loc[("constant", 5), "fitted_lr"] < 0.03  # 1.3 is nearer than 1.5
    with pytest.raises(ValueError, match="metric"):
        stopping.best_lr_by_horizon(sweep_table(CURVES), metric="val_acc")


def test_fitted_best_lr_finds_the_bottom_between_grid_points():
    lrs = 10.0 ** np.arange(-4, -0.9, 0.5)
    values = (np.log10(lrs) + 2.2) ** 2  # bottom at 10**-2.2, between two grid points
    assert stopping.fitted_best_lr(lrs, values) == pytest.approx(10**-2.2)
    assert stopping.fitted_best_lr(lrs, values + 1.0) == pytest.approx(10**-2.2)
    # scaling every lr by 2 moves the estimate by exactly 2: a wrong lr shows
    assert stopping.fitted_best_lr(lrs * 2, values) == pytest.approx(2 * 10**-2.2)
    assert math.isnan(stopping.fitted_best_lr([0.01, 0.1, 1.0], [1.0, 2.0, 3.0]))
    assert math.isnan(stopping.fitted_best_lr([0.01, 0.1, 1.0], [2.0, 1.0, math.inf]))
    with pytest.raises(ValueError, match="lengths 2 and 2"):
        stopping.fitted_best_lr([0.1, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="lengths 3 and 4"):
        stopping.fitted_best_lr([0.1, 1.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="increasing order"):
        stopping.fitted_best_lr([0.1, 0.01, 1.0], [1.0, 2.0, 3.0])


def test_horizon_shift_and_short_run_cost():
    table = sweep_table(CURVES)
    best = stopping.best_lr_by_horizon(table)
    shift = stopping.horizon_shift(best, short=5, long=40).set_index("schedule")
    assert shift.loc["constant", "ratio"] == pytest.approx(10)
    assert shift.loc["cosine", "ratio"] == pytest.approx(10)
    assert shift.loc["constant", "seed_ratios"] == pytest.approx([10, 10])
    with pytest.raises(ValueError, match="epochs=10"):
        stopping.horizon_shift(best, short=10, long=40)
    cost = stopping.short_run_cost(table, short=5, long=40).set_index("schedule")
    # constant: the 5-epoch winner 0.03 scores 1.9 at 40 epochs, the 40-epoch winner 1.1
    assert cost.loc["constant", "cost_final"] == pytest.approx(0.8)
    assert cost.loc["constant", "cost_best_epoch"] == pytest.approx(0.2)
    assert cost.loc["cosine", "cost_final"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="epochs=10"):
        stopping.short_run_cost(table, short=10, long=40)
    summary = stopping.best_lr_summary(table)
    assert list(summary.columns) == list(stopping.METRICS)
    assert summary.loc[("constant", 40), "final_train_loss"] == 0.003


# --------------------------------------------------------------------------- plots


def test_plots_return_their_axes(full_run):
    stopped = fake(full_run.val_loss[:6], patience=2)
    ax = stopping_plots.plot_overfitting(full_run, stopped)
    labels = ax.get_legend_handles_labels()[1]
    assert any("patience 2" in label for label in labels)
    assert f"lowest validation loss (epoch {full_run.best_epoch})" in labels
    replay = stopping.replay_early_stopping(WAVE, patience=2)
    ax = stopping_plots.plot_replay(WAVE, replay, min_delta=0.01)
    assert any("epoch 5" in label for label in ax.get_legend_handles_labels()[1])
    ax = stopping_plots.plot_replay(WAVE, stopping.replay_early_stopping(WAVE, 10))
    labels = ax.get_legend_handles_labels()[1]
    assert "epochs not trained" not in labels and not any("anywhere" in x for x in labels)
    chosen = stopping.selection_optimism(np.random.default_rng(0).random((4, 20)), n_splits=5)
    assert stopping_plots.plot_optimism(chosen) is not None
    plt.close("all")


def test_horizon_plot_orders_colours_and_skips_diverged_runs():
    table = sweep_table(CURVES)
    ax = stopping_plots.plot_horizon_sweep(table, "constant")
    assert ax.get_xscale() == "log"
    assert ax.get_legend_handles_labels()[1] == ["5 epochs", "40 epochs"]
    _, ax = plt.subplots()
    stopping_plots.plot_horizon_sweep(table, "cosine", metric="best_val_loss", ax=ax)
    assert ax.get_ylabel() == "best val loss"
    with pytest.raises(ValueError, match="schedule='step'"):
        stopping_plots.plot_horizon_sweep(table, "step")
    plt.close("all")


# --------------------------------------------------------------------------- explorer


def test_explorer_replays_when_a_control_moves():
    runs = {"wave": fake(WAVE), "slow": fake([2.0, 1.9, 1.85, 1.845, 1.843, 1.842, 1.841, 1.84])}
    ex = stopping_explorer(runs, patience=2)
    assert isinstance(ex, StoppingExplorer) and ex.redraws == 1
    assert ex.state["replay"].stop_epoch == 4 and ex.state["saved"] == 3
    ex.controls["patience"].value = 3
    assert ex.redraws == 2 and ex.state["replay"].best_epoch == 5
    assert "never ran out" in ex.describe(ex.state)
    ex.controls["run"].value = "slow"
    ex.controls["min_delta"].value = 0.01
    assert ex.redraws == 4
    assert ex.state["replay"].best_epoch == 2 and ex.state["regret"] > 0
    assert "above" in ex.describe(ex.state)
    plt.close("all")


def test_explorer_rejects_bad_input():
    runs = {"wave": fake(WAVE)}
    with pytest.raises(ValueError, match="runs=\\{\\}"):
        stopping_explorer({})
    with pytest.raises(ValueError, match="patience"):
        stopping_explorer(runs, patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        stopping_explorer(runs, min_delta=0.02)
    with pytest.raises(ValueError, match="run"):
        stopping_explorer(runs, run="other")
    early = fake(WAVE[:5])
    early.stopped_early = True
    with pytest.raises(ValueError, match="stopped early or diverged"):
        stopping_explorer({"early": early})
    assert 0.0 in MIN_DELTAS


# --------------------------------------------------------------------------- exercises


def right(val_loss, patience, min_delta):
    return reference_rule(val_loss, patience, min_delta)


def versus_previous(val_loss, patience, min_delta):
    """Counts an epoch as progress when it beats the previous epoch, not the best."""
    best, without = 0, 0
    for e in range(1, len(val_loss)):
        if val_loss[e] < val_loss[e - 1] - min_delta:
            without = 0
            if val_loss[e] < val_loss[best]:
                best = e
        else:
            without += 1
            if without >= patience:
                return best, e
    return best, len(val_loss) - 1


def ties_count(val_loss, patience, min_delta):
    best, without = 0, 0
    for e in range(1, len(val_loss)):
        if val_loss[e] <= val_loss[best] - min_delta:
            best, without = e, 0
        else:
            without += 1
            if without >= patience:
                return best, e
    return best, len(val_loss) - 1


def delta_ignored(val_loss, patience, min_delta):
    return reference_rule(val_loss, patience, 0.0)


def delta_from_previous(val_loss, patience, min_delta):
    best, without = 0, 0
    for e in range(1, len(val_loss)):
        if val_loss[e] < val_loss[best] and val_loss[e] < val_loss[e - 1] - min_delta:
            best, without = e, 0
        else:
            without += 1
            if without >= patience:
                return best, e
    return best, len(val_loss) - 1


def delta_relative(val_loss, patience, min_delta):
    best, without = 0, 0
    for e in range(1, len(val_loss)):
        if val_loss[e] < val_loss[best] * (1 - min_delta):
            best, without = e, 0
        else:
            without += 1
            if without >= patience:
                return best, e
    return best, len(val_loss) - 1


def no_end_clamp(val_loss, patience, min_delta):
    best, _ = reference_rule(val_loss, patience, min_delta)
    return best, best + patience


def one_late(val_loss, patience, min_delta):
    best, stop = reference_rule(val_loss, patience + 1, min_delta)
    return best, min(stop, len(val_loss) - 1)


def skips_epoch_zero(val_loss, patience, min_delta):
    best, stop = reference_rule(val_loss[1:], patience, min_delta)
    return best + 1, stop + 1


def argmin_of_trained(val_loss, patience, min_delta):
    """Stops by the rule but restores the lowest epoch trained, ignoring min_delta."""
    _, stop = reference_rule(val_loss, patience, min_delta)
    return int(np.argmin(val_loss[: stop + 1])), stop


def argmin_of_all(val_loss, patience, min_delta):
    """Restores the lowest epoch of the whole curve, even one never trained."""
    _, stop = reference_rule(val_loss, patience, min_delta)
    return int(np.argmin(val_loss)), stop


def stop_is_best(val_loss, patience, min_delta):
    best, _ = reference_rule(val_loss, patience, min_delta)
    return best, best


def one_based(val_loss, patience, min_delta):
    best, stop = reference_rule(val_loss, patience, min_delta)
    return best + 1, stop + 1


WRONG_RULES = [
    versus_previous,
    ties_count,
    delta_ignored,
    delta_from_previous,
    delta_relative,
    no_end_clamp,
    one_late,
    skips_epoch_zero,
    argmin_of_trained,
    argmin_of_all,
    stop_is_best,
    one_based,
]


def test_the_patience_rule_checker_accepts_right_answers():
    assert lesson07.check_early_stopping(right, verbose=False).passed is True
    as_numpy = lambda v, p, d: tuple(np.int64(x) for x in right(v, p, d))  # noqa: E731
    assert lesson07.check_early_stopping(as_numpy, verbose=False).passed is True
    own = lambda v, p, d: (  # noqa: E731
        (r := stopping.replay_early_stopping(v, p, d)).best_epoch,
        r.stop_epoch,
    )
    assert lesson07.check_early_stopping(own, verbose=False).passed is True


@pytest.mark.parametrize("wrong", WRONG_RULES, ids=lambda f: f.__name__)
def test_the_patience_rule_checker_rejects_wrong_rules(wrong):
    verdict = lesson07.check_early_stopping(wrong, verbose=False)
    assert verdict.passed is False, wrong.__name__
    assert "should be" in verdict.message


def test_the_patience_rule_checker_on_stubs_and_strings():
    def stub(val_loss, patience, min_delta):
        raise NotImplementedError

    assert lesson07.check_early_stopping(stub, verbose=False).passed is None
    as_text = lambda v, p, d: tuple(str(x) for x in right(v, p, d))  # noqa: E731
    assert lesson07.check_early_stopping(as_text, verbose=False).passed is False
    only_best = lambda v, p, d: right(v, p, d)[0]  # noqa: E731
    assert lesson07.check_early_stopping(only_best, verbose=False).passed is False


def test_the_split_checker():
    good = dict(lesson07.WHICH_SPLIT)
    assert lesson07.check_which_split(good, verbose=False).passed is True
    assert lesson07.check_which_split(..., verbose=False).passed is None
    assert lesson07.check_which_split(None, verbose=False).passed is None
    for key in good:
        for split in lesson07.SPLITS:
            if split != good[key]:
                verdict = lesson07.check_which_split({**good, key: split}, verbose=False)
                assert verdict.passed is False and repr(key) in verdict.message
    # the tempting mistakes: the finalist chosen on test, the epoch read off test
    finalist = lesson07.check_which_split({**good, "finalist": "test"}, verbose=False)
    assert "winner of a contest" in finalist.message
    everything_on_validation = {k: "validation" for k in good}
    assert lesson07.check_which_split(everything_on_validation, verbose=False).passed is False
    typo = lesson07.check_which_split({**good, "epoch": "val"}, verbose=False)
    assert typo.passed is False and "'val' is not one of" in typo.message
    missing = {k: v for k, v in good.items() if k != "report"}
    assert "exactly the keys" in lesson07.check_which_split(missing, verbose=False).message
    extra = {**good, "seed": "train"}
    assert lesson07.check_which_split(extra, verbose=False).passed is False
    assert lesson07.check_which_split(list(good.values()), verbose=False).passed is False
    assert set(lesson07.DECISIONS) == set(lesson07.WHICH_SPLIT)


# --------------------------------------------------------------------------- the fault


FAULT_CHECK = """
import sys
sys.path.insert(0, {tools!r})
import faults
faults.apply("restore_best_ignored")
import hpcourse as hp
data = hp.load_dataset("digits", seed=0)
config = {config!r}
for h in [hp.train(config, data), *hp.train_many([config], data, engine="population",
                                                 progress=False)]:
    kept = hp.evaluate(h.model, data.x_val, data.y_val)[0]
    print(h.config.restore_best, h.best_epoch, h.epochs_run, round(kept, 5),
          round(h.val_loss[h.best_epoch], 5), round(h.val_loss[-1], 5))
"""


def test_fault_restore_best_ignored_hands_back_the_last_weights(digits):
    config = {**OVERFIT, "seed": 0, "patience": 2, "restore_best": True}
    code = FAULT_CHECK.format(tools=str(ROOT / "tools"), config=config)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()[-2:]
    for line in lines:
        asked, best, run, kept, best_loss, last_loss = line.split()
        assert asked == "True" and int(best) < int(run)  # the History still says restore_best
        assert float(kept) == pytest.approx(float(last_loss), abs=1e-4)
        assert float(kept) != pytest.approx(float(best_loss), abs=1e-4)
    fine = hp.train(config, digits)  # untouched here: the best epoch's weights come back
    kept = hp.evaluate(fine.model, digits.x_val, digits.y_val)[0]
    assert kept == pytest.approx(fine.val_loss[fine.best_epoch], abs=1e-4)


MIN_DELTA_CHECK = """
import sys
sys.path.insert(0, {tools!r})
import faults
faults.apply("min_delta_ignored")
import hpcourse as hp
from hpcourse.rules import BestEpoch
best = BestEpoch(2.0, min_delta=0.5, patience=2)
print(best.update(1, 1.9), best.min_delta)
data = hp.load_dataset("digits", seed=0)
config = {config!r}
for h in [hp.train(config, data), *hp.train_many([config], data, engine="population",
                                                 progress=False)]:
    print(h.epochs_run)
"""


def test_fault_min_delta_ignored_counts_any_gain(digits):
    config = {**OVERFIT, "seed": 0, "patience": 2, "min_delta": 0.2}
    code = MIN_DELTA_CHECK.format(tools=str(ROOT / "tools"), config=config)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, *epochs = done.stdout.strip().splitlines()[-3:]
    assert first == "True 0.5"  # 1.9 counts as progress, and min_delta still reads 0.5
    plain = hp.train({**config, "min_delta": 0.0}, digits)
    fine = hp.train(config, digits)
    assert fine.epochs_run < plain.epochs_run  # min_delta 0.2 stops sooner when it works
    assert [int(e) for e in epochs] == [plain.epochs_run] * 2  # the fault: as with 0
