"""Lesson 02 (learning rate): the bowl, the range test, the plots, the explorer, the exercises."""

import re

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

import hpcourse as hp
from hpcourse.bowl import (
    BowlRun,
    bowl_loss,
    contraction_factors,
    regime_lrs,
    run_bowl,
    stability_threshold,
)
from hpcourse.exercises.lesson02 import check_exponential_lrs, check_max_stable_lr
from hpcourse.lr_finder import RangeTestResult, lr_range_test, range_test, suggest_lr
from hpcourse.plots import lr as lr_plots
from hpcourse.results import sweep_points
from hpcourse.widgets.lr import bowl_explorer

# --- the bowl ---------------------------------------------------------------------------


@pytest.mark.parametrize("curvatures", [(1.0, 10.0), (3.0,), (0.5, 2.0, 8.0), (100.0, 1.0)])
def test_bowl_diverges_just_above_two_over_L_and_converges_just_below(curvatures):
    threshold = stability_threshold(curvatures)
    assert threshold == pytest.approx(2 / max(curvatures))
    start = [1.0] * len(curvatures)
    below = run_bowl(0.95 * threshold, curvatures=curvatures, start=start, steps=300)
    above = run_bowl(1.05 * threshold, curvatures=curvatures, start=start, steps=300)
    assert not below.diverged and below.losses[-1] < 1e-3 * below.losses[0]
    assert above.diverged and above.losses[-1] > 10 * above.losses[0]


def test_each_preset_shows_its_regime():
    for name, lr in regime_lrs((1.0, 10.0)).items():
        assert run_bowl(lr).regime == name, (name, lr)


def test_one_step_multiplies_each_coordinate_by_one_minus_lr_L():
    run = run_bowl(0.15, curvatures=(1.0, 10.0), start=(2.0, 1.0), steps=3)
    np.testing.assert_allclose(run.path[1], [2.0 * 0.85, 1.0 * -0.5])
    np.testing.assert_allclose(contraction_factors(0.15, (1.0, 10.0)), [0.85, 0.5])
    np.testing.assert_allclose(run.losses, bowl_loss(run.path, (1.0, 10.0)))


def test_a_blown_up_run_is_cut_short():
    run = run_bowl(1.0, curvatures=(1.0, 10.0), steps=500, blowup=1e6)
    assert run.diverged and run.regime == "diverge"
    assert run.steps < 500 and np.all(np.isfinite(run.losses))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: run_bowl(0.0), "lr=0.0 is not allowed: lr must be > 0."),
        (lambda: run_bowl(0.1, steps=0), "steps=0 is not allowed"),
        (lambda: run_bowl(0.1, curvatures=()), "curvatures=() is not allowed"),
        (lambda: run_bowl(0.1, curvatures=(1.0, -2.0)), "curvatures[1]=-2.0 is not allowed"),
        (lambda: run_bowl(0.1, curvatures="1,10"), "curvatures='1,10' is not allowed"),
        (lambda: run_bowl(0.1, start=(1.0,)), "start=(1.0,) is not allowed"),
        (lambda: run_bowl(0.1, start=(0.0, 0.0)), "start=(0.0, 0.0) is not allowed"),
        (lambda: run_bowl(0.1, blowup=1.0), "blowup=1.0 is not allowed"),
        (lambda: stability_threshold((0.0,)), "curvatures[0]=0.0 is not allowed"),
        (lambda: contraction_factors(-1.0), "lr=-1.0 is not allowed"),
    ],
)
def test_bowl_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --- the range test on a known quadratic -----------------------------------------------


class Quadratic(nn.Module):
    """A "model" whose loss is exactly 1/2 sum L_i w_i^2: GD on it is the bowl."""

    def __init__(self, curvatures):
        super().__init__()
        self.register_buffer("L", torch.tensor(curvatures, dtype=torch.float64))
        self.w = nn.Parameter(torch.ones(len(curvatures), dtype=torch.float64))

    def loss(self, _step=0):
        return 0.5 * (self.L * self.w**2).sum()


def quadratic_loss(model, step):
    return model.loss(step)


@pytest.mark.parametrize("L", [1.0, 10.0, 250.0])
def test_range_test_on_a_quadratic_stops_just_past_two_over_L(L):
    model = Quadratic([L])
    res = range_test(model, quadratic_loss, lr_min=1e-5, lr_max=1e3, steps=400, smoothing=0)
    assert res.stopped_at is not None
    # Never before the threshold (below it every step shrinks the loss); and soon after,
    # once the growth factor (lr L - 1)^2 per step has had a few steps to show.
    assert 2 / L < res.stopped_at < 1.5 * (2 / L), res


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_range_test_never_stops_before_the_threshold_even_smoothed(seed):
    curvatures = list(np.random.default_rng(seed).uniform(0.5, 50.0, size=4))
    res = range_test(Quadratic(curvatures), quadratic_loss, lr_min=1e-4, lr_max=1e2, steps=200)
    assert res.stopped_at is not None and res.stopped_at > stability_threshold(curvatures)
    assert res.lrs[-1] == res.stopped_at and len(res.lrs) < 200
    assert len(res.lrs) == len(res.losses) == len(res.raw_losses)
    assert res.suggestion == pytest.approx(res.min_lr / 10)  # the default rule


def test_range_test_restores_the_initial_weights():
    model = Quadratic([1.0, 10.0])
    with torch.no_grad():
        model.w.copy_(torch.tensor([3.0, -2.0], dtype=torch.float64))
    range_test(model, quadratic_loss, lr_min=1e-3, lr_max=10.0, steps=50)
    assert model.w.tolist() == [3.0, -2.0]


def test_range_test_that_never_blows_up_says_so():
    res = range_test(Quadratic([1.0]), quadratic_loss, lr_min=1e-4, lr_max=1e-2, steps=30)
    assert res.stopped_at is None and len(res.lrs) == 30
    assert "never stopped" in repr(res)


def test_suggest_lr_rules_on_a_known_curve():
    lrs = np.geomspace(1e-5, 1.0, 11)  # two points per decade
    losses = np.array([2.3, 2.3, 2.3, 2.2, 2.1, 1.6, 1.1, 0.9, 0.8, 1.5, 9.0])
    assert suggest_lr(lrs, losses, "min/10") == pytest.approx(lrs[8] / 10)
    assert suggest_lr(lrs, losses, "steepest") == pytest.approx(lrs[5])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: range_test(m, quadratic_loss, lr_min=0.0), "lr_min=0.0 is not allowed"),
        (
            lambda m: range_test(m, quadratic_loss, lr_min=1.0, lr_max=0.1),
            "lr_max=0.1 is not allowed: lr_max must be > 1.0",
        ),
        (lambda m: range_test(m, quadratic_loss, steps=2), "steps=2 is not allowed"),
        (lambda m: range_test(m, quadratic_loss, smoothing=1.0), "smoothing=1.0 is not allowed"),
        (lambda m: range_test(m, quadratic_loss, stop_factor=1), "stop_factor=1 is not allowed"),
        (lambda m: range_test(m, quadratic_loss, rule="max"), "rule='max' is not allowed"),
        (
            lambda m: range_test(m, quadratic_loss, lr_min=50.0, lr_max=1e4, smoothing=0),
            "lr_min=50.0 is already too large",
        ),
        (lambda m: suggest_lr([1, 2], [1, 2]), "must be 1-D, of equal length"),
        (lambda m: lr_range_test("digits"), "data='digits' is not allowed"),
    ],
)
def test_range_test_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(Quadratic([10.0]))


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits", seed=0)


def test_range_test_on_digits_suggests_an_lr_that_trains(digits):
    config = hp.TrainConfig(optimizer="momentum", epochs=3)
    model = hp.runs.build_model(config, digits)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = lr_range_test(digits, config, model=model, steps=80)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert isinstance(res, RangeTestResult) and res.stopped_at is not None
    assert res.lrs[0] == pytest.approx(1e-6) and np.all(np.diff(res.lrs) > 0)
    history = hp.train(config.replace(lr=res.suggestion), digits)
    assert not history.diverged and history.final_val_acc > 0.9, (res, history)


# --- plots and the explorer -----------------------------------------------------------


def test_plots_return_their_axes_and_mark_diverged_runs(digits):
    runs = [run_bowl(v) for v in regime_lrs().values()]
    assert lr_plots.plot_bowl(runs[2]).get_title().endswith("zig-zag")
    assert lr_plots.plot_bowl_losses(runs).get_yscale() == "log"
    ax = lr_plots.plot_contraction((1.0, 10.0), lr=0.1)
    assert any("2/L_max = 0.2" in t.get_text() for t in ax.texts)
    histories = hp.train_many(
        [{"lr": lr, "epochs": 1} for lr in (0.01, 0.1, 1e4)], digits, progress=False
    )
    pts = sweep_points(histories)
    assert pts["diverged"].tolist() == [False, False, True]
    ax = lr_plots.plot_lr_sweep(histories)
    assert ax.get_xscale() == "log" and any(t.get_text() == "diverged" for t in ax.texts)
    res = range_test(Quadratic([10.0]), quadratic_loss, lr_min=1e-3, lr_max=10, steps=60)
    assert lr_plots.plot_range_test(res).get_xscale() == "log"
    ax = lr_plots.plot_schedules({"a": [1.0, 0.5], "b": [0.1, 0.2]}, steps_per_epoch=2)
    assert len(ax.lines) == 2 and ax.get_xlabel() == "epoch"


def test_plot_bowl_and_sweep_reject_bad_input(digits):
    with pytest.raises(ValueError, match="plot_bowl draws 2-D bowls only"):
        lr_plots.plot_bowl(run_bowl(0.1, curvatures=(1.0,), start=(1.0,)))
    with pytest.raises(ValueError, match=re.escape("metric='val_los' is not allowed")):
        sweep_points([], metric="val_los")


def test_explorer_recomputes_when_the_slider_moves():
    explorer = bowl_explorer(lr=0.05)
    assert isinstance(explorer.run, BowlRun) and explorer.run.regime == "smooth"
    assert explorer.redraws == 1 and "0.2" in explorer.status.value
    explorer.controls["lr"].value = 0.3
    assert explorer.redraws == 2 and explorer.run.lr == pytest.approx(0.3)
    assert explorer.run.regime == "diverge" and "ABOVE" in explorer.status.value
    explorer.presets[0].click()  # the "crawl" preset
    assert explorer.run.regime == "crawl"
    assert explorer.controls["lr"].value == pytest.approx(0.001)
    explorer.controls["lr"].value = 0.2  # exactly 2 / L_max: neither below nor above
    assert "exactly at" in explorer.status.value
    assert matplotlib.pyplot.get_fignums() == []  # each redraw closes its figure


def test_explorer_slider_reaches_every_preset_of_a_narrow_valley():
    explorer = bowl_explorer(curvatures=(1, 100))
    for button in explorer.presets:  # crawl is 1e-4 here: the slider must reach it
        button.click()
        regime = button.description.split()[0]
        assert explorer.state["regime"] == regime, (regime, explorer.state["lr"])


def test_explorer_rejects_a_start_lr_off_the_slider():
    with pytest.raises(
        ValueError, match=re.escape("lr=50 is not allowed: lr must be in [0.0001, 10.0]")
    ):
        bowl_explorer(lr=50)


# --- exercises ------------------------------------------------------------------------


def test_max_stable_lr_checker(capsys):
    assert check_max_stable_lr(lambda c: 2 / max(c)).passed is True
    wrong = check_max_stable_lr(lambda c: 1 / max(c))
    assert wrong.passed is False and "2 / max(L)" in wrong.message
    assert check_max_stable_lr(lambda c: 2 / min(c)).passed is False

    def stub(curvatures):
        raise NotImplementedError

    assert check_max_stable_lr(stub).passed is None
    assert "SKIPPED" in capsys.readouterr().out


def test_exponential_lrs_checker(capsys):
    def correct(lr_min, lr_max, steps):
        return [lr_min * (lr_max / lr_min) ** (i / (steps - 1)) for i in range(steps)]

    assert check_exponential_lrs(correct).passed is True
    linear = check_exponential_lrs(lambda a, b, n: list(np.linspace(a, b, n)))
    assert linear.passed is False and "equal ratios" in linear.message
    assert check_exponential_lrs(lambda a, b, n: correct(a, b, n)[:-1]).passed is False

    def stub(lr_min, lr_max, steps):
        raise NotImplementedError

    assert check_exponential_lrs(stub).passed is None
    out = capsys.readouterr().out
    assert "PASSED" in out and "NOT YET" in out and "SKIPPED" in out
