"""A pytest plugin for the claims harness: record each notebook cell's outcome as JSON.

Loaded with ``-p claims_plugin`` (``tools/`` on ``PYTHONPATH``); writes the file named by
``$HPCOURSE_CLAIMS_REPORT``: one entry per nbval item (``"Cell N"``, counting code cells
from 0) with its outcome and whether the failure was an ``AssertionError``, i.e. a claim
check that said no, as opposed to a cell that crashed.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_results: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" and not (report.when == "setup" and report.failed):
        return
    name = report.nodeid.rsplit("::", 1)[-1]
    text = _ANSI.sub("", str(report.longrepr)) if report.failed else ""
    _results[name] = {
        "outcome": report.outcome,
        "assertion": "AssertionError" in text,
        "message": text[-1500:],
        "seconds": report.duration,
    }


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("HPCOURSE_CLAIMS_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_results, f, indent=1)
