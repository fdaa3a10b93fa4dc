"""Drawing functions. Each takes data computed elsewhere (a History, a table) and an
optional matplotlib ``ax``, draws on it, and returns the ``ax``: compute first, draw second.
"""

from hpcourse.plots.curves import plot_histories, plot_history

__all__ = ["plot_history", "plot_histories"]
