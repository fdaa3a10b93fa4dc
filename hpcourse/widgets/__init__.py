"""Interactive explorers (ipywidgets). Each builder computes with hpcourse functions,
draws with ``hpcourse.plots``, and returns a widget to display as a cell's last line.
Import them from their topic module, e.g. ``from hpcourse.widgets.lr import ...``.
"""
