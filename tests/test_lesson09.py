"""Lesson 09 (optimizer hyperparameters and schedules): momentum's effective step, Adam's
step and epsilon, the two weight decays, schedules against PyTorch's schedulers, warmup and
clipping tables, the width sweep's best-lr reading, the explorer, plots and the exercises
(with wrong answers they must reject)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import hpcourse as hp
from hpcourse import optimizers as opt
from hpcourse import schedule_budget as sb
from hpcourse import width_transfer as wt
from hpcourse.config import TrainConfig
from hpcourse.exercises import lesson09
from hpcourse.plots import optimizers as opt_plots
from hpcourse.results import History
from hpcourse.runs import lr_at
from hpcourse.widgets.optimizers import ScheduleExplorer, schedule_explorer


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def fake(config: dict, train_loss: list[float], **fields) -> History:
    n = len(train_loss)
    return History(
        config=TrainConfig(**{"epochs": max(1, n - 1), **config}),
        epoch=list(range(n)),
        train_loss=list(train_loss),
        val_loss=list(train_loss),
        train_acc=[0.5] * n,
        val_acc=[0.5] * n,
        **fields,
    )


# --------------------------------------------------------------------------- momentum, Adam


def test_constant_gradient_steps_follow_the_momentum_formula():
    for beta in (0.0, 0.5, 0.9):
        measured = opt.constant_gradient_steps(
            {"optimizer": "momentum", "lr": 0.01, "momentum": beta}, steps=40, gradient=2.0
        )
        formula = opt.momentum_step_lengths(beta, 40, lr=0.01, gradient=2.0)
        np.testing.assert_allclose(measured, formula, rtol=1e-9)
    assert opt.effective_lr(0.01, 0.99) == pytest.approx(1.0)


def test_adam_steps_lr_whatever_the_gradient_until_eps():
    table = opt.adam_step_table(0.01, gradients=[1e-3, 1.0, 1e3], epsilons=[1e-8, 1e-3])
    ratio = table.set_index(["gradient", "eps"])["step / lr"]
    for g in (1e-3, 1.0, 1e3):
        assert ratio[(g, 1e-8)] == pytest.approx(1.0, rel=1e-4)
    assert ratio[(1e-3, 1e-3)] == pytest.approx(0.5, rel=1e-4)


def test_adam_step_overshoots_after_a_jump_while_beta2_lags():
    jump = [1.0] * 100 + [10.0] * 50
    slow = opt.gradient_sequence_steps({"optimizer": "adam", "lr": 0.01}, jump) / 0.01
    fast = (
        opt.gradient_sequence_steps({"optimizer": "adam", "lr": 0.01, "betas": (0.9, 0.95)}, jump)
        / 0.01
    )
    np.testing.assert_allclose(slow[:100], 1.0, rtol=1e-6)
    assert slow[100:].max() > 1.8 > 1.25 > fast[100:].max()
    with pytest.raises(ValueError, match="gradients"):
        opt.gradient_sequence_steps({"optimizer": "adam"}, [])
    ax = opt_plots.plot_adam_memory({(0.9, 0.999): slow, (0.9, 0.95): fast}, jump_at=100)
    assert len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="steps"):
        opt_plots.plot_adam_memory({}, jump_at=1)
    plt.close("all")


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="momentum"):
        opt.effective_lr(0.1, 1.0)
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        opt.decoupled_shrink(1.0, 2.0, 10)
    with pytest.raises(ValueError, match="optimizer"):
        opt.measure_gradient_scale({"optimizer": "sgd"}, None)


def test_tables_of_momentum_eps_and_decay(digits):
    runs = [
        fake({"optimizer": "momentum", "lr": 0.01, "momentum": 0.9}, [2.0, 1.0]),
        fake({"optimizer": "sgd", "lr": 0.1}, [2.0, 1.1]),
    ]
    table = opt.momentum_table(runs)
    assert table["effective_lr"].tolist() == pytest.approx([0.1, 0.1])
    assert table["momentum"].tolist() == [0.9, 0.0]  # plain SGD has no momentum

    eps_runs = [
        fake({"optimizer": "adam", "eps": e}, [2.0, v]) for e, v in [(1e-2, 1.5), (1e-8, 1.0)]
    ]
    eps = opt.eps_table(eps_runs, gradient_scale=5e-3)
    assert eps["eps"].tolist() == [1e-8, 1e-2]
    assert eps["change"].tolist() == pytest.approx([0.0, 0.5])
    assert eps["eps / gradient scale"].iloc[1] == pytest.approx(2.0)

    base = {"hidden": [8], "batch_size": 64, "epochs": 2, "optimizer": "adam", "lr": 0.01}
    configs = [
        {**base, "optimizer": o, "weight_decay": wd} for o in ("adam", "adamw") for wd in (0, 0.1)
    ]
    decay = opt.decay_table(hp.train_many(configs, digits, progress=False))
    kept = decay.set_index(["optimizer", "weight_decay"])["kept"]
    assert kept[("adam", 0.0)] == kept[("adamw", 0.0)] == pytest.approx(1.0)
    assert kept[("adam", 0.1)] < kept[("adamw", 0.1)] < 1.0  # L2 through Adam is the stronger
    with pytest.raises(ValueError, match="weight_decay=0"):
        opt.decay_table(hp.train_many(configs[1:2], digits, progress=False))


def test_weight_norm_leaves_biases_out():
    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 4.0]]))
        layer.bias.fill_(100.0)
    assert opt.weight_norm(layer) == pytest.approx(5.0)


def test_adam_trial_builds_betas_and_hidden():
    assert opt.adam_trial({"beta2": 0.95}) == {"betas": (0.9, 0.95)}
    config = TrainConfig().replace(**opt.adam_trial({"beta1": 0.8, "beta2": 0.99, "width": 32}))
    assert config.betas == (0.8, 0.99) and config.hidden == (32,)


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize("name", list(sb.schedule_presets(10)))
def test_every_preset_equals_torch_where_torch_has_it(name):
    changes = sb.schedule_presets(10)[name]
    config = TrainConfig(lr=0.1, epochs=10, **changes)
    theirs = sb.torch_schedule_lrs(config, steps_per_epoch=7)
    ours = [lr_at(config, s, 7) for s in range(70)]
    if name == "wsd":
        assert theirs is None
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


def test_torch_mismatch_sees_a_missing_warmup():
    config = TrainConfig(lr=0.1, epochs=4, schedule="cosine", warmup_epochs=1)
    right = [lr_at(config, s, 5) for s in range(20)]
    good = fake(config.to_dict(), [1.0] * 5, step_lr=right, steps_per_epoch=5)
    assert sb.torch_mismatch(good) < 1e-6
    wrong = fake(config.to_dict(), [1.0] * 5, step_lr=[0.1] * 20, steps_per_epoch=5)
    assert sb.torch_mismatch(wrong) > 0.5
    short = fake(config.to_dict(), [1.0] * 5, step_lr=right[:5], steps_per_epoch=5)
    assert sb.torch_mismatch(short) == math.inf


def test_sweep_configs_tables_and_best():
    configs = sb.sweep_configs({"optimizer": "adam"}, [0.01, 0.1], epochs=10)
    assert len(configs) == 2 * len(sb.schedule_presets(10))
    assert {c.epochs for c in configs} == {10}
    runs = [fake(c.to_dict(), [2.0, 1.0 + c.lr], step_lr=[c.lr] * 4) for c in configs]
    table = sb.sweep_table(runs)
    best = sb.best_per_schedule(table)
    assert list(best.index) == list(sb.schedule_presets(10))
    assert (best["best_lr"] == 0.01).all()
    with pytest.raises(ValueError, match="schedule"):
        sb.sweep_table([fake({}, [1.0, 0.5])])


def test_early_spike_and_clip_table():
    run = fake({}, [1.0, 1.0], step_loss=[2.0, 5.0, 1.0, 1.0])
    assert sb.early_spike(run, 4) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="steps"):
        sb.early_spike(run, 10)
    blown = fake({}, [1.0, 1.0], step_loss=[2.0, float("inf")], diverged=True)
    assert sb.early_spike(blown, 2) == math.inf
    clipped = fake({"grad_clip": 1.0}, [2.0, 1.0], step_grad_norm=[0.5, 2.0, 3.0, 0.1])
    table = sb.clip_table([clipped])
    assert table.loc[0, "clipped"] == pytest.approx(0.5)
    assert table.loc[0, "median_grad_norm"] == pytest.approx(1.25)


# --------------------------------------------------------------------------- width transfer


def test_width_configs_check_their_inputs():
    with pytest.raises(ValueError, match="optimizer"):
        wt.width_configs({"optimizer": "sgd"}, [8], [0.1], base_width=8)
    with pytest.raises(ValueError, match="empty"):
        wt.width_configs({"optimizer": "adam"}, [], [0.1], base_width=8)
    with pytest.raises(ValueError, match="parameterizations"):
        wt.width_configs({"optimizer": "adam"}, [8], [0.1], base_width=8, parameterizations=["NTK"])
    configs = wt.width_configs(
        {"optimizer": "adam"},
        np.array([8, 32]),
        np.array([0.01, 0.1]),
        base_width=8,
        seeds=[5],
        depth=1,
    )
    assert len(configs) == 2 * 2 * 2
    mup = [c for c in configs if c.tags["parameterization"] == "muP"]
    assert {c.mup_base_width for c in mup} == {8} and {c.seed for c in configs} == {5}


def test_best_lr_per_width_reads_the_refined_minimum():
    lrs = 2.0 ** np.arange(-8, -1)
    rows = []
    for name, centres in {"SP": {16: -4.0, 256: -6.0}, "muP": {16: -5.0, 256: -5.0}}.items():
        for width, centre in centres.items():
            for seed in (0, 1):
                for lr in lrs:
                    loss = (np.log2(lr) - centre) ** 2 + 0.1 * seed
                    rows.append(
                        {
                            "parameterization": name,
                            "width": width,
                            "lr": lr,
                            "seed": seed,
                            "loss": loss,
                        }
                    )
    best = wt.best_lr_per_width(pd.DataFrame(rows))
    drift = wt.lr_drift(best)
    assert drift["SP"] == pytest.approx(4.0) and drift["muP"] == pytest.approx(1.0)
    assert not best["on_edge"].any()
    assert wt.refine_minimum([0, 1, 2], [0.0, 1.0, 2.0]) == (0.0, True)


# --------------------------------------------------------------------------- explorer, plots


def test_schedule_explorer_redraws_and_reports_ignored_controls():
    ex = schedule_explorer(schedule="cosine", lr=0.1, epochs=10, steps_per_epoch=5)
    assert isinstance(ex, ScheduleExplorer)
    start = ex.redraws
    ex.controls["schedule"].value = "step"
    assert ex.redraws == start + 1
    assert len(ex.state["lrs"]) == 50 and "warmup" not in ex.state["ignored"]
    ex.controls["schedule"].value = "onecycle"
    ex.controls["warmup"].value = 2
    assert "warmup" in ex.state["ignored"]
    assert ex.state["area"] == pytest.approx(np.mean(ex.state["lrs"]) / 0.1)
    with pytest.raises(ValueError, match="schedule"):
        schedule_explorer(schedule="linear")
    plt.close("all")


def test_plots_draw_and_refuse_empty_input():
    steps = {b: opt.momentum_step_lengths(b, 20, lr=0.01) for b in (0.0, 0.9)}
    assert opt_plots.plot_momentum_steps(steps, 0.01).get_yscale() == "log"
    runs = {
        "a": fake(
            {"lr": 0.1}, [2.0, 1.0], step_lr=[0.1, 0.05], step_loss=[2.0, 1.5], steps_per_epoch=2
        )
    }
    opt_plots.plot_loss_curves(runs)
    opt_plots.plot_run_lrs(runs)
    opt_plots.plot_first_steps(runs, 2)
    eps = pd.DataFrame({"eps": [1e-8, 1e-1], "final_train_loss": [1.0, 1.5]})
    opt_plots.plot_eps_sweep(eps, 5e-3)
    decay = pd.DataFrame(
        {
            "decay": ["L2", "L2", "decoupled"],
            "weight_decay": [0.0, 0.01, 0.01],
            "kept": [1.0, 0.5, 0.99],
        }
    )
    assert len(opt_plots.plot_decay(decay).get_lines()) == 2
    sweep = pd.DataFrame(
        {"schedule": ["constant", "cosine"], "lr": [0.01, 0.01], "final_train_loss": [1.0, 0.9]}
    )
    opt_plots.plot_schedule_sweep(sweep)
    table = pd.DataFrame(
        {
            "parameterization": ["SP"] * 3,
            "width": [16] * 3,
            "lr": [0.01, 0.02, 0.04],
            "loss": [1.0, 0.5, 0.8],
        }
    )
    best = wt.best_lr_per_width(table.assign(seed=0))
    opt_plots.plot_width_sweep(table, best, "SP")
    with pytest.raises(ValueError, match="parameterization"):
        opt_plots.plot_width_sweep(table, best, "muP")
    for empty in (opt_plots.plot_loss_curves, opt_plots.plot_run_lrs):
        with pytest.raises(ValueError, match="runs"):
            empty({})
    with pytest.raises(ValueError, match="column"):
        opt_plots.plot_eps_sweep(pd.DataFrame({"eps": [1.0]}), 1.0)
    plt.close("all")


# --------------------------------------------------------------------------- exercises


def momentum_right(lr, momentum, gradient, n):
    v, out = 0.0, []
    for _ in range(n):
        v = momentum * v + gradient
        out.append(lr * v)
    return out


def momentum_as_array(lr, momentum, gradient, n):
    t = np.arange(1, n + 1)
    return lr * gradient * (1 - momentum**t) / (1 - momentum)


def momentum_ema(lr, momentum, gradient, n):  # Adam-style average: never grows past lr * g
    v, out = 0.0, []
    for _ in range(n):
        v = momentum * v + (1 - momentum) * gradient
        out.append(lr * v)
    return out


def momentum_limit_only(lr, momentum, gradient, n):
    return [lr * gradient / (1 - momentum)] * n


def momentum_off_by_one(lr, momentum, gradient, n):
    t = np.arange(n)
    return list(lr * gradient * (1 - momentum**t) / (1 - momentum))


def momentum_no_gradient(lr, momentum, gradient, n):
    return momentum_right(lr, momentum, 1.0, n)


def momentum_rounded(lr, momentum, gradient, n):
    return [round(x, 3) for x in momentum_right(lr, momentum, gradient, n)]


def test_momentum_checker_accepts_right_answers():
    assert lesson09.check_momentum_steps(momentum_right, verbose=False).passed
    assert lesson09.check_momentum_steps(momentum_as_array, verbose=False).passed


@pytest.mark.parametrize(
    "wrong",
    [
        momentum_ema,
        momentum_limit_only,
        momentum_off_by_one,
        momentum_no_gradient,
        momentum_rounded,
    ],
)
def test_momentum_checker_rejects_wrong_answers(wrong):
    assert lesson09.check_momentum_steps(wrong, verbose=False).passed is False


def test_checkers_skip_the_stubs():
    def stub(*args):
        raise NotImplementedError

    assert lesson09.check_momentum_steps(stub, verbose=False).passed is None
    assert lesson09.check_warmup_cosine(stub, verbose=False).passed is None


def warmup_cosine_right(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * progress))


def warmup_from_zero(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return step / warmup_steps
    return warmup_cosine_right(step, total_steps, warmup_steps)


def cosine_over_total(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return 0.5 * (1 + math.cos(math.pi * step / total_steps))


def cosine_without_offset(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return 0.5 * (1 + math.cos(math.pi * step / (total_steps - warmup_steps)))


def no_warmup(step, total_steps, warmup_steps):
    return 0.5 * (1 + math.cos(math.pi * step / total_steps))


def linear_decay(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return 1 - (step - warmup_steps) / (total_steps - warmup_steps)


def test_warmup_cosine_checker():
    assert lesson09.check_warmup_cosine(warmup_cosine_right, verbose=False).passed
    for wrong in (
        warmup_from_zero,
        cosine_over_total,
        cosine_without_offset,
        no_warmup,
        linear_decay,
    ):
        assert lesson09.check_warmup_cosine(wrong, verbose=False).passed is False, wrong.__name__
