"""Interactive explorers (ipywidgets). Each computes with hpcourse functions, draws with
``hpcourse.plots``, and is a widget to display as a cell's last line. They all follow
one convention (:class:`hpcourse.widgets.base.Explorer`): ``controls``, ``status``,
``out``, ``state``, ``redraws``. Import them from their topic module, e.g.
``from hpcourse.widgets.lr import bowl_explorer``.
"""
