"""Pick which questions a quiz asks: filter by topic, difficulty and notebook, then shuffle.

Arguments come from learners typing in a notebook or a terminal, so every one is
checked up front and a bad one raises a ``ValueError`` that names the argument, the
value given and the allowed values.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from numbers import Integral

from hpcourse.quiz.bank import DIFFICULTIES, TOPICS, Question


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def normalize_choices(
    name: str, value: str | Iterable[str] | None, allowed: Sequence[str]
) -> tuple[str, ...] | None:
    """Turn ``None``, one string or several strings into a checked tuple (``None`` = no filter)."""
    if value is None:
        return None
    try:
        values = (value,) if isinstance(value, str) else tuple(value)
    except TypeError:
        values = ()  # not a string and not iterable: reported just below
    if not values:
        raise ValueError(
            f"{name}={value!r} is not allowed: give None (no filter) or at least one of "
            f"{_allowed(allowed)}."
        )
    for item in values:
        if item not in allowed:
            raise ValueError(
                f"{name}={value!r} is not allowed: {item!r} is not one of {_allowed(allowed)}."
            )
    return values


def check_count(name: str, value: int | None) -> None:
    """``n`` must be None (all questions) or a whole number of at least 1."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(
            f"{name}={value!r} is not allowed: {name} must be None (all matching questions) "
            "or a whole number >= 1."
        )


def check_seed(value: int) -> None:
    """A seed must be a whole number so the same seed always gives the same order."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"seed={value!r} is not allowed: seed must be a whole number, e.g. 0.")


def select_questions(
    questions: Sequence[Question],
    *,
    topics: str | Iterable[str] | None = None,
    difficulty: str | Iterable[str] | None = None,
    notebook: str | None = None,
    n: int | None = None,
    seed: int = 0,
    checkable_only: bool = True,
) -> list[Question]:
    """The questions matching every filter, in an order shuffled by ``seed``, at most ``n``.

    A question matches ``topics`` when it carries at least one of them. The shuffle
    uses its own ``random.Random(seed)``, so it neither depends on nor disturbs the
    global random state a notebook has seeded.
    """
    topic_set = normalize_choices("topics", topics, list(TOPICS))
    levels = normalize_choices("difficulty", difficulty, DIFFICULTIES)
    check_count("n", n)
    check_seed(seed)
    if notebook is not None:
        known = sorted({q.notebook for q in questions if q.notebook})
        if notebook not in known:
            raise ValueError(
                f"notebook={notebook!r} is not allowed: no question links to it. "
                f"Notebooks with questions: {_allowed(known)}."
            )
    chosen = [
        q
        for q in questions
        if (not checkable_only or q.checkable)
        and (topic_set is None or set(q.topics) & set(topic_set))
        and (levels is None or q.difficulty in levels)
        and (notebook is None or q.notebook == notebook)
    ]
    if not chosen:
        raise ValueError(
            f"no question matches topics={topics!r}, difficulty={difficulty!r}, "
            f"notebook={notebook!r}: widen the filter."
        )
    random.Random(seed).shuffle(chosen)
    return chosen if n is None else chosen[:n]
