"""Faults to inject into a notebook's kernel, to prove that its claim checks can fail.

A claim check names the faults it must catch: ``# Claim check: ... (catches: lr_scaled)``.
``make claims`` runs the notebook with each named fault injected by a first cell::

    import sys; sys.path.insert(0, "<repo>/tools"); import faults; faults.apply("lr_scaled")

and verifies that the check then fails. The faults live here, outside the package, so
hpcourse carries no sabotage code: each one monkeypatches PyTorch or an hpcourse
function *from outside*, the way a real bug would silently change behaviour while the
config and the History still report what was asked for.

Most faults are at the PyTorch level (optimizer steps, dropout modules, the DataLoader),
so they reach every engine that uses ``torch.optim`` and ``torch.nn``; the rest patch
the one hpcourse function that decides the behaviour (``hpcourse.runs.lr_at`` for the
lr of a step, ``hpcourse.rules`` for divergence and patience, ...). An engine that
bypasses these (say a vectorized optimizer) must add its own patch to the fault.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """A named bug: what it breaks, in one sentence, and the function that injects it."""

    name: str
    description: str
    inject: Callable[[], None]


def _rebind(module: Any, attribute: str, replacement: Any) -> None:
    """Replace ``module.attribute`` and every already-imported hpcourse alias of it.

    Later ``from module import attribute`` statements see the replacement because the
    module attribute itself is replaced; modules that imported the name earlier are
    found and patched here.
    """
    original = getattr(module, attribute)
    setattr(module, attribute, replacement)
    for name, loaded in list(sys.modules.items()):
        if name.startswith("hpcourse") and loaded is not None and loaded is not module:
            for key, value in list(vars(loaded).items()):
                if value is original:
                    setattr(loaded, key, replacement)


def _wrap_step(change: Callable[[dict[str, Any]], None]) -> None:
    """Wrap the ``step`` of torch's optimizers: ``change`` edits each param group for the
    duration of the step, and the group is put back afterwards, so anything that reads
    ``param_groups`` (the History's ``step_lr``, a babysitting callback) sees what was asked."""
    import torch

    for cls in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
        original = cls.step

        @functools.wraps(original)
        def step(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            saved = [dict(group) for group in self.param_groups]
            for group in self.param_groups:
                change(group)
            try:
                return _original(self, *args, **kwargs)
            finally:
                for group, old in zip(self.param_groups, saved, strict=True):
                    group.update({k: v for k, v in old.items() if k != "params"})

        cls.step = step  # type: ignore[method-assign]


def _population_lrs(change: Callable[[Any], Any]) -> None:
    """The population engine computes its members' learning rates in ``step_lrs``."""
    import hpcourse.population as population

    original = population.step_lrs

    def step_lrs(configs: Any, step: int, steps_per_epoch: int) -> Any:
        return change(original(configs, step, steps_per_epoch))

    _rebind(population, "step_lrs", step_lrs)


def _population_settings(change: Callable[[Any, Any], None]) -> None:
    """The population engine reads its optimizer settings in ``optimizer_settings``."""
    import hpcourse.population as population

    original = population.optimizer_settings

    def optimizer_settings(configs: Any) -> Any:
        settings = original(configs)
        change(settings, configs)
        return settings

    _rebind(population, "optimizer_settings", optimizer_settings)


# --------------------------------------------------------------------------- optimizer


def _lr_ignored() -> None:
    def change(group: dict[str, Any]) -> None:
        group["lr"] = 1e-3  # torch's default for SGD and Adam: as if lr were never passed

    _wrap_step(change)
    _population_lrs(lambda lrs: lrs * 0 + 1e-3)


def _lr_scaled() -> None:
    def change(group: dict[str, Any]) -> None:
        group["lr"] = 3.0 * group["lr"]

    _wrap_step(change)
    _population_lrs(lambda lrs: 3.0 * lrs)


def _momentum_ignored() -> None:
    def change(group: dict[str, Any]) -> None:
        if "momentum" in group:
            group["momentum"] = 0.0
            group["nesterov"] = False

    def settings_change(settings: Any, configs: Any) -> None:
        settings.momentum.zero_()
        settings.nesterov.zero_()

    _wrap_step(change)
    _population_settings(settings_change)


def _weight_decay_ignored() -> None:
    def change(group: dict[str, Any]) -> None:
        group["weight_decay"] = 0.0

    def settings_change(settings: Any, configs: Any) -> None:
        settings.weight_decay.zero_()

    _wrap_step(change)
    _population_settings(settings_change)


def _adam_is_momentum() -> None:
    import torch

    import hpcourse.population as population

    population.FAMILIES["adam"] = population.FAMILIES["adamw"] = "sgd"

    def settings_change(settings: Any, configs: Any) -> None:
        for k, config in enumerate(configs):
            if config.optimizer in ("adam", "adamw"):
                settings.momentum[k] = config.betas[0]
                settings.nesterov[k] = 0.0

    _population_settings(settings_change)

    class SGDPosingAsAdam(torch.optim.SGD):
        def __init__(
            self,
            params: Any,
            lr: float = 1e-3,
            betas: tuple[float, float] = (0.9, 0.999),
            eps: float = 1e-8,
            weight_decay: float = 0.0,
            **_: Any,
        ) -> None:
            super().__init__(params, lr=lr, momentum=betas[0], weight_decay=weight_decay)

    torch.optim.Adam = SGDPosingAsAdam  # type: ignore[misc,assignment]
    torch.optim.AdamW = SGDPosingAsAdam  # type: ignore[misc,assignment]


def _adam_betas_swapped() -> None:
    def change(group: dict[str, Any]) -> None:
        if "betas" in group:
            group["betas"] = (group["betas"][1], group["betas"][0])

    def settings_change(settings: Any, configs: Any) -> None:
        settings.beta1, settings.beta2 = settings.beta2.clone(), settings.beta1.clone()

    _wrap_step(change)
    _population_settings(settings_change)


def _grad_clip_ignored() -> None:
    import torch

    import hpcourse.population as population

    def clip(parameters: Any, max_norm: float, *args: Any, **kwargs: Any) -> torch.Tensor:
        grads = [p.grad for p in parameters if p.grad is not None]
        return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))

    def population_clip(grads: Any, settings: Any) -> Any:
        k = grads[0].shape[0]
        return torch.sqrt(sum(g.reshape(k, -1).pow(2).sum(dim=1) for g in grads))

    torch.nn.utils.clip_grad_norm_ = clip
    _rebind(population, "_clip", population_clip)


def _zero_grad_ignored() -> None:
    import torch

    def zero_grad(self: Any, set_to_none: bool = True) -> None:
        return None  # the old gradients stay, and the next backward() adds to them

    torch.optim.Optimizer.zero_grad = zero_grad  # type: ignore[method-assign]


# --------------------------------------------------------------------------- learning rate


def _schedule_ignored() -> None:
    import hpcourse.runs as runs

    def lr_at(config: Any, step: int, steps_per_epoch: int) -> float:
        return float(config.lr)

    _rebind(runs, "lr_at", lr_at)


def _warmup_ignored() -> None:
    import hpcourse.schedules as schedules

    original = schedules.lr_factor

    def lr_factor(schedule: str, step: int, total_steps: int, **kwargs: Any) -> float:
        kwargs["warmup_steps"] = 0
        return original(schedule, step, total_steps, **kwargs)

    _rebind(schedules, "lr_factor", lr_factor)


# --------------------------------------------------------------------------- data and batches


def _batch_size_ignored() -> None:
    import hpcourse.runs as runs

    original = runs.batch_bounds

    def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
        return original(n, min(32, n))

    _rebind(runs, "batch_bounds", batch_bounds)


def _shuffle_off() -> None:
    import torch

    import hpcourse.runs as runs

    def epoch_order(n: int, *, shuffle: bool, generator: Any) -> Any:
        return torch.arange(n)

    _rebind(runs, "epoch_order", epoch_order)
    torch.utils.data.RandomSampler.__iter__ = (  # type: ignore[method-assign]
        lambda self: iter(range(len(self.data_source)))
    )


def _workers_change_order() -> None:
    import torch

    original = torch.utils.data.DataLoader.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("num_workers", 0) > 0:  # as if each worker set-up reseeded the order
            kwargs["generator"] = torch.Generator().manual_seed(12345 + kwargs["num_workers"])
        original(self, *args, **kwargs)

    torch.utils.data.DataLoader.__init__ = init  # type: ignore[method-assign]


def _val_leak() -> None:
    import hpcourse.data as data_module

    original = data_module.load_dataset

    @functools.wraps(original)
    def load_dataset(*args: Any, **kwargs: Any) -> Any:
        data = original(*args, **kwargs)
        n = min(len(data.y_val), len(data.y_train))
        data.x_val, data.y_val = data.x_train[:n].clone(), data.y_train[:n].clone()
        return data

    _rebind(data_module, "load_dataset", load_dataset)
    import hpcourse

    hpcourse.__dict__.pop("load_dataset", None)  # the lazy top-level name is looked up again


def _augmentation_ignored() -> None:
    import hpcourse.augmentation as augmentation

    def make_augmentation(rotation_degrees: float = 0.0, flip: str = "none") -> Any:
        return lambda image: image.clone()

    _rebind(augmentation, "make_augmentation", make_augmentation)

    def shift_signals(x: Any, max_shift: int, noise_std: float, rng: Any) -> Any:
        return x.copy()  # the MNIST-1D "augmented" copies are exact duplicates

    _rebind(augmentation, "shift_signals", shift_signals)


# --------------------------------------------------------------------------- model


def _dropout_ignored() -> None:
    import torch

    original = torch.nn.Dropout.__init__

    @functools.wraps(original)
    def init(self: Any, p: float = 0.5, *args: Any, **kwargs: Any) -> None:
        original(self, 0.0, *args, **kwargs)

    torch.nn.Dropout.__init__ = init  # type: ignore[method-assign]


def _width_ignored() -> None:
    import hpcourse.models as models

    original = models.MLP.__init__

    @functools.wraps(original)
    def init(self: Any, n_inputs: int, hidden: Any, n_outputs: int, *args: Any, **kw: Any) -> None:
        original(self, n_inputs, [32] * len(hidden), n_outputs, *args, **kw)

    models.MLP.__init__ = init  # type: ignore[method-assign]


def _depth_ignored() -> None:
    import hpcourse.models as models

    original = models.MLP.__init__

    @functools.wraps(original)
    def init(self: Any, n_inputs: int, hidden: Any, n_outputs: int, *args: Any, **kw: Any) -> None:
        original(self, n_inputs, list(hidden)[:1], n_outputs, *args, **kw)

    models.MLP.__init__ = init  # type: ignore[method-assign]


def _seed_ignored() -> None:
    import contextlib

    import hpcourse.runs as runs

    original = runs.prepare_run

    @contextlib.contextmanager
    def prepare_run(config: Any, data: Any, model: Any = None) -> Any:
        with original(config.replace(seed=0), data, model) as run:
            run.config = config
            yield run

    _rebind(runs, "prepare_run", prepare_run)


# --------------------------------------------------------------------------- rules


def _divergence_never_flagged() -> None:
    import hpcourse.rules as rules

    def step_diverged(loss: float, first_loss: float, diverge_factor: float) -> bool:
        return False

    _rebind(rules, "step_diverged", step_diverged)


def _early_stopping_ignored() -> None:
    import hpcourse.rules as rules

    rules.BestEpoch.should_stop = property(lambda self: False)  # type: ignore[assignment]


def _min_delta_ignored() -> None:
    import hpcourse.rules as rules

    original = rules.BestEpoch.update

    def update(self: Any, epoch: int, val_loss: float) -> bool:
        asked, self.min_delta = self.min_delta, 0.0  # any gain at all counts as progress
        try:
            return original(self, epoch, val_loss)
        finally:
            self.min_delta = asked

    rules.BestEpoch.update = update  # type: ignore[method-assign]


def _restore_best_ignored() -> None:
    import hpcourse.population as population
    import hpcourse.training as training

    original_train = training._train

    def _train(run: Any, *args: Any, **kwargs: Any) -> Any:
        asked = run.config
        run.config = asked.replace(restore_best=False)  # the best weights are never kept
        try:
            history = original_train(run, *args, **kwargs)
        finally:
            run.config = asked
        history.config = asked  # while the History still reports what was asked
        return history

    _rebind(training, "_train", _train)

    original_finish = population._finish

    def _finish(member: Any, *args: Any, **kwargs: Any) -> None:
        member.best_state = None  # the member hands back its last weights, not its best
        original_finish(member, *args, **kwargs)

    _rebind(population, "_finish", _finish)


# --------------------------------------------------------------------------- search spaces


def _twin(dim: Any, **changes: Any) -> Any:
    """A copy of a frozen ``Float``/``Int`` with some fields changed and no validation
    (a bug does not check that its wrong scale suits the bounds)."""
    twin = object.__new__(type(dim))
    for key in ("low", "high", "scale"):
        object.__setattr__(twin, key, changes.get(key, getattr(dim, key)))
    return twin


def _read_scales_as(mapping: dict[str, str], int_too: bool = False) -> None:
    """``Float`` (and with ``int_too`` ``Int``) map the unit interval as if each scale
    ``s`` were ``mapping.get(s, s)``: a mix-up in the code that picks the scale."""
    import hpcourse.space as space

    classes = (space.Float, space.Int) if int_too else (space.Float,)
    for cls in classes:
        for method in ("from_unit", "to_unit"):
            original = getattr(cls, method)

            def patched(self: Any, u: Any, _original: Any = original) -> Any:
                wrong = mapping.get(self.scale, self.scale)
                if wrong != self.scale and not (wrong == "log" and self.low <= 0):
                    self = _twin(self, scale=wrong)
                return _original(self, u)

            setattr(cls, method, patched)


def _log_scale_ignored() -> None:
    import hpcourse.space as space

    _read_scales_as({"log": "linear"}, int_too=True)
    _rebind(space, "log_uniform", lambda low, high, n, rng: space.uniform(low, high, n, rng))


def _one_minus_log_ignored() -> None:
    import hpcourse.space as space

    _read_scales_as({"one_minus_log": "linear"})
    _rebind(
        space, "one_minus_log_uniform", lambda low, high, n, rng: space.uniform(low, high, n, rng)
    )


def _scales_swapped() -> None:
    import hpcourse.space as space

    _read_scales_as({"linear": "log", "log": "linear"})
    uniform, log_uniform = space.uniform, space.log_uniform

    def swapped_uniform(low: float, high: float, n: int, rng: Any) -> Any:
        return log_uniform(low, high, n, rng) if low > 0 else uniform(low, high, n, rng)

    _rebind(space, "uniform", swapped_uniform)
    _rebind(space, "log_uniform", lambda low, high, n, rng: uniform(low, high, n, rng))


def _int_high_excluded() -> None:
    import hpcourse.space as space

    original = space.Int.from_unit

    def from_unit(self: Any, u: Any) -> Any:  # as with rng.integers(low, high): high never drawn
        return original(_twin(self, high=self.high - 1) if self.high > self.low else self, u)

    space.Int.from_unit = from_unit  # type: ignore[method-assign]


# --------------------------------------------------------------------------- search


def _random_is_grid() -> None:
    import numpy as np

    import hpcourse.search as search

    original = search.random_points

    def random_points(space: Any, n: int, seed: int | None = None) -> Any:
        # as if "random" search drew cells of a k-per-axis grid and tried their centres
        unit = np.clip(space.to_unit(original(space, n, seed)), 0, 1)
        k = max(2, round(n ** (1 / len(space))))
        return space.from_unit((np.minimum(np.floor(unit * k), k - 1) + 0.5) / k)

    _rebind(search, "random_points", random_points)


def _search_seed_ignored() -> None:
    import hpcourse.search as search

    for name in ("random_points", "sobol_points"):
        original = getattr(search, name)

        def patched(space: Any, n: int, seed: int | None = None, _original: Any = original) -> Any:
            return _original(space, n, 0)

        _rebind(search, name, patched)


def _sobol_is_random() -> None:
    import hpcourse.search as search

    def sobol_points(space: Any, n: int, seed: int | None = None) -> Any:
        return search.random_points(space, n, seed)  # a silent fallback to plain random

    _rebind(search, "sobol_points", sobol_points)


def _zoom_ignores_scale() -> None:
    import hpcourse.space as space

    def narrowed(self: Any, lo_unit: float, hi_unit: float) -> Any:
        # unit positions read as fractions of the *values*, whatever the scale
        lo = self.low + lo_unit * (self.high - self.low)
        hi = self.low + hi_unit * (self.high - self.low)
        return space.Float(min(lo, hi), max(lo, hi), self.scale)

    space.Float.narrowed = narrowed  # type: ignore[method-assign]


# --------------------------------------------------------------------------- halving and PBT


def _halving_keeps_worst() -> None:
    import hpcourse.halving as halving

    original = halving.Population

    class KeepsWorst(original):  # type: ignore[misc,valid-type]
        """Successive halving's ranking read the wrong way round: at each rung, as many
        members are stopped as asked, but the best ones, so the worst 1/eta go on."""

        def stop(self, indices: Any) -> None:
            ranked = sorted(self.alive, key=lambda i: self.members[i].history.val_loss[-1])
            super().stop(ranked[: len(list(indices))])

    halving.Population = KeepsWorst  # type: ignore[misc]


def _pbt_exploit_ignored() -> None:
    import hpcourse.population as population

    def copy_member(self: Any, source: int, target: int) -> None:
        return None  # the overwritten member keeps its own weights and optimizer state

    population.Population.copy_member = copy_member  # type: ignore[method-assign]


# --------------------------------------------------------------------------- automated tuning


def _pruner_never_prunes() -> None:
    import optuna

    for cls in (
        optuna.pruners.MedianPruner,
        optuna.pruners.SuccessiveHalvingPruner,
        optuna.pruners.HyperbandPruner,
    ):
        cls.prune = lambda self, study, trial: False  # type: ignore[method-assign]


def _tpe_is_random() -> None:
    import optuna

    class TPEPosingAsRandom(optuna.samplers.RandomSampler):
        """TPE's name, random search's proposals: the model of good and bad trials is
        never used."""

        def __init__(self, *args: Any, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(seed=seed)

    optuna.samplers.TPESampler = TPEPosingAsRandom  # type: ignore[misc,assignment]


def _worker_trials_dropped() -> None:
    import shutil

    import hpcourse.workers as workers

    original = workers.start_workers

    def start_workers(
        n_workers: int, storage_url: str, study_name: str, *args: Any, seed: int = 0, **kw: Any
    ) -> Any:
        # every worker after the first writes to its own copy of the journal file, so the
        # study that is read back never sees its trials
        procs = original(1, storage_url, study_name, *args, seed=seed, **kw)
        for k in range(1, n_workers):
            url = storage_url
            if storage_url.startswith("journal://"):
                path = storage_url.removeprefix("journal://")
                shutil.copyfile(path, f"{path}.{k}")
                url = f"journal://{path}.{k}"
            procs += original(1, url, study_name, *args, seed=seed + 1000 * k, **kw)
        return procs

    _rebind(workers, "start_workers", start_workers)


# --------------------------------------------------------------------------- capstone budget


def _ledger_not_recorded() -> None:
    import hpcourse.ledger as ledger

    ledger.record = lambda steps, steps_per_epoch: None  # engines train but record nothing


def _budget_not_charged() -> None:
    import hpcourse.capstone as capstone

    original = capstone.Budget.charge

    def charge(self: Any, epochs: float, seconds: float) -> None:
        original(self, 0.0, seconds)  # the epochs a call trained are never charged

    capstone.Budget.charge = charge  # type: ignore[method-assign]


# --------------------------------------------------------------------------- sequence models


def _bptt_ignored() -> None:
    import hpcourse.sequence as sequence

    def chunk_bounds(steps: int, bptt: int | None) -> list[tuple[int, int]]:
        return [(0, steps)]  # the gradient flows back through the whole sequence, always

    _rebind(sequence, "chunk_bounds", chunk_bounds)


def _rnn_sizes_ignored() -> None:
    import hpcourse.sequence as sequence

    original = sequence.SequenceClassifier.__init__

    @functools.wraps(original)
    def init(self: Any, n_classes: int, **kwargs: Any) -> None:
        kwargs["hidden"] = 32
        if kwargs.get("embedding_dim") is not None:
            kwargs["embedding_dim"] = 16
        original(self, n_classes, **kwargs)

    sequence.SequenceClassifier.__init__ = init  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in [
        Fault("lr_ignored", "every optimizer steps with lr=1e-3, whatever was asked", _lr_ignored),
        Fault("lr_scaled", "every optimizer steps with 3x the lr that was asked", _lr_scaled),
        Fault("momentum_ignored", "SGD steps without momentum", _momentum_ignored),
        Fault(
            "adam_is_momentum",
            "Adam and AdamW are SGD with momentum beta1 in disguise",
            _adam_is_momentum,
        ),
        Fault(
            "adam_betas_swapped",
            "Adam and AdamW use beta1 as beta2 and beta2 as beta1",
            _adam_betas_swapped,
        ),
        Fault("weight_decay_ignored", "no optimizer applies weight decay", _weight_decay_ignored),
        Fault(
            "grad_clip_ignored",
            "gradient clipping reports the norm but never rescales",
            _grad_clip_ignored,
        ),
        Fault(
            "zero_grad_ignored",
            "optimizer.zero_grad() does nothing: gradients add up across steps",
            _zero_grad_ignored,
        ),
        Fault("schedule_ignored", "every step uses the base lr: no schedule", _schedule_ignored),
        Fault("warmup_ignored", "schedules start at full lr: no warmup", _warmup_ignored),
        Fault(
            "batch_size_ignored",
            "training slices batches of 32 whatever the config says",
            _batch_size_ignored,
        ),
        Fault("shuffle_off", "every epoch sees the examples in the same order", _shuffle_off),
        Fault(
            "workers_change_order",
            "a DataLoader with worker processes draws another batch order",
            _workers_change_order,
        ),
        Fault("val_leak", "the validation split is a copy of training examples", _val_leak),
        Fault(
            "augmentation_ignored",
            "the augmentation pipeline returns images unchanged (MNIST-1D shifts too)",
            _augmentation_ignored,
        ),
        Fault("dropout_ignored", "dropout layers drop nothing", _dropout_ignored),
        Fault(
            "width_ignored",
            "every hidden layer of the MLP is 32 units wide, whatever the config says",
            _width_ignored,
        ),
        Fault(
            "depth_ignored",
            "the MLP keeps only its first hidden layer, whatever the config's depth",
            _depth_ignored,
        ),
        Fault(
            "seed_ignored", "every run trains with seed 0, whatever its config says", _seed_ignored
        ),
        Fault(
            "divergence_never_flagged",
            "a run whose loss blows up is never marked diverged",
            _divergence_never_flagged,
        ),
        Fault(
            "early_stopping_ignored",
            "patience never stops a run",
            _early_stopping_ignored,
        ),
        Fault(
            "restore_best_ignored",
            "restore_best keeps the last weights, in both engines (the config still says True)",
            _restore_best_ignored,
        ),
        Fault(
            "min_delta_ignored",
            "early stopping counts any gain as progress, whatever min_delta says",
            _min_delta_ignored,
        ),
        Fault(
            "log_scale_ignored",
            "a log-scale Float or Int (and log_uniform) samples linearly between its bounds",
            _log_scale_ignored,
        ),
        Fault(
            "one_minus_log_ignored",
            "a one-minus-log Float (and one_minus_log_uniform) samples beta linearly",
            _one_minus_log_ignored,
        ),
        Fault(
            "scales_swapped",
            "a Float's linear and log scales are swapped (uniform and log_uniform too)",
            _scales_swapped,
        ),
        Fault(
            "int_high_excluded",
            "an Int never draws its upper bound, as rng.integers(low, high) would not",
            _int_high_excluded,
        ),
        Fault(
            "random_is_grid",
            "random search snaps its trials to a grid of about n ** (1/d) values per axis",
            _random_is_grid,
        ),
        Fault(
            "search_seed_ignored",
            "random and Sobol proposals are drawn with seed 0, whatever seed is asked",
            _search_seed_ignored,
        ),
        Fault("sobol_is_random", "Sobol proposals are plain random points", _sobol_is_random),
        Fault(
            "zoom_ignores_scale",
            "coarse-to-fine narrows every Float linearly in its values, even on a log scale",
            _zoom_ignores_scale,
        ),
        Fault(
            "halving_keeps_worst",
            "successive halving keeps the worst 1/eta of each rung instead of the best",
            _halving_keeps_worst,
        ),
        Fault(
            "bptt_ignored",
            "truncated BPTT never truncates: the gradient flows through the whole sequence",
            _bptt_ignored,
        ),
        Fault(
            "rnn_sizes_ignored",
            "a SequenceClassifier has 32 hidden units and 16-number embeddings, whatever is asked",
            _rnn_sizes_ignored,
        ),
        Fault(
            "pbt_exploit_ignored",
            "PBT's exploit copies nothing: an overwritten member keeps its own weights",
            _pbt_exploit_ignored,
        ),
        Fault(
            "pruner_never_prunes",
            "Optuna's median, successive-halving and Hyperband pruners never stop a trial",
            _pruner_never_prunes,
        ),
        Fault(
            "tpe_is_random",
            "Optuna's TPE sampler proposes plain random points (same seed)",
            _tpe_is_random,
        ),
        Fault(
            "worker_trials_dropped",
            "start_workers gives every worker but the first its own copy of the journal file",
            _worker_trials_dropped,
        ),
        Fault(
            "ledger_not_recorded",
            "no training engine adds what it trained to hpcourse.ledger",
            _ledger_not_recorded,
        ),
        Fault(
            "budget_not_charged",
            "the capstone's Budget charges the seconds of a call but none of its epochs",
            _budget_not_charged,
        ),
    ]
}


def apply(name: str) -> None:
    """Inject the fault ``name`` into this process (call it before the notebook's imports)."""
    if name not in FAULTS:
        raise ValueError(
            f"fault={name!r} is not allowed: fault must be one of {', '.join(sorted(FAULTS))}."
        )
    FAULTS[name].inject()
    print(f"[claims harness] fault injected: {name}: {FAULTS[name].description}")
