"""The simple muP of TrainConfig.mup_base_width: zero readout, output divided by width/base,
hidden-to-hidden Adam lr divided by it; the same numbers by hand, by autograd and in a
population; and the standard parameterization untouched."""

from __future__ import annotations

import pytest
import torch

import hpcourse as hp
from hpcourse.population import train_population
from hpcourse.runs import build_model, param_groups, prepare_run


@pytest.fixture(scope="module")
def data():
    return hp.load_dataset("mnist1d", seed=0)


def test_the_parameterization(data):
    config = hp.TrainConfig(optimizer="adam", lr=1e-3, hidden=[128, 128], mup_base_width=32)
    model = build_model(config, data)
    readout = model[-1]
    assert model.output_scale == pytest.approx(32 / 128)
    assert torch.count_nonzero(readout.weight) == 0 and torch.count_nonzero(readout.bias) == 0
    groups = param_groups(config, model)
    assert [g["lr_scale"] for g in groups] == [1.0, pytest.approx(0.25)]
    hidden_layer = model[2]
    assert {id(p) for p in groups[1]["params"]} == {id(hidden_layer.weight), id(hidden_layer.bias)}
    with prepare_run(config, data) as run:
        assert [g["lr"] for g in run.optimizer.param_groups] == [1e-3, pytest.approx(2.5e-4)]
    standard = build_model(config.replace(mup_base_width=None), data)
    assert standard.output_scale == 1.0 and torch.count_nonzero(standard[-1].weight) > 0


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_by_hand_autograd_and_population_agree(data, schedule):
    config = {
        "optimizer": "adamw",
        "lr": 3e-3,
        "weight_decay": 0.05,
        "hidden": [64, 64],
        "mup_base_width": 16,
        "epochs": 2,
        "schedule": schedule,
    }
    fast = hp.train(config, data)
    slow = hp.train(config, data, fast=False)
    assert fast.step_loss == pytest.approx(slow.step_loss, rel=1e-4)
    if schedule == "cosine":  # every group follows the schedule at its own scale
        assert fast.step_lr[-1] < 3e-3 * 0.01
    members = train_population([config, {**config, "seed": 1, "lr": 1e-3}], data)
    assert members[0].step_loss == pytest.approx(fast.step_loss, rel=1e-4)
    assert members[0].val_loss == pytest.approx(fast.val_loss, rel=1e-4)
    assert members[1].step_loss == pytest.approx(
        hp.train({**config, "seed": 1, "lr": 1e-3}, data).step_loss, rel=1e-4
    )


def test_mup_is_for_adam_and_a_hidden_layer():
    with pytest.raises(ValueError, match="mup_base_width=32 is not allowed with optimizer='sgd'"):
        hp.TrainConfig(optimizer="sgd", mup_base_width=32)
    with pytest.raises(ValueError, match="mup_base_width=32 is not allowed"):
        hp.TrainConfig(optimizer="adam", hidden=[], mup_base_width=32)
    with pytest.raises(ValueError, match="mup_base_width=0 is not allowed"):
        hp.TrainConfig(optimizer="adam", mup_base_width=0)
