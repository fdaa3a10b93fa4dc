"""Our schedules equal torch's own schedulers, step for step, where both exist."""

import re

import numpy as np
import pytest
import torch

from hpcourse.schedules import exponential_lrs, lr_curve, lr_factor

BASE_LR = 0.1


def torch_lrs(make_scheduler, steps: int) -> list[float]:
    """The learning rate torch uses at each of ``steps`` steps (scheduler stepped per step)."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=BASE_LR)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize(
    ("step_size", "gamma", "steps"), [(1, 0.5, 6), (10, 0.1, 35), (7, 0.3, 50)]
)
def test_step_schedule_equals_torch_steplr(step_size, gamma, steps):
    ours = lr_curve("step", BASE_LR, steps, step_size=step_size, gamma=gamma)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma), steps
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


@pytest.mark.parametrize("steps", [4, 25, 200])
def test_cosine_schedule_equals_torch_cosine_annealing(steps):
    ours = lr_curve("cosine", BASE_LR, steps)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=steps, eta_min=0), steps
    )
    # torch updates the cosine recursively, so it drifts by rounding error only
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("warmup", "steps"), [(2, 5), (10, 30), (25, 25)])
def test_linear_warmup_equals_torch_linearlr(warmup, steps):
    ours = lr_curve("constant", BASE_LR, steps, warmup_steps=warmup)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1
        ),
        steps,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert ours[0] == pytest.approx(BASE_LR / warmup)  # starts small, not at zero


def test_warmup_then_cosine_equals_torch_sequential():
    warmup, steps = 10, 60

    def make(o):
        ramp = torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1
        )
        decay = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=steps - warmup, eta_min=0)
        return torch.optim.lr_scheduler.SequentialLR(o, [ramp, decay], milestones=[warmup])

    ours = lr_curve("cosine", BASE_LR, steps, warmup_steps=warmup)
    np.testing.assert_allclose(ours, torch_lrs(make, steps), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("steps", [10, 37, 300])
def test_onecycle_equals_torch_onecyclelr(steps):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=BASE_LR)
    # torch's defaults (pct_start 0.3, div_factor 25, final_div_factor 1e4, cosine); the
    # momentum cycle is off because hpcourse's 1cycle schedules the learning rate only
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=BASE_LR, total_steps=steps, cycle_momentum=False
    )
    theirs = []
    for step in range(steps):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        if step < steps - 1:  # torch refuses a step past total_steps
            scheduler.step()
    ours = lr_curve("onecycle", BASE_LR, steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)
    assert 0.99 * BASE_LR <= max(ours) <= BASE_LR  # the peak (hit exactly when 0.3 steps is whole)
    assert ours[0] == pytest.approx(BASE_LR / 25)


@pytest.mark.parametrize(("step_size", "gamma", "steps"), [(1, 0.9, 10), (20, 0.1, 100)])
def test_exponential_schedule_equals_torch_exponentiallr(step_size, gamma, steps):
    ours = lr_curve("exponential", BASE_LR, steps, step_size=step_size, gamma=gamma)
    per_step = gamma ** (1 / step_size)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, per_step), steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize(("warmup", "decay", "steps"), [(0, 4, 10), (3, 5, 20), (2, 1, 8)])
def test_wsd_equals_torch_warmup_constant_then_linear_decay(warmup, decay, steps):
    ours = lr_curve("wsd", BASE_LR, steps, warmup_steps=warmup, decay_steps=decay)
    sched = torch.optim.lr_scheduler
    stable = steps - warmup - decay

    def make(o):
        parts = []
        if warmup:
            parts.append(
                sched.LinearLR(o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
            )
        parts.append(sched.ConstantLR(o, factor=1.0, total_iters=stable))
        parts.append(
            sched.LambdaLR(o, lambda k: max(0.0, 1 - (k + 1) / decay))  # noqa: B023
        )
        starts = [warmup, warmup + stable] if warmup else [stable]
        return sched.SequentialLR(o, parts, milestones=starts)

    theirs = torch_lrs(make, steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert ours[-1] == 0.0 and ours[warmup] == pytest.approx(BASE_LR)


def test_exponential_lrs_is_geometric_from_min_to_max():
    lrs = exponential_lrs(1e-6, 10.0, 71)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == 10.0
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # same factor every step
    per_decade = np.histogram(np.log10(lrs[:-1]), bins=np.arange(-6, 2) - 0.05)[
        0
    ]  # edges between grid points
    assert set(per_decade) == {10}  # every decade gets the same share of steps


def test_lr_factor_examples():
    assert lr_factor("constant", 5, 10) == 1.0
    assert lr_factor("cosine", 0, 10) == 1.0
    assert lr_factor("cosine", 5, 10) == pytest.approx(0.5)
    assert lr_factor("step", 9, 10, step_size=3, gamma=0.5) == 0.125


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lr_factor("linear", 0, 10), "schedule='linear' is not allowed"),
        (
            lambda: lr_factor("cosine", -1, 10),
            "step=-1 is not allowed: step must be an integer >= 0",
        ),
        (lambda: lr_factor("cosine", 0, 0), "total_steps=0 is not allowed"),
        (lambda: lr_factor("constant", 0, 10, warmup_steps=11), "warmup_steps=11 is not allowed"),
        (lambda: lr_factor("step", 0, 10, step_size=0), "step_size=0 is not allowed"),
        (lambda: lr_factor("step", 0, 10, gamma=1.5), "gamma=1.5 is not allowed"),
        (lambda: lr_curve("cosine", 0.0, 10), "base_lr=0.0 is not allowed: base_lr must be > 0"),
        (lambda: exponential_lrs(0.0, 1.0, 10), "lr_min=0.0 is not allowed: lr_min must be > 0"),
        (lambda: exponential_lrs(1.0, 0.5, 10), "lr_max=0.5 is not allowed: lr_max must be > 1.0"),
        (
            lambda: exponential_lrs(1e-3, 1.0, 1),
            "steps=1 is not allowed: steps must be an integer >= 2",
        ),
    ],
)
def test_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
