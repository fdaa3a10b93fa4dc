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
from hpcourse import gradient_cloud, gradient_noise, memory, noise_scale, results, training
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
    best = results.best_lr_per_batch(runs)
    assert len(batch_plots.plot_best_lr(best, noise_scale=50.0).lines) == 3
    timing = results.batch_run_table(runs, target_acc=0.4)
    assert batch_plots.plot_steps_to_target(timing).get_yscale() == "log"
    scale = pd.DataFrame({"epoch": [0, 1], "b_simple": [10.0, 40.0]})
    assert batch_plots.plot_noise_scale(scale, batch_sizes=[32]).get_yscale() == "log"
    table = memory.memory_per_step(4, [8], 2, [1, 10])
    measured = pd.DataFrame({"batch_size": [1, 10], "saved_bytes": [60, 600]})
    assert batch_plots.plot_memory(table, measured).get_ylabel() == "memory per step (kB)"
    _, ax = plt.subplots()
    assert batch_plots.plot_gradient_cloud(np.zeros((5, 2)) + 1, 1.0, 4, ax=ax) is ax


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


def test_steps_per_epoch_checker(capsys):
    assert check_steps_per_epoch(lambda n, b: math.ceil(n / b)).passed is True
    wrong = check_steps_per_epoch(lambda n, b: n // b)
    assert wrong.passed is False and "round up" in wrong.message

    def stub(n, b):
        raise NotImplementedError

    assert check_steps_per_epoch(stub).passed is None
    assert "[SKIPPED]" in capsys.readouterr().out


def test_variance_ratio_checker(capsys):
    assert check_variance_ratio(0.25).passed is True
    wrong = check_variance_ratio(4)
    assert wrong.passed is False and "1/B" in wrong.message
    assert check_variance_ratio(...).passed is None
    assert "NOT YET" in capsys.readouterr().out


def test_scaled_lr_checker(capsys):
    assert check_scaled_lr(lambda lr, b0, b1: lr * b1 / b0).passed is True
    wrong = check_scaled_lr(lambda lr, b0, b1: lr * math.sqrt(b1 / b0))  # square-root rule
    assert wrong.passed is False and "new_batch / base_batch" in wrong.message

    def stub(lr, b0, b1):
        raise NotImplementedError

    assert check_scaled_lr(stub).passed is None
    assert "PASSED" in capsys.readouterr().out
