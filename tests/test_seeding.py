"""One course seed: hp.setup sets it, HPCOURSE_SEED overrides it, and every run, split and
sampler without a seed of its own follows it. Training never moves the global generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import hpcourse as hp
from hpcourse import seeding
from hpcourse.augmentation import digit_images
from hpcourse.gradient_noise import minibatch_gradient_variance
from hpcourse.runs import run_scope


@pytest.fixture(autouse=True)
def _restore_course_seed(monkeypatch):
    monkeypatch.delenv("HPCOURSE_SEED", raising=False)
    yield
    monkeypatch.delenv("HPCOURSE_SEED", raising=False)
    seeding.set_course_seed(0)


def test_setup_sets_the_default_seed_of_configs_splits_and_samplers():
    hp.setup(seed=3)
    assert hp.TrainConfig().seed == 3
    assert hp.TrainConfig(seed=5).seed == 5  # an explicit seed still wins
    a = hp.load_dataset("digits")
    b = hp.load_dataset("digits", seed=3)
    assert torch.equal(a.y_val, b.y_val)
    hp.setup(seed=0)
    assert hp.TrainConfig().seed == 0
    assert not torch.equal(hp.load_dataset("digits").y_val, a.y_val)


def test_setup_changes_the_runs_it_did_not_change_before():
    data = hp.load_dataset("digits", seed=0)
    hp.setup(seed=0)
    first = hp.train({"epochs": 1}, data)
    hp.setup(seed=1)
    second = hp.train({"epochs": 1}, data)
    assert first.config.seed == 0 and second.config.seed == 1
    assert first.step_loss != second.step_loss


def test_environment_variable_overrides_setup(monkeypatch, capsys):
    monkeypatch.setenv("HPCOURSE_SEED", "2")
    rng = hp.setup(seed=0)
    assert "seed 2 (from $HPCOURSE_SEED" in capsys.readouterr().out
    assert seeding.course_seed() == 2 and hp.TrainConfig().seed == 2
    assert rng.random() == np.random.default_rng(2).random()
    images_env, _ = digit_images(3)
    images_two, _ = digit_images(3, seed=2)
    assert torch.equal(images_env, images_two)
    rows = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    assert minibatch_gradient_variance(rows, [4]).equals(
        minibatch_gradient_variance(rows, [4], seed=2)
    )


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_a_bad_environment_seed_is_named(monkeypatch, bad):
    monkeypatch.setenv("HPCOURSE_SEED", bad)
    with pytest.raises(ValueError, match="HPCOURSE_SEED=.* is not allowed: .* integer >= 0"):
        seeding.course_seed()


def test_training_and_helpers_leave_the_global_generator_alone():
    data = hp.load_dataset("digits", seed=0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    hp.train({"epochs": 1, "dropout": 0.3}, data)
    from hpcourse.lr_finder import lr_range_test
    from hpcourse.runs import build_model

    lr_range_test(data, {"epochs": 1}, steps=20)
    build_model(hp.TrainConfig(), data)
    with run_scope(seed=7):
        torch.rand(100)
    assert torch.equal(torch.rand(3), expected), "a run moved the global torch generator"


def test_dropout_masks_are_part_of_the_run_not_of_the_global_state():
    data = hp.load_dataset("digits", seed=0)
    cfg = {"epochs": 1, "dropout": 0.5}
    torch.manual_seed(0)
    a = hp.train(cfg, data)
    torch.manual_seed(999)  # a different global state must not change the run
    b = hp.train(cfg, data)
    assert a.step_loss == b.step_loss
