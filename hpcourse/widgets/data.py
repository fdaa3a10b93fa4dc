"""Browse validation examples and what a trained model predicts for each."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from hpcourse.data import Dataset
from hpcourse.plots.data import class_probabilities


def prediction_browser(data: Dataset, model: nn.Module) -> widgets.VBox:
    """A slider over validation examples: the input on the left, the model's class
    probabilities on the right. Wrong predictions are drawn in red."""
    slider = widgets.IntSlider(0, 0, len(data.y_val) - 1, description="example")
    out = widgets.Output()

    def draw(*_: object) -> None:
        i = slider.value
        with torch.inference_mode():
            model.eval()
            probs = class_probabilities(model(data.x_val[i : i + 1])[0].numpy())
        label = int(data.y_val[i])
        guess = int(probs.argmax())
        with out:
            out.clear_output(wait=True)
            fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.6))
            x = data.unstandardize(data.x_val[i])
            if len(data.input_shape) == 3:
                left.imshow(x.reshape(data.input_shape[1:]), cmap="gray_r")
                left.axis("off")
            else:
                left.plot(x)
            left.set_title(f"true label: {data.class_names[label]}", fontsize=10)
            colors = [
                "tab:red" if (k == guess and guess != label) else "tab:blue"
                for k in range(len(probs))
            ]
            right.bar(range(len(probs)), probs, color=colors)
            right.set_xticks(range(len(probs)), data.class_names, fontsize=8)
            right.set_ylim(0, 1)
            right.set_title(
                f"model says {data.class_names[guess]} ({probs[guess]:.0%})", fontsize=10
            )
            fig.tight_layout()
            plt.show()
        box.prediction = guess  # exposed so tests can check the widget recomputed

    box = widgets.VBox([slider, out])
    slider.observe(draw, names="value")
    draw()
    return box
