"""The quiz as an ipywidgets panel for notebooks.

The widget only wires controls to the plain functions in ``selection`` and
``checking``: it never decides itself whether an answer is right. Its controls are
public attributes (``choices``, ``number``, ``check_button`` and so on) so tests can
drive it the way a learner would: pick an option, press *Check*, read the score.

First attempts also go into the learner's practice record
(:mod:`hpcourse.quiz.practice`), the same file the terminal quiz uses, so
``python -m hpcourse.quiz --review`` later asks what was missed here. The record is
read only when the first answer is checked, so displaying a quiz touches no file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import ipywidgets as widgets
from IPython.display import Markdown

from hpcourse.quiz.bank import DIFFICULTIES, TOPICS, MultipleChoice, Question, load_bank
from hpcourse.quiz.checking import (
    AnswerFormatError,
    Result,
    Score,
    answer_hint,
    check_answer,
    letter,
)
from hpcourse.quiz.practice import PracticeRecord
from hpcourse.quiz.selection import normalize_choices, select_questions

_CODE = re.compile(r"`([^`]+)`")

#: The filter value meaning "no filter".
ALL = "all"


def _unless_all(value: tuple[str, ...] | str) -> tuple[str, ...] | None:
    return None if isinstance(value, str) else value


def inline_html(text: str) -> str:
    """Escape ``text`` for HTML and keep its inline code spans readable."""
    escaped = html.escape(" ".join(text.split()))
    return _CODE.sub(r"<code>\1</code>", escaped)


class QuizWidget(widgets.VBox):
    """A quiz over ``pool``: optional topic/difficulty/seed filters, one question at a time.

    ``pool`` holds every question the filters may choose from; ``topics``,
    ``difficulty``, ``n`` and ``seed`` set the first selection. The score counts the
    first attempt at each question and survives filter changes. With ``remember``, each
    first attempt is saved to the practice record; problems with the record are shown
    in ``practice_note`` and never stop the quiz.
    """

    def __init__(
        self,
        pool: Sequence[Question],
        *,
        title: str,
        topics: tuple[str, ...] | None = None,
        difficulty: tuple[str, ...] | None = None,
        n: int | None = None,
        seed: int = 0,
        show_filters: bool = True,
        remember: bool = True,
    ) -> None:
        self.pool = list(pool)
        self.remember = remember
        self.record: PracticeRecord | None = None
        self.n = n
        self.score = Score()
        self.questions: list[Question] = []
        self.index = 0
        self.last_result: Result | None = None

        self.heading = widgets.HTML(f"<h3>{html.escape(title)}</h3>")
        # Dropdown values: ALL or a tuple of ids (a None value would show as a blank box).
        topic_options: list[tuple[str, tuple[str, ...] | str]] = [("All topics", ALL)]
        if topics is not None and len(topics) > 1:
            topic_options.append(("Chosen: " + ", ".join(TOPICS[t] for t in topics), topics))
        topic_options += [(label, (topic,)) for topic, label in TOPICS.items()]
        self.topic_filter = widgets.Dropdown(
            options=topic_options, value=topics or ALL, description="Topic"
        )
        level_options: list[tuple[str, tuple[str, ...] | str]] = [("All levels", ALL)]
        level_options += [(d, (d,)) for d in DIFFICULTIES]
        if difficulty is not None and len(difficulty) > 1:
            level_options.append(("Chosen: " + ", ".join(difficulty), difficulty))
        self.level_filter = widgets.Dropdown(
            options=level_options, value=difficulty or ALL, description="Level"
        )
        self.seed_box = widgets.IntText(value=seed, description="Seed", layout={"width": "160px"})
        filters = widgets.HBox([self.topic_filter, self.level_filter, self.seed_box])
        filters.layout.display = None if show_filters else "none"

        self.progress = widgets.HTML()
        self.prompt = widgets.HTML()
        # Option texts can be long, so they are shown as HTML (which wraps) and the
        # buttons carry only the letters.
        self.choices = widgets.ToggleButtons(
            options=[], value=None, description="Answer", style={"button_width": "48px"}
        )
        self.number = widgets.Text(description="Answer", layout={"width": "420px"})
        self.answer_box = widgets.VBox()
        self.check_button = widgets.Button(description="Check", button_style="primary")
        self.previous_button = widgets.Button(description="◀ Previous")
        self.next_button = widgets.Button(description="Next ▶")
        self.feedback = widgets.HTML()
        self.full_answer = widgets.Output()
        self.score_label = widgets.HTML()
        self.practice_note = widgets.HTML()

        self.check_button.on_click(lambda _: self.check())
        self.next_button.on_click(lambda _: self.go(self.index + 1))
        self.previous_button.on_click(lambda _: self.go(self.index - 1))
        for control in (self.topic_filter, self.level_filter, self.seed_box):
            control.observe(lambda _: self.apply_filters(), names="value")

        super().__init__(
            [
                self.heading,
                filters,
                self.progress,
                self.prompt,
                self.answer_box,
                widgets.HBox([self.previous_button, self.check_button, self.next_button]),
                self.feedback,
                self.full_answer,
                self.score_label,
                self.practice_note,
            ]
        )
        self.apply_filters()

    @property
    def current(self) -> Question | None:
        return self.questions[self.index] if self.questions else None

    def apply_filters(self) -> None:
        """Re-select questions from the filter controls and show the first one."""
        try:
            self.questions = select_questions(
                self.pool,
                topics=_unless_all(self.topic_filter.value),
                difficulty=_unless_all(self.level_filter.value),
                n=self.n,
                seed=self.seed_box.value,
            )
        except ValueError as error:
            self.questions = []
            self.progress.value = f"<i>{html.escape(str(error))}</i>"
        self.go(0)

    def go(self, index: int) -> None:
        """Show question ``index`` (clamped to the list), with a fresh answer area."""
        self.index = max(0, min(index, len(self.questions) - 1))
        self.feedback.value = ""
        self.full_answer.outputs = ()
        self.last_result = None
        question = self.current
        self.previous_button.disabled = question is None or self.index == 0
        self.next_button.disabled = question is None or self.index >= len(self.questions) - 1
        self.check_button.disabled = question is None
        self._update_score()
        if question is None:
            self.prompt.value = ""
            self.answer_box.children = ()
            return
        topics = ", ".join(TOPICS[t] for t in question.topics)
        self.progress.value = (
            f"Question {self.index + 1} of {len(self.questions)} · "
            f"<b>{question.difficulty}</b> · {html.escape(topics)}"
        )
        prompt = f"<p style='font-size:1.1em'>{inline_html(question.question)}</p>"
        if isinstance(question.quiz, MultipleChoice):
            options = question.quiz.options
            prompt += "".join(
                f"<p style='margin:0.3em 0 0.3em 1em'><b>{letter(i)})</b> {inline_html(o.text)}</p>"
                for i, o in enumerate(options)
            )
            self.choices.options = [(letter(i), i) for i in range(len(options))]
            self.choices.value = None
            self.answer_box.children = (self.choices,)
        elif question.quiz is not None:
            self.number.value = ""
            self.number.placeholder = answer_hint(question.quiz)
            self.answer_box.children = (self.number,)
        self.prompt.value = prompt

    def check(self) -> Result | None:
        """Grade the current answer, show feedback and the full answer, update the score."""
        question = self.current
        if question is None:
            return None
        if isinstance(question.quiz, MultipleChoice):
            if self.choices.value is None:
                self.feedback.value = "<i>Pick an option first.</i>"
                return None
            response: str | int = self.choices.value
        else:
            response = self.number.value
        try:
            result = check_answer(question, response)
        except AnswerFormatError as error:
            self.feedback.value = f"<i>{html.escape(str(error))}</i>"
            return None
        counted = self.score.record(question.id, result)
        if counted and self.remember:
            self._remember(question.id, result.correct)
        verdict = (
            "<b style='color:#1a7f37'>Correct.</b>"
            if result.correct
            else f"<b style='color:#cf222e'>Not quite.</b> The answer is "
            f"{inline_html(result.expected.rstrip('.'))}."
        )
        note = "" if counted else " <i>(retry: the score keeps your first attempt)</i>"
        self.feedback.value = (
            f"{verdict} {inline_html(result.feedback)}{note}"
            f"<br><b>Short answer.</b> {inline_html(question.short_answer)}"
        )
        self.full_answer.outputs = ()
        self.full_answer.append_display_data(Markdown(question.full_answer))
        self.last_result = result
        self._update_score()
        return result

    def _remember(self, question_id: str, correct: bool) -> None:
        """Save a first attempt to the practice record; show, never raise, any problem."""
        notes = []
        if self.record is None:
            self.record = PracticeRecord.load()
            if self.record.note:
                notes.append(self.record.note)
        self.record.record(question_id, correct)
        warning = self.record.save()
        if warning:
            notes.append(warning + " The quiz goes on without saving.")
        if notes:
            self.practice_note.value = f"<i>{html.escape(' '.join(notes))}</i>"

    def _update_score(self) -> None:
        self.score_label.value = (
            f"<b>Score: {self.score}</b> (first attempts, across every filter you tried)"
        )


def quiz_widget(
    topics: str | Sequence[str] | None = None,
    difficulty: str | Sequence[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    remember: bool = True,
) -> QuizWidget:
    """A quiz over the whole bank, starting from the given filters (the learner can change them).

    ``remember=False`` leaves the practice record alone.

    >>> quiz_widget(topics="learning_rate", difficulty="easy", n=5)  # doctest: +SKIP
    """
    bank = load_bank()
    topic_tuple = normalize_choices("topics", topics, list(TOPICS))
    level_tuple = normalize_choices("difficulty", difficulty, DIFFICULTIES)
    # Validate n and seed, and fail now if the filters match nothing.
    select_questions(bank, topics=topic_tuple, difficulty=level_tuple, n=n, seed=seed)
    return QuizWidget(
        bank,
        title="Interview quiz",
        topics=topic_tuple,
        difficulty=level_tuple,
        n=n,
        seed=seed,
        remember=remember,
    )


def notebook_quiz(notebook: str, n: int = 3, seed: int = 0, remember: bool = True) -> QuizWidget:
    """A short quiz of the checkable questions demonstrated in ``notebook`` ("02_learning_rate")."""
    if not isinstance(notebook, str):
        raise ValueError(
            f"notebook={notebook!r} is not allowed: give a notebook name, e.g. '02_learning_rate'."
        )
    notebook = notebook.removesuffix(".ipynb")
    bank = load_bank()
    pool = select_questions(bank, notebook=notebook, n=None, seed=seed)
    select_questions(pool, n=n, seed=seed)  # validates n and seed with the same messages
    return QuizWidget(
        pool,
        title=f"Quiz: {notebook}",
        n=n,
        seed=seed,
        show_filters=False,
        remember=remember,
    )
