"""Exercise checkers for lesson 06 (babysitting vs caviar).

1. :func:`check_lr_in_epoch`: the learning rate a babysat run uses in a given epoch
   (hpcourse's own version: :func:`hpcourse.babysit.lr_in_epoch`).
2. :func:`check_halving_epochs`: the epochs successive halving spends
   (hpcourse's own version: :func:`hpcourse.caviar.halving_epochs`).
3. :func:`check_which_fits`: babysitting, caviar, successive halving or PBT, scenario by
   scenario.

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcourse.exercises import Case, Verdict, check_function, check_mapping

LR_HINT = (
    "a change written as {E: f} takes effect once epoch E has ended: epoch E still uses the "
    "old rate, epoch E + 1 the new one; and every change made before the epoch applies, "
    "multiplied together."
)
ORDER_HINT = "a dict need not list the epochs in order: look at every entry."
HALVING_HINT = (
    "at each rung the configurations still in train only the epochs since the previous "
    "rung (they continue, they are not restarted); then ceil(n / eta) of them go on."
)
CEIL_HINT = "ceil(7 / 2) = 4 configurations go on, not 3: round up, as halving does."


def check_lr_in_epoch(attempt: Callable[..., float], verbose: bool = True) -> Verdict:
    """Check ``attempt(lr, interventions, epoch)``: the lr used while training ``epoch``
    (from 1) of a run started at ``lr`` and multiplied by ``f`` after each epoch ``E`` of
    ``interventions = {E: f}``. Cases include an unsorted dict, a raise (f > 1) and
    factors whose product has many decimals, so rounding or "use the last change only"
    does not pass."""
    cases = [
        Case((0.1, {12: 0.1}, 12), 0.1, hint=LR_HINT),
        Case((0.1, {12: 0.1}, 13), 0.01, hint=LR_HINT),
        Case((0.3, {}, 4), 0.3),
        Case((0.1, {8: 0.5, 12: 0.1}, 1), 0.1, hint=LR_HINT),
        Case((0.1, {8: 0.5, 12: 0.1}, 20), 0.005, hint=LR_HINT),
        Case((0.1, {12: 0.1, 8: 0.5}, 10), 0.05, hint=ORDER_HINT),
        Case((0.02, {5: 3.0}, 6), 0.06, hint="a factor above 1 raises the rate."),
        Case((0.07, {2: 0.3, 6: 0.3, 4: 0.3}, 7), 0.07 * 0.3**3, hint=LR_HINT),
        Case((0.07, {2: 0.3, 6: 0.3, 4: 0.3}, 5), 0.07 * 0.3**2, hint=ORDER_HINT),
    ]
    return check_function("learning rate of a babysat epoch", attempt, cases, verbose=verbose)


def check_halving_epochs(attempt: Callable[..., int], verbose: bool = True) -> Verdict:
    """Check ``attempt(n_configs, rungs, eta)``: the epochs successive halving spends when
    no run diverges. Cases include a count that ``eta`` does not divide (round up) and a
    single rung (no halving at all)."""
    cases = [
        Case((9, [1, 3, 9], 3), 21, hint=HALVING_HINT),
        Case((27, [1, 3, 9, 27], 3), 81, hint=HALVING_HINT),
        Case((9, [3, 12], 3), 54, hint=HALVING_HINT),
        Case((5, [4], 3), 20, hint="one rung: every configuration trains to full length."),
        Case((10, [2, 6, 18], 3), 60, hint="ceil(10 / 3) = 4 go on, then ceil(4 / 3) = 2."),
        Case((7, [1, 3], 2), 15, hint=CEIL_HINT),
        Case((4, [1, 2, 4], 2), 8, hint=HALVING_HINT),
        Case((1, [1, 5], 3), 5, hint="at least one configuration always goes on."),
    ]
    return check_function("epochs successive halving spends", attempt, cases, verbose=verbose)


WHICH_FITS = {
    "one_big_model": "babysit",
    "cluster_overnight": "caviar",
    "early_signal": "halving",
    "schedule_matters": "pbt",
}

SCENARIOS = {
    "one_big_model": "one model that takes four days on the only GPU you have; you can look "
    "at its curves twice a day",
    "cluster_overnight": "200 small models fit on the cluster at once, each trains in ten "
    "minutes, and nobody will watch them",
    "early_signal": "64 configurations, compute for about 16 full runs, and bad "
    "configurations already look bad after a tenth of the training",
    "schedule_matters": "16 models train side by side and you suspect the best learning rate "
    "changes as training goes on",
}

CHOICES = ("babysit", "caviar", "halving", "pbt")


_WHICH_FITS_HINTS = {
    "one_big_model": "compute allows one run at a time: attention is what you have.",
    "cluster_overnight": "compute is plentiful and attention is not: run them all.",
    "early_signal": "early rankings predict late ones, and compute is short.",
    "schedule_matters": "a population that changes its hyperparameters while it "
    "trains: the schedule is found along the way.",
}


def check_which_fits(answers: Any, verbose: bool = True) -> Verdict:
    """Check a dict mapping each scenario of :data:`SCENARIOS` to one of :data:`CHOICES`."""
    return check_mapping(
        "which approach fits", answers, WHICH_FITS, CHOICES, _WHICH_FITS_HINTS, verbose=verbose
    )


__all__ = [
    "CHOICES",
    "SCENARIOS",
    "WHICH_FITS",
    "check_halving_epochs",
    "check_lr_in_epoch",
    "check_which_fits",
]
