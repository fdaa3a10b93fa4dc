"""Pictures of the data itself: a grid of images, or a few 1-D signals."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hpcourse.data import Dataset
from hpcourse.validation import check_number


def plot_examples(data: Dataset, n: int = 12, split: str = "train") -> Figure:
    """The first ``n`` examples of a split with their labels (images, or 1-D signals)."""
    check_number("n", n, low=1, high=64, integer=True)
    x = data.unstandardize(getattr(data, f"x_{split}")[:n])
    y = getattr(data, f"y_{split}")[:n].tolist()
    if len(data.input_shape) == 3:  # images: (channels, height, width)
        cols = min(n, 8)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.35 * rows), squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < n:
                ax.imshow(x[i].reshape(data.input_shape[1:]), cmap="gray_r")
                ax.set_title(data.class_names[y[i]], fontsize=9)
    else:
        fig, ax = plt.subplots(figsize=(7, 3))
        for i in range(min(n, 6)):
            ax.plot(x[i] + 4 * i, lw=1.2, label=f"label {data.class_names[y[i]]}")
        ax.set_yticks([])
        ax.set_xlabel("position in the signal")
        ax.legend(fontsize=7, loc="upper right", ncol=2)
    fig.suptitle(f"{data.name}: first {n} {split} examples", fontsize=10)
    fig.tight_layout()
    return fig


def class_probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax of one row of logits, computed stably."""
    z = np.asarray(logits, dtype=float) - np.max(logits)
    e = np.exp(z)
    return e / e.sum()
