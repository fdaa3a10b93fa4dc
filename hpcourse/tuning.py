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
  best value so far, ready to compare samplers and pruners;
* :func:`race`: several (sampler, pruner) methods on several seeds, each study stopped at
  the same budget of *epochs* (a pruned trial is cheap, so counting trials would be unfair),
  with best-so-far curves against the epochs spent (:class:`Race`).

Storage (where the trials live) is in :mod:`hpcourse.workers`: several processes, or
several machines, share one study there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    *,
    translate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[Any], float]:
    """Train ``base`` with the trial's config; after every epoch report the validation loss
    and stop early if the study's pruner says the trial is not worth finishing.

    The epochs each trial trained go to ``trial.user_attrs["epochs"]`` (a pruned trial
    trained fewer), so a study can be charged for what it really spent. ``translate``
    turns a suggested config into config fields, as in
    :class:`hpcourse.search.TrainObjective` (e.g. :func:`hpcourse.search.width_as_hidden`).
    """
    import optuna

    from hpcourse.training import train

    base_config = as_config(base)

    def run(trial: Any) -> float:
        values = suggest(trial, space)
        config = base_config.replace(**(translate(values) if translate else values))
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
    epoch_budget: int | None = None,
    quiet: bool = False,
) -> Any:
    """Create a study (minimizing) and run ``n_trials`` of ``objective`` in this process.

    Failed trials (a diverged run, an error in the objective) are recorded as failed and
    the study goes on. With ``epoch_budget``, the study stops as soon as its trials have
    trained that many epochs in all (read from each trial's ``"epochs"`` attribute, which
    :func:`pruned_objective` sets): methods that stop bad trials early get more trials for
    the same compute. ``quiet`` keeps Optuna from logging each failed (diverged) trial."""
    import optuna

    check_number("n_trials", n_trials, low=1, integer=True)
    if epoch_budget is not None:
        check_number("epoch_budget", epoch_budget, low=1, integer=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR if quiet else optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=make_sampler(sampler, seed),
        pruner=make_pruner(pruner),
        storage=storage,
        study_name=study_name,
        load_if_exists=study_name is not None,
    )
    callbacks = [] if epoch_budget is None else [_stop_at(epoch_budget)]
    study.optimize(
        objective, n_trials=n_trials, catch=(ValueError, RuntimeError), callbacks=callbacks
    )
    return study


def _stop_at(epoch_budget: int) -> Callable[[Any, Any], None]:
    def callback(study: Any, trial: Any) -> None:
        spent = sum(t.user_attrs.get("epochs", 0) for t in study.get_trials(deepcopy=False))
        if spent >= epoch_budget:
            study.stop()

    return callback


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


#: Tuning methods compared in lesson 11: (sampler, pruner) pairs.
METHODS: dict[str, tuple[str, str]] = {
    "random": ("random", "none"),
    "tpe": ("tpe", "none"),
    "random + halving": ("random", "halving"),
}


@dataclass
class Race:
    """Several tuning methods, each run on several seeds with the same epoch budget.

    ``table``: one row per trial (method, seed, trial, state, value, epochs, epochs_spent,
    best_so_far, then the trial's parameters); ``studies``: the Optuna study of each
    ``(method, seed)``.
    """

    table: pd.DataFrame
    studies: dict[tuple[str, int], Any]
    epoch_budget: int

    def final(self) -> pd.DataFrame:
        """Per method and seed: trials run, epochs spent and the best value found."""
        groups = self.table.groupby(["method", "seed"], sort=False)
        return groups.agg(
            trials=("trial", "size"),
            epochs=("epochs", "sum"),
            best=("best_so_far", "last"),
        ).reset_index()

    def best_at(self, method: str, seed: int, epochs: float) -> float:
        """The best value ``method`` had found on ``seed`` once it had spent no more than
        ``epochs`` epochs (NaN if nothing had finished by then)."""
        rows = self.table[(self.table["method"] == method) & (self.table["seed"] == seed)]
        if rows.empty:
            raise ValueError(
                f"method={method!r}, seed={seed!r} is not allowed: the race has no such study."
            )
        return best_at_epochs(rows, [epochs])[0]

    def curves(self, grid: Sequence[float]) -> dict[str, list[list[float]]]:
        """Best-so-far of each method and seed read at each number of epochs in ``grid``
        (NaN before the first finished trial): ready for
        :func:`hpcourse.plots.tracking.plot_best_so_far` with ``x=grid``."""
        out: dict[str, list[list[float]]] = {}
        for (method, _seed), rows in self.table.groupby(["method", "seed"], sort=False):
            out.setdefault(str(method), []).append(best_at_epochs(rows, grid))
        return out


def running_best(values: Sequence[float]) -> list[float]:
    """The lowest value so far at each trial; NaN (a failed or pruned trial) changes nothing,
    and before the first finished trial there is no best (NaN).

    >>> running_best([float("nan"), 2.0, float("nan"), 1.0, 3.0])
    [nan, 2.0, 2.0, 1.0, 1.0]
    """
    return [float(v) for v in pd.Series(list(values), dtype=float).cummin().ffill()]


def best_at_epochs(table: pd.DataFrame, grid: Sequence[float]) -> list[float]:
    """The best value so far once ``epochs_spent`` reached no more than each budget in
    ``grid`` (a step function of the compute spent; NaN before any trial finished).

    >>> t = pd.DataFrame({"epochs_spent": [5, 10, 12], "best_so_far": [2.0, 1.5, 1.0]})
    >>> best_at_epochs(t, [4, 5, 11, 20])
    [nan, 2.0, 1.5, 1.0]
    """
    spent = table["epochs_spent"].to_numpy(dtype=float)
    best = table["best_so_far"].to_numpy(dtype=float)
    out = []
    for budget in grid:
        done = best[spent <= budget]
        out.append(float(done[-1]) if len(done) else math.nan)
    return out


def race(
    data: Dataset,
    base: TrainConfig | dict[str, Any] | None,
    space: SearchSpace,
    *,
    seeds: Sequence[int],
    epoch_budget: int,
    methods: Mapping[str, tuple[str, str]] | None = None,
    translate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    max_trials: int = 500,
    progress: bool = True,
) -> Race:
    """Run each method (a ``(sampler, pruner)`` pair, default :data:`METHODS`) once per seed,
    each study stopping when its trials have trained ``epoch_budget`` epochs in all.

    Every trial trains with :func:`pruned_objective` (per-epoch reports; a method without a
    pruner simply never stops one), so all methods pay for compute the same way.
    """
    from hpcourse.progress import progress as bar

    check_number("epoch_budget", epoch_budget, low=1, integer=True)
    methods = dict(METHODS if methods is None else methods)
    if not seeds:
        raise ValueError("seeds=[] is not allowed: give at least one seed.")
    for name, (sampler, pruner) in methods.items():
        check_choice(f"methods[{name!r}] sampler", sampler, SAMPLERS)
        check_choice(f"methods[{name!r}] pruner", pruner, PRUNERS)
    objective = pruned_objective(data, base, space, translate=translate)
    tables, studies = [], {}
    jobs = [(m, s) for s in seeds for m in methods]
    for method, seed in bar(jobs, desc="studies", enabled=progress):
        sampler, pruner = methods[method]
        study = run_study(
            objective,
            max_trials,
            sampler=sampler,
            pruner=pruner,
            seed=int(seed),
            epoch_budget=epoch_budget,
            quiet=True,
        )
        studies[(method, int(seed))] = study
        table = with_epochs_spent(study_table(study))
        tables.append(table.assign(method=method, seed=int(seed)))
    table = pd.concat(tables, ignore_index=True)
    first = ["method", "seed", "trial", "state", "value", "epochs", "epochs_spent", "best_so_far"]
    rest = [c for c in table.columns if c not in first and not c.startswith("attr.")]
    return Race(table[first + rest], studies, epoch_budget)


def with_epochs_spent(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``epochs`` (each trial's, from its ``attr.epochs``) and ``epochs_spent`` (their
    running total, in trial order): the x axis on which methods that prune are fair."""
    if "attr.epochs" not in table:
        raise ValueError(
            "table is not allowed: it has no 'attr.epochs' column (train trials with "
            "pruned_objective, which records the epochs each one trained)."
        )
    out = table.sort_values("trial", kind="stable").reset_index(drop=True)
    out["epochs"] = out["attr.epochs"].fillna(0).astype(int)
    out["epochs_spent"] = out["epochs"].cumsum()
    return out


__all__ = [
    "METHODS",
    "PRUNERS",
    "Race",
    "best_at_epochs",
    "SAMPLERS",
    "make_pruner",
    "make_sampler",
    "optuna_objective",
    "pruned_objective",
    "race",
    "run_study",
    "running_best",
    "study_table",
    "suggest",
    "with_epochs_spent",
]
