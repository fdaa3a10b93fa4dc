"""Lesson 02 (learning rate): the bowl, the range test, the plots, the explorer, the exercises."""

import copy
import re

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

import hpcourse as hp
from hpcourse import bowl, lr_finder, sharpness
from hpcourse.bowl import (
    BowlRun,
    bowl_loss,
    contraction_factors,
    regime_lrs,
    run_bowl,
    run_bowl_torch,
    stability_threshold,
)
from hpcourse.exercises.lesson02 import check_exponential_lrs, check_max_stable_lr
from hpcourse.lr_finder import RangeTestResult, lr_range_test, range_test, suggest_lr
from hpcourse.plots import lr as lr_plots
from hpcourse.results import sweep_points
from hpcourse.update_ratio import UpdateRatioMonitor
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


# --- wrong answers the exercise checkers must reject ----------------------------------


@pytest.mark.parametrize(
    "wrong",
    [
        lambda c: round(2 / max(c), 2),  # right only where 2 / L_max has two decimals
        lambda c: 2 / c[-1],  # the last curvature, not the largest
        lambda c: 2 / c[0],
        lambda c: 2 / sum(c),
        lambda c: 1.99 / max(c),  # inside the limit, but not the limit
        lambda c: str(2 / max(c)),  # text, not a number
        lambda c: 2 / np.mean(c),
    ],
)
def test_max_stable_lr_checker_rejects_wrong_answers(wrong):
    assert check_max_stable_lr(wrong, verbose=False).passed is False


@pytest.mark.parametrize(
    "wrong",
    [
        lambda a, b, n: [a * 10.0**i for i in range(n)],  # a fixed factor of 10
        lambda a, b, n: [a * (b / a) ** (i / n) for i in range(n)],  # never reaches lr_max
        lambda a, b, n: list(np.geomspace(a, b, n + 1)),  # one step too many
        lambda a, b, n: list(np.geomspace(a, b, n))[::-1],  # from large to small
        lambda a, b, n: [round(v, 4) for v in np.geomspace(a, b, n)],  # rounded away
        lambda a, b, n: np.logspace(a, b, n),  # exponents, not values
    ],
)
def test_exponential_lrs_checker_rejects_wrong_answers(wrong):
    assert check_exponential_lrs(wrong, verbose=False).passed is False


def test_exponential_lrs_checker_accepts_the_usual_right_answers():
    assert check_exponential_lrs(lambda a, b, n: np.geomspace(a, b, n), verbose=False)
    assert check_exponential_lrs(
        lambda a, b, n: np.logspace(np.log10(a), np.log10(b), n), verbose=False
    )
    assert check_max_stable_lr(lambda c: float(np.min(2 / np.asarray(c))), verbose=False)


# --- the bowl stepped by PyTorch's optimizer -------------------------------------------


def test_torch_bowl_follows_the_simulator_step_for_step():
    for lr in (0.001, 0.05, 0.15, 0.21):
        ours, torchs = run_bowl(lr, steps=40), run_bowl_torch(lr, steps=40)
        np.testing.assert_allclose(torchs.path, ours.path, rtol=1e-12, atol=1e-12)
        assert torchs.regime == ours.regime


def test_torch_bowl_with_momentum_is_the_heavy_ball():
    lr, beta, L = 0.3, 0.9, np.array([1.0, 10.0])
    w, v = np.array(bowl.DEFAULT_START), np.zeros(2)
    path = [w.copy()]
    for _ in range(25):  # PyTorch's SGD: v <- beta v + grad; w <- w - lr v
        v = beta * v + L * w
        w = w - lr * v
        path.append(w.copy())
    run = run_bowl_torch(lr, momentum=beta, steps=25)
    np.testing.assert_allclose(run.path, np.array(path), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("curvatures", [(1.0, 10.0), (3.0,), (0.5, 2.0, 8.0)])
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_momentum_stability_limit_is_two_times_one_plus_beta_over_L(curvatures, beta):
    limit = stability_threshold(curvatures, momentum=beta)
    assert limit == pytest.approx(2 * (1 + beta) / max(curvatures))
    start = [1.0] * len(curvatures)
    below = run_bowl_torch(
        0.95 * limit, curvatures=curvatures, momentum=beta, start=start, steps=600
    )
    above = run_bowl_torch(
        1.05 * limit, curvatures=curvatures, momentum=beta, start=start, steps=600
    )
    assert not below.diverged and below.losses[-1] < 1e-3 * below.losses[0]
    assert above.diverged and above.losses[-1] > 10 * above.losses[0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stability_threshold((1.0,), momentum=1.0), "momentum=1.0 is not allowed"),
        (lambda: run_bowl_torch(0.1, momentum=-0.1), "momentum=-0.1 is not allowed"),
        (lambda: run_bowl_torch(0.0), "lr=0.0 is not allowed"),
        (lambda: run_bowl_torch(0.1, start=(0.0, 0.0)), "start=(0.0, 0.0) is not allowed"),
    ],
)
def test_torch_bowl_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --- sharpness: power iteration on Hessian-vector products ------------------------------


def test_power_iteration_finds_known_eigenvalues():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    eigenvalues = np.array([7.0, 3.0, 2.5, 1.0, 0.2, -1.0])
    a = torch.tensor(q @ np.diag(eigenvalues) @ q.T)
    result = sharpness.top_eigenvalue(lambda v: a @ v, 6, seed=1, tol=1e-6)
    assert result.value == pytest.approx(7.0, rel=1e-6)
    np.testing.assert_allclose(abs(result.vector.numpy() @ q[:, 0]), 1.0, rtol=1e-5)


def test_top_eigenvalue_is_the_largest_not_the_largest_in_magnitude():
    a = torch.diag(torch.tensor([2.0, -9.0, 0.5], dtype=torch.float64))
    assert sharpness.power_iteration(lambda v: a @ v, 3, seed=0, tol=1e-8).value == (
        pytest.approx(-9.0)
    )
    assert sharpness.top_eigenvalue(lambda v: a @ v, 3, seed=0, tol=1e-8).value == (
        pytest.approx(2.0, rel=1e-6)
    )


def test_hessian_matvec_of_a_quadratic_is_the_matrix():
    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    w = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    matvec = sharpness.hessian_matvec(0.5 * w @ a @ w, [w])
    v = torch.tensor([1.0, 2.0], dtype=torch.float64)
    np.testing.assert_allclose(matvec(v).numpy(), (a @ v).numpy())


def test_sharpness_of_a_small_mlp_matches_its_explicit_hessian():
    torch.manual_seed(0)
    model = hp.MLP(5, [4], 3, activation="tanh").double()
    x = torch.randn(40, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    flat = torch.cat([p.detach().reshape(-1) for p in params])

    def loss_of(vector):
        tensors, i = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            tensors.append(vector[i : i + n].reshape(shape))
            i += n
        out = torch.func.functional_call(
            model, dict(zip(dict(model.named_parameters()), tensors, strict=True)), (x,)
        )
        return torch.nn.functional.cross_entropy(out, y)

    hessian = torch.autograd.functional.hessian(loss_of, flat)
    exact = float(torch.linalg.eigvalsh(hessian).max())
    before = [p.detach().clone() for p in params]
    rng_state = torch.get_rng_state()
    measured = sharpness.sharpness(model, x, y, tol=1e-6, seed=3)
    assert measured.value == pytest.approx(exact, rel=1e-5)
    assert all(torch.equal(b, p) for b, p in zip(before, params, strict=True))  # untouched
    assert torch.equal(rng_state, torch.get_rng_state())  # global generator untouched
    assert model.training  # mode restored


def test_stable_lr_limit_and_loss_rise():
    assert sharpness.stable_lr_limit(4.0) == 0.5
    assert sharpness.stable_lr_limit(4.0, momentum=0.5) == pytest.approx(0.75)
    h = hp.History(hp.TrainConfig(lr=0.2), step_loss=[2.0, 1.9, 2.2, 1.0])
    assert sharpness.loss_rise(h) == pytest.approx(1.1)
    table = sharpness.stability_table([h], limit=0.1)
    assert table["lr / limit"].tolist() == [pytest.approx(2.0)]
    assert table["first step above start"].tolist() == [2]
    assert sharpness.loss_rise(hp.History(hp.TrainConfig(), step_loss=[1.0, float("nan")])) == (
        float("inf")
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sharpness.stable_lr_limit(0.0), "sharpness_value=0.0 is not allowed"),
        (lambda: sharpness.stable_lr_limit(1.0, momentum=1), "momentum=1 is not allowed"),
        (lambda: sharpness.power_iteration(lambda v: v, 0), "dim=0 is not allowed"),
        (lambda: sharpness.power_iteration(lambda v: v, 2, tol=0), "tol=0 is not allowed"),
        (lambda: sharpness.loss_rise(hp.History(hp.TrainConfig())), "has no step losses"),
        (lambda: sharpness.stability_table([], limit=-1.0), "limit=-1.0 is not allowed"),
    ],
)
def test_sharpness_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_full_batch_gd_turns_unstable_near_two_over_sharpness(digits):
    full = hp.TrainConfig(optimizer="sgd", batch_size=len(digits.y_train), epochs=30, seed=0)
    model = hp.runs.build_model(full, digits)
    start = sharpness.sharpness(model, digits.x_train, digits.y_train, seed=0).value
    warm = hp.train(full.replace(lr=1 / start), digits, model=model)
    limit = 2 / sharpness.sharpness(warm.model, digits.x_train, digits.y_train, seed=0).value
    rises = {
        f: sharpness.loss_rise(
            hp.train(full.replace(lr=f * limit, epochs=20), digits, model=copy.deepcopy(warm.model))
        )
        for f in (0.5, 3.0)
    }
    assert rises[0.5] <= 1.0 and rises[3.0] > 1.05, rises


# --- the update-to-weight ratio ------------------------------------------------------------


def test_update_ratio_of_plain_sgd_is_lr_times_gradient_over_weight():
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0]]))  # |w| = 5
    b = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([w, b], lr=0.01)
    monitor = UpdateRatioMonitor()
    history = hp.History(hp.TrainConfig(), epoch=[0, 1])
    monitor(history, opt)  # end of epoch 1: attaches, measures nothing yet
    assert monitor.epochs == [] and monitor.table().empty
    for _ in range(3):
        w.grad, b.grad = torch.tensor([[0.0, 10.0]]), torch.tensor([0.0])
        opt.step()
    history.epoch.append(2)
    monitor(history, opt)
    assert monitor.epochs == [2]
    # first step: |0.01 * 10| / 5 = 0.02; the median over three steps is the second's
    expected = [0.01 * 10 / float(torch.tensor([3.0, 4.0 - 0.1]).norm()), 0.0]
    np.testing.assert_allclose(monitor.ratios[0], expected, rtol=1e-5)
    assert monitor.weight_ratio() == [pytest.approx(expected[0], rel=1e-5)]
    assert list(monitor.table().columns) == ["epoch", "tensor", "ratio"]


def test_update_ratio_follows_the_learning_rate(digits):
    ratios = {}
    for lr in (0.001, 0.1):
        monitor = UpdateRatioMonitor()
        hp.train({"lr": lr, "epochs": 3, "seed": 0}, digits, on_epoch=monitor)
        assert monitor.epochs == [2, 3]
        ratios[lr] = monitor.weight_ratio()[-1]
    assert 10 < ratios[0.1] / ratios[0.001] < 300, ratios


# --- rules over seeds, new plots -------------------------------------------------------


def test_rules_over_seeds_tables_each_rule(digits):
    table = lr_finder.rules_over_seeds(digits, {"optimizer": "momentum"}, seeds=[0, 5], steps=60)
    assert table["seed"].tolist() == [0, 5]
    assert list(table.columns) == ["seed", "min_lr", "min/10", "steepest", "valley", "stopped_at"]
    np.testing.assert_allclose(table["min/10"], table["min_lr"] / 10)
    with pytest.raises(ValueError, match=re.escape("seeds=[] is not allowed")):
        lr_finder.rules_over_seeds(digits, seeds=[])


def test_new_plots_draw_ordered_colours_and_no_legend_for_missing_lines(digits):
    runs = hp.train_many(
        [{"lr": lr, "epochs": 2, "seed": 0} for lr in (0.01, 0.1, 1e4)], digits, progress=False
    )
    ax = lr_plots.plot_sweep_curves(runs)
    assert len(ax.lines) == 2 and ax.get_legend() is None  # the diverged run has no line
    assert "10000" in ax.get_title()
    colours = [matplotlib.colors.to_rgba(line.get_color()) for line in ax.lines]
    assert not np.allclose(colours[0], colours[1])  # neighbouring lrs get distinct colours
    colorbar = ax.figure.axes[-1]  # the colour bar is labelled with the drawn lrs, in order
    assert [t.get_text() for t in colorbar.get_yticklabels()] == ["0.01", "0.1"]
    ax = lr_plots.plot_lr_sweep(runs, label="SGD")
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside
    assert lr_plots.plot_bowl(run_bowl(0.05)).get_aspect() == 1.0
    probes = [hp.History(hp.TrainConfig(lr=lr), step_loss=[2.0, 1.5]) for lr in (0.1, 0.3)]
    ax = lr_plots.plot_stability_probe(probes, limit=0.2)
    assert len(ax.lines) == 3  # two runs and the line at 1
    table = hp.results_table(runs[:2], columns=["seed", "lr"])
    assert lr_plots.plot_seed_spread(table).get_xscale() == "log"
    with pytest.raises(ValueError, match="missing column 'seed'"):
        lr_plots.plot_seed_spread(table.drop(columns="seed"))


def test_update_ratio_of_a_run_that_never_reached_epoch_two_is_nan(digits):
    monitor = UpdateRatioMonitor()
    history = hp.train({"lr": 1e4, "epochs": 3, "seed": 0}, digits, on_epoch=monitor)
    assert history.diverged and monitor.weight_ratio() == []
    assert np.isnan(monitor.last_weight_ratio())
