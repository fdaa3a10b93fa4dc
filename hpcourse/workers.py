"""One study, many workers: where the trials live, and processes that share them.

An Optuna *study* can live in a storage that several processes read and write at once.
Each worker asks the storage for the next trial, trains it, and writes the result back;
the sampler sees every worker's results. So scaling out is the same code with another
storage:

* on one machine, :func:`journal_storage`: an append-only file with a lock, safe for
  concurrent writers (SQLite, by contrast, is known to fail under parallel writers);
* past one machine, a relational database all machines reach, e.g. PostgreSQL:
  ``"postgresql+psycopg2://user@host:5432/db"`` (:func:`storage_from_url`).

The workers are separate Python processes started with :func:`start_workers`, running
``python -m hpcourse.workers``. They cannot receive a function defined in a notebook, so
the objective is named: one of :data:`OBJECTIVES`, or ``"package.module:function"``
returning an Optuna objective. Create the study once (:func:`create_study`) *before* the
workers start: two workers that both create the schema of a fresh database race.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hpcourse.validation import check_number


def journal_storage(path: str | os.PathLike) -> Any:
    """A journal file storage at ``path``, for several processes on one machine."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def storage_from_url(url: str) -> Any:
    """A storage from a URL: ``journal:///path/to/file.log`` or a database URL
    (``postgresql+psycopg2://...``, ``sqlite:///...``), checked before it is used.

    An unreachable database raises a ``ValueError`` that names the URL and what to check;
    nothing is written anywhere before the connection works.
    """
    if not isinstance(url, str) or not url:
        raise ValueError(f"url={url!r} is not allowed: give a storage URL.")
    if url.startswith("journal://"):
        return journal_storage(url.removeprefix("journal://"))
    import optuna
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args=_timeout_args(url))
        with engine.connect():
            pass
    except Exception as err:  # the driver's own exception types vary
        raise ValueError(
            f"storage url={_hide_password(url)!r} is not reachable ({type(err).__name__}: "
            f"{str(err).splitlines()[0]}). Check that the database server is running, that "
            "host, port, user and database name are right, and that this machine may connect."
        ) from err
    finally:
        if "engine" in locals():
            engine.dispose()
    return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": _timeout_args(url)})


def _timeout_args(url: str) -> dict[str, Any]:
    return {"connect_timeout": 5} if url.startswith("postgresql") else {}


def _hide_password(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


def create_study(storage: Any, study_name: str, *, sampler: str = "tpe", seed: int = 0) -> Any:
    """Create ``study_name`` in ``storage`` (minimizing), or load it if it exists."""
    import optuna

    from hpcourse.tuning import make_sampler

    return optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="minimize",
        sampler=make_sampler(sampler, seed),
        load_if_exists=True,
    )


def _digits_lr(trial: Any) -> float:
    """A small, fast objective: MLP on digits, lr and momentum searched, 3 epochs."""
    from hpcourse.data import load_dataset
    from hpcourse.search import TrainObjective
    from hpcourse.space import Float, SearchSpace
    from hpcourse.tuning import optuna_objective

    space = SearchSpace(
        {"lr": Float(1e-3, 1.0, "log"), "momentum": Float(0.5, 0.99, "one_minus_log")}
    )
    base = {"optimizer": "momentum", "epochs": 3, "hidden": [32]}
    objective = optuna_objective(TrainObjective(load_dataset("digits"), base), space)
    return objective(trial)


def _quick(trial: Any) -> float:
    """No training at all: a quadratic in one parameter (for tests of the plumbing)."""
    x = trial.suggest_float("x", -3.0, 3.0)
    return (x - 1.0) ** 2


#: Objectives a worker process can run by name.
OBJECTIVES: dict[str, Callable[[Any], float]] = {"digits-lr": _digits_lr, "quadratic": _quick}


def resolve_objective(name: str) -> Callable[[Any], float]:
    """An objective by name: one of :data:`OBJECTIVES` or ``"module:function"``."""
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if ":" in name:
        module, attr = name.split(":", 1)
        return getattr(importlib.import_module(module), attr)
    raise ValueError(
        f"objective={name!r} is not allowed: give one of {', '.join(sorted(OBJECTIVES))} or "
        "'package.module:function'."
    )


def start_workers(
    n_workers: int,
    storage_url: str,
    study_name: str,
    objective: str,
    trials_per_worker: int,
    *,
    seed: int = 0,
) -> list[subprocess.Popen[str]]:
    """Start ``n_workers`` processes that each run ``trials_per_worker`` trials of
    ``objective`` on the shared study; returns them (``.wait()`` for them to finish)."""
    check_number("n_workers", n_workers, low=1, high=64, integer=True)
    check_number("trials_per_worker", trials_per_worker, low=1, integer=True)
    resolve_objective(objective)  # fail here, not in every worker
    env = {**os.environ, "HPCOURSE_THREADS": "1"}
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hpcourse.workers",
                "--storage",
                storage_url,
                "--study",
                study_name,
                "--objective",
                objective,
                "--trials",
                str(trials_per_worker),
                "--seed",
                str(seed + 1000 * (k + 1)),
                "--name",
                f"worker-{k + 1}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(n_workers)
    ]


def _signed(objective: Callable[[Any], float], name: str) -> Callable[[Any], float]:
    """The objective, with the worker's name written into each trial's user attributes
    (``trial.user_attrs["worker"]``) before it runs: who ran what stays visible."""

    def run(trial: Any) -> float:
        trial.set_user_attr("worker", name)
        return objective(trial)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """One worker: load the study and run trials until its share is done."""
    import optuna

    from hpcourse.tuning import make_sampler

    parser = argparse.ArgumentParser(description="Run trials of a shared Optuna study.")
    parser.add_argument("--storage", required=True, help="journal:///file or a database URL")
    parser.add_argument("--study", required=True)
    parser.add_argument("--objective", required=True)
    parser.add_argument("--trials", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default=None, help="kept in each trial's user attributes")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage_from_url(args.storage)
    study = optuna.load_study(
        study_name=args.study, storage=storage, sampler=make_sampler("tpe", args.seed)
    )
    objective = _signed(resolve_objective(args.objective), args.name or f"pid-{os.getpid()}")
    study.optimize(objective, n_trials=args.trials, catch=(ValueError, RuntimeError))
    print(f"worker {os.getpid()}: {args.trials} trials done")
    return 0


__all__ = [
    "OBJECTIVES",
    "create_study",
    "journal_storage",
    "resolve_objective",
    "start_workers",
    "storage_from_url",
]


if __name__ == "__main__":
    sys.exit(main())
