"""A synthetic token task, generated locally: recall a token seen some steps ago.

Why a made-up task next to MNIST-1D: its difficulty has knobs we set ourselves. Every
example is a sequence of ``length`` tokens drawn uniformly from a vocabulary of ``vocab``
symbols, and its label is the token that stood ``distance`` steps before the last one
(by default the first token of the sequence). So

* the model must tell ``vocab`` different tokens apart, which is what an embedding is
  for: too few embedding dimensions and different tokens crowd together;
* it must keep one token in its hidden state while ``distance`` other tokens go by,
  which is what truncated backpropagation through time can make impossible to learn;
* chance level is exactly ``1 / vocab``.

The tokens are stored as int64 class indices (``x_train[i, t]`` is the token at step
``t``), so an :class:`~hpcourse.sequence.SequenceClassifier` with an embedding reads them
directly. Nothing is standardized: a token is a name, not a quantity.

>>> data = make_token_task(vocab=8, length=5, n_train=100, n_val=20, n_test=20, seed=0)
>>> data.x_train.shape, data.x_train.dtype, data.n_classes
(torch.Size([100, 5]), torch.int64, 8)
>>> bool((data.y_train == data.x_train[:, 0]).all())  # distance 4 = the first token
True
"""

from __future__ import annotations

import numpy as np
import torch

from hpcourse.data import Dataset
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number

#: Salt that separates this task's random stream from every other use of the course seed.
_STREAM = 10


def recall_examples(
    vocab: int, length: int, distance: int, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of uniform tokens and, as labels, the token ``distance`` steps
    before the last one of each sequence."""
    x = rng.integers(0, vocab, size=(n, length))
    return x, x[:, length - 1 - distance].copy()


def make_token_task(
    *,
    vocab: int = 32,
    length: int = 12,
    distance: int | None = None,
    n_train: int = 2000,
    n_val: int = 500,
    n_test: int = 500,
    seed: int | None = None,
) -> Dataset:
    """The recall task as a train / validation / test :class:`~hpcourse.data.Dataset`.

    Args:
        vocab: number of distinct tokens (and of classes); chance accuracy is ``1 / vocab``.
        length: tokens per sequence.
        distance: how many steps before the last token the token to recall stands
            (0 = the last token itself; default ``length - 1``, the first token).
        n_train, n_val, n_test: examples per split (drawn independently).
        seed: the generator's seed; default the course's seed, so a notebook's task
            changes with ``HPCOURSE_SEED`` like everything else.
    """
    check_number("vocab", vocab, low=2, high=10_000, integer=True)
    check_number("length", length, low=1, high=10_000, integer=True)
    if distance is None:
        distance = length - 1
    check_number("distance", distance, low=0, high=length - 1, integer=True)
    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        check_number(name, n, low=1, high=1_000_000, integer=True)
    rng = np.random.default_rng(np.random.SeedSequence([resolve_seed(seed), _STREAM]))
    splits = [recall_examples(vocab, length, distance, n, rng) for n in (n_train, n_val, n_test)]
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (
        (torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64)))
        for x, y in splits
    )
    return Dataset(
        name=f"recall(vocab={vocab}, length={length}, distance={distance})",
        x_train=x_tr,
        y_train=y_tr,
        x_val=x_va,
        y_val=y_va,
        x_test=x_te,
        y_test=y_te,
        n_classes=vocab,
        input_shape=(length,),
        class_names=[f"t{k}" for k in range(vocab)],
    )


def chance_accuracy(data: Dataset) -> float:
    """Accuracy of guessing: ``1 / n_classes`` (the labels are uniform by construction)."""
    return 1.0 / data.n_classes


__all__ = ["chance_accuracy", "make_token_task", "recall_examples"]
