"""The trainer: learns, is deterministic, reports divergence instead of crashing."""

import math

import pytest
import torch

import hpcourse as hp


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def test_default_run_on_digits_reaches_95_percent(digits):
    history = hp.train(None, digits)
    assert history.final_val_acc >= 0.95, history
    assert not history.diverged
    assert len(history.epoch) == 21 and history.epoch[0] == 0  # epoch 0 = before training
    assert history.steps_per_epoch == math.ceil(len(digits.y_train) / 32)
    assert len(history.step_loss) == 20 * history.steps_per_epoch


def test_same_config_and_seed_give_the_same_history(digits):
    cfg = {"epochs": 3, "dropout": 0.2, "optimizer": "adam", "lr": 1e-3}
    a, b = hp.train(cfg, digits), hp.train(cfg, digits)
    assert a.step_loss == b.step_loss and a.val_acc == b.val_acc
    c = hp.train({**cfg, "seed": 1}, digits)
    assert c.step_loss != a.step_loss


@pytest.mark.parametrize("lr", [50.0, 1e4])
def test_huge_learning_rate_is_reported_as_diverged_not_raised(digits, lr):
    history = hp.train({"lr": lr, "epochs": 5}, digits)
    assert history.diverged
    assert history.final_val_loss == math.inf
    assert "DIVERGED" in repr(history)


def test_early_stopping_stops_and_restores_the_best_weights(digits):
    cfg = {"epochs": 60, "lr": 0.05, "optimizer": "momentum", "patience": 3, "restore_best": True}
    history = hp.train(cfg, digits)
    assert history.stopped_early and history.epoch[-1] < 60
    assert history.epoch[-1] - history.best_epoch >= 3
    val_loss, _ = hp.evaluate(history.model, digits.x_val, digits.y_val)
    assert val_loss == pytest.approx(history.best_val_loss, rel=1e-5)


def test_every_optimizer_and_schedule_trains(digits):
    for optimizer, lr in (("sgd", 0.1), ("momentum", 0.05), ("adam", 1e-3), ("adamw", 1e-3)):
        for schedule in ("constant", "step", "cosine"):
            cfg = {"optimizer": optimizer, "lr": lr, "schedule": schedule, "epochs": 4}
            h = hp.train({**cfg, "step_epochs": 2, "warmup_epochs": 1}, digits)
            assert h.final_val_acc > 0.8, (optimizer, schedule, h)


def test_schedule_sets_the_learning_rate_of_every_step(digits):
    h = hp.train({"schedule": "cosine", "epochs": 4, "warmup_epochs": 1}, digits)
    n = h.steps_per_epoch
    assert h.step_lr[0] == pytest.approx(0.1 / n)  # warmup starts small
    assert h.step_lr[n - 1] == pytest.approx(0.1)  # and reaches the base lr
    assert h.step_lr[-1] < 0.01  # cosine ends near zero


def test_on_epoch_callback_can_change_lr_and_stop(digits):
    seen = []

    def babysit(history, optimizer):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.param_groups[0]["lr"] *= 0.5
        return "stop" if len(seen) == 3 else None

    h = hp.train({"epochs": 10}, digits, on_epoch=babysit)
    assert seen == [0.1, 0.05, 0.025] and h.epoch[-1] == 3


def test_train_many_keeps_diverged_runs_and_tables_them(digits, tmp_path):
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    runs = hp.train_many([{"lr": lr, "epochs": 2} for lr in (0.1, 100.0)], digits, log=log)
    table = hp.results_table(runs, columns=["lr"])
    assert table["diverged"].tolist() == [False, True]
    assert table["lr"].tolist() == [0.1, 100.0]
    logged = log.to_frame().sort_values("config.lr")  # logged as each run ends
    assert logged["config.lr"].tolist() == [0.1, 100.0]
    assert logged["metrics.diverged"].tolist() == [False, True]
    with pytest.raises(ValueError, match="configs=\\[\\] is not allowed"):
        hp.train_many([], digits)


def test_a_given_model_is_trained_and_thread_count_is_restored(digits):
    torch.set_num_threads(2)
    model = hp.MLP(64, [16], 10)
    h = hp.train({"epochs": 2}, digits, model=model)
    assert h.model is model and h.n_params == 64 * 16 + 16 + 16 * 10 + 10
    assert torch.get_num_threads() == 2
