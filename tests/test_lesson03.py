"""Lesson 03 (batch size): gradient noise, noise scale, memory, run tables, plots, explorer,
exercises. Known-answer problems stand in for real training wherever they can."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import hpcourse as hp
from hpcourse import (
    accumulation,
    gradient_cloud,
    gradient_noise,
    lr_scaling,
    memory,
    noise_scale,
    results,
    throughput,
    time_to_target,
    training,
)
from hpcourse.exercises.lesson03 import (
    check_scaled_lr,
    check_steps_per_epoch,
    check_variance_ratio,
)
from hpcourse.plots import batch as batch_plots
from hpcourse.results import History
from hpcourse.widgets.batch import GradientNoiseExplorer, gradient_noise_explorer


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits")


def population(n=400, p=6, grad_sq=0.25, trace=3.0, seed=0):
    """Rows whose mean is exactly G (with |G|^2 = grad_sq) and whose mean squared distance
    to G is exactly ``trace``: a synthetic problem with a known noise scale."""
    gen = np.random.default_rng(seed)
    z = gen.normal(size=(n, p)) * np.linspace(0.5, 2.0, p)  # unequal variances per coordinate
    z -= z.mean(axis=0)
    z *= math.sqrt(trace / (z**2).sum(axis=1).mean())
    g = np.full(p, math.sqrt(grad_sq / p))
    return torch.tensor(z + g), g


# --- basics ----------------------------------------------------------------------------


def test_steps_per_epoch_rounds_up():
    assert results.steps_per_epoch(3200, 32) == 100
    assert results.steps_per_epoch(3200, 2048) == 2
    assert results.steps_per_epoch(7, 7) == 1
    assert results.steps_per_epoch(1000, 3) == 334


def test_steps_per_epoch_rejects_a_batch_larger_than_the_data():
    with pytest.raises(
        ValueError,
        match=r"batch_size=11 is not allowed: batch_size must be an integer in \[1, 10\]",
    ):
        results.steps_per_epoch(10, 11)
    with pytest.raises(ValueError, match="n_examples=0 is not allowed"):
        results.steps_per_epoch(0, 1)


def test_linear_scaled_lr():
    assert results.linear_scaled_lr(0.1, 256, 1024) == pytest.approx(0.4)
    assert results.linear_scaled_lr(0.2, 64, 16) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="base_lr=0 is not allowed: base_lr must be > 0"):
        results.linear_scaled_lr(0, 32, 64)
    with pytest.raises(ValueError, match="new_batch=0 is not allowed"):
        results.linear_scaled_lr(0.1, 32, 0)


def test_finite_population_correction():
    assert gradient_noise.finite_population_correction(101, 1) == 1.0
    assert gradient_noise.finite_population_correction(101, 51) == pytest.approx(0.5)
    assert gradient_noise.finite_population_correction(101, 101) == 0.0
    with pytest.raises(
        ValueError, match="n_examples=1 is not allowed: n_examples must be an integer >= 2"
    ):
        gradient_noise.finite_population_correction(1, 1)


# --- minibatch variance on a problem with known noise ---------------------------------------


@pytest.mark.parametrize("replace", [False, True])
def test_variance_of_a_minibatch_mean_matches_sampling_theory(replace):
    """Mean estimation: the 'gradient' of example i is x_i, so g_B is a sample mean, whose
    variance is sigma^2 / B, times (N - B) / (N - 1) without replacement."""
    x = torch.tensor(np.random.default_rng(1).normal(3.0, 2.0, size=60))
    sigma2 = float(((x - x.mean()) ** 2).mean())  # population variance (divide by N)
    sizes = [1, 4, 15, 30, 59]
    table = gradient_noise.minibatch_gradient_variance(
        x, sizes, n_draws=4000, replace=replace, seed=3
    )
    for row in table.itertuples():
        fpc = 1.0 if replace else (60 - row.batch_size) / 59
        analytic = sigma2 / row.batch_size * fpc
        assert row.theory == pytest.approx(analytic)
        assert row.fpc == pytest.approx(fpc)
        assert abs(row.variance - analytic) < 5 * row.sem, (row.batch_size, row.variance, analytic)
        assert row.variance == pytest.approx(analytic, rel=0.12)
        assert row.corrected == pytest.approx(row.variance / fpc)


def test_without_replacement_the_whole_dataset_has_no_noise():
    x = torch.arange(20.0)[:, None]
    table = gradient_noise.minibatch_gradient_variance(x, [20], n_draws=5)
    assert table["variance"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(table["corrected"].iloc[0])
    with_replacement = gradient_noise.minibatch_gradient_variance(
        x, [20], n_draws=500, replace=True
    )
    assert with_replacement["variance"].iloc[0] > 0


def test_variance_sums_over_parameters_and_falls_like_one_over_b():
    rows, _ = population(n=3000, p=6, trace=3.0)
    table = gradient_noise.minibatch_gradient_variance(
        rows, [1, 4, 16, 64], n_draws=600, replace=True
    )
    np.testing.assert_allclose(table["theory"], 3.0 / table["batch_size"])
    fit = gradient_noise.fit_loglog_slope(table["batch_size"], table["variance"])
    assert -1.1 < fit.slope < -0.9


def test_variance_draws_are_seeded():
    rows, _ = population()
    a = gradient_noise.minibatch_gradient_variance(rows, [8], n_draws=20, seed=5)
    b = gradient_noise.minibatch_gradient_variance(rows, [8], n_draws=20, seed=5)
    c = gradient_noise.minibatch_gradient_variance(rows, [8], n_draws=20, seed=6)
    assert a["variance"].iloc[0] == b["variance"].iloc[0] != c["variance"].iloc[0]


def test_variance_rejects_bad_input():
    rows, _ = population(n=10)
    with pytest.raises(
        ValueError,
        match=r"batch_size=11 is not allowed: batch_size must be an integer in \[1, 10\]",
    ):
        gradient_noise.minibatch_gradient_variance(rows, [11])
    with pytest.raises(ValueError, match=r"batch_sizes=\[\] is not allowed"):
        gradient_noise.minibatch_gradient_variance(rows, [])
    with pytest.raises(
        ValueError, match="n_draws=1 is not allowed: n_draws must be an integer >= 2"
    ):
        gradient_noise.minibatch_gradient_variance(rows, [2], n_draws=1)
    with pytest.raises(ValueError, match="replace='yes' is not allowed"):
        gradient_noise.minibatch_gradient_variance(rows, [2], replace="yes")
    with pytest.raises(ValueError, match=r"per_example_grads of shape \(1, 3\) is not allowed"):
        gradient_noise.minibatch_gradient_variance(torch.ones(1, 3), [1])
    bad = rows.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="contains NaN or infinite values"):
        gradient_noise.minibatch_gradient_variance(bad, [2])


def test_fit_loglog_slope():
    x = np.array([1, 2, 4, 8, 16])
    assert gradient_noise.fit_loglog_slope(x, 3.0 / x).slope == pytest.approx(-1.0)
    fit = gradient_noise.fit_loglog_slope(x, 5.0 * x**-0.5)
    assert fit.slope == pytest.approx(-0.5)
    np.testing.assert_allclose(fit.predict([4.0]), [2.5])
    y = 3.0 / x
    y[-1] = 0.0  # like the variance at B = N: left out, not an error
    assert gradient_noise.fit_loglog_slope(x, y).n_points == 4
    with pytest.raises(ValueError, match="a log-log fit needs at least two points"):
        gradient_noise.fit_loglog_slope([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match="must be 1-D and of the same length"):
        gradient_noise.fit_loglog_slope([1, 2, 3], [1.0, 2.0])


# --- per-example gradients ------------------------------------------------------------------


def test_per_example_gradients_average_to_the_full_batch_gradient():
    torch.manual_seed(0)
    model = hp.MLP(5, [7], 3)
    x, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    rows = gradient_noise.per_example_gradients(model, x, y, chunk=16)  # chunks must not matter
    assert rows.shape == (40, hp.count_parameters(model)["count"].sum())
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    full = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    torch.testing.assert_close(rows.mean(dim=0), full, atol=1e-6, rtol=1e-5)
    model.zero_grad()
    F.cross_entropy(model(x[3:4]), y[3:4]).backward()
    one = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    torch.testing.assert_close(rows[3], one, atol=1e-6, rtol=1e-5)


def test_per_example_gradients_rejects_bad_input():
    model = hp.MLP(5, [7], 3)
    with pytest.raises(ValueError, match="model='mlp' is not allowed"):
        gradient_noise.per_example_gradients(
            "mlp", torch.zeros(2, 5), torch.zeros(2, dtype=torch.long)
        )
    with pytest.raises(
        ValueError, match=r"x of shape \(4, 5\) and y of shape \(3,\) are not allowed"
    ):
        gradient_noise.per_example_gradients(
            model, torch.zeros(4, 5), torch.zeros(3, dtype=torch.long)
        )


# --- noise scale ----------------------------------------------------------------------------


def test_direct_noise_scale_on_a_known_problem():
    rows, g = population(grad_sq=0.25, trace=3.0)
    ns = noise_scale.noise_scale(rows)
    assert ns.trace_sigma == pytest.approx(3.0)
    assert ns.grad_sq_norm == pytest.approx(0.25)
    assert ns.b_simple == pytest.approx(12.0)
    assert ns.to_dict()["b_simple"] == pytest.approx(12.0)


def test_two_batch_formula_recovers_exact_expectations():
    grad_sq, trace = 0.3, 6.0
    ns = noise_scale.noise_scale_from_norms(grad_sq + trace / 8, grad_sq + trace / 128, 8, 128)
    assert ns.grad_sq_norm == pytest.approx(grad_sq)
    assert ns.trace_sigma == pytest.approx(trace)
    assert ns.b_simple == pytest.approx(20.0)
    with pytest.raises(ValueError, match="b_big=8 is not allowed: b_big must be an integer >= 9"):
        noise_scale.noise_scale_from_norms(1.0, 0.5, 8, 8)
    with pytest.raises(ValueError, match="sq_norm_small=-1 is not allowed"):
        noise_scale.noise_scale_from_norms(-1, 0.5, 8, 16)


def test_two_batch_estimate_agrees_with_the_known_noise_scale():
    rows, _ = population(n=2000, p=20, grad_sq=0.5, trace=5.0, seed=2)  # B_simple = 10
    est = noise_scale.noise_scale_two_batch(rows, 4, 64, n_draws=3000, seed=0)
    assert est.b_simple == pytest.approx(10.0, rel=0.15)
    assert est.grad_sq_norm == pytest.approx(0.5, rel=0.15)


def test_zero_gradient_gives_an_infinite_noise_scale():
    rows = torch.tensor([[1.0], [-1.0]])
    assert noise_scale.noise_scale(rows).b_simple == math.inf


def test_noise_scale_during_training(digits):
    config = {"lr": 0.1, "batch_size": 64, "epochs": 2, "hidden": [16]}
    table, history = noise_scale.noise_scale_during_training(config, digits, at_epochs=[0, 2])
    assert table["epoch"].tolist() == [0, 2]
    assert table["val_acc"].iloc[-1] == pytest.approx(history.val_acc[2])
    assert (table["b_simple"] > 0).all()
    expected = noise_scale.noise_scale(
        gradient_noise.per_example_gradients(history.model, digits.x_train, digits.y_train)
    )
    assert table["b_simple"].iloc[-1] == pytest.approx(expected.b_simple, rel=1e-4)
    with pytest.raises(ValueError, match="at_epochs=3 is not allowed"):
        noise_scale.noise_scale_during_training(config, digits, at_epochs=[3])
    with pytest.raises(ValueError, match="max_examples=1 is not allowed"):
        noise_scale.noise_scale_during_training(config, digits, max_examples=1)
    small, _ = noise_scale.noise_scale_during_training(
        config, digits, at_epochs=[0], max_examples=50
    )
    assert small["epoch"].tolist() == [0]


# --- runs: jitter, steps to target, best lr ---------------------------------------------------


def fake_history(batch_size, lr, val_acc, val_loss=None, steps_per_epoch=10, diverged=False):
    n = len(val_acc)
    losses = val_loss if val_loss is not None else [2.0 - 0.1 * i for i in range(n)]
    return History(
        config=hp.TrainConfig(lr=lr, batch_size=batch_size),
        epoch=list(range(n)),
        train_loss=list(losses),
        train_acc=list(val_acc),
        val_loss=list(losses),
        val_acc=list(val_acc),
        epoch_time=[0.0] + [0.5] * (n - 1),
        step_loss=[1.0] * (steps_per_epoch * (n - 1)),
        steps_per_epoch=steps_per_epoch,
        diverged=diverged,
    )


def test_step_loss_jitter_separates_noise_from_trend():
    trend = np.linspace(2, 1, 200)
    noisy = trend + np.random.default_rng(0).normal(0, 0.1, 200)
    assert results.step_loss_jitter(trend) == pytest.approx(0.0, abs=1e-12)
    assert results.step_loss_jitter(noisy) == pytest.approx(0.1 * math.sqrt(2), rel=0.25)
    with pytest.raises(ValueError, match="must hold at least 3 steps"):
        results.step_loss_jitter([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="last_fraction=0 is not allowed"):
        results.step_loss_jitter(noisy, last_fraction=0)


def test_steps_to_target_counts_whole_epochs():
    h = fake_history(32, 0.1, [0.1, 0.3, 0.5, 0.6], steps_per_epoch=25)
    hit = results.steps_to_target(h, 0.5)
    assert hit == {"epochs": 2.0, "steps": 50.0, "seconds": 1.0}
    assert all(math.isnan(v) for v in results.steps_to_target(h, 0.9).values())
    with pytest.raises(ValueError, match="target_acc=2 is not allowed"):
        results.steps_to_target(h, 2)


def test_train_to_target_stops_once_reached(digits):
    h = training.train_to_target({"lr": 0.1, "batch_size": 32, "epochs": 30}, digits, 0.8)
    assert h.val_acc[-1] >= 0.8 > max(h.val_acc[:-1])
    assert h.epoch[-1] < 30
    table = results.batch_run_table([h], target_acc=0.8)
    assert table["epochs_to_target"].iloc[0] == h.epoch[-1]
    assert table["steps_to_target"].iloc[0] == h.epoch[-1] * math.ceil(len(digits.y_train) / 32)


def test_best_lr_per_batch_and_the_linear_rule():
    runs = [
        fake_history(32, 0.1, [0.1, 0.5], val_loss=[2.0, 1.5]),
        fake_history(32, 0.2, [0.1, 0.6], val_loss=[2.0, 1.2]),
        fake_history(128, 0.2, [0.1, 0.5], val_loss=[2.0, 1.6]),
        fake_history(128, 0.8, [0.1, 0.6], val_loss=[2.0, 1.1]),
        fake_history(128, 1.6, [0.1, 0.1], val_loss=[2.0, 0.5], diverged=True),
    ]
    best = results.best_lr_per_batch(runs)
    assert best["batch_size"].tolist() == [32, 128]
    assert best["best_lr"].tolist() == [0.2, 0.8]  # the diverged run never wins
    assert best["linear_rule_lr"].tolist() == pytest.approx([0.2, 0.8])
    assert best["n_lrs_tried"].tolist() == [2, 3]
    with pytest.raises(ValueError, match=r"histories=\[\] is not allowed"):
        results.best_lr_per_batch([])


# --- memory --------------------------------------------------------------------------------


def test_memory_per_step_by_hand():
    # 40 -> 128 -> 10: 40*128+128 + 128*10+10 = 6538 parameters
    table = memory.memory_per_step(40, [128], 10, [1, 100], optimizer="adam")
    row = table.iloc[1]
    assert row["parameters"] == row["gradients"] == 6538 * 4
    assert row["optimizer_state"] == 2 * 6538 * 4
    assert row["activations"] == 100 * (4 * (40 + 128 + 10) + 8)
    assert row["total"] == 4 * 6538 * 4 + row["activations"]
    assert table["parameters"].nunique() == 1  # only activations grow with B
    for optimizer, floats in [("sgd", 0), ("momentum", 1), ("adamw", 2)]:
        t = memory.memory_per_step(40, [128], 10, [1], optimizer=optimizer)
        assert t["optimizer_state"].iloc[0] == floats * 6538 * 4


def test_memory_formula_matches_what_autograd_saves():
    torch.manual_seed(0)
    model = hp.MLP(12, [32, 16], 5)
    x, y = torch.randn(500, 12), torch.randint(0, 5, (500,))
    for b in [1, 7, 100, 500]:
        measured = memory.saved_activation_bytes(
            model, x[:b], y[:b]
        )  # views into x count as b rows
        predicted = memory.memory_per_step(12, [32, 16], 5, [b])["activations"].iloc[0]
        assert abs(measured - predicted) <= 16, (b, measured, predicted)


def test_memory_rejects_bad_input():
    with pytest.raises(ValueError, match="optimizer='rmsprop' is not allowed"):
        memory.memory_per_step(4, [8], 2, [1], optimizer="rmsprop")
    with pytest.raises(ValueError, match="hidden\\[0\\]=0 is not allowed"):
        memory.memory_per_step(4, [0], 2, [1])
    with pytest.raises(ValueError, match="batch_size=0 is not allowed"):
        memory.memory_per_step(4, [8], 2, [0])
    with pytest.raises(ValueError, match="model=None is not allowed"):
        memory.saved_activation_bytes(None, torch.zeros(1, 4), torch.zeros(1, dtype=torch.long))


# --- 2-D pictures of gradients ----------------------------------------------------------------


def test_gradient_basis_is_orthonormal_and_starts_along_G():
    rows, g = population(n=300, p=8)
    basis = gradient_cloud.gradient_basis(rows)
    torch.testing.assert_close(basis.T @ basis, torch.eye(2, dtype=basis.dtype), atol=1e-8, rtol=0)
    torch.testing.assert_close(basis[:, 0], torch.tensor(g / np.linalg.norm(g)))
    coords = gradient_cloud.project_gradients(rows, basis)
    assert coords.shape == (300, 2)
    assert coords[:, 0].mean() == pytest.approx(0.5)  # |G| = sqrt(0.25)
    assert coords[:, 1].mean() == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match=r"basis of shape \(3, 2\) is not allowed"):
        gradient_cloud.project_gradients(rows, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="needs at least 2 parameters"):
        gradient_cloud.gradient_basis(torch.randn(10, 1))


def test_minibatch_cloud_tightens_with_the_batch_size():
    coords = gradient_cloud.project_gradients(population(n=500, p=8)[0])
    small = gradient_cloud.minibatch_gradient_cloud(coords, 2, n_draws=400, seed=1)
    large = gradient_cloud.minibatch_gradient_cloud(coords, 128, n_draws=400, seed=1)
    assert small.shape == large.shape == (400, 2)
    assert large.std(axis=0).sum() < 0.3 * small.std(axis=0).sum()
    whole = gradient_cloud.minibatch_gradient_cloud(coords, 500, n_draws=3)
    np.testing.assert_allclose(whole, np.repeat(coords.mean(axis=0)[None], 3, axis=0), atol=1e-12)
    with pytest.raises(ValueError, match="batch_size=501 is not allowed"):
        gradient_cloud.minibatch_gradient_cloud(coords, 501)


# --- plots ---------------------------------------------------------------------------------------


def test_plots_draw_and_return_their_axes():
    rows, _ = population(n=200)
    table = gradient_noise.minibatch_gradient_variance(rows, [1, 8, 64, 200], n_draws=20)
    fit = gradient_noise.fit_loglog_slope(table["batch_size"], table["corrected"])
    ax = batch_plots.plot_gradient_variance(table, fit)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 2
    runs = [fake_history(b, lr, [0.1, 0.4, 0.5]) for b in (32, 128) for lr in (0.1, 0.4)]
    assert len(batch_plots.plot_step_losses(runs[::2]).lines) == 2
    assert batch_plots.plot_lr_sweep(runs).get_xscale() == "log"
    best = lr_scaling.best_lr_over_seeds(runs)
    assert len(batch_plots.plot_best_lr(best, noise_scale=50.0).lines) >= 3
    sqrt_ax = batch_plots.plot_best_lr(best, rules=("linear", "sqrt"))
    assert "square-root rule (x √k)" in [line.get_label() for line in sqrt_ax.lines]
    timing = pd.DataFrame(
        {"batch_size": [32, 128], "steps": [200.0, 60.0], "steps_at_epoch_best_lr": [250, np.nan]}
    )
    assert batch_plots.plot_steps_to_target(timing).get_yscale() == "log"
    scale = pd.DataFrame({"epoch": [0, 1], "b_simple": [10.0, 40.0]})
    ax = batch_plots.plot_noise_scale(scale, batch_sizes=[32], rule_window=(16, 64))
    assert ax.get_yscale() == "log" and len(ax.patches) == 1  # the shaded window
    table = memory.memory_per_step(4, [8], 2, [1, 10])
    measured = pd.DataFrame({"batch_size": [1, 10], "saved_bytes": [60, 600]})
    ax = batch_plots.plot_memory(table, measured)
    assert ax.get_ylabel() == "memory per step (kB)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "optimizer state" not in legend and "activations" in legend  # SGD: no state
    _, ax = plt.subplots()
    assert batch_plots.plot_gradient_cloud(np.zeros((5, 2)) + 1, 1.0, 4, ax=ax) is ax
    speed = pd.DataFrame({"batch_size": [8, 64, 512], "examples_per_sec": [1e4, 5e4, 8e4]})
    ax = batch_plots.plot_throughput(speed)
    assert "fastest: B=512" in [line.get_label() for line in ax.lines]
    acc = pd.DataFrame(
        {
            "run": ["a", "b"],
            "sec_per_epoch": [0.01, 0.03],
            "final_val_loss": [1.0, 1.0],
            "examples_per_step": [128, 128],
        }
    )
    assert len(batch_plots.plot_accumulation(acc).patches) == 2


def test_batch_colors_are_ordered_by_batch_size():
    colors = batch_plots.batch_colors([2048, 32, 128, 512])
    assert list(colors) == [32, 128, 512, 2048]
    brightness = [sum(colors[b][:3]) for b in colors]  # viridis: dark to light
    assert brightness == sorted(brightness)
    assert list(batch_plots.batch_colors([64])) == [64]


def test_lr_sweep_draws_each_batch_sizes_diverged_runs_on_its_own_row():
    runs = [
        fake_history(b, lr, [0.1, 0.5], val_loss=[2.0, 1.0 + lr], diverged=lr > 1)
        for b in (32, 128, 512)
        for lr in (0.5, 1.0, 2.0, 4.0)
    ]
    ax = batch_plots.plot_lr_sweep(runs)
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(crosses) == 3
    rows = [set(line.get_ydata()) for line in crosses]
    assert all(len(r) == 1 for r in rows) and len(set.union(*rows)) == 3  # one row each
    assert min(min(r) for r in rows) > 2.0  # above every finite loss
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["B=32", "B=128", "B=512"]  # no entries for markers without a line


def test_lr_sweep_puts_blown_up_losses_off_the_scale():
    runs = [fake_history(64, lr, [0.1, 0.5], val_loss=[2.0, v]) for lr, v in
            [(0.5, 1.2), (1.0, 1.1), (2.0, 1.3), (4.0, 40.0)]]  # fmt: skip
    ax = batch_plots.plot_lr_sweep(runs)
    assert ax.get_ylim()[1] < 5  # 40 does not squash the curve
    (triangle,) = [line for line in ax.lines if line.get_marker() == "^"]
    assert list(triangle.get_xdata()) == [4.0]
    calm = batch_plots.plot_lr_sweep(runs[:3])
    assert not calm.texts  # nothing diverged: no strip, no caption


def test_plots_reject_tables_without_their_columns():
    with pytest.raises(ValueError, match=r"table is missing column\(s\) \['sem'"):
        batch_plots.plot_gradient_variance(pd.DataFrame({"batch_size": [1], "variance": [1.0]}))
    with pytest.raises(ValueError, match=r"histories=\[\] is not allowed"):
        batch_plots.plot_step_losses([])
    with pytest.raises(ValueError, match=r"points of shape \(3,\) is not allowed"):
        batch_plots.plot_gradient_cloud(np.zeros(3), 1.0, 1)


# --- explorer ------------------------------------------------------------------------------


def test_explorer_redraws_when_the_slider_moves():
    rows, _ = population(n=256, p=8)
    w = gradient_noise_explorer(rows, n_draws=100)
    assert isinstance(w, GradientNoiseExplorer)
    assert w.controls["batch_size"].options[-1] == 256 and w.state["batch_size"] == 16
    before = (w.status.value, w.state["noise"])
    w.controls["batch_size"].value = 1
    assert w.state["batch_size"] == 1 and "B = 1" in w.status.value
    assert w.state["noise"] == pytest.approx(3.0)  # tr(Sigma) / 1
    assert w.status.value != before[0] and w.state["noise"] > before[1]
    w.controls["batch_size"].value = 128
    assert w.state["noise"] == pytest.approx(3.0 / 128 * (256 - 128) / 255)
    assert w.state["uphill_share"] <= 0.05  # |G|^2 = 0.25 beats noise 0.012 at B = 128


def test_explorer_accepts_precomputed_parts_and_rejects_bad_input():
    rows, _ = population(n=64, p=4)
    coords, scale = gradient_cloud.project_gradients(rows), noise_scale.noise_scale(rows)
    w = gradient_noise_explorer(coords=coords, scale=scale, batch_sizes=[1, 8, 64])
    assert list(w.controls["batch_size"].options) == [1, 8, 64] and w.state["batch_size"] == 8
    with pytest.raises(ValueError, match="per_example_grads=None is not allowed"):
        gradient_noise_explorer(coords=coords)
    with pytest.raises(ValueError, match="batch_size=65 is not allowed"):
        gradient_noise_explorer(rows, batch_sizes=[65])


# --- exercises -----------------------------------------------------------------------------


STEPS_WRONG = {
    "round(n / b + 0.49)": lambda n, b: round(n / b + 0.49),
    "round(n / b + 0.4999)": lambda n, b: round(n / b + 0.4999),
    "n // b": lambda n, b: n // b,
    "n // b + 1": lambda n, b: n // b + 1,
    "round(n / b)": lambda n, b: round(n / b),
    "int(n / b)": lambda n, b: int(n / b),
    "n / b": lambda n, b: n / b,
    "str(ceil)": lambda n, b: str(math.ceil(n / b)),
}
STEPS_RIGHT = {
    "math.ceil(n / b)": lambda n, b: math.ceil(n / b),
    "-(-n // b)": lambda n, b: -(-n // b),
    "(n + b - 1) // b": lambda n, b: (n + b - 1) // b,
    "n // b + (n % b > 0)": lambda n, b: n // b + (n % b > 0),
    "len(range(0, n, b))": lambda n, b: len(range(0, n, b)),
}


@pytest.mark.parametrize("name", STEPS_WRONG)
def test_steps_per_epoch_checker_rejects_wrong_answers(name, capsys):
    assert check_steps_per_epoch(STEPS_WRONG[name]).passed is False, name


@pytest.mark.parametrize("name", STEPS_RIGHT)
def test_steps_per_epoch_checker_accepts_right_answers(name, capsys):
    assert check_steps_per_epoch(STEPS_RIGHT[name]).passed is True, name


def test_steps_per_epoch_checker(capsys):
    assert check_steps_per_epoch(lambda n, b: math.ceil(n / b)).passed is True
    wrong = check_steps_per_epoch(lambda n, b: n // b)
    assert wrong.passed is False and "round up" in wrong.message
    tiny = check_steps_per_epoch(lambda n, b: round(n / b + 0.49))
    assert "(1001, 100)" in tiny.message and "whatever the remainder" in tiny.message

    def stub(n, b):
        raise NotImplementedError

    assert check_steps_per_epoch(stub).passed is None
    assert "[SKIPPED]" in capsys.readouterr().out


def test_variance_ratio_checker(capsys):
    assert check_variance_ratio(0.25).passed is True
    assert check_variance_ratio(1 / 4).passed is True
    wrong = check_variance_ratio(4)
    assert wrong.passed is False and "1/B" in wrong.message
    for answer in (0.5, 2, 1 / 16, 0.2, 0.3, "0.25", True, [0.25]):
        assert check_variance_ratio(answer).passed is False, answer
    assert check_variance_ratio(...).passed is None
    assert "NOT YET" in capsys.readouterr().out


SCALED_WRONG = {
    "square-root rule": lambda lr, b0, b1: lr * math.sqrt(b1 / b0),
    "integer ratio": lambda lr, b0, b1: lr * (b1 // b0),
    "ratio rounded to a power of 2": lambda lr, b0, b1: lr * 2 ** round(math.log2(b1 / b0)),
    "result rounded to 2 decimals": lambda lr, b0, b1: round(lr * b1 / b0, 2),
    "only scales up": lambda lr, b0, b1: lr * max(1.0, b1 / b0),
    "inverted": lambda lr, b0, b1: lr * b0 / b1,
    "unchanged": lambda lr, b0, b1: lr,
}


@pytest.mark.parametrize("name", SCALED_WRONG)
def test_scaled_lr_checker_rejects_wrong_answers(name, capsys):
    assert check_scaled_lr(SCALED_WRONG[name]).passed is False, name


def test_scaled_lr_checker(capsys):
    assert check_scaled_lr(lambda lr, b0, b1: lr * b1 / b0).passed is True
    assert check_scaled_lr(lambda lr, b0, b1: results.linear_scaled_lr(lr, b0, b1)).passed is True
    wrong = check_scaled_lr(lambda lr, b0, b1: lr * math.sqrt(b1 / b0))  # square-root rule
    assert wrong.passed is False and "new_batch / base_batch" in wrong.message

    def stub(lr, b0, b1):
        raise NotImplementedError

    assert check_scaled_lr(stub).passed is None
    assert "PASSED" in capsys.readouterr().out


# --- the trainer's own batches --------------------------------------------------------------


def test_trainer_batch_indices_are_shuffled_epochs_of_distinct_examples():
    idx = gradient_noise.trainer_batch_indices(10, 3, 7, seed=1)  # 3 full batches per epoch
    assert idx.shape == (7, 3)
    first_epoch = idx[:3].reshape(-1)
    assert len(set(first_epoch.tolist())) == 9  # no example twice within an epoch
    again = gradient_noise.trainer_batch_indices(10, 3, 7, seed=1)
    assert torch.equal(idx, again)
    assert not torch.equal(idx, gradient_noise.trainer_batch_indices(10, 3, 7, seed=2))
    with pytest.raises(ValueError, match="batch_size=11 is not allowed"):
        gradient_noise.trainer_batch_indices(10, 11, 1)


def test_trainer_batches_report_what_the_trainer_really_slices(monkeypatch):
    """If the trainer slices other batches than asked (a bug), the measurement shows it."""
    from hpcourse import runs

    real = runs.batch_bounds
    monkeypatch.setattr(runs, "batch_bounds", lambda n, batch_size: real(n, min(4, n)))
    assert gradient_noise.trainer_batch_indices(100, 50, 3).shape == (3, 4)
    rows, _ = population(n=400, p=6, trace=3.0)
    table = gradient_noise.minibatch_gradient_variance(
        rows, [4, 100], n_draws=200, sampler="trainer", seed=0
    )
    ratio = (table["variance"] / table["theory"]).tolist()
    assert ratio[0] == pytest.approx(1.0, rel=0.3) and ratio[1] > 10  # B=100 is really B=4


def test_variance_of_the_trainers_batches_matches_sampling_theory():
    rows, _ = population(n=300, p=5, trace=2.0)
    table = gradient_noise.minibatch_gradient_variance(
        rows, [1, 10, 100, 200], n_draws=600, sampler="trainer", seed=4
    )
    for row in table.itertuples():
        assert abs(row.variance - row.theory) < 5 * row.sem, (row.batch_size, row.variance)
    with pytest.raises(ValueError, match="sampler='epochs' is not allowed"):
        gradient_noise.minibatch_gradient_variance(rows, [2], sampler="epochs")
    with pytest.raises(ValueError, match="replace=True is not allowed with sampler='trainer'"):
        gradient_noise.minibatch_gradient_variance(rows, [2], sampler="trainer", replace=True)


def test_two_batch_estimate_on_trainer_batches_corrects_for_the_fpc():
    # B_big = n / 2: without the correction the noise term would be off by a factor ~2
    rows, _ = population(n=400, p=10, grad_sq=0.5, trace=5.0, seed=3)  # B_simple = 10
    est = noise_scale.noise_scale_two_batch(rows, 4, 200, n_draws=2000, sampler="trainer")
    assert est.b_simple == pytest.approx(10.0, rel=0.15)
    assert "trainer batches" in est.method
    with pytest.raises(ValueError, match="b_big=400 is not allowed"):
        noise_scale.noise_scale_two_batch(rows, 4, 400, sampler="trainer")
    with pytest.raises(ValueError, match="sampler='all' is not allowed"):
        noise_scale.noise_scale_two_batch(rows, 4, 200, sampler="all")


def test_step_activation_bytes_measure_a_real_training_batch(monkeypatch):
    torch.manual_seed(0)
    model = hp.MLP(12, [32], 5)
    x, y = torch.randn(300, 12), torch.randint(0, 5, (300,))
    table = memory.step_activation_bytes(model, x, y, [1, 7, 100, 300])
    predicted = memory.memory_per_step(12, [32], 5, [1, 7, 100, 300])["activations"]
    assert table["examples"].tolist() == [1, 7, 100, 300]
    assert (table["saved_bytes"] - predicted).abs().max() <= 16
    from hpcourse import runs

    real = runs.batch_bounds
    monkeypatch.setattr(runs, "batch_bounds", lambda n, batch_size: real(n, min(7, n)))
    assert memory.step_activation_bytes(model, x, y, [100])["examples"].tolist() == [7]


# --- dropout: per-example masks ---------------------------------------------------------------


def test_per_example_gradients_draw_a_dropout_mask_per_example():
    torch.manual_seed(0)
    model = hp.MLP(6, [64], 3, dropout=0.5)
    x = torch.randn(1, 6).repeat(8, 1)  # eight copies of one example
    y = torch.zeros(8, dtype=torch.long)
    model.train()
    rows = gradient_noise.per_example_gradients(model, x, y, seed=3)
    assert len({tuple(r.tolist()) for r in rows}) > 1  # different masks, different gradients
    again = gradient_noise.per_example_gradients(model, x, y, seed=3)
    torch.testing.assert_close(rows, again)  # seeded
    model.eval()
    rows = gradient_noise.per_example_gradients(model, x, y)
    torch.testing.assert_close(rows, rows[:1].expand_as(rows))  # no dropout in eval mode


def test_noise_scale_during_training_with_dropout(digits):
    config = {"lr": 0.1, "batch_size": 64, "epochs": 1, "hidden": [16], "dropout": 0.3}
    table, history = noise_scale.noise_scale_during_training(config, digits, at_epochs=[0, 1])
    assert table["epoch"].tolist() == [0, 1]
    assert np.isfinite(table["b_simple"]).all() and (table["b_simple"] > 0).all()
    assert not history.diverged


# --- the best lr over seeds ---------------------------------------------------------------------


def seeded(batch_size, lr, seed, loss, diverged=False, optimizer="sgd"):
    h = fake_history(batch_size, lr, [0.1, 0.5], val_loss=[2.0, loss], diverged=diverged)
    h.config = hp.TrainConfig(lr=lr, batch_size=batch_size, seed=seed, optimizer=optimizer)
    return h


def test_lr_grid_and_sweep_configs():
    assert lr_scaling.lr_grid(1.0, 4.0) == pytest.approx([1, 2**0.5, 2, 2**1.5, 4])
    assert lr_scaling.lr_grid(0.004, 0.045)[-1] == pytest.approx(0.004 * 2**3.5)  # rounded high
    assert lr_scaling.lr_grid(1.0, 8.0, per_octave=1) == [1.0, 2.0, 4.0, 8.0]
    with pytest.raises(ValueError, match="low=0 is not allowed: low must be > 0"):
        lr_scaling.lr_grid(0, 1)
    with pytest.raises(ValueError, match="high=0.5 is not allowed: high must be >= 1"):
        lr_scaling.lr_grid(1, 0.5)
    configs = lr_scaling.sweep_configs([32], [0.1, 0.2], [5, 6], epochs=3, optimizer="adam")
    assert configs[0] == {"epochs": 3, "optimizer": "adam", "batch_size": 32, "lr": 0.1, "seed": 5}
    assert len(configs) == 4
    with pytest.raises(ValueError, match=r"seeds=\[\] is not allowed"):
        lr_scaling.sweep_configs([32], [0.1], [])


def test_best_lr_over_seeds_averages_before_choosing():
    # seed 0 alone would pick lr 0.1; on average over both seeds, 0.2 is better
    runs = [
        seeded(32, 0.05, 0, 1.6), seeded(32, 0.05, 1, 1.6),
        seeded(32, 0.1, 0, 1.00), seeded(32, 0.1, 1, 1.40),
        seeded(32, 0.2, 0, 1.05), seeded(32, 0.2, 1, 1.10),
        seeded(32, 0.4, 0, 1.3), seeded(32, 0.4, 1, 1.3, diverged=True),
        seeded(128, 0.2, 0, 1.5), seeded(128, 0.2, 1, 1.5),
        seeded(128, 0.4, 0, 1.2), seeded(128, 0.4, 1, 1.2),
    ]  # fmt: skip
    table = lr_scaling.sweep_table(runs)
    row = table[(table["batch_size"] == 32) & (table["lr"] == 0.4)].iloc[0]
    assert row["mean_val_loss"] == math.inf and row["n_diverged"] == 1  # one seed blew up
    assert math.isnan(row["mean_val_acc"]) and row["n_seeds"] == 2
    best = lr_scaling.best_lr_over_seeds(runs)
    assert best["best_lr"].tolist() == [0.2, 0.4]
    assert best["on_edge"].tolist() == [False, True]  # 0.4 is the largest tried at 128
    assert best["ratio"].tolist() == pytest.approx([1.0, 2.0])
    assert best["linear_rule_lr"].tolist() == pytest.approx([0.2, 0.8])
    assert best["sqrt_rule_lr"].tolist() == pytest.approx([0.2, 0.4])
    assert best["mean_val_loss"].iloc[0] == pytest.approx(1.075)
    with pytest.raises(ValueError, match=r"histories=\[\] is not allowed"):
        lr_scaling.best_lr_over_seeds([])


def test_best_lr_over_seeds_keeps_optimizers_apart():
    runs = [seeded(32, lr, 0, 1 + abs(lr - 0.1)) for lr in (0.05, 0.1, 0.2)]
    runs += [seeded(32, lr, 0, 1 + abs(lr - 0.002), optimizer="adam") for lr in (1e-3, 2e-3, 4e-3)]
    best = lr_scaling.best_lr_over_seeds(runs)
    assert dict(zip(best["optimizer"], best["best_lr"], strict=True)) == {"adam": 2e-3, "sgd": 0.1}


def test_rule_break():
    best = pd.DataFrame(
        {"batch_size": [32, 128, 512], "best_lr": [0.5, 1.0, 2.0],
         "linear_rule_lr": [0.5, 2.0, 8.0]}
    )  # fmt: skip
    assert lr_scaling.rule_break(best) == {"held_up_to": 128.0, "broke_at": 512.0}
    assert math.isnan(lr_scaling.rule_break(best, tolerance=4.0)["broke_at"])  # looser
    holds = best.assign(best_lr=best["linear_rule_lr"])
    out = lr_scaling.rule_break(holds)
    assert out["held_up_to"] == 512.0 and math.isnan(out["broke_at"])
    with pytest.raises(ValueError, match="tolerance=1 is not allowed"):
        lr_scaling.rule_break(best, tolerance=1)


def test_sqrt_scaled_lr():
    assert lr_scaling.sqrt_scaled_lr(0.001, 32, 512) == pytest.approx(0.004)
    assert lr_scaling.sqrt_scaled_lr(0.01, 400, 100) == pytest.approx(0.005)
    with pytest.raises(ValueError, match="new_batch=0 is not allowed"):
        lr_scaling.sqrt_scaled_lr(0.1, 32, 0)


def test_run_sweep_reuses_runs_with_the_same_config(digits, monkeypatch):
    done = hp.train({"lr": 0.1, "batch_size": 64, "epochs": 1, "hidden": [8]}, digits)
    configs = lr_scaling.sweep_configs([64], [0.1, 0.2], [done.config.seed], epochs=1, hidden=[8])
    trained = []
    real = training.train_many
    monkeypatch.setattr(
        training, "train_many", lambda cs, data, **kw: trained.extend(cs) or real(cs, data, **kw)
    )
    out = lr_scaling.run_sweep(configs, digits, reuse=[done], progress=False)
    assert out[0] is done and out[1].config.lr == 0.2
    assert [c.lr for c in trained] == [0.2]  # only the missing run was trained
    with pytest.raises(ValueError, match=r"configs=\[\] is not allowed"):
        lr_scaling.run_sweep([], digits)


# --- gradient accumulation --------------------------------------------------------------------


def test_accumulation_follows_the_large_batch_run(digits):
    cfg = {"lr": 0.1, "epochs": 2, "hidden": [16]}
    direct = hp.train({**cfg, "batch_size": 64}, digits)
    acc = accumulation.train_accumulated({**cfg, "batch_size": 16}, digits, 4)
    assert acc.config.tags["accumulation_steps"] == 4
    assert acc.steps_per_epoch == direct.steps_per_epoch == math.ceil(len(digits.y_train) / 64)
    assert len(acc.step_loss) == len(direct.step_loss)
    np.testing.assert_allclose(acc.step_loss, direct.step_loss, atol=1e-5)
    np.testing.assert_allclose(acc.val_loss, direct.val_loss, atol=1e-5)


def test_accumulation_with_a_short_last_group_weights_by_examples(digits):
    # 1149 examples in micro-batches of 100: 12 micro-batches, the last one of 49; in groups
    # of 5 the last step has 2 micro-batches (149 examples), like one last batch of 149
    cfg = {"lr": 0.1, "epochs": 1, "hidden": [16], "shuffle": False}
    direct = hp.train({**cfg, "batch_size": 500}, digits)
    acc = accumulation.train_accumulated({**cfg, "batch_size": 100}, digits, 5)
    assert acc.steps_per_epoch == 3 == direct.steps_per_epoch
    np.testing.assert_allclose(acc.step_loss, direct.step_loss, atol=1e-5)


def test_accumulation_needs_the_gradients_zeroed_after_each_step(digits, monkeypatch):
    cfg = {"lr": 0.1, "epochs": 1, "hidden": [16], "batch_size": 16}
    good = accumulation.train_accumulated(cfg, digits, 4)
    monkeypatch.setattr(torch.optim.Optimizer, "zero_grad", lambda self, set_to_none=True: None)
    stale = accumulation.train_accumulated(cfg, digits, 4)
    assert abs(stale.step_loss[-1] - good.step_loss[-1]) > 1e-3


def test_accumulation_table_and_bad_input(digits):
    cfg = {"lr": 0.1, "epochs": 1, "hidden": [8], "batch_size": 32}
    acc = accumulation.train_accumulated(cfg, digits, 2)
    direct = hp.train({**cfg, "batch_size": 64}, digits)
    table = accumulation.accumulation_table({"acc": acc, "direct": direct})
    assert table["examples_per_step"].tolist() == [64, 64]
    assert table["steps_per_epoch"].tolist() == [18, 18]
    assert accumulation.accumulated_steps_per_epoch(1149, 32, 2) == 18
    with pytest.raises(ValueError, match="accumulation_steps=0 is not allowed"):
        accumulation.train_accumulated(cfg, digits, 0)
    with pytest.raises(ValueError, match="patience=3 is not allowed here"):
        accumulation.train_accumulated({**cfg, "patience": 3}, digits, 2)
    with pytest.raises(ValueError, match="restore_best=True is not allowed here"):
        accumulation.train_accumulated({**cfg, "restore_best": True}, digits, 2)
    with pytest.raises(ValueError, match=r"runs=\{\} is not allowed"):
        accumulation.accumulation_table({})


# --- steps to a target, checked finely ----------------------------------------------------------


def test_run_to_target_counts_steps_between_epoch_ends(digits):
    run = time_to_target.run_to_target(
        {"lr": 0.1, "batch_size": 32, "epochs": 20}, digits, 0.8, eval_every=64
    )
    assert run.reached and not run.diverged
    assert run.steps == run.steps_taken == run.checks[-1][0]
    assert run.checks[-1][1] >= 0.8 > max(acc for _, acc in run.checks[:-1])
    assert run.steps % 2 == 0  # a check every 64 examples = every 2 steps of 32
    assert run.examples == pytest.approx(32 * run.steps, abs=32)
    assert run.seconds > 0
    per_epoch = training.train_to_target({"lr": 0.1, "batch_size": 32, "epochs": 20}, digits, 0.8)
    assert run.steps <= len(per_epoch.step_loss)  # never later than the once-per-epoch count


def test_run_to_target_not_reached_and_diverged(digits):
    slow = time_to_target.run_to_target({"lr": 1e-4, "epochs": 1}, digits, 0.99)
    assert not slow.reached and math.isnan(slow.seconds) and slow.steps_taken == 36
    boom = time_to_target.run_to_target({"lr": 500.0, "epochs": 3}, digits, 0.9)
    assert boom.diverged and not boom.reached
    with pytest.raises(ValueError, match="target_acc=2 is not allowed"):
        time_to_target.run_to_target({"epochs": 1}, digits, 2)
    with pytest.raises(ValueError, match="eval_every=0 is not allowed"):
        time_to_target.run_to_target({"epochs": 1}, digits, 0.5, eval_every=0)


def test_fewest_steps_picks_the_lr_tuned_for_the_target():
    table = pd.DataFrame(
        {
            "batch_size": [32, 32, 32, 128, 128],
            "lr": [0.1, 0.2, 0.4, 0.2, 0.4],
            "steps": [300.0, 200.0, np.nan, np.nan, np.nan],
        }
    )
    best = time_to_target.fewest_steps(table)
    assert best["lr"].tolist() == [0.2, 0.2] and math.isnan(best["steps"].iloc[1])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['steps'\]"):
        time_to_target.fewest_steps(table.drop(columns="steps"))
    with pytest.raises(ValueError, match=r"runs=\[\] is not allowed"):
        time_to_target.target_table([])


# --- throughput ----------------------------------------------------------------------------------


def test_measure_throughput_counts_steps_and_examples(digits):
    table = throughput.measure_throughput(digits, [256, 16], repeats=2)
    assert table["batch_size"].tolist() == [16, 256]
    assert table["steps_per_epoch"].tolist() == [72, 5]  # ceil(1149 / B), counted
    assert table["epochs_timed"].tolist() == [2, 2]
    assert (table["examples_per_sec"] > 0).all()
    expected = len(digits.y_train) / table["sec_per_epoch"]
    np.testing.assert_allclose(table["examples_per_sec"], expected)
    with pytest.raises(ValueError, match="batch_size=2000 is not allowed"):
        throughput.measure_throughput(digits, [2000])
    with pytest.raises(ValueError, match=r"batch_sizes=\[\] is not allowed"):
        throughput.measure_throughput(digits, [])
    with pytest.raises(ValueError, match="repeats=0 is not allowed"):
        throughput.measure_throughput(digits, [16], repeats=0)


def test_throughput_table_pools_runs_and_keeps_the_fastest_epoch():
    slow, fast = fake_history(32, 0.1, [0.1, 0.2, 0.3]), fake_history(32, 0.1, [0.1, 0.2])
    slow.epoch_time, fast.epoch_time = [0.0, 0.5, 0.4], [0.0, 0.2]
    table = throughput.throughput_table([slow, fast], 100)
    assert table["sec_per_epoch"].tolist() == [0.2] and table["epochs_timed"].tolist() == [3]
    assert table["examples_per_sec"].tolist() == pytest.approx([500.0])
    diverged = fake_history(32, 0.1, [0.1], diverged=True)
    with pytest.raises(ValueError, match="is not allowed: it must have finished"):
        throughput.throughput_table([diverged], 100)
    with pytest.raises(ValueError, match=r"histories=\[\] is not allowed"):
        throughput.throughput_table([], 100)
