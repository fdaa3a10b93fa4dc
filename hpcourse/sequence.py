"""Recurrent classifiers whose every knob is a hyperparameter of lesson 10.

A :class:`SequenceClassifier` reads a sequence one step at a time, carries a hidden state
from step to step, and classifies the sequence from the hidden state after the last
step. Its hyperparameters, all fixed before training:

* ``kind``: ``"rnn"`` (Elman: one tanh layer, the classic that explodes and vanishes),
  ``"gru"`` (Cho et al. 2014: two gates) or ``"lstm"`` (Hochreiter & Schmidhuber 1997:
  three gates and a separate cell state, a third more weights than a GRU);
* ``hidden``: units in the hidden state (its memory), ``layers``: stacked recurrent layers;
* how the input is cut into steps: ``input_size`` values per step for a signal (MNIST-1D's
  40 values are 40 steps of 1 or 10 steps of 4), or tokens looked up in an embedding of
  ``embedding_dim`` numbers per token (``vocab_size`` tokens);
* ``dropout``: drops units of each layer's output sequence, the same units at every step
  (variational dropout, Gal & Ghahramani 2016), between layers and before the readout;
* ``recurrent_dropout``: drops weights of the hidden-to-hidden matrix, the same ones at
  every step of a sequence (weight drop, Merity et al. 2018): the regularizer that acts on
  the recurrent connection itself while keeping PyTorch's fused kernels;
* ``bptt``: truncated backpropagation through time. With ``bptt=k`` the gradient flows
  back only ``k`` steps from the end of the sequence: the hidden state is carried forward
  as usual but detached every ``k`` steps, so nothing further back can be learned.

Training goes through :func:`hpcourse.train` (``model=``), with the config's optimizer,
schedule, ``grad_clip`` and early stopping; :func:`train_sequence` builds the model from
the run's seed and writes its hyperparameters into ``config.tags`` so that the run's
record describes the whole model.

>>> model = SequenceClassifier(10, kind="gru", hidden=8, input_size=4)
>>> model(torch.zeros(3, 40)).shape  # 40 values read as 10 steps of 4
torch.Size([3, 10])
>>> model.hyperparameters()["steps"] is None  # the steps follow from the input's length
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call

from hpcourse.config import TrainConfig, as_config
from hpcourse.data import Dataset
from hpcourse.results import History
from hpcourse.runs import run_scope
from hpcourse.validation import check_choice, check_number

KINDS = ("rnn", "gru", "lstm")
#: Weight blocks of one recurrent layer: the plain RNN has one, a GRU three (reset gate,
#: update gate, candidate), an LSTM four (input, forget and output gates, candidate).
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
#: The keyword arguments of :class:`SequenceClassifier` that describe the model.
MODEL_KEYS = frozenset(
    {
        "kind",
        "hidden",
        "layers",
        "input_size",
        "vocab_size",
        "embedding_dim",
        "dropout",
        "recurrent_dropout",
        "bptt",
    }
)
_MODULES: dict[str, Any] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def _detach(state: State) -> State:
    if isinstance(state, tuple):
        return (state[0].detach(), state[1].detach())
    return state.detach()


def chunk_bounds(steps: int, bptt: int | None) -> list[tuple[int, int]]:
    """Where truncated BPTT cuts a sequence of ``steps`` steps: chunks of ``bptt`` steps
    counted back from the *end* (the loss sits at the last step), the first chunk shorter.

    >>> chunk_bounds(12, 5)
    [(0, 2), (2, 7), (7, 12)]
    >>> chunk_bounds(12, None)
    [(0, 12)]
    """
    if bptt is None or bptt >= steps:
        return [(0, steps)]
    bounds = []
    stop = steps
    while stop > 0:
        bounds.append((max(stop - bptt, 0), stop))
        stop -= bptt
    return bounds[::-1]


class RecurrentLayer(nn.Module):
    """One recurrent layer (PyTorch's fused RNN, GRU or LSTM) with optional weight drop on
    its hidden-to-hidden matrix, the same mask for every step of a forward pass."""

    def __init__(
        self, kind: str, input_size: int, hidden: int, recurrent_dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.kind = kind
        self.cell = _MODULES[kind](input_size, hidden, batch_first=True)
        self.recurrent_dropout = float(recurrent_dropout)
        self.weight_drop = nn.Dropout(recurrent_dropout)

    def forward(self, x: torch.Tensor, bptt: int | None = None) -> tuple[torch.Tensor, State]:
        """Run the layer over ``x`` (batch, steps, features); return all outputs and the
        last state. With ``bptt`` (and gradients on), the state is detached between chunks."""
        params: dict[str, torch.Tensor] = {}
        if self.training and self.recurrent_dropout > 0:
            params["weight_hh_l0"] = self.weight_drop(self.cell.weight_hh_l0)
        chunks = chunk_bounds(x.shape[1], bptt if torch.is_grad_enabled() else None)
        outputs, state = [], None
        for start, stop in chunks:
            if state is not None:
                state = _detach(state)
            args = (x[:, start:stop],) if state is None else (x[:, start:stop], state)
            out, state = functional_call(self.cell, params, args) if params else self.cell(*args)
            outputs.append(out)
        assert state is not None
        return torch.cat(outputs, dim=1) if len(outputs) > 1 else outputs[0], state


class SequenceClassifier(nn.Module):
    """A stack of recurrent layers and a linear readout of the last step's hidden state.

    Args:
        n_classes: outputs of the readout.
        kind: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        hidden: units per recurrent layer. layers: how many are stacked.
        input_size: values per step when the input is a signal: an input of shape
            (batch, n) is read as ``n / input_size`` steps. Ignored for tokens.
        vocab_size, embedding_dim: give both for token input (int64, shape (batch,
            steps)): each token is looked up in a learned table of ``embedding_dim``
            numbers.
        dropout: share of each layer's output units dropped in training, the same units
            at every step (between layers and before the readout).
        recurrent_dropout: share of the hidden-to-hidden weights dropped in training, the
            same weights at every step of a forward pass.
        bptt: truncation length of backpropagation through time (None = the whole
            sequence).
    """

    def __init__(
        self,
        n_classes: int,
        *,
        kind: str = "gru",
        hidden: int = 32,
        layers: int = 1,
        input_size: int = 1,
        vocab_size: int | None = None,
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        bptt: int | None = None,
    ) -> None:
        super().__init__()
        check_number("n_classes", n_classes, low=1, integer=True)
        check_choice("kind", kind, KINDS)
        check_number("hidden", hidden, low=1, high=4096, integer=True)
        check_number("layers", layers, low=1, high=16, integer=True)
        check_number("input_size", input_size, low=1, integer=True)
        check_number("dropout", dropout, low=0, high=1, high_open=True)
        check_number("recurrent_dropout", recurrent_dropout, low=0, high=1, high_open=True)
        if bptt is not None:
            check_number("bptt", bptt, low=1, integer=True)
        if (vocab_size is None) != (embedding_dim is None):
            raise ValueError(
                f"vocab_size={vocab_size!r}, embedding_dim={embedding_dim!r} is not allowed: "
                "give both (token input) or neither (a signal read input_size values a step)."
            )
        self.embedding: nn.Embedding | None = None
        if vocab_size is not None and embedding_dim is not None:
            check_number("vocab_size", vocab_size, low=1, integer=True)
            check_number("embedding_dim", embedding_dim, low=1, high=4096, integer=True)
            self.embedding = nn.Embedding(vocab_size, embedding_dim)
            width = embedding_dim
        else:
            width = input_size
        self.kind, self.hidden, self.layers, self.input_size = kind, hidden, layers, input_size
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        self.dropout, self.recurrent_dropout, self.bptt = dropout, recurrent_dropout, bptt
        self.recurrent = nn.ModuleList(
            RecurrentLayer(kind, width if i == 0 else hidden, hidden, recurrent_dropout)
            for i in range(layers)
        )
        self.drop = nn.Dropout(dropout)
        self.readout = nn.Linear(hidden, n_classes)

    def steps_of(self, x: torch.Tensor) -> torch.Tensor:
        """The input as (batch, steps, features): embedded tokens, or the signal cut
        into steps of ``input_size`` values."""
        if self.embedding is not None:
            if x.dtype not in (torch.int64, torch.int32):
                raise ValueError(
                    f"x of dtype {x.dtype} is not allowed: a model with an embedding reads "
                    "integer tokens (int64)."
                )
            return self.embedding(x)
        if x.dim() == 3:
            return x
        n = x.shape[1]
        if n % self.input_size:
            raise ValueError(
                f"input_size={self.input_size} is not allowed for inputs of {n} values: "
                "input_size must divide the number of values per example."
            )
        return x.reshape(x.shape[0], n // self.input_size, self.input_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.steps_of(x)
        for i, layer in enumerate(self.recurrent):
            h, _ = layer(h, self.bptt)
            if i < self.layers - 1 and self.training and self.dropout > 0:
                # the same units dropped at every step: one mask per sequence
                mask = self.drop(torch.ones_like(h[:, :1]))
                h = h * mask
        return self.readout(self.drop(h[:, -1]))

    def hyperparameters(self) -> dict[str, Any]:
        """The model's hyperparameters, for ``config.tags`` (JSON-friendly)."""
        return {
            "model": "SequenceClassifier",
            "kind": self.kind,
            "hidden": self.hidden,
            "layers": self.layers,
            "input_size": None if self.embedding is not None else self.input_size,
            "steps": None,
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "bptt": self.bptt,
        }


def is_token_data(data: Dataset) -> bool:
    """True when the inputs are integer tokens (e.g. :func:`hpcourse.tokens.make_token_task`)."""
    return not torch.is_floating_point(data.x_train)


def vocab_of(data: Dataset) -> int:
    """The number of token ids a token dataset uses (the largest id + 1, over all splits)."""
    return 1 + int(max(int(x.max()) for x in (data.x_train, data.x_val, data.x_test)))


def training_subset(data: Dataset, n_train: int) -> Dataset:
    """``data`` with only its first ``n_train`` training examples (validation and test
    unchanged): recurrent models train one step at a time, so a lesson that compares
    several of them on one core keeps the training split small."""
    import dataclasses

    check_number("n_train", n_train, low=1, high=len(data.y_train), integer=True)
    return dataclasses.replace(
        data,
        name=f"{data.name} (first {n_train} training examples)",
        x_train=data.x_train[:n_train],
        y_train=data.y_train[:n_train],
    )


def build_sequence_model(data: Dataset, seed: int, **hyperparameters: Any) -> SequenceClassifier:
    """A :class:`SequenceClassifier` sized for ``data``, its weights drawn from ``seed``
    (in a run scope: the global generator is left alone). For token data the vocabulary
    is read from the data and ``embedding_dim`` defaults to 16."""
    if is_token_data(data):
        hyperparameters.setdefault("vocab_size", vocab_of(data))
        hyperparameters.setdefault("embedding_dim", 16)
    with run_scope(seed):
        return SequenceClassifier(data.n_classes, **hyperparameters)


class GradNormRecorder:
    """An ``on_step`` callback that records the gradient norm of every step.

    :func:`hpcourse.train` records the (pre-clip) norm itself when ``grad_clip`` is set;
    this recorder measures the same number in a run *without* clipping, so that the two
    can be drawn side by side.
    """

    def __init__(self) -> None:
        self.norms: list[float] = []

    def __call__(self, history: History, model: nn.Module, examples: int) -> None:
        grads = [p.grad.detach().reshape(-1) for p in model.parameters() if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.cat(grads)).item() if grads else math.nan
        self.norms.append(norm)


def train_sequence(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    *,
    progress: bool = False,
    **hyperparameters: Any,
) -> History:
    """Build a :class:`SequenceClassifier` from ``hyperparameters`` and train it with
    :func:`hpcourse.train` (``model=``): the config's optimizer, schedule, clipping and
    early stopping apply as to any model.

    The model's weights come from ``config.seed``, and its hyperparameters are added to
    ``config.tags``, so ``history.config`` (and a logged record) describes the whole run.
    ``history.step_grad_norm`` holds every step's gradient norm before clipping; a run
    without ``grad_clip`` records it too (with :class:`GradNormRecorder`).

    >>> from hpcourse.tokens import make_token_task
    >>> data = make_token_task(vocab=4, length=3, n_train=64, n_val=16, n_test=16, seed=0)
    >>> h = train_sequence({"epochs": 1, "batch_size": 16, "seed": 0}, data, hidden=4)
    >>> h.config.tags["kind"], h.config.tags["embedding_dim"], len(h.step_grad_norm)
    ('gru', 16, 4)
    """
    from hpcourse.training import train

    config = as_config(config)
    model = build_sequence_model(data, config.seed, **hyperparameters)
    tags = {**config.tags, **model.hyperparameters()}
    with torch.no_grad():
        tags["steps"] = int(model.steps_of(data.x_train[:1]).shape[1])
    config = config.replace(tags=tags)
    recorder = GradNormRecorder() if config.grad_clip is None else None
    history = train(config, data, model=model, progress=progress, on_step=recorder)
    if recorder is not None:
        history.step_grad_norm = recorder.norms
    return history


def recurrent_parameter_count(kind: str, input_size: int, hidden: int) -> int:
    """Learned numbers of one PyTorch recurrent layer reading ``input_size`` features into
    ``hidden`` units: each of its :data:`GATES` blocks has an input matrix, a recurrent
    matrix and two bias vectors (PyTorch keeps ``b_ih`` and ``b_hh`` apart).

    Why it matters: at equal ``hidden`` an LSTM costs 4/3 of a GRU and 4x a plain RNN, so a
    fair comparison of kinds is at equal parameters, not only at equal width.

    >>> recurrent_parameter_count("gru", 4, 32)
    3648
    >>> recurrent_parameter_count("lstm", 4, 32) * 3 == recurrent_parameter_count("gru", 4, 32) * 4
    True
    """
    check_choice("kind", kind, KINDS)
    check_number("input_size", input_size, low=1, integer=True)
    check_number("hidden", hidden, low=1, integer=True)
    return GATES[kind] * (hidden * (input_size + hidden) + 2 * hidden)


def clip_by_global_norm(
    grads: Sequence[np.ndarray], max_norm: float
) -> tuple[list[np.ndarray], float]:
    """Gradient clipping by the global norm, as ``torch.nn.utils.clip_grad_norm_`` does it.

    The norm is taken over *all* gradients together, as if they were one long vector, and
    every gradient is multiplied by the same factor ``min(1, max_norm / norm)``: the step
    keeps its direction and only its length is capped. Returns the clipped gradients and
    the norm before clipping.

    >>> clipped, norm = clip_by_global_norm([np.array([3.0]), np.array([4.0])], 1.0)
    >>> norm, [g.round(6).tolist() for g in clipped]
    (5.0, [[0.6], [0.8]])
    """
    check_number("max_norm", max_norm, low=0, low_open=True)
    arrays = [np.asarray(g, dtype=float) for g in grads]
    norm = float(np.sqrt(sum(float(np.sum(g**2)) for g in arrays)))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return [g * scale for g in arrays], norm


def train_variants(
    config: TrainConfig | dict[str, Any],
    data: Dataset,
    variants: Mapping[str, Mapping[str, Any]],
    *,
    progress: bool = True,
    **fixed: Any,
) -> dict[str, History]:
    """Train one :class:`SequenceClassifier` per variant, one after another.

    ``variants`` maps a name to the settings that differ from ``config`` and ``fixed``:
    model hyperparameters (:data:`MODEL_KEYS`: ``hidden``, ``embedding_dim``, ``bptt``,
    ...) go to the model, everything else (``lr``, ``grad_clip``, ...) to the config.
    (``hidden`` and ``dropout`` are the model's here, not the config's MLP fields.) Every variant
    starts from the same seed, so two variants differ only in what they change.
    """
    from hpcourse.progress import progress as progress_bar

    base = as_config(config)
    if not variants:
        raise ValueError("variants={} is not allowed: give at least one variant.")
    runs: dict[str, History] = {}
    for name in progress_bar(list(variants), desc="runs", enabled=progress):
        settings = {**fixed, **variants[name]}
        model = {k: v for k, v in settings.items() if k in MODEL_KEYS}
        changes = {k: v for k, v in settings.items() if k not in MODEL_KEYS}
        runs[name] = train_sequence(base.replace(**changes), data, **model)
    return runs


def _clipped_share(h: History) -> float:
    """Share of the steps whose gradient norm was above ``grad_clip`` (NaN without it)."""
    clip = h.config.grad_clip
    if clip is None or not h.step_grad_norm:
        return math.nan
    return float(np.mean(np.asarray(h.step_grad_norm) > clip))


def run_table(runs: Mapping[str, History]) -> pd.DataFrame:
    """One row per run: its model and training settings, final accuracies (train and
    validation), the first and the largest training loss of any step (a blow-up shows as
    a largest loss far above the first), the largest pre-clip gradient norm and, with
    clipping, the share of steps that clipping shortened (``clipped_share``)."""
    rows = []
    for name, h in runs.items():
        tags, config = h.config.tags, h.config
        rows.append(
            {
                "run": name,
                "kind": tags.get("kind"),
                "embedding_dim": tags.get("embedding_dim"),
                "hidden": tags.get("hidden"),
                "bptt": tags.get("bptt"),
                "lr": config.lr,
                "grad_clip": config.grad_clip,
                "params": h.n_params,
                "train_acc": math.nan if h.diverged else h.train_acc[-1],
                "val_acc": h.final_val_acc,
                "first_loss": h.step_loss[0] if h.step_loss else math.nan,
                "max_loss": max(h.step_loss) if h.step_loss else math.nan,
                "max_grad_norm": max(h.step_grad_norm) if h.step_grad_norm else math.nan,
                "clipped_share": _clipped_share(h),
                "diverged": h.diverged,
            }
        )
    return pd.DataFrame(rows).set_index("run")


__all__ = [
    "GATES",
    "KINDS",
    "MODEL_KEYS",
    "GradNormRecorder",
    "RecurrentLayer",
    "SequenceClassifier",
    "build_sequence_model",
    "chunk_bounds",
    "clip_by_global_norm",
    "is_token_data",
    "recurrent_parameter_count",
    "run_table",
    "train_sequence",
    "train_variants",
    "training_subset",
    "vocab_of",
]
