"""Caviar on a laptop: train a population of same-shape MLPs at once, as one computation.

A sweep of small models spends most of its time on per-step overhead: launching a
handful of tiny matrix products, once per model. Stacking K models along a leading
*member* axis turns each layer of all of them into one batched product
(``torch.baddbmm``), so K models cost little more than one. Everything that makes
members different is a tensor with one entry per member: learning rate (and schedule),
momentum, Adam's betas and epsilon, weight decay, dropout rate, gradient clipping,
initial weights, and the shuffle order of each member's own seed.

What members must share (:func:`population_key`): the architecture (``hidden``,
``activation``), the batch size and the optimizer family (SGD with or without momentum;
or Adam/AdamW). :func:`hpcourse.training.train_many` groups configs by this key and runs
one population per group; everything else may differ, epochs and patience included.

One set of rules for both engines: every member is set up by the same
:func:`hpcourse.runs.prepare_run` as a single run (same initial weights, same shuffle
generator), takes the learning rate of :func:`hpcourse.runs.lr_at` at every step, visits
batches in :func:`hpcourse.runs.epoch_order` cut at :func:`hpcourse.runs.batch_bounds`, and
is judged by :mod:`hpcourse.rules` (diverged, best epoch, patience). The optimizers are
written out here on tensors of per-member values, step for step as ``torch.optim`` does
them, and ``tests/test_population.py`` checks each member against :func:`train` with the
same config. A member that diverges or stops early leaves the population (its numbers
are final); the others carry on unaffected.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from hpcourse import ledger
from hpcourse.backprop import activate, mlp_layers, through_activation_
from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.progress import progress as progress_bar
from hpcourse.results import History
from hpcourse.rules import BestEpoch, step_diverged
from hpcourse.runs import (
    batch_bounds,
    build_model,
    check_dataset,
    epoch_order,
    free_cores,
    is_scheduled,
    lr_at,
    prepare_run,
    torch_threads,
)
from hpcourse.validation import check_number

FAMILIES = {"sgd": "sgd", "momentum": "sgd", "adam": "adam", "adamw": "adam"}

# Members evaluated at once are chunked so that one activation tensor stays below this
# many numbers: memory stays flat however large the population, and a chunk of about
# 4 MB stays in cache between the matrix product and the activation (measured on digits,
# 64 members: 1M numbers evaluate 1.4x faster than 4M).
_EVAL_ELEMENTS = 1 << 20


def population_key(config: TrainConfig) -> tuple[Any, ...]:
    """What members of one population must share: architecture (with its parameterization),
    batch size, optimizer family."""
    return (
        config.hidden,
        config.activation,
        config.batch_size,
        FAMILIES[config.optimizer],
        config.mup_base_width,
    )


@dataclass
class _Settings:
    """Per-member optimizer settings as ``(K, 1, 1)`` tensors (broadcast over a layer)."""

    momentum: torch.Tensor
    nesterov: torch.Tensor
    weight_decay: torch.Tensor
    beta1: torch.Tensor
    beta2: torch.Tensor
    eps: torch.Tensor
    decoupled: torch.Tensor
    grad_clip: torch.Tensor  # inf = no clipping

    def select(self, keep: torch.Tensor) -> _Settings:
        return _Settings(**{k: v[keep] for k, v in vars(self).items()})


def optimizer_settings(configs: Sequence[TrainConfig]) -> _Settings:
    """The optimizer hyperparameters of each member, read from its config."""

    def col(values: list[float]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1)

    return _Settings(
        momentum=col([c.momentum if c.optimizer == "momentum" else 0.0 for c in configs]),
        nesterov=col([float(c.optimizer == "momentum" and c.nesterov) for c in configs]),
        weight_decay=col([c.weight_decay for c in configs]),
        beta1=col([c.betas[0] for c in configs]),
        beta2=col([c.betas[1] for c in configs]),
        eps=col([c.eps for c in configs]),
        decoupled=col([float(c.optimizer == "adamw") for c in configs]),
        grad_clip=col([math.inf if c.grad_clip is None else c.grad_clip for c in configs]),
    ).select(torch.arange(len(configs)))


def step_lrs(configs: Sequence[TrainConfig], step: int, steps_per_epoch: int) -> torch.Tensor:
    """The learning rate of every member at ``step``, as a ``(K, 1, 1)`` tensor."""
    lrs = [lr_at(c, step, steps_per_epoch) for c in configs]
    return torch.tensor(lrs, dtype=torch.float32).view(-1, 1, 1)


@dataclass
class _Member:
    """Bookkeeping of one member while it trains."""

    index: int  # position in the caller's list
    config: TrainConfig
    dropout_rate: float  # read off the built model, as the single-run engine does
    history: History
    shuffle: torch.Generator
    dropout: torch.Generator
    best: BestEpoch
    best_state: list[torch.Tensor] | None = None
    first_loss: float | None = None
    done: bool = False


@dataclass
class _State:
    """The stacked weights and optimizer state of the members still training."""

    weights: list[torch.Tensor]  # per layer (K, out, in)
    biases: list[torch.Tensor]  # per layer (K, out)
    buffers: list[torch.Tensor] = field(default_factory=list)  # momentum / Adam's m
    squares: list[torch.Tensor] = field(default_factory=list)  # Adam's v

    def params(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def select(self, keep: torch.Tensor) -> _State:
        return _State(
            [w[keep] for w in self.weights],
            [b[keep] for b in self.biases],
            [t[keep] for t in self.buffers],
            [t[keep] for t in self.squares],
        )


def _forward_backward(
    state: _State,
    activation: str,
    dropout: list[float],
    generators: list[torch.Generator],
    x: torch.Tensor,
    y: torch.Tensor,
    output_scale: float = 1.0,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Mean cross-entropy of each member on its own batch ``x[k], y[k]`` and its gradients.

    The same closed form as :mod:`hpcourse.backprop`, with a member axis in front. Why the
    activations are laid out ``(member, feature, example)``: a softmax over 10 classes
    stored innermost is several times slower on a CPU than over classes in the middle, and
    this layout also gives every weight gradient without a transpose. Dropout masks are
    drawn member by member from each member's generator, in a single run's ``(example,
    feature)`` order, so they are the very numbers a single run with that seed draws.
    """
    K, B = y.shape
    inputs: list[torch.Tensor] = []
    pre: list[torch.Tensor] = []
    post: list[torch.Tensor] = []
    masks: list[torch.Tensor | None] = []
    h = x.transpose(1, 2)  # (K, in, B)
    n_layers = len(state.weights)
    for i in range(n_layers):
        inputs.append(h)
        a = torch.baddbmm(state.biases[i].unsqueeze(2), state.weights[i], h)
        if i == n_layers - 1:
            logits = a * output_scale if output_scale != 1.0 else a  # (K, classes, B)
            break
        # ReLU's derivative can be read off its output, so it may overwrite its input
        h = a.clamp_min_(0) if activation == "relu" else activate(activation, a)
        pre.append(a)
        post.append(h)
        if any(p > 0 for p in dropout):
            scale = torch.ones_like(h)
            for k, p in enumerate(dropout):
                if p > 0:
                    keep = torch.rand(B, h.shape[1], generator=generators[k]).ge_(p)
                    scale[k] = keep.t().to(h.dtype).div_(1 - p)
            masks.append(scale)
            h = h * scale
        else:
            masks.append(None)
    logp = logits.log_softmax(dim=1)
    labels = y.unsqueeze(1)  # (K, 1, B)
    loss = -logp.gather(1, labels).squeeze(1).mean(dim=1)
    g = logp.exp_()
    g.scatter_add_(1, labels, torch.full((K, 1, B), -1.0))
    g.div_(B / output_scale)
    grads_w: list[torch.Tensor] = [torch.empty(0)] * n_layers
    grads_b: list[torch.Tensor] = [torch.empty(0)] * n_layers
    for i in range(n_layers - 1, -1, -1):
        grads_w[i] = torch.bmm(g, inputs[i].transpose(1, 2))
        grads_b[i] = g.sum(dim=2)
        if i > 0:
            gh = torch.bmm(state.weights[i].transpose(1, 2), g)
            mask = masks[i - 1]
            if mask is not None:
                gh.mul_(mask)
            g = through_activation_(activation, gh, pre[i - 1], post[i - 1])
    return loss, [*grads_w, *grads_b]


def _clip(grads: list[torch.Tensor], settings: _Settings) -> torch.Tensor:
    """Rescale each member's gradient to norm ``grad_clip`` at most (as
    ``torch.nn.utils.clip_grad_norm_``); returns each member's norm before clipping."""
    K = grads[0].shape[0]
    norms = torch.stack([g.reshape(K, -1).pow(2).sum(dim=1) for g in grads]).sum(dim=0).sqrt()
    coef = (settings.grad_clip.view(-1) / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return norms


def _view(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A ``(K, 1, 1)`` per-member tensor shaped to broadcast over ``like``."""
    return t.view(-1, *([1] * (like.dim() - 1)))


def _sgd_step(
    state: _State,
    grads: list[torch.Tensor],
    lr: torch.Tensor,
    s: _Settings,
    first: bool,
    scales: Sequence[float],
) -> None:
    """``torch.optim.SGD`` (weight decay added to the gradient, momentum buffer started at
    the first gradient, Nesterov optional), one member per slice.

    Terms that are zero for every member (no weight decay, no momentum) are skipped: the
    arithmetic per step is what makes a population fast or slow."""
    any_wd = bool((s.weight_decay != 0).any())
    any_momentum = bool((s.momentum != 0).any())
    any_nesterov = bool((s.nesterov > 0).any())
    neg_lr = -lr
    for i, (p, g) in enumerate(zip(state.params(), grads, strict=True)):
        d = g.addcmul_(_view(s.weight_decay, p), p) if any_wd else g  # grads are ours to edit
        step = d
        if any_momentum:
            mom = _view(s.momentum, p)
            if first:
                state.buffers.append(d.clone())
            else:
                state.buffers[i].mul_(mom).add_(d)
            buf = state.buffers[i]
            step = (
                torch.where(_view(s.nesterov, p) > 0, d + mom * buf, buf) if any_nesterov else buf
            )
        p.addcmul_(step, _view(neg_lr if scales[i] == 1.0 else neg_lr * scales[i], p))


def _adam_step(
    state: _State,
    grads: list[torch.Tensor],
    lr: torch.Tensor,
    s: _Settings,
    t: int,
    scales: Sequence[float],
) -> None:
    """``torch.optim.Adam`` (L2 added to the gradient) or ``AdamW`` (decoupled decay),
    with bias correction, one member per slice; parameter tensor ``i`` runs at
    ``lr * scales[i]`` (its param group's ``lr_scale``)."""
    any_wd = bool((s.weight_decay != 0).any())
    decoupled = s.decoupled > 0
    coupled_wd = s.weight_decay * (~decoupled)
    bc1, bc2_sqrt = 1 - s.beta1**t, (1 - s.beta2**t).sqrt()
    for i, (p, g) in enumerate(zip(state.params(), grads, strict=True)):
        lr_i = lr if scales[i] == 1.0 else lr * scales[i]
        step_size = -lr_i / bc1
        if any_wd:
            g.addcmul_(_view(coupled_wd, p), p)
            p.mul_(_view(1 - lr_i * s.weight_decay * decoupled, p))  # 1 for Adam members
        if t == 1:
            state.buffers.append(torch.zeros_like(p))
            state.squares.append(torch.zeros_like(p))
        m, v = state.buffers[i], state.squares[i]
        m.lerp_(g, _view(1 - s.beta1, p))
        v.mul_(_view(s.beta2, p)).addcmul_(g * _view(1 - s.beta2, p), g)
        denom = (v.sqrt() / _view(bc2_sqrt, p)).add_(_view(s.eps, p))
        p.addcdiv_(m * _view(step_size, p), denom)


@torch.inference_mode()
def _evaluate(
    state: _State, activation: str, x: torch.Tensor, y: torch.Tensor, output_scale: float = 1.0
) -> tuple[list[float], list[float]]:
    """Mean loss and accuracy of every member on the shared ``(x, y)``, dropout off.

    Laid out ``(member, feature, example)`` like :func:`_forward_backward`, and chunked
    over members so that memory stays flat."""
    K, n = state.weights[0].shape[0], len(y)
    widest = max(w.shape[1] for w in state.weights)
    per_chunk = max(1, _EVAL_ELEMENTS // (n * widest))
    xt = x.t()
    losses: list[float] = []
    accs: list[float] = []
    for start in range(0, K, per_chunk):
        sl = slice(start, start + per_chunk)
        w0 = state.weights[0][sl]  # one 2-D product for the first layer: x is shared
        h = (w0.reshape(-1, w0.shape[2]) @ xt).view(w0.shape[0], w0.shape[1], n)
        h.add_(state.biases[0][sl, :, None])
        for i in range(1, len(state.weights)):
            h = h.clamp_min_(0) if activation == "relu" else activate(activation, h)
            h = torch.baddbmm(state.biases[i][sl, :, None], state.weights[i][sl], h)
        if output_scale != 1.0:
            h = h * output_scale
        logp = h.log_softmax(dim=1)
        nll = -logp.gather(1, y.expand(h.shape[0], 1, n)).squeeze(1)
        losses += (nll.double().sum(dim=1) / n).tolist()
        # argmax over a middle axis is slow on a CPU; over a contiguous last axis it is not
        guess = h.transpose(1, 2).contiguous().argmax(dim=2)
        accs += (guess == y).double().mean(dim=1).tolist()
    return losses, accs


def train_population(
    configs: Sequence[TrainConfig | dict[str, Any]],
    data: Dataset,
    *,
    log: Any = None,
    progress: bool = True,
    threads: int | str | None = None,
) -> list[History]:
    """Train one MLP per config, all at once; return their Histories in the same order.

    The configs must share :func:`population_key` (architecture, batch size, optimizer
    family); see :func:`hpcourse.training.train_many`, which groups them for you. Each
    member's History is the one :func:`hpcourse.train` would return for its config, to
    float rounding, except for time: a member's ``epoch_time`` is its share of the
    population's time for that epoch (the epoch's seconds divided by the members that
    trained in it). Every member is appended to ``log`` the moment it finishes.

    ``threads``: PyTorch threads for the population: a number, ``"auto"`` (the cores idle
    when it starts, :func:`hpcourse.runs.free_cores`, dropping to one thread if epochs
    slow down), or None: ``$HPCOURSE_THREADS`` if set, else 1. Why one by default:
    measured here, two idle cores train a population 1.6-1.8x faster than one, but a
    second core that another process keeps busy makes two threads 30x *slower*, and a
    different thread count adds up the same numbers in another order, so a run would no
    longer repeat number for number. One thread is always safe and always reproducible.

    >>> from hpcourse.data import load_dataset
    >>> hs = train_population([{"epochs": 2, "lr": lr} for lr in (0.03, 0.3)],
    ...                       load_dataset("digits"), progress=False)
    >>> [h.config.lr for h in hs], all(h.final_val_acc > 0.5 for h in hs)
    ([0.03, 0.3], True)
    """
    population = Population(configs, data, log=log, threads=threads)
    population.run(progress=progress)
    return population.finish()


@dataclass
class _Shape:
    """What every member shares besides the architecture: the scale of the readout's
    output and each parameter tensor's lr scale (both 1 unless muP), in ``_State`` order."""

    output_scale: float
    lr_scales: list[float]


def _setup_members(
    configs: list[TrainConfig], data: Dataset
) -> tuple[list[_Member], _State, _Shape]:
    members, models = [], []
    shape: _Shape | None = None
    for index, config in enumerate(configs):
        with prepare_run(config, data) as run:  # the single-run set-up, member by member
            model = run.model
            layers = mlp_layers(model)
            if layers is None:
                raise ValueError(
                    f"config={config!r} is not allowed in a population: its model is not a "
                    "plain MLP that hpcourse.backprop can differentiate by hand."
                )
            members.append(
                _Member(
                    index=index,
                    config=config,
                    dropout_rate=layers[2],
                    history=History(
                        config=config, steps_per_epoch=run.steps_per_epoch, dataset=data.name
                    ),
                    shuffle=run.generator,
                    # a single run draws dropout masks from the generator its seed starts
                    dropout=torch.Generator().manual_seed(run.generator.initial_seed()),
                    best=BestEpoch(math.inf),  # replaced once epoch 0 is measured
                )
            )
            if shape is None:  # read off the single-run set-up: its optimizer's groups
                scale_of = {
                    id(p): g.get("lr_scale", 1.0)
                    for g in run.optimizer.param_groups
                    for p in g["params"]
                }
                first = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
                ordered = [layer.weight for layer in first] + [layer.bias for layer in first]
                shape = _Shape(
                    float(getattr(model, "output_scale", 1.0)),
                    [scale_of[id(p)] for p in ordered],
                )
        models.append(model)
    linears = [[m for m in model.modules() if isinstance(m, torch.nn.Linear)] for model in models]
    weights = [
        torch.stack([ls[i].weight.detach() for ls in linears]) for i in range(len(linears[0]))
    ]
    biases = [torch.stack([ls[i].bias.detach() for ls in linears]) for i in range(len(linears[0]))]
    n_params = sum(p.numel() for p in models[0].parameters())
    for m in members:
        m.history.n_params = n_params
    assert shape is not None
    return members, _State(weights, biases), shape


def _record(
    members: list[_Member],
    state: _State,
    data: Dataset,
    epoch: int,
    share: float,
    output_scale: float = 1.0,
) -> None:
    activation = members[0].config.activation
    train_loss, train_acc = _evaluate(state, activation, data.x_train, data.y_train, output_scale)
    val_loss, val_acc = _evaluate(state, activation, data.x_val, data.y_val, output_scale)
    for k, m in enumerate(members):
        h = m.history
        h.epoch.append(epoch)
        h.train_loss.append(train_loss[k])
        h.train_acc.append(train_acc[k])
        h.val_loss.append(val_loss[k])
        h.val_acc.append(val_acc[k])
        h.epoch_time.append(share)


def _finish(m: _Member, state: _State, k: int, data: Dataset, log: Any) -> None:
    """Freeze member ``k``: its final (or best) weights become its History's model."""
    model = build_model(m.config, data)
    linears = [layer for layer in model.modules() if isinstance(layer, torch.nn.Linear)]
    params = m.best_state if (m.best_state is not None and not m.history.diverged) else None
    with torch.no_grad():
        for i, layer in enumerate(linears):
            if params is not None:
                layer.weight.copy_(params[i])
                layer.bias.copy_(params[len(linears) + i])
            else:
                layer.weight.copy_(state.weights[i][k])
                layer.bias.copy_(state.biases[i][k])
    m.history.model = model
    m.history.wall_time = sum(m.history.epoch_time)
    ledger.record(len(m.history.step_loss), m.history.steps_per_epoch)
    m.done = True
    if log is not None:
        from hpcourse.tracking import as_log

        as_log(log).append(m.history.to_record())


def population_threads(threads: int | str | None) -> int:
    """The thread count a population runs on (see :func:`train_population`)."""
    if threads == "auto":
        return free_cores()
    if threads is None:
        from_env = os.environ.get("HPCOURSE_THREADS", "").strip()
        return free_cores() if from_env else 1  # free_cores reads and checks the variable
    check_number("threads", threads, low=1, integer=True)
    assert isinstance(threads, int)
    return threads


class _StepLog:
    """The per-step numbers of the members training together: loss, lr and (when clipped)
    gradient norm, kept as tensors and written to their Histories in one go.

    Why: with 64 small members a step's arithmetic takes about a millisecond, and Python
    appends member by member, every step, cost several percent of a sweep (measured: 0.05 s
    of 0.9 s on the benchmark's 64 models). Divergence is still decided member by
    member by :func:`hpcourse.rules.step_diverged`, the single-run engine's own rule: one
    rule for both engines (a change to it reaches both).
    """

    def __init__(self, team: list[_Member]) -> None:
        self.team = team
        self.losses: list[torch.Tensor] = []
        self.lrs: list[torch.Tensor] = []
        self.norms: list[torch.Tensor] = []

    def add(self, loss: torch.Tensor, lr: torch.Tensor, norms: torch.Tensor | None) -> list[int]:
        """Keep one step's numbers; return the rows whose loss just diverged."""
        self.losses.append(loss)
        self.lrs.append(lr.view(-1))
        if norms is not None:
            self.norms.append(norms)
        gone = []
        for k, value in enumerate(loss.tolist()):
            m = self.team[k]
            if m.first_loss is None:  # a member's first step is its reference
                m.first_loss = value
            if step_diverged(value, m.first_loss, m.config.diverge_factor):
                gone.append(k)
        return gone

    def flush(self) -> None:
        """Append what was kept to each member's History, and start empty again."""
        if not self.losses:
            return
        losses = torch.stack(self.losses, dim=1).tolist()
        lrs = torch.stack(self.lrs, dim=1).tolist()
        norms = torch.stack(self.norms, dim=1).tolist() if self.norms else None
        for k, m in enumerate(self.team):
            m.history.step_loss += losses[k]
            m.history.step_lr += lrs[k]
            if norms is not None and m.config.grad_clip is not None:
                m.history.step_grad_norm += norms[k]
        self.losses, self.lrs, self.norms = [], [], []


class Population:
    """A population that trains in stages: :meth:`run` trains the members still in it up
    to an epoch, then the caller may look at their Histories, :meth:`stop` some (successive
    halving), :meth:`copy_member` the weights and optimizer state of one onto another and
    :meth:`set_config` new hyperparameters (population-based training), and run on.

    Members keep their own ``config.epochs`` as a ceiling (it also sets the length of their
    lr schedule); :meth:`finish` ends every member still training and returns all
    Histories in the order of the configs. :func:`train_population` is ``run`` to the end.
    """

    def __init__(
        self,
        configs: Sequence[TrainConfig | dict[str, Any]],
        data: Dataset,
        *,
        log: Any = None,
        threads: int | str | None = None,
    ) -> None:
        checked = [as_config(c) for c in configs]
        if not checked:
            raise ValueError("configs=[] is not allowed: give at least one config.")
        keys = {population_key(c) for c in checked}
        if len(keys) > 1:
            raise ValueError(
                f"configs with {len(keys)} different (hidden, activation, batch_size, "
                "optimizer family) are not allowed in one population: group them first "
                "(train_many does)."
            )
        for c in checked:
            check_dataset(data, c.batch_size)
        self.data, self.log = data, log
        self.threads = population_threads(threads)
        self._first_epoch_seconds: float | None = None
        self.family = FAMILIES[checked[0].optimizer]
        self.activation = checked[0].activation
        self.batch_size = checked[0].batch_size
        self.n = len(data.y_train)
        self.steps_per_epoch = math.ceil(self.n / self.batch_size)
        with torch_threads(self.threads):
            self.members, self.state, shape = _setup_members(checked, data)
            self.output_scale, self.lr_scales = shape.output_scale, shape.lr_scales
            self.settings = optimizer_settings(checked)
            _record(self.members, self.state, data, 0, 0.0, self.output_scale)
        for k, m in enumerate(self.members):
            m.best = BestEpoch(
                m.history.val_loss[0], min_delta=m.config.min_delta, patience=m.config.patience
            )
            if m.config.restore_best:
                m.best_state = [p[k].clone() for p in self.state.params()]
        self.alive = list(range(len(self.members)))  # member index of each row of state
        self.epoch = 0
        self.step = 0

    @property
    def histories(self) -> list[History]:
        return [m.history for m in self.members]

    def _row(self, index: int) -> int:
        if index not in self.alive:
            raise ValueError(
                f"member={index!r} is not allowed: it is not training any more (it finished, "
                "diverged, stopped early or was stopped)."
            )
        return self.alive.index(index)

    def _drop(self, rows: list[int]) -> None:
        """Finish the members at these rows of the state and take them out of it."""
        for k in rows:
            _finish(self.members[self.alive[k]], self.state, k, self.data, self.log)
        keep = torch.tensor([k for k in range(len(self.alive)) if k not in rows], dtype=torch.long)
        self.alive = [self.alive[k] for k in keep.tolist()]
        self.state, self.settings = self.state.select(keep), self.settings.select(keep)

    def stop(self, indices: Sequence[int]) -> None:
        """End these members now (they keep the History they have)."""
        rows = [self._row(i) for i in indices]
        for k in rows:
            self.members[self.alive[k]].history.stopped_early = True
        self._drop(rows)

    def copy_member(self, source: int, target: int) -> None:
        """Put ``source``'s weights and optimizer state into ``target`` (PBT's exploit)."""
        src, dst = self._row(source), self._row(target)
        for tensors in (
            self.state.weights,
            self.state.biases,
            self.state.buffers,
            self.state.squares,
        ):
            for t in tensors:
                t[dst] = t[src]
        member, donor = self.members[target], self.members[source]
        if member.best_state is not None:
            member.best_state = [p[dst].clone() for p in self.state.params()]
        member.best = BestEpoch(
            donor.history.val_loss[-1],
            min_delta=member.config.min_delta,
            patience=member.config.patience,
            epoch=self.epoch,
        )

    def set_config(self, index: int, config: TrainConfig | dict[str, Any]) -> None:
        """Train member ``index`` with new hyperparameters from the next step on (PBT's
        explore). The architecture, batch size and optimizer family cannot change."""
        new = as_config(config)
        old = self.members[index].config
        if population_key(new) != population_key(old):
            raise ValueError(
                f"config={new!r} is not allowed: a member keeps its architecture, batch size "
                "and optimizer family."
            )
        k = self._row(index)
        self.members[index].config = new
        fresh = optimizer_settings([new])
        for name, value in vars(fresh).items():
            getattr(self.settings, name)[k] = value[0]

    def run(self, until_epoch: int | None = None, *, progress: bool = False) -> None:
        """Train the members still in the population up to epoch ``until_epoch`` (default:
        until each has reached its ``config.epochs``, diverged or stopped early)."""
        last = max((self.members[i].config.epochs for i in self.alive), default=0)
        target = last if until_epoch is None else min(until_epoch, last)
        with torch_threads(self.threads):
            epochs = range(self.epoch + 1, target + 1)
            desc = f"epochs, {len(self.alive)} models at once"
            for epoch in progress_bar(epochs, desc=desc, enabled=progress):
                if not self.alive:
                    break
                start = time.perf_counter()
                self._run_epoch(epoch)
                self._watch_threads(time.perf_counter() - start)

    def _watch_threads(self, seconds: float) -> None:
        """Fall back to one thread if epochs suddenly take far longer: another process has
        taken a core, and a second PyTorch thread would now wait for it at every step."""
        if self._first_epoch_seconds is None:
            self._first_epoch_seconds = seconds
        elif self.threads > 1 and seconds > 3 * self._first_epoch_seconds:
            self.threads = 1
            torch.set_num_threads(1)

    def finish(self) -> list[History]:
        """End every member still training; return all Histories in the order given."""
        if self.alive:
            self._drop(list(range(len(self.alive))))
        return self.histories

    def _run_epoch(self, epoch: int) -> None:
        t0 = time.perf_counter()
        x, y, data = self.data.x_train, self.data.y_train, self.data
        team = [self.members[i] for i in self.alive]
        order = torch.stack(
            [epoch_order(self.n, shuffle=m.config.shuffle, generator=m.shuffle) for m in team]
        )
        log = _StepLog(team)
        constant_lr = not any(is_scheduled(m.config) for m in team)
        # the lr of this epoch's first step; a scheduled lr is recomputed at every later step
        lr = step_lrs([m.config for m in team], self.step, self.steps_per_epoch)
        for i, (start, stop) in enumerate(batch_bounds(self.n, self.batch_size)):
            idx = order[:, start:stop]
            if i > 0 and not constant_lr:
                lr = step_lrs([m.config for m in team], self.step, self.steps_per_epoch)
            loss, grads = _forward_backward(
                self.state,
                self.activation,
                [m.dropout_rate for m in team],
                [m.dropout for m in team],
                x[idx],
                y[idx],
                self.output_scale,
            )
            norms = (
                _clip(grads, self.settings)
                if torch.isfinite(self.settings.grad_clip).any()
                else None
            )
            if self.family == "sgd":
                _sgd_step(self.state, grads, lr, self.settings, self.step == 0, self.lr_scales)
            else:
                _adam_step(self.state, grads, lr, self.settings, self.step + 1, self.lr_scales)
            self.step += 1
            gone = log.add(loss, lr, norms)
            if gone:
                log.flush()
                for k in gone:
                    team[k].history.diverged = True
                keep = torch.tensor([k for k in range(len(team)) if k not in gone])
                self._drop(gone)
                if not self.alive:
                    return
                order, lr = order[keep], lr[keep]
                team = [self.members[i] for i in self.alive]
                log = _StepLog(team)
        log.flush()
        team = [self.members[i] for i in self.alive]
        seconds = (time.perf_counter() - t0) / len(team)
        _record(team, self.state, data, epoch, seconds, self.output_scale)
        self.epoch = epoch
        gone = []
        for k, m in enumerate(team):
            h = m.history
            if step_diverged(h.train_loss[-1], m.first_loss or math.inf, m.config.diverge_factor):
                h.diverged = True
            elif m.best.update(epoch, h.val_loss[-1]) and m.best_state is not None:
                m.best_state = [p[k].clone() for p in self.state.params()]
            h.best_epoch = m.best.epoch
            if not h.diverged and m.best.should_stop:
                h.stopped_early = True
            if h.diverged or h.stopped_early or epoch >= m.config.epochs:
                gone.append(k)
        if gone:
            self._drop(gone)


__all__ = [
    "FAMILIES",
    "Population",
    "optimizer_settings",
    "population_key",
    "step_lrs",
    "train_population",
]
