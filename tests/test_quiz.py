"""The quiz logic (checking, scoring, selection) and its two front ends (widget, terminal)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hpcourse.quiz as quiz
from hpcourse.quiz.bank import MultipleChoice, Numeric, load_bank
from hpcourse.quiz.checking import (
    AnswerFormatError,
    Result,
    Score,
    check_answer,
    parse_choice,
    parse_number,
)
from hpcourse.quiz.selection import select_questions
from hpcourse.quiz.terminal import main as terminal_main
from hpcourse.quiz.terminal import run_quiz

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Quizzes save a practice record in the cache folder: keep it out of the real one."""
    monkeypatch.setenv("HPCOURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def first(bank, kind, **filters):
    """The first question (after selection with ``filters``) whose quiz is of ``kind``."""
    return next(q for q in select_questions(bank, **filters) if isinstance(q.quiz, kind))


def right_answer(question) -> str:
    """What a learner who knows the answer would type."""
    if isinstance(question.quiz, MultipleChoice):
        return "abcde"[question.quiz.correct_index]
    return repr(question.quiz.answer)


def wrong_answer(question) -> str:
    if isinstance(question.quiz, MultipleChoice):
        return "abcde"[(question.quiz.correct_index + 1) % len(question.quiz.options)]
    return repr(question.quiz.answer + 10 * question.quiz.tolerance + abs(question.quiz.answer))


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("text, index", [("b", 1), ("B", 1), (" c) ", 2), ("a.", 0), ("4", 3)])
def test_parse_choice_reads_letters_and_numbers(text, index):
    assert parse_choice(text, 4) == index


@pytest.mark.parametrize("text", ["e", "0", "5", "ab", "", "yes"])
def test_parse_choice_rejects_what_is_not_an_option(text):
    with pytest.raises(AnswerFormatError, match="a, b, c, d"):
        parse_choice(text, 4)


@pytest.mark.parametrize(
    "text, value", [("391", 391), (" 0.25 ", 0.25), ("1e-3", 0.001), ("15_625", 15625), ("-2", -2)]
)
def test_parse_number_reads_plain_numbers(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_parse_number_percent_only_where_allowed():
    assert parse_number("90%", allow_percent=True) == pytest.approx(0.9)
    with pytest.raises(AnswerFormatError, match="not a percentage"):
        parse_number("90%")


@pytest.mark.parametrize(
    "text, message", [("0,5", "comma"), ("ten", "not a number"), ("inf", "finite")]
)
def test_parse_number_rejects_ambiguous_or_invalid_text(text, message):
    with pytest.raises(AnswerFormatError, match=message):
        parse_number(text)


# --------------------------------------------------------------------------- checking and score


def test_check_answer_multiple_choice_gives_option_feedback(bank):
    q = first(bank, MultipleChoice)
    good = check_answer(q, right_answer(q))
    bad = check_answer(q, wrong_answer(q))
    assert good.correct and not bad.correct
    assert bad.feedback == q.quiz.options[parse_choice(wrong_answer(q), 4)].feedback
    assert bad.expected.startswith(right_answer(q) + ")")


def test_check_answer_numeric_uses_tolerance_and_mistake_feedback(bank):
    q = next(q for q in bank if q.id == "steps-per-epoch")
    assert check_answer(q, "391").correct
    assert check_answer(q, 391.2).correct
    result = check_answer(q, "390")
    assert not result.correct and "drop_last" in result.feedback
    assert "too high" in check_answer(q, "500").feedback


def test_check_answer_fraction_accepts_percent(bank):
    q = next(q for q in bank if q.id == "uniform-share-top-decade")
    assert check_answer(q, "90%").correct
    assert not check_answer(q, "25%").correct


def test_score_counts_only_first_attempts():
    score = Score()
    assert score.record("q1", Result(False, "no", "x"))
    assert not score.record("q1", Result(True, "yes", "x"))
    assert score.record("q2", Result(True, "yes", "x"))
    assert (score.correct, score.answered, str(score)) == (1, 2, "1 / 2")


# --------------------------------------------------------------------------- selection


def test_select_filters_by_topic_difficulty_and_notebook(bank):
    chosen = select_questions(bank, topics="learning_rate", difficulty="easy")
    assert chosen and all("learning_rate" in q.topics and q.difficulty == "easy" for q in chosen)
    several = select_questions(
        bank, topics=["dropout", "weight_decay"], difficulty=("medium", "hard")
    )
    assert {t for q in several for t in q.topics} & {"dropout", "weight_decay"}
    assert all(
        q.notebook == "03_batch_size" for q in select_questions(bank, notebook="03_batch_size")
    )


def test_select_shuffles_reproducibly_with_a_seed(bank):
    a = [q.id for q in select_questions(bank, seed=1)]
    assert a == [q.id for q in select_questions(bank, seed=1)]
    assert a != [q.id for q in select_questions(bank, seed=2)]
    assert sorted(a) == sorted(q.id for q in bank if q.checkable)
    assert len(select_questions(bank, n=5, seed=1)) == 5


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"topics": "learning_rates"}, "topics='learning_rates' is not allowed"),
        ({"topics": []}, "topics=[] is not allowed"),
        ({"topics": 5}, "topics=5 is not allowed"),
        ({"difficulty": "expert"}, "difficulty='expert' is not allowed"),
        ({"n": 0}, "n=0 is not allowed"),
        ({"n": 2.5}, "n=2.5 is not allowed"),
        ({"seed": "zero"}, "seed='zero' is not allowed"),
        ({"notebook": "99_missing"}, "notebook='99_missing' is not allowed"),
    ],
)
def test_select_rejects_bad_arguments_naming_them(bank, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        select_questions(bank, **kwargs)


def test_bad_topic_message_lists_allowed_values(bank):
    with pytest.raises(ValueError) as error:
        select_questions(bank, topics="lr")
    assert "'learning_rate'" in str(error.value) and "'gradient_noise_scale'" in str(error.value)


# --------------------------------------------------------------------------- widget


def test_quiz_widget_check_updates_score_feedback_and_full_answer():
    widget = quiz.quiz_widget(topics="learning_rate", difficulty="easy", n=3, seed=0)
    assert len(widget.questions) == 3
    # Answer every question right on the first try, walking with the Next button.
    for i in range(3):
        q = widget.current
        if isinstance(q.quiz, MultipleChoice):
            widget.choices.value = q.quiz.correct_index
        else:
            widget.number.value = right_answer(q)
        widget.check_button.click()
        assert "Correct." in widget.feedback.value
        shown = widget.full_answer.outputs[0]["data"]["text/markdown"]
        assert shown == q.full_answer
        assert f"Score: {i + 1} / {i + 1}" in widget.score_label.value
        widget.next_button.click()
    assert widget.next_button.disabled


def test_quiz_widget_wrong_answer_then_retry_keeps_first_attempt():
    widget = quiz.quiz_widget(topics="learning_rate", difficulty="easy", seed=0)
    q = widget.current
    if isinstance(q.quiz, MultipleChoice):
        widget.choices.value = (q.quiz.correct_index + 1) % len(q.quiz.options)
        wrong_feedback = q.quiz.options[widget.choices.value].feedback
    else:
        widget.number.value = wrong_answer(q)
        wrong_feedback = "too"
    widget.check_button.click()
    assert "Not quite." in widget.feedback.value
    assert wrong_feedback.split()[0] in widget.feedback.value
    assert "Score: 0 / 1" in widget.score_label.value
    if isinstance(q.quiz, MultipleChoice):
        widget.choices.value = q.quiz.correct_index
    else:
        widget.number.value = right_answer(q)
    widget.check_button.click()
    assert "retry" in widget.feedback.value
    assert "Score: 0 / 1" in widget.score_label.value


def test_quiz_widget_check_without_answer_asks_for_one():
    widget = quiz.quiz_widget(seed=3)
    q = widget.current
    before = str(widget.score)
    widget.check_button.click()
    expected = "Pick an option" if isinstance(q.quiz, MultipleChoice) else "not a number"
    assert expected in widget.feedback.value
    assert str(widget.score) == before


def test_quiz_widget_numeric_question_reads_typed_text(bank):
    widget = quiz.quiz_widget(topics="batch_size", difficulty="easy", seed=0)
    target = next(i for i, q in enumerate(widget.questions) if isinstance(q.quiz, Numeric))
    widget.go(target)
    widget.number.value = "0,5"
    widget.check_button.click()
    assert "comma" in widget.feedback.value and widget.score.answered == 0
    widget.number.value = right_answer(widget.current)
    widget.check_button.click()
    assert widget.score.correct == 1


def test_quiz_widget_filters_and_seed_reselect_questions():
    widget = quiz.quiz_widget(seed=0)
    widget.level_filter.value = ("hard",)
    assert widget.questions and all(q.difficulty == "hard" for q in widget.questions)
    widget.topic_filter.value = ("dropout",)
    assert all("dropout" in q.topics for q in widget.questions)
    order = [q.id for q in widget.questions]
    widget.topic_filter.value = "all"
    widget.seed_box.value = 7
    assert [q.id for q in widget.questions] != order


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"topics": "nope"}, "topics='nope'"),
        ({"difficulty": "expert"}, "difficulty='expert'"),
        ({"n": 0}, "n=0"),
    ],
)
def test_quiz_widget_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        quiz.quiz_widget(**kwargs)


def test_notebook_quiz_uses_only_that_notebooks_questions():
    widget = quiz.notebook_quiz("02_learning_rate", n=3, seed=1)
    assert len(widget.questions) == 3
    assert all(q.notebook == "02_learning_rate" for q in widget.questions)
    assert widget.children[1].layout.display == "none"  # no filters in a lesson quiz


def test_notebook_quiz_unknown_notebook_is_a_clear_error():
    with pytest.raises(ValueError, match="notebook='42_nothing' is not allowed.*02_learning_rate"):
        quiz.notebook_quiz("42_nothing")


# --------------------------------------------------------------------------- terminal


def test_run_quiz_scores_right_answers_after_a_typo(bank):
    questions = select_questions(bank, difficulty="medium", topics="learning_rate", n=3, seed=0)
    answers = ["???"] + [right_answer(q) for q in questions]
    out = io.StringIO()
    score = run_quiz(questions, io.StringIO("\n".join(answers) + "\n"), out)
    text = out.getvalue()
    assert (score.correct, score.answered) == (3, 3)
    assert "Score: 3 / 3 correct." in text
    assert "not" in text.split("[1/3]")[1]  # the typo got a message, then a new prompt
    assert all(q.short_answer.split()[0] in text for q in questions)


def test_run_quiz_stops_cleanly_at_end_of_input(bank):
    questions = select_questions(bank, difficulty="easy", n=3, seed=0)
    out = io.StringIO()
    score = run_quiz(questions, io.StringIO(wrong_answer(questions[0]) + "\n"), out)
    assert (score.correct, score.answered) == (0, 1)
    assert "Not quite." in out.getvalue()
    assert "Score: 0 / 1 correct (answered 1 of 3 questions)." in out.getvalue()


def test_run_quiz_q_quits(bank):
    questions = select_questions(bank, n=2, seed=0)
    out = io.StringIO()
    score = run_quiz(questions, io.StringIO("q\n"), out)
    assert score.answered == 0 and "Stopping early." in out.getvalue()


def test_terminal_main_rejects_unknown_topic(capsys):
    with pytest.raises(SystemExit) as exit_info:
        terminal_main(["--topic", "learning_rates"])
    assert exit_info.value.code == 2
    assert "learning_rate" in capsys.readouterr().err


def test_terminal_main_rejects_n_below_one(capsys):
    with pytest.raises(SystemExit):
        terminal_main(["--n", "0"], stdin=io.StringIO(""), stdout=io.StringIO())
    assert "n=0 is not allowed" in capsys.readouterr().err


def test_terminal_list_topics():
    out = io.StringIO()
    assert terminal_main(["--list-topics"], stdout=out) == 0
    assert "gradient_noise_scale" in out.getvalue()


def test_python_dash_m_quiz_reads_stdin(bank):
    """The real entry point, in a subprocess, fed by a pipe."""
    questions = select_questions(bank, difficulty="easy", topics="learning_rate", n=2, seed=0)
    answers = "\n".join(right_answer(q) for q in questions) + "\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "hpcourse.quiz", "--level", "easy", "--topic", "learning_rate",
         "--n", "2", "--seed", "0"],
        input=answers, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Score: 2 / 2 correct." in done.stdout
    assert questions[0].id in done.stdout  # the "More:" link names the question
