"""Tests for lesson 01: pipeline, diagnosis, plots, widgets and exercise checkers."""

from __future__ import annotations

import math

import pandas as pd
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


MYSTERY = {
    "optimizer": "adam",
    "lr": 1e-3,
    "hidden": [64],
    "epochs": 20,
    "weight_decay": 0.5,
    "seed": 0,
}


@pytest.fixture(scope="module")
def digits0() -> hp.Dataset:
    return hp.load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def mystery(digits0):
    """Notebook 01's mystery run (seed 0) and its measured knob table."""
    run = hp.train(MYSTERY, digits0)
    return run, dg.try_knobs(run, digits0)


def fake_trials(history, effects):
    """A hand-made try_knobs table: ``effects`` maps knob -> (effect, train_acc, val_acc)."""
    d = dg.diagnose(history)
    rows = [("leave it as it is", "no change", d.train_acc, d.val_acc, d.label, "as it is")]
    for knob, (effect, train_acc, val_acc) in effects.items():
        label = {"fixes it": "good fit"}.get(effect, d.label)
        rows.append((knob, f"{knob} turned", train_acc, val_acc, label, effect))
    columns = ["knob", "change", "train_acc", "val_acc", "label", "effect"]
    return pd.DataFrame(rows, columns=columns)


def test_mystery_run_underfits_and_less_weight_decay_fixes_it(mystery):
    run, trials = mystery
    assert dg.diagnose(run).label == "underfitting"
    t = trials.set_index("knob")
    assert list(t.index) == ["leave it as it is"] + [
        k for k in dg.KNOBS if k != "leave it as it is"
    ]
    assert t.loc["less weight decay", "effect"] == "fixes it"
    assert t.loc["less weight decay", "change"] == "weight_decay 0.5 -> 0.05"
    for knob in ("more capacity", "train longer", "more dropout", "less capacity"):
        assert t.loc[knob, "effect"] == "no help", t.loc[knob]
    assert t.loc["lower the learning rate", "effect"] == "helps"
    assert t.loc["stop earlier", "effect"] == "helps"
    assert t.loc["less dropout", "effect"] == "cannot turn"
    assert t.loc["more training data", "effect"] == "not measured"
    assert t.loc["more data augmentation", "effect"] == "not measured"


@pytest.mark.parametrize(
    "knob",
    [
        "train longer",  # accepted by the old rule-of-thumb checker; measured: no help
        "more capacity",  # idem
        "less dropout",  # there is no dropout to remove
        "more weight decay",
        "raise the learning rate",
        "more training data",
        "more data augmentation",
        "leave it as it is",
    ],
)
def test_check_which_knob_rejects_knobs_that_did_not_help(mystery, knob):
    run, trials = mystery
    verdict = lesson01.check_which_knob(run, "underfitting", knob, trials, verbose=False)
    assert verdict.passed is False, verdict
    assert "'less weight decay'" in verdict.message  # it says what fixes it, measured


def test_check_which_knob_old_vague_knob_is_refused(mystery):
    run, trials = mystery
    verdict = lesson01.check_which_knob(
        run, "underfitting", "tune the learning rate", trials, verbose=False
    )
    assert verdict.passed is False and "is not one of" in verdict.message


def test_check_which_knob_accepts_what_helps(mystery, capsys):
    run, trials = mystery
    fixes = lesson01.check_which_knob(run, "underfitting", "less weight decay", trials)
    assert fixes.passed is True and "fixes it" in fixes.message
    assert "PASSED" in capsys.readouterr().out
    # rejected by the old checker, though it measurably helps (train acc 0.20 -> 0.64)
    lower = lesson01.check_which_knob(
        run, "underfitting", "lower the learning rate", trials, verbose=False
    )
    assert (
        lower.passed is True and "helps" in lower.message and "still underfitting" in lower.message
    )


def test_check_which_knob_diagnosis_and_unanswered(mystery):
    run, trials = mystery
    wrong = lesson01.check_which_knob(run, "overfitting", "less weight decay", trials)
    assert wrong.passed is False and "the run is not 'overfitting'" in wrong.message
    assert lesson01.check_which_knob(run, ..., ..., trials, verbose=False).passed is None
    unknown = lesson01.check_which_knob(run, "underfitting", "more magic", trials, verbose=False)
    assert unknown.passed is False and "is not one of" in unknown.message
    odd = lesson01.check_which_knob(run, "confused", "more capacity", trials, verbose=False)
    assert odd.passed is False and "is not one of" in odd.message


def test_check_which_knob_needs_the_trials_of_this_run(mystery):
    run, trials = mystery
    with pytest.raises(ValueError, match="trials=NoneType is not allowed"):
        lesson01.check_which_knob(run, "underfitting", "less weight decay", None)
    other = fake_history([0.1, 0.9], [0.1, 0.9])
    with pytest.raises(ValueError, match="trials measured for another run are not allowed"):
        lesson01.check_which_knob(other, "good fit", "leave it as it is", trials)


def test_check_which_knob_on_an_overfitting_run():
    over = fake_history([0.1, 1.0], [0.1, 0.5])
    trials = fake_trials(
        over,
        {
            "more training data": ("fixes it", 1.0, 0.95),
            "more capacity": ("no help", 1.0, 0.5),
            "more dropout": ("helps", 1.0, 0.62),
            "less dropout": ("cannot turn", math.nan, math.nan),
            "more data augmentation": ("not measured", math.nan, math.nan),
        },
    )
    check = lesson01.check_which_knob
    assert check(over, "overfitting", "more training data", trials).passed is True
    assert check(over, "overfitting", "more dropout", trials).passed is True
    capacity = check(over, "overfitting", "more capacity", trials)
    assert capacity.passed is False and "did not help this run" in capacity.message
    assert check(over, "overfitting", "less dropout", trials).passed is False
    # not measurable here: the rule of thumb decides, and says so
    rule = check(over, "overfitting", "more data augmentation", trials)
    assert rule.passed is True and "not measured" in rule.message
    missing = check(over, "overfitting", "stop earlier", trials)
    assert missing.passed is False and "was not measured in trials" in missing.message
    good = fake_history([0.1, 0.99], [0.1, 0.97])
    assert check(good, "good fit", "leave it as it is", fake_trials(good, {})).passed is True


def test_turn_knob():
    cfg = hp.TrainConfig(hidden=[64, 32], epochs=20, lr=0.1, weight_decay=0.0, dropout=0.2)
    assert dg.turn_knob("more capacity", cfg) == (
        {"hidden": [128, 64]},
        "hidden [64, 32] -> [128, 64]",
    )
    assert dg.turn_knob("less capacity", cfg)[0] == {"hidden": [32, 16]}
    assert dg.turn_knob("train longer", cfg)[0] == {"epochs": 40}
    assert dg.turn_knob("stop earlier", cfg)[0] == {"epochs": 5}
    assert dg.turn_knob("more dropout", cfg)[0] == {"dropout": 0.5}
    assert dg.turn_knob("less dropout", cfg)[0] == {"dropout": 0.0}
    assert dg.turn_knob("more weight decay", cfg)[0] == {"weight_decay": 1e-4}
    assert dg.turn_knob("less weight decay", cfg) == (
        None,
        "cannot turn: weight_decay is already 0",
    )
    assert dg.turn_knob("raise the learning rate", cfg)[0] == {"lr": pytest.approx(1.0)}
    assert dg.turn_knob("lower the learning rate", cfg)[0] == {"lr": pytest.approx(0.01)}
    assert dg.turn_knob("leave it as it is", cfg) == ({}, "no change")
    assert dg.turn_knob("more training data", cfg)[0] is None
    linear = hp.TrainConfig(hidden=[], epochs=2)
    assert dg.turn_knob("more capacity", linear)[0] == {"hidden": [64]}
    assert dg.turn_knob("less capacity", linear)[0] is None
    assert dg.turn_knob("stop earlier", linear)[0] is None
    assert dg.turn_knob("more dropout", linear)[0] is None
    with pytest.raises(ValueError, match="knob='more magic' is not allowed"):
        dg.turn_knob("more magic", cfg)


def test_try_knobs_measures_more_data_and_checks_its_input(digits0):
    few = hp.load_dataset("digits", seed=0, max_train=100)
    cfg = {"hidden": [32], "epochs": 15, "seed": 0}
    trials = dg.try_knobs(cfg, few, knobs=["more training data"], more_data=digits0)
    t = trials.set_index("knob")
    assert list(t.index) == ["leave it as it is", "more training data"]
    assert (
        t.loc["more training data", "change"] == f"100 -> {len(digits0.y_train)} training examples"
    )
    assert t.loc["more training data", "val_acc_change"] > 0
    assert t.loc["leave it as it is", "train_acc_change"] == 0
    with pytest.raises(ValueError, match=r"knobs\[0\]='tune the learning rate' is not allowed"):
        dg.try_knobs(cfg, few, knobs=["tune the learning rate"])
    with pytest.raises(ValueError, match="more_data with 100 training examples is not allowed"):
        dg.try_knobs(cfg, digits0, knobs=["more training data"], more_data=few)
    with pytest.raises(ValueError, match="margin=0 is not allowed"):
        dg.try_knobs(cfg, few, knobs=[], margin=0)


def test_effect_rules():
    base = dg.diagnose(fake_history([0.1, 0.3], [0.1, 0.3]))
    effect = dg._effect
    assert effect(dg.diagnose(fake_history([0.1, 0.95], [0.1, 0.9])), base, 0.1) == "fixes it"
    assert effect(dg.diagnose(fake_history([0.1, 0.45], [0.1, 0.4])), base, 0.1) == "helps"
    assert effect(dg.diagnose(fake_history([0.1, 0.35], [0.1, 0.4])), base, 0.1) == "no help"
    assert effect(dg.diagnose(fake_history([0.1, 0.1], [0.1, 0.1])), base, 0.1) == "worse"
    blown = dg.diagnose(fake_history([0.1, 0.1], [0.1, 0.1], diverged=True))
    assert effect(blown, base, 0.1) == "worse"
    assert effect(base, blown, 0.1) == "fixes it"


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


# ---------------------------------------------------------------- one step, width growth


def test_width_growth_doubles_with_one_layer_and_more_with_several():
    growth = params.width_growth(64, 10, 128, depths=[1, 2, 3]).set_index("depth")
    assert (growth["formula"] == growth["pytorch"]).all()
    assert (growth["formula x2"] == growth["pytorch x2"]).all()
    assert growth.loc[1, "formula"] == 9610 and growth.loc[1, "formula x2"] == 19210
    assert growth.loc[2, "ratio"] == pytest.approx(85002 / 26122)
    assert growth.loc[3, "ratio"] == pytest.approx(150794 / 42634)
    assert growth["ratio"].is_monotonic_increasing
    with pytest.raises(ValueError, match=r"depths\[0\]=0 is not allowed"):
        params.width_growth(64, 10, 128, depths=[0])
    with pytest.raises(ValueError, match="width=0 is not allowed"):
        params.width_growth(64, 10, 0)


@pytest.mark.parametrize("lr", [0.1, 0.02])
def test_one_full_batch_step_moves_by_lr_times_gradient(digits0, lr):
    config = hp.TrainConfig(hidden=[16], lr=lr, epochs=1, batch_size=len(digits0.y_train), seed=0)
    model = build_model(config, digits0)
    before = snapshot_parameters(model)
    gradient = params.loss_gradients(model, digits0.x_train, digits0.y_train)
    assert all(p.grad is None for p in model.parameters())  # the model is left as it was
    hp.train(config, digits0, model=model)
    steps = params.step_table(before, snapshot_parameters(model), gradient)
    assert list(steps["name"]) == list(before)
    assert steps["step_over_gradient"].to_numpy() == pytest.approx(lr, rel=1e-4)
    assert steps["direction"].to_numpy() == pytest.approx(1.0, abs=1e-6)


def test_step_table_zero_gradient_and_errors():
    w = {"w": torch.ones(2)}
    table = params.step_table(w, w, {"w": torch.zeros(2)})
    assert math.isnan(table.loc[0, "step_over_gradient"]) and math.isnan(table.loc[0, "direction"])
    with pytest.raises(ValueError, match="gradients=.* is not allowed: gradients must hold"):
        params.step_table(w, w, {"v": torch.zeros(2)})
    with pytest.raises(ValueError, match="after=.* is not allowed: after must hold"):
        params.step_table(w, {"v": torch.zeros(2)}, w)


# ---------------------------------------------------------------- roles in one study


def test_study_roles_depth_question():
    roles = hyper.study_roles(["hidden"], ["lr", "weight_decay", "dropout"])
    by_field = roles.set_index("field")["role"]
    assert by_field["hidden"] == "scientific"
    assert {f for f, r in by_field.items() if r == "nuisance"} == {"lr", "weight_decay", "dropout"}
    assert by_field["batch_size"] == by_field["optimizer"] == "fixed"
    assert "seed" not in by_field and "threads" not in by_field
    assert list(roles["role"]) == sorted(roles["role"], key=hyper.ROLES.index)
    assert set(roles.columns) == {"field", "value", "family", "role", "what to do"}


def test_study_roles_change_with_the_question():
    lr_study = hyper.study_roles(["lr"]).set_index("field")["role"]
    assert lr_study["lr"] == "scientific" and lr_study["weight_decay"] == "nuisance"
    default = hyper.study_roles(["hidden"], config={"lr": 0.5}).set_index("field")
    assert default.loc["lr", "role"] == "nuisance" and default.loc["lr", "value"] == "0.5"


def test_study_roles_errors():
    with pytest.raises(ValueError, match=r"scientific\[0\]='seed' is not allowed"):
        hyper.study_roles(["seed"])
    with pytest.raises(ValueError, match=r"nuisance\[0\]='speed' is not allowed"):
        hyper.study_roles(["lr"], ["speed"])
    with pytest.raises(ValueError, match="scientific=\\[\\] is not allowed: name at least one"):
        hyper.study_roles([])
    with pytest.raises(
        ValueError, match="scientific='lr' is not allowed: scientific must be a list"
    ):
        hyper.study_roles("lr")
    with pytest.raises(ValueError, match=r"\['lr'\] cannot be scientific and nuisance at once"):
        hyper.study_roles(["lr"], ["lr"])


# ---------------------------------------------------------------- does augmentation keep labels


@pytest.fixture(scope="module")
def digits_model(digits0):
    return hp.train({"hidden": [64], "epochs": 10, "seed": 0}, digits0).model


def test_rotations_keep_labels_flips_do_not(digits0, digits_model):
    state = torch.get_rng_state()
    effects = aug.augmentation_effects(
        digits_model,
        digits0,
        {"none": (0, "none"), "rot": (15, "none"), "flip": (0, "horizontal")},
        draws=2,
        seed=0,
    ).set_index("augmentation")
    assert torch.equal(torch.get_rng_state(), state)
    assert effects.loc["none", "changed"] == 0 and math.isnan(
        effects.loc["none", "accuracy_changed"]
    )
    clean = effects.loc["none", "accuracy"]
    _, expected = hp.training.evaluate(digits_model, digits0.x_val, digits0.y_val)
    assert clean == pytest.approx(expected)  # raw pixels -> standardized again: same inputs
    assert effects.loc["rot", "changed"] == 1.0
    assert 0.3 < effects.loc["flip", "changed"] < 0.7
    assert effects.loc["rot", "accuracy_changed"] > effects.loc["flip", "accuracy_changed"] + 0.2
    assert digits_model.training  # left in the mode it was in


def test_augmented_accuracy_errors(digits0, digits_model):
    mnist_like = hp.Dataset(
        "signals", *(torch.zeros(20, 4), torch.zeros(20, dtype=torch.int64)) * 3, 2, (1, 4)
    )
    with pytest.raises(ValueError, match="data=.* is not allowed: data must be a hpcourse Dataset"):
        aug.augmented_accuracy(digits_model, mnist_like)
    with pytest.raises(ValueError, match="draws=0 is not allowed"):
        aug.augmented_accuracy(digits_model, digits0, draws=0)
    with pytest.raises(ValueError, match="settings={} is not allowed"):
        aug.augmentation_effects(digits_model, digits0, {})


# ---------------------------------------------------------------- random draws in the workers


def test_noise_in_the_dataset_makes_workers_matter(digits0):
    config = hp.TrainConfig(hidden=[8], epochs=1, batch_size=256, seed=0)
    main = loading.train_with_loader(config, digits0, num_workers=0, noise_std=0.5)
    two = loading.train_with_loader(config, digits0, num_workers=2, noise_std=0.5)
    again = loading.train_with_loader(config, digits0, num_workers=2, noise_std=0.5)
    plain = loading.train_with_loader(config, digits0, num_workers=0)
    assert not loading.same_result(main, two)
    assert loading.same_result(two, again)
    assert not loading.same_result(main, plain)
    with pytest.raises(ValueError, match="noise_std=-1 is not allowed"):
        loading.train_with_loader(config, digits0, noise_std=-1)


# ---------------------------------------------------------------- new plots and the explorer


def test_new_plots_return_axes(digits0, digits_model, mystery):
    h = fake_history([0.1, 1.0, 1.0], [0.1, 0.5, 0.5], val_loss=[2.0, 1.0, 1.5])
    ax = pp.plot_fit_losses(h, dg.diagnose(h), title="big")
    assert ax.get_title() == "big" and len(ax.lines) >= 3
    assert any(t.get_text().strip() == "+0.50" for t in ax.texts)
    _, trials = mystery
    ax = pp.plot_knob_trials(trials)
    assert len(ax.patches) == len(trials)
    effects = aug.augmentation_effects(digits_model, digits0, {"none": (0, "none")}, draws=1)
    ax = pp.plot_augmentation_effects(effects)
    assert len(ax.patches) == 2 and any("none" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="trials with columns .* is not allowed"):
        pp.plot_knob_trials(effects)
    with pytest.raises(ValueError, match="effects with columns .* is not allowed"):
        pp.plot_augmentation_effects(trials)


def test_augmentation_explorer_shows_the_digits_asked_for():
    box = wp.augmentation_explorer(n_variants=2, digits=[6, 9])
    assert box.state["grid"].shape == (2, 3, 8, 8)
    assert box.labels == [6, 9]
    box.controls["rotation"].value = 180
    assert box.state["rotation_degrees"] == 180
    with pytest.raises(ValueError, match=r"digits\[0\]=12 is not allowed"):
        wp.augmentation_explorer(digits=[12])
    with pytest.raises(ValueError, match="digits=\\[\\] is not allowed"):
        wp.augmentation_explorer(digits=[])
