"""hpcourse: the helper package of a hands-on course on choosing neural-network hyperparameters.

Importing it changes nothing global; notebooks call :func:`hpcourse.setup` once to
seed everything. The main pieces:

* :func:`load_dataset` (``hpcourse.data``): digits, MNIST-1D, FashionMNIST, split three ways;
* :class:`TrainConfig` and :func:`train` (``hpcourse.config``, ``hpcourse.training``);
* :class:`ExperimentLog` (``hpcourse.tracking``): a crash-safe log of runs;
* ``hpcourse.plots``, ``hpcourse.exercises``, ``hpcourse.quiz``.
"""

from hpcourse.config import TrainConfig
from hpcourse.data import Dataset, load_dataset
from hpcourse.models import MLP, count_parameters
from hpcourse.runtime import setup
from hpcourse.tracking import ExperimentLog
from hpcourse.training import History, evaluate, results_table, train, train_many

__version__ = "0.1.0"

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
