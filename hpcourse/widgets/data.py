"""Browse validation examples and what a trained model predicts for each."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from hpcourse.data import Dataset
from hpcourse.plots.data import class_probabilities
from hpcourse.widgets.base import Explorer


class PredictionBrowser(Explorer):
    """A slider over validation examples (``controls["example"]``); ``state`` holds the
    example's label, the model's class probabilities and its guess."""

    def __init__(self, data: Dataset, model: nn.Module) -> None:
        self.data, self.model = data, model
        slider = widgets.IntSlider(0, 0, len(data.y_val) - 1, description="example")
        super().__init__({"example": slider})

    def compute(self, example: int) -> dict[str, Any]:
        with torch.inference_mode():
            was_training = self.model.training
            self.model.eval()
            logits = self.model(self.data.x_val[example : example + 1])[0].numpy()
            self.model.train(was_training)
        probs = class_probabilities(logits)
        label = int(self.data.y_val[example])
        return {"example": example, "label": label, "probs": probs, "guess": int(probs.argmax())}

    def describe(self, state: dict[str, Any]) -> str:
        names = self.data.class_names
        verdict = "right" if state["guess"] == state["label"] else "<b>wrong</b>"
        return (
            f"example {state['example']}: label {names[state['label']]}, the model says "
            f"{names[state['guess']]} ({state['probs'][state['guess']]:.0%}): {verdict}."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        data, probs, label, guess = self.data, state["probs"], state["label"], state["guess"]
        fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.6))
        x = data.unstandardize(data.x_val[state["example"]])
        if len(data.input_shape) == 3:
            left.imshow(x.reshape(data.input_shape[1:]), cmap="gray_r")
            left.axis("off")
        else:
            left.plot(x)
        left.set_title(f"true label: {data.class_names[label]}", fontsize=10)
        colors = [
            "tab:red" if (k == guess and guess != label) else "tab:blue" for k in range(len(probs))
        ]
        right.bar(range(len(probs)), probs, color=colors)
        right.set_xticks(range(len(probs)), data.class_names, fontsize=8)
        right.set_ylim(0, 1)
        right.set_title(f"model says {data.class_names[guess]} ({probs[guess]:.0%})", fontsize=10)
        fig.tight_layout()
        return fig


def prediction_browser(data: Dataset, model: nn.Module) -> PredictionBrowser:
    """A slider over validation examples: the input on the left, the model's class
    probabilities on the right. A wrong prediction is drawn in red."""
    return PredictionBrowser(data, model)


__all__ = ["PredictionBrowser", "prediction_browser"]
