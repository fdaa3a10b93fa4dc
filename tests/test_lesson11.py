"""Lesson 11's exercise checkers accept the right answers and reject the tempting wrong
ones; the tuning explorer redraws from a finished race."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import hpcourse as hp
from hpcourse import search, tuning
from hpcourse.exercises import lesson11
from hpcourse.space import Choice, Float, SearchSpace
from hpcourse.widgets.tuning import tuning_explorer


def _right_lr(trial):
    return trial.suggest_float("lr", 1e-4, 1.0, log=True)


def test_suggest_lr_accepts_the_log_scale_and_hpcourse_own_suggest():
    assert lesson11.check_suggest_lr(_right_lr, verbose=False).passed is True
    space = SearchSpace({"lr": Float(1e-4, 1.0, "log")})
    own = lesson11.check_suggest_lr(lambda t: tuning.suggest(t, space)["lr"], verbose=False)
    assert own.passed is True


@pytest.mark.parametrize(
    "attempt, message",
    [
        (lambda t: t.suggest_float("lr", 1e-4, 1.0), "linear scale"),
        (lambda t: t.suggest_float("lr", 1e-3, 1.0, log=True), "ranges over"),
        (lambda t: t.suggest_float("learning_rate", 1e-4, 1.0, log=True), "no parameter named"),
        (lambda t: 10 ** t.suggest_float("lr", -4, 0), "ranges over"),
        (lambda t: t.suggest_categorical("lr", [1e-4, 1e-3, 1e-2, 1e-1, 1.0]), "Categorical"),
        (lambda t: str(t.suggest_float("lr", 1e-4, 1.0, log=True)), "not a str"),
        (lambda t: t.suggest_float("lr", 1e-4, 1.0, log=True) * 2, "return the value"),
        (lambda t: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_suggest_lr_rejects_wrong_answers(attempt, message):
    verdict = lesson11.check_suggest_lr(attempt, verbose=False)
    assert verdict.passed is False and message in verdict.message, verdict.message


def test_running_best_accepts_hpcourse_and_a_loop():
    def loop(values):
        best, out = math.nan, []
        for v in values:
            if not math.isnan(v) and (math.isnan(best) or v < best):
                best = v
            out.append(best)
        return out

    for attempt in (tuning.running_best, loop):
        assert lesson11.check_running_best(attempt, verbose=False).passed is True


@pytest.mark.parametrize(
    "attempt",
    [
        lambda v: list(np.minimum.accumulate(np.asarray(v, dtype=float))),  # one NaN spoils all
        lambda v: pd.Series(v, dtype=float).cummin().tolist(),  # NaN stays where the trial was
        lambda v: list(np.minimum.accumulate(np.nan_to_num(np.asarray(v, float), nan=np.inf))),
        lambda v: list(np.minimum.accumulate(np.nan_to_num(np.asarray(v, float), nan=0.0))),
        lambda v: pd.Series(v, dtype=float).cummax().ffill().tolist(),  # maximizes
        lambda v: sorted(v),
        lambda v: pd.Series(v, dtype=float).cummin().bfill().tolist(),  # looks ahead
    ],
)
def test_running_best_rejects_wrong_answers(attempt):
    verdict = lesson11.check_running_best(attempt, verbose=False)
    assert verdict.passed is False, verdict.message


def test_unattempted_exercises_are_skipped():
    def stub(*args):
        raise NotImplementedError

    assert lesson11.check_suggest_lr(stub, verbose=False).passed is None
    assert lesson11.check_running_best(stub, verbose=False).passed is None


@pytest.fixture(scope="module")
def small_race():
    space = SearchSpace({"lr": Float(1e-3, 1.0, "log"), "width": Choice((16, 32))})
    return tuning.race(
        hp.load_dataset("digits", seed=0),
        {"epochs": 3, "optimizer": "momentum"},
        space,
        seeds=[0, 1],
        epoch_budget=18,
        translate=search.width_as_hidden,
        progress=False,
    )


def test_tuning_explorer_redraws_from_the_race(small_race):
    w = tuning_explorer(small_race, step=3)
    assert w.redraws == 1 and set(w.state["methods"]) == {"random + halving", "random"}
    w.controls["budget"].value = 18
    assert w.redraws == 2 and w.state["budget"] == 18
    for method in w.state["methods"]:
        expected = np.nanmean([small_race.best_at(method, s, 18) for s in (0, 1)])
        assert w.state["best"][method] == pytest.approx(expected)
    w.controls["against"].value = "tpe"
    w.controls["view"].value = "each seed"
    assert w.redraws == 4 and "tpe" in w.state["methods"] and "lower loss" in w.status.value
    w.controls["method"].value = "tpe"  # the same method twice: one set of curves
    assert w.state["methods"] == ["tpe"]
    with pytest.raises(ValueError, match="step=0 is not allowed"):
        tuning_explorer(small_race, step=0)
    with pytest.raises(ValueError, match="seed=7 is not allowed"):
        small_race.best_at("tpe", 7, 10)
