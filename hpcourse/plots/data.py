"""Pictures of the data itself: a mosaic of images, or a few 1-D signals."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from hpcourse.data import Dataset
from hpcourse.validation import check_choice, check_number

GAP = 4  # blank pixels above each image, room for its label


def example_mosaic(images: np.ndarray, cols: int) -> np.ndarray:
    """Tile ``(n, height, width)`` images into one array, ``cols`` per row, with a blank
    band (NaN, drawn as background) above each row for the labels and one blank column
    between images."""
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + GAP), cols * (w + 1) - 1), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        top = r * (h + GAP) + GAP
        out[top : top + h, c * (w + 1) : c * (w + 1) + w] = image
    return out


def plot_examples(data: Dataset, n: int = 12, split: str = "train", ax: Axes | None = None) -> Axes:
    """The first ``n`` examples of a split with their labels: images as one mosaic (the
    label above each), or up to six 1-D signals stacked with their labels."""
    check_number("n", n, low=1, high=64, integer=True)
    check_choice("split", split, ("train", "val", "test"))
    x = data.unstandardize(getattr(data, f"x_{split}")[:n])
    y = getattr(data, f"y_{split}")[:n].tolist()
    if len(data.input_shape) == 3:  # images: (channels, height, width)
        cols = min(n, 8)
        h, w = data.input_shape[1:]
        if ax is None:
            rows = math.ceil(n / cols)
            _, ax = plt.subplots(figsize=(1.2 * cols, 1.4 * rows))
        ax.imshow(example_mosaic(x.reshape(-1, h, w), cols), cmap="gray_r")
        for i, label in enumerate(y):
            r, c = divmod(i, cols)
            ax.text(
                c * (w + 1) + w / 2 - 0.5,
                r * (h + GAP) + GAP / 2 - 0.5,
                data.class_names[label],
                ha="center",
                va="center",
                fontsize=9,
            )
        ax.axis("off")
    else:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        for i in range(min(n, 6)):
            ax.plot(x[i] + 4 * i, lw=1.2, label=f"label {data.class_names[y[i]]}")
        ax.set_yticks([])
        ax.set_xlabel("position in the signal")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"{data.name}: first {n} {split} examples", fontsize=10)
    return ax


def class_probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax of one row of logits, computed stably."""
    z = np.asarray(logits, dtype=float) - np.max(logits)
    e = np.exp(z)
    return e / e.sum()
