"""Augmentation: random, label-preserving changes to training images, and their hyperparameters.

Augmentation shows the model a slightly different version of each image every time, so
it learns what does not matter (a small tilt) instead of memorizing pixels. How strong
each change is (rotation degrees, flip type) is a hyperparameter of the data stage, and
it must keep the label true: a mirrored 2 is not a 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

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
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for img in images:
            row = [img[0]] + [transform(img)[0] for _ in range(n_variants)]
            rows.append(torch.stack(row))
    return torch.stack(rows)


__all__ = ["FLIPS", "augmentation_grid", "digit_images", "make_augmentation"]
