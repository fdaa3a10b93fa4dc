"""Augmentation: random, label-preserving changes to training images, and their hyperparameters.

Augmentation shows the model a slightly different version of each image every time, so
it learns what does not matter (a small tilt) instead of memorizing pixels. How strong
each change is (rotation degrees, flip type) is a hyperparameter of the data stage, and
it must keep the label true: a mirrored 2 is not a 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from hpcourse.runs import run_scope
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_choice, check_number

FLIPS = ("none", "horizontal", "vertical")


def make_augmentation(rotation_degrees: float = 0.0, flip: str = "none") -> Any:
    """A torchvision ``transforms.v2`` pipeline: random rotation, then an optional random flip.

    ``rotation_degrees=15`` rotates each image by an angle drawn uniformly from
    [-15, 15]. ``flip`` is ``"none"``, ``"horizontal"`` or ``"vertical"`` (each applied
    with probability 0.5). Both are hyperparameters of the data stage, and they must keep
    the label true: a mirrored "2" is no longer a 2, so flips suit photos of cats, not digits.

    >>> t = make_augmentation(rotation_degrees=10, flip="horizontal")
    >>> [type(s).__name__ for s in t.transforms]
    ['RandomRotation', 'RandomHorizontalFlip']
    """
    from torchvision.transforms import v2

    check_number("rotation_degrees", rotation_degrees, low=0, high=180)
    check_choice("flip", flip, FLIPS)
    steps: list[Any] = [
        v2.RandomRotation(float(rotation_degrees), interpolation=v2.InterpolationMode.BILINEAR)
    ]
    if flip == "horizontal":
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    elif flip == "vertical":
        steps.append(v2.RandomVerticalFlip(p=0.5))
    return v2.Compose(steps)


def digit_images(n: int = 6, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` raw digit images, shape ``(n, 1, 8, 8)``, scaled to [0, 1], with their labels.

    Raw, not standardized: augmentation acts on pictures, before any feature scaling.
    The first ten are one example of each digit 0-9 (which example depends on ``seed``).
    """
    from sklearn.datasets import load_digits

    check_number("n", n, low=1, high=100, integer=True)
    seed = resolve_seed(seed)
    bunch = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bunch.target))
    # one example of each class first, in order 0, 1, 2, ..., so a small grid shows
    # different digits; after ten, any further examples in the generator's order
    first = [int(order[bunch.target[order] == digit][0]) for digit in range(10)]
    taken = set(first)
    picks = (first + [int(i) for i in order if int(i) not in taken])[:n]
    images = torch.tensor(bunch.images[picks] / 16.0, dtype=torch.float32).unsqueeze(1)
    return images, torch.tensor(bunch.target[picks], dtype=torch.int64)


def augmentation_grid(
    images: torch.Tensor,
    rotation_degrees: float = 15.0,
    flip: str = "none",
    n_variants: int = 6,
    seed: int | None = None,
) -> torch.Tensor:
    """Augmented copies of each image: shape ``(n_images, n_variants + 1, H, W)``.

    Column 0 is the original, the others are random draws of the augmentation. v2
    transforms draw one random angle per call, so we call them image by image. The
    draws come from ``seed`` inside a forked random state, so the global torch
    generator is left exactly as it was.
    """
    check_number("n_variants", n_variants, low=1, high=50, integer=True)
    seed = resolve_seed(seed)
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"images with shape {shape} is not allowed: images must be a tensor of shape "
            "(n, 1, height, width), e.g. from digit_images()."
        )
    transform = make_augmentation(rotation_degrees, flip)
    rows = []
    with run_scope(seed):  # seeded draws; the global generator is left as it was
        for img in images:
            row = [img[0]] + [transform(img)[0] for _ in range(n_variants)]
            rows.append(torch.stack(row))
    return torch.stack(rows)


def _raw_images(data: Any, split: str = "val") -> tuple[torch.Tensor, float]:
    """The split's examples as raw images ``(n, 1, H, W)`` in [0, 1], and the pixel scale.

    Augmentation acts on pictures, so the standardized features are turned back into
    pixels first (``Dataset.unstandardize``), then divided by the largest pixel value of
    the training split (16 for the digits).
    """
    from hpcourse.data import Dataset

    shape = getattr(data, "input_shape", ())
    if not isinstance(data, Dataset) or len(shape) != 3 or data.feature_mean is None:
        raise ValueError(
            f"data={data!r} is not allowed: data must be a hpcourse Dataset of images with "
            "an input_shape (channels, height, width), e.g. load_dataset('digits')."
        )
    x = getattr(data, f"x_{split}")
    scale = float(np.max(data.unstandardize(data.x_train)))
    raw = torch.as_tensor(data.unstandardize(x), dtype=torch.float32) / scale
    return raw.reshape(-1, *shape), scale


def augmented_accuracy(
    model: torch.nn.Module,
    data: Any,
    rotation_degrees: float = 0.0,
    flip: str = "none",
    *,
    draws: int = 4,
    seed: int | None = None,
) -> dict[str, float]:
    """Accuracy of a trained model on augmented copies of the validation images.

    Why this measures whether an augmentation keeps the label: a model trained on plain
    digits has never seen the augmented copies. If it still names most of them right,
    the copies still look like their label; if it gets a kind of copy wrong most of the
    time (a mirrored 3), the copy no longer shows its label, and training on it would
    teach the model a wrong answer.

    Each validation image is augmented ``draws`` times with :func:`make_augmentation`
    (raw pixels, then standardized with the training split's mean and std, as the model
    expects). Returns ``accuracy`` (over every copy), ``changed`` (the share of copies
    the augmentation changed at all: a random flip leaves about half as they were) and
    ``accuracy_changed`` (over the changed copies only; NaN if none changed).
    """
    check_number("draws", draws, low=1, high=50, integer=True)
    seed = resolve_seed(seed)
    images, scale = _raw_images(data)
    transform = make_augmentation(rotation_degrees, flip)
    mean = torch.as_tensor(data.feature_mean, dtype=torch.float32)
    std = torch.as_tensor(data.feature_std, dtype=torch.float32)
    correct, changed = [], []
    was_training = model.training
    model.eval()
    try:
        with run_scope(seed), torch.no_grad():
            for _ in range(draws):
                copies = torch.stack([transform(image) for image in images])
                moved = (copies - images).abs().flatten(1).amax(dim=1) > 1e-6
                x = (copies.flatten(1) * scale - mean) / std
                correct.append(model(x).argmax(dim=1) == data.y_val)
                changed.append(moved)
    finally:
        model.train(was_training)
    right, moved = torch.cat(correct).float(), torch.cat(changed)
    return {
        "accuracy": float(right.mean()),
        "changed": float(moved.float().mean()),
        "accuracy_changed": float(right[moved].mean()) if bool(moved.any()) else float("nan"),
    }


def augmentation_effects(
    model: torch.nn.Module,
    data: Any,
    settings: dict[str, tuple[float, str]],
    *,
    draws: int = 4,
    seed: int | None = None,
) -> pd.DataFrame:
    """:func:`augmented_accuracy` for several augmentations: one row per named setting.

    ``settings`` maps a name to ``(rotation_degrees, flip)``, e.g.
    ``{"rotation +/-15": (15, "none"), "horizontal flip": (0, "horizontal")}``.
    """
    if not isinstance(settings, dict) or not settings:
        raise ValueError(
            f"settings={settings!r} is not allowed: settings must be a non-empty dict of "
            "name -> (rotation_degrees, flip)."
        )
    rows = []
    for name, (rotation, flip) in settings.items():
        score = augmented_accuracy(model, data, rotation, flip, draws=draws, seed=seed)
        rows.append({"augmentation": name, "rotation_degrees": rotation, "flip": flip, **score})
    return pd.DataFrame(rows)


def shift_signals(
    x: np.ndarray, max_shift: int, noise_std: float, rng: np.random.Generator
) -> np.ndarray:
    """Each row of ``x`` (one 1-D signal per row) rolled circularly by its own shift, drawn
    uniformly from ``-max_shift .. max_shift`` positions, plus Gaussian noise of standard
    deviation ``noise_std`` (in the units of ``x``).

    Why a circular roll: MNIST-1D itself places each pattern at a random circular offset
    (its generator rolls the padded signal), so a small roll gives another example the
    generator could have made, with the same label.

    >>> two = np.arange(5.0)[None, :].repeat(2, axis=0)
    >>> shift_signals(two, 1, 0.0, np.random.default_rng(2))  # rolled right by 1, left by 1
    array([[4., 0., 1., 2., 3.],
           [1., 2., 3., 4., 0.]])
    """
    check_number("max_shift", max_shift, low=0, high=x.shape[1] - 1, integer=True)
    check_number("noise_std", noise_std, low=0)
    shifts = rng.integers(-max_shift, max_shift + 1, size=len(x))
    positions = (np.arange(x.shape[1])[None, :] - shifts[:, None]) % x.shape[1]
    out = np.take_along_axis(np.asarray(x, dtype=np.float64), positions, axis=1)
    if noise_std > 0:
        out = out + noise_std * rng.standard_normal(out.shape)
    return out


def augmented_copies(
    data: Any,
    copies: int,
    max_shift: int,
    noise_std: float = 0.0,
    *,
    seed: int | None = None,
) -> Any:
    """The dataset with a training split enlarged by ``copies`` augmented copies of each
    training signal (:func:`shift_signals`); validation and test are left as they were.

    Why copies drawn once, before training ("offline" augmentation): every engine, the
    population trainer included, then trains on a plain tensor, and the number of
    training examples says exactly how much the augmentation added. The three
    augmentation hyperparameters are ``copies``, ``max_shift`` and ``noise_std``.

    Signals are augmented as raw values (standardization undone), then standardized with
    the *original* training split's mean and std, so the validation data stay untouched.
    """
    from dataclasses import replace

    from hpcourse.data import Dataset

    shape = getattr(data, "input_shape", ())
    if not isinstance(data, Dataset) or len(shape) != 2 or data.feature_mean is None:
        raise ValueError(
            f"data={data!r} is not allowed: data must be a hpcourse Dataset of 1-D signals, "
            "e.g. load_dataset('mnist1d')."
        )
    check_number("copies", copies, low=1, high=50, integer=True)
    rng = np.random.default_rng(resolve_seed(seed))
    raw = data.unstandardize(data.x_train)
    mean, std = data.feature_mean, data.feature_std
    parts = [data.x_train]
    for _ in range(copies):
        changed = shift_signals(raw, max_shift, noise_std, rng)
        parts.append(torch.from_numpy(((changed - mean) / std).astype(np.float32)))
    labels = data.y_train.repeat(copies + 1)
    return replace(data, x_train=torch.cat(parts), y_train=labels)


__all__ = [
    "FLIPS",
    "augmentation_effects",
    "augmentation_grid",
    "augmented_accuracy",
    "augmented_copies",
    "digit_images",
    "make_augmentation",
    "shift_signals",
]
