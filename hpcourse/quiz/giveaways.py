"""Measure whether a multiple-choice item can be answered without knowing the subject.

Test-wise candidates use two surface cues: the right option is the *longest* one (the
author qualified it carefully), and it is the *only hedged* one ("usually", "about")
while the distractors say "always", "never" or "only". If either cue predicts the key
more often than chance, the quiz measures test-taking skill instead of knowledge.

For an item with ``k`` options and no such signal, each cue points at the key with
probability ``1/k``. Summed over items, that gives the expected number of "hits" and,
treating items as independent, a Poisson-binomial variance. :func:`audit` returns the
observed counts beside those expectations, and :func:`within_chance` says whether an
observed count lies within ``z`` standard deviations of chance, in either direction:
a bank whose key is *never* the longest leaks as much as one where it always is.

>>> hedged("It usually helps."), hedged("It always helps.")
(True, False)
>>> absolute("It always helps."), absolute("It usually helps.")
(True, False)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hpcourse.quiz.bank import MultipleChoice, Question

#: Words that qualify a claim: the tell-tale of a carefully written key.
HEDGES = re.compile(
    r"\b(usually|often|typically|generally|mostly|largely|roughly|about|approximately|"
    r"around|tends?|may|might|can|could|likely|partly|partially|somewhat|sometimes|rarely|"
    r"seldom|depends?|depending|in practice|in most cases|up to a point|within limits)\b",
    re.IGNORECASE,
)

#: Words that make a claim absolute: the tell-tale of a careless distractor.
ABSOLUTES = re.compile(
    r"\b(always|never|only|must|cannot|can't|all|every|none|nothing|exactly|entirely|"
    r"completely|guaranteed?|impossible|whatever|regardless)\b",
    re.IGNORECASE,
)


def hedged(text: str) -> bool:
    """True when ``text`` contains a hedge word such as "usually" or "about"."""
    return HEDGES.search(text) is not None


def absolute(text: str) -> bool:
    """True when ``text`` contains an absolute word such as "always" or "never"."""
    return ABSOLUTES.search(text) is not None


def longest_share(quiz: MultipleChoice) -> float:
    """1 if the key is strictly the longest option, 1/t if it ties with t-1 others, else 0."""
    lengths = [len(" ".join(option.text.split())) for option in quiz.options]
    longest = max(lengths)
    if lengths[quiz.correct_index] != longest:
        return 0.0
    return 1.0 / lengths.count(longest)


def _only(quiz: MultipleChoice, cue: Callable[[str], bool]) -> tuple[bool, bool]:
    """(exactly one option shows the cue, and that option is the key)."""
    flags = [cue(option.text) for option in quiz.options]
    single = flags.count(True) == 1
    return single, single and flags[quiz.correct_index]


@dataclass(frozen=True)
class Cue:
    """How often one cue points at the key, against what chance predicts.

    ``items`` counts the items where the cue points at exactly one option (for the
    length cue: every item); ``hits`` counts those where that option is the key;
    ``expected`` and ``variance`` are the chance values, the sum of 1/k and of
    (1/k)(1 - 1/k) over those items.
    """

    name: str
    items: int
    hits: float
    expected: float
    variance: float
    total: int

    @property
    def share(self) -> float:
        """Hits as a share of every multiple-choice item (what a blind candidate gains)."""
        return self.hits / self.total if self.total else 0.0

    @property
    def chance_share(self) -> float:
        return self.expected / self.total if self.total else 0.0

    def z(self) -> float:
        """How many standard deviations the hits lie from chance (0 when nothing to test)."""
        return (self.hits - self.expected) / math.sqrt(self.variance) if self.variance else 0.0

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.hits:g} of {self.total} items ({self.share:.0%}); "
            f"chance {self.expected:.1f} ({self.chance_share:.0%}), z = {self.z():+.2f}"
        )


def _cue(name: str, quizzes: Sequence[MultipleChoice], rows: list[tuple[bool, float]]) -> Cue:
    hits = expected = variance = 0.0
    items = 0
    for quiz, (counts, hit) in zip(quizzes, rows, strict=True):
        if not counts:
            continue
        p = 1.0 / len(quiz.options)
        items += 1
        hits += hit
        expected += p
        variance += p * (1.0 - p)
    return Cue(name, items, hits, expected, variance, total=len(quizzes))


def blind_pick(quiz: MultipleChoice) -> int:
    """The option a test-wise candidate picks without reading the question.

    The only hedged option if there is one; else the only option free of absolute
    words; else the longest (the first of equals).
    """
    texts = [option.text for option in quiz.options]
    hedges = [i for i, text in enumerate(texts) if hedged(text)]
    if len(hedges) == 1:
        return hedges[0]
    plain = [i for i, text in enumerate(texts) if not absolute(text)]
    if len(plain) == 1:
        return plain[0]
    lengths = [len(" ".join(text.split())) for text in texts]
    return lengths.index(max(lengths))


def audit(questions: Sequence[Question]) -> dict[str, Cue]:
    """Each cue's hits against chance, over the bank's multiple-choice items.

    Keys: ``longest`` (the key is the longest option), ``only_hedged`` (the key is the
    single hedged option), ``only_unqualified`` (the key is the single option without an
    absolute word) and ``blind`` (the score of :func:`blind_pick`).
    """
    quizzes = [q.quiz for q in questions if isinstance(q.quiz, MultipleChoice)]
    return {
        "longest": _cue("longest", quizzes, [(True, longest_share(q)) for q in quizzes]),
        "only_hedged": _cue("only hedged", quizzes, [_only(q, hedged) for q in quizzes]),
        "only_unqualified": _cue(
            "only without absolutes",
            quizzes,
            [_only(q, lambda t: not absolute(t)) for q in quizzes],
        ),
        "blind": _cue(
            "blind pick", quizzes, [(True, blind_pick(q) == q.correct_index) for q in quizzes]
        ),
    }


def within_chance(cue: Cue, z: float = 2.0) -> bool:
    """True when the observed hits lie within ``z`` standard deviations of chance."""
    return abs(cue.hits - cue.expected) <= z * math.sqrt(cue.variance)
