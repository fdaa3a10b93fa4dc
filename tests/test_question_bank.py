"""Keep the interview question bank honest: structure, coverage, answers, links, rendering.

Each check is written so it can fail: the helpers it relies on (placeholder detection,
API checking, notebook links, staleness, give-away cues) are also tested on small broken
inputs.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import re
import statistics
from collections import Counter
from pathlib import Path

import jsonschema
import nbformat
import pytest

from hpcourse.quiz import render
from hpcourse.quiz.apirefs import ApiReference, api_problem, find_api_references
from hpcourse.quiz.bank import (
    BANK_DIR,
    DIFFICULTIES,
    TOPICS,
    BankError,
    MultipleChoice,
    Numeric,
    Option,
    Question,
    bank_problems,
    load_bank,
    read_raw_bank,
    read_schema,
    validate_bank,
)
from hpcourse.quiz.checking import check_answer, format_number, letter
from hpcourse.quiz.giveaways import absolute, audit, blind_pick, hedged, within_chance
from hpcourse.quiz.links import NOTEBOOKS_DIR, broken_links, cell_tags, unlinked_notebooks

#: The notebooks and cell tags other engineers promised (the linking contract).
CONTRACT = {
    "00_start_here": {"first-run", "check-learned"},
    "01_parameters_vs_hyperparameters": {
        "count-parameters",
        "parameters-change",
        "speed-only-settings",
        "augmentation",
        "underfit-overfit",
    },
    "02_learning_rate": {
        "bowl-explorer",
        "bowl-threshold",
        "lr-sweep",
        "lr-range-test",
        "schedules",
    },
    "03_batch_size": {
        "gradient-variance",
        "batch-curves",
        "batch-timing",
        "linear-scaling",
        "noise-scale",
        "batch-memory",
        "adam-scaling",
        "batch-throughput",
        "gradient-accumulation",
    },
    "04_sampling_scales": {
        "decade-shares",
        "log-uniform-by-hand",
        "beta-window",
        "momentum-sensitivity",
        "linear-scales",
        "lr-sweep-scales",
    },
    "05_grid_vs_random": {
        "nine-trials",
        "sobol",
        "zoom-edge",
        "win-rate",
        "search-explorer",
        "real-search",
        "coarse-to-fine",
        "sixty-trials",
        "importance",
    },
    "06_babysitting_vs_caviar": {
        "babysit-run",
        "caviar-timing",
        "best-of-n",
        "successive-halving",
        "pbt",
        "stale-intuitions",
    },
    "07_epochs_early_stopping": {
        "full-run",
        "early-stopping",
        "patience",
        "explorer",
        "optimism",
        "horizon-sweep",
        "short-run-cost",
        "test-once",
    },
    "08_capacity_regularization": {
        "capacity-sweep",
        "width-gap",
        "depth",
        "dropout",
        "weight-decay",
        "augmentation",
        "knob-table",
        "explorer",
    },
    "09_optimizers_schedules": {
        "momentum-steps",
        "momentum-training",
        "adam-steps",
        "adam-memory",
        "adam-eps",
        "weight-decay",
        "explorer",
        "schedules",
        "warmup",
        "clipping",
        "importance",
        "width-transfer",
    },
    "10_sequence_models": {"kinds", "clipping", "sizes", "bptt", "explorer"},
    "11_automated_tuning": {
        "optuna-objective",
        "tracking-plots",
        "tracking-table",
        "race",
        "tuning-explorer",
        "explorer",
        "pruning",
        "workers",
        "postgres",
    },
    "12_capstone": {
        "budget-rules",
        "default-run",
        "reference-search",
        "budget-refusal",
        "submit",
        "ledger-audit",
        "budget-explorer",
        "explorer",
        "your-turn",
    },
}

MIN_PER_DIFFICULTY = {"easy": 40, "medium": 50, "hard": 20}
MIN_QUESTIONS = 130

#: Two-sided bound, in binomial standard deviations, for "a cue points at the key no more
#: and no less often than chance". With about 100 four-option items, chance is about 26
#: hits with a standard deviation of about 4.4, so z = 2 allows roughly 17 to 35.
GIVEAWAY_Z = 2.0

#: The bank is loaded once at collection time so per-question tests get readable ids.
BANK = load_bank()
PLACEHOLDER = re.compile(r"\bTODO\b|\bTBD\b|\bFIXME\b|\bXXX\b|lorem|ipsum|\.\.\.|…", re.IGNORECASE)
NEAR_DUPLICATE_RATIO = 0.8


@pytest.fixture(scope="module")
def raw():
    return read_raw_bank()


@pytest.fixture(scope="module")
def schema():
    return read_schema()


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def placeholder_problems(field: str, text: str, min_length: int) -> list[str]:
    """Why ``text`` looks unfinished (placeholder words, ellipses, too short), if it does."""
    problems = []
    if len(text.strip()) < min_length:
        problems.append(f"{field} is shorter than {min_length} characters")
    match = PLACEHOLDER.search(text)
    if match:
        problems.append(f"{field} contains placeholder text {match.group(0)!r}")
    return problems


# --------------------------------------------------------------------------- structure


def test_schema_is_a_valid_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)


def test_bank_matches_schema(raw, schema):
    jsonschema.Draft202012Validator(schema).validate(raw)


def test_schema_topic_enum_is_the_fixed_topic_list(schema):
    assert schema["$defs"]["topic"]["enum"] == list(TOPICS)


def test_schema_rejects_unknown_topic_and_missing_field(raw, schema):
    broken = copy.deepcopy(raw)
    broken["questions"][0]["topics"] = ["learning_rates"]
    del broken["questions"][1]["short_answer"]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    assert len(errors) >= 2


def test_load_bank_returns_validated_dataclasses(bank, raw):
    assert len(bank) == len(raw["questions"])
    assert all(q.quiz is None or isinstance(q.quiz, MultipleChoice | Numeric) for q in bank)
    assert all(isinstance(q.topics, tuple) and q.topics for q in bank)


def test_ids_are_unique(raw):
    counts = Counter(q["id"] for q in raw["questions"])
    assert [qid for qid, n in counts.items() if n > 1] == []


def test_bank_rules_catch_broken_records(raw, schema):
    broken = copy.deepcopy(raw)
    questions = broken["questions"]
    questions[1]["id"] = questions[0]["id"]
    questions[2]["follow_ups"] = ["no-such-question"]
    mc = next(q for q in questions[3:] if q["quiz"]["kind"] == "multiple_choice")
    for option in mc["quiz"]["options"]:
        option["correct"] = True
    problems = bank_problems(questions)
    assert any("used 2 times" in p for p in problems)
    assert any("no-such-question" in p for p in problems)
    assert any("correct options" in p for p in problems)
    with pytest.raises(BankError, match="problem"):
        validate_bank(broken, schema)


def test_follow_ups_point_to_other_questions(bank):
    ids = {q.id for q in bank}
    for q in bank:
        assert set(q.follow_ups) <= ids - {q.id}, q.id


def test_no_near_duplicate_questions(bank):
    def normal(text: str) -> str:
        return re.sub(r"\W+", " ", text.lower()).strip()

    texts = {q.id: normal(q.question) for q in bank}
    similar = []
    for (a, ta), (b, tb) in itertools.combinations(texts.items(), 2):
        matcher = difflib.SequenceMatcher(None, ta, tb)
        if matcher.quick_ratio() >= NEAR_DUPLICATE_RATIO and matcher.ratio() >= (
            NEAR_DUPLICATE_RATIO
        ):
            similar.append((a, b, round(matcher.ratio(), 2)))
    assert similar == []


def test_near_duplicate_ratio_flags_a_reworded_copy():
    a = "Why should the test set be used only once, at the very end?"
    b = "Why should the test set only be used once, at the very end?"
    assert difflib.SequenceMatcher(None, a, b).ratio() >= NEAR_DUPLICATE_RATIO


# --------------------------------------------------------------------------- answers


def test_no_empty_or_placeholder_text(bank):
    problems = []
    for q in bank:
        problems += [f"{q.id}: {p}" for p in placeholder_problems("question", q.question, 20)]
        problems += [f"{q.id}: {p}" for p in placeholder_problems("short", q.short_answer, 60)]
        problems += [f"{q.id}: {p}" for p in placeholder_problems("full", q.full_answer, 400)]
        if isinstance(q.quiz, MultipleChoice):
            for option in q.quiz.options:
                problems += [
                    f"{q.id}: {p}" for p in placeholder_problems("feedback", option.feedback, 20)
                ]
    assert problems == []


@pytest.mark.parametrize(
    "text",
    ["TODO: write this", "Answer TBD later on, when we know", "Lorem ipsum dolor", "Because..."],
)
def test_placeholder_detector_flags_unfinished_text(text):
    assert placeholder_problems("full", text * 20, 10)


def test_placeholder_detector_flags_short_text():
    assert placeholder_problems("short", "Yes.", 60)


def test_every_full_answer_names_a_misconception(bank):
    missing = [q.id for q in bank if "**Misconception:**" not in q.full_answer]
    assert missing == []


SENTENCE_BREAK = re.compile(r"(?<! al)(?<!e\.g)(?<!i\.e)[.!?] +(?=[A-Z])")


def test_short_answers_are_a_few_sentences(bank):
    long_ones = [
        q.id
        for q in bank
        if len(q.short_answer) > 400 or len(SENTENCE_BREAK.findall(q.short_answer)) > 2
    ]
    assert long_ones == []


def test_sentence_counter_ignores_et_al():
    assert len(SENTENCE_BREAK.findall("Smith et al. (2017) found it. Later work did not.")) == 1


def test_difficulty_counts(bank):
    counts = Counter(q.difficulty for q in bank)
    for difficulty, minimum in MIN_PER_DIFFICULTY.items():
        assert counts[difficulty] >= minimum, (difficulty, counts[difficulty])
    assert len(bank) >= MIN_QUESTIONS


def test_every_topic_has_at_least_two_questions(bank):
    counts = Counter(t for q in bank for t in q.topics)
    assert {t: counts[t] for t in TOPICS if counts[t] < 2} == {}


def test_hard_questions_are_scenarios(bank):
    """Hard means a described run, table or plan to work through, not a definition.

    A scenario needs room to describe the situation, so a short hard question is a
    definition in disguise; the ids below were recalibrated to medium for that reason.
    """
    short = [q.id for q in bank if q.difficulty == "hard" and len(q.question) < 150]
    assert short == []
    recalibrated = {
        "trials-for-top-one-percent",
        "hyperband-brackets",
        "steps-at-critical-batch",
        "winners-curse-max",
        "seed-not-a-hyperparameter",
    }
    by_id = {q.id: q for q in bank}
    assert {qid: by_id[qid].difficulty for qid in recalibrated if qid in by_id} == dict.fromkeys(
        recalibrated, "medium"
    )


def test_open_questions_have_a_rubric_instead_of_a_quiz(bank):
    open_ended = [q for q in bank if q.quiz is None]
    assert len(open_ended) >= 5
    for q in open_ended:
        assert len(q.rubric) >= 3, q.id
        assert all(len(point) >= 30 for point in q.rubric), q.id


def test_a_question_without_quiz_or_rubric_is_rejected(raw):
    broken = copy.deepcopy(raw["questions"])
    broken[0]["quiz"] = None
    broken[0].pop("rubric", None)
    assert any("neither a quiz form nor a rubric" in p for p in bank_problems(broken))


MULTIPLE_CHOICE = [q for q in BANK if isinstance(q.quiz, MultipleChoice)]
NUMERIC = [q for q in BANK if isinstance(q.quiz, Numeric)]


def test_enough_checkable_items():
    assert len(MULTIPLE_CHOICE) >= 60
    assert len(NUMERIC) >= 20


@pytest.mark.parametrize("q", MULTIPLE_CHOICE, ids=[q.id for q in MULTIPLE_CHOICE])
def test_multiple_choice_accepts_the_key_and_rejects_every_wrong_option(q):
    for i, option in enumerate(q.quiz.options):
        result = check_answer(q, letter(i))
        assert result.correct is option.correct, (q.id, i)
        assert result.feedback == option.feedback
    assert sum(check_answer(q, i).correct for i in range(len(q.quiz.options))) == 1


@pytest.mark.parametrize("q", NUMERIC, ids=[q.id for q in NUMERIC])
def test_numeric_item_rejects_values_just_outside_the_tolerance(q):
    quiz = q.quiz
    assert check_answer(q, quiz.answer).correct
    for outside in (quiz.answer - 1.01 * quiz.tolerance, quiz.answer + 1.01 * quiz.tolerance):
        assert not check_answer(q, outside).correct, (q.id, outside)
    for mistake in quiz.mistakes:
        assert not check_answer(q, mistake.value).correct, (q.id, mistake.value)


def test_correct_option_position_is_balanced(bank):
    """Each position holds the key about 1/k of the time (within the give-away bound)."""
    four = [q.quiz.correct_index for q in bank if isinstance(q.quiz, MultipleChoice)]
    positions = Counter(four)
    n = len(four)
    for position in range(4):
        expected, sd = n / 4, (n * 0.25 * 0.75) ** 0.5
        assert abs(positions[position] - expected) <= GIVEAWAY_Z * sd, positions


# --------------------------------------------------------------------------- give-aways


def test_the_longest_option_is_the_key_only_as_often_as_chance(bank):
    cue = audit(bank)["longest"]
    assert within_chance(cue, GIVEAWAY_Z), str(cue)


def test_the_only_hedged_option_is_the_key_only_as_often_as_chance(bank):
    report = audit(bank)
    assert within_chance(report["only_hedged"], GIVEAWAY_Z), str(report["only_hedged"])
    assert within_chance(report["only_unqualified"], GIVEAWAY_Z), str(report["only_unqualified"])


def test_a_blind_test_wise_candidate_scores_near_chance(bank):
    cue = audit(bank)["blind"]
    assert within_chance(cue, GIVEAWAY_Z), str(cue)


def test_keys_are_about_as_long_as_the_distractors(bank):
    ratios = sorted(
        len(q.quiz.options[q.quiz.correct_index].text)
        / statistics.mean(len(o.text) for o in q.quiz.options if not o.correct)
        for q in bank
        if isinstance(q.quiz, MultipleChoice)
    )
    assert 0.85 <= statistics.median(ratios) <= 1.15


def _mc(key: str, *distractors: str) -> Question:
    options = (Option(key, True, "right"),) + tuple(Option(d, False, "wrong") for d in distractors)
    return Question(
        id="x",
        difficulty="easy",
        topics=("learning_rate",),
        question="q",
        short_answer="s",
        full_answer="f",
        follow_ups=(),
        notebook=None,
        cell=None,
        quiz=MultipleChoice(options=options),
        sources=(),
    )


def test_giveaway_audit_flags_a_bank_that_can_be_passed_blind():
    """The old bank's pattern: a long, hedged key among short, absolute distractors."""
    leaky = [
        _mc(
            f"It usually helps, depending on the schedule and the data ({i}).",
            "It always helps.",
            "It never helps.",
            "Only with Adam.",
        )
        for i in range(40)
    ]
    report = audit(leaky)
    assert report["longest"].hits == 40 and not within_chance(report["longest"])
    assert not within_chance(report["only_hedged"])
    assert blind_pick(leaky[0].quiz) == 0 and not within_chance(report["blind"])


def test_giveaway_audit_flags_a_key_that_is_never_the_longest():
    """Leaking in the other direction is leaking too: 'never pick the longest' would win."""
    shy = [
        _mc("Yes.", "No, never in any case.", "Only sometimes, maybe.", "Always, whatever.")
    ] * 40
    assert audit(shy)["longest"].hits == 0
    assert not within_chance(audit(shy)["longest"])


def test_hedge_and_absolute_detectors():
    assert hedged("It usually converges.") and hedged("Roughly 0.1.")
    assert not hedged("It converges.")
    assert absolute("It never converges.") and absolute("Only the learning rate.")
    assert not absolute("It converges slowly.")


# --------------------------------------------------------------------------- fixes that stay fixed


def test_answers_corrected_in_v2_stay_corrected(bank):
    """Regressions for answers that were wrong or contradicted each other (issue 8)."""
    by_id = {q.id: q for q in bank}
    assert by_id["trials-for-top-one-percent"].quiz.tolerance == 0.5
    assert not check_answer(by_id["trials-for-top-one-percent"], "298").correct
    assert "worker" in by_id["speed-only-settings"].short_answer
    assert "(1 − d)/(1 − β)" in by_id["momentum-effective-step"].full_answer
    assert "AdamW" in by_id["weight-decay-basics"].short_answer
    assert "AdamW" in by_id["diagnose-overfitting"].full_answer
    assert any("Zheng" in " ".join(s.authors) for s in by_id["sixty-random-trials"].sources)
    assert any(s.title.startswith("Andrew Ng") for s in by_id["beta-log-scale"].sources)
    # The direction of the short-horizon bias depends on the schedule, and strong weight
    # decay pushes the best learning rate down, in every answer that mentions them.
    assert "too small" in by_id["lr-depends-on-budget"].short_answer
    assert "too large" in by_id["lr-depends-on-budget"].short_answer
    assert "*down*" in by_id["best-at-range-edge"].full_answer
    assert "direction depends on the schedule" in by_id["zoom-in-pitfalls"].full_answer
    # Adam's ε: rarely first, but tuned with a larger budget, in both questions.
    assert "25" in by_id["adam-defaults"].short_answer
    assert "25 trials" in by_id["adam-epsilon"].full_answer
    # Batch size: a throughput decision, also in the importance order.
    assert "throughput" in by_id["hyperparameter-importance-order"].short_answer
    assert by_id["power-of-two-batch"].cell == "batch-memory"


def test_near_duplicates_were_merged(bank):
    ids = {q.id for q in bank}
    assert not ids & {"early-stopping-optimistic", "log-uniform-decade-share", "grid-search-runs"}


def test_numeric_items_accept_the_answer_and_reject_far_values(bank):
    numeric = [q for q in bank if isinstance(q.quiz, Numeric)]
    assert len(numeric) >= 15
    for q in numeric:
        quiz = q.quiz
        assert quiz.tolerance > 0, q.id
        assert check_answer(q, format_number(quiz.answer)).correct, q.id
        assert check_answer(q, quiz.answer + 0.9 * quiz.tolerance).correct, q.id
        far = quiz.answer + 10 * quiz.tolerance + abs(quiz.answer)
        assert not check_answer(q, far).correct, q.id
        assert not check_answer(q, quiz.answer - 3 * quiz.tolerance).correct, q.id


def test_numeric_common_mistakes_are_rejected_with_their_feedback(bank):
    for q in (q for q in bank if isinstance(q.quiz, Numeric)):
        for mistake in q.quiz.mistakes:
            result = check_answer(q, mistake.value)
            assert not result.correct, (q.id, mistake.value)
            assert result.feedback == mistake.feedback


def test_sources_are_complete(bank):
    for q in bank:
        assert q.sources, q.id
        for source in q.sources:
            if source.kind in ("paper", "book"):
                assert source.authors and source.year and source.venue, (q.id, source.title)
            else:
                assert source.url and source.url.startswith("https://"), (q.id, source.title)


# --------------------------------------------------------------------------- APIs quoted


def test_quoted_apis_exist_with_their_arguments(bank):
    references = {
        ref
        for q in bank
        for text in (q.question, q.short_answer, q.full_answer)
        for ref in find_api_references(text)
    }
    assert len(references) >= 20
    problems = [p for p in (api_problem(ref) for ref in sorted(references, key=str)) if p]
    assert problems == []


def test_api_reference_parsing():
    text = "Use `torch.optim.SGD(lr, momentum=0.9)` and `lr=0.1`, or `optuna.samplers.TPESampler`."
    assert find_api_references(text) == [
        ApiReference("torch.optim.SGD", ("lr", "momentum")),
        ApiReference("optuna.samplers.TPESampler", ()),
    ]


@pytest.mark.parametrize(
    "reference, expected",
    [
        (ApiReference("torch.optim.SGD", ("lr", "momentum")), None),
        (ApiReference("torch.optim.SGD", ("learning_rate",)), "no parameter"),
        (ApiReference("torch.optim.NoSuchOptimizer", ()), "does not exist"),
        (ApiReference("torch.nosuchmodule.Thing", ()), "does not exist"),
    ],
)
def test_api_checker_flags_bad_references(reference, expected):
    problem = api_problem(reference)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem


# --------------------------------------------------------------------------- notebook links


def make_notebook(path: Path, tags_per_cell: list[list[str]]) -> None:
    notebook = nbformat.v4.new_notebook()
    for tags in tags_per_cell:
        cell = nbformat.v4.new_code_cell("x = 1")
        if tags:
            cell.metadata["tags"] = tags
        notebook.cells.append(cell)
    nbformat.write(notebook, path)


@pytest.fixture
def tiny_notebooks(tmp_path):
    make_notebook(tmp_path / "00_start_here.ipynb", [["first-run"], [], ["check-learned"]])
    make_notebook(tmp_path / "02_learning_rate.ipynb", [["lr-sweep", "claim"]])
    return tmp_path


def test_link_checks_accept_good_links(bank, tiny_notebooks):
    chosen = [
        next(q for q in bank if (q.notebook, q.cell) == ("00_start_here", "first-run")),
        next(q for q in bank if (q.notebook, q.cell) == ("02_learning_rate", "lr-sweep")),
    ]
    assert broken_links(chosen, tiny_notebooks) == []
    assert cell_tags(tiny_notebooks / "02_learning_rate.ipynb") == {"lr-sweep", "claim"}


def test_link_checks_report_missing_cell_and_missing_notebook(bank, tiny_notebooks):
    missing_cell = next(
        q for q in bank if (q.notebook, q.cell) == ("02_learning_rate", "schedules")
    )
    missing_notebook = next(q for q in bank if q.notebook == "03_batch_size")
    problems = broken_links([missing_cell, missing_notebook], tiny_notebooks)
    assert len(problems) == 2
    assert "no cell tagged 'schedules'" in problems[0]
    assert "03_batch_size.ipynb does not exist" in problems[1]


def test_unlinked_notebook_is_reported(bank, tiny_notebooks):
    make_notebook(tiny_notebooks / "99_nobody_links_here.ipynb", [[]])
    (tiny_notebooks / "scratch.ipynb").write_text("{}")  # not a course notebook: ignored
    assert unlinked_notebooks(bank, tiny_notebooks) == ["99_nobody_links_here"]


def test_links_follow_the_notebook_contract(bank):
    linked = Counter(q.notebook for q in bank if q.notebook)
    assert set(linked) <= set(CONTRACT)
    assert set(CONTRACT) <= set(linked), "every contracted notebook needs a question"
    for q in (q for q in bank if q.notebook):
        assert q.cell in CONTRACT[q.notebook], (q.id, q.cell)


def test_real_notebooks_have_every_linked_cell_and_are_all_linked(bank):
    """Runs on the real notebooks/ folder; fails until the contracted notebooks exist."""
    assert broken_links(bank, NOTEBOOKS_DIR) == []
    assert unlinked_notebooks(bank, NOTEBOOKS_DIR) == []


# --------------------------------------------------------------------------- rendering


def test_rendered_files_are_up_to_date(bank):
    stale = render.stale_files(bank, BANK_DIR)
    assert stale == [], f"stale: {stale}; run `python -m hpcourse.quiz.render`"


def test_render_check_reports_a_stale_file(bank, tmp_path, capsys):
    bank_copy = tmp_path / "bank.yaml"
    bank_copy.write_text((BANK_DIR / "bank.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "schema.json").write_text((BANK_DIR / "schema.json").read_text(encoding="utf-8"))
    args = ["--bank", str(bank_copy)]
    assert render.main(args) == 0
    assert render.main([*args, "--check"]) == 0
    medium = tmp_path / "medium_questions.md"
    medium.write_text(medium.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    assert render.main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert "medium_questions.md is stale" in err
    assert "easy_questions.md" not in err


def test_rendered_markdown_folds_answers_and_links_notebooks(bank):
    files = render.render_all(bank)
    assert set(files) == {f"{d}_questions.md" for d in DIFFICULTIES}
    for difficulty in DIFFICULTIES:
        text = files[f"{difficulty}_questions.md"]
        n = sum(q.difficulty == difficulty for q in bank)
        assert text.count("<details>") == n == text.count("</details>")
        for q in (q for q in bank if q.difficulty == difficulty):
            assert f'<a id="{q.id}"></a>' in text
            if q.notebook:
                assert f"](../notebooks/{q.notebook}.ipynb)" in text
    assert render.render_all(bank) == files  # deterministic
