"""Exercise checkers for lesson 04 (sampling on the right scale).

Each checker prints a verdict and returns a :class:`~hpcourse.exercises.Verdict`
(``passed`` is True, False, or None when the exercise was skipped).

The two sampler exercises are checked statistically: a sampler is right when its samples
*follow the intended distribution*, not when they equal some reference numbers. So the
checker calls the learner's sampler on several ranges with generators it seeds itself,
and asks, in this order, that it

1. returns ``n`` finite numbers inside ``[low, high]``;
2. draws from the generator it is given (same seed, same numbers; another seed, other
   numbers), so a search can be reproduced;
3. gives a continuous spread (no handful of repeated grid values);
4. follows the intended cumulative distribution: the largest gap between the empirical
   and the exact distribution (Kolmogorov distance) is below 0.02 for 20,000 samples.
   A right sampler stays below about 0.014 in 999 of 1,000 checks; every wrong answer
   this checker is tested against is far above 0.02.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hpcourse.exercises import Case, Verdict, _skipped, check_function
from hpcourse.seeding import resolve_seed

Sampler = Callable[[float, float, int, np.random.Generator], Any]

N_SAMPLES = 20_000
MAX_DISTANCE = 0.02


def check_uniform_share(attempt: Callable[[float, float, float, float], float]) -> Verdict:
    """Check ``uniform_share(low, high, a, b)``: the share of uniform samples on
    ``[low, high]`` that land in ``[a, b]``.

    The cases include intervals that stick out of the range, or miss it entirely, so that
    the length of ``[a, b]`` over the length of the range (without clipping) fails; and a
    share far below 0.01, so that rounding to two decimals fails.
    """
    clip = "only the part of [a, b] inside [low, high] counts: clip a and b to the range first."
    cases = [
        Case((1e-4, 1.0, 0.1, 1.0), 0.9 / (1 - 1e-4)),
        Case((0.0, 10.0, 2.0, 5.0), 0.3),
        Case((50.0, 100.0, 60.0, 70.0), 0.2, hint="divide by the length of the range, high - low."),
        Case((1e-4, 1.0, 1e-4, 1e-3), 0.0009 / 0.9999, hint="do not round: the share is tiny."),
        Case((0.0, 10.0, -5.0, 5.0), 0.5, hint=clip),
        Case((0.0, 10.0, -1.0, 11.0), 1.0, hint=clip),
        Case((0.0, 10.0, 20.0, 30.0), 0.0, hint=clip + " An interval outside the range gets 0."),
        Case((0.9, 0.999, 0.99, 0.999), 0.009 / 0.099),
    ]
    return check_function("share of uniform samples", attempt, cases, rtol=1e-9, atol=1e-12)


def log_uniform_cdf(low: float, high: float, x: np.ndarray) -> np.ndarray:
    """The cumulative distribution of a log-uniform variable on ``[low, high]``."""
    return np.clip(np.log(x / low) / math.log(high / low), 0, 1)


def one_minus_log_cdf(low: float, high: float, x: np.ndarray) -> np.ndarray:
    """The cumulative distribution of ``beta`` on ``[low, high]`` when ``1 - beta`` is
    log-uniform on ``[1 - high, 1 - low]``."""
    return 1 - log_uniform_cdf(1 - high, 1 - low, 1 - x)


def _decade_report(values: np.ndarray, low: float, high: float, label: str = "") -> str:
    """The share of ``values`` in each decade of ``[low, high]`` next to the log-uniform
    share, e.g. ``"[0.0001, 0.001): 0% (expected 25%); ..."``."""
    from hpcourse.sampling import decade_shares

    table = decade_shares({"yours": values}, low, high)
    parts = [
        f"{label}{d}: {y:.0%} (expected {e:.0%})"
        for d, y, e in zip(table["decade"], table["yours"], table["exact_log"], strict=True)
    ]
    return "; ".join(parts)


def check_sampler(
    exercise: str,
    attempt: Sampler,
    ranges: Sequence[tuple[float, float]],
    cdf: Callable[[float, float, np.ndarray], np.ndarray],
    *,
    hint: str,
    report: Callable[[np.ndarray, float, float], str] | None = None,
    seed: int | None = None,
    verbose: bool = True,
) -> Verdict:
    """Check a sampler ``attempt(low, high, n, rng)`` against the distribution ``cdf`` on
    each of ``ranges`` (see the module docstring for the four steps). ``seed`` (default:
    the course seed) seeds the generators the checker hands to ``attempt``."""
    base = resolve_seed(seed)
    verdict = Verdict(exercise, True, f"correct on all {len(ranges)} ranges.")
    for k, (low, high) in enumerate(ranges):
        verdict = _check_one_range(
            exercise, attempt, low, high, cdf, hint, report, np.random.SeedSequence([base, k])
        )
        if verdict.passed is not True:
            break
    else:
        verdict = Verdict(
            exercise,
            True,
            f"correct: on {len(ranges)} ranges your {N_SAMPLES:,} samples follow the intended "
            f"distribution (largest gap to it below {MAX_DISTANCE}), inside the bounds, drawn "
            "from the generator you were given.",
        )
    if verbose:
        print(verdict)
    return verdict


def _check_one_range(
    exercise: str,
    attempt: Sampler,
    low: float,
    high: float,
    cdf: Callable[[float, float, np.ndarray], np.ndarray],
    hint: str,
    report: Callable[[np.ndarray, float, float], str] | None,
    seeds: np.random.SeedSequence,
) -> Verdict:
    where = f"for low={low:g}, high={high:g}, n={N_SAMPLES}"
    first, second = seeds.spawn(2)
    try:
        values = attempt(low, high, N_SAMPLES, np.random.default_rng(first))
        again = attempt(low, high, N_SAMPLES, np.random.default_rng(first))
        other = attempt(low, high, N_SAMPLES, np.random.default_rng(second))
    except NotImplementedError:
        return _skipped(exercise)
    except Exception as err:  # the learner's code may fail in any way; report it kindly
        return Verdict(
            exercise, False, f"your function raised {type(err).__name__}: {err} {where}."
        )
    try:
        v, v_again, v_other = (np.asarray(x, dtype=float) for x in (values, again, other))
    except (TypeError, ValueError):
        return Verdict(exercise, False, f"{where} it must return numbers (an array of n floats).")
    if v.shape != (N_SAMPLES,):
        return Verdict(
            exercise, False, f"{where} it returned shape {v.shape}: return n numbers, one per draw."
        )
    if not np.all(np.isfinite(v)) or v.min() < low or v.max() > high:
        return Verdict(
            exercise,
            False,
            f"{where} your samples run from {np.nanmin(v):.3g} to {np.nanmax(v):.3g}, outside "
            f"[{low:g}, {high:g}]. Hint: {hint}",
        )
    if v_again.shape != v.shape or not np.array_equal(v, v_again):
        return Verdict(
            exercise,
            False,
            f"{where} two generators with the same seed gave different samples: draw every "
            "random number from the rng argument (e.g. rng.uniform), not from np.random.",
        )
    if np.array_equal(v, v_other):
        return Verdict(
            exercise,
            False,
            f"{where} two differently seeded generators gave the same numbers: the samples "
            "must be random draws from rng, not a fixed list such as np.logspace.",
        )
    distinct = np.unique(v).size
    if distinct < 0.99 * N_SAMPLES:
        return Verdict(
            exercise,
            False,
            f"{where} only {distinct} distinct values came out of {N_SAMPLES}: draw from a "
            "continuous range (every value possible), not from a few grid points.",
        )
    x = np.sort(v)
    exact = cdf(low, high, x)
    upper = np.arange(1, x.size + 1) / x.size
    gap = float(max(np.max(np.abs(upper - exact)), np.max(np.abs(upper - 1 / x.size - exact))))
    if gap > MAX_DISTANCE:
        detail = f" Your shares: {report(v, low, high)}." if report is not None else ""
        return Verdict(
            exercise,
            False,
            f"{where} your samples do not follow the intended distribution: the largest gap "
            f"between their cumulative share and the exact one is {gap:.3f} (a right sampler "
            f"stays below {MAX_DISTANCE}).{detail} Hint: {hint}",
        )
    return Verdict(exercise, True, "")


def check_log_uniform_sampler(attempt: Sampler, *, seed: int | None = None) -> Verdict:
    """Check ``log_uniform_sampler(low, high, n, rng)``: ``n`` values whose logarithm is
    uniform between ``log(low)`` and ``log(high)``.

    The ranges differ in width, position and in whether their ends are powers of ten, so
    an exponent hard-wired to ``[-4, 0]`` fails; the distribution is checked inside each
    decade too, so picking a decade at random and then a uniform value inside it fails.
    """
    hint = (
        "draw the exponent r uniformly between log10(low) and log10(high) with rng.uniform, "
        "then return 10**r."
    )
    ranges = [(1e-4, 1.0), (1e-5, 1e-1), (0.003, 0.3), (2.0, 2000.0), (1e-6, 5e-6)]
    return check_sampler(
        "log-uniform sampler",
        attempt,
        ranges,
        log_uniform_cdf,
        hint=hint,
        report=_decade_report,
        seed=seed,
    )


def check_beta_sampler(attempt: Sampler, *, seed: int | None = None) -> Verdict:
    """Check ``beta_sampler(low, high, n, rng)``: ``n`` values of ``beta`` in
    ``[low, high]`` with ``1 - beta`` log-uniform (so each decade of the averaging window
    ``1 / (1 - beta)`` gets an equal share).

    Sampling ``beta`` itself log-uniformly puts nearly the same values as a uniform
    sampler, since ``[0.9, 0.999]`` is far less than a decade wide: it fails here.
    """
    hint = (
        "1 - beta runs from 1 - high to 1 - low: draw r uniformly between log10(1 - high) "
        "and log10(1 - low), and return 1 - 10**r."
    )

    def window_report(values: np.ndarray, low: float, high: float) -> str:
        from hpcourse.sampling import averaging_window

        return _decade_report(
            averaging_window(values), 1 / (1 - low), 1 / (1 - high), label="window "
        )

    ranges = [(0.9, 0.999), (0.5, 0.99), (0.99, 0.9999), (0.0, 0.9)]
    return check_sampler(
        "one-minus-log beta sampler",
        attempt,
        ranges,
        one_minus_log_cdf,
        hint=hint,
        report=window_report,
        seed=seed,
    )


__all__ = [
    "check_beta_sampler",
    "check_log_uniform_sampler",
    "check_sampler",
    "check_uniform_share",
    "log_uniform_cdf",
    "one_minus_log_cdf",
]
