"""Every invalid hyperparameter gets a ValueError naming the field, the value and the range."""

import pytest

import hpcourse as hp

BAD = [
    ({"lr": 0}, r"lr=0 is not allowed: lr must be > 0"),
    ({"lr": -0.1}, r"lr=-0.1 is not allowed: lr must be > 0"),
    ({"lr": float("nan")}, r"lr=nan is not allowed: lr must be finite"),
    ({"lr": "0.1"}, r"lr='0.1' is not allowed: lr must be a number > 0"),
    ({"batch_size": 0}, r"batch_size=0 is not allowed: batch_size must be an integer >= 1"),
    ({"batch_size": 2.5}, r"batch_size=2.5 is not allowed: batch_size must be an integer"),
    ({"epochs": 0}, r"epochs=0 is not allowed: epochs must be an integer in \[1, 100000\]"),
    ({"optimizer": "adma"}, r"optimizer='adma' is not allowed: optimizer must be one of 'sgd'"),
    ({"activation": "relu6"}, r"activation='relu6' is not allowed: activation must be one of"),
    ({"dropout": 1.0}, r"dropout=1.0 is not allowed: dropout must be in \[0, 1\)"),
    ({"dropout": -0.1}, r"dropout=-0.1 is not allowed: dropout must be in \[0, 1\)"),
    ({"hidden": [128, 0]}, r"hidden\[1\]=0 is not allowed: hidden\[1\] must be an integer >= 1"),
    ({"hidden": [64, -3]}, r"hidden\[1\]=-3 is not allowed"),
    ({"hidden": 128}, r"hidden=128 is not allowed: hidden must be a list of layer widths"),
    ({"momentum": 1.0}, r"momentum=1.0 is not allowed: momentum must be in \[0, 1\)"),
    ({"betas": (0.9, 1.0)}, r"betas\[1\]=1.0 is not allowed: betas\[1\] must be in \[0, 1\)"),
    ({"betas": (0.9,)}, r"betas=\(0.9,\) is not allowed: betas must be a pair"),
    ({"eps": 0}, r"eps=0 is not allowed: eps must be > 0"),
    ({"weight_decay": -1e-4}, r"weight_decay=-0.0001 is not allowed: weight_decay must be >= 0"),
    ({"schedule": "linear"}, r"schedule='linear' is not allowed: schedule must be one of"),
    (
        {"warmup_epochs": 30},
        r"warmup_epochs=30 is not allowed: warmup_epochs must be an integer in \[0, 20\]",
    ),
    ({"gamma": 0}, r"gamma=0 is not allowed: gamma must be in \(0, 1\]"),
    ({"patience": 0}, r"patience=0 is not allowed: patience must be an integer >= 1"),
    ({"seed": -1}, r"seed=-1 is not allowed: seed must be an integer >= 0"),
    ({"threads": 0}, r"threads=0 is not allowed: threads must be an integer >= 1"),
    ({"learning_rate": 0.1}, r"config key 'learning_rate' is not a TrainConfig field"),
]


@pytest.mark.parametrize(("fields", "message"), BAD, ids=[str(f) for f, _ in BAD])
def test_bad_config_names_field_value_and_range(fields, message):
    with pytest.raises(ValueError, match=message):
        hp.TrainConfig.from_dict(fields)


def test_batch_larger_than_training_set_is_rejected_by_train():
    data = hp.load_dataset("digits")
    n = len(data.y_train)
    with pytest.raises(ValueError, match=rf"batch_size=5000 is not allowed: .* in \[1, {n}\]"):
        hp.train({"batch_size": 5000}, data)


def test_config_round_trips_through_a_plain_dict():
    cfg = hp.TrainConfig(lr=0.03, hidden=[32, 16], optimizer="adam", betas=[0.8, 0.99])
    again = hp.TrainConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert again.hidden == (32, 16) and again.betas == (0.8, 0.99)
    assert cfg.replace(lr=0.1).lr == 0.1 and cfg.lr == 0.03


def test_train_rejects_things_that_are_not_configs_or_datasets():
    with pytest.raises(ValueError, match="config=3 is not allowed"):
        hp.train(3, hp.load_dataset("digits"))
    with pytest.raises(ValueError, match="data=.* must be a hpcourse Dataset"):
        hp.train({}, "digits")


@pytest.mark.parametrize(
    ("field", "value"),
    [("shuffle", "no"), ("shuffle", 0), ("nesterov", "yes"), ("restore_best", 2)],
)
def test_boolean_fields_accept_only_true_or_false(field, value):
    # "no" is truthy in Python: accepting it would silently shuffle when asked not to
    with pytest.raises(ValueError, match=rf"{field}={value!r} is not allowed: .* True or False"):
        hp.TrainConfig.from_dict({field: value})


def test_new_fields_are_checked():
    with pytest.raises(ValueError, match=r"grad_clip=0 is not allowed: grad_clip must be > 0"):
        hp.TrainConfig(grad_clip=0)
    with pytest.raises(ValueError, match="warmup_epochs=2 is not allowed with schedule='onecycle'"):
        hp.TrainConfig(schedule="onecycle", warmup_epochs=2)
    assert hp.TrainConfig(grad_clip=1.0, schedule="onecycle").grad_clip == 1.0


def test_config_module_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; import hpcourse.config, hpcourse.results, hpcourse.rules, "
        "hpcourse.seeding; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "config/results/rules/seeding must not import torch"


def test_decay_epochs_belongs_to_wsd_and_fits_the_run():
    assert hp.TrainConfig(schedule="wsd", epochs=10, decay_epochs=3).decay_epochs == 3
    with pytest.raises(ValueError, match="decay_epochs=3 is not allowed with schedule='cosine'"):
        hp.TrainConfig(schedule="cosine", decay_epochs=3)
    with pytest.raises(ValueError, match=r"decay_epochs=9 is not allowed: .* in \[1, 8\]"):
        hp.TrainConfig(schedule="wsd", epochs=10, warmup_epochs=2, decay_epochs=9)


def test_wsd_run_holds_then_decays_to_zero():
    data = hp.load_dataset("digits")
    h = hp.train({"schedule": "wsd", "epochs": 5, "decay_epochs": 2, "lr": 0.1}, data)
    spe = h.steps_per_epoch
    assert h.step_lr[: 3 * spe] == [0.1] * (3 * spe)
    assert h.step_lr[-1] == 0.0 and h.step_lr[3 * spe] < 0.1
