"""Tests for lesson 01: pipeline, diagnosis, plots, widgets and exercise checkers."""

from __future__ import annotations

import math

import pytest
import torch

import hpcourse as hp
from hpcourse import augmentation as aug
from hpcourse import diagnosis as dg
from hpcourse import hyperparameters as hyper
from hpcourse import loading
from hpcourse import parameters as params
from hpcourse.exercises import lesson01
from hpcourse.models import MLP, snapshot_parameters
from hpcourse.plots import params as pp
from hpcourse.results import History
from hpcourse.runs import build_model
from hpcourse.widgets import params as wp


@pytest.fixture(scope="module")
def digits() -> hp.Dataset:
    return hp.load_dataset("digits")


def fake_history(train_acc, val_acc, val_loss=None, diverged=False) -> History:
    """A History built by hand: diagnosis only reads its numbers."""
    n = len(train_acc)
    val_loss = val_loss or [1.0] * n
    return History(
        config=hp.TrainConfig(),
        epoch=list(range(n)),
        train_loss=[1.0] * n,
        train_acc=list(train_acc),
        val_loss=list(val_loss),
        val_acc=list(val_acc),
        diverged=diverged,
    )


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("sizes", [[64, 10], [64, 128, 10], [40, 2, 10], [5, 7, 7, 7, 3]])
def test_mlp_n_params_matches_torch(sizes):
    model = MLP(sizes[0], sizes[1:-1], sizes[-1])
    assert params.mlp_n_params(sizes) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("64,10", "layer_sizes='64,10' is not allowed: layer_sizes must be a list"),
        ([64], "layer_sizes=[64] is not allowed: layer_sizes needs at least two entries"),
        ([64, 0, 10], "layer_sizes[1]=0 is not allowed: layer_sizes[1] must be an integer >= 1"),
    ],
)
def test_mlp_n_params_errors(value, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        params.mlp_n_params(value)


def test_training_changes_parameters_not_config(digits):
    config = hp.TrainConfig(hidden=[16], epochs=2)
    before_cfg = config.to_dict()
    model = build_model(config, digits)
    before = snapshot_parameters(model)
    h = hp.train(config, digits, model=model)
    changes = params.parameter_changes(before, snapshot_parameters(h.model))
    assert list(changes["name"]) == list(before)
    assert (changes["relative_change"] > 0).all()
    assert (changes["changed_fraction"] > 0.5).all()
    assert params.config_diff(before_cfg, config.to_dict()) == {}
    assert h.config is config


def test_parameter_changes_of_identical_snapshots_is_zero():
    snap = snapshot_parameters(MLP(4, [3], 2))
    changes = params.parameter_changes(snap, {k: v.clone() for k, v in snap.items()})
    assert (changes["changed_fraction"] == 0).all()
    assert (changes["relative_change"] == 0).all()


def test_parameter_changes_counts_moved_entries():
    before = {"w": torch.ones(4)}
    after = {"w": torch.tensor([1.0, 1.0, 3.0, 1.0])}
    row = params.parameter_changes(before, after).iloc[0]
    assert row["changed_fraction"] == 0.25
    assert row["relative_change"] == pytest.approx(2.0 / 2.0)


def test_parameter_changes_errors():
    with pytest.raises(ValueError, match="after must hold the same parameter names as before"):
        params.parameter_changes({"a": torch.ones(2)}, {"b": torch.ones(2)})
    with pytest.raises(ValueError, match=r"after\['a'\] has shape \(3,\), which is not allowed"):
        params.parameter_changes({"a": torch.ones(2)}, {"a": torch.ones(3)})


def test_config_diff():
    assert params.config_diff({"lr": 0.1}, {"lr": 0.1}) == {}
    assert params.config_diff({"lr": 0.1}, {"lr": 0.2}) == {"lr": (0.1, 0.2)}
    assert params.config_diff({"lr": 0.1}, {"lr": 0.1, "epochs": 3}) == {"epochs": (None, 3)}


# ---------------------------------------------------------------- the map of hyperparameters


def test_config_families_cover_every_config_field():
    table = hyper.config_families(hp.TrainConfig(lr=0.05))
    assert set(table["field"]) == set(hp.TrainConfig().to_dict())
    assert "other" not in set(table["family"])
    by_field = table.set_index("field")
    assert by_field.loc["lr", "value"] == "0.05"
    assert by_field.loc["hidden", "family"] == "model"
    assert by_field.loc["seed", "family"] == "not tuned"


def test_pipeline_table_names_real_config_fields():
    table = hyper.pipeline_hyperparameters()
    fields = set(hp.TrainConfig().to_dict())
    for entry in table["config_field"]:
        if entry:
            assert entry.split()[0] in fields, entry
    speed = table[table["effect"] == "speed only"]["hyperparameter"]
    assert set(speed) == {"num_workers", "pin_memory"}
    assert {"preprocessing", "augmentation", "data loading", "model", "loss", "optimizer"} <= set(
        table["stage"]
    )


# ---------------------------------------------------------------- augmentation


def test_digit_images_one_per_class_and_seeded():
    images, labels = aug.digit_images(6, seed=3)
    assert images.shape == (6, 1, 8, 8)
    assert labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert 0 <= float(images.min()) and float(images.max()) <= 1
    again, _ = aug.digit_images(6, seed=3)
    other, _ = aug.digit_images(6, seed=4)
    assert torch.equal(images, again)
    assert not torch.equal(images, other)
    assert aug.digit_images(12)[0].shape == (12, 1, 8, 8)


def test_digit_images_error():
    with pytest.raises(ValueError, match=r"n=0 is not allowed: n must be an integer in \[1, 100\]"):
        aug.digit_images(0)


def test_no_augmentation_is_identity():
    images, _ = aug.digit_images(3)
    grid = aug.augmentation_grid(images, rotation_degrees=0, flip="none", n_variants=3)
    for col in range(4):
        assert torch.allclose(grid[:, col], images[:, 0], atol=1e-6)


def test_augmentation_grid_shape_seed_and_global_rng():
    images, _ = aug.digit_images(4)
    state = torch.get_rng_state()
    grid = aug.augmentation_grid(images, rotation_degrees=30, n_variants=5, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert grid.shape == (4, 6, 8, 8)
    assert torch.equal(grid[:, 0], images[:, 0])
    assert torch.equal(
        grid, aug.augmentation_grid(images, rotation_degrees=30, n_variants=5, seed=1)
    )
    assert not torch.equal(grid, aug.augmentation_grid(images, 30, n_variants=5, seed=2))
    assert not torch.allclose(grid[:, 1], images[:, 0])


def test_horizontal_flip_only_mirrors():
    images, _ = aug.digit_images(3)
    grid = aug.augmentation_grid(images, rotation_degrees=0, flip="horizontal", n_variants=8)
    mirrored = 0
    for i in range(3):
        for col in range(1, 9):
            same = torch.allclose(grid[i, col], images[i, 0], atol=1e-6)
            flipped = torch.allclose(grid[i, col], images[i, 0].flip(-1), atol=1e-6)
            assert same or flipped
            mirrored += flipped and not same
    assert mirrored > 0


def test_augmentation_errors():
    with pytest.raises(ValueError, match=r"rotation_degrees=200 is not allowed: .* in \[0, 180\]"):
        aug.make_augmentation(rotation_degrees=200)
    with pytest.raises(ValueError, match="flip='diagonal' is not allowed: flip must be one of"):
        aug.make_augmentation(flip="diagonal")
    with pytest.raises(ValueError, match=r"images with shape \(8, 8\) is not allowed"):
        aug.augmentation_grid(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="n_variants=0 is not allowed"):
        aug.augmentation_grid(torch.zeros(1, 1, 8, 8), n_variants=0)


# ---------------------------------------------------------------- DataLoader settings


def test_loader_settings_change_speed_not_result(digits):
    config = hp.TrainConfig(hidden=[8], epochs=2, batch_size=128)
    base = loading.train_with_loader(config, digits, num_workers=0, pin_memory=False)
    workers = loading.train_with_loader(config, digits, num_workers=2, pin_memory=True)
    other_seed = loading.train_with_loader(config.replace(seed=1), digits, num_workers=0)
    assert loading.same_result(base, workers)
    assert not loading.same_result(base, other_seed)  # the check can tell runs apart
    table = loading.loader_table([base, workers, other_seed])
    assert table["identical_to_first"].tolist() == [True, True, False]
    assert len(base.epoch_loss) == 2 and math.isfinite(base.val_acc)
    assert (table["wall_time_s"] > 0).all()


def test_persistent_workers_reshuffle_differently(digits):
    config = hp.TrainConfig(hidden=[8], epochs=2, batch_size=128)
    base = loading.train_with_loader(config, digits, num_workers=2)
    kept = loading.train_with_loader(config, digits, num_workers=2, persistent_workers=True)
    assert kept.epoch_loss[0] == base.epoch_loss[0]
    assert not loading.same_result(base, kept)


def test_loader_errors(digits):
    with pytest.raises(ValueError, match=r"num_workers=-1 is not allowed: .* in \[0, 16\]"):
        loading.train_with_loader({}, digits, num_workers=-1)
    with pytest.raises(ValueError, match="pin_memory='yes' is not allowed: pin_memory must be"):
        loading.train_with_loader({}, digits, pin_memory="yes")
    with pytest.raises(ValueError, match="persistent_workers=1 is not allowed: persistent_workers"):
        loading.train_with_loader({}, digits, num_workers=1, persistent_workers=1)
    with pytest.raises(
        ValueError, match="persistent_workers=True is not allowed with num_workers=0"
    ):
        loading.train_with_loader({}, digits, persistent_workers=True)
    with pytest.raises(ValueError, match="data=.* is not allowed: data must be a hpcourse Dataset"):
        loading.train_with_loader({}, "digits")
    with pytest.raises(ValueError, match=r"runs=\[\] is not allowed"):
        loading.loader_table([])


# ---------------------------------------------------------------- diagnosis


def test_diagnose_labels():
    assert dg.diagnose(fake_history([0.1, 0.4], [0.1, 0.38])).label == "underfitting"
    over = dg.diagnose(fake_history([0.1, 1.0], [0.1, 0.6], val_loss=[2.0, 3.5]))
    assert over.label == "overfitting"
    assert over.gap == pytest.approx(0.4) and over.val_loss_rise == pytest.approx(1.5)
    assert dg.diagnose(fake_history([0.1, 0.99], [0.1, 0.95])).label == "good fit"
    assert dg.diagnose(fake_history([0.1, 0.99], [0.1, 0.95], diverged=True)).label == "diverged"


def test_underfitting_comes_first_and_mentions_a_large_gap():
    both = dg.diagnose(fake_history([0.1, 0.8], [0.1, 0.5]))
    assert both.label == "underfitting" and "gap is large too" in both.message
    assert "gap is large too" not in dg.diagnose(fake_history([0.1, 0.5], [0.1, 0.48])).message


def test_diagnose_uses_its_thresholds():
    h = fake_history([0.1, 0.8], [0.1, 0.75])
    assert dg.diagnose(h).label == "underfitting"
    assert dg.diagnose(h, min_train_acc=0.7).label == "good fit"
    assert dg.diagnose(h, min_train_acc=0.7, max_gap=0.01).label == "overfitting"
    d = dg.diagnose(h, min_train_acc=0.7)
    assert "0.800" in d.message and "0.70" in d.message and "leave it as it is" in d.message


def test_diagnose_remedies_are_knobs():
    for label in dg.LABELS:
        assert set(dg.REMEDIES[label]) <= set(dg.KNOBS)
    assert "more capacity" in dg.REMEDIES["underfitting"]
    assert "more capacity" not in dg.REMEDIES["overfitting"]


def test_diagnose_errors():
    with pytest.raises(ValueError, match="history=.* is not allowed: history must be a hpcourse"):
        dg.diagnose({"train_acc": [1.0]})
    with pytest.raises(ValueError, match=r"min_train_acc=2 is not allowed: .* in \[0, 1\]"):
        dg.diagnose(fake_history([0.5], [0.5]), min_train_acc=2)
    with pytest.raises(ValueError, match=r"max_gap=-0.1 is not allowed"):
        dg.diagnose(fake_history([0.5], [0.5]), max_gap=-0.1)
    with pytest.raises(ValueError, match="history with no recorded epochs is not allowed"):
        dg.diagnose(fake_history([], []))


def test_knob_table():
    table = dg.knob_table()
    assert list(table.columns) == [
        "hyperparameter",
        "common start",
        "if underfitting",
        "if overfitting",
    ]
    knobs = " ".join(table["hyperparameter"])
    for word in ("capacity", "learning rate", "epochs", "dropout", "weight decay", "augmentation"):
        assert word in knobs
    row = table.set_index("hyperparameter").loc["dropout"]
    assert row["if underfitting"] == "decrease" and row["if overfitting"] == "increase"


# ---------------------------------------------------------------- exercises


def good_n_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def test_check_n_params(capsys):
    assert lesson01.check_n_params(good_n_params).passed is True
    wrong = lesson01.check_n_params(
        lambda s: sum(a * b for a, b in zip(s[:-1], s[1:], strict=False))
    )
    assert wrong.passed is False and "should be" in wrong.message and "Hint" in wrong.message

    def stub(sizes):
        raise NotImplementedError

    assert lesson01.check_n_params(stub).passed is None
    assert "PASSED" in capsys.readouterr().out


def test_check_which_knob():
    over = fake_history([0.1, 1.0], [0.1, 0.5])
    assert lesson01.check_which_knob(over, "overfitting", "more dropout").passed is True
    wrong_label = lesson01.check_which_knob(over, "underfitting", "more capacity")
    assert wrong_label.passed is False and "gap" in wrong_label.message
    wrong_knob = lesson01.check_which_knob(over, "overfitting", "more capacity")
    assert wrong_knob.passed is False and "right diagnosis" in wrong_knob.message
    unknown = lesson01.check_which_knob(over, "overfitting", "more magic")
    assert unknown.passed is False and "is not one of" in unknown.message
    assert lesson01.check_which_knob(over, ..., ...).passed is None
    under = fake_history([0.1, 0.3], [0.1, 0.3])
    assert lesson01.check_which_knob(under, "underfitting", "more capacity").passed is True
    no_dropout = lesson01.check_which_knob(under, "underfitting", "less dropout")
    assert no_dropout.passed is False and "already uses dropout=0" in no_dropout.message


def test_check_which_knob_points_at_strong_weight_decay():
    under = fake_history([0.1, 0.3], [0.1, 0.3])
    under.config = hp.TrainConfig(weight_decay=0.5)
    direct = lesson01.check_which_knob(under, "underfitting", "less weight decay")
    assert direct.passed is True and "Look at the config" not in direct.message
    indirect = lesson01.check_which_knob(under, "underfitting", "more capacity")
    assert indirect.passed is True and "weight_decay=0.5 is far above" in indirect.message


# ---------------------------------------------------------------- widgets and plots


def test_width_depth_explorer_updates():
    box = wp.width_depth_explorer(depth=1, width=128)
    assert box.state["total"] == 9610
    box.controls["width"].value = 256
    assert box.state["total"] == params.mlp_n_params([64, 256, 10])
    box.controls["depth"].value = 0
    assert box.state["total"] == 650 and box.state["hidden"] == []
    assert "650" in box.children[1].value


def test_width_depth_explorer_error():
    with pytest.raises(ValueError, match="width=100 is not allowed: width must be one of 2, 4"):
        wp.width_depth_explorer(width=100)


def test_augmentation_explorer_updates():
    box = wp.augmentation_explorer(n_images=3, n_variants=4)
    first = box.state["grid"]
    assert first.shape == (3, 5, 8, 8)
    box.controls["rotation"].value = 90
    assert box.state["rotation_degrees"] == 90
    assert not torch.equal(first, box.state["grid"])
    box.controls["flip"].value = "vertical"
    assert box.state["flip"] == "vertical"
    with pytest.raises(ValueError, match="n_images=0 is not allowed"):
        wp.augmentation_explorer(n_images=0)


def test_plots_return_axes(digits):
    table = hp.count_parameters(MLP(64, [32], 10))
    assert pp.plot_parameter_counts(table).get_title() == "total: 2,410 parameters"
    snap = snapshot_parameters(MLP(4, [3], 2))
    ax = pp.plot_parameter_changes(params.parameter_changes(snap, snap))
    assert len(ax.patches) == 4
    images, labels = aug.digit_images(2)
    ax = pp.plot_augmentation_grid(aug.augmentation_grid(images, n_variants=2), labels.tolist())
    assert len(ax.images) == 1
    h = fake_history([0.1, 0.4], [0.1, 0.3])
    assert "underfitting" in pp.plot_diagnosis(h, dg.diagnose(h), title="small").get_title()
    run = loading.train_with_loader({"hidden": [4], "epochs": 1, "batch_size": 256}, digits)
    assert len(pp.plot_loader_runs(loading.loader_table([run])).patches) == 1


def test_plot_errors():
    with pytest.raises(ValueError, match="table with columns .* is not allowed"):
        pp.plot_parameter_counts({"name": []})
    with pytest.raises(ValueError, match="changes with columns .* is not allowed"):
        pp.plot_parameter_changes(hp.count_parameters(MLP(2, [], 2)))
    with pytest.raises(ValueError, match=r"grid with shape \(8, 8\) is not allowed"):
        pp.plot_augmentation_grid(torch.zeros(8, 8))
