"""The learner's practice record: which questions were missed, and when each is due again.

Interview preparation is repetition, so both quizzes remember every first attempt in a
small JSON file in the learner's cache folder (``hpcourse.paths.cache_dir()``, never the
repository). Scheduling follows Leitner's boxes: a question answered right moves up one
box and comes back after that box's interval (1, 3, 7, then 21 days); a miss sends it
back to box 1, due at once. ``python -m hpcourse.quiz --review`` asks the due questions
first, then new ones, and ends with a summary of strengths and gaps per topic.

The record must never stop a quiz. A missing file is a fresh start; a file that cannot
be read or parsed is set aside (renamed ``*.corrupt``) with a note saying so, and the
quiz starts fresh. Saving writes a temporary file beside the record and renames it over
the old one (:func:`os.replace` is atomic), so an interrupted save leaves the previous
record intact instead of half a file; a save that fails only produces a warning.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hpcourse.paths import cache_dir
from hpcourse.quiz.bank import TOPICS, Question

FILE_NAME = "quiz_progress.json"
FORMAT = "hpcourse-quiz-progress"
VERSION = 1
DAY = 86_400.0

#: Leitner box -> days until a question in it is due again. Box 1 holds the misses.
INTERVAL_DAYS: dict[int, float] = {1: 0.0, 2: 1.0, 3: 3.0, 4: 7.0, 5: 21.0}
TOP_BOX = max(INTERVAL_DAYS)


def default_path() -> Path:
    """``<cache>/quiz_progress.json``; the cache folder honours ``$HPCOURSE_CACHE``."""
    return cache_dir() / FILE_NAME


@dataclass
class Card:
    """What the record knows about one question (times are POSIX seconds)."""

    box: int = 1
    due: float = 0.0
    seen: int = 0
    right: int = 0
    last: float = 0.0
    last_right: bool = False

    @classmethod
    def from_json(cls, raw: Any) -> Card:
        """A card from its JSON form; ``ValueError`` if any field is missing or wrong."""
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        card = cls(
            box=raw["box"],
            due=raw["due"],
            seen=raw["seen"],
            right=raw["right"],
            last=raw["last"],
            last_right=raw["last_right"],
        )
        numbers_ok = all(
            isinstance(value, int | float) and not isinstance(value, bool)
            for value in (card.due, card.last)
        )
        counts_ok = all(
            isinstance(value, int) and not isinstance(value, bool)
            for value in (card.box, card.seen, card.right)
        )
        if not (numbers_ok and counts_ok and isinstance(card.last_right, bool)):
            raise ValueError("a field has the wrong type")
        if card.box not in INTERVAL_DAYS or not 0 <= card.right <= card.seen:
            raise ValueError("a field is out of range")
        return card


@dataclass
class TopicSummary:
    """One topic's standing: questions practised, right at the last attempt, due now."""

    topic: str
    practised: int = 0
    right_last: int = 0
    due: int = 0
    attempts: int = 0
    right: int = 0

    @property
    def share(self) -> float:
        return self.right_last / self.practised if self.practised else 0.0

    def line(self) -> str:
        return (
            f"{TOPICS.get(self.topic, self.topic)}: {self.right_last} of {self.practised} "
            f"right at the last attempt, {self.due} due; {self.right}/{self.attempts} "
            "over all attempts"
        )


@dataclass
class PracticeRecord:
    """Every question's Leitner card, loaded from and saved to one JSON file.

    ``note`` holds what the learner should be told about the file (it was corrupt and
    set aside, some entries were unreadable); it is ``None`` when all went well.
    """

    path: Path
    cards: dict[str, Card] = field(default_factory=dict)
    note: str | None = None

    # ------------------------------------------------------------------ file
    @classmethod
    def load(cls, path: str | Path | None = None) -> PracticeRecord:
        """Read the record; never raises for a missing, unreadable or corrupt file."""
        target = Path(path) if path is not None else default_path()
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(target)
        except (OSError, UnicodeDecodeError) as error:
            return cls(target, note=_fresh_start(target, f"could not be read ({error})"))
        try:
            raw = json.loads(text)
            if not (isinstance(raw, dict) and raw.get("format") == FORMAT):
                raise ValueError("it is not an hpcourse practice record")
            if raw.get("version") != VERSION:
                raise ValueError(f"unknown version {raw.get('version')!r}")
            entries = raw["cards"]
            if not isinstance(entries, dict):
                raise ValueError("'cards' is not an object")
        except (ValueError, KeyError) as error:
            return cls(target, note=_fresh_start(target, f"is corrupt ({error})"))
        cards: dict[str, Card] = {}
        skipped = 0
        for question_id, entry in entries.items():
            try:
                cards[str(question_id)] = Card.from_json(entry)
            except (ValueError, KeyError, TypeError):
                skipped += 1
        note = None
        if skipped:
            note = f"Ignored {skipped} unreadable entr{'y' if skipped == 1 else 'ies'} in {target}."
        return cls(target, cards, note)

    def save(self) -> str | None:
        """Write the record atomically; return a warning instead of raising if it fails.

        The data goes to a temporary file in the same folder, which is flushed to disk
        and then renamed over the record, so a reader sees the old record or the new
        one, never a partial file. If anything interrupts the write, the temporary file
        is removed and the old record stays as it was.
        """
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "cards": {qid: asdict(card) for qid, card in sorted(self.cards.items())},
        }
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(payload, stream, indent=1)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
            temporary = None
            return None
        except OSError as error:
            return f"Could not save your practice record to {self.path} ({error})."
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.remove(temporary)

    @staticmethod
    def reset(path: str | Path | None = None) -> bool:
        """Forget everything: delete the record. True if there was one to delete."""
        target = Path(path) if path is not None else default_path()
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        return True

    # ------------------------------------------------------------------ scheduling
    def record(self, question_id: str, correct: bool, now: float | None = None) -> Card:
        """Move the question's card: up one box if ``correct``, back to box 1 if not."""
        now = time.time() if now is None else now
        card = self.cards.setdefault(question_id, Card())
        card.seen += 1
        card.right += bool(correct)
        card.box = min(card.box + 1, TOP_BOX) if correct else 1
        card.last = now
        card.last_right = bool(correct)
        card.due = now + INTERVAL_DAYS[card.box] * DAY
        return card

    def is_due(self, question_id: str, now: float | None = None) -> bool:
        """True for a practised question whose interval has passed (misses: at once)."""
        now = time.time() if now is None else now
        card = self.cards.get(question_id)
        return card is not None and card.due <= now

    def review_order(
        self, questions: Sequence[Question], *, seed: int = 0, now: float | None = None
    ) -> tuple[list[Question], dict[str, int]]:
        """``questions`` reordered for review, and how many fall in each group.

        Due questions come first (lowest box first, then the longest overdue), then
        questions never practised (shuffled with ``seed``), then the rest, soonest due
        first. The counts have keys ``due``, ``new`` and ``later``.
        """
        now = time.time() if now is None else now
        due = [q for q in questions if self.is_due(q.id, now)]
        new = [q for q in questions if q.id not in self.cards]
        later = [q for q in questions if q.id in self.cards and not self.is_due(q.id, now)]
        due.sort(key=lambda q: (self.cards[q.id].box, self.cards[q.id].due, q.id))
        random.Random(seed).shuffle(new)
        later.sort(key=lambda q: (self.cards[q.id].due, q.id))
        counts = {"due": len(due), "new": len(new), "later": len(later)}
        return [*due, *new, *later], counts

    # ------------------------------------------------------------------ summaries
    def topic_summaries(
        self,
        questions: Sequence[Question],
        topics: Iterable[str] | None = None,
        now: float | None = None,
    ) -> list[TopicSummary]:
        """Per topic (syllabus order), the standing of the practised questions in it.

        Only topics with at least one practised question are listed; ``topics`` narrows
        the list further (for example to the topics of one session).
        """
        now = time.time() if now is None else now
        wanted = set(TOPICS) if topics is None else set(topics)
        summaries = {topic: TopicSummary(topic) for topic in TOPICS if topic in wanted}
        for question in questions:
            card = self.cards.get(question.id)
            if card is None:
                continue
            for topic in question.topics:
                if topic not in summaries:
                    continue
                summary = summaries[topic]
                summary.practised += 1
                summary.right_last += card.last_right
                summary.due += card.due <= now
                summary.attempts += card.seen
                summary.right += card.right
        return [s for s in summaries.values() if s.practised]


def strengths_and_gaps(
    summaries: Sequence[TopicSummary], *, min_practised: int = 2
) -> tuple[list[str], list[str]]:
    """Topic labels to praise and to revisit.

    A strength has at least ``min_practised`` questions practised and 80% or more of them
    right at the last attempt; a gap has under half right at the last attempt.
    """
    strengths = [
        TOPICS.get(s.topic, s.topic)
        for s in summaries
        if s.practised >= min_practised and s.share >= 0.8
    ]
    gaps = [
        TOPICS.get(s.topic, s.topic)
        for s in sorted(summaries, key=lambda s: (s.share, -s.practised))
        if s.share < 0.5
    ]
    return strengths, gaps


def _fresh_start(path: Path, problem: str) -> str:
    """Set a bad record aside as ``<name>.corrupt`` and say so; a fresh record follows."""
    aside = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, aside)
        kept = f" The old file was kept as {aside}."
    except OSError:
        kept = ""
    return f"Your practice record {path} {problem}; starting fresh.{kept}"
