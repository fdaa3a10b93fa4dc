"""Pytest set-up shared by the unit tests and the notebook tests.

Notebooks run through nbval in "lax" mode: every cell must run without error, and a
lesson's claims are checked by the ``assert`` cells inside it, not by comparing
outputs. They run in this environment's Python (the one with hpcourse installed).
Setting the options here, not in ``addopts``, keeps ``pytest -p no:nbval`` usable.
"""

from __future__ import annotations

from collections import defaultdict

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("nbval"):
        config.option.nbval_lax = True
        config.option.nbval_current_env = True
        config.option.nbval_cell_timeout = 300


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print how long each notebook took, summed over its cells: the lesson's run time."""
    per_notebook: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            if ".ipynb::" in nodeid and getattr(report, "when", "") == "call":
                per_notebook[nodeid.split("::")[0]] += report.duration
    if per_notebook:
        terminalreporter.section("notebook run times (sum of cell times)")
        for name, seconds in sorted(per_notebook.items()):
            terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
