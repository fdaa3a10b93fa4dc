"""One study, two worker processes: on a journal file and on a real PostgreSQL server, every
trial of both workers lands in the study once; a worker killed mid-trial leaves the study
readable; an unreachable database is named in the error."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import optuna
import pytest

from hpcourse import workers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from postgres import INSTALL_HINT, postgres_server, server_binaries  # noqa: E402


def _run_two_workers(url: str, study: str, trials: int) -> optuna.Study:
    storage = workers.storage_from_url(url)
    workers.create_study(storage, study)  # once, before the workers: no schema race
    procs = workers.start_workers(2, url, study, "quadratic", trials)
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    return optuna.load_study(study_name=study, storage=workers.storage_from_url(url))


def _assert_every_trial_once(study: optuna.Study, expected: int) -> None:
    numbers = [t.number for t in study.trials]
    assert len(numbers) == expected and sorted(numbers) == list(range(expected))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_two_workers_share_a_journal_file(tmp_path):
    study = _run_two_workers(f"journal://{tmp_path / 'study.log'}", "journal", 15)
    _assert_every_trial_once(study, 30)
    assert study.best_value < 0.1  # the quadratic's minimum is 0 at x = 1


@pytest.mark.skipif(server_binaries() is None, reason=INSTALL_HINT)
def test_two_workers_share_a_postgresql_database():
    start = time.perf_counter()
    with postgres_server() as url:
        study = _run_two_workers(url, "postgres", 30)
        _assert_every_trial_once(study, 60)
    print(f"PostgreSQL test: 2 workers x 30 trials in {time.perf_counter() - start:.1f} s")


def test_a_worker_killed_mid_trial_leaves_the_study_readable(tmp_path):
    url = f"journal://{tmp_path / 'study.log'}"
    storage = workers.storage_from_url(url)
    workers.create_study(storage, "killed")
    slow, fast = workers.start_workers(2, url, "killed", "digits-lr", 4)
    deadline = time.time() + 120
    study = optuna.load_study(study_name="killed", storage=storage)
    while time.time() < deadline and not study.get_trials(deepcopy=False):
        time.sleep(0.2)
    os.kill(slow.pid, signal.SIGKILL)  # very likely in the middle of a training run
    slow.wait()
    out, _ = fast.communicate(timeout=300)
    assert fast.returncode == 0, out
    trials = optuna.load_study(study_name="killed", storage=workers.storage_from_url(url)).trials
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) >= 4  # the surviving worker finished its share
    assert len({t.number for t in trials}) == len(trials)


def test_an_unreachable_database_is_named_and_nothing_is_written(tmp_path):
    url = "postgresql+psycopg2://course:secret@127.0.0.1:9/nowhere"
    with pytest.raises(ValueError, match=r"url='postgresql\+psycopg2://course:\*\*\*@127.0.0.1:9"):
        workers.storage_from_url(url)
    with pytest.raises(ValueError, match="objective='nope' is not allowed"):
        workers.start_workers(1, f"journal://{tmp_path / 'x.log'}", "s", "nope", 1)
    assert not (tmp_path / "x.log").exists()
