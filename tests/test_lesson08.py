"""Lesson 08 (capacity and regularization): the sweep configs and their tables, the decay
factor, MNIST-1D shift augmentation, the knob table, plots, the explorer, the exercise
checkers (with wrong answers), and the faults the lesson's claims name."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import capacity
from hpcourse.augmentation import augmented_copies, shift_signals
from hpcourse.config import TrainConfig
from hpcourse.exercises import lesson08
from hpcourse.plots import capacity as capacity_plots
from hpcourse.results import History
from hpcourse.widgets.capacity import CapacityExplorer, capacity_explorer, explorer_config

TINY = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "epochs": 2}


@pytest.fixture(scope="module")
def mnist1d():
    return hp.load_dataset("mnist1d", seed=0)


@pytest.fixture(scope="module")
def small_sweep(mnist1d):
    base = {**TINY, "hidden": [16, 16]}
    configs = (
        capacity.depth_configs(TINY, [2, 3], 16, seeds=[0, 1])
        + capacity.width_configs(TINY, [8], layers=3)
        + capacity.regularization_configs(base, dropouts=[0.5], l2=[1e-2], decoupled=[1.0])
    )
    histories = hp.train_many(configs, mnist1d, progress=False)
    return configs, histories, capacity.gap_table(histories)


# --------------------------------------------------------------------------- configs, tables


def test_configs_are_tagged_and_shaped():
    depth = capacity.depth_configs(TINY, [2, 4], 32, seeds=[5, 6])
    assert [c.hidden for c in depth] == [(32,), (32,), (32, 32, 32), (32, 32, 32)]
    assert [c.seed for c in depth] == [5, 6, 5, 6]
    assert {c.tags["study"] for c in depth} == {"depth"}
    width = capacity.width_configs(TINY, [8, 64], layers=2)
    assert [c.hidden for c in width] == [(8,), (64,)]
    reg = capacity.regularization_configs(
        {**TINY, "hidden": [8, 8]}, dropouts=[0.2], l2=[1e-3], decoupled=[0.1]
    )
    assert [(c.tags["study"], c.optimizer, c.dropout, c.weight_decay) for c in reg] == [
        ("dropout", "adam", 0.2, 0.0),
        ("L2", "adam", 0.0, 1e-3),
        ("decoupled", "adamw", 0.0, 0.1),
    ]
    assert [capacity.decay_kind(c) for c in reg] == ["none", "L2", "decoupled"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: capacity.depth_configs(TINY, [1], 8, [0]), "layers[0]=1"),
        (lambda: capacity.depth_configs(TINY, [2], 0, [0]), "width=0"),
        (lambda: capacity.width_configs(TINY, [0]), "widths[0]=0"),
        (lambda: capacity.width_configs(TINY, [8], layers=1), "layers=1"),
        (lambda: capacity.regularization_configs(TINY, dropouts=[1.0]), "dropouts[0]=1.0"),
        (lambda: capacity.regularization_configs(TINY, l2=[0.0]), "l2[0]=0.0"),
        (lambda: capacity.regularization_configs(TINY, decoupled=[-1.0]), "decoupled[0]=-1.0"),
        (lambda: capacity.decay_factor(0.0, 1.0, 3), "lr=0.0"),
        (lambda: capacity.decay_factor(0.1, -1.0, 3), "weight_decay=-1.0"),
        (lambda: capacity.decay_factor(0.1, 1.0, 2.5), "steps=2.5"),
        (lambda: capacity.decay_factor(0.5, 2.0, 3), "lr * weight_decay=1"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_gap_table_reads_the_histories(small_sweep):
    configs, histories, table = small_sweep
    assert len(table) == len(configs)
    for (_, row), h in zip(table.iterrows(), histories, strict=True):
        assert row["gap"] == pytest.approx(h.train_acc[-1] - h.val_acc[-1])
        assert row["best_val_loss"] == pytest.approx(min(h.val_loss))
        assert row["layers"] == len(h.config.hidden) + 1
    assert list(table["study"]) == ["depth"] * 4 + ["width", "dropout", "L2", "decoupled"]
    assert list(table["decay"])[-3:] == ["none", "L2", "decoupled"]


def test_depth_summary_averages_seeds(small_sweep):
    _, _, table = small_sweep
    summary = capacity.depth_summary(table).set_index("layers")
    rows = table[(table["study"] == "depth") & (table["layers"] == 3)]
    assert summary.loc[3, "val_acc"] == pytest.approx(rows["val_acc"].mean())
    assert summary.loc[3, "seeds"] == 2
    assert summary.loc[3, "val_acc_min"] <= summary.loc[3, "val_acc_max"]
    with pytest.raises(ValueError, match="study='depth'"):
        capacity.depth_summary(table[table["study"] != "depth"])


def test_strength_table_puts_the_baseline_at_zero(small_sweep):
    _, _, table = small_sweep
    baseline = table[(table["study"] == "depth") & (table["layers"] == 3)]
    strengths = capacity.strength_table(table, baseline)
    assert sorted(strengths["kind"].unique()) == ["L2", "decoupled", "dropout"]
    zero = strengths[strengths["strength"] == 0]
    assert len(zero) == 3
    assert np.allclose(zero["gap"], baseline["gap"].mean())
    assert set(strengths.loc[strengths["kind"] == "dropout", "strength"]) == {0.0, 0.5}


def test_decay_factor_compounds_per_step():
    assert capacity.decay_factor(0.1, 1.0, 10) == pytest.approx(0.9**10)
    assert capacity.decay_factor(0.003, 0.0, 500) == 1.0
    assert capacity.decay_factor(0.003, 1.0, 0) == 1.0


def test_decay_factor_matches_adamw_on_a_weight_without_gradient():
    import torch

    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([w], lr=0.05, weight_decay=2.0)
    for _ in range(7):
        opt.zero_grad()
        w.grad = torch.zeros(3)
        opt.step()
    assert float(w.detach()[0]) == pytest.approx(capacity.decay_factor(0.05, 2.0, 7), rel=1e-6)


def test_knob_effects_compares_with_the_baseline(small_sweep):
    _, histories, table = small_sweep
    baseline = histories[2]  # depth 3, seed 0
    drop_row = table[table["study"] == "dropout"].iloc[0]
    knobs = capacity.knob_effects(table, baseline, {"dropout": {**drop_row, "change": "x"}})
    k = knobs.set_index("knob")
    assert list(k.index) == ["stop at the best epoch", "dropout"]
    b_gap = baseline.train_acc[-1] - baseline.val_acc[-1]
    assert k.loc["dropout", "gap_change"] == pytest.approx(drop_row["gap"] - b_gap)
    best = baseline.best_epoch
    assert k.loc["stop at the best epoch", "val_acc_change"] == pytest.approx(
        baseline.val_acc[best] - baseline.val_acc[-1]
    )
    with pytest.raises(ValueError, match="not allowed"):
        capacity.knob_effects(table, baseline, {"more epochs": dict(drop_row)})


# --------------------------------------------------------------------------- augmentation


def test_shift_signals_rolls_each_row_and_keeps_its_values():
    x = np.arange(12.0).reshape(2, 6)
    out = shift_signals(x, 2, 0.0, np.random.default_rng(0))
    for row, orig in zip(out, x, strict=True):
        assert sorted(row) == sorted(orig)
        assert any(np.array_equal(row, np.roll(orig, s)) for s in range(-2, 3))
    assert np.array_equal(shift_signals(x, 0, 0.0, np.random.default_rng(0)), x)
    noisy = shift_signals(x, 0, 0.5, np.random.default_rng(0))
    assert 0.2 < float(np.std(noisy - x)) < 0.8
    with pytest.raises(ValueError, match="max_shift=6"):
        shift_signals(x, 6, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise_std=-1"):
        shift_signals(x, 1, -1, np.random.default_rng(0))


def test_augmented_copies_adds_shifted_copies_and_leaves_validation(mnist1d):
    aug = augmented_copies(mnist1d, 2, 3, seed=0)
    n = len(mnist1d.y_train)
    assert len(aug.y_train) == 3 * n
    assert (aug.y_train[:n] == mnist1d.y_train).all() and (
        aug.y_train[n:] == aug.y_train[:n].repeat(2)
    ).all()
    assert (aug.x_train[:n] == mnist1d.x_train).all()
    assert not (aug.x_train[n : 2 * n] == mnist1d.x_train).all()
    assert (aug.x_val == mnist1d.x_val).all() and (aug.x_test == mnist1d.x_test).all()
    again = augmented_copies(mnist1d, 2, 3, seed=0)
    assert (again.x_train == aug.x_train).all()
    with pytest.raises(ValueError, match="copies=0"):
        augmented_copies(mnist1d, 0, 2)
    with pytest.raises(ValueError, match="data="):
        augmented_copies(hp.load_dataset("digits", seed=0), 1, 2)


# --------------------------------------------------------------------------- plots, explorer


def test_plots_return_their_axes(small_sweep):
    _, histories, table = small_sweep
    baseline = table[(table["study"] == "depth") & (table["layers"] == 3)]
    strengths = capacity.strength_table(table, baseline)
    for ax in (
        capacity_plots.plot_gap(table[table["study"] == "depth"], "layers"),
        capacity_plots.plot_gap(table[table["study"] == "depth"], "width", log=True),
        capacity_plots.plot_strengths(strengths, "dropout"),
        capacity_plots.plot_strengths(strengths, "decoupled"),
        capacity_plots.plot_run(histories[0], histories[1]),
    ):
        assert ax.has_data()
    ax = capacity_plots.plot_strengths(strengths, "L2")
    assert ax.get_xticklabels()[0].get_text() == "none"
    plt.close("all")


def test_explorer_reuses_known_runs_and_trains_the_rest(mnist1d):
    base = {**TINY, "epochs": 1, "hidden": [32, 32]}
    known = hp.train_many(
        [explorer_config(TrainConfig(**base), 32, 0.0, 0.0), TrainConfig(**{**base, "lr": 0.1})],
        mnist1d,
        progress=False,
    )
    ex = capacity_explorer(mnist1d, base, known=known)
    assert isinstance(ex, CapacityExplorer)
    # the lr-0.1 run is another recipe; width 128 (the first drawing) was not known
    assert sorted(ex.cache) == [(32, 0.0, 0.0), (128, 0.0, 0.0)] and ex.trainings == 1
    ex.controls["width"].value = 32
    assert ex.state["run"] is known[0] and not ex.state["trained"]
    ex.controls["dropout"].value = 0.2
    assert ex.state["trained"] and ex.trainings == 2
    assert ex.state["twin"] is known[0]
    assert ex.state["gap"] == pytest.approx(ex.state["train_acc"] - ex.state["val_acc"])
    assert "gap" in ex.status.value and "unregularized" in ex.status.value
    ex.controls["weight_decay"].value = 1.0
    assert ex.state["run"].config.optimizer == "adamw"
    ex.controls["weight_decay"].value = 0.0
    assert not ex.state["trained"] and ex.trainings == 3
    assert ex.redraws == 5
    plt.close("all")


def test_explorer_rejects_sgd_base(mnist1d):
    with pytest.raises(ValueError, match="base optimizer"):
        capacity_explorer(mnist1d, {**TINY, "optimizer": "sgd"})


# --------------------------------------------------------------------------- exercises


def right_dropout(h, mask, p, training):
    return h * mask / (1 - p) if training else h


@pytest.mark.parametrize(
    "wrong",
    [
        lambda h, mask, p, training: h * mask if training else h,  # no scaling
        lambda h, mask, p, training: h * mask * (1 - p) if training else h,  # scaled down
        lambda h, mask, p, training: h * mask / p if training else h,  # divided by p
        lambda h, mask, p, training: h * mask / (1 - p),  # also at evaluation
        lambda h, mask, p, training: h * (1 - p) if not training else h * mask / (1 - p),
        lambda h, mask, p, training: h * (1 - mask) / (1 - p) if training else h,  # mask inverted
        lambda h, mask, p, training: h / (1 - p) if training else h,  # mask ignored
    ],
)
def test_dropout_checker_rejects_wrong_answers(wrong):
    assert lesson08.check_dropout(wrong, verbose=False).passed is False


def test_dropout_checker_accepts_right_answers_and_skips_stubs():
    assert lesson08.check_dropout(right_dropout, verbose=False).passed is True

    def masked_inplace(h, mask, p, training):
        if not training:
            return h
        out = np.where(mask > 0, h / (1 - p), 0.0)
        return out

    assert lesson08.check_dropout(masked_inplace, verbose=False).passed is True

    def stub(h, mask, p, training):
        raise NotImplementedError

    assert lesson08.check_dropout(stub, verbose=False).passed is None


@pytest.mark.parametrize(
    "wrong",
    [
        lambda lr, wd, steps: math.exp(-lr * wd * steps),  # continuous approximation
        lambda lr, wd, steps: 1 - lr * wd * steps,  # linear
        lambda lr, wd, steps: max(0.0, 1 - lr * wd * steps),
        lambda lr, wd, steps: (1 - wd) ** steps,  # forgot the lr
        lambda lr, wd, steps: (1 - lr * wd) ** (steps - 1),  # off by one
        lambda lr, wd, steps: (1 - lr) ** (wd * steps),
        lambda lr, wd, steps: round((1 - lr * wd) ** steps, 2),  # rounded
        lambda lr, wd, steps: str((1 - lr * wd) ** steps),  # text
    ],
)
def test_decay_checker_rejects_wrong_answers(wrong):
    assert lesson08.check_decay_factor(wrong, verbose=False).passed is False


def test_decay_checker_accepts_hpcourse_and_a_loop():
    assert lesson08.check_decay_factor(capacity.decay_factor, verbose=False).passed is True

    def loop(lr, wd, steps):
        w = 1.0
        for _ in range(steps):
            w -= lr * wd * w
        return w

    assert lesson08.check_decay_factor(loop, verbose=False).passed is True


# --------------------------------------------------------------------------- faults


def _with_fault(name: str, code: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    tools = Path(__file__).resolve().parents[1] / "tools"
    script = (
        f"import sys; sys.path.insert(0, {str(tools)!r}); import faults\nfaults.apply({name!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script + code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_depth_ignored_keeps_only_the_first_hidden_layer():
    out = _with_fault(
        "depth_ignored",
        "from hpcourse.models import MLP\n"
        "m = MLP(40, [64, 32, 16], 10)\n"
        "print(sum(p.numel() for p in m.parameters()))",
    )
    assert int(out) == 40 * 64 + 64 + 64 * 10 + 10


def test_augmentation_ignored_makes_shifted_copies_duplicates():
    out = _with_fault(
        "augmentation_ignored",
        "import numpy as np\n"
        "from hpcourse import augmentation\n"
        "x = np.arange(10.0).reshape(2, 5)\n"
        "print(bool((augmentation.shift_signals(x, 2, 0.5, np.random.default_rng(0)) == x).all()))",
    )
    assert out == "True"


def test_the_lesson_table_columns_are_stable(small_sweep):
    _, _, table = small_sweep
    assert isinstance(table, pd.DataFrame)
    assert {"train_acc", "val_acc", "gap", "best_val_loss", "n_params"} <= set(table.columns)
    assert isinstance(History, type)
