"""Explorers for lesson 01: how depth and width set the parameter count, and what
rotation and flip augmentation do to real digit images.

Each builder returns an ``ipywidgets.VBox`` to display as a cell's last line. The box
also carries ``.controls`` (a dict of its sliders and dropdowns) and ``.state`` (the
numbers behind the current drawing), so a test, or a curious learner, can move a
control from Python and read what changed::

    box = width_depth_explorer()
    box.controls["width"].value = 256
    box.state["total"]   # parameters of the new model
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from hpcourse.augmentation import FLIPS, augmentation_grid, digit_images
from hpcourse.models import MLP, count_parameters
from hpcourse.parameters import mlp_n_params
from hpcourse.plots.params import plot_augmentation_grid, plot_parameter_counts
from hpcourse.validation import check_number

WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _formula(sizes: list[int]) -> str:
    terms = [f"{a}&times;{b} + {b}" for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
    return " + ".join(f"({t})" for t in terms)


def width_depth_explorer(
    n_inputs: int = 64, n_outputs: int = 10, depth: int = 1, width: int = 128
) -> widgets.VBox:
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
    depth_slider = widgets.IntSlider(value=depth, min=0, max=5, description="depth")
    width_slider = widgets.SelectionSlider(options=WIDTHS, value=width, description="width")
    text = widgets.HTML()
    out = widgets.Output()
    state: dict[str, Any] = {}

    def redraw(_: Any = None) -> None:
        hidden = [width_slider.value] * depth_slider.value
        table = count_parameters(MLP(n_inputs, hidden, n_outputs))
        sizes = [n_inputs, *hidden, n_outputs]
        state.update(hidden=hidden, table=table, total=int(table["count"].sum()))
        text.value = (
            f"<code>hidden={hidden}</code>: {_formula(sizes)} = "
            f"<b>{mlp_n_params(sizes):,}</b> parameters"
        )
        out.clear_output(wait=True)
        with out:
            fig, ax = plt.subplots(figsize=(6, 0.3 * len(table) + 1.3))
            plot_parameter_counts(table, ax=ax)
            display(fig)
            plt.close(fig)

    depth_slider.observe(redraw, names="value")
    width_slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([depth_slider, width_slider]), text, out])
    box.controls = {"depth": depth_slider, "width": width_slider}
    box.state = state
    return box


def augmentation_explorer(
    n_images: int = 5, n_variants: int = 7, rotation_degrees: float = 15.0, seed: int = 0
) -> widgets.VBox:
    """A rotation slider, a flip choice and a "draw" slider (the random seed); redraws a
    grid of digits with random augmented copies next to each original.

    Try large angles: a 6 rotated by 180 degrees is a 9, so the label is no longer true.
    That is the limit on how much augmentation a dataset can take.
    """
    check_number("n_images", n_images, low=1, high=10, integer=True)
    check_number("n_variants", n_variants, low=1, high=12, integer=True)
    check_number("rotation_degrees", rotation_degrees, low=0, high=180)
    check_number("seed", seed, low=0, high=100, integer=True)
    images, labels = digit_images(n_images, seed=0)
    rotation = widgets.IntSlider(
        value=int(rotation_degrees), min=0, max=180, step=5, description="rotation"
    )
    flip = widgets.Dropdown(options=FLIPS, value="none", description="flip")
    draw = widgets.IntSlider(value=seed, min=0, max=100, description="draw (seed)")
    out = widgets.Output()
    state: dict[str, Any] = {}

    def redraw(_: Any = None) -> None:
        grid = augmentation_grid(images, rotation.value, flip.value, n_variants, draw.value)
        state.update(grid=grid, rotation_degrees=rotation.value, flip=flip.value)
        out.clear_output(wait=True)
        with out:
            fig, ax = plt.subplots(figsize=(0.6 * (n_variants + 1) + 1, 0.6 * n_images + 0.8))
            title = f"rotation up to +/-{rotation.value} degrees, flip: {flip.value}"
            plot_augmentation_grid(grid, labels.tolist(), title=title, ax=ax)
            display(fig)
            plt.close(fig)

    for control in (rotation, flip, draw):
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([rotation, flip, draw]), out])
    box.controls = {"rotation": rotation, "flip": flip, "draw": draw}
    box.state = state
    return box


__all__ = ["augmentation_explorer", "width_depth_explorer"]
