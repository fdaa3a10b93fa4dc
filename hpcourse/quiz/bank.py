"""Load the interview question bank and check it before anyone sees it.

The bank lives in ``interview_questions/bank.yaml`` beside a JSON Schema
(``schema.json``). The schema catches structural mistakes (a missing field, a
misspelt topic); :func:`bank_problems` adds the checks a schema cannot express
(unique ids, follow-ups that point at real questions, exactly one correct option,
numeric "common mistakes" that the checker really rejects). :func:`load_bank`
runs both and turns each record into a frozen dataclass, so the quiz code never
handles raw dictionaries.

Where the files are found: ``interview_questions/`` is the single copy in the
repository, and the build maps it onto the data package ``hpcourse._bank`` (see
``[tool.setuptools]`` in ``pyproject.toml``), so a wheel carries it and
:mod:`importlib.resources` finds it in any install. An editable install made before
that mapping existed cannot import ``hpcourse._bank``; the folder beside the source
tree is used then.
"""

from __future__ import annotations

import importlib.resources
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

#: The data package that ``interview_questions/`` becomes in a build.
DATA_PACKAGE = "hpcourse._bank"

#: ``interview_questions/`` beside the source tree (a checkout).
SOURCE_BANK_DIR = Path(__file__).resolve().parents[2] / "interview_questions"


def find_bank_dir() -> Path:
    """The folder holding ``bank.yaml`` and ``schema.json`` in this install.

    First the data package (wheels, and editable installs that know the mapping), then
    the folder beside the source tree. Raises ``FileNotFoundError`` saying where it
    looked if neither has the bank.
    """
    candidates: list[Path] = []
    try:
        packaged = importlib.resources.files(DATA_PACKAGE)
    except ModuleNotFoundError:
        packaged = None
    # An installed wheel is unpacked on disk, so its resources are plain paths.
    if isinstance(packaged, Path):
        candidates.append(packaged)
    candidates.append(SOURCE_BANK_DIR)
    for folder in candidates:
        if (folder / "bank.yaml").is_file():
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(
        f"the interview question bank (bank.yaml) is in none of: {looked}. "
        "Reinstall hpcourse, or run from a checkout of the course."
    )


#: Where this install keeps the bank; the renderer writes the Markdown files beside it.
BANK_DIR = find_bank_dir()
BANK_PATH = BANK_DIR / "bank.yaml"
SCHEMA_PATH = BANK_DIR / "schema.json"

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")

#: The fixed topic list, in syllabus order, with the label readers see.
#: ``schema.json`` lists the same ids in its enum; a test keeps the two equal.
TOPICS: dict[str, str] = {
    "parameters_vs_hyperparameters": "Parameters vs hyperparameters",
    "underfitting_overfitting": "Underfitting vs overfitting",
    "data_pipeline": "The data pipeline",
    "validation_methodology": "Validation methodology",
    "experiment_tracking": "Experiment tracking and configs",
    "reproducibility": "Reproducibility mechanics",
    "learning_rate": "Learning rate",
    "batch_size": "Batch size",
    "epochs_early_stopping": "Epochs and early stopping",
    "depth_width": "Depth and width",
    "initialization_activation": "Initialization and activation",
    "normalization_layers": "Batch norm and other normalization layers",
    "dropout": "Dropout",
    "weight_decay": "Weight decay and L1/L2 penalties",
    "label_smoothing_mixup": "Label smoothing and mixup",
    "momentum_adam": "Momentum and Adam's betas",
    "optimizer_choice": "Choosing the optimizer",
    "gradient_clipping": "Exploding gradients and clipping",
    "schedules_warmup": "Schedules and warmup",
    "rnn_embeddings": "RNN and embedding hyperparameters",
    "fine_tuning": "Fine-tuning pretrained models",
    "scale_practice": "Hyperparameters at scale",
    "log_scale_sampling": "Sampling on a log scale",
    "search_strategies": "Grid, random and quasi-random search",
    "coarse_to_fine": "Coarse-to-fine search",
    "bayesian_optimization": "Bayesian optimization",
    "successive_halving_hyperband": "Successive halving and Hyperband",
    "population_based_training": "Population-based training",
    "babysitting_vs_caviar": "Babysitting vs caviar",
    "tuning_budget": "Tuning on a fixed budget",
    "seed_variance": "Seed variance",
    "validation_overfitting": "Overfitting the validation set",
    "batch_lr_scaling": "Batch size and learning-rate scaling",
    "gradient_noise_scale": "Gradient noise scale",
}


class BankError(ValueError):
    """The bank file breaks the schema or one of the rules in :func:`bank_problems`."""


@dataclass(frozen=True)
class Option:
    """One answer of a multiple-choice item, with the feedback shown after picking it."""

    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class MultipleChoice:
    """A multiple-choice quiz form with exactly one correct option."""

    options: tuple[Option, ...]
    kind: str = "multiple_choice"

    @property
    def correct_index(self) -> int:
        return next(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong numeric answer and what it reveals ("that is the std, not the variance")."""

    value: float
    feedback: str


@dataclass(frozen=True)
class Numeric:
    """A numeric quiz form: the answer is accepted within ``tolerance`` (absolute)."""

    answer: float
    tolerance: float
    unit: str
    mistakes: tuple[Mistake, ...] = ()
    kind: str = "numeric"

    @property
    def accepts_percent(self) -> bool:
        """Shares may be typed as ``0.9`` or ``90%``; other units never take a percent sign."""
        return self.unit == "fraction"


QuizForm = MultipleChoice | Numeric


@dataclass(frozen=True)
class Source:
    """A primary source: a paper or book (authors, year, venue) or official docs (a URL)."""

    kind: str  # "paper", "book" or "docs"
    title: str
    url: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None


@dataclass(frozen=True)
class Question:
    """One interview question with its answers, demo link, quiz form and sources.

    Open-ended questions (a plan to write, a run to debug) carry a ``rubric``, the points
    a strong answer makes, instead of a quiz form that would give the answer away.
    """

    id: str
    difficulty: str
    topics: tuple[str, ...]
    question: str
    short_answer: str
    full_answer: str
    follow_ups: tuple[str, ...]
    notebook: str | None
    cell: str | None
    quiz: QuizForm | None
    sources: tuple[Source, ...]
    rubric: tuple[str, ...] = ()

    @property
    def checkable(self) -> bool:
        """True when the quiz can grade an answer to this question."""
        return self.quiz is not None


def read_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The JSON Schema of the bank."""
    return json.loads(path.read_text(encoding="utf-8"))


def read_raw_bank(path: Path = BANK_PATH) -> dict[str, Any]:
    """The bank as parsed YAML, before any validation."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def schema_problems(data: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every schema violation, each as ``"<where>: <what>"``."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "<root>"
        problems.append(f"{where}: {error.message}")
    return problems


def bank_problems(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Rules the schema cannot express, checked on schema-valid records.

    Kept separate from loading so tests can feed in a broken record and see the
    rule fire.
    """
    problems: list[str] = []
    counts = Counter(record["id"] for record in records)
    problems += [f"id {qid!r} is used {n} times" for qid, n in counts.items() if n > 1]
    known = set(counts)
    for record in records:
        qid = record["id"]
        for target in record["follow_ups"]:
            if target == qid:
                problems.append(f"{qid}: lists itself as a follow-up")
            elif target not in known:
                problems.append(f"{qid}: follow-up {target!r} is not a question id")
        quiz = record["quiz"]
        if quiz is None and not record.get("rubric"):
            problems.append(f"{qid}: has neither a quiz form nor a rubric to grade an answer by")
        if quiz is None:
            continue
        if quiz["kind"] == "multiple_choice":
            n_correct = sum(option["correct"] for option in quiz["options"])
            if n_correct != 1:
                problems.append(f"{qid}: {n_correct} correct options (exactly one allowed)")
            texts = [option["text"] for option in quiz["options"]]
            if len(set(texts)) != len(texts):
                problems.append(f"{qid}: two options have the same text")
        else:
            answer, tolerance = quiz["answer"], quiz["tolerance"]
            for mistake in quiz.get("mistakes", []):
                if abs(mistake["value"] - answer) <= tolerance:
                    problems.append(
                        f"{qid}: mistake {mistake['value']} is within the tolerance of the "
                        f"answer {answer}, so the checker would accept it"
                    )
            # Loose tolerances let wrong answers pass; whole-number answers may use
            # +-0.5 however small they are, since no other integer is then accepted.
            whole = float(answer).is_integer() and tolerance < 1
            if answer != 0 and tolerance >= 0.1 * abs(answer) and not whole:
                problems.append(f"{qid}: tolerance {tolerance} is 10% of the answer or more")
            if not math.isfinite(answer):
                problems.append(f"{qid}: answer must be finite")
    return problems


def _quiz_from_record(record: Mapping[str, Any] | None) -> QuizForm | None:
    if record is None:
        return None
    if record["kind"] == "multiple_choice":
        options = tuple(
            Option(text=o["text"], correct=o["correct"], feedback=o["feedback"])
            for o in record["options"]
        )
        return MultipleChoice(options=options)
    mistakes = tuple(
        Mistake(value=float(m["value"]), feedback=m["feedback"]) for m in record.get("mistakes", [])
    )
    return Numeric(
        answer=float(record["answer"]),
        tolerance=float(record["tolerance"]),
        unit=record["unit"],
        mistakes=mistakes,
    )


def _source_from_record(record: Mapping[str, Any]) -> Source:
    return Source(
        kind=record["kind"],
        title=record["title"],
        url=record.get("url"),
        authors=tuple(record.get("authors", ())),
        year=record.get("year"),
        venue=record.get("venue"),
    )


def question_from_record(record: Mapping[str, Any]) -> Question:
    """Turn one schema-valid record into a :class:`Question`."""
    return Question(
        id=record["id"],
        difficulty=record["difficulty"],
        topics=tuple(record["topics"]),
        question=record["question"].strip(),
        short_answer=record["short_answer"].strip(),
        full_answer=record["full_answer"].strip(),
        follow_ups=tuple(record["follow_ups"]),
        notebook=record["notebook"],
        cell=record["cell"],
        quiz=_quiz_from_record(record["quiz"]),
        sources=tuple(_source_from_record(s) for s in record["sources"]),
        rubric=tuple(" ".join(point.split()) for point in record.get("rubric", ())),
    )


def validate_bank(data: Any, schema: Mapping[str, Any]) -> list[Question]:
    """Validate parsed bank data and return its questions; raise :class:`BankError` if broken."""
    problems = schema_problems(data, schema)
    if not problems:
        problems = bank_problems(data["questions"])
    if problems:
        listed = "\n  ".join(problems)
        raise BankError(f"the question bank has {len(problems)} problem(s):\n  {listed}")
    return [question_from_record(record) for record in data["questions"]]


@lru_cache(maxsize=4)
def _load_cached(bank_path: Path, schema_path: Path) -> tuple[Question, ...]:
    return tuple(validate_bank(read_raw_bank(bank_path), read_schema(schema_path)))


def load_bank(path: str | Path | None = None) -> list[Question]:
    """Every question of the bank, validated, in file order.

    Parsing and validating take a moment, so the result is cached per file; each
    call still returns a new list, which callers may shuffle freely.
    """
    bank_path = Path(path).resolve() if path is not None else BANK_PATH
    schema_path = bank_path.parent / "schema.json" if path is not None else SCHEMA_PATH
    return list(_load_cached(bank_path, schema_path))


def questions_by_id(questions: Sequence[Question]) -> dict[str, Question]:
    """Index questions by id (for follow-up links)."""
    return {q.id: q for q in questions}
