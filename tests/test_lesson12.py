"""Lesson 12 (capstone): the exercise checker (with wrong answers it must reject), the
budget explorer and its drawing, and the two faults the lesson's claims name."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import hpcourse as hp
from hpcourse.capstone import Budget, Capstone, Leaderboard, configs_that_fit
from hpcourse.exercises import lesson12
from hpcourse.plots.capstone import plot_budget, plot_runs
from hpcourse.widgets.capstone import STARTS, budget_explorer

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"epochs": 2, "hidden": (16,), "batch_size": 64, "lr": 0.05}


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits")


def test_the_package_version_passes():
    assert lesson12.check_configs_trained(configs_that_fit, verbose=False).passed


def _skip_instead_of_stop(remaining, epochs):
    total = n = 0
    for e in epochs:
        if total + e <= remaining:
            total, n = total + e, n + 1
    return n


def _strict(remaining, epochs):
    total = n = 0
    for e in epochs:
        if total + e >= remaining:
            break
        total, n = total + e, n + 1
    return n


@pytest.mark.parametrize(
    "wrong",
    [
        lambda remaining, epochs: int(remaining // epochs[0]) if epochs else 0,  # equal lengths
        lambda remaining, epochs: min(len(epochs), int(remaining // epochs[0])) if epochs else 0,
        _skip_instead_of_stop,  # skips a config that does not fit and tries the next
        _strict,  # an exact fit is refused
        lambda remaining, epochs: min(len(epochs), round(remaining / max(epochs, default=1))),
        lambda remaining, epochs: len(epochs),
        lambda remaining, epochs: math.ceil(remaining / (sum(epochs) / max(len(epochs), 1) or 1)),
    ],
)
def test_checker_rejects_wrong_answers(wrong):
    assert not lesson12.check_configs_trained(wrong, verbose=False).passed


def test_checker_skips_a_stub():
    def stub(remaining, epochs):
        raise NotImplementedError

    verdict = lesson12.check_configs_trained(stub, verbose=False)
    assert not verdict.passed


def test_configs_that_fit_bad_input():
    with pytest.raises(ValueError, match="remaining=-1"):
        configs_that_fit(-1, [1])
    with pytest.raises(ValueError, match=r"epochs\[1\]=0"):
        configs_that_fit(10, [1, 0])


def test_budget_explorer_redraws_and_judges_plans(digits, tmp_path):
    cap = Capstone(
        "ada", budget=Budget(10, 600), data=digits, leaderboard=Leaderboard(tmp_path / "b")
    )
    cap.train(SMALL)  # 2 of 10 spent
    ex = budget_explorer(cap, n_configs=4, epochs=5)
    assert ex.state["remaining"] == 10 and ex.state["trained"] == 2 and ex.redraws == 1
    assert "train 2 of 4" in ex.status.value
    ex.controls["start"].value = STARTS[0]
    assert ex.state["remaining"] == pytest.approx(8) and ex.state["trained"] == 1
    ex.controls["epochs"].value = 10
    assert ex.state["trained"] == 0 and "only 8 of 10 remain" in ex.state["refusal"]
    assert "refused" in ex.status.value
    ex.controls["n_configs"].value = 1
    ex.controls["start"].value = STARTS[1]
    assert ex.state["trained"] == 1 and "fits" in ex.status.value
    assert ex.redraws == 5
    with pytest.raises(ValueError, match="n_configs=0"):
        budget_explorer(cap, n_configs=0)
    with pytest.raises(ValueError, match="start='x'"):
        budget_explorer(cap, start="x")


def test_plots_return_axes(digits):
    ax = plot_budget([("a", 20), ("b", 40)], 100, plan=60, plan_fits=40)
    assert len(ax.patches) == 4 and ax.get_xlim()[1] >= 120
    plt.close("all")
    h = hp.train(SMALL, digits)
    ax = plot_runs({"small": h})
    assert len(ax.lines) == 1
    plt.close("all")


SCRIPT = """
import sys; sys.path.insert(0, {tools!r}); import faults; faults.apply({fault!r})
import hpcourse as hp
from hpcourse.capstone import Budget, Capstone, Leaderboard
cap = Capstone("x", budget=Budget(10, 600), data=hp.load_dataset("digits"),
               leaderboard=Leaderboard({board!r}))
cap.train({small!r})
print(cap.budget.spent_epochs, cap.ledger_epochs)
"""


@pytest.mark.parametrize(
    "fault,expected", [("ledger_not_recorded", "2.0 0.0"), ("budget_not_charged", "0.0 2.0")]
)
def test_the_capstone_faults_break_what_they_say(fault, expected, tmp_path):
    code = SCRIPT.format(
        tools=str(ROOT / "tools"), fault=fault, board=str(tmp_path / "b"), small=SMALL
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == expected
