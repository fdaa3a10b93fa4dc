"""The one convention every explorer of the course follows.

An explorer is an ``ipywidgets.VBox`` with

* ``controls``: a dict of its sliders, dropdowns and buttons, by name;
* ``status``: an HTML line that states, in words, what the current drawing shows;
* ``out``: the ``Output`` that holds the figure;
* ``state``: the numbers behind the current drawing (computed, not read off the plot);
* ``redraws``: how many times it recomputed.

Moving any control calls :meth:`Explorer.redraw`, which calls the subclass's
``compute(**values)`` (data in, data out) and then ``draw(state)`` (returns a figure).
Tests, and curious learners, drive an explorer from Python the same way for all of them::

    ex = bowl_explorer()
    ex.controls["lr"].value = 0.3
    ex.state["regime"], ex.redraws      # ('diverge', 2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure


class Explorer(widgets.VBox):
    """Base class: subclasses define :meth:`compute`, :meth:`draw` and :meth:`describe`."""

    def __init__(
        self,
        controls: Mapping[str, widgets.Widget],
        *,
        extra: Sequence[widgets.Widget] = (),
    ) -> None:
        self.controls: dict[str, widgets.Widget] = dict(controls)
        self.status = widgets.HTML()
        self.out = widgets.Output()
        self.state: dict[str, Any] = {}
        self.redraws = 0
        valued = [c for c in self.controls.values() if hasattr(c, "value")]
        super().__init__([widgets.HBox(valued), *extra, self.status, self.out])
        for control in valued:
            control.observe(lambda _change: self.redraw(), names="value")
        self.redraw()

    def values(self) -> dict[str, Any]:
        """The current value of every control that has one."""
        return {k: c.value for k, c in self.controls.items() if hasattr(c, "value")}

    #: ``compute(**values)``: the numbers to draw for these control values (each subclass
    #: names its own controls as keyword arguments, hence a callable attribute here).
    compute: Callable[..., dict[str, Any]]

    def draw(self, state: dict[str, Any]) -> Figure:
        """A new figure showing ``state``."""
        raise NotImplementedError

    def describe(self, state: dict[str, Any]) -> str:
        """The status line (HTML) for ``state``; empty by default."""
        return ""

    def redraw(self) -> None:
        """Recompute from the controls, update the status line and the figure."""
        self.state = self.compute(**self.values())
        self.status.value = self.describe(self.state)
        fig = self.draw(self.state)
        with self.out:
            self.out.clear_output(wait=True)
            display(fig)
        plt.close(fig)
        self.redraws += 1


__all__ = ["Explorer"]
