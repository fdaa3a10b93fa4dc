"""The course-wide default seed: one number that every run, split and sampler falls back on.

Why one default: a lesson should be re-runnable on another seed *unchanged*, so that
its claims can be checked on seeds 0-3 and a learner can see which numbers are luck.
So functions that draw random numbers take ``seed=None`` to mean "the course's seed":

* :func:`hpcourse.setup` sets it (notebooks call ``hp.setup(seed=0)`` once);
* the environment variable ``HPCOURSE_SEED`` overrides whatever ``setup`` was given,
  which is how ``make claims`` runs every notebook on seeds 1, 2 and 3.

Nothing here draws a random number or touches a global generator; runs use their own
generators, seeded from these values (see :mod:`hpcourse.runs`). No PyTorch import.
"""

from __future__ import annotations

import os

from hpcourse.validation import check_number

ENV_VAR = "HPCOURSE_SEED"

_course_seed = 0


def env_seed() -> int | None:
    """The seed in ``$HPCOURSE_SEED``, or None when it is not set (or empty).

    >>> import os
    >>> os.environ["HPCOURSE_SEED"] = "3"; env_seed()
    3
    >>> del os.environ["HPCOURSE_SEED"]; env_seed() is None
    True
    """
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"{ENV_VAR}={text!r} is not allowed: {ENV_VAR} must be an integer >= 0."
        ) from None
    check_number(ENV_VAR, value, low=0, integer=True)
    return value


def course_seed() -> int:
    """The default seed now in force: ``$HPCOURSE_SEED`` if set, else the last ``setup`` seed."""
    from_env = env_seed()
    return _course_seed if from_env is None else from_env


def set_course_seed(seed: int) -> int:
    """Set the course's default seed; returns the seed now in force (the environment wins)."""
    global _course_seed
    check_number("seed", seed, low=0, integer=True)
    _course_seed = int(seed)
    return course_seed()


def resolve_seed(seed: int | None, name: str = "seed") -> int:
    """``seed`` itself, checked, or the course's default seed when it is None.

    >>> resolve_seed(7)
    7
    >>> resolve_seed(None) == course_seed()
    True
    """
    if seed is None:
        return course_seed()
    check_number(name, seed, low=0, integer=True)
    return int(seed)


__all__ = ["ENV_VAR", "course_seed", "env_seed", "resolve_seed", "set_course_seed"]
