"""Grade answers and keep score, with no widgets and no terminal in sight.

Both front ends (the notebook widget and the terminal quiz) call these functions, so
what counts as a right answer is decided in one place and unit-tested directly.
Answers arrive as text typed by a person, so parsing is forgiving about case and
spaces but strict about anything ambiguous (a decimal comma is refused rather than
guessed at).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field

from hpcourse.quiz.bank import MultipleChoice, Numeric, Question


class AnswerFormatError(ValueError):
    """The typed answer could not be read (not a letter in range, not a number)."""


@dataclass(frozen=True)
class Result:
    """The verdict on one answer.

    ``feedback`` explains this particular answer (the chosen option's feedback, or
    the note attached to a common numeric slip); ``expected`` states the right
    answer in words so a front end can reveal it.
    """

    correct: bool
    feedback: str
    expected: str


def letter(index: int) -> str:
    """``0 -> "a"``: options are labelled with lower-case letters."""
    return string.ascii_lowercase[index]


def parse_choice(text: str, n_options: int) -> int:
    """Read ``"b"``, ``"B"``, ``" b) "`` or ``"2"`` (1-based) as the index of an option."""
    cleaned = text.strip().lower().rstrip(").").strip()
    letters = string.ascii_lowercase[:n_options]
    if len(cleaned) == 1 and cleaned in letters:
        return letters.index(cleaned)
    if cleaned.isdigit() and 1 <= int(cleaned) <= n_options:
        return int(cleaned) - 1
    allowed = ", ".join(letters)
    raise AnswerFormatError(f"{text.strip()!r} is not an option: type one of {allowed}.")


def parse_number(text: str, *, allow_percent: bool = False) -> float:
    """Read a typed number such as ``"391"``, ``"0.25"``, ``"1e-3"`` or (for shares) ``"90%"``."""
    cleaned = text.strip().replace(" ", "").replace("_", "")
    if "," in cleaned:
        raise AnswerFormatError(
            f"{text.strip()!r} contains a comma: use a dot for decimals and no thousands "
            "separator (e.g. 9610 or 0.25)."
        )
    scale = 1.0
    if cleaned.endswith("%"):
        if not allow_percent:
            raise AnswerFormatError(f"{text.strip()!r}: this answer is not a percentage.")
        cleaned, scale = cleaned[:-1], 0.01
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise AnswerFormatError(f"{text.strip()!r} is not a number.") from None
    if not math.isfinite(value):
        raise AnswerFormatError(f"{text.strip()!r} is not a finite number.")
    return value


def format_number(value: float) -> str:
    """Short, exact-looking text for a number: ``9610``, ``0.25``, ``0.0001``, ``2.303``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def expected_text(quiz: MultipleChoice | Numeric) -> str:
    """The right answer in words, as revealed after a check."""
    if isinstance(quiz, MultipleChoice):
        index = quiz.correct_index
        return f"{letter(index)}) {quiz.options[index].text}"
    unit = "" if quiz.unit in ("", "fraction", "number") else f" {quiz.unit}"
    return f"{format_number(quiz.answer)}{unit} (accepted within ±{format_number(quiz.tolerance)})"


def answer_hint(quiz: MultipleChoice | Numeric) -> str:
    """What kind of answer to type, e.g. ``"a letter a-d"`` or ``"a number of steps"``."""
    if isinstance(quiz, MultipleChoice):
        return f"a letter a-{letter(len(quiz.options) - 1)}"
    if quiz.unit == "fraction":
        return "a fraction such as 0.25 (or 25%)"
    if quiz.unit == "number":
        return "a number"
    return f"a number of {quiz.unit}"


def check_choice(quiz: MultipleChoice, index: int) -> Result:
    """Grade the option at ``index`` (0-based)."""
    if not 0 <= index < len(quiz.options):
        raise AnswerFormatError(f"option index {index} is out of range 0..{len(quiz.options) - 1}")
    option = quiz.options[index]
    return Result(correct=option.correct, feedback=option.feedback, expected=expected_text(quiz))


def check_number(quiz: Numeric, value: float) -> Result:
    """Grade a numeric answer: right within the tolerance, else explain the closest known slip."""
    expected = expected_text(quiz)
    if abs(value - quiz.answer) <= quiz.tolerance:
        return Result(
            correct=True,
            feedback=f"{format_number(value)} is within the tolerance.",
            expected=expected,
        )
    near = [m for m in quiz.mistakes if abs(value - m.value) <= quiz.tolerance]
    if near:
        closest = min(near, key=lambda m: abs(value - m.value))
        return Result(correct=False, feedback=closest.feedback, expected=expected)
    direction = "high" if value > quiz.answer else "low"
    return Result(
        correct=False, feedback=f"{format_number(value)} is too {direction}.", expected=expected
    )


def check_answer(question: Question, response: str | int | float) -> Result:
    """Grade a typed ``response`` (text) or an already-parsed one (option index or number).

    Raises :class:`AnswerFormatError` for unreadable text and ``ValueError`` for a
    question without a quiz form.
    """
    quiz = question.quiz
    if quiz is None:
        raise ValueError(f"question {question.id!r} has no quiz form, so it cannot be checked")
    if isinstance(quiz, MultipleChoice):
        index = parse_choice(response, len(quiz.options)) if isinstance(response, str) else response
        return check_choice(quiz, int(index))
    value = (
        parse_number(response, allow_percent=quiz.accepts_percent)
        if isinstance(response, str)
        else float(response)
    )
    return check_number(quiz, value)


@dataclass
class Score:
    """Right answers out of questions answered; only the first attempt at a question counts.

    Letting a retry overwrite a miss would make the score meaningless once the
    answer has been revealed, so later attempts are graded but not recorded.
    """

    results: dict[str, bool] = field(default_factory=dict)

    def record(self, question_id: str, result: Result) -> bool:
        """Count ``result`` if it is the first attempt at ``question_id``; return whether it was."""
        if question_id in self.results:
            return False
        self.results[question_id] = result.correct
        return True

    @property
    def answered(self) -> int:
        return len(self.results)

    @property
    def correct(self) -> int:
        return sum(self.results.values())

    def __str__(self) -> str:
        return f"{self.correct} / {self.answered}"
