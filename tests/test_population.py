"""The population engine: member k of a population is the run train() makes with the same
config, to float rounding, whatever differs between members; one member's blow-up never
touches the others; and train_many groups configs into populations on its own."""

from __future__ import annotations

import math

import pytest
import torch

import hpcourse as hp
from hpcourse.population import population_key, train_population

RTOL = 1e-4  # what the equivalence promises; measured here: about 1e-6


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def _assert_same_run(pop: hp.History, ref: hp.History) -> None:
    assert len(pop.step_loss) == len(ref.step_loss)
    assert pop.step_loss == pytest.approx(ref.step_loss, rel=RTOL)
    assert pop.step_lr == pytest.approx(ref.step_lr, rel=1e-6)
    assert pop.step_grad_norm == pytest.approx(ref.step_grad_norm, rel=RTOL)
    assert pop.epoch == ref.epoch
    assert pop.val_loss == pytest.approx(ref.val_loss, rel=RTOL)
    assert pop.train_acc == pytest.approx(ref.train_acc, abs=2 / 1149)
    assert (pop.diverged, pop.stopped_early, pop.best_epoch) == (
        ref.diverged,
        ref.stopped_early,
        ref.best_epoch,
    )


OPTIMIZERS = [
    ("sgd", {"lr": 0.1}),
    ("momentum", {"lr": 0.05, "momentum": 0.8, "weight_decay": 1e-3}),
    ("momentum", {"lr": 0.05, "nesterov": True}),
    ("adam", {"lr": 2e-3, "betas": (0.8, 0.99), "weight_decay": 1e-3}),
    ("adamw", {"lr": 2e-3, "weight_decay": 0.05, "eps": 1e-6}),
]


@pytest.mark.parametrize(("optimizer", "settings"), OPTIMIZERS, ids=[o for o, _ in OPTIMIZERS])
def test_each_member_equals_a_single_run(digits, optimizer, settings):
    base = {"optimizer": optimizer, "epochs": 3, "hidden": [32, 16], **settings}
    configs = [
        base,
        {**base, "seed": 1, "dropout": 0.3, "schedule": "cosine", "warmup_epochs": 1},
        {**base, "seed": 2, "grad_clip": 0.5, "schedule": "onecycle", "shuffle": False},
        {**base, "seed": 3, "lr": base["lr"] * 2, "schedule": "step", "step_epochs": 1},
    ]
    population = train_population(configs, digits, progress=False)
    for config, pop in zip(configs, population, strict=True):
        _assert_same_run(pop, hp.train(config, digits))


def test_adam_and_adamw_members_share_one_population(digits):
    configs = [
        {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-3, "epochs": 2},
        {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.05, "epochs": 2},
    ]
    for config, pop in zip(configs, train_population(configs, digits, progress=False), strict=True):
        _assert_same_run(pop, hp.train(config, digits))


def test_a_diverging_member_is_frozen_and_the_others_are_unaffected(digits):
    configs = [{"lr": 0.1, "epochs": 3}, {"lr": 1e4, "epochs": 3}, {"lr": 0.03, "epochs": 3}]
    population = train_population(configs, digits, progress=False)
    assert [h.diverged for h in population] == [False, True, False]
    assert math.isnan(population[1].final_val_acc)
    for i in (0, 2):
        _assert_same_run(population[i], hp.train(configs[i], digits))
    _assert_same_run(population[1], hp.train(configs[1], digits))


def test_early_stopping_patience_epochs_and_restore_best_per_member(digits):
    configs = [
        {"lr": 0.05, "optimizer": "momentum", "epochs": 30, "patience": 2, "restore_best": True},
        {"lr": 0.05, "optimizer": "momentum", "epochs": 4, "min_delta": 0.01},
        {"lr": 0.1, "optimizer": "momentum", "epochs": 7, "patience": 3},
    ]
    population = train_population(configs, digits, progress=False)
    for config, pop in zip(configs, population, strict=True):
        ref = hp.train(config, digits)
        _assert_same_run(pop, ref)
        got, _ = hp.evaluate(pop.model, digits.x_val, digits.y_val)
        want, _ = hp.evaluate(ref.model, digits.x_val, digits.y_val)
        assert got == pytest.approx(want, rel=RTOL)  # restored (or final) weights agree
    assert population[0].stopped_early
    assert population[0].final_val_loss != population[0].best_val_loss
    assert population[1].epochs_run == 4 and population[2].epochs_run <= 7


def test_every_member_is_logged_and_the_global_generator_is_left_alone(digits, tmp_path):
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    configs = [{"lr": lr, "epochs": 2, "dropout": 0.2} for lr in (0.03, 0.1, 1e5)]
    train_population(configs, digits, log=log, progress=False)
    assert torch.equal(torch.rand(2), expected)
    assert sorted(log.to_frame()["config.lr"]) == [0.03, 0.1, 1e5]


def test_train_many_groups_configs_into_populations_and_keeps_their_order(digits):
    configs = [
        {"lr": 0.1, "epochs": 2, "hidden": [32]},
        {"lr": 0.1, "epochs": 2, "hidden": [16]},  # another architecture: another group
        {"lr": 0.2, "epochs": 2, "hidden": [32]},
        {"lr": 1e-3, "epochs": 2, "hidden": [32], "optimizer": "adam"},  # another family
        {"lr": 0.1, "epochs": 2, "hidden": [32], "batch_size": 64},  # another batch size
    ]
    keys = {population_key(hp.TrainConfig.from_dict(c)) for c in configs}
    assert len(keys) == 4
    auto = hp.train_many(configs, digits, progress=False)
    single = hp.train_many(configs, digits, progress=False, engine="single")
    forced = hp.train_many(configs, digits, progress=False, engine="population")
    for a, s, f in zip(auto, single, forced, strict=True):
        assert a.config == s.config == f.config
        assert a.step_loss == pytest.approx(s.step_loss, rel=RTOL)
        assert f.step_loss == pytest.approx(s.step_loss, rel=RTOL)


def test_bad_input_is_named(digits):
    with pytest.raises(ValueError, match="configs=\\[\\] is not allowed"):
        train_population([], digits)
    with pytest.raises(ValueError, match="different .* are not allowed in one population"):
        train_population([{"hidden": [8]}, {"hidden": [16]}], digits)
    with pytest.raises(ValueError, match="engine='fast' is not allowed"):
        hp.train_many([{}], digits, engine="fast")
    with pytest.raises(ValueError, match="batch_size=5000 is not allowed"):
        train_population([{"batch_size": 5000}], digits)


def test_free_cores_sees_a_busy_core_and_the_environment_wins(monkeypatch):
    import os
    import subprocess
    import sys
    import time

    from hpcourse.runs import free_cores

    monkeypatch.delenv("HPCOURSE_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.5)
        assert free_cores() == 1  # every core busy: one thread, never zero
    finally:
        for p in spinners:
            p.kill()
    monkeypatch.setenv("HPCOURSE_THREADS", "3")
    assert free_cores() == 3
    monkeypatch.setenv("HPCOURSE_THREADS", "lots")
    with pytest.raises(ValueError, match="HPCOURSE_THREADS='lots' is not allowed: .* >= 1"):
        free_cores()


def test_threads_default_to_one_and_auto_measures(digits, monkeypatch):
    from hpcourse.population import population_threads

    monkeypatch.delenv("HPCOURSE_THREADS", raising=False)
    assert population_threads(None) == 1  # reproducible, and safe on a busy machine
    assert population_threads(2) == 2 and 1 <= population_threads("auto") <= 64
    monkeypatch.setenv("HPCOURSE_THREADS", "2")
    assert population_threads(None) == 2
    with pytest.raises(ValueError, match="threads='many' is not allowed"):
        population_threads("many")


def test_a_population_falls_back_to_one_thread_when_epochs_slow_down(digits):
    from hpcourse.population import Population

    pop = Population([{"epochs": 3}, {"epochs": 3, "lr": 0.2}], digits, threads=2)
    pop._watch_threads(0.1)
    pop._watch_threads(0.2)
    assert pop.threads == 2
    pop._watch_threads(0.5)  # 5x the first epoch: another process took the core
    assert pop.threads == 1
