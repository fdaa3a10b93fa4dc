"""Interview questions as quizzes: load the bank, check answers, quiz in a notebook or a terminal.

The bank (``interview_questions/bank.yaml``) is the single source; see
:mod:`hpcourse.quiz.bank`. Front ends:

* ``quiz_widget(topics=None, difficulty=None, n=None, seed=0)``: an ipywidgets quiz
  over the whole bank, with filters the learner can change;
* ``notebook_quiz("02_learning_rate", n=3)``: the questions one notebook demonstrates;
* ``python -m hpcourse.quiz --level medium --topic learning_rate``: the terminal quiz;
  ``--review`` asks the questions due for spaced repetition first, ``--reset`` forgets;
* ``python -m hpcourse.quiz.render [--check]``: the Markdown files, answers folded.

Both quizzes remember first attempts in a practice record in the learner's cache
folder (:mod:`hpcourse.quiz.practice`).

The widget functions import ipywidgets only when called, so the terminal quiz and
the renderer start without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hpcourse.quiz.bank import DIFFICULTIES, TOPICS, BankError, Question, load_bank
from hpcourse.quiz.checking import AnswerFormatError, Result, Score, check_answer
from hpcourse.quiz.selection import select_questions

if TYPE_CHECKING:
    from hpcourse.quiz.widget import QuizWidget

__all__ = [
    "DIFFICULTIES",
    "TOPICS",
    "AnswerFormatError",
    "BankError",
    "Question",
    "Result",
    "Score",
    "check_answer",
    "load_bank",
    "notebook_quiz",
    "quiz_widget",
    "select_questions",
]


def quiz_widget(
    topics: str | Sequence[str] | None = None,
    difficulty: str | Sequence[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    remember: bool = True,
) -> QuizWidget:
    """An interview quiz widget over the whole bank; display it as a cell's last expression.

    ``topics`` and ``difficulty`` take one id or several (see ``TOPICS`` and
    ``DIFFICULTIES``); ``n`` caps the number of questions; ``seed`` fixes their order.
    First attempts are saved to the practice record unless ``remember=False``.
    Bad values raise ``ValueError`` naming the argument, the value and what is allowed.
    """
    from hpcourse.quiz.widget import quiz_widget as build

    return build(topics=topics, difficulty=difficulty, n=n, seed=seed, remember=remember)


def notebook_quiz(notebook: str, n: int = 3, seed: int = 0, remember: bool = True) -> QuizWidget:
    """A quiz of the checkable questions whose demo lives in ``notebook`` (e.g. "02_learning_rate").

    Raises ``ValueError`` if no question links to that notebook.
    """
    from hpcourse.quiz.widget import notebook_quiz as build

    return build(notebook, n=n, seed=seed, remember=remember)
