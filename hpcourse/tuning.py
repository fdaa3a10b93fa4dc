"""Automated tuning with Optuna: the course's search spaces and objectives, unchanged, on a
real tuning engine, from one notebook to many processes and machines.

* :func:`suggest` asks an Optuna trial for a config on a :class:`~hpcourse.space.SearchSpace`
  (log scales stay log; a one-minus-log beta is suggested as ``1 - beta`` on a log scale);
* :func:`optuna_objective` wraps any course objective (a function of a config dict that
  returns metrics, e.g. :class:`hpcourse.search.TrainObjective`) as an Optuna objective;
* :func:`pruned_objective` trains with :func:`hpcourse.train`, reports the validation
  loss after every epoch and stops the run when Optuna's pruner says so: automated
  babysitting. The epochs each trial really trained are kept in its user attributes;
* :func:`run_study` / :func:`study_table`: one call to tune, one table of trials with the
  best value so far, ready to compare samplers and pruners.

Storage (where the trials live) is in :mod:`hpcourse.workers`: several processes, or
several machines, share one study there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.seeding import resolve_seed
from hpcourse.space import Choice, Int, SearchSpace
from hpcourse.validation import check_choice, check_number

SAMPLERS = ("tpe", "random")
PRUNERS = ("none", "median", "halving")


def suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """A config for this trial, each dimension suggested on its own scale.

    >>> import optuna
    >>> from hpcourse.space import Float
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> space = SearchSpace({"lr": Float(1e-4, 1, "log"), "beta": Float(0.9, 0.999,
    ...                      "one_minus_log"), "layers": Int(1, 3)})
    >>> config = suggest(study.ask(), space)
    >>> 1e-4 <= config["lr"] <= 1 and 0.9 <= config["beta"] <= 0.999, config["layers"] in (1, 2, 3)
    (True, True)
    """
    config: dict[str, Any] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            config[name] = trial.suggest_categorical(name, list(dim.options))
        elif isinstance(dim, Int):
            config[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.scale == "log")
        elif dim.scale == "one_minus_log":  # what matters is 1 - beta, on a log scale
            gap = trial.suggest_float(f"1-{name}", 1 - dim.high, 1 - dim.low, log=True)
            config[name] = 1 - gap
        else:
            config[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.scale == "log")
    return config


def optuna_objective(
    objective: Callable[[dict[str, Any]], Mapping[str, Any]],
    space: SearchSpace,
    metric: str = "final_val_loss",
) -> Callable[[Any], float]:
    """An Optuna objective from a course objective: suggest a config, run it, return
    ``metric``. The other metrics are kept as the trial's user attributes. A diverged run
    (an infinite loss) is reported as failed, which Optuna's samplers know how to treat."""

    def run(trial: Any) -> float:
        config = suggest(trial, space)
        metrics = dict(objective(config))
        for key, value in metrics.items():
            if isinstance(value, (int, float, str, bool)):
                trial.set_user_attr(key, value)
        value = float(metrics[metric])
        if not math.isfinite(value):
            raise ValueError(f"{metric}={value}: the run diverged")
        return value

    return run


def pruned_objective(
    data: Dataset,
    base: TrainConfig | dict[str, Any] | None,
    space: SearchSpace,
) -> Callable[[Any], float]:
    """Train ``base`` with the trial's config; after every epoch report the validation loss
    and stop early if the study's pruner says the trial is not worth finishing.

    The epochs each trial trained go to ``trial.user_attrs["epochs"]`` (a pruned trial
    trained fewer), so a study can be charged for what it really spent.
    """
    import optuna

    from hpcourse.training import train

    base_config = as_config(base)

    def run(trial: Any) -> float:
        config = base_config.replace(**suggest(trial, space))
        pruned = False

        def report(history: Any, optimizer: Any) -> str | None:
            nonlocal pruned
            epoch = history.epoch[-1]
            trial.report(history.val_loss[-1], epoch)
            if trial.should_prune():
                pruned = True
                return "stop"
            return None

        history = train(config, data, on_epoch=report)
        trial.set_user_attr("epochs", history.epochs_run)
        trial.set_user_attr("final_val_acc", history.final_val_acc)
        if pruned:
            raise optuna.TrialPruned(f"pruned after epoch {history.epochs_run}")
        value = history.final_val_loss
        if not math.isfinite(value):
            raise ValueError("the run diverged")
        return value

    return run


def make_sampler(name: str = "tpe", seed: int | None = None) -> Any:
    """Optuna's TPE or random sampler, seeded (default: the course seed)."""
    import optuna

    check_choice("sampler", name, SAMPLERS)
    seed = resolve_seed(seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(name: str = "median", min_epochs: int = 2) -> Any:
    """No pruner, Optuna's median pruner (stop a trial whose loss at an epoch is worse than
    the median of earlier trials at that epoch), or successive halving."""
    import optuna

    check_choice("pruner", name, PRUNERS)
    check_number("min_epochs", min_epochs, low=1, integer=True)
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=min_epochs)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_epochs, reduction_factor=3)


def run_study(
    objective: Callable[[Any], float],
    n_trials: int,
    *,
    sampler: str = "tpe",
    pruner: str = "none",
    seed: int | None = None,
    storage: Any = None,
    study_name: str | None = None,
) -> Any:
    """Create a study (minimizing) and run ``n_trials`` of ``objective`` in this process.

    Failed trials (a diverged run, an error in the objective) are recorded as failed and
    the study goes on."""
    import optuna

    check_number("n_trials", n_trials, low=1, integer=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=make_sampler(sampler, seed),
        pruner=make_pruner(pruner),
        storage=storage,
        study_name=study_name,
        load_if_exists=study_name is not None,
    )
    study.optimize(objective, n_trials=n_trials, catch=(ValueError, RuntimeError))
    return study


def study_table(study: Any) -> pd.DataFrame:
    """One row per trial: number, state, value, params, user attributes, best so far."""
    rows = []
    for t in study.trials:
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "value": t.value if t.value is not None else math.nan,
                **t.params,
                **{f"attr.{k}": v for k, v in t.user_attrs.items()},
            }
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        table["best_so_far"] = table["value"].where(table["state"] == "COMPLETE").cummin().ffill()
    return table


__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "make_pruner",
    "make_sampler",
    "optuna_objective",
    "pruned_objective",
    "run_study",
    "study_table",
    "suggest",
]
