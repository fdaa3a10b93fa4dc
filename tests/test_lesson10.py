"""Lesson 10 (sequence models): the recurrent classifier and its knobs (kinds, input steps,
embeddings, dropout, truncated BPTT), the recall task, training through ``hp.train``
(clipping, seeds), the tables, plots, explorer and exercises, and the two faults the
lesson adds (BPTT never truncating, recurrent sizes ignored)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import hpcourse as hp
from hpcourse import sequence as seq
from hpcourse.exercises import lesson10
from hpcourse.plots import sequence as seq_plots
from hpcourse.sequence import SequenceClassifier, chunk_bounds, train_sequence
from hpcourse.tokens import chance_accuracy, make_token_task
from hpcourse.widgets.sequence import SequenceExplorer, sequence_explorer

ROOT = Path(__file__).resolve().parents[1]
FAST = {"optimizer": "adam", "lr": 0.02, "epochs": 2, "batch_size": 50, "seed": 0}


@pytest.fixture(scope="module")
def task():
    return make_token_task(vocab=8, length=6, distance=2, n_train=200, n_val=50, n_test=50, seed=0)


# --------------------------------------------------------------------------- the recall task


def test_token_task_labels_are_the_token_distance_steps_back():
    data = make_token_task(vocab=5, length=7, distance=3, n_train=40, n_val=10, n_test=10, seed=1)
    assert data.x_train.dtype == torch.int64 and data.x_train.shape == (40, 7)
    assert torch.equal(data.y_train, data.x_train[:, 7 - 1 - 3])
    assert torch.equal(data.y_val, data.x_val[:, 3])
    assert int(data.x_train.max()) < 5 and chance_accuracy(data) == pytest.approx(0.2)


def test_token_task_follows_the_course_seed():
    hp.setup(seed=2)
    a = make_token_task(n_train=20, n_val=5, n_test=5)
    b = make_token_task(n_train=20, n_val=5, n_test=5, seed=2)
    c = make_token_task(n_train=20, n_val=5, n_test=5, seed=3)
    hp.setup(seed=0)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"vocab": 1}, "vocab"),
        ({"length": 0}, "length"),
        ({"length": 4, "distance": 4}, "distance"),
    ],
)
def test_token_task_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_token_task(**kwargs)


# --------------------------------------------------------------------------- the model


def test_chunk_bounds_cut_from_the_end():
    assert chunk_bounds(10, 3) == [(0, 1), (1, 4), (4, 7), (7, 10)]
    assert chunk_bounds(6, 6) == [(0, 6)] and chunk_bounds(6, None) == [(0, 6)]


@pytest.mark.parametrize("kind", seq.KINDS)
def test_parameter_count_matches_torch(kind):
    for input_size, hidden in [(1, 1), (4, 32), (16, 8), (3, 5)]:
        module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
        expected = sum(p.numel() for p in module(input_size, hidden).parameters())
        assert seq.recurrent_parameter_count(kind, input_size, hidden) == expected


def test_signal_is_cut_into_steps_of_input_size():
    model = SequenceClassifier(10, kind="lstm", hidden=6, input_size=4)
    x = torch.arange(80.0).reshape(2, 40)
    steps = model.steps_of(x)
    assert steps.shape == (2, 10, 4) and torch.equal(steps[0, 1], torch.tensor([4.0, 5, 6, 7]))
    with pytest.raises(ValueError, match="input_size"):
        SequenceClassifier(10, input_size=3)(x)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"kind": "transformer"}, "kind"),
        ({"hidden": 0}, "hidden"),
        ({"layers": 0}, "layers"),
        ({"dropout": 1.0}, "dropout"),
        ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
        ({"bptt": 0}, "bptt"),
        ({"vocab_size": 10}, "embedding_dim"),
        ({"vocab_size": 10, "embedding_dim": 0}, "embedding_dim"),
    ],
)
def test_model_rejects_bad_hyperparameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SequenceClassifier(4, **kwargs)


def test_embedding_model_reads_tokens_only():
    model = SequenceClassifier(4, vocab_size=8, embedding_dim=3)
    assert model(torch.zeros(2, 5, dtype=torch.int64)).shape == (2, 4)
    with pytest.raises(ValueError, match="dtype"):
        model(torch.zeros(2, 5))


def _first_token_grad(bptt: int | None) -> float:
    torch.manual_seed(0)
    model = SequenceClassifier(3, kind="rnn", hidden=4, input_size=1, bptt=bptt)
    x = torch.randn(1, 6, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None
    return float(x.grad.abs().reshape(-1)[0])


def test_truncated_bptt_stops_the_gradient_but_not_the_state():
    assert _first_token_grad(None) > 0
    assert _first_token_grad(5) == 0.0  # the first step lies 6 steps back
    assert _first_token_grad(6) > 0
    torch.manual_seed(0)
    model = SequenceClassifier(3, kind="gru", hidden=4, input_size=1)
    x = torch.randn(2, 6)
    full = model(x)
    model.bptt = 2
    with torch.no_grad():
        assert torch.allclose(model(x), full)  # the forward pass is the same


def test_dropout_masks_are_the_same_at_every_step():
    torch.manual_seed(0)
    model = SequenceClassifier(3, kind="rnn", hidden=8, layers=2, dropout=0.5, input_size=1)
    layer = model.recurrent[0]
    h, _ = layer(torch.randn(4, 5, 1))
    mask = model.drop(torch.ones_like(h[:, :1]))
    dropped = h * mask
    zero_units = (dropped == 0).all(dim=1)  # a unit dropped at one step is dropped at all
    assert zero_units.any() and torch.equal((dropped == 0).any(dim=1), zero_units)


def test_recurrent_dropout_changes_training_outputs_only():
    torch.manual_seed(0)
    model = SequenceClassifier(3, kind="lstm", hidden=8, input_size=2, recurrent_dropout=0.5)
    x = torch.randn(4, 10)
    model.train()
    a, b = model(x), model(x)
    model.eval()
    c, d = model(x), model(x)
    assert not torch.allclose(a, b) and torch.equal(c, d)


# --------------------------------------------------------------------------- training


def test_train_sequence_is_reproducible_and_tags_the_model(task):
    a = train_sequence(FAST, task, kind="gru", hidden=8, embedding_dim=4)
    b = train_sequence(FAST, task, kind="gru", hidden=8, embedding_dim=4)
    assert a.val_loss == b.val_loss and a.step_loss == b.step_loss
    tags = a.config.tags
    assert (tags["kind"], tags["hidden"], tags["embedding_dim"], tags["steps"]) == ("gru", 8, 4, 6)
    assert len(a.step_grad_norm) == len(a.step_loss)  # recorded without clipping too


def test_train_sequence_leaves_the_global_generator_alone(task):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_sequence(FAST, task, hidden=4, embedding_dim=2)
    assert torch.equal(torch.rand(3), expected)


def test_clipping_caps_every_step_of_a_sequence_model(task):
    h = train_sequence({**FAST, "optimizer": "sgd", "lr": 0.5, "grad_clip": 0.05}, task, hidden=8)
    assert len(h.step_grad_norm) == len(h.step_loss) and max(h.step_grad_norm) > 0.05
    unclipped = train_sequence({**FAST, "optimizer": "sgd", "lr": 0.5}, task, hidden=8)
    assert h.step_loss[0] == pytest.approx(unclipped.step_loss[0])
    assert h.step_loss[1:] != unclipped.step_loss[1:]


def test_train_variants_sends_model_keys_to_the_model(task):
    runs = seq.train_variants(
        FAST,
        task,
        {"small": {"hidden": 2, "lr": 0.01}, "clipped": {"grad_clip": 1.0, "bptt": 2}},
        embedding_dim=4,
        progress=False,
    )
    table = seq.run_table(runs)
    assert table.loc["small", "hidden"] == 2 and table.loc["small", "lr"] == 0.01
    assert table.loc["clipped", "grad_clip"] == 1.0 and table.loc["clipped", "bptt"] == 2
    assert table.loc["clipped", "hidden"] == 32  # the model's default, not the MLP's
    assert (table["embedding_dim"] == 4).all() and not table["diverged"].any()
    assert table.loc["small", "params"] < table.loc["clipped", "params"]
    with pytest.raises(ValueError, match="variants"):
        seq.train_variants(FAST, task, {})


def test_training_subset_keeps_validation(task):
    small = seq.training_subset(task, 30)
    assert len(small.y_train) == 30 and torch.equal(small.x_val, task.x_val)
    with pytest.raises(ValueError, match="n_train"):
        seq.training_subset(task, 1000)


def test_clip_by_global_norm_matches_torch():
    rng = np.random.default_rng(0)
    for max_norm in (0.1, 1.0, 100.0):
        grads = [rng.normal(size=(3, 4)), rng.normal(size=7)]
        params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.tensor(g)
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        clipped, ours = seq.clip_by_global_norm(grads, max_norm)
        assert ours == pytest.approx(float(norm))
        for c, p in zip(clipped, params, strict=True):
            assert np.allclose(c, np.asarray(p.grad), rtol=1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        seq.clip_by_global_norm(grads, 0.0)


# --------------------------------------------------------------------------- plots and explorer


def test_plots_return_axes(task):
    runs = seq.train_variants(
        {**FAST, "grad_clip": 1.0}, task, {"a": {}, "b": {"lr": 0.05}}, progress=False
    )
    table = seq.run_table(runs)
    fig, axes = plt.subplots(1, 4)
    assert seq_plots.plot_step_losses(runs, chance=seq_plots.chance_loss(8), ax=axes[0])
    assert seq_plots.plot_grad_norms(runs, clip=1.0, ax=axes[1]) is axes[1]
    assert seq_plots.plot_size_sweep(table.assign(hidden=[4, 8]), "hidden", ax=axes[2])
    assert seq_plots.plot_accuracy_curves(runs["a"], reference=runs["b"], ax=axes[3])
    labels = axes[1].get_legend_handles_labels()[1]
    assert labels == ["a", "b", "clip threshold 1"]
    plt.close(fig)
    assert seq_plots.chance_loss(8) == pytest.approx(math.log(8))


def test_explorer_retrains_when_a_control_moves(task):
    ex = sequence_explorer(task, FAST, hidden=8, embedding_dim=4)
    assert isinstance(ex, SequenceExplorer) and ex.redraws == 1
    first = ex.state["train_acc"]
    ex.controls["embedding_dim"].value = 1
    assert ex.redraws == 2 and ex.state["embedding_dim"] == 1
    assert ex.state["params"] < ex.state["history"].n_params + 1
    ex.controls["bptt"].value = 2
    assert ex.state["bptt"] == 2 and ex.state["history"].config.tags["bptt"] == 2
    ex.controls["bptt"].value = 0
    assert ex.state["bptt"] is None
    ex.controls["kind"].value = "lstm"
    assert ex.state["kind"] == "lstm" and "LSTM" in ex.status.value
    assert 0 <= first <= 1 and ex.state["seconds"] < 30


def test_explorer_rejects_bad_input(task):
    mnist_like = seq.training_subset(hp.load_dataset("digits", seed=0), 100)
    with pytest.raises(ValueError, match="data"):
        sequence_explorer(mnist_like, FAST)
    with pytest.raises(ValueError, match="hidden"):
        sequence_explorer(task, FAST, hidden=5)
    with pytest.raises(ValueError, match="bptt"):
        sequence_explorer(task, FAST, bptt=6)


# --------------------------------------------------------------------------- exercises


def test_parameter_count_checker_accepts_the_right_answer():
    assert lesson10.check_parameter_count(seq.recurrent_parameter_count, verbose=False)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda kind, i, h: {"rnn": 1, "gru": 3, "lstm": 4}[kind] * (h * (i + h) + h),  # one bias
        lambda kind, i, h: h * (i + h) + 2 * h,  # no gates
        lambda kind, i, h: {"rnn": 1, "gru": 3, "lstm": 3}[kind] * (h * (i + h) + 2 * h),
        lambda kind, i, h: {"rnn": 1, "gru": 3, "lstm": 4}[kind] * (2 * h * h + 2 * h),  # i = h
        lambda kind, i, h: {"rnn": 1, "gru": 3, "lstm": 4}[kind] * h * (i + h),  # no biases
        lambda kind, i, h: str(seq.recurrent_parameter_count(kind, i, h)),
    ],
)
def test_parameter_count_checker_rejects_wrong_answers(wrong):
    assert lesson10.check_parameter_count(wrong, verbose=False).passed is False


def test_parameter_count_checker_skips_the_stub():
    def stub(kind, input_size, hidden):
        raise NotImplementedError

    assert lesson10.check_parameter_count(stub, verbose=False).passed is None


def _right_clip(grads, max_norm):
    return seq.clip_by_global_norm(grads, max_norm)[0]


def _torch_clip(grads, max_norm):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [np.asarray(p.grad) for p in params]


def test_clip_checker_accepts_right_answers():
    assert lesson10.check_clip(_right_clip, verbose=False)
    assert lesson10.check_clip(_torch_clip, verbose=False)


def _per_tensor(grads, max_norm):
    return [g * min(1.0, max_norm / np.linalg.norm(g)) if np.linalg.norm(g) else g for g in grads]


def _by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def _always_scale(grads, max_norm):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * max_norm / norm if norm else g for g in grads]


def _no_zero_guard(grads, max_norm):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * min(1.0, max_norm / norm) for g in grads]


def _sum_of_norms(grads, max_norm):
    norm = sum(float(np.linalg.norm(g)) for g in grads)
    return [g * min(1.0, max_norm / norm) if norm else g for g in grads]


def _flattened(grads, max_norm):
    return list(np.concatenate([g.ravel() for g in _right_clip(grads, max_norm)]))


@pytest.mark.parametrize(
    "wrong", [_per_tensor, _by_value, _always_scale, _no_zero_guard, _sum_of_norms, _flattened]
)
def test_clip_checker_rejects_wrong_answers(wrong):
    with np.errstate(all="ignore"):
        assert lesson10.check_clip(wrong, verbose=False).passed is False


def test_clip_checker_skips_the_stub():
    def stub(grads, max_norm):
        raise NotImplementedError

    assert lesson10.check_clip(stub, verbose=False).passed is None


# --------------------------------------------------------------------------- faults


FAULT_CHECK = """
import sys
sys.path.insert(0, {tools!r})
import faults
faults.apply({fault!r})
import torch
from hpcourse.sequence import SequenceClassifier
torch.manual_seed(0)
if {fault!r} == "bptt_ignored":
    model = SequenceClassifier(3, kind="rnn", hidden=4, input_size=1, bptt=2)
    x = torch.randn(1, 6, requires_grad=True)
    model(x).sum().backward()
    print(float(x.grad.abs().reshape(-1)[0]) > 0)
else:
    model = SequenceClassifier(3, hidden=4, vocab_size=8, embedding_dim=2)
    print(model.hidden, model.embedding.embedding_dim)
"""


def _faulted(fault: str) -> str:
    code = FAULT_CHECK.format(tools=str(ROOT / "tools"), fault=fault)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_fault_bptt_ignored_lets_the_gradient_through():
    assert _faulted("bptt_ignored") == "True"


def test_fault_rnn_sizes_ignored_builds_the_default_sizes():
    assert _faulted("rnn_sizes_ignored") == "32 16"
