"""The quiz as a plain text conversation on standard input and output.

:func:`run_quiz` takes its input and output streams as arguments, so tests drive it
with ``io.StringIO`` exactly as a person would type. End of input (Ctrl-D, or a
script that runs out of answers) is a normal way to stop: the score so far is
printed and the quiz exits cleanly.

Every first attempt goes into the learner's practice record
(:mod:`hpcourse.quiz.practice`), saved after each answer so that quitting loses
nothing. ``--review`` asks the questions that are due first; ``--reset`` forgets the
record; ``--no-record`` leaves it alone for one session.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from hpcourse.quiz.bank import DIFFICULTIES, TOPICS, MultipleChoice, Question, load_bank
from hpcourse.quiz.checking import AnswerFormatError, Score, answer_hint, check_answer, letter
from hpcourse.quiz.practice import PracticeRecord, default_path, strengths_and_gaps
from hpcourse.quiz.render import file_name
from hpcourse.quiz.selection import check_count, select_questions

WIDTH = 88
QUIT = {"q", "quit", "exit"}


class _InputEnded(Exception):
    """Raised internally when the input stream is exhausted or the user quits."""


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(
        " ".join(text.split()), WIDTH, initial_indent=indent, subsequent_indent=indent
    )


def _prompt_for(question: Question) -> str:
    hint = answer_hint(question.quiz) if question.quiz is not None else "your own words"
    return f"Your answer ({hint}; q quits): "


def _ask(question: Question, stdin: TextIO, stdout: TextIO):
    """Read lines until one can be graded; raise :class:`_InputEnded` on EOF or quit."""
    while True:
        stdout.write(_prompt_for(question))
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            raise _InputEnded
        answer = line.strip()
        if not stdin.isatty():
            # Piped input is not echoed by a terminal; echo it so transcripts read naturally.
            stdout.write(answer + "\n")
        if answer.lower() in QUIT:
            raise _InputEnded
        if not answer:
            continue
        try:
            return check_answer(question, answer)
        except AnswerFormatError as error:
            stdout.write(f"  {error}\n")


def _show_question(question: Question, number: int, total: int, stdout: TextIO) -> None:
    topics = ", ".join(TOPICS[t] for t in question.topics)
    stdout.write(f"\n[{number}/{total}] {question.difficulty} · {topics}\n")
    stdout.write(_wrap(question.question) + "\n")
    if isinstance(question.quiz, MultipleChoice):
        for i, option in enumerate(question.quiz.options):
            first = f"  {letter(i)}) "
            body = textwrap.fill(
                " ".join(option.text.split()),
                WIDTH,
                initial_indent=first,
                subsequent_indent=" " * len(first),
            )
            stdout.write(body + "\n")


def run_quiz(
    questions: Sequence[Question],
    stdin: TextIO,
    stdout: TextIO,
    *,
    record: PracticeRecord | None = None,
    bank: Sequence[Question] | None = None,
    now: float | None = None,
) -> Score:
    """Ask ``questions`` in order, grade each answer, reveal the short answer; return the score.

    With a ``record``, each first attempt is written to it and saved at once, and the
    quiz ends with a per-topic summary over ``bank`` (default: ``questions``). A save
    that fails prints one warning; the quiz goes on.
    """
    score = Score()
    save_warned = False
    stdout.write("Answer with a letter for multiple choice or a number; q quits.\n")
    for number, question in enumerate(questions, start=1):
        _show_question(question, number, len(questions), stdout)
        try:
            result = _ask(question, stdin, stdout)
        except _InputEnded:
            stdout.write("Stopping early.\n")
            break
        counted = score.record(question.id, result)
        verdict = (
            "Correct."
            if result.correct
            else f"Not quite. The answer is {result.expected.rstrip('.')}."
        )
        stdout.write(_wrap(f"{verdict} {result.feedback}", "  ") + "\n")
        stdout.write(_wrap(f"Short answer: {question.short_answer}", "  ") + "\n")
        more = f"interview_questions/{file_name(question.difficulty)}#{question.id}"
        if question.notebook:
            more += f" · demo: notebooks/{question.notebook}.ipynb (cell {question.cell})"
        stdout.write(f"  More: {more}\n")
        if record is not None and counted:
            record.record(question.id, result.correct, now=now)
            warning = record.save()
            if warning and not save_warned:
                stdout.write(_wrap(f"{warning} The quiz goes on without saving.", "  ") + "\n")
                save_warned = True
    stdout.write(f"\nScore: {score} correct")
    if score.answered < len(questions):
        stdout.write(f" (answered {score.answered} of {len(questions)} questions)")
    stdout.write(".\n")
    if record is not None and score.answered:
        write_summary(record, bank if bank is not None else questions, questions, stdout, now)
    return score


def write_summary(
    record: PracticeRecord,
    bank: Sequence[Question],
    asked: Sequence[Question],
    stdout: TextIO,
    now: float | None = None,
) -> None:
    """Per-topic standing for the topics just practised, then strengths and gaps overall."""
    session_topics = {t for q in asked if q.id in record.cards for t in q.topics}
    summaries = record.topic_summaries(bank, topics=session_topics, now=now)
    stdout.write("\nYour practice record, by topic:\n")
    for summary in summaries:
        stdout.write(_wrap(summary.line(), "  ") + "\n")
    strengths, gaps = strengths_and_gaps(record.topic_summaries(bank, now=now))
    stdout.write(_wrap(f"Strengths: {', '.join(strengths) or 'none yet'}.", "  ") + "\n")
    stdout.write(_wrap(f"Gaps to revisit: {', '.join(gaps) or 'none'}.", "  ") + "\n")
    due = sum(record.is_due(q.id, now) for q in bank)
    if due:
        stdout.write(f"  {due} question(s) due: python -m hpcourse.quiz --review\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hpcourse.quiz",
        description="Quiz yourself on choosing neural-network hyperparameters.",
    )
    parser.add_argument("--level", choices=DIFFICULTIES, help="difficulty (default: all)")
    parser.add_argument(
        "--topic",
        action="append",
        choices=list(TOPICS),
        metavar="TOPIC",
        help="topic id; repeat for several (default: all). See --list-topics.",
    )
    parser.add_argument(
        "--notebook", help="only questions demonstrated in this notebook, e.g. 02_learning_rate"
    )
    parser.add_argument("--n", type=int, default=5, help="number of questions (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed (default: 0)")
    parser.add_argument("--list-topics", action="store_true", help="list topic ids and exit")
    parser.add_argument(
        "--review",
        action="store_true",
        help="ask the questions due for review first (missed ones at once), then new ones",
    )
    parser.add_argument("--reset", action="store_true", help="forget your practice record and exit")
    parser.add_argument(
        "--no-record", action="store_true", help="neither read nor update the practice record"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    now: float | None = None,
) -> int:
    """Entry point of ``python -m hpcourse.quiz``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reset:
        path = default_path()
        try:
            forgot = PracticeRecord.reset(path)
        except OSError as error:
            stdout.write(f"Could not delete {path}: {error}\n")
            return 1
        stdout.write(
            f"Forgot your practice record ({path}).\n"
            if forgot
            else f"There was no practice record to forget ({path}).\n"
        )
        return 0
    bank = load_bank()
    if args.list_topics:
        for topic, label in TOPICS.items():
            count = sum(topic in q.topics for q in bank)
            stdout.write(f"{topic:32s} {count:3d}  {label}\n")
        return 0
    try:
        check_count("n", args.n)
        questions = select_questions(
            bank,
            topics=args.topic,
            difficulty=args.level,
            notebook=args.notebook,
            n=None if args.review else args.n,
            seed=args.seed,
        )
    except ValueError as error:
        parser.error(str(error))
    record = None if args.no_record else PracticeRecord.load()
    if record is not None and record.note:
        stdout.write(_wrap(record.note) + "\n")
    filters = [f"level {args.level or 'all'}", f"topic {', '.join(args.topic or ['all'])}"]
    if args.notebook:
        filters.append(f"notebook {args.notebook}")
    if args.review and record is not None:
        ordered, counts = record.review_order(questions, seed=args.seed, now=now)
        questions = ordered[: args.n]
        filters.append(
            f"review: {counts['due']} due, {counts['new']} new, {counts['later']} not yet due"
        )
    elif args.review:
        questions = questions[: args.n]
        filters.append("review needs the practice record; --no-record ignores it")
    stdout.write(
        f"hpcourse quiz: {len(questions)} question(s) · {' · '.join(filters)} · seed {args.seed}\n"
    )
    run_quiz(questions, stdin, stdout, record=record, bank=bank, now=now)
    return 0
