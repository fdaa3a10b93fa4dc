"""Pictures of many runs draw what their tables say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hpcourse.plots.tracking import (
    best_so_far_spread,
    parallel_coordinates_data,
    plot_best_so_far,
    plot_parallel_coordinates,
)


def test_parallel_coordinates_scale_each_axis_and_mark_the_best():
    table = pd.DataFrame(
        {"lr": [1e-3, 1e-2, 1e-1], "width": [32, 64, 128], "loss": [1.0, 0.5, np.inf]}
    )
    data = parallel_coordinates_data(table, ["lr", "width"], log_columns=["lr"])
    assert data["lr"].tolist() == pytest.approx([0, 0.5, 1]) and data["width"].iloc[0] == 0
    ax = plot_parallel_coordinates(table, ["lr", "width"], "loss", log_columns=["lr"])
    best = [line for line in ax.lines if line.get_label() == "best run"]
    assert len(best) == 1 and list(best[0].get_ydata()) == pytest.approx([0.5, 1 / 3])
    with pytest.raises(ValueError, match="color_by='acc' is not allowed"):
        plot_parallel_coordinates(table, ["lr"], "acc")
    with pytest.raises(ValueError, match=r"the table lacks \['depth'\]"):
        parallel_coordinates_data(table, ["depth"])


def test_best_so_far_bands():
    spread = best_so_far_spread([[3, 2, 1], [4, 4, 0.5, 0.1]])
    assert spread["median"].tolist() == [3.5, 3.0, 0.75] and spread["high"].tolist() == [4, 4, 1]
    ax = plot_best_so_far({"tpe": [[3, 2, 1], [4, 4, 0.5]], "random": [[5, 3, 3]]})
    assert len(ax.lines) == 2 and len(ax.collections) == 2
