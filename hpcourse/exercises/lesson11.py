"""Exercise checkers for notebook 11 (automated tuning with Optuna).

1. :func:`check_suggest_lr`: ask an Optuna trial for a learning rate between 1e-4 and 1 on
   a log scale (hpcourse's own version: :func:`hpcourse.tuning.suggest` with
   ``Float(1e-4, 1.0, "log")``).
2. :func:`check_running_best`: the best value so far of a list of trial values where
   failed and pruned trials are NaN (hpcourse's own version:
   :func:`hpcourse.tuning.running_best`).

Each prints a verdict (PASSED / NOT YET with what went wrong / SKIPPED) and returns it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hpcourse.exercises import Verdict, _skipped
from hpcourse.tuning import running_best

LR_LOW, LR_HIGH = 1e-4, 1.0

LR_HINT = (
    "call trial.suggest_float('lr', 1e-4, 1.0, log=True) and return its value: the study "
    "then records the learning rate itself, on a log scale, so its samplers and plots "
    "work in decades."
)

BEST_HINT = (
    "walk through the values keeping the smallest finite one seen so far; a NaN (a failed "
    "or pruned trial) changes nothing, and before the first finished trial there is no "
    "best yet (NaN). np.minimum.accumulate lets one NaN spoil everything after it, and "
    "pandas' cummin() leaves a NaN wherever the trial itself was NaN."
)


def _finish(verdict: Verdict, verbose: bool) -> Verdict:
    if verbose:
        print(verdict)
    return verdict


def check_suggest_lr(attempt: Callable[[Any], float], verbose: bool = True) -> Verdict:
    """Check ``attempt(trial)``: it must suggest ``"lr"`` between 1e-4 and 1 on a log scale
    and return the suggested value.

    Checked on 200 trials of a seeded random sampler: the distribution the study records
    (name, bounds, log scale: what Optuna's samplers and plots use), and that the value
    returned is the value recorded (suggesting an exponent and returning ``10 ** r``
    trains well but leaves the study's records and plots in exponents).
    """
    import optuna

    name = "suggest a log-scale lr"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(200):
        trial = study.ask()
        try:
            value = attempt(trial)
        except NotImplementedError:
            return _finish(_skipped(name), verbose)
        except Exception as err:  # the learner's code may fail in any way; report it kindly
            return _finish(
                Verdict(name, False, f"your function raised {type(err).__name__}: {err}."),
                verbose,
            )
        dist = trial.distributions.get("lr")
        if dist is None:
            found = ", ".join(repr(k) for k in trial.distributions) or "nothing"
            message = f"the trial recorded no parameter named 'lr' (it recorded {found})."
            return _finish(Verdict(name, False, f"{message} Hint: {LR_HINT}"), verbose)
        if not isinstance(dist, optuna.distributions.FloatDistribution):
            message = (
                f"'lr' was suggested as {type(dist).__name__}: a fixed list or integers tries "
                "only the values you wrote down, not the whole range."
            )
            return _finish(Verdict(name, False, f"{message} Hint: {LR_HINT}"), verbose)
        if not math.isclose(dist.low, LR_LOW) or not math.isclose(dist.high, LR_HIGH):
            message = f"'lr' ranges over [{dist.low:g}, {dist.high:g}], not [1e-4, 1]."
            return _finish(Verdict(name, False, f"{message} Hint: {LR_HINT}"), verbose)
        if not dist.log:
            message = (
                "'lr' is sampled on a linear scale: about 99% of the trials land above 0.01 "
                "(notebook 04)."
            )
            return _finish(Verdict(name, False, f"{message} Hint: {LR_HINT}"), verbose)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.floating)):
            message = f"return the learning rate (a number), not a {type(value).__name__}."
            return _finish(Verdict(name, False, message), verbose)
        if not math.isclose(float(value), trial.params["lr"], rel_tol=1e-12):
            message = (
                f"you returned {float(value):.4g} but the study recorded lr = "
                f"{trial.params['lr']:.4g}: return the value the trial suggested."
            )
            return _finish(Verdict(name, False, message), verbose)
        study.tell(trial, 0.0)
    return _finish(Verdict(name, True, "correct on 200 trials."), verbose)


def _best_cases() -> list[list[float]]:
    nan = math.nan
    fixed = [
        [3.0, 1.0, 2.0],
        [nan, 2.0, nan, 1.0, 3.0],
        [nan, nan, 5.0],
        [nan, nan],
        [],
        [0.5],
        [2.0, 2.0, 1.5, nan, 1.7, 0.2],
    ]
    rng = np.random.default_rng(11)
    random = []
    for n in (8, 15, 30):
        values = rng.uniform(0.5, 3.0, n)
        values[rng.random(n) < 0.3] = nan
        random.append([float(v) for v in values])
    return fixed + random


def check_running_best(
    attempt: Callable[[Sequence[float]], Sequence[float]], verbose: bool = True
) -> Verdict:
    """Check ``attempt(values)``: the best (lowest) value so far at each trial, where NaN
    marks a failed or pruned trial; NaN until the first finished trial."""
    name = "best so far"
    cases = _best_cases()
    for values in cases:
        try:
            got = attempt(list(values))
        except NotImplementedError:
            return _finish(_skipped(name), verbose)
        except Exception as err:  # the learner's code may fail in any way; report it kindly
            message = f"your function raised {type(err).__name__}: {err} for {values}."
            return _finish(Verdict(name, False, message), verbose)
        expected = running_best(values)
        try:
            array = np.asarray(got, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            message = f"return a list of numbers, not {type(got).__name__}."
            return _finish(Verdict(name, False, message), verbose)
        if array.shape != (len(expected),) or not np.allclose(
            array, expected, rtol=1e-9, atol=0.0, equal_nan=True
        ):
            message = (
                f"for {_short(values)} the answer should be {_short(expected)}, but your "
                f"function returned {_short(list(array))}. Hint: {BEST_HINT}"
            )
            return _finish(Verdict(name, False, message), verbose)
    return _finish(Verdict(name, True, f"correct on all {len(cases)} test cases."), verbose)


def _short(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


__all__ = ["check_running_best", "check_suggest_lr"]
