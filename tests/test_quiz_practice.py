"""Spaced repetition: the practice record, its file handling, and both quizzes using it."""

from __future__ import annotations

import io
import json
import os

import pytest

import hpcourse.quiz as quiz
from hpcourse.quiz import practice
from hpcourse.quiz.bank import MultipleChoice, load_bank
from hpcourse.quiz.checking import letter
from hpcourse.quiz.practice import (
    DAY,
    FILE_NAME,
    INTERVAL_DAYS,
    TOP_BOX,
    Card,
    PracticeRecord,
    default_path,
    strengths_and_gaps,
)
from hpcourse.quiz.selection import select_questions
from hpcourse.quiz.terminal import main as terminal_main

NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder; the learner's real record is never touched."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HPCOURSE_CACHE", str(folder))
    return folder


def right(question) -> str:
    if isinstance(question.quiz, MultipleChoice):
        return letter(question.quiz.correct_index)
    return repr(question.quiz.answer)


def wrong(question) -> str:
    if isinstance(question.quiz, MultipleChoice):
        return letter((question.quiz.correct_index + 1) % len(question.quiz.options))
    return repr(question.quiz.answer + 10 * question.quiz.tolerance + abs(question.quiz.answer))


def checkable(bank, n: int):
    return [q for q in bank if q.checkable][:n]


def answers_for(bank, level: str, n: int, seed: int = 0, grade=None) -> str:
    """What a learner types for the questions the terminal quiz will ask (right by default)."""
    grade = grade or right
    return "".join(
        grade(q) + "\n" for q in select_questions(bank, difficulty=level, n=n, seed=seed)
    )


# --------------------------------------------------------------------------- scheduling


def test_the_record_lives_in_the_cache_folder(cache):
    assert default_path() == cache / FILE_NAME


def test_right_answers_climb_the_boxes_and_wrong_ones_start_over(tmp_path):
    record = PracticeRecord(tmp_path / "p.json")
    card = record.record("q", True, now=NOW)
    assert (card.box, card.due) == (2, NOW + INTERVAL_DAYS[2] * DAY)
    for _ in range(10):
        card = record.record("q", True, now=NOW)
    assert card.box == TOP_BOX and card.due == NOW + INTERVAL_DAYS[TOP_BOX] * DAY
    card = record.record("q", False, now=NOW + 5)
    assert (card.box, card.due, card.last_right) == (1, NOW + 5, False)
    assert (card.seen, card.right) == (12, 11)


def test_review_order_puts_due_questions_first_then_new_then_later(bank, tmp_path):
    qs = checkable(bank, 6)
    record = PracticeRecord(tmp_path / "p.json")
    record.record(qs[0].id, True, now=NOW - 2 * DAY)  # box 2, due a day ago
    record.record(qs[1].id, False, now=NOW - DAY)  # box 1, due a day ago
    record.record(qs[2].id, True, now=NOW)  # box 2, due tomorrow
    ordered, counts = record.review_order(qs, seed=0, now=NOW)
    assert counts == {"due": 2, "new": 3, "later": 1}
    assert [q.id for q in ordered[:2]] == [qs[1].id, qs[0].id]  # the miss comes first
    assert {q.id for q in ordered[2:5]} == {q.id for q in qs[3:]}
    assert ordered[-1].id == qs[2].id
    again, _ = record.review_order(qs, seed=0, now=NOW)
    assert [q.id for q in again] == [q.id for q in ordered]  # the seed fixes the order


def test_topic_summary_and_strengths_and_gaps(bank, tmp_path):
    lr = [q for q in bank if "learning_rate" in q.topics and q.checkable][:3]
    drop = [q for q in bank if q.topics[0] == "dropout" and q.checkable][:2]
    record = PracticeRecord(tmp_path / "p.json")
    for q in lr:
        record.record(q.id, True, now=NOW)
    for q in drop:
        record.record(q.id, False, now=NOW)
    summaries = {s.topic: s for s in record.topic_summaries(bank, now=NOW)}
    assert (summaries["learning_rate"].practised, summaries["learning_rate"].right_last) == (3, 3)
    assert (summaries["dropout"].right_last, summaries["dropout"].due) == (0, 2)
    strengths, gaps = strengths_and_gaps(list(summaries.values()))
    assert "Learning rate" in strengths
    assert "Dropout" in gaps and "Learning rate" not in gaps


# --------------------------------------------------------------------------- the file


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "deep" / "p.json"
    record = PracticeRecord(path)
    record.record("a", True, now=NOW)
    record.record("b", False, now=NOW)
    assert record.save() is None
    loaded = PracticeRecord.load(path)
    assert loaded.note is None
    assert loaded.cards == record.cards
    raw = json.loads(path.read_text())
    assert raw["format"] == practice.FORMAT and set(raw["cards"]) == {"a", "b"}


def test_a_missing_file_is_a_quiet_fresh_start(tmp_path):
    record = PracticeRecord.load(tmp_path / "nothing-here.json")
    assert record.cards == {} and record.note is None


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": "hpcourse-quiz-progress", "version": 1, "cards": {"a": {"box": 2',
        '["a list", "not a record"]',
        '{"format": "something-else", "version": 1, "cards": {}}',
        '{"format": "hpcourse-quiz-progress", "version": 99, "cards": {}}',
        '{"format": "hpcourse-quiz-progress", "version": 1, "cards": []}',
    ],
    ids=["garbage", "truncated", "wrong-type", "wrong-format", "future-version", "bad-cards"],
)
def test_a_corrupt_file_is_set_aside_and_the_quiz_starts_fresh(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(content)
    record = PracticeRecord.load(path)
    assert record.cards == {}
    assert "starting fresh" in record.note and str(path) in record.note
    assert not path.exists()
    assert (tmp_path / "p.json.corrupt").read_text() == content
    record.record("a", True, now=NOW)
    assert record.save() is None
    assert PracticeRecord.load(path).cards.keys() == {"a"}


def test_unreadable_entries_are_dropped_and_reported(tmp_path):
    path = tmp_path / "p.json"
    good = {"box": 2, "due": NOW, "seen": 1, "right": 1, "last": NOW, "last_right": True}
    cards = {"good": good, "bad-box": {**good, "box": 9}, "bad-type": {**good, "seen": "1"}}
    path.write_text(json.dumps({"format": practice.FORMAT, "version": 1, "cards": cards}))
    record = PracticeRecord.load(path)
    assert set(record.cards) == {"good"} and record.cards["good"] == Card(**good)
    assert "Ignored 2 unreadable entries" in record.note


def test_an_interrupted_save_leaves_the_old_record_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    record = PracticeRecord(path)
    record.record("a", True, now=NOW)
    assert record.save() is None
    before = path.read_bytes()

    record.record("b", False, now=NOW)

    def crash(src, dst):
        raise KeyboardInterrupt  # the learner pressed Ctrl-C mid-save

    monkeypatch.setattr(practice.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        record.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]  # no temp file left


def test_a_failed_save_warns_instead_of_raising(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    record = PracticeRecord(path)
    record.record("a", True, now=NOW)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(practice.os, "fsync", disk_full)
    warning = record.save()
    assert "Could not save" in warning and "No space left" in warning
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_reset_forgets(tmp_path):
    path = tmp_path / "p.json"
    PracticeRecord(path).save()
    assert PracticeRecord.reset(path) is True
    assert not path.exists()
    assert PracticeRecord.reset(path) is False


# --------------------------------------------------------------------------- terminal quiz


def run_terminal(args, answers=""):
    out = io.StringIO()
    code = terminal_main(args, stdin=io.StringIO(answers), stdout=out, now=NOW)
    return code, out.getvalue()


def test_terminal_quiz_records_first_attempts_and_prints_a_summary(bank, cache):
    answers = answers_for(bank, "easy", 2)
    code, text = run_terminal(["--level", "easy", "--n", "2", "--seed", "0"], answers)
    assert code == 0
    record = PracticeRecord.load()
    assert len(record.cards) == 2 and record.note is None
    assert "Your practice record, by topic:" in text
    assert "Strengths:" in text and "Gaps to revisit:" in text


def test_review_asks_the_missed_question_first(bank, cache):
    first_two = [q for q in bank if q.difficulty == "easy" and q.checkable]
    miss, hit = first_two[0], first_two[1]
    record = PracticeRecord.load()
    record.record(hit.id, True, now=NOW - 3 * DAY)
    record.record(miss.id, False, now=NOW - DAY)
    assert record.save() is None
    code, text = run_terminal(["--review", "--level", "easy", "--n", "2"], wrong(miss) + "\n")
    assert code == 0
    assert "review: 2 due" in text
    first_question = text.split("[1/2]")[1]
    assert miss.question.split()[0] in first_question
    assert f"#{miss.id}" in first_question
    assert "2 question(s) due" in text


def test_review_with_nothing_due_asks_new_questions(cache):
    code, text = run_terminal(["--review", "--level", "hard", "--n", "1"], "q\n")
    assert code == 0 and "review: 0 due" in text and "[1/1]" in text


def test_a_corrupt_record_never_stops_the_terminal_quiz(bank, cache):
    cache.mkdir(parents=True)
    (cache / FILE_NAME).write_text("\x00\x01 not json at all")
    q = next(q for q in bank if q.difficulty == "easy" and q.checkable)
    code, text = run_terminal(["--level", "easy", "--n", "1", "--seed", "0"], right(q) + "\n")
    assert code == 0
    assert "is corrupt" in text and "starting fresh" in text
    assert "Score:" in text
    assert PracticeRecord.load().note is None  # a fresh, valid record was written
    assert (cache / (FILE_NAME + ".corrupt")).exists()


def test_an_unwritable_cache_never_stops_the_terminal_quiz(bank, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("HPCOURSE_CACHE", str(blocker))
    answers = answers_for(bank, "easy", 2)
    code, text = run_terminal(["--level", "easy", "--n", "2", "--seed", "0"], answers)
    assert code == 0
    assert text.count("Could not save your practice record") == 1  # warned once
    assert "Score: 2 / 2 correct." in text


def test_no_record_leaves_the_file_alone(bank, cache):
    answers = answers_for(bank, "easy", 1)
    code, text = run_terminal(["--level", "easy", "--n", "1", "--no-record"], answers)
    assert code == 0 and "Score: 1 / 1" in text and not (cache / FILE_NAME).exists()


def test_terminal_reset(bank, cache):
    code, text = run_terminal(["--reset"])
    assert code == 0 and "no practice record to forget" in text
    run_terminal(["--level", "easy", "--n", "1"], answers_for(bank, "easy", 1))
    assert (cache / FILE_NAME).exists()
    code, text = run_terminal(["--reset"])
    assert code == 0 and "Forgot your practice record" in text
    assert not (cache / FILE_NAME).exists()


# --------------------------------------------------------------------------- notebook quiz


def test_widget_saves_first_attempts_to_the_same_record(cache):
    widget = quiz.quiz_widget(difficulty="easy", n=2, seed=0)
    assert not (cache / FILE_NAME).exists()  # displaying a quiz touches no file
    q = widget.current
    if isinstance(q.quiz, MultipleChoice):
        widget.choices.value = q.quiz.correct_index
    else:
        widget.number.value = right(q)
    widget.check_button.click()
    widget.check_button.click()  # a retry is not recorded twice
    record = PracticeRecord.load()
    assert record.cards[q.id].seen == 1 and record.cards[q.id].last_right


def test_widget_with_remember_false_saves_nothing(cache):
    widget = quiz.quiz_widget(difficulty="easy", n=1, seed=0, remember=False)
    q = widget.current
    if isinstance(q.quiz, MultipleChoice):
        widget.choices.value = q.quiz.correct_index
    else:
        widget.number.value = right(q)
    widget.check_button.click()
    assert widget.score.answered == 1
    assert not (cache / FILE_NAME).exists()


def test_widget_reports_a_corrupt_record_and_carries_on(cache):
    cache.mkdir(parents=True)
    (cache / FILE_NAME).write_text("{{{")
    widget = quiz.notebook_quiz("02_learning_rate", n=1, seed=0)
    q = widget.current
    if isinstance(q.quiz, MultipleChoice):
        widget.choices.value = q.quiz.correct_index
    else:
        widget.number.value = right(q)
    widget.check_button.click()
    assert "Correct." in widget.feedback.value
    assert "starting fresh" in widget.practice_note.value
    assert PracticeRecord.load().cards.keys() == {q.id}


def test_fsync_is_called_before_the_rename(tmp_path, monkeypatch):
    """The bytes reach the disk before the new name points at them."""
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(practice.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        practice.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))
    )
    record = PracticeRecord(tmp_path / "p.json")
    record.record("a", True, now=NOW)
    assert record.save() is None
    assert calls == ["fsync", "replace"]
