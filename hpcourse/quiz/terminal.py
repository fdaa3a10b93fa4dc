"""The quiz as a plain text conversation on standard input and output.

:func:`run_quiz` takes its input and output streams as arguments, so tests drive it
with ``io.StringIO`` exactly as a person would type. End of input (Ctrl-D, or a
script that runs out of answers) is a normal way to stop: the score so far is
printed and the quiz exits cleanly.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from hpcourse.quiz.bank import DIFFICULTIES, TOPICS, MultipleChoice, Question, load_bank
from hpcourse.quiz.checking import AnswerFormatError, Score, answer_hint, check_answer, letter
from hpcourse.quiz.render import file_name
from hpcourse.quiz.selection import select_questions

WIDTH = 88
QUIT = {"q", "quit", "exit"}


class _InputEnded(Exception):
    """Raised internally when the input stream is exhausted or the user quits."""


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(
        " ".join(text.split()), WIDTH, initial_indent=indent, subsequent_indent=indent
    )


def _prompt_for(question: Question) -> str:
    return f"Your answer ({answer_hint(question.quiz)}; q quits): "


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


def run_quiz(questions: Sequence[Question], stdin: TextIO, stdout: TextIO) -> Score:
    """Ask ``questions`` in order, grade each answer, reveal the short answer; return the score."""
    score = Score()
    stdout.write("Answer with a letter for multiple choice or a number; q quits.\n")
    for number, question in enumerate(questions, start=1):
        _show_question(question, number, len(questions), stdout)
        try:
            result = _ask(question, stdin, stdout)
        except _InputEnded:
            stdout.write("Stopping early.\n")
            break
        score.record(question.id, result)
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
    stdout.write(f"\nScore: {score} correct")
    if score.answered < len(questions):
        stdout.write(f" (answered {score.answered} of {len(questions)} questions)")
    stdout.write(".\n")
    return score


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
    return parser


def main(
    argv: Sequence[str] | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    """Entry point of ``python -m hpcourse.quiz``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    bank = load_bank()
    if args.list_topics:
        for topic, label in TOPICS.items():
            count = sum(topic in q.topics for q in bank)
            stdout.write(f"{topic:32s} {count:3d}  {label}\n")
        return 0
    try:
        questions = select_questions(
            bank,
            topics=args.topic,
            difficulty=args.level,
            notebook=args.notebook,
            n=args.n,
            seed=args.seed,
        )
    except ValueError as error:
        parser.error(str(error))
    filters = [f"level {args.level or 'all'}", f"topic {', '.join(args.topic or ['all'])}"]
    if args.notebook:
        filters.append(f"notebook {args.notebook}")
    stdout.write(
        f"hpcourse quiz: {len(questions)} question(s) · {' · '.join(filters)} · seed {args.seed}\n"
    )
    run_quiz(questions, stdin, stdout)
    return 0
