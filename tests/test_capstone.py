"""The capstone's budget, its audit of training done around it, the sealed test split, the
leaderboard (local file and workshop mode) and the notebook's exercise checker."""

from __future__ import annotations

import json

import pytest

import hpcourse as hp
import hpcourse.training as training
from hpcourse import capstone, ledger
from hpcourse.capstone import (
    STORAGE_VAR,
    Budget,
    BudgetExceeded,
    Capstone,
    Leaderboard,
    describe_config,
    epochs_trained,
    reference_configs,
)

SMALL = {"epochs": 2, "hidden": (16,), "batch_size": 64, "lr": 0.05}


@pytest.fixture(scope="module")
def digits():
    return hp.load_dataset("digits")


@pytest.fixture(autouse=True)
def _no_workshop(monkeypatch):
    monkeypatch.delenv(STORAGE_VAR, raising=False)


def make(digits, tmp_path, epochs=10, seconds=600.0, name="ada"):
    board = Leaderboard(tmp_path / "board.jsonl")
    return Capstone(name, budget=Budget(epochs, seconds), data=digits, leaderboard=board)


# --------------------------------------------------------------------------- budget


def test_budget_refusal_names_what_remains():
    b = Budget(epochs=10, seconds=60)
    b.charge(4, 1.0)
    with pytest.raises(BudgetExceeded, match=r"needs 8 model-epochs but only 6 of 10 remain"):
        b.check(8)
    assert isinstance(BudgetExceeded("x"), ValueError)
    b.charge(0, 59.5)
    with pytest.raises(BudgetExceeded, match=r"time budget of 60 s is spent.*6 model-epochs"):
        b.check(1)


@pytest.mark.parametrize("field,value", [("epochs", 0), ("seconds", -1), ("epochs", "ten")])
def test_budget_bad_input_names_the_argument(field, value):
    kwargs = {"epochs": 10, "seconds": 10, field: value}
    with pytest.raises(ValueError, match=field):
        Budget(**kwargs)


def test_capstone_bad_input(digits, tmp_path):
    with pytest.raises(ValueError, match="participant=''"):
        Capstone("", data=digits, leaderboard=Leaderboard(tmp_path / "b.jsonl"))
    with pytest.raises(ValueError, match="budget="):
        Capstone("x", budget=100, data=digits, leaderboard=Leaderboard(tmp_path / "b.jsonl"))
    cap = make(digits, tmp_path)
    with pytest.raises(ValueError, match=r"configs=\[\]"):
        cap.train_many([])


def test_a_run_that_does_not_fit_is_refused_and_nothing_trains(digits, tmp_path):
    cap = make(digits, tmp_path, epochs=5)
    before = ledger.model_epochs()
    with pytest.raises(BudgetExceeded, match=r"only 5 of 5 remain"):
        cap.train({**SMALL, "epochs": 6})
    with pytest.raises(BudgetExceeded, match=r"needs 6 model-epochs"):
        cap.train_many([SMALL, SMALL, SMALL])
    assert cap.runs == [] and ledger.model_epochs() == before


def test_spend_is_charged_and_the_ledger_agrees(digits, tmp_path):
    cap = make(digits, tmp_path, epochs=10)
    h = cap.train(SMALL)
    hs = cap.train_many([SMALL, {**SMALL, "lr": 0.2}])
    assert epochs_trained(h) == pytest.approx(2)
    assert cap.budget.spent_epochs == pytest.approx(6)
    assert cap.ledger_epochs == pytest.approx(6)
    assert cap.budget.remaining_epochs == pytest.approx(4)
    assert cap.runs == [h, *hs] and cap.unaccounted_epochs == 0
    assert cap.budget.spent_seconds > 0
    table = cap.spend_table()
    assert table["epochs"].tolist() == [2, 2, 2] and "lr=0.2" in table["config"].iloc[2]


def test_search_stops_at_the_limit_and_says_so(digits, tmp_path, capsys):
    cap = make(digits, tmp_path, epochs=5)
    done = cap.search([SMALL, {**SMALL, "lr": 0.1}, {**SMALL, "lr": 0.2}])
    assert len(done) == 2 and cap.budget.spent_epochs == pytest.approx(4)
    said = capsys.readouterr().out
    assert "budget reached: 2 of 3 configs trained" in said and "1 remain" in said
    with pytest.raises(BudgetExceeded, match="only 1 of 5 remain"):
        cap.search([SMALL])


def test_the_seconds_cap_stops_a_run_at_the_limit(digits, tmp_path, capsys):
    cap = make(digits, tmp_path, epochs=100, seconds=0.05)
    h = cap.train({**SMALL, "epochs": 60})
    assert 1 <= h.epochs_run < 60
    assert "time budget reached: the run stopped after epoch" in capsys.readouterr().out
    assert cap.budget.spent_epochs == pytest.approx(h.epochs_run)
    with pytest.raises(BudgetExceeded, match="time budget of 0.05 s is spent"):
        cap.train(SMALL)


# --------------------------------------------------------------------------- submitting


def test_training_around_the_capstone_is_caught_at_submission(digits, tmp_path):
    cap = make(digits, tmp_path)
    h = cap.train(SMALL)
    hp.train(SMALL, digits)  # straight past the budget
    assert cap.unaccounted_epochs == pytest.approx(2)
    with pytest.raises(ValueError, match=r"2.0 model-epochs were trained .* outside"):
        cap.submit(h)
    assert not (tmp_path / "board.jsonl").exists()


def test_population_training_around_the_capstone_is_caught(digits, tmp_path):
    cap = make(digits, tmp_path)
    h = cap.train(SMALL)
    hp.train_many([SMALL, {**SMALL, "lr": 0.1}], digits, engine="population", progress=False)
    with pytest.raises(ValueError, match=r"4.0 model-epochs"):
        cap.submit(h)


def test_the_test_split_is_evaluated_once_per_submission_and_never_before(
    digits, tmp_path, monkeypatch
):
    cap = make(digits, tmp_path)
    assert len(cap.data.x_test) == 0 and len(cap.data.y_test) == 0  # sealed
    sealed = cap._test[0]
    looks = []
    original = training.evaluate

    def counting(model, x, y, *args, **kwargs):
        if x is sealed:
            looks.append(len(y))
        return original(model, x, y, *args, **kwargs)

    monkeypatch.setattr(training, "evaluate", counting)
    h1 = cap.train(SMALL)
    h2 = cap.train(SMALL | {"lr": 0.1})
    assert looks == []
    entry = cap.submit(h1, note="first")
    assert looks == [len(digits.y_test)]
    assert 0 < entry["test_acc"] <= 1 and entry["epochs_used"] == pytest.approx(4)
    with pytest.raises(ValueError, match="already submitted"):
        cap.submit(h1)
    cap.submit(h2)
    assert len(looks) == 2
    other = hp.train(SMALL, digits)
    with pytest.raises(ValueError, match="trained through this capstone"):
        cap.submit(other)


def test_a_diverged_run_cannot_be_submitted(digits, tmp_path):
    cap = make(digits, tmp_path)
    h = cap.train({**SMALL, "lr": 1e4})
    assert h.diverged
    with pytest.raises(ValueError, match="diverged"):
        cap.submit(h)


def test_leaderboard_is_sorted_and_survives_a_torn_last_line(digits, tmp_path):
    cap = make(digits, tmp_path)
    low, high = cap.train_many([{**SMALL, "lr": 1e-3}, {**SMALL, "lr": 0.2}])
    cap.submit(low)
    cap.submit(high)
    path = tmp_path / "board.jsonl"
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"participant": "crash", "val_acc": 1.0})[:20])  # no newline
    with pytest.warns(UserWarning, match="incomplete or damaged"):
        table = Leaderboard(path).table()
    assert len(table) == 2 and table["val_acc"].is_monotonic_decreasing
    assert list(table.columns)[:5] == [
        "participant",
        "val_acc",
        "test_acc",
        "epochs_used",
        "seconds_used",
    ]
    assert "lr=0.2" in table["config"].iloc[0]
    # the next submission after the crash is kept whole
    cap2 = make(digits, tmp_path, name="bo")
    cap2.submit(cap2.train(SMALL))
    with pytest.warns(UserWarning):
        assert len(Leaderboard(path).table()) == 3


def test_an_empty_leaderboard_has_the_columns(tmp_path):
    table = Leaderboard(tmp_path / "none.jsonl").table()
    assert table.empty and "participant" in table.columns


# --------------------------------------------------------------------------- workshop mode


@pytest.mark.parametrize("kind", ["inmemory", "journal"])
def test_workshop_mode_shares_runs_and_submissions(digits, tmp_path, monkeypatch, kind):
    url = "inmemory://" if kind == "inmemory" else f"journal://{tmp_path / 'room.log'}"
    capstone._STORAGES.pop(url, None)
    monkeypatch.setenv(STORAGE_VAR, url)
    a = Capstone("ada", budget=Budget(10, 600), data=digits)
    b = Capstone("bo", budget=Budget(10, 600), data=digits)
    assert a.leaderboard.storage_url == url and url in a.leaderboard.where
    a.submit(a.train(SMALL))
    b.submit(b.train({**SMALL, "lr": 0.1}))
    table = Leaderboard.default().table()
    assert sorted(table["participant"]) == ["ada", "bo"]
    assert table["val_acc"].is_monotonic_decreasing
    import optuna

    runs = optuna.load_study(study_name=capstone.RUNS_STUDY, storage=capstone.open_storage(url))
    assert {t.user_attrs["participant"] for t in runs.trials} == {"ada", "bo"}
    if kind == "journal":  # another process (a fresh cache) sees the same room
        capstone._STORAGES.pop(url)
        assert len(Leaderboard.default().table()) == 2


def test_an_unreachable_storage_names_the_url_and_writes_nothing(digits, tmp_path, monkeypatch):
    url = "postgresql+psycopg2://room@127.0.0.1:9/workshop"
    monkeypatch.setenv(STORAGE_VAR, url)
    before = ledger.model_epochs()
    with pytest.raises(ValueError, match=r"127\.0\.0\.1:9/workshop.*not reachable.*Check"):
        Capstone("ada", data=digits)
    assert ledger.model_epochs() == before and url not in capstone._STORAGES
    board = Leaderboard(tmp_path / "local.jsonl", storage_url=url)
    with pytest.raises(ValueError, match="not reachable"):
        board.add({"participant": "ada", "config": {}, "val_acc": 0.5})
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- reference


def test_reference_fits_the_default_budget():
    configs = reference_configs()
    assert sum(c.epochs for c in configs) <= capstone.DEFAULT_EPOCHS
    assert len({c.lr for c in configs}) == len(configs)


def test_describe_config_lists_what_differs():
    assert describe_config(hp.TrainConfig()) == "defaults"
    text = describe_config(hp.TrainConfig(lr=0.01, hidden=(64, 64)).to_dict())
    assert text == "lr=0.01, hidden=(64, 64)"


def test_default_config_follows_the_course_seed():
    from hpcourse import seeding

    before = seeding.course_seed()
    try:
        hp.setup(seed=3)
        assert capstone.default_config().seed == 3
        assert all(c.seed == 3 for c in reference_configs())
    finally:
        hp.setup(seed=before)
    assert capstone.default_config() == hp.TrainConfig(epochs=20, hidden=(128,))
