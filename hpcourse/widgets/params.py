"""Explorers for lesson 01: how depth and width set the parameter count, and what
rotation and flip augmentation do to real digit images.

Each builder returns an explorer (:mod:`hpcourse.widgets.base`) to display as a cell's
last line; a test, or a curious learner, can move a control from Python and read what
changed::

    box = width_depth_explorer()
    box.controls["width"].value = 256
    box.state["total"]   # parameters of the new model
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from hpcourse.augmentation import FLIPS, augmentation_grid, digit_images
from hpcourse.models import MLP, count_parameters
from hpcourse.parameters import mlp_n_params
from hpcourse.plots.params import plot_augmentation_grid, plot_parameter_counts
from hpcourse.seeding import resolve_seed
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer

WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _formula(sizes: list[int]) -> str:
    terms = [f"{a}&times;{b} + {b}" for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
    return " + ".join(f"({t})" for t in terms)


class WidthDepthExplorer(Explorer):
    """Sliders for depth and width; the parameter count per layer, the total and the formula."""

    def __init__(self, n_inputs: int, n_outputs: int, depth: int, width: int) -> None:
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        super().__init__(
            {
                "depth": widgets.IntSlider(value=depth, min=0, max=5, description="depth"),
                "width": widgets.SelectionSlider(options=WIDTHS, value=width, description="width"),
            }
        )

    def compute(self, depth: int, width: int) -> dict[str, Any]:
        hidden = [width] * depth
        table = count_parameters(MLP(self.n_inputs, hidden, self.n_outputs))
        sizes = [self.n_inputs, *hidden, self.n_outputs]
        return {"hidden": hidden, "sizes": sizes, "table": table, "total": mlp_n_params(sizes)}

    def describe(self, state: dict[str, Any]) -> str:
        return (
            f"<code>hidden={state['hidden']}</code>: {_formula(state['sizes'])} = "
            f"<b>{state['total']:,}</b> parameters"
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, ax = plt.subplots(figsize=(6, 0.3 * len(state["table"]) + 1.3))
        plot_parameter_counts(state["table"], ax=ax)
        return fig


def width_depth_explorer(
    n_inputs: int = 64, n_outputs: int = 10, depth: int = 1, width: int = 128
) -> WidthDepthExplorer:
    """Sliders for depth (hidden layers) and width (units per layer); redraws the parameter
    count per layer and the total, with the formula written out.

    The defaults fit the digits data (64 pixels in, 10 classes out).
    """
    check_number("n_inputs", n_inputs, low=1, integer=True)
    check_number("n_outputs", n_outputs, low=1, integer=True)
    check_number("depth", depth, low=0, high=5, integer=True)
    if width not in WIDTHS:
        raise ValueError(
            f"width={width!r} is not allowed: width must be one of "
            + ", ".join(map(str, WIDTHS))
            + "."
        )
    return WidthDepthExplorer(n_inputs, n_outputs, depth, width)


class AugmentationExplorer(Explorer):
    """Rotation, flip and "draw" (the random seed) controls over a grid of augmented digits."""

    def __init__(
        self, images: Any, labels: list[int], n_variants: int, rotation_degrees: float, seed: int
    ) -> None:
        self.images, self.labels, self.n_variants = images, labels, n_variants
        super().__init__(
            {
                "rotation": widgets.IntSlider(
                    value=int(rotation_degrees), min=0, max=180, step=5, description="rotation"
                ),
                "flip": widgets.Dropdown(options=FLIPS, value="none", description="flip"),
                "draw": widgets.IntSlider(value=seed, min=0, max=100, description="draw (seed)"),
            }
        )

    def compute(self, rotation: int, flip: str, draw: int) -> dict[str, Any]:
        grid = augmentation_grid(self.images, rotation, flip, self.n_variants, draw)
        return {"grid": grid, "rotation_degrees": rotation, "flip": flip, "seed": draw}

    def describe(self, state: dict[str, Any]) -> str:
        return (
            f"rotation drawn uniformly from ±{state['rotation_degrees']}°, flip: "
            f"{state['flip']}. Column 0 is the original; the others are random draws."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        n_images = len(self.labels)
        fig, ax = plt.subplots(figsize=(0.6 * (self.n_variants + 1) + 1, 0.6 * n_images + 0.8))
        title = f"rotation up to +/-{state['rotation_degrees']} degrees, flip: {state['flip']}"
        plot_augmentation_grid(state["grid"], self.labels, title=title, ax=ax)
        return fig


def augmentation_explorer(
    n_images: int = 5,
    n_variants: int = 7,
    rotation_degrees: float = 15.0,
    seed: int | None = None,
    digits: list[int] | None = None,
) -> AugmentationExplorer:
    """A rotation slider, a flip choice and a "draw" slider (the random seed); redraws a
    grid of digits with random augmented copies next to each original.

    ``digits`` picks which digits to show (default: the first ``n_images`` of 0-9; when
    given, it replaces ``n_images``). Try large angles: a 6 rotated by 180 degrees is a
    9, so the label is no longer true. That is the limit on how much augmentation a
    dataset can take. ``seed`` (default: the course's seed) starts the "draw" slider.
    """
    check_number("n_images", n_images, low=1, high=10, integer=True)
    check_number("n_variants", n_variants, low=1, high=12, integer=True)
    check_number("rotation_degrees", rotation_degrees, low=0, high=180)
    if seed is None:
        seed = resolve_seed(None) % 101  # the "draw" slider runs from 0 to 100
    check_number("seed", seed, low=0, high=100, integer=True)
    images, labels = digit_images(10, seed=0)  # a fixed example of each digit
    chosen = list(range(n_images)) if digits is None else list(digits)
    if not chosen:
        raise ValueError("digits=[] is not allowed: digits must list one or more of 0-9.")
    for i, d in enumerate(chosen):
        check_number(f"digits[{i}]", d, low=0, high=9, integer=True)
    keep = [int((labels == d).nonzero()[0, 0]) for d in chosen]
    return AugmentationExplorer(
        images[keep], labels[keep].tolist(), n_variants, rotation_degrees, seed
    )


__all__ = [
    "AugmentationExplorer",
    "WidthDepthExplorer",
    "augmentation_explorer",
    "width_depth_explorer",
]
