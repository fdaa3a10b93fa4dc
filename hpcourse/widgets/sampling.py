"""Explorer for lesson 04: choose a range and a scale, and see where the samples land.

Two quantities share one control panel. For a **learning rate** the range is
``[10**r_low, 10**r_high]``; for a **momentum beta** it is ``1 - beta`` that runs over
``[10**r_low, 10**r_high]``, and the picture shows the averaging window ``1 / (1 - beta)``
of each sample, since that is what beta changes. Left: the samples on a log axis.
Right: the share of samples in each decade next to the equal share.

Usage, as a cell's last line::

    from hpcourse.widgets.sampling import sampling_explorer
    sampling_explorer()

From Python (as the tests do): ``ex.controls["scale"].value = "log"`` redraws, and
``ex.state["table"]`` holds the shares behind the figure.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hpcourse.plots.sampling import plot_decade_shares, plot_sample_histograms
from hpcourse.sampling import LABELS, decade_shares
from hpcourse.seeding import resolve_seed
from hpcourse.space import Float
from hpcourse.validation import check_number
from hpcourse.widgets.base import Explorer

SIZES = (200, 500, 2000, 10_000)


class SamplingExplorer(Explorer):
    """Controls ``quantity`` ("lr" or "beta"), ``scale`` ("linear" or "log"; for beta the
    log scale is the one-minus-log scale), ``exponents`` (the range of ``r``, where
    ``lr = 10**r`` or ``1 - beta = 10**r``) and ``n`` (samples drawn).

    ``state`` holds the samples (``values``: lrs or betas; ``shown``: lrs or windows), the
    decade table and the shares of the bottom and top decades of what is shown.
    """

    def __init__(self, *, seed: int, n: int = 2000) -> None:
        self.seed = seed
        quantity = widgets.ToggleButtons(
            options=[("learning rate", "lr"), ("momentum β", "beta")],
            value="lr",
            description="sample",
            style={"button_width": "110px"},
        )
        scale = widgets.ToggleButtons(
            options=[("uniform", "linear"), ("log scale", "log")],
            value="linear",
            description="scale",
            style={"button_width": "90px"},
        )
        exponents = widgets.IntRangeSlider(
            value=(-4, 0),
            min=-6,
            max=0,
            description="r range",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        size = widgets.SelectionSlider(
            options=list(SIZES), value=n, description="samples", continuous_update=False
        )
        super().__init__({"quantity": quantity, "scale": scale, "exponents": exponents, "n": size})
        self.children[0].layout.flex_flow = "row wrap"  # four controls: wrap on narrow screens

    def compute(
        self, quantity: str, scale: str, exponents: tuple[int, int], n: int
    ) -> dict[str, Any]:
        r_low, r_high = (int(e) for e in exponents)
        if r_low == r_high:  # a range needs two different ends: widen it by one decade
            r_low, r_high = (r_low - 1, r_high) if r_high == 0 else (r_low, r_high + 1)
        rng = np.random.default_rng(self.seed)
        if quantity == "lr":
            low, high = 10.0**r_low, 10.0**r_high
            values = Float(low, high, scale).sample(n, rng)
            shown, shown_low, shown_high = values, low, high
        else:
            dim = Float(
                1 - 10.0**r_high, 1 - 10.0**r_low, "one_minus_log" if scale == "log" else scale
            )
            values = dim.sample(n, rng)
            shown = 1.0 / (1.0 - values)  # the averaging window of each beta
            shown_low, shown_high = 10.0**-r_high, 10.0**-r_low
        name = "one_minus_log" if quantity == "beta" and scale == "log" else scale
        table = decade_shares({name: shown}, shown_low, shown_high, n_expected=False)
        return {
            "quantity": quantity,
            "scale": scale,
            "name": name,
            "exponents": (r_low, r_high),
            "n": n,
            "values": values,
            "shown": shown,
            "range": (shown_low, shown_high),
            "table": table,
            "bottom_share": float(table[name].iloc[0]),
            "top_share": float(table[name].iloc[-1]),
        }

    def describe(self, state: dict[str, Any]) -> str:
        table, n = state["table"], state["n"]
        equal = 1 / len(table)
        first, last = table["decade"].iloc[0], table["decade"].iloc[-1]
        if state["quantity"] == "lr":
            r_low, r_high = state["exponents"]
            what = f"learning rates 10<sup>r</sup>, r in [{r_low}, {r_high}]"
            lowest, highest = f"the bottom decade {first}", f"the top decade {last}"
        else:
            lo_beta, hi_beta = (float(v) for v in 1 - 1 / np.array(state["range"]))
            what = f"β in [{lo_beta:g}, {hi_beta:g}] (windows {state['range'][0]:g} to "
            what += f"{state['range'][1]:g} steps)"
            lowest, highest = f"the shortest windows {first}", f"the longest windows {last}"
        name = LABELS[state["name"]]
        return (
            f"<b>{name}</b> {what}: {state['top_share']:.1%} of {n:,} samples in {highest}, "
            f"{state['bottom_share']:.1%} in {lowest}; each of the {len(table)} decades "
            f"would get {equal:.0%} on a log scale."
        )

    def draw(self, state: dict[str, Any]) -> Figure:
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        low, high = state["range"]
        plot_sample_histograms({state["name"]: state["shown"]}, low, high, ax=left)
        plot_decade_shares(state["table"], [state["name"]], ax=right)
        what = "learning rate" if state["quantity"] == "lr" else "averaging window 1/(1 − β)"
        left.set_xlabel(f"{what} (log scale)")
        right.set_xlabel(f"decade of the {what}")
        return fig


def sampling_explorer(seed: int | None = None, n: int = 2000) -> SamplingExplorer:
    """Build the explorer. ``seed`` (default: the course seed) seeds the samples, so the
    same settings always show the same draw; ``n`` is the starting number of samples."""
    check_number("n", n, low=1, integer=True)
    if n not in SIZES:
        raise ValueError(f"n={n!r} is not allowed: n must be one of {list(SIZES)}.")
    return SamplingExplorer(seed=resolve_seed(seed), n=n)


__all__ = ["SIZES", "SamplingExplorer", "sampling_explorer"]
