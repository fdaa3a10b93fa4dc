"""hpcourse: the helper package of a hands-on course on choosing neural-network hyperparameters.

Importing it changes nothing global; notebooks call :func:`hpcourse.setup` once to
set the course's seed (which ``$HPCOURSE_SEED`` overrides). The main pieces:

* :func:`load_dataset` (``hpcourse.data``): digits, MNIST-1D, FashionMNIST, split three ways;
* :class:`TrainConfig` and :func:`train` (``hpcourse.config``, ``hpcourse.training``), which
  returns a :class:`History` (``hpcourse.results``, with the tables a sweep turns into);
* :class:`ExperimentLog` (``hpcourse.tracking``): a crash-safe log of runs;
* ``hpcourse.plots``, ``hpcourse.widgets``, ``hpcourse.exercises``, ``hpcourse.quiz``.

The names below are imported on first use, not at ``import hpcourse``: PyTorch takes
seconds to import, and the terminal quiz (``python -m hpcourse.quiz``) needs none of it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "MLP": "hpcourse.models",
    "count_parameters": "hpcourse.models",
    "Dataset": "hpcourse.data",
    "load_dataset": "hpcourse.data",
    "ExperimentLog": "hpcourse.tracking",
    "History": "hpcourse.results",
    "evaluate": "hpcourse.training",
    "results_table": "hpcourse.results",
    "train": "hpcourse.training",
    "train_many": "hpcourse.training",
    "TrainConfig": "hpcourse.config",
    "setup": "hpcourse.runtime",
}

__all__ = [
    "MLP",
    "Dataset",
    "ExperimentLog",
    "History",
    "TrainConfig",
    "count_parameters",
    "evaluate",
    "load_dataset",
    "results_table",
    "setup",
    "train",
    "train_many",
]

if TYPE_CHECKING:  # for editors and type checkers: the same names, imported eagerly
    from hpcourse.config import TrainConfig
    from hpcourse.data import Dataset, load_dataset
    from hpcourse.models import MLP, count_parameters
    from hpcourse.results import History, results_table
    from hpcourse.runtime import setup
    from hpcourse.tracking import ExperimentLog
    from hpcourse.training import evaluate, train, train_many


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if importlib.util.find_spec(f"hpcourse.{name}") is not None:  # e.g. hp.training, hp.plots
        return importlib.import_module(f"hpcourse.{name}")
    raise AttributeError(f"module 'hpcourse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
