"""Progress bars that show while a loop runs and leave nothing behind when it ends.

A sweep of a few dozen runs takes seconds; a bar tells the learner it is alive. But a
finished bar is noise in a saved notebook, and a notebook bar left in a file shows its
*first* state ("0%") to anyone who opens it later. So :func:`progress` uses tqdm (a
widget in Jupyter, text in a terminal), and in Jupyter it shows the bar through a
display handle that it empties when the loop ends, finished or interrupted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import std as tqdm_std
from tqdm.auto import tqdm as auto_tqdm

T = TypeVar("T")


class _Nothing:
    """What an emptied bar is replaced with: an output with no visible content."""

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/plain": ""}


def in_notebook() -> bool:
    """True when tqdm would draw a Jupyter widget (running in a kernel with ipywidgets)."""
    return any(cls.__module__ == "tqdm.notebook" for cls in auto_tqdm.__mro__)


def progress(
    iterable: Iterable[T], *, desc: str = "", total: int | None = None, enabled: bool = True
) -> Iterator[T]:
    """Iterate over ``iterable`` with a progress bar that disappears when the loop ends.

    >>> list(progress(range(3), enabled=False))
    [0, 1, 2]
    """
    if not enabled:
        yield from iterable
        return
    if not in_notebook():
        yield from tqdm_std.tqdm(iterable, desc=desc, total=total, leave=False)
        return
    from IPython.display import display

    bar = auto_tqdm(iterable, desc=desc, total=total, leave=False, display=False)
    handle = display(bar.container, display_id=True)
    try:
        yield from bar
    finally:
        bar.close()
        if handle is not None:
            handle.update(_Nothing())


__all__ = ["in_notebook", "progress"]
